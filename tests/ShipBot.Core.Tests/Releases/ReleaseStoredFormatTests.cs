using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ShipBot.Core.Health;
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

    [Fact]
    public void Serialize_APauseDuringValidation_StoresTheWindowLeftUnderItsOldNameAndReadsItBack()
    {
        var sut = ReleaseScenario.In(ReleaseState.Validating).Advance(TimeSpan.FromMinutes(5));
        sut.Do((r, now) => r.Pause(People.Alice, now));

        var json = JsonNode.Parse(JsonSerializer.Serialize(sut.Release, Options))!.AsObject();
        var back = JsonSerializer.Deserialize<Release>(json.ToJsonString(), Options)!;

        // One stopped clock, under the name every stored document (and an older ShipBot) knows.
        Assert.Equal("00:10:00", json["remainingBake"]!.GetValue<string>());
        Assert.False(json.ContainsKey("remainingValidation"));
        Assert.False(json.ContainsKey("stoppedClockLeft"));
        Assert.Equal(TimeSpan.FromMinutes(10), back.RemainingValidation);
        Assert.Null(back.RemainingBake);
    }

    [Fact]
    public void Deserialize_ADocumentPausedInValidationBeforeTheSplit_ResumesWithTheWindowItHadLeft()
    {
        var sut = ReleaseScenario.In(ReleaseState.Validating).Advance(TimeSpan.FromMinutes(5));
        sut.Do((r, now) => r.Pause(People.Alice, now));
        var json = JsonNode.Parse(JsonSerializer.Serialize(sut.Release, Options))!.AsObject();

        // As a ShipBot before the split wrote it: the validation window left in "remainingBake".
        json["remainingBake"] = "00:07:30";
        var old = JsonSerializer.Deserialize<Release>(json.ToJsonString(), Options)!;
        var resumed = old.Resume(People.Alice, serviceHalted: false, sut.Now).Next;

        Assert.Equal(TimeSpan.FromSeconds(450), old.RemainingValidation);
        Assert.Null(old.RemainingBake);
        Assert.Equal(ReleaseState.Validating, resumed.State);
        Assert.Equal(sut.Now + TimeSpan.FromSeconds(450), resumed.ValidationEndsAt);
    }

    [Fact]
    public void Serialize_APauseDuringABake_KeepsTheBakeLeft()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(4));
        sut.Do((r, now) => r.Pause(People.Alice, now));

        var back = JsonSerializer.Deserialize<Release>(JsonSerializer.Serialize(sut.Release, Options), Options)!;

        Assert.Equal(TimeSpan.FromMinutes(6), back.RemainingBake);
        Assert.Null(back.RemainingValidation);
    }

    [Fact]
    public void Serialize_BreachKeysAndEnvironments_KeepTheirStoredStrings()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), TimeSpan.FromMinutes(15), now));
        sut.Do((r, now) => r.Decide(People.Olga, DecisionChoice.Continue, now));
        sut.Do((r, now) => r.BeginRollback("customer reports", People.Olga.Name, [], now));

        var json = JsonNode.Parse(JsonSerializer.Serialize(sut.Release, Options))!.AsObject();
        var back = JsonSerializer.Deserialize<Release>(json.ToJsonString(), Options)!;

        Assert.Equal("user_feedback@Early adopters 25 %", Assert.Single(json["acknowledgedBreaches"]!.AsArray())!.GetValue<string>());
        Assert.Equal("production", json["pendingDeployment"]!["environment"]!.GetValue<string>());
        Assert.Equal([new BreachKey(Metrics.UserFeedback, "Early adopters 25 %")], back.AcknowledgedBreaches);
        Assert.Equal(new DeploymentIntent(DeploymentEnvironment.Production, 0, IsRollback: true), back.PendingDeployment);
    }

    [Theory]
    [InlineData("{\"environment\":\"staging\",\"percent\":100,\"isRollback\":false}", DeploymentEnvironment.Staging)]
    [InlineData("{\"environment\":\"production\",\"percent\":100,\"isRollback\":false}", DeploymentEnvironment.Production)]
    public void Deserialize_AStoredIntent_ReadsItsEnvironment(string json, DeploymentEnvironment expected)
    {
        var intent = JsonSerializer.Deserialize<DeploymentIntent>(json, Options)!;

        Assert.Equal(expected, intent.Environment);
        Assert.Equal(json, JsonSerializer.Serialize(intent, Options));
    }
}
