using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ShipBot.Core.Cards;
using ShipBot.Core.Releases;
using ShipBot.Testing;
using ShipBot.Teams.Tests.TestSupport;

namespace ShipBot.Teams.Tests;

/// <summary>
/// The real cards rendered as Adaptive Cards 1.5 for Teams: the envelope, Action.Execute with an
/// Action.Submit fallback, confirmation and reason show-cards, mentions with their entities, no
/// stray markup, and the size limit.
/// </summary>
public sealed partial class AdaptiveCardsTests
{
    private static JsonObject CreateSut(Card card, IReadOnlyDictionary<string, string>? names = null) => AdaptiveCards.Render(card, names);

    private static JsonObject Render(string name) => CreateSut(RealCards.Build(name));

    private static IEnumerable<CardAction> OwnActions(Card card) => card.Blocks.OfType<ActionsBlock>().SelectMany(b => b.Actions);

    private static IEnumerable<CardAction> RowActions(Card card) =>
        card.Blocks.OfType<ChecklistBlock>().SelectMany(c => c.Groups).SelectMany(g => g.Items).SelectMany(i => i.Actions);

    /// <summary>The Action.Execute that runs <paramref name="command"/>, at any depth, with the action that shows it (itself, or its show-card).</summary>
    private static IEnumerable<(JsonObject Shown, JsonObject Execute)> Runs(JsonObject rendered, string command)
    {
        var all = CardJson.Actions(rendered["body"]).ToList();
        var shown = all.Where(a => (string?)a["type"] == "Action.ShowCard")
            .SelectMany(s => CardJson.Actions(s["card"]).Select(inner => (Shown: s, Execute: inner)))
            .ToList();
        var direct = all.Where(a => !shown.Any(s => ReferenceEquals(s.Execute, a))).Select(a => (Shown: a, Execute: a));
        return direct.Concat(shown).Where(r => (string?)r.Execute["type"] == "Action.Execute" && Command(r.Execute) == command);
    }

    private static string? Command(JsonObject action) => (string?)action["data"]?["command"];

    // ---------------------------------------------------------------- the envelope

