using System.Text.Json;
using ShipBot.Core.Cards;
using ShipBot.Core.Commands;
using ShipBot.Core.Releases;
using ShipBot.Testing;

namespace ShipBot.Core.Tests.Releases;

/// <summary>Where a release came from: parsed from chat, checked as a commit or a link, stored, and shown on the card and in the contract.</summary>
public sealed class ReleaseProvenanceTests
{
    private static readonly ReleaseProvenance Source = new(
        "0123456789abcdef0123456789abcdef01234567",
        ["https://github.com/acme/checkout/pull/41"],
        "https://github.com/acme/checkout/actions/runs/1001");

    [Fact]
    public void Parse_StartWithCommit_CarriesTheCommitAndKeepsTheChanges()
    {
        var parsed = CommandParser.Parse("/ship start checkout 1.4.2 faster cart --commit 0123ABC --flag new-cart");

        var start = Assert.IsType<StartCommand>(parsed.Command);
        Assert.Equal("0123abc", start.Provenance?.Commit);
        Assert.Equal(["faster cart"], start.Changes);
        Assert.Equal(["new-cart"], start.Flags);
    }

    [Theory]
    [InlineData("/ship start checkout 1.4.2 --commit")]
    [InlineData("/ship start checkout 1.4.2 --commit not-a-sha")]
    public void Parse_StartWithABadCommit_FailsNamingTheOption(string text)
    {
        var parsed = CommandParser.Parse(text);

        Assert.False(parsed.Success);
        Assert.Contains("--commit", parsed.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://github.com/acme/checkout/pull/41", true)]
    [InlineData("http://ci.internal/run/7", true)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData("https://example.com/a b", false)]
    [InlineData("https://example.com/<script>", false)]
    [InlineData("/relative/path", false)]
    public void IsLink_Value_OnlyAbsoluteHttpUrls(string value, bool expected) =>
        Assert.Equal(expected, ReleaseProvenance.IsLink(value));

    [Fact]
    public void CardAndContract_ReleaseWithProvenance_ShowWhereItCameFrom()
    {
        var release = ReleaseScenario.In(ReleaseState.Draft).Release with { Provenance = Source };

        var card = ReleaseCards.Release(release, null, ReleaseScenario.Start);
        var contract = ContractDocument.Markdown(release, ReleaseScenario.DefaultPolicy);

        var fact = card.Blocks.OfType<FactsBlock>().SelectMany(b => b.Facts).Single(f => f.Label == "Source");
        Assert.Equal("commit 0123456789ab · PR https://github.com/acme/checkout/pull/41 · run https://github.com/acme/checkout/actions/runs/1001", fact.Value);
        Assert.Contains("- Commit: `0123456789abcdef0123456789abcdef01234567`", contract, StringComparison.Ordinal);
        Assert.Contains("- Pull request: <https://github.com/acme/checkout/pull/41>", contract, StringComparison.Ordinal);
    }

    [Fact]
    public void Card_ReleaseWithoutProvenance_HasNoSourceFact()
    {
        var card = ReleaseCards.Release(ReleaseScenario.In(ReleaseState.Draft).Release, null, ReleaseScenario.Start);

        Assert.DoesNotContain(card.Blocks.OfType<FactsBlock>().SelectMany(b => b.Facts), f => f.Label == "Source");
    }

    [Fact]
    public void RoundTrip_Provenance_SurvivesAndOlderDocumentsReadNull()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };
        var release = ReleaseScenario.In(ReleaseState.Draft).Release with { Provenance = Source };

        var back = JsonSerializer.Deserialize<Release>(JsonSerializer.Serialize(release, options), options)!;
        var older = JsonSerializer.Deserialize<Release>(JsonSerializer.Serialize(release with { Provenance = null }, options).Replace(",\"provenance\":null", string.Empty, StringComparison.Ordinal), options)!;

        Assert.Equal(Source.Commit, back.Provenance?.Commit);
        Assert.Equal(Source.PullRequests, back.Provenance?.PullRequests);
        Assert.Equal(Source.PipelineRun, back.Provenance?.PipelineRun);
        Assert.Null(older.Provenance);
    }
}
