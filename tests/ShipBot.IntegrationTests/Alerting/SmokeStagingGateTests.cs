using static ShipBot.IntegrationTests.Alerting.AlertmanagerScenario;

namespace ShipBot.IntegrationTests.Alerting;

/// <summary>The staging gate runs the service's HTTP smoke checks (ShipBot:Services:&lt;name&gt;:SmokeChecks) against a real endpoint.</summary>
public sealed class SmokeStagingGateTests
{
    private const string Secret = "ci-webhook-secret-0123456789";

    [Fact]
    public async Task SmokeCheckAnswers500_HaltsAtStagingBeforeProduction()
    {
        await using var ci = await WebhookLoopbackServer.StartAsync(Secret);
        await using var host = await ShipBotHost.StartAsync(WebhookSettings(ci, "/smoke/broken"));
        await ApproveAsync(host);

        var halted = await host.WaitForStateAsync(Release, "Halted");

        Assert.Equal(-1, (int)halted["stageIndex"]!);
        var reason = (string)halted["haltReason"]!;
        Assert.Contains("smoke checks failed", reason, StringComparison.Ordinal);
        Assert.Contains("/smoke/broken → HTTP 500", reason, StringComparison.Ordinal);
        var smoke = Assert.Single(Audit(halted), a => (string?)a["action"] == "smoke checks");
        Assert.Equal($"staging: failed: 1 of 1 smoke checks failed: {new Uri(ci.BaseAddress, "/smoke/broken")} → HTTP 500", (string?)smoke["detail"]);
        Assert.DoesNotContain(Audit(halted), a => ((string)a["detail"]!).StartsWith("production", StringComparison.Ordinal));
        Assert.DoesNotContain(ci.Received, c => c.Environment == "production");
        Assert.NotEmpty(ci.SmokeRequests);

        var alert = await host.CardMessageAsync("at the staging gate halted");
        Assert.NotNull(alert);
        Assert.Contains("carol", alert["card"]!["mentions"]!.AsArray().Select(m => (string)m!));
        Assert.Contains(ShipBotHost.Actions(alert), a => (string?)a["id"] == "unhalt");
        Assert.Contains("halted", await HaltTextAsync(host), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SmokeChecksPass_TheReleaseGoesOnToCanary()
    {
        await using var ci = await WebhookLoopbackServer.StartAsync(Secret);
        await using var host = await ShipBotHost.StartAsync(WebhookSettings(ci, "/smoke/ok"));

        var canary = await CanaryAsync(host);

        Assert.Contains(Audit(canary), a => (string?)a["action"] == "smoke checks" && (string?)a["detail"] == "staging: passed: 1 of 1 smoke checks passed");
        Assert.Single(ci.SmokeRequests);
    }

    [Fact]
    public async Task SmokeCheckAnswers500_OnTheSimulatedTarget_AlsoHaltsAtStaging()
    {
        await using var ci = await WebhookLoopbackServer.StartAsync(Secret);
        await using var host = await ShipBotHost.StartAsync(Settings(("ShipBot:Services:demo:SmokeChecks:Urls:0", new Uri(ci.BaseAddress, "/smoke/broken").ToString())));
        await ApproveAsync(host);

        var halted = await host.WaitForStateAsync(Release, "Halted");

        Assert.Contains("smoke checks failed", (string)halted["haltReason"]!, StringComparison.Ordinal);
        Assert.NotEmpty(ci.SmokeRequests);
    }

    private static async Task<string> HaltTextAsync(ShipBotHost host) => Text(await host.SayAsync("alice", "/ship start demo 1.0.1"));

    private static Dictionary<string, string?> WebhookSettings(WebhookLoopbackServer ci, string smokePath) => Settings(
        ("ShipBot:Services:demo:Deployment:Webhook:Url", ci.HookUrl.ToString()),
        ("ShipBot:Services:demo:Deployment:Webhook:Secret", Secret),
        ("ShipBot:Services:demo:SmokeChecks:Urls:0", new Uri(ci.BaseAddress, smokePath).ToString()),
        ("ShipBot:Services:demo:SmokeChecks:Timeout", "00:00:30"));
}
