using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ShipBot.IntegrationTests.Console;

/// <summary>
/// Issue 11, one test per bug found on a bad day: each replays the exact sequence over the console
/// API (a real host over Kestrel, real Quartz timers) and asserts the lifecycle was not driven past
/// its own gates. Clicks send the action as the page does: its id, value and basis, no request id.
/// </summary>
public sealed class LifecycleSafetyRegressionTests
{
    private static readonly string[] BlockingItems =
        ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // ---------------------------------------------------------------- bug 1: a double click promotes twice

    [Fact]
    public async Task PromoteNow_ClickedTwiceOnTheSameCard_PromotesOnce()
    {
        // Long bakes: nothing moves by itself while bob clicks.
        await using var host = await ShipBotHost.StartAsync(Bakes("00:01:00", "00:01:00", "00:01:00", "00:01:00"));
        await ApprovedAsync(host, "demo@1.0.0");
        var card = await CardWithAsync(host, "demo@1.0.0", a => Label(a) == "Promote now");
        var promote = ActionOf(card, a => Label(a) == "Promote now");

        var first = await ClickAsync(host, "bob", card, promote);
        Assert.Equal(200, first.Status);
        await WaitForAuditAsync(host, "demo@1.0.0", "production at 25 %:"); // the Early adopters deployment is applied: a second promotion would now go through

        var second = await ClickAsync(host, "bob", card, promote);

        Assert.Equal(200, second.Status);
        var release = await host.ReleaseAsync("demo@1.0.0");
        Assert.Equal("EarlyAdopters", (string?)release["state"]);
        Assert.Single(Audit(release), a => a.Detail.Contains("promoted to Early adopters 25 %", StringComparison.Ordinal));
        Assert.DoesNotContain(Audit(release), a => a.Detail.Contains("promoted to GA", StringComparison.Ordinal));
        AssertAnsweredOnceOrOutOfDate(second.Body, "Early adopters 25 %");
    }

    [Fact]
    public async Task ApprovePromotion_ClickedTwiceOnANeedsApprovalStage_PromotesOneStageOnly()
    {
        var settings = Bakes("00:00:01", "00:00:01", "00:01:00", "00:01:00");
        settings["ShipBot:Services:demo:Stages:1:NeedsApproval"] = "true";
        await using var host = await ShipBotHost.StartAsync(settings);
        await ApprovedAsync(host, "demo@1.0.0");
        var card = await CardWithAsync(host, "demo@1.0.0", a => Label(a) == "Approve promotion");
        var approve = ActionOf(card, a => Label(a) == "Approve promotion");

        Assert.Equal(200, (await ClickAsync(host, "bob", card, approve)).Status);
        await WaitForAuditAsync(host, "demo@1.0.0", "production at 50 %:");
        var second = await ClickAsync(host, "bob", card, approve);

        var release = await host.ReleaseAsync("demo@1.0.0");
        Assert.Equal("GeneralAvailability", (string?)release["state"]);
        Assert.DoesNotContain(Audit(release), a => a.Detail.Contains("promoted to Full", StringComparison.Ordinal));
        AssertAnsweredOnceOrOutOfDate(second.Body, "GA 50 %");
    }

    // ---------------------------------------------------------------- bug 2: a stale consult click answers a breach nobody saw

