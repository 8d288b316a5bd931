using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ShipBot.Core.Releases;
using ShipBot.Testing;

namespace ShipBot.Core.Tests.Releases;

/// <summary>Releases are stored as JSON (Redis): the fields added for issue 11 have defaults, so documents stored before them still load.</summary>
public sealed class ReleaseStoredFormatTests
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    [Fact]
    public void Deserialize_ADocumentStoredBeforeDecisionIdsAndCardRevisions_LoadsWithDefaults()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), TimeSpan.FromMinutes(15), now));
        var json = JsonNode.Parse(JsonSerializer.Serialize(sut.Release, Options))!.AsObject();
        foreach (var added in new[] { "heldDecisions", "decisionsOpened", "decisionHistory", "abortReason", "cardRevision", "lastChange" })
        {
            json.Remove(added);
        }

        json["decision"]!.AsObject().Remove("id");
        json["checklist"]!.AsArray().OfType<JsonObject>().ToList().ForEach(i => i.Remove("mandatory"));

        var old = JsonSerializer.Deserialize<Release>(json.ToJsonString(), Options)!;

        Assert.Equal("d0", old.Decision!.Id);
        Assert.Empty(old.HeldDecisions);
        Assert.Empty(old.DecisionHistory);
        Assert.Equal(0, old.CardRevision);
        Assert.Null(ClickBasis.Decision(old.Decision).StaleReason(old));

        // It keeps working: the old decision can be held and continued by its id.
        var held = old.Decide(People.Olga, DecisionChoice.Hold, sut.Now, "d0").Next;
        Assert.Equal("d0", Assert.Single(held.HeldDecisions).Id);
    }

    [Fact]
    public void RoundTrip_TheNewFields_Survive()
    {
        var sut = ReleaseScenario.In(ReleaseState.GeneralAvailability);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), TimeSpan.FromMinutes(15), now));
        sut.Do((r, now) => r.Decide(People.Olga, DecisionChoice.Hold, now));
        sut.Do((r, now) => r.ApplyHealth(Verdicts.BusinessConsult(now), TimeSpan.FromMinutes(15), now));
        sut.Do((r, now) => r.Decide(People.Olga, DecisionChoice.Continue, now, "d2"));

        var back = JsonSerializer.Deserialize<Release>(JsonSerializer.Serialize(sut.Release, Options), Options)!;

        Assert.Equal(sut.Release.CardRevision, back.CardRevision);
        Assert.Equal(("d1", "olga"), (back.HeldDecisions.Single().Id, back.HeldDecisions.Single().HeldBy));
        Assert.Equal(sut.Release.DecisionHistory, back.DecisionHistory);
        Assert.Equal(2, back.DecisionsOpened);
    }
}
