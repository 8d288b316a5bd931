using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ShipBot.Core.Ports;
using static ShipBot.IntegrationTests.Alerting.AlertmanagerScenario;

namespace ShipBot.IntegrationTests.Alerting;

/// <summary>
/// <c>POST /hooks/alertmanager</c> on a real host: Alertmanager's documented webhook payloads drive
/// (or do not drive) a rollback of a release in canary, through the same coordinator as the console.
/// </summary>
public sealed class AlertmanagerReceiverTests
{
    private const string RollbackTitle = "back demo@1.0.0"; // "Rolling back …" then "Rolled back …", one message

    [Fact]
    public async Task FiringCriticalAlert_ForTheRollingOutService_RollsBackHaltsAndAlertsOnCall()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await CanaryAsync(host);

        var (status, body, _) = await PostAsync(host, Notification());

        Assert.Equal(200, status);
        var acted = Assert.Single(body["acted"]!.AsArray())!;
        Assert.Equal("HighErrorRate", (string?)acted["alert"]);
        Assert.Equal(Release, (string?)acted["release"]);
        Assert.Equal("c6eadffa33fcdf37", (string?)acted["fingerprint"]);
        Assert.Empty(body["ignored"]!.AsArray());

        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack");
        Assert.Equal("Canary 5 %", (string?)rolledBack["rollback"]!["stage"]);
        var audit = Audit(rolledBack).ToList();
        var breach = Assert.Single(audit, a => (string?)a["action"] == "BreachDetected");
        Assert.Contains("HighErrorRate", (string)breach["detail"]!, StringComparison.Ordinal);
        Assert.Contains("critical", (string)breach["detail"]!, StringComparison.Ordinal);
        Assert.Contains(audit, a => (string?)a["action"] == "RollbackStarted");
        Assert.Contains(audit, a => (string?)a["action"] == "deployment call" && ((string)a["detail"]!).StartsWith("rollback to the previous version: simulated → ok", StringComparison.Ordinal));

        // /api/releases/{name}/audit serves the same trail.
        var auditOnly = await host.Http.GetFromJsonAsync<JsonArray>($"/api/releases/{Release}/audit");
        Assert.Contains(auditOnly!.OfType<JsonObject>(), a => (string?)a["action"] == "BreachDetected" && ((string)a["detail"]!).Contains("HighErrorRate", StringComparison.Ordinal));

        // Jidoka: the service is halted.
        var halts = await host.Services.GetRequiredService<IReleaseStore>().GetHaltsAsync();
        Assert.Contains(halts, h => h.Service == "demo");
        var refused = await host.SayAsync("alice", "/ship start demo 1.0.1");
        Assert.Contains("halted", Text(refused), StringComparison.Ordinal);

        // The alert card: rolled back, mentions on-call, names the alert and severity, offers Unhalt.
        Assert.True(await EventuallyAsync(async () => (await CardsAsync(host, "Rolled back demo@1.0.0")).Count == 1));
        var card = Assert.Single(await CardsAsync(host, RollbackTitle));
        var title = (string)card["card"]!["title"]!;
        Assert.StartsWith("🔴 Rolled back demo@1.0.0 at Canary 5 %", title, StringComparison.Ordinal);
        Assert.Contains("@carol", title, StringComparison.Ordinal);
        Assert.Contains("carol", card["card"]!["mentions"]!.AsArray().Select(m => (string)m!));
        var text = ShipBotHost.Text(card["card"]);
        Assert.Contains("HighErrorRate", text, StringComparison.Ordinal);
        Assert.Contains("critical", text, StringComparison.Ordinal);
        Assert.Contains("Alertmanager", text, StringComparison.Ordinal);
        Assert.Contains("demo error rate above 5 %", text, StringComparison.Ordinal);
        Assert.Contains("halted", text, StringComparison.Ordinal);
        var unhalt = Assert.Single(ShipBotHost.Actions(card), a => (string?)a["id"] == "unhalt");
        Assert.Equal("unhalt demo", (string?)unhalt["value"]);

