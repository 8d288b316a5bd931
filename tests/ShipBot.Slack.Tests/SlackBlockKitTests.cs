using System.Text.Json.Nodes;
using ShipBot.Core.Cards;
using ShipBot.Core.Checklists;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Testing;
using ShipBot.Slack.Tests.TestSupport;

namespace ShipBot.Slack.Tests;

/// <summary>The real release cards rendered as Block Kit stay within Slack's limits; markup, mentions and buttons map as Slack expects.</summary>
public sealed class SlackBlockKitTests
{
    private static JsonObject CreateSut(Card card) => SlackBlockKit.Message(card);

    private static IEnumerable<JsonObject> BlocksOf(JsonObject message) => message["blocks"]!.AsArray().Select(b => b!.AsObject());

    private static IEnumerable<JsonObject> Buttons(JsonObject message) =>
        BlocksOf(message).SelectMany(b => b["elements"] is JsonArray e && (string?)b["type"] == "actions"
            ? e.Select(x => x!.AsObject())
            : b["accessory"] is JsonObject a ? [a] : []);

    private static IEnumerable<string> SectionTexts(JsonObject message) =>
        BlocksOf(message).Where(b => (string?)b["type"] == "section" && b["text"] is not null).Select(b => (string)b["text"]!["text"]!);

    private static string AllText(JsonObject message) => string.Join("\n", SlackLimits.Strings(message));

    // ---------------------------------------------------------------- real cards

    public static TheoryData<string> RealCards() =>
    [
        "draft", "draft-long-contract", "draft-hotfix", "awaiting-approval", "staging", "canary-with-health", "release-decision-pending",
        "validating", "operating", "paused", "halted-while-service-halted", "rolling-back", "rolled-back", "completed",
        "rollback-alert-breach", "rollback-alert-rolled-back-group", "decision", "decision-closed", "halt-alert", "list-many", "list-empty", "audit-long",
    ];

    /// <summary>The shared real cards; Slack's long audit trail has longer lines than the shared one.</summary>
    private static Card RealCard(string name) => name == "audit-long"
        ? ReleaseCards.Audit(
            ReleaseScenario.Create().Release,
            [.. Enumerable.Range(1, 500).Select(i => new AuditEntry(ReleaseScenario.Start.AddSeconds(i), "alice", "check", $"entry {i} <{new string('d', 300)}> & 👍🏽"))])
        : ShipBot.Testing.RealCards.Build(name);

    private static Card Render(ReleaseScenario scenario) => ReleaseCards.Release(scenario.Release, null, scenario.Now);

    [Theory]
    [MemberData(nameof(RealCards))]
    public void Message_RealCard_StaysWithinEverySlackLimit(string name)
    {
        var card = RealCard(name);

        var message = CreateSut(card);

        SlackLimits.AssertWithin(message);
    }

    [Theory]
    [MemberData(nameof(RealCards))]
    public void Message_RealCard_KeepsEveryButtonOfTheCardsOwnActions(string name)
    {
        var card = RealCard(name);
        var own = card.Blocks.OfType<ActionsBlock>().LastOrDefault()?.Actions ?? [];

        var values = Buttons(CreateSut(card)).Select(b => (string?)b["value"]).ToHashSet();

        Assert.All(own, a => Assert.Contains(a.Value, values));
    }

