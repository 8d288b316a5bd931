using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ShipBot.IntegrationTests.Console;

/// <summary>The whole lifecycle through the console's JSON API, on a real host with real Quartz timers.</summary>
public sealed class ConsoleApiEndToEndTests
{
    private const string Release = "demo@1.0.0";

    private static readonly string[] BlockingItems =
        ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    [Fact]
    public async Task Lifecycle_HappyPath_GoesFromStartToCompletedWithOneCardUpdatedInPlace()
    {
        await using var host = await ShipBotHost.StartAsync();

        var started = await host.SayAsync("alice", $"/ship start demo 1.0.0 faster checkout; new basket");
        Assert.Contains("Started demo@1.0.0", started["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var card = await host.CardMessageAsync($"{Release} —");
        Assert.NotNull(card);
        var cardId = card["id"]!.GetValue<string>();
        Assert.Contains("Draft", card["card"]!["title"]!.GetValue<string>(), StringComparison.Ordinal);

        // The requester confirms every checklist item by clicking its button on the card.
        foreach (var item in BlockingItems)
        {
            var current = (await host.MessagesAsync()).OfType<JsonObject>().Single(m => m["id"]!.GetValue<string>() == cardId);
            var confirm = ShipBotHost.Actions(current).Single(a => a["value"]!.GetValue<string>() == $"check {Release} {item}");
            var (status, _) = await host.ClickAsync("alice", cardId, confirm["id"]!.GetValue<string>(), confirm["value"]!.GetValue<string>());
            Assert.Equal(200, status);
        }

        Assert.Equal("AwaitingApproval", await host.StateAsync(Release));
        var awaiting = (await host.MessagesAsync()).OfType<JsonObject>().Single(m => m["id"]!.GetValue<string>() == cardId);
        var approve = ShipBotHost.Actions(awaiting).Single(a => a["id"]!.GetValue<string>() == "approve");
        var (approveStatus, approved) = await host.ClickAsync("bob", cardId, "approve", approve["value"]!.GetValue<string>());
        Assert.Equal(200, approveStatus);
        Assert.Contains("goes to staging", approved["text"]!.GetValue<string>(), StringComparison.Ordinal);

        var validating = await host.WaitForStateAsync(Release, "Validating");
        var actions = validating["audit"]!.AsArray().Select(a => a!["detail"]!.GetValue<string>()).ToList();
        var order = new[] { "enters the staging gate", "deployed to staging", "smoke checks passed", "starts Canary 5 %", "promoted to Early adopters 25 %", "promoted to GA 50 %", "promoted to Full 100 %", "post-deployment validation" };
        var positions = order.Select(o => actions.FindIndex(a => a.Contains(o, StringComparison.Ordinal))).ToList();
        Assert.DoesNotContain(-1, positions);
        Assert.Equal(positions.Order(), positions);
        foreach (var percent in new[] { 5, 25, 50, 100 })
        {
            Assert.Single(actions, a => a.StartsWith($"production at {percent} %:", StringComparison.Ordinal));
        }

        // Validation needs a human: alice ticks "user-facing functionality verified" on the card.
        var atValidation = (await host.MessagesAsync()).OfType<JsonObject>().Single(m => m["id"]!.GetValue<string>() == cardId);
        var verify = ShipBotHost.Actions(atValidation).Single(a => a["value"]!.GetValue<string>() == $"check {Release} ufv");
        await host.ClickAsync("alice", cardId, "check", verify["value"]!.GetValue<string>());

        var operating = await host.WaitForStateAsync(Release, "Operating");
        Assert.All(operating["handoff"]!.AsArray(), h => Assert.True(h!["met"]!.GetValue<bool>()));
        await host.WaitForStateAsync(Release, "Completed");
        var final = (await host.MessagesAsync()).OfType<JsonObject>().Single(m => m["id"]!.GetValue<string>() == cardId);
        Assert.True(final["version"]!.GetValue<long>() > 10, "the release card is one message updated on every transition");
        var progress = final["card"]!["blocks"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "progress")!["stages"]!.AsArray();
        Assert.All(progress, s => Assert.Equal("done", s!["status"]!.GetValue<string>()));
        Assert.Single((await host.MessagesAsync()).OfType<JsonObject>(), m => m["card"]?["title"]?.GetValue<string>().Contains($"— ", StringComparison.Ordinal) == true
            && m["card"]!["title"]!.GetValue<string>().Contains(Release, StringComparison.Ordinal) && m["card"]!["title"]!.GetValue<string>().StartsWith('✅'));
        var outcome = await host.SayAsync("carol", $"/ship outcome {Release}");
        Assert.Contains("actual", outcome["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Breach_DuringCanary_RollsBackHaltsAndAlertsOnCallWithTheNumbers()
    {
        await using var host = await ShipBotHost.StartAsync();
        await ApprovedReleaseAsync(host);
        await host.WaitForStateAsync(Release, "Canary");

        var simulated = await host.SayAsync("carol", "/ship simulate demo error_rate 0.2");
        Assert.Equal("inChannel", simulated["visibility"]!.GetValue<string>());
        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack");

        Assert.Equal("Canary 5 %", rolledBack["rollback"]!["stage"]!.GetValue<string>());
        var alert = await host.CardMessageAsync("Rolled back demo@1.0.0");
        Assert.NotNull(alert);
        var alertText = ShipBotHost.Text(alert["card"]);
        Assert.Contains("@carol", alert["card"]!["title"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("carol", alert["card"]!["mentions"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Contains("error rate 20 %", alertText, StringComparison.Ordinal);
        Assert.Contains("baseline 0.3 %", alertText, StringComparison.Ordinal);
        Assert.Contains("+ 1 pt", alertText, StringComparison.Ordinal);
        Assert.Contains("halted", alertText, StringComparison.Ordinal);

        var refused = await host.SayAsync("alice", "/ship start demo 1.0.1");
        Assert.Equal("ephemeral", refused["visibility"]!.GetValue<string>());
        Assert.Contains("halted", refused["text"]!.GetValue<string>(), StringComparison.Ordinal);

        var unhalted = await host.SayAsync("carol", "/ship unhalt demo error budget fixed in 1.0.1");
        Assert.Contains("unhalted", unhalted["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var next = await host.SayAsync("alice", "/ship start demo 1.0.1");
        Assert.Contains("Started demo@1.0.1", next["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Guards_SeparationOfDutiesOneRolloutPerServiceAndDoubleClicks_ChangeNothingTwice()
    {
        await using var host = await ShipBotHost.StartAsync();
        await host.SayAsync("alice", "/ship start demo 1.0.0");
        await host.SayAsync("alice", $"/ship check {Release} {string.Join(' ', BlockingItems)}");

        var own = await host.SayAsync("alice", $"/ship approve {Release}");
        Assert.Equal("ephemeral", own["visibility"]!.GetValue<string>());
        Assert.Contains("separation of duties", own["text"]!.GetValue<string>(), StringComparison.Ordinal);

        var second = await host.SayAsync("alice", "/ship start demo 2.0.0");
        Assert.Contains("demo@1.0.0", second["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("already has an active release", second["text"]!.GetValue<string>(), StringComparison.Ordinal);

        // Four clicks of the same button on the same card at once: with and without (different) request ids, they are
        // one click — deduplicated on what was clicked, not on a per-click id — and make one approval.
        var card = await host.CardMessageAsync($"{Release} —");
        var cardId = card!["id"]!.GetValue<string>();
        var approve = ShipBotHost.Actions(card).Single(a => a["id"]!.GetValue<string>() == "approve");
        var value = $"approve {Release}";
        var clicks = await Task.WhenAll(
            host.ClickAsync("bob", cardId, "approve", value),
            host.ClickAsync("bob", cardId, "approve", value),
            host.ClickAsync("bob", cardId, "approve", value, requestId: "r-1"),
            host.ClickAsync("bob", cardId, "approve", value, requestId: "r-2"));
        Assert.All(clicks, c => Assert.Equal(200, c.Status));
        var release = await host.ReleaseAsync(Release);
        Assert.Single(release["approvals"]!.AsArray());
        Assert.Equal(2, release["audit"]!.AsArray().Count(a => a!["action"]!.GetValue<string>() is "Approved" or "StagingStarted"));
        Assert.All(clicks, c => Assert.Matches("goes to staging|already approved by @bob", c.Body["text"]!.GetValue<string>()));

        // The same button clicked again later, as shown on the old card (with its basis), changes nothing either.
        using var again = await host.Http.PostAsJsonAsync("/api/console/actions", new { user = "bob", messageId = cardId, actionId = "approve", value, basis = (string?)approve["basis"] });
        var replay = await again.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Matches("goes to staging|out of date", replay!["text"]!.GetValue<string>());
        Assert.Single((await host.ReleaseAsync(Release))["approvals"]!.AsArray());
    }

    [Fact]
    public async Task StagingGate_SmokeChecksFail_HaltsBeforeProductionAndAlertsOnCall()
    {
        await using var host = await ShipBotHost.StartAsync();
        await host.SayAsync("carol", "/ship simulate demo smoke_fail 1");
        await ApprovedReleaseAsync(host);

        var halted = await host.WaitForStateAsync(Release, "Halted");

        Assert.Equal(-1, halted["stageIndex"]!.GetValue<int>());
        Assert.Contains("smoke checks failed", halted["haltReason"]!.GetValue<string>(), StringComparison.Ordinal);
        var alert = await host.CardMessageAsync("at the staging gate halted");
        Assert.NotNull(alert);
        Assert.Contains("carol", alert["card"]!["mentions"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.DoesNotContain(halted["audit"]!.AsArray(), a => a!["detail"]!.GetValue<string>().StartsWith("production", StringComparison.Ordinal));

        // Fixed: unhalt, resume re-runs the whole gate, and the release reaches canary.
        await host.SayAsync("carol", "/ship simulate demo reset");
        await host.SayAsync("carol", "/ship unhalt demo smoke tests fixed");
        var resumed = await host.SayAsync("alice", $"/ship resume {Release}");
        Assert.Contains("Resumed", resumed["text"]!.GetValue<string>(), StringComparison.Ordinal);
        await host.WaitForStateAsync(Release, "Canary");
    }

    [Fact]
    public async Task BadInput_GetsClearErrors()
    {
        await using var host = await ShipBotHost.StartAsync();

        var unknown = await host.SayAsync("alice", "/ship deploy demo 1.0");
        Assert.Equal("ephemeral", unknown["visibility"]!.GetValue<string>());
        Assert.Contains("I don't know the verb 'deploy'", unknown["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("/ship help", unknown["text"]!.GetValue<string>(), StringComparison.Ordinal);

        var malformed = await host.SayAsync("alice", "/ship start demo");
        Assert.Contains("Usage: `/ship start <service> <version>", malformed["text"]!.GetValue<string>(), StringComparison.Ordinal);

        var service = await host.SayAsync("alice", "/ship start nosuch 1.0.0");
        Assert.Contains("Configured services: demo", service["text"]!.GetValue<string>(), StringComparison.Ordinal);

        using var badUser = await host.Http.PostAsJsonAsync("/api/console/messages", new { user = "mallory", channel = "releases", text = "/ship list" });
        Assert.Equal(HttpStatusCode.BadRequest, badUser.StatusCode);
        Assert.Contains("Unknown user", await badUser.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var garbage = await host.Http.PostAsync("/api/console/messages", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.Contains("malformed", await garbage.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var missing = await host.Http.GetAsync("/api/releases/demo@9.9.9");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var malformedName = await host.Http.GetAsync("/api/releases/not-a-release");
        Assert.Equal(HttpStatusCode.BadRequest, malformedName.StatusCode);

        var (status, body) = await host.ClickAsync("bob", "m9999", "approve", "approve demo@1.0.0");
        Assert.Equal(400, status);
        Assert.Contains("no card", body["error"]!.GetValue<string>(), StringComparison.Ordinal);

        Assert.Equal("ok", await host.Http.GetStringAsync("/healthz"));
        var ready = await host.Http.GetFromJsonAsync<JsonObject>("/readyz");
        Assert.Equal("ready", ready!["status"]!.GetValue<string>());
    }

    private static async Task ApprovedReleaseAsync(ShipBotHost host)
    {
        await host.SayAsync("alice", "/ship start demo 1.0.0");
        await host.SayAsync("alice", $"/ship check {Release} {string.Join(' ', BlockingItems)}");
        var approved = await host.SayAsync("bob", $"/ship approve {Release}");
        Assert.Contains("goes to staging", approved["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
