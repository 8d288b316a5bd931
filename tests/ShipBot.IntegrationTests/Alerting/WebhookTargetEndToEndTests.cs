using System.Text.Json.Nodes;
using static ShipBot.IntegrationTests.Alerting.AlertmanagerScenario;

namespace ShipBot.IntegrationTests.Alerting;

/// <summary>demo deploys through the signed webhook target to a CI/CD endpoint on loopback that verifies every signature.</summary>
public sealed class WebhookTargetEndToEndTests
{
    private const string Secret = "ci-webhook-secret-0123456789";

    [Fact]
    public async Task AlertRollback_CallsTheWebhookWithASignedRollback()
    {
        await using var ci = await WebhookLoopbackServer.StartAsync(Secret);
        await using var host = await ShipBotHost.StartAsync(WebhookSettings(ci));
        await CanaryAsync(host);

        var (_, body, _) = await PostAsync(host, Notification());
        Assert.Single(body["acted"]!.AsArray());
        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack");

        var calls = ci.Received.ToList();
        Assert.All(calls, c => Assert.True(c.SignatureValid, $"ShipBot sent a badly signed call: {c.Json.ToJsonString()}"));
        Assert.All(calls, c => Assert.Equal(c.IdempotencyKey, (string?)c.Json["idempotencyKey"]));
        Assert.All(calls, c => Assert.Equal(Release, (string?)c.Json["release"]));
        Assert.Contains(calls, c => c.Environment == "staging" && !c.Rollback);
        Assert.Contains(calls, c => c.Environment == "production" && c.Percent == 5 && !c.Rollback);
        var rollback = Assert.Single(calls.Where(c => c.Rollback).DistinctBy(c => c.IdempotencyKey));
        Assert.Equal(0, rollback.Percent);
        Assert.Equal("demo", (string?)rollback.Json["service"]);
        Assert.Equal("1.0.0", (string?)rollback.Json["version"]);
        Assert.True(calls.FindIndex(c => c.Rollback) > calls.FindIndex(c => c.Environment == "production" && c.Percent == 5), "the rollback comes after the canary");
        Assert.Contains(Audit(rolledBack), a => (string?)a["action"] == "deployment call"
            && ((string)a["detail"]!).StartsWith("rollback to the previous version: webhook → ok", StringComparison.Ordinal)
            && ((string)a["detail"]!).Contains("HTTP 200 traffic set to 0 %", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebhookRefusesTheStagingDeployment_HaltsBeforeProduction()
    {
        await using var ci = await WebhookLoopbackServer.StartAsync(Secret);
        ci.StatusFor = c => c.Environment == "staging" ? 422 : 200;
        await using var host = await ShipBotHost.StartAsync(WebhookSettings(ci));
        await ApproveAsync(host);

        var halted = await host.WaitForStateAsync(Release, "Halted");

        Assert.Equal(-1, (int)halted["stageIndex"]!);
        Assert.Contains("HTTP 422", (string)halted["haltReason"]!, StringComparison.Ordinal);
        Assert.Contains(Audit(halted), a => (string?)a["action"] == "deployment call" && ((string)a["detail"]!).Contains("webhook → failed", StringComparison.Ordinal));
        Assert.DoesNotContain(ci.Received, c => c.Environment == "production");
        Assert.NotNull(await host.CardMessageAsync("at the staging gate halted"));
    }

    [Fact]
    public async Task WebhookRefusesTheCanaryDeployment_RollsBackThroughTheWebhook()
    {
        await using var ci = await WebhookLoopbackServer.StartAsync(Secret);
        ci.StatusFor = c => c.Environment == "production" && !c.Rollback ? 400 : 200;
        await using var host = await ShipBotHost.StartAsync(WebhookSettings(ci));
        await ApproveAsync(host);

        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack");

        Assert.Contains("HTTP 400 refused by CI", ShipBotHost.Text(rolledBack["rollback"]), StringComparison.Ordinal);
        Assert.Contains(ci.Received, c => c.Rollback && c.SignatureValid);
        Assert.Contains(Audit(rolledBack), a => (string?)a["action"] == "deployment call" && ((string)a["detail"]!).StartsWith("production at 5 %: webhook → failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MaxRetriesZero_IsAcceptedAndDeploysWithoutRetrying()
    {
        await using var ci = await WebhookLoopbackServer.StartAsync(Secret);
        var settings = WebhookSettings(ci);
        settings["ShipBot:Services:demo:Deployment:Webhook:MaxRetries"] = "0";
        await using var host = await ShipBotHost.StartAsync(settings);

        await CanaryAsync(host);

        Assert.Contains(ci.Received, c => c.Environment == "production" && c.Percent == 5);
    }

    private static Dictionary<string, string?> WebhookSettings(WebhookLoopbackServer ci) => Settings(
        ("ShipBot:Services:demo:Deployment:Webhook:Url", ci.HookUrl.ToString()),
        ("ShipBot:Services:demo:Deployment:Webhook:Secret", Secret),
        ("ShipBot:Services:demo:Deployment:Webhook:Timeout", "00:00:30"),
        ("ShipBot:Services:demo:Deployment:Webhook:MaxRetries", "1"));
}
