using Xunit.Abstractions;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Health;

/// <summary>An unreadable health source is never taken as healthy: the release holds, then halts for a human.</summary>
public sealed class UnreadableHealthTests(ITestOutputHelper output)
{
    private const string Release = PrometheusScenario.Release;

    [Fact]
    public async Task PrometheusUnreachable_EvaluationsInconclusive_DoesNotPromoteAndHaltsAfterMaxInconclusive()
    {
        var settings = PrometheusScenario.PrometheusSettings($"http://127.0.0.1:{Loopback.ClosedPort()}/", maxInconclusive: 2);
        await using var host = await ShipBotHost.StartAsync(settings);

        await PrometheusScenario.ApproveAsync(host);
        var halted = await host.WaitForStateAsync(Release, "Halted");
        output.WriteLine(PrometheusScenario.Describe(halted));

        // It stayed at canary although the 2 s bake was over: unknown health never promotes.
        Assert.Equal(0, halted["stageIndex"]!.GetValue<int>());
        Assert.Contains("Canary 5 %", halted["stage"]!.GetValue<string>(), StringComparison.Ordinal);
        var reason = halted["haltReason"]!.GetValue<string>();
        Assert.Contains("health unreadable in 2 evaluations in a row", reason, StringComparison.Ordinal);
        Assert.Contains("Prometheus", reason, StringComparison.Ordinal);
        Assert.Contains("error_rate", reason, StringComparison.Ordinal);
        Assert.Equal("unknown", halted["health"]!["status"]!.GetValue<string>());
        Assert.Empty(halted["baseline"]!.AsObject());

        var audit = PrometheusScenario.Audit(halted);
        Assert.Contains(audit, e => e["action"]!.GetValue<string>() == "HealthChanged"
            && e["detail"]!.GetValue<string>().StartsWith("health inconclusive at Canary 5 % (1 in a row)", StringComparison.Ordinal));
        Assert.Single(audit, e => e["action"]!.GetValue<string>() == "HealthInconclusive");
        Assert.DoesNotContain(audit, e => e["detail"]!.GetValue<string>().Contains("promoted to", StringComparison.Ordinal));

        // The halt alert tells on-call why and offers Resume and Roll back.
        var alert = await host.CardMessageAsync("health unreadable halted");
        Assert.NotNull(alert);
        Assert.Contains("carol", alert["card"]!["mentions"]!.AsArray().Select(m => m!.GetValue<string>()));
        var alertText = ShipBotHost.Text(alert["card"]);
        Assert.Contains("never takes an unreadable source as healthy", alertText, StringComparison.Ordinal);
        Assert.Contains("Prometheus", alertText, StringComparison.Ordinal);
        var actions = ShipBotHost.Actions(alert).Select(a => a["id"]!.GetValue<string>()).ToList();
        Assert.Contains("resume", actions);
        Assert.Contains("rollback", actions);

        // Still unreadable: it stays halted at canary, and is not halted (or alerted) twice. Watched over more than two
        // evaluation intervals (a window for something that must not happen, not a wait for something to happen).
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var later = await host.ReleaseAsync(Release);
        Assert.Equal("Halted", later["state"]!.GetValue<string>());
        Assert.Single(PrometheusScenario.Audit(later), e => e["action"]!.GetValue<string>() == "HealthInconclusive");
    }
}
