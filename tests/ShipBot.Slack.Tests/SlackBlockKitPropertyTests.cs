using CsCheck;
using ShipBot.Core.Cards;
using ShipBot.Slack.Tests.TestSupport;

namespace ShipBot.Slack.Tests;

/// <summary>Random cards — long titles, hundreds of facts, rows and buttons, emoji at the cut points, characters Slack escapes — always render within Slack's limits.</summary>
public sealed class SlackBlockKitPropertyTests
{
    private const long Iterations = 300;

    private static readonly string[] Tokens =
    [
        "a", "b", "x", "1", " ", " ", "\n", "😀", "👍🏽", "🇯🇵", "𝔘", "<", ">", "&", "&amp;", "**", "*", "`", "_", "~", "@UCAROL", "@SONCALL", "é", "…", "|", "$1",
    ];

    private static readonly string[] Mentions = ["UCAROL", "group:SONCALL", "U2", "group:S0PAYMENTS"];

    /// <summary>Padding lengths around the limits Slack enforces, so emoji and escapes land on the cut points.</summary>
    private static readonly Gen<int> Padding = Gen.OneOf(
        Gen.Int[0, 80],
        Gen.Int[140, 160],
        Gen.Int[240, 260],
        Gen.Int[1985, 2010],
        Gen.Int[2985, 3010]);

    private static readonly Gen<string?> NoText = Gen.Const((string?)null);

    private static readonly Gen<string> Short = Gen.OneOf(Tokens).Array[0, 12].Select(t => string.Concat(t));

    /// <summary>Mostly short strings; some padded to a limit then emoji and escapes; some long runs of tokens.</summary>
    private static readonly Gen<string> Text = Gen.Frequency(
        (6, Short),
        (3, Gen.Select(Padding, Gen.OneOf(Tokens).Array[1, 10], (n, t) => new string('x', n) + string.Concat(t))),
        (1, Gen.OneOf(Tokens).Array[0, 1500].Select(t => string.Concat(t))));

    private static readonly Gen<string> NonEmpty = Text.Select(t => "t" + t);

    private static readonly Gen<string> ActionId = Gen.Frequency(
        (4, Gen.OneOf("check", "waive", "rollback", "check:2", "decide-hold")),
        (2, Short.Select(s => "a" + s)),
        (1, Gen.Int[240, 400].Select(n => new string('i', n))),
        (1, Gen.Int[240, 400].Select(n => new string('i', n - 1) + "😀")));

    private static readonly Gen<CardAction> Action = Gen.Select(
        ActionId,
        Text,
        Gen.Frequency((4, Short.Select(s => "check x " + s)), (1, Gen.Int[1990, 2100].Select(n => new string('v', n - 1) + "😀"))),
        Gen.Enum<ActionStyle>(),
        Gen.Frequency((3, NoText), (1, Text.Select(t => (string?)t))),
        Gen.Frequency((3, NoText), (1, Text.Select(t => (string?)t))),
        (id, label, value, style, confirm, input) => new CardAction(id, label, value, style, confirm, input));

    private static readonly Gen<IReadOnlyList<CardAction>> FewActions = Action.Array[0, 3].Select(a => (IReadOnlyList<CardAction>)a);

    private static readonly Gen<ChecklistRow> Row = Gen.Select(
        ActionId,
        Text,
        Gen.OneOf("pending", "confirmed", "waived", "failed", "verified", "n/a", "other"),
        Gen.Frequency((1, NoText), (2, Text.Select(t => (string?)t))),
        Gen.Bool,
        FewActions,
        (id, label, state, detail, floor, actions) => new ChecklistRow(id, label, state, detail, floor, actions));

    private static readonly Gen<int> RowCount = Gen.Frequency((6, Gen.Int[0, 20]), (1, Gen.Int[250, 300]));

    private static readonly Gen<ChecklistSection> Group = Gen.Select(
        Text,
        RowCount.SelectMany(n => Row.Array[n]),
        (title, rows) => new ChecklistSection(title, rows));

    private static readonly Gen<StageProgress> Stage = Gen.Select(Text, Gen.Enum<StageStatus>(), Gen.Frequency((1, NoText), (2, Text.Select(t => (string?)t))),
        (name, status, detail) => new StageProgress(name, status, detail));

    private static readonly Gen<CardBlock> Block = Gen.Frequency<CardBlock>(
        (3, Gen.Select(Text, Gen.Bool, (t, e) => (CardBlock)new TextBlock(t, e))),
        (2, Gen.Frequency((4, Gen.Int[0, 12]), (1, Gen.Int[150, 200])).SelectMany(n =>
            Gen.Select(Text, Text, (l, v) => new CardFact(l, v)).Array[n]).Select(f => (CardBlock)new FactsBlock(f))),
        (1, Stage.Array[0, 12].Select(s => (CardBlock)new ProgressBlock(s))),
        (2, Group.Array[1, 3].Select(g => (CardBlock)new ChecklistBlock(g))),
        (2, Gen.Frequency((4, Gen.Int[0, 6]), (1, Gen.Int[90, 100])).SelectMany(n => Action.Array[n]).Select(a => (CardBlock)new ActionsBlock(a))),
        (1, NonEmpty.Select(t => (CardBlock)new ContextBlock(t))));

    private static readonly Gen<Card> RandomCard = Gen.Select(
        Gen.Frequency((3, Text), (1, Gen.Int[140, 400].Select(n => new string('T', n % 7) + string.Concat(Enumerable.Repeat("🚀", n))))),
        Gen.Frequency((1, NoText), (2, Text.Select(t => (string?)t))),
        Gen.Enum<CardTone>(),
        Block.Array[0, 8],
        Gen.OneOf(Mentions).ArrayUnique[0, 3],
        NonEmpty,
        (title, subtitle, tone, blocks, mentions, fallback) => new Card(title, subtitle, tone, blocks, mentions, fallback));

    [Fact]
    public void Message_AnyCard_StaysWithinEverySlackLimitAndNeverSplitsASurrogatePair()
    {
        RandomCard.Sample(card =>
        {
            var message = SlackBlockKit.Message(card);

            SlackLimits.AssertWithin(message);
            foreach (var text in SlackLimits.Strings(message))
            {
                SlackLimits.AssertNoLoneSurrogate(text, "message");
            }
        }, iter: Iterations);
    }

    [Fact]
    public void Message_AnyCardWithMentions_EveryMentionIsRenderedInTheBlocks()
    {
        RandomCard.Where(c => c.Mentions.Count > 0).Sample(card =>
        {
            var message = SlackBlockKit.Message(card);

            var blocks = string.Join("\n", SlackLimits.Strings(message["blocks"]));
            Assert.All(card.Mentions, m => Assert.Contains(SlackBlockKit.MentionOf(m), blocks, StringComparison.Ordinal));
        }, iter: Iterations);
    }

    [Fact]
    public void Truncate_AnyTextAndLimit_FitsAndNeverSplitsASurrogatePair()
    {
        Gen.Select(Text, Gen.Int[2, 3100]).Sample((text, max) =>
        {
            var cut = SlackBlockKit.Truncate(text, max);

            Assert.True(cut.Length <= max);
            Assert.Equal(text.Length <= max, cut == text);
            SlackLimits.AssertNoLoneSurrogate(cut, "truncated");
        }, iter: 10_000);
    }
}