    [Fact]
    public async Task Continue_ClickedAgainAfterANewBreachAppeared_DoesNotAnswerTheNewDecision()
    {
        await using var host = await ShipBotHost.StartAsync(Bakes("00:00:01", "00:00:02", "00:01:00", "00:01:00"));
        await ApprovedAsync(host, "demo@1.0.0");
        await host.SayAsync("carol", "/ship simulate demo user_feedback 2");
        var decision = await DecisionCardAsync(host, "demo@1.0.0", "Early adopters 25 %");
        var cont = ActionOf(decision, a => a["id"]!.GetValue<string>() == "decide-continue");

        Assert.Equal(200, (await ClickAsync(host, "carol", decision, cont)).Status);

        // Continuing lets the release promote; user feedback is still low at GA: a new breach, a new decision.
        await WaitForAsync(host, "demo@1.0.0", r => (string?)r["decision"]?["stage"] == "GA 50 %", "a decision about the breach at GA 50 %");
        var second = await ClickAsync(host, "carol", decision, cont);

        var release = await host.ReleaseAsync("demo@1.0.0");
        Assert.Equal("GA 50 %", (string?)release["decision"]?["stage"]);
        Assert.Single(Audit(release), a => a.Action == "Decided");
        Assert.True(Text(second.Body).Contains("out of date", StringComparison.Ordinal) || Text(second.Body).Contains("Continuing", StringComparison.Ordinal), Text(second.Body));
    }

    // ---------------------------------------------------------------- bug 3: a pending decision outlives its release and reopens it