    [Theory]
    [MemberData(nameof(RealCards.AllData), MemberType = typeof(RealCards))]
    public void Render_RealCard_IsAnAdaptiveCard15ForTeams(string name)
    {
        var card = Render(name);

        Assert.Equal("AdaptiveCard", (string?)card["type"]);
        Assert.Equal("http://adaptivecards.io/schemas/adaptive-card.json", (string?)card["$schema"]);
        Assert.Equal("1.5", (string?)card["version"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)card["fallbackText"]));
        Assert.NotEmpty(card["body"]!.AsArray());
        Assert.Equal("Full", (string?)card["msteams"]?["width"]);
        Assert.All(CardJson.OfType(card, "TextBlock"), t => Assert.False(string.IsNullOrEmpty((string?)t["text"])));
    }

    [Fact]
    public void Attachment_Card_CarriesTheAdaptiveCardContentType()
    {
        var card = Render("draft");

        var attachment = AdaptiveCards.Attachment(card);

        Assert.Equal("application/vnd.microsoft.card.adaptive", (string?)attachment["contentType"]);
        Assert.Same(card, attachment["content"]);
    }

    // ---------------------------------------------------------------- buttons

    [Theory]
    [MemberData(nameof(RealCards.AllData), MemberType = typeof(RealCards))]
    public void Render_RealCard_EveryExecuteHasAVerbACommandAndAnEquivalentSubmitFallback(string name)
    {
        var card = Render(name);

        var executes = CardJson.OfType(card["body"], "Action.Execute").ToList();

        Assert.All(executes, e =>
        {
            Assert.False(string.IsNullOrWhiteSpace((string?)e["verb"]));
            Assert.False(string.IsNullOrWhiteSpace((string?)e["title"]));
            var data = Assert.IsType<JsonObject>(e["data"]);
            Assert.False(string.IsNullOrWhiteSpace((string?)data["command"]));
            var fallback = Assert.IsType<JsonObject>(e["fallback"]);
            Assert.Equal("Action.Submit", (string?)fallback["type"]);
            Assert.Equal((string?)e["title"], (string?)fallback["title"]);
            Assert.True(JsonNode.DeepEquals(data, fallback["data"]), $"fallback data {fallback["data"]?.ToJsonString()} differs from {data.ToJsonString()}");
        });
        Assert.DoesNotContain(CardJson.OfType(card["body"], "Action.Submit"), s => !executes.Any(e => ReferenceEquals(e["fallback"], s)));
    }

    [Theory]
    [MemberData(nameof(RealCards.WithinLimitData), MemberType = typeof(RealCards))]
    public void Render_RealCard_KeepsEveryButtonOfTheCardsOwnActions(string name)
    {
        AssertKeepsOwnButtons(RealCards.Build(name));
    }

    [Fact]
    public void Render_HaltedReleaseWithALongReason_KeepsResumeAndRollBack()
    {
        AssertKeepsOwnButtons(RealCards.Build("halted-long-reason"));
    }

    private static void AssertKeepsOwnButtons(Card card)
    {
        var rendered = CreateSut(card);

        Assert.All(OwnActions(card), a => Assert.True(Runs(rendered, a.Value).Any(), $"no button runs '{a.Value}'"));
    }

    [Theory]
    [MemberData(nameof(RealCards.OrdinaryData), MemberType = typeof(RealCards))]
    public void Render_OrdinaryCard_MapsEveryActionToExecuteOrAShowCard(string name)
    {
        var card = RealCards.Build(name);

        var rendered = CreateSut(card);

        foreach (var action in OwnActions(card).Concat(RowActions(card)))
        {
            var (shown, execute) = Assert.Single(Runs(rendered, action.Value), r => (string?)r.Execute["verb"] == action.Id);
            if (action.Confirm is null && action.Input is null)
            {
                Assert.Same(shown, execute);
                Assert.Equal(action.Label, (string?)execute["title"]);
                continue;
            }

            Assert.Equal("Action.ShowCard", (string?)shown["type"]);
            Assert.Equal(action.Label, (string?)shown["title"]);
            var inner = shown["card"]!.AsObject();
            Assert.Equal("AdaptiveCard", (string?)inner["type"]);
            Assert.StartsWith("Confirm", (string?)execute["title"], StringComparison.Ordinal);
            var inputs = CardJson.OfType(inner, "Input.Text").ToList();
            if (action.Input is not null)
            {
                var input = Assert.Single(inputs);
                // Unique per button, and named in the button's data so the reason is found after Teams merges inputs into data.
                Assert.StartsWith("input-", (string?)input["id"], StringComparison.Ordinal);
                Assert.Equal((string?)input["id"], (string?)execute["data"]!["inputId"]);
                Assert.True((bool?)input["isRequired"]);
                Assert.False(string.IsNullOrWhiteSpace((string?)input["label"]));
                Assert.False(string.IsNullOrWhiteSpace((string?)input["errorMessage"]));
            }
            else
            {
                Assert.Empty(inputs);
            }

            if (action.Confirm is not null)
            {
                Assert.Contains(CardJson.OfType(inner, "TextBlock"), t => ((string?)t["text"])!.Length > 0);
            }
        }
    }

    [Fact]
    public void Render_DraftRelease_EveryPendingHumanItemHasConfirmAndNonFloorItemsWaive()
    {
        var scenario = ReleaseScenario.Create();

        var rendered = CreateSut(ReleaseCards.Release(scenario.Release, null, scenario.Now));

        var id = scenario.Release.Id.ToString();
        var pending = scenario.Release.Checklist.Where(i => !i.IsDone && i.SettledBy == ShipBot.Core.Checklists.ItemSettledBy.Human && i.Group != ShipBot.Core.Checklists.ChecklistGroup.Validation).ToList();
        Assert.NotEmpty(pending);
        Assert.All(pending, i =>
        {
            Assert.Single(Runs(rendered, $"check {id} {i.Id}"));
            var waive = Runs(rendered, $"waive {id} {i.Id}").ToList();
            if (i.Floor)
            {
                Assert.Empty(waive);
            }
            else
            {
                Assert.Equal("Action.ShowCard", (string?)Assert.Single(waive).Shown["type"]);
            }
        });
    }

    [Fact]
    public void Render_CanaryRelease_HasAStageBarHealthFactsAndStyledButtons()
    {
        var rendered = Render("canary-with-health");

        Assert.Contains(CardJson.OfType(rendered["body"], "ColumnSet"), c => c["columns"]!.AsArray().Count >= 6);
        Assert.Contains(CardJson.OfType(rendered["body"], "FactSet"), f => f["facts"]!.AsArray().Any(x => (string?)x!["title"] == "Health"));
        var promote = Assert.Single(CardJson.OfType(rendered["body"], "Action.Execute"), e => (string?)e["verb"] == "promote");
        Assert.Equal("positive", (string?)promote["style"]);
        var rollback = Assert.Single(CardJson.OfType(rendered["body"], "Action.Execute"), e => (string?)e["verb"] == "rollback");
        Assert.Equal("destructive", (string?)rollback["style"]);
    }

    [Fact]
    public void Render_ReleaseCard_EveryButtonSendsItsBasisBackInItsData()
    {
        var card = RealCards.Build("canary-with-health");

        var rendered = CreateSut(card);

        var executes = CardJson.OfType(rendered["body"], "Action.Execute").ToList();
        Assert.NotEmpty(executes);
        Assert.All(executes, e => Assert.False(string.IsNullOrEmpty((string?)e["data"]!["basis"]), (string?)e["verb"]));
        Assert.All(executes, e => Assert.Equal((string?)e["data"]!["basis"], (string?)e["fallback"]!["data"]!["basis"]));
    }

    [Fact]
    public void Render_CanaryJudged_ShowsTheChartAsAnImage()
    {
        var rendered = Render("canary-judged");

        var image = Assert.Single(CardJson.OfType(rendered["body"], "Image"));
        Assert.StartsWith("https://shipbot.example.com/charts/", (string?)image["url"], StringComparison.Ordinal);
        Assert.Contains("Evidence at Canary 5 %", (string?)image["altText"], StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ImageAtARelativeUrl_ShowsItsDescriptionInstead()
    {
        var rendered = CreateSut(new Card("t", null, CardTone.Info, [new ImageBlock("/charts/abc.png", "errors: Continue.")], [], "t"));

        Assert.Empty(CardJson.OfType(rendered["body"], "Image"));
        Assert.Contains("errors: Continue.", rendered.ToJsonString(), StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- size

    [Theory]
    [MemberData(nameof(RealCards.WithinLimitData), MemberType = typeof(RealCards))]
    public void Render_RealCard_StaysUnderTheSizeLimit(string name)
    {
        var card = Render(name);

        Assert.InRange(AdaptiveCards.Size(card), 1, AdaptiveCards.MaxBytes);
    }

    [Fact]
    public void Render_DraftWithAHugeContract_IsCompactedUnderTheLimitWithItsButtons()
    {
        var card = RealCards.Build("draft-long-contract");
        var contractBytes = card.Blocks.OfType<FactsBlock>().SelectMany(f => f.Facts).Sum(f => System.Text.Encoding.UTF8.GetByteCount(f.Value));
        Assert.True(contractBytes > AdaptiveCards.MaxBytes, "the contract alone must be over the limit for this test to mean anything");

        var rendered = CreateSut(card);

        Assert.InRange(AdaptiveCards.Size(rendered), 1, AdaptiveCards.MaxBytes);
        Assert.Contains(CardJson.Strings(rendered["body"]), s => s.Value.EndsWith('…'));
    }

    [Theory]
    [MemberData(nameof(RealCards.OversizedData), MemberType = typeof(RealCards))]
    public void Render_CardWithLongText_StaysUnderTheSizeLimit(string name)
    {
        var card = Render(name);

        Assert.InRange(AdaptiveCards.Size(card), 1, AdaptiveCards.MaxBytes);
    }

    [Fact]
    public void Render_HugeCard_SizeIsMeasuredAsSent()
    {
        // The connector client sends JsonNode.ToJsonString(); Size must measure the same bytes.
        var card = Render("draft-long-contract");

        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(AdaptiveCards.Attachment(card)["content"]!.ToJsonString()), AdaptiveCards.Size(card));
    }

    // ---------------------------------------------------------------- markup and mentions

    [Theory]
    [MemberData(nameof(RealCards.AllData), MemberType = typeof(RealCards))]
    public void Render_RealCard_HasNoAngleBracketsButMentionTags(string name)
    {
        var card = CreateSut(RealCards.Build(name), RealCards.Names);

        Assert.All(CardJson.Strings(card), s =>
        {
            var rest = MentionTag().Replace(s.Value, string.Empty);
            Assert.False(rest.Contains('<', StringComparison.Ordinal) || rest.Contains('>', StringComparison.Ordinal), $"{s.Path}: {Excerpt(s.Value)}");
        });
    }

    [Theory]
    [InlineData("rollback-alert-breach")]
    [InlineData("rollback-alert-rolled-back-group")]
    [InlineData("decision")]
    [InlineData("halt-alert")]
    public void Render_AlertWithoutNames_TagsEveryMentionWithAMatchingEntity(string name)
    {
        AssertMentionsMatchEntities(RealCards.Build(name), null);
    }

    [Theory]
    [InlineData("rollback-alert-breach")]
    [InlineData("rollback-alert-rolled-back-group")]
    [InlineData("decision")]
    [InlineData("halt-alert")]
    public void Render_AlertWithNames_TagsEveryMentionWithAMatchingEntity(string name)
    {
        AssertMentionsMatchEntities(RealCards.Build(name), RealCards.Names);
    }

    [Fact]
    public void Render_RollbackAlert_MentionsOnCallByName()
    {
        var rendered = CreateSut(RealCards.Build("rollback-alert-breach"), RealCards.Names);

        var entity = Assert.Single(rendered["msteams"]!["entities"]!.AsArray())!.AsObject();
        Assert.Equal("mention", (string?)entity["type"]);
        Assert.Equal("<at>Olga Petrova</at>", (string?)entity["text"]);
        Assert.Equal(People.Olga.Id, (string?)entity["mentioned"]?["id"]);
        Assert.Equal("Olga Petrova", (string?)entity["mentioned"]?["name"]);
    }

    [Fact]
    public void Render_DecisionCard_TagsTheOnCallMentionInTheText()
    {
        var rendered = CreateSut(RealCards.Build("decision"), RealCards.Names);

        Assert.Contains(CardJson.Strings(rendered["body"]), s => s.Value.Contains("Policy: consult. <at>Olga Petrova</at>, decide:", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_GroupOnCall_IsNamedButNotTagged()
    {
        var rendered = CreateSut(RealCards.Build("rollback-alert-rolled-back-group"), RealCards.Names);

        var entities = rendered["msteams"]!["entities"]!.AsArray();
        Assert.DoesNotContain(entities, e => ((string?)e!["mentioned"]?["id"])!.StartsWith("group:", StringComparison.Ordinal));
        Assert.Contains(CardJson.Strings(rendered["body"]), s => s.Value.Contains("@S0PAYMENTS", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_CardWithoutMentions_HasNoEntities()
    {
        var rendered = Render("draft");

        Assert.Null(rendered["msteams"]!["entities"]);
        Assert.DoesNotContain(CardJson.Strings(rendered), s => s.Value.Contains("<at>", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_MentionedNameWithMarkup_IsNeutralisedInTagAndEntity()
    {
        var card = RealCards.Build("rollback-alert-breach");

        var rendered = CreateSut(card, new Dictionary<string, string> { [People.Olga.Id] = "Olga <b>P</b>" });

        AssertMentionsMatchEntities(card, new Dictionary<string, string> { [People.Olga.Id] = "Olga <b>P</b>" });
        Assert.All(CardJson.Strings(rendered["body"]), s => Assert.DoesNotContain("<b>", s.Value, StringComparison.Ordinal));
        Assert.All(rendered["msteams"]!["entities"]!.AsArray(), e => Assert.DoesNotContain("<b>", (string?)e!["text"], StringComparison.Ordinal));
    }

    private static void AssertMentionsMatchEntities(Card card, IReadOnlyDictionary<string, string>? names)
    {
        var rendered = CreateSut(card, names);
        var entities = rendered["msteams"]?["entities"]?.AsArray().Select(e => e!.AsObject()).ToList() ?? [];
        var tags = CardJson.Strings(rendered["body"]).SelectMany(s => MentionTag().Matches(s.Value).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);
        var people = card.Mentions.Where(m => !m.StartsWith("group:", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(people);
        Assert.NotEmpty(tags);
        Assert.All(tags, t => Assert.Contains(entities, e => (string?)e["text"] == t));
        Assert.All(entities, e =>
        {
            Assert.Equal("mention", (string?)e["type"]);
            Assert.Contains((string)e["text"]!, tags);
            Assert.Contains((string?)e["mentioned"]?["id"], people);
            Assert.False(string.IsNullOrWhiteSpace((string?)e["mentioned"]?["name"]));
        });
        Assert.Equal(people.Count, entities.Count);
        Assert.Equal(entities.Count, entities.Select(e => (string?)e["mentioned"]?["id"]).Distinct().Count());
    }

    private static string Excerpt(string s) => s.Length <= 120 ? s : s[..120] + "…";

    [GeneratedRegex("<at>[^<>]*</at>")]
    private static partial Regex MentionTag();
}