    [Fact]
    public void Message_DraftRelease_ShowsTheWholeChecklistWithAButtonPerHumanItem()
    {
        var scenario = ReleaseScenario.Create();

        var message = CreateSut(Render(scenario));

        var text = AllText(message);
        var items = scenario.Release.Checklist.Where(i => i.Group != ChecklistGroup.Validation).ToList();
        Assert.All(items, i => Assert.Contains($"`{i.Id}`", text, StringComparison.Ordinal));
        var values = Buttons(message).Select(b => (string)b["value"]!).ToList();
        Assert.All(items.Where(i => i.SettledBy == ItemSettledBy.Human), i => Assert.Contains($"check checkout@1.4.2 {i.Id}", values));
        Assert.All(items.Where(i => i.SettledBy == ItemSettledBy.Human && !i.Floor), i => Assert.Contains($"waive checkout@1.4.2 {i.Id}", values));
        Assert.DoesNotContain(items.Where(i => i.Floor), i => values.Contains($"waive checkout@1.4.2 {i.Id}"));
        Assert.DoesNotContain("more blocks not shown", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Message_CanaryJudged_ShowsTheJudgesLinesAndTheChartAsAnImageBlock()
    {
        var message = CreateSut(RealCard("canary-judged"));

        var image = Assert.Single(BlocksOf(message), b => (string?)b["type"] == "image");
        Assert.StartsWith("https://shipbot.example.com/charts/", (string?)image["image_url"], StringComparison.Ordinal);
        Assert.Contains("Evidence at Canary 5 %", (string?)image["alt_text"], StringComparison.Ordinal);
        Assert.Contains("errors: canary 0.3 % (3 of 1,000) vs baseline 0.3 % (57 of 19,000)", AllText(message), StringComparison.Ordinal);
    }

    [Fact]
    public void Message_ImageAtARelativeUrl_ShowsItsDescriptionInstead()
    {
        var card = new Card("t", null, CardTone.Info, [new ImageBlock("/charts/abc.png", "errors: Continue.")], [], "t");

        var message = CreateSut(card);

        Assert.DoesNotContain(BlocksOf(message), b => (string?)b["type"] == "image");
        Assert.Contains("errors: Continue.", AllText(message), StringComparison.Ordinal);
    }

    [Fact]
    public void Message_AwaitingApproval_HasAnApprovePrimaryButton()
    {
        var message = CreateSut(Render(ReleaseScenario.In(ReleaseState.AwaitingApproval)));

        var approve = Assert.Single(Buttons(message), b => (string?)b["value"] == "approve checkout@1.4.2");
        Assert.Equal("primary", (string?)approve["style"]);
        Assert.Equal("Approve", (string?)approve["text"]!["text"]);
    }

    [Fact]
    public void Message_CanaryWithHealth_ShowsHealthFactAndProgress()
    {
        var message = CreateSut(RealCard("canary-with-health"));

        var text = AllText(message);
        Assert.Contains("*Health*", text, StringComparison.Ordinal);
        Assert.Contains("🟢", text, StringComparison.Ordinal);
        Assert.Contains("▰", text, StringComparison.Ordinal);
        Assert.Equal("header", (string?)BlocksOf(message).First()["type"]);
    }

    [Fact]
    public void Message_RollbackAlertWithOnCallGroup_MentionsTheGroupAndTheUser()
    {
        var message = CreateSut(RealCard("rollback-alert-rolled-back-group"));

        Assert.Contains(SectionTexts(message), t => t.Contains("<!subteam^S0PAYMENTS>", StringComparison.Ordinal) && t.Contains("<@U04OLGA>", StringComparison.Ordinal));
        Assert.Contains("<!subteam^S0PAYMENTS>", (string)message["text"]!, StringComparison.Ordinal);
    }

    [Fact]
    public void Message_ListWithManyReleases_FitsInTenFieldSections()
    {
        var message = CreateSut(RealCard("list-many"));

        var fieldSections = BlocksOf(message).Where(b => b["fields"] is not null).ToList();
        Assert.Equal(12, fieldSections.Count);
        Assert.All(fieldSections, s => Assert.True(s["fields"]!.AsArray().Count <= 10));
    }

    [Fact]
    public void Message_LongAudit_SplitsIntoSectionsWithoutLosingLines()
    {
        var message = CreateSut(RealCard("audit-long"));

        var text = string.Join("\n", SectionTexts(message));
        Assert.Contains("entry 461 &lt;", text, StringComparison.Ordinal);
        Assert.Contains("entry 500 &lt;", text, StringComparison.Ordinal);
        Assert.DoesNotContain("entry 460 ", text, StringComparison.Ordinal);
        Assert.True(SectionTexts(message).Count() > 1);
    }

    // ---------------------------------------------------------------- markup and mentions

    private static Card MentionCard(string fallback = "checkout needs you") => new(
        "🔴 checkout",
        null,
        CardTone.Danger,
        [new TextBlock("**bold** move: <script>alert('x')</script> & @UCAROL with @SONCALL")],
        ["UCAROL", "group:SONCALL"],
        fallback);

    [Fact]
    public void Message_CardWithMentions_RendersUserAndGroupMentionsInASectionAndTheFallback()
    {
        var message = CreateSut(MentionCard());

        Assert.Contains(SectionTexts(message), t => t.Contains("<@UCAROL>", StringComparison.Ordinal) && t.Contains("<!subteam^SONCALL>", StringComparison.Ordinal));
        var fallback = (string)message["text"]!;
        Assert.Contains("<@UCAROL>", fallback, StringComparison.Ordinal);
        Assert.Contains("<!subteam^SONCALL>", fallback, StringComparison.Ordinal);
    }

    [Fact]
    public void Fallback_OnlyOneMentionInTheText_StillMentionsEveryone()
    {
        var message = CreateSut(MentionCard(fallback: "@UCAROL: checkout needs you"));

        var fallback = (string)message["text"]!;
        Assert.Contains("<@UCAROL>", fallback, StringComparison.Ordinal);
        Assert.Contains("<!subteam^SONCALL>", fallback, StringComparison.Ordinal);
    }

    [Fact]
    public void Message_TextBlock_MarkupBecomesSlackMrkdwnAndHtmlIsEscaped()
    {
        var message = CreateSut(MentionCard());

        var section = Assert.Single(SectionTexts(message), t => t.Contains("move:", StringComparison.Ordinal));
        Assert.StartsWith("*bold* move:", section, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; <@UCAROL> with <!subteam^SONCALL>", section, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", AllText(message), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("**bold**", "*bold*")]
    [InlineData("a **b** c **d**", "a *b* c *d*")]
    [InlineData("<script>", "&lt;script&gt;")]
    [InlineData("a & b", "a &amp; b")]
    [InlineData("&lt;", "&amp;lt;")]
    [InlineData("mail@UCAROL.com", "mail@UCAROL.com")]
    [InlineData("@UCAROLINE", "@UCAROLINE")]
    [InlineData("(@UCAROL)", "(<@UCAROL>)")]
    [InlineData("@SONCALL", "<!subteam^SONCALL>")]
    public void Mrkdwn_Text_RendersAsSlackMrkdwn(string text, string expected)
    {
        Assert.Equal(expected, SlackBlockKit.Mrkdwn(text, ["UCAROL", "group:SONCALL"]));
    }

    [Fact]
    public void Message_PlainTextTitle_IsNotEscaped()
    {
        var message = CreateSut(new Card("a <b> & c", null, CardTone.Info, [], [], "fb"));

        Assert.Equal("a <b> & c", (string?)BlocksOf(message).First()["text"]!["text"]);
    }

    // ---------------------------------------------------------------- buttons

    private static JsonObject ButtonCard(params CardAction[] actions) => CreateSut(new Card("t", null, CardTone.Info, [new ActionsBlock(actions)], [], "fb"));

    [Fact]
    public void Button_Styles_MapToSlackStyles()
    {
        var message = ButtonCard(
            new CardAction("go", "Go", "promote x", ActionStyle.Primary),
            new CardAction("stop", "Stop", "rollback x", ActionStyle.Danger),
            new CardAction("plain", "Plain", "pause x"));

        var buttons = Buttons(message).ToList();
        Assert.Equal("primary", (string?)buttons[0]["style"]);
        Assert.Equal("danger", (string?)buttons[1]["style"]);
        Assert.Null(buttons[2]["style"]);
        Assert.Equal(["go", "stop", "plain"], buttons.Select(b => (string?)b["action_id"]));
        Assert.Equal(["promote x", "rollback x", "pause x"], buttons.Select(b => (string?)b["value"]));
    }

    [Fact]
    public void Button_WithABasis_CarriesItInTheActionIdAndKeepsTheCommandAsTheValue()
    {
        var message = ButtonCard(
            new CardAction("promote", "Promote now", "promote x@1", ActionStyle.Primary, "Sure?", "Why?") { Basis = "r12.Canary.0" },
            new CardAction("pause", "Pause", "pause x@1") { Basis = "r12.Canary.0" },
            new CardAction("pause", "Pause", "pause y@1") { Basis = "r3.Canary.0" });

        var buttons = Buttons(message).ToList();

        Assert.Equal(["ask:promote|r12.Canary.0", "pause|r12.Canary.0", "pause:2|r3.Canary.0"], buttons.Select(b => (string?)b["action_id"]));
        Assert.Equal(["promote x@1", "pause x@1", "pause y@1"], buttons.Select(b => (string?)b["value"]));
        Assert.Equal(("ask:promote", "r12.Canary.0"), SlackBlockKit.SplitActionId("ask:promote|r12.Canary.0"));
        Assert.Equal(("approve", (string?)null), SlackBlockKit.SplitActionId("approve"));
    }

    [Fact]
    public void Button_WithConfirm_HasASlackConfirmationDialog()
    {
        var message = ButtonCard(new CardAction("decide-rollback", "Roll back now", "decide x rollback", ActionStyle.Danger, "Roll back x now?"));

        var confirm = Assert.IsType<JsonObject>(Assert.Single(Buttons(message))["confirm"]);
        Assert.Equal("plain_text", (string?)confirm["title"]!["type"]);
        Assert.Equal("Roll back now", (string?)confirm["title"]!["text"]);
        Assert.Equal("Roll back x now?", (string?)confirm["text"]!["text"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)confirm["confirm"]!["text"]));
        Assert.False(string.IsNullOrWhiteSpace((string?)confirm["deny"]!["text"]));
        Assert.Equal("danger", (string?)confirm["style"]);
    }

    [Fact]
    public void Button_WithInput_HasAskActionIdAndNoConfirm()
    {
        var message = ButtonCard(new CardAction("rollback", "Roll back…", "rollback x", ActionStyle.Danger, "Roll back x?", "Reason for the rollback"));

        var button = Assert.Single(Buttons(message));
        Assert.StartsWith(SlackBlockKit.AskPrefix, (string?)button["action_id"], StringComparison.Ordinal);
        Assert.Equal("ask:rollback", (string?)button["action_id"]);
        Assert.Null(button["confirm"]);
        Assert.Equal("rollback x", (string?)button["value"]);
    }

    [Fact]
    public void Button_SameIdTwice_GetsUniqueActionIds()
    {
        var message = ButtonCard(
            new CardAction("check", "A", "check x a"),
            new CardAction("check", "B", "check x b"),
            new CardAction("check:2", "C", "check x c"),
            new CardAction(new string('i', 400), "D", "d"),
            new CardAction(new string('i', 400), "E", "e"));

        var ids = SlackLimits.AssertWithin(message);

        Assert.Equal(5, ids.Count);
        Assert.Equal("check", ids[0]);
    }

    [Fact]
    public void Message_HundredButtons_AreSplitIntoActionsBlocksOfTwentyFive()
    {
        var message = ButtonCard([.. Enumerable.Range(0, 100).Select(i => new CardAction($"b{i}", $"Button {i}", $"v {i}"))]);

        var actions = BlocksOf(message).Where(b => (string?)b["type"] == "actions").ToList();
        Assert.Equal(4, actions.Count);
        Assert.All(actions, a => Assert.Equal(25, a["elements"]!.AsArray().Count));
        SlackLimits.AssertWithin(message);
    }

    // ---------------------------------------------------------------- fitting and truncation

    [Fact]
    public void Message_MoreThanFiftyBlocks_KeepsHeadButtonsAndFooterAndSaysWhatWasLeftOut()
    {
        var blocks = new List<CardBlock>();
        blocks.AddRange(Enumerable.Range(0, 120).Select(i => new TextBlock($"line {i}")));
        blocks.Add(new ActionsBlock([new CardAction("promote", "Promote", "promote x", ActionStyle.Primary)]));
        blocks.Add(new ContextBlock("footer"));

        var message = CreateSut(new Card("title", "sub", CardTone.Info, blocks, [], "fb"));

        SlackLimits.AssertWithin(message);
        var all = BlocksOf(message).ToList();
        Assert.Equal(50, all.Count);
        Assert.Equal("header", (string?)all[0]["type"]);
        Assert.Equal("actions", (string?)all[^2]["type"]);
        Assert.Equal("footer", (string?)all[^1]["elements"]![0]!["text"]);
        Assert.Contains("more blocks not shown", (string?)all[^3]["elements"]![0]!["text"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Truncate_SurrogatePairAtTheCut_NeverSplitsIt(int padding)
    {
        var text = new string('x', padding) + string.Concat(Enumerable.Repeat("😀", 100));

        for (var max = 2; max < 60; max++)
        {
            var cut = SlackBlockKit.Truncate(text, max);

            Assert.True(cut.Length <= max);
            Assert.EndsWith("…", cut, StringComparison.Ordinal);
            SlackLimits.AssertNoLoneSurrogate(cut, $"max {max}");
        }
    }

    [Fact]
    public void Truncate_ShortEnough_ReturnsTheTextUnchanged()
    {
        Assert.Equal("abc", SlackBlockKit.Truncate("abc", 3));
    }

    [Fact]
    public void Message_LongTitleOfEmoji_HeaderIsCutWithinTheLimitWithoutSplittingAPair()
    {
        var message = CreateSut(new Card("x" + string.Concat(Enumerable.Repeat("🚀", 200)), null, CardTone.Info, [], [], "fb"));

        var header = (string)BlocksOf(message).First()["text"]!["text"]!;
        Assert.True(header.Length <= 150);
        SlackLimits.AssertNoLoneSurrogate(header, "header");
    }

    [Fact]
    public void Message_LongTextOfEmojiAndEscapes_ChunksWithinTheSectionLimit()
    {
        var text = string.Concat(Enumerable.Range(0, 4000).Select(i => i % 3 == 0 ? "😀" : i % 3 == 1 ? "<" : "a"));

        var message = CreateSut(new Card("t", null, CardTone.Info, [new TextBlock(text)], [], "fb"));

        SlackLimits.AssertWithin(message);
        var joined = string.Concat(SectionTexts(message));
        Assert.Equal(SlackBlockKit.Escape(text), joined);
    }

    [Fact]
    public void Message_EmptyContextBlock_HasNoEmptyTextObject()
    {
        var message = CreateSut(new Card("t", null, CardTone.Info, [new ContextBlock(string.Empty)], [], "fb"));

        SlackLimits.AssertWithin(message);
    }

    [Fact]
    public void Message_EmptyCardFallback_StillHasATextFallback()
    {
        var message = CreateSut(new Card("checkout@1.4.2 rolled back", null, CardTone.Danger, [new TextBlock("x")], [], string.Empty));

        Assert.False(string.IsNullOrWhiteSpace((string?)message["text"]));
    }

    [Fact]
    public void Message_TextOnly_HasNoBlocks()
    {
        var message = SlackBlockKit.Message("**done** <ok>");

        Assert.Equal("*done* &lt;ok&gt;", (string?)message["text"]);
        Assert.Null(message["blocks"]);
    }
}