    [Fact]
    public async Task DecisionPendingDuringValidation_HandoverWaitsAndAFinishedReleaseNeverReopens()
    {
        await using var host = await ShipBotHost.StartAsync();
        await ApprovedAsync(host, "demo@1.0.0");
        await host.WaitForStateAsync("demo@1.0.0", "Validating");
        await host.SayAsync("carol", "/ship simulate demo user_feedback 2");
        var decision = await DecisionCardAsync(host, "demo@1.0.0", "Validating");
        var hold = ActionOf(decision, a => a["id"]!.GetValue<string>() == "decide-hold");
        var cont = ActionOf(decision, a => a["id"]!.GetValue<string>() == "decide-continue");

        // The metric recovers and a human verifies user-facing functionality: the question put to on-call still stands.
        await host.SayAsync("carol", "/ship simulate demo reset");
        var card = await CardWithAsync(host, "demo@1.0.0", a => (string?)a["value"] == "check demo@1.0.0 ufv");
        await ClickAsync(host, "alice", card, ActionOf(card, a => (string?)a["value"] == "check demo@1.0.0 ufv"));
        var waiting = await CardWithTextAsync(host, "demo@1.0.0", "the handover waits for on-call's decision");
        Assert.Equal("Validating", await host.StateAsync("demo@1.0.0"));
        Assert.Contains(ShipBotHost.Actions(waiting), a => a["id"]!.GetValue<string>() == "decide-continue");

        Assert.Equal(200, (await ClickAsync(host, "carol", decision, cont)).Status);
        await host.WaitForStateAsync("demo@1.0.0", "Completed");

        // Hold on the old decision card, then a rollback: a finished release never changes again.
        var held = await ClickAsync(host, "carol", decision, hold);
        var rollback = await host.SayAsync("carol", "/ship rollback demo@1.0.0 something looks off");

        Assert.Contains("out of date", Text(held.Body), StringComparison.Ordinal);
        Assert.Contains("Cannot roll back demo@1.0.0", Text(rollback), StringComparison.Ordinal);
        var release = await host.ReleaseAsync("demo@1.0.0");
        Assert.Equal("Completed", (string?)release["state"]);
        Assert.DoesNotContain(Audit(release), a => a.Action is "Paused" or "RollbackStarted");
        var final = await CardWithAsync(host, "demo@1.0.0", _ => true, allowNone: true);
        Assert.DoesNotContain(ShipBotHost.Actions(final), a => a["id"]!.GetValue<string>().StartsWith("decide-", StringComparison.Ordinal));
        Assert.DoesNotContain("Decision", ShipBotHost.Text(final["card"]), StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- bug 4: "Hold here" does not hold

    [Fact]
    public async Task HoldHere_AfterAConsultAtCanary_NoNewConsultForThatBreachAndNoRollbackByTimeout()
    {
        var settings = Bakes("00:01:00", "00:01:00", "00:01:00", "00:01:00");
        settings["ShipBot:Services:demo:Thresholds:Actions:error_rate"] = "Consult";
        settings["ShipBot:Services:demo:ConsultTimeout"] = "00:00:03";
        await using var host = await ShipBotHost.StartAsync(settings);
        await ApprovedAsync(host, "demo@1.0.0");
        await CardWithAsync(host, "demo@1.0.0", a => Label(a) == "Promote now");
        await host.SayAsync("carol", "/ship simulate demo error_rate 0.2");
        await WaitForAsync(host, "demo@1.0.0", r => r["decision"] is JsonObject, "a consult about the error rate");

        var held = await host.SayAsync("carol", "/ship decide demo@1.0.0 hold");
        Assert.Contains("Holding", Text(held), StringComparison.Ordinal);

        // Several evaluations later — past the 3 s consult timeout — the breach is still there and still held.
        var heldAt = DateTimeOffset.Parse((string)(await host.ReleaseAsync("demo@1.0.0"))["health"]!["at"]!, System.Globalization.CultureInfo.InvariantCulture);
        var release = await WaitForAsync(host, "demo@1.0.0",
            r => r["health"]?["at"] is JsonNode at && DateTimeOffset.Parse((string)at!, System.Globalization.CultureInfo.InvariantCulture) > heldAt + TimeSpan.FromSeconds(5)
                || (string?)r["state"] is "RollingBack" or "RolledBack",
            "five more health evaluations");
        Assert.Equal("Canary", (string?)release["state"]);
        Assert.Null(release["decision"]);
        Assert.Single(release["heldDecisions"]!.AsArray());
        Assert.Single(Audit(release), a => a.Action == "ConsultRequested");
        Assert.DoesNotContain(Audit(release), a => a.Action == "RollbackStarted");
    }

    // ---------------------------------------------------------------- bug 5: a forgotten reason freezes every service

    [Fact]
    public async Task Halt_WithoutReasonOrWithAnUnknownService_IsAnErrorAndFreezesNothing()
    {
        await using var host = await ShipBotHost.StartAsync();

        var noReason = await host.SayAsync("carol", "/ship halt demo");
        var unknown = await host.SayAsync("carol", "/ship halt payments");
        var unknownByNobody = await host.SayAsync("alice", "/ship halt payments outage in EU");

        Assert.Contains("needs a reason", Text(noReason), StringComparison.Ordinal);
        Assert.Contains("Unknown service 'payments'", Text(unknown), StringComparison.Ordinal);
        Assert.Contains("Configured services: demo", Text(unknown), StringComparison.Ordinal);
        Assert.Contains("Unknown service 'payments'", Text(unknownByNobody), StringComparison.Ordinal); // before any role check
        Assert.All(new[] { noReason, unknown, unknownByNobody }, r => Assert.Equal("ephemeral", (string?)r["visibility"]));
        var started = await host.SayAsync("alice", "/ship start demo 1.0.0");
        Assert.Contains("Started demo@1.0.0", Text(started), StringComparison.Ordinal);
        Assert.DoesNotContain("halted", Text(await host.SayAsync("bob", "/ship list")), StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- bug 6: rolling back an old release while a newer one rolls out

    [Fact]
    public async Task Rollback_OfAnOlderOperatingReleaseWhileANewerOneIsAtCanary_IsRefusedNamingTheActiveRelease()
    {
        var settings = Bakes("00:00:01", "00:00:01", "00:00:01", "00:00:01");
        foreach (var i in new[] { 0, 1, 2 })
        {
            settings[$"ShipBot:Services:demo:OutcomeCheckpoints:{i}"] = "01:00:00";
        }

        await using var host = await ShipBotHost.StartAsync(settings);
        await ApprovedAsync(host, "demo@3.0.0");
        await host.WaitForStateAsync("demo@3.0.0", "Validating");
        var card = await CardWithAsync(host, "demo@3.0.0", a => (string?)a["value"] == "check demo@3.0.0 ufv");
        await ClickAsync(host, "alice", card, ActionOf(card, a => (string?)a["value"] == "check demo@3.0.0 ufv"));
        await host.WaitForStateAsync("demo@3.0.0", "Operating");
        await ApprovedAsync(host, "demo@3.1.0");
        await host.WaitForStateAsync("demo@3.1.0", "Canary");

        var refused = await host.SayAsync("carol", "/ship rollback demo@3.0.0 revert to be safe");

        Assert.Contains("not demo's active release", Text(refused), StringComparison.Ordinal);
        Assert.Contains("demo@3.1.0", Text(refused), StringComparison.Ordinal);
        var old = await host.ReleaseAsync("demo@3.0.0");
        Assert.Equal("Operating", (string?)old["state"]);
        Assert.DoesNotContain(Audit(old), a => a.Action == "deployment call" && a.Detail.Contains("rollback", StringComparison.Ordinal));
    }

    // ---------------------------------------------------------------- bug 7: duplicates ignore what was typed; request ids are not scoped

    [Fact]
    public async Task Waive_ClickedWithoutReasonThenWithOne_TheSecondClickWaives()
    {
        await using var host = await ShipBotHost.StartAsync();
        await host.SayAsync("alice", "/ship start demo 1.0.0");
        var card = await CardWithAsync(host, "demo@1.0.0", a => (string?)a["value"] == "waive demo@1.0.0 qa");
        var waive = ActionOf(card, a => (string?)a["value"] == "waive demo@1.0.0 qa");

        var bare = await ClickAsync(host, "bob", card, waive);
        var reasoned = await ClickAsync(host, "bob", card, waive, "covered by the canary");

        Assert.Contains("reason", Text(bare.Body), StringComparison.Ordinal);
        var release = await host.ReleaseAsync("demo@1.0.0");
        Assert.Equal("waived", (string?)release["checklist"]!.AsArray().Single(i => (string?)i!["id"] == "qa")!["state"]);
        Assert.NotEqual(Text(bare.Body), Text(reasoned.Body));
    }

    [Fact]
    public async Task RequestId_ReusedByAnotherPerson_IsTheirOwnRequest()
    {
        await using var host = await ShipBotHost.StartAsync();

        var alice = await PostAsync(host, "alice", "/ship start demo 6.0.0", "shared-id");
        var bob = await PostAsync(host, "bob", "/ship status demo@6.0.0", "shared-id");
        var aliceAgain = await PostAsync(host, "alice", "/ship start demo 6.0.0", "shared-id");

        Assert.Contains("Started demo@6.0.0", Text(alice), StringComparison.Ordinal);
        Assert.DoesNotContain("Started", Text(bob), StringComparison.Ordinal);
        Assert.Contains("demo@6.0.0", (string?)bob["card"]?["title"] ?? string.Empty, StringComparison.Ordinal);
        Assert.Equal(Text(alice), Text(aliceAgain)); // alice's own retry still gets her first answer
    }

    // ---------------------------------------------------------------- bug 8: separation of duties stops at the contract; admins locked out

    [Fact]
    public async Task RequesterWhoIsAlsoApprover_CannotWaiveOrPromoteTheirOwnRelease_AndAnAdminCanDecideAndRollBack()
    {
        var settings = Bakes("00:01:00", "00:01:00", "00:01:00", "00:01:00");
        settings["ShipBot:Services:demo:Approvers:1"] = "alice";
        settings["ShipBot:Services:demo:Thresholds:Actions:error_rate"] = "Consult";
        await using var host = await ShipBotHost.StartAsync(settings);
        await host.SayAsync("alice", "/ship start demo 1.0.0");
        var draft = await CardWithAsync(host, "demo@1.0.0", a => (string?)a["value"] == "waive demo@1.0.0 qa");

        var waived = await ClickAsync(host, "alice", draft, ActionOf(draft, a => (string?)a["value"] == "waive demo@1.0.0 qa"), "we know it works");
        Assert.Contains("separation of duties", Text(waived.Body), StringComparison.Ordinal);

        await host.SayAsync("alice", $"/ship check demo@1.0.0 {string.Join(' ', BlockingItems)}");
        await host.SayAsync("bob", "/ship approve demo@1.0.0");
        var canary = await CardWithAsync(host, "demo@1.0.0", a => Label(a) == "Promote now");
        var promoted = await ClickAsync(host, "alice", canary, ActionOf(canary, a => Label(a) == "Promote now"));
        var typed = await host.SayAsync("alice", "/ship promote demo@1.0.0");

        Assert.Contains("separation of duties", Text(promoted.Body), StringComparison.Ordinal);
        Assert.Contains("separation of duties", Text(typed), StringComparison.Ordinal);
        Assert.Equal("Canary", await host.StateAsync("demo@1.0.0"));
        var afterClicks = await host.ReleaseAsync("demo@1.0.0");
        Assert.NotEqual("waived", (string?)afterClicks["checklist"]!.AsArray().Single(i => (string?)i!["id"] == "qa")!["state"]);
        Assert.DoesNotContain(Audit(afterClicks), a => a.Detail.Contains("promoted", StringComparison.Ordinal));

        // dave is an admin only: in an emergency he may answer a consult and roll back.
        await host.SayAsync("carol", "/ship simulate demo error_rate 0.2");
        await WaitForAsync(host, "demo@1.0.0", r => r["decision"] is JsonObject, "a consult");
        var decided = await host.SayAsync("dave", "/ship decide demo@1.0.0 hold");
        var rolledBack = await host.SayAsync("dave", "/ship rollback demo@1.0.0 on-call unreachable, error rate 20 %");

        Assert.Contains("Holding", Text(decided), StringComparison.Ordinal);
        Assert.Contains("Rolling back", Text(rolledBack), StringComparison.Ordinal);
        await host.WaitForStateAsync("demo@1.0.0", "RolledBack");
    }

    // ---------------------------------------------------------------- bug 9: outcome reports contradict the contract

    [Fact]
    public async Task OutcomeReport_P99AboveTheContractTargetButBelowTheRollbackLimit_IsAMiss()
    {
        await using var host = await ShipBotHost.StartAsync();
        await host.SayAsync("carol", "/ship simulate demo latency_p99_ms 450");
        await ApprovedAsync(host, "demo@1.0.0");
        await host.WaitForStateAsync("demo@1.0.0", "Validating");
        var card = await CardWithAsync(host, "demo@1.0.0", a => (string?)a["value"] == "check demo@1.0.0 ufv");
        await ClickAsync(host, "alice", card, ActionOf(card, a => (string?)a["value"] == "check demo@1.0.0 ufv"));

        var release = await WaitForAsync(host, "demo@1.0.0", r => r["outcomes"]!.AsArray().Count > 0, "the first outcome report");

        var contract = Text(await host.SayAsync("bob", "/ship contract demo@1.0.0"));
        Assert.Contains("p99 latency ≤ 300 ms", contract, StringComparison.Ordinal);
        var p99 = release["outcomes"]![0]!["lines"]!.AsArray().Select(l => (string)l!).Single(l => l.StartsWith("p99 latency", StringComparison.Ordinal));
        Assert.Contains("450 ms", p99, StringComparison.Ordinal);
        Assert.Contains("≤ 300 ms", p99, StringComparison.Ordinal);
        Assert.Contains("✗", p99, StringComparison.Ordinal);
        Assert.DoesNotContain("✓", p99, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- bug 10: hotfix labels

    [Fact]
    public async Task Hotfix_RateLimitIsAMandatorySecurityItemAndCustomerNotesNeverRepeatTheIncident()
    {
        await using var host = await ShipBotHost.StartAsync();
        var started = await host.SayAsync("alice", "/ship hotfix demo 1.0.1 p0 payment outage in EU");
        Assert.Contains("Started demo@1.0.1", Text(started), StringComparison.Ordinal);

        var card = await CardWithAsync(host, "demo@1.0.1", a => (string?)a["value"] == "check demo@1.0.1 ratelimit");
        var row = card["card"]!["blocks"]!.AsArray().Where(b => (string?)b!["type"] == "checklist")
            .SelectMany(b => b!["groups"]!.AsArray()).SelectMany(g => g!["items"]!.AsArray()).Single(i => (string?)i!["id"] == "ratelimit")!;
        var refused = await host.SayAsync("bob", "/ship waive demo@1.0.1 ratelimit internal service only");
        var notes = await host.SayAsync("bob", "/ship notes demo@1.0.1");

        Assert.False((bool)row["floor"]!);
        Assert.Contains("mandatory security item", (string?)row["detail"], StringComparison.Ordinal);
        Assert.Contains("mandatory security item", Text(refused), StringComparison.Ordinal);
        Assert.DoesNotContain("floor", Text(refused), StringComparison.Ordinal);
        Assert.DoesNotContain("payment outage", Text(notes), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("payment outage", (string?)(await host.ReleaseAsync("demo@1.0.1"))["checklist"]!.ToJsonString() ?? string.Empty, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- helpers

    private sealed record AuditLine(string Action, string Detail);

    /// <summary>FastSettings with the four stage bakes replaced.</summary>
    internal static Dictionary<string, string?> Bakes(string canary, string earlyAdopters, string ga, string full) => new()
    {
        ["ShipBot:Services:demo:Stages:0:Bake"] = canary,
        ["ShipBot:Services:demo:Stages:1:Bake"] = earlyAdopters,
        ["ShipBot:Services:demo:Stages:2:Bake"] = ga,
        ["ShipBot:Services:demo:Stages:3:Bake"] = full,
    };

    /// <summary>Alice starts the release and ticks every item; bob approves.</summary>
    internal static async Task ApprovedAsync(ShipBotHost host, string release)
    {
        var at = release.IndexOf('@', StringComparison.Ordinal);
        Assert.Contains($"Started {release}", Text(await host.SayAsync("alice", $"/ship start {release[..at]} {release[(at + 1)..]}")), StringComparison.Ordinal);
        await host.SayAsync("alice", $"/ship check {release} {string.Join(' ', BlockingItems)}");
        Assert.Contains("goes to staging", Text(await host.SayAsync("bob", $"/ship approve {release}")), StringComparison.Ordinal);
    }

    /// <summary>Clicks as the console page does: the action's id, value and basis; no request id.</summary>
    internal static async Task<(int Status, JsonObject Body)> ClickAsync(ShipBotHost host, string user, JsonObject message, JsonObject action, string? input = null)
    {
        using var response = await host.Http.PostAsJsonAsync("/api/console/actions", new
        {
            user,
            messageId = (string?)message["id"],
            actionId = (string?)action["id"],
            value = (string?)action["value"],
            input,
            basis = (string?)action["basis"],
        });
        return ((int)response.StatusCode, await response.Content.ReadFromJsonAsync<JsonObject>() ?? []);
    }

    private static async Task<JsonObject> PostAsync(ShipBotHost host, string user, string text, string requestId)
    {
        using var response = await host.Http.PostAsJsonAsync("/api/console/messages", new { user, channel = "releases", text, requestId });
        return await response.Content.ReadFromJsonAsync<JsonObject>() ?? [];
    }

    internal static string Label(JsonObject action) => (string?)action["label"] ?? string.Empty;

    internal static string Text(JsonObject body) => (string?)body["text"] ?? (string?)body["error"] ?? string.Empty;

    internal static JsonObject ActionOf(JsonObject message, Func<JsonObject, bool> match) =>
        ShipBotHost.Actions(message).FirstOrDefault(match)
        ?? throw new InvalidOperationException($"No such action on {(string?)message["card"]?["title"]}: {string.Join(", ", ShipBotHost.Actions(message).Select(a => $"{a["id"]}={a["value"]}"))}");

    /// <summary>Waits for the release card of <paramref name="release"/> to offer an action matching <paramref name="match"/>.</summary>
    internal static async Task<JsonObject> CardWithAsync(ShipBotHost host, string release, Func<JsonObject, bool> match, bool allowNone = false)
    {
        var deadline = DateTime.UtcNow + Patience;
        JsonObject? card;
        do
        {
            card = (await host.MessagesAsync()).OfType<JsonObject>()
                .FirstOrDefault(m => ((string?)m["card"]?["title"])?.Contains($" {release} —", StringComparison.Ordinal) == true);
            if (card is not null && (allowNone || ShipBotHost.Actions(card).Any(match)))
            {
                return card;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"The {release} card never offered the action. Last: {(card is null ? "no card" : ShipBotHost.Text(card["card"]))}");
    }

    private static async Task<JsonObject> CardWithTextAsync(ShipBotHost host, string release, string text)
    {
        var deadline = DateTime.UtcNow + Patience;
        JsonObject? card;
        do
        {
            card = await CardWithAsync(host, release, _ => true, allowNone: true);
            if (ShipBotHost.Text(card["card"]).Contains(text, StringComparison.Ordinal))
            {
                return card;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"The {release} card never said '{text}'. Last: {ShipBotHost.Text(card["card"])}; state {await host.StateAsync(release)}");
    }

    /// <summary>Waits for the decision card of <paramref name="release"/> at <paramref name="stage"/> with its buttons.</summary>
    internal static async Task<JsonObject> DecisionCardAsync(ShipBotHost host, string release, string stage)
    {
        var deadline = DateTime.UtcNow + Patience;
        do
        {
            var card = (await host.MessagesAsync()).OfType<JsonObject>().LastOrDefault(m =>
                ((string?)m["card"]?["title"])?.StartsWith($"🟠 {release} at {stage}:", StringComparison.Ordinal) == true
                && ShipBotHost.Actions(m).Any(a => (string?)a["id"] == "decide-continue"));
            if (card is not null)
            {
                return card;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"No decision card for {release} at {stage}; state {await host.StateAsync(release)}.");
    }

    internal static async Task<JsonObject> WaitForAsync(ShipBotHost host, string release, Func<JsonObject, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        JsonObject current;
        do
        {
            current = await host.ReleaseAsync(release);
            if (condition(current))
            {
                return current;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"{release}: never saw {what}; it is {current["state"]}. Audit:\n{string.Join("\n", Audit(current).Select(a => $"{a.Action}: {a.Detail}"))}");
    }

    private static Task<JsonObject> WaitForAuditAsync(ShipBotHost host, string release, string detailStart) =>
        WaitForAsync(host, release, r => Audit(r).Any(a => a.Detail.StartsWith(detailStart, StringComparison.Ordinal)), $"an audit line starting '{detailStart}'");

    private static List<AuditLine> Audit(JsonObject release) =>
        release["audit"]!.AsArray().Select(a => new AuditLine((string)a!["action"]!, (string)a["detail"]!)).ToList();

    /// <summary>The second click changed nothing: it got the first click's answer (a double click), or was told what changed.</summary>
    private static void AssertAnsweredOnceOrOutOfDate(JsonObject body, string now)
    {
        var text = Text(body);
        var outOfDate = text.Contains("out of date", StringComparison.Ordinal) && text.Contains(now, StringComparison.Ordinal);
        var firstAnswer = body["silent"]?.GetValue<bool>() == true && text.Contains($"promoted to {now}", StringComparison.Ordinal);
        Assert.True(outOfDate || firstAnswer, $"the second click's reply: {text}");
    }
}