        // Unhalt from the alert card, as carol (on-call).
        var (clicked, reply) = await host.ClickAsync("carol", (string)card["id"]!, "unhalt", "unhalt demo", input: "alert was a bad deploy, rolled back");
        Assert.Equal(200, clicked);
        Assert.Contains("unhalted", Text(reply), StringComparison.Ordinal);
        Assert.Empty(await host.Services.GetRequiredService<IReleaseStore>().GetHaltsAsync());
    }

    [Fact]
    public async Task RepeatedNotification_OfTheSameFiring_ActsOnce()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await CanaryAsync(host);

        var first = await PostAsync(host, Notification());
        var again = await PostAsync(host, Notification());
        var regrouped = await PostAsync(host, Notification(groupKey: "{}/{severity=\"critical\"}:{service=\"demo\"}"));

        Assert.Single(first.Body["acted"]!.AsArray());
        foreach (var (status, body, _) in new[] { again, regrouped })
        {
            Assert.Equal(200, status);
            Assert.Empty(body["acted"]!.AsArray());
            var ignored = Assert.Single(body["ignored"]!.AsArray())!;
            Assert.Contains("already acted on", (string)ignored["reason"]!, StringComparison.Ordinal);
        }

        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack");
        Assert.Single(Audit(rolledBack), a => (string?)a["action"] == "BreachDetected");
        Assert.Single(Audit(rolledBack), a => (string?)a["action"] == "RollbackStarted");
        Assert.True(await EventuallyAsync(async () => (await CardsAsync(host, "Rolled back demo@1.0.0")).Count == 1));
        Assert.Single(await CardsAsync(host, RollbackTitle));
    }

    [Fact]
    public async Task ConcurrentDeliveries_OfTheSameNotification_ActOnce()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await CanaryAsync(host);

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => PostAsync(host, Notification())));

        Assert.All(results, r => Assert.Equal(200, r.Status));
        Assert.True(results.Sum(r => r.Body["acted"]!.AsArray().Count) == 1, string.Join("\n", results.Select(r => r.Body.ToJsonString())));
        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack");
        Assert.Single(Audit(rolledBack), a => (string?)a["action"] == "RollbackStarted");
        Assert.True(await EventuallyAsync(async () => (await CardsAsync(host, "Rolled back demo@1.0.0")).Count == 1));
        Assert.Single(await CardsAsync(host, RollbackTitle));
    }

    [Fact]
    public async Task ResolvedAlert_IsAcknowledgedAndIgnored()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await CanaryAsync(host);

        var (status, body, _) = await PostAsync(host, Notification(status: "resolved"));

        Assert.Equal(200, status);
        Assert.Empty(body["acted"]!.AsArray());
        Assert.Equal("resolved", (string?)Assert.Single(body["ignored"]!.AsArray())!["reason"]);
        await AssertStillInCanaryAsync(host);
    }

    [Fact]
    public async Task WarningSeverity_IsIgnored()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await CanaryAsync(host);

        var (status, body, _) = await PostAsync(host, Notification(severity: "warning"));

        Assert.Equal(200, status);
        Assert.Empty(body["acted"]!.AsArray());
        Assert.Contains("severity 'warning'", (string)Assert.Single(body["ignored"]!.AsArray())!["reason"]!, StringComparison.Ordinal);
        await AssertStillInCanaryAsync(host);
    }

    [Fact]
    public async Task ConfiguredSeverities_ReplaceCritical()
    {
        await using var host = await ShipBotHost.StartAsync(Settings(("ShipBot:Alertmanager:Severities:0", "page")));
        await CanaryAsync(host);

        var critical = await PostAsync(host, Notification(severity: "critical"));
        var page = await PostAsync(host, Notification(severity: "page", fingerprint: "0123456789abcdef"));

        Assert.Empty(critical.Body["acted"]!.AsArray());
        Assert.Single(page.Body["acted"]!.AsArray());
        await host.WaitForStateAsync(Release, "RolledBack");
    }

    [Fact]
    public async Task AlertAboutAnotherService_IsIgnored()
    {
        await using var host = await ShipBotHost.StartAsync(Settings(
            ("ShipBot:Services:billing:Requesters:0", "alice"),
            ("ShipBot:Services:billing:Approvers:0", "bob"),
            ("ShipBot:Services:billing:OnCall:0", "carol")));
        await CanaryAsync(host);

        var unknown = await PostAsync(host, Notification(service: "checkout"));
        var idle = await PostAsync(host, Notification(service: "billing", fingerprint: "fedcba9876543210"));

        Assert.Equal(200, unknown.Status);
        Assert.Empty(unknown.Body["acted"]!.AsArray());
        Assert.Contains("is not a configured service", (string)Assert.Single(unknown.Body["ignored"]!.AsArray())!["reason"]!, StringComparison.Ordinal);
        Assert.Equal(200, idle.Status);
        Assert.Empty(idle.Body["acted"]!.AsArray());
        Assert.Contains("billing has no release with production traffic", (string)Assert.Single(idle.Body["ignored"]!.AsArray())!["reason"]!, StringComparison.Ordinal);
        await AssertStillInCanaryAsync(host);
    }

    [Fact]
    public async Task AlertAboutAnotherVersion_IsIgnored()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await CanaryAsync(host);

        var (status, body, _) = await PostAsync(host, Notification(version: "0.9.0"));

        Assert.Equal(200, status);
        Assert.Empty(body["acted"]!.AsArray());
        await AssertStillInCanaryAsync(host);
    }

    [Fact]
    public async Task AlertWithTheReleasesVersionLabel_RollsBack()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await CanaryAsync(host);

        var (_, body, _) = await PostAsync(host, Notification(version: "1.0.0"));

        Assert.Single(body["acted"]!.AsArray());
        await host.WaitForStateAsync(Release, "RolledBack");
    }

    [Fact]
    public async Task MixedNotification_ActsOnTheFiringCriticalAlertOnly()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await CanaryAsync(host);
        var payload = Notification();
        var alerts = payload["alerts"]!.AsArray();
        var resolved = Notification(status: "resolved", alertname: "HighLatency", fingerprint: "1111111111111111")["alerts"]![0]!.DeepClone();
        var warning = Notification(severity: "warning", alertname: "DiskFilling", fingerprint: "2222222222222222")["alerts"]![0]!.DeepClone();
        alerts.Insert(0, resolved);
        alerts.Insert(0, warning);

        var (status, body, _) = await PostAsync(host, payload);

        Assert.Equal(200, status);
        Assert.Equal("HighErrorRate", (string?)Assert.Single(body["acted"]!.AsArray())!["alert"]);
        Assert.Equal(2, body["ignored"]!.AsArray().Count);
        await host.WaitForStateAsync(Release, "RolledBack");
    }

    [Fact]
    public async Task GroupedNotification_TwoFiringAlertsForOneRelease_RollsItBackOnceAndAnswersInOrder()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await CanaryAsync(host);
        var payload = Notification();
        var alerts = payload["alerts"]!.AsArray();
        alerts.Add(Notification(alertname: "HighLatency", fingerprint: "3333333333333333")["alerts"]![0]!.DeepClone());
        alerts.Add(Notification(service: "search", alertname: "SearchDown", fingerprint: "4444444444444444")["alerts"]![0]!.DeepClone());

        var (status, body, _) = await PostAsync(host, payload);

        Assert.Equal(200, status);
        Assert.Equal("HighErrorRate", (string?)Assert.Single(body["acted"]!.AsArray())!["alert"]);
        var ignored = body["ignored"]!.AsArray();
        Assert.Equal(["HighLatency", "SearchDown"], ignored.Select(i => (string?)i!["alert"]));
        Assert.Contains("no release with production traffic", (string)ignored[0]!["reason"]!, StringComparison.Ordinal);
        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack");
        Assert.Single(Audit(rolledBack), a => (string?)a["action"] == "RollbackStarted");
    }

    [Fact]
    public async Task NoReleaseInProduction_FiringAlertIsIgnored()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await host.SayAsync("alice", "/ship start demo 1.0.0");

        var (status, body, _) = await PostAsync(host, Notification());

        Assert.Equal(200, status);
        Assert.Empty(body["acted"]!.AsArray());
        Assert.Contains("no release with production traffic", (string)Assert.Single(body["ignored"]!.AsArray())!["reason"]!, StringComparison.Ordinal);
        Assert.Equal("Draft", await host.StateAsync(Release));
    }

    [Fact]
    public async Task StillFiringAlert_IgnoredBeforeTheRollout_ActsOnceTheReleaseIsInCanary()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await ApproveAsync(host);

        // Alertmanager re-sends a firing alert every repeat_interval: the first delivery finds no production traffic.
        var early = await PostAsync(host, Notification());
        Assert.Empty(early.Body["acted"]!.AsArray());
        await host.WaitForStateAsync(Release, "Canary");
        await WaitForDeployedAsync(host, Release, 5);

        var repeated = await PostAsync(host, Notification());

        Assert.Single(repeated.Body["acted"]!.AsArray());
        await host.WaitForStateAsync(Release, "RolledBack");
    }

    [Fact]
    public async Task FiringAlert_WhileAPromotionsDeploymentCallIsInFlight_StillRollsBack()
    {
        await using var host = await ShipBotHost.StartAsync(Settings(
            ("ShipBot:Deployment:SimulatedLatency", "00:00:03"),
            ("ShipBot:Services:demo:Stages:0:Bake", "00:00:01"),
            ("ShipBot:Services:demo:Stages:1:Bake", "00:10:00")));
        await CanaryAsync(host);
        await host.WaitForStateAsync(Release, "EarlyAdopters");

        // Canary traffic is live while the 25 % call takes 3 s: the alert acts at once, it does not wait for the call.
        var during = await PostAsync(host, Notification());
        Assert.Single(during.Body["acted"]!.AsArray());
        await host.WaitForStateAsync(Release, "RolledBack");

        // Alertmanager's repeat acts no more.
        var repeat = await PostAsync(host, Notification());
        Assert.Empty(repeat.Body["acted"]!.AsArray());
        Assert.Contains("already acted on", (string)Assert.Single(repeat.Body["ignored"]!.AsArray())!["reason"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SameAlertFiringAgain_AfterUnhaltAndANewRelease_ActsAgain()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await CanaryAsync(host);
        await PostAsync(host, Notification());
        await host.WaitForStateAsync(Release, "RolledBack");
        await host.SayAsync("carol", "/ship unhalt demo fixed in 1.0.1");
        await CanaryAsync(host, "1.0.1");

        // A new firing of the same alert has a new startsAt.
        var (_, body, _) = await PostAsync(host, Notification(startsAt: "2026-03-01T11:30:00Z"));

        Assert.Equal("demo@1.0.1", (string?)Assert.Single(body["acted"]!.AsArray())!["release"]);
        await host.WaitForStateAsync("demo@1.0.1", "RolledBack");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-token-0123456789abcdef")]
    [InlineData("Bearer ")]
    [InlineData("Basic YWxlcnRtYW5hZ2VyOnNlY3JldA==")]
    [InlineData(Token)]
    public async Task MissingOrWrongCredentials_Answer401AndChangeNothing(string? authorization)
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await CanaryAsync(host);

        var (status, body, response) = await PostAsync(host, Notification(), authorization ?? string.Empty);

        Assert.Equal(401, status);
        Assert.Contains("bearer token or basic credentials", (string)body["error"]!, StringComparison.Ordinal);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        await AssertStillInCanaryAsync(host);
    }

    [Fact]
    public async Task BasicAuth_WhenConfigured_IsAccepted()
    {
        await using var host = await ShipBotHost.StartAsync(Settings(
            ("ShipBot:Alertmanager:BearerToken", null),
            ("ShipBot:Alertmanager:Username", "alertmanager"),
            ("ShipBot:Alertmanager:Password", "basic-password-0123")));
        await CanaryAsync(host);
        var basic = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("alertmanager:basic-password-0123"));

        var wrong = await PostAsync(host, Notification(), "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("alertmanager:nope")));
        var (status, body, _) = await PostAsync(host, Notification(), basic);

        Assert.Equal(401, wrong.Status);
        Assert.Equal(200, status);
        Assert.Single(body["acted"]!.AsArray());
        await host.WaitForStateAsync(Release, "RolledBack");
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("")]
    [InlineData("""{"version":"3","alerts":[]}""")]
    [InlineData("""{"receiver":"shipbot","status":"firing"}""")]
    [InlineData("""[1,2,3]""")]
    public async Task MalformedPayload_Answers400(string body)
    {
        await using var host = await ShipBotHost.StartAsync(Settings());

        var (status, json, _) = await PostRawAsync(host, body);

        Assert.Equal(400, status);
        Assert.Contains("version 4", (string)json["error"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PayloadWithNonStringFields_Answers400()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());

        var numericVersion = await PostRawAsync(host, """{"version":4,"alerts":[]}""");
        var numericStartsAt = await PostRawAsync(host, """{"version":"4","alerts":[{"status":"firing","labels":{"service":"demo","severity":"critical"},"startsAt":0}]}""");

        Assert.Equal(400, numericVersion.Status);
        Assert.Equal(400, numericStartsAt.Status);
    }

    [Fact]
    public async Task ReceiverWithoutCredentials_IsNotExposed()
    {
        await using var host = await ShipBotHost.StartAsync();

        var (status, _, _) = await PostAsync(host, Notification());

        Assert.Equal(404, status);
    }

    [Fact]
    public async Task ConsultMode_PostsADecisionCardInsteadOfRollingBack()
    {
        await using var host = await ShipBotHost.StartAsync(Settings(("ShipBot:Services:demo:Thresholds:Actions:alert", "Consult")));
        await CanaryAsync(host);

        var (status, body, _) = await PostAsync(host, Notification());

        Assert.Equal(200, status);
        Assert.Single(body["acted"]!.AsArray());
        Assert.True(await EventuallyAsync(async () => (await CardsAsync(host, "demo@1.0.0 at Canary 5 %:")).Count == 1));
        var decision = Assert.Single(await CardsAsync(host, "demo@1.0.0 at Canary 5 %:"));
        var title = (string)decision["card"]!["title"]!;
        Assert.StartsWith("🟠", title, StringComparison.Ordinal);
        Assert.Contains("HighErrorRate", title, StringComparison.Ordinal);
        Assert.Contains("carol", decision["card"]!["mentions"]!.AsArray().Select(m => (string)m!));
        Assert.Equal(
            ["decide-rollback", "decide-hold", "decide-continue"],
            ShipBotHost.Actions(decision).Select(a => (string)a["id"]!).ToArray());

        var release = await host.ReleaseAsync(Release);
        Assert.Equal("Canary", (string?)release["state"]);
        Assert.NotNull(release["decision"]);
        Assert.Contains(Audit(release), a => (string?)a["action"] == "ConsultRequested");
        Assert.DoesNotContain(Audit(release), a => (string?)a["action"] == "RollbackStarted");
        Assert.Empty(await CardsAsync(host, RollbackTitle));
        Assert.Empty(await host.Services.GetRequiredService<IReleaseStore>().GetHaltsAsync());

        // The repeated notification does not consult twice.
        var again = await PostAsync(host, Notification());
        Assert.Empty(again.Body["acted"]!.AsArray());

        // On-call decides: roll back now.
        var rollback = ShipBotHost.Actions(decision).Single(a => (string?)a["id"] == "decide-rollback");
        var (clicked, _) = await host.ClickAsync("carol", (string)decision["id"]!, "decide-rollback", (string)rollback["value"]!);
        Assert.Equal(200, clicked);
        await host.WaitForStateAsync(Release, "RolledBack");
    }

    [Fact]
    public async Task ManualRollback_GivesTheSameAnnouncementWithItsReason()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        await CanaryAsync(host);

        await host.SayAsync("carol", $"/ship rollback {Release} customers report empty baskets");

        await host.WaitForStateAsync(Release, "RolledBack");
        Assert.True(await EventuallyAsync(async () => (await CardsAsync(host, "Rolled back demo@1.0.0")).Count == 1));
        var card = Assert.Single(await CardsAsync(host, RollbackTitle));
        Assert.Contains("@carol", (string)card["card"]!["title"]!, StringComparison.Ordinal);
        var text = ShipBotHost.Text(card["card"]);
        Assert.Contains("customers report empty baskets", text, StringComparison.Ordinal);
        Assert.Contains("halted", text, StringComparison.Ordinal);
        Assert.Contains(ShipBotHost.Actions(card), a => (string?)a["id"] == "unhalt");
    }

    private static async Task AssertStillInCanaryAsync(ShipBotHost host)
    {
        var release = await host.ReleaseAsync(Release);
        Assert.True((string?)release["state"] == "Canary", Describe(release));
        Assert.DoesNotContain(Audit(release), a => (string?)a["action"] is "BreachDetected" or "RollbackStarted" or "ConsultRequested");
        Assert.Empty(await host.Services.GetRequiredService<IReleaseStore>().GetHaltsAsync());
        Assert.Empty(await CardsAsync(host, RollbackTitle));
    }
}
