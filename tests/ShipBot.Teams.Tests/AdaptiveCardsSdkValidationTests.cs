using System.Text.Json.Nodes;
using ShipBot.Teams.Tests.TestSupport;
using ShipBot.Testing;

namespace ShipBot.Teams.Tests;

/// <summary>Every real card, rendered once, checked by the adaptivecards npm package (run once per test class).</summary>
public sealed class SdkValidationFixture : IAsyncLifetime
{
    /// <summary>A card the SDK must complain about, so a silent validator cannot pass the suite.</summary>
    public const string Control = "zz-control-broken";

    public string Version { get; private set; } = string.Empty;

    public IReadOnlyDictionary<string, IReadOnlyList<SdkEvent>> Events { get; private set; } = new Dictionary<string, IReadOnlyList<SdkEvent>>();

    public async Task InitializeAsync()
    {
        var cards = RealCards.All.ToDictionary(n => n, n => AdaptiveCards.Render(RealCards.Build(n), RealCards.Names), StringComparer.Ordinal);
        cards[Control] = new JsonObject
        {
            ["type"] = "AdaptiveCard",
            ["version"] = "1.5",
            ["body"] = new JsonArray(
                new JsonObject { ["type"] = "Bogus.Element" },
                new JsonObject { ["type"] = "TextBlock", ["text"] = "x", ["size"] = "Gigantic" },
                new JsonObject { ["type"] = "Input.Text", ["id"] = "dup", ["isRequired"] = true },
                new JsonObject { ["type"] = "Input.Text", ["id"] = "dup", ["label"] = "second" }),
            ["actions"] = new JsonArray(new JsonObject { ["type"] = "Action.Bogus", ["title"] = "x" }),
        };
        (Version, Events) = await AdaptiveCardsSdk.ValidateAsync(cards);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// "Every card ShipBot emits parses without warnings with the adaptivecards npm package at version
/// 1.5": each card is parsed by <c>new AdaptiveCard().parse(json, new SerializationContext(1.5))</c>
/// and checked with <c>validateProperties()</c> (cardcheck/validate.js). The Teams extension
/// (<c>msteams</c>: width and mention entities) is unknown to the SDK and produces no event, so
/// nothing is filtered.
/// </summary>
public sealed class AdaptiveCardsSdkValidationTests(SdkValidationFixture sdk) : IClassFixture<SdkValidationFixture>
{
    [Fact]
    public void Sdk_Version_IsThePinned3_0Release()
    {
        Assert.StartsWith("3.0.", sdk.Version, StringComparison.Ordinal);
    }

    [Fact]
    public void Sdk_BrokenControlCard_IsReported()
    {
        var events = sdk.Events[SdkValidationFixture.Control].Select(e => e.Event).ToHashSet();

        Assert.Contains("UnknownElementType", events);
        Assert.Contains("UnknownActionType", events);
        Assert.Contains("DuplicateId", events);
        Assert.Contains("RequiredInputsShouldHaveLabel", events);
    }

    [Fact]
    public void Sdk_EveryCard_WasChecked()
    {
        Assert.All(RealCards.All, n => Assert.True(sdk.Events.ContainsKey(n), $"no report for {n}"));
    }

    [Theory]
    [MemberData(nameof(RealCards.AllData), MemberType = typeof(RealCards))]
    public void Sdk_RealCard_ParsesAndValidatesWithoutAnyEvent(string name)
    {
        var events = sdk.Events[name];

        Assert.True(events.Count == 0, $"{name}: {string.Join("; ", events)}");
    }

    /// <summary>
    /// Until the skipped test above passes, this one keeps every other SDK check in force: it ignores
    /// exactly the known DuplicateId of the reason inputs, and nothing else.
    /// </summary>
    [Theory]
    [MemberData(nameof(RealCards.AllData), MemberType = typeof(RealCards))]
    public void Sdk_RealCard_HasNoEventBesidesTheKnownDuplicateInputId(string name)
    {
        var events = sdk.Events[name].Where(e => !(e.Event == "DuplicateId" && e.Message == "Duplicate Id \"input\".")).ToList();

        Assert.True(events.Count == 0, $"{name}: {string.Join("; ", events)}");
    }
}
