using System.Text.Json.Nodes;
using static ShipBot.IntegrationTests.Console.LifecycleSafetyRegressionTests;

namespace ShipBot.IntegrationTests.Judging;

/// <summary>
/// The sequential judge end to end on the console: a real host over Kestrel with real Quartz timers
/// and the simulated health source, whose counts come from a configured traffic level. Every stage
/// bakes ten minutes, so anything that happens within the test's patience happened before a bake
/// ended: because of the judge.
/// </summary>
public sealed class SequentialJudgeConsoleTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static Dictionary<string, string?> Judged(bool earlyPromotion) => new()
    {
        ["ShipBot:Services:demo:Stages:0:Bake"] = "00:10:00",
        ["ShipBot:Services:demo:Stages:1:Bake"] = "00:10:00",
        ["ShipBot:Services:demo:Stages:2:Bake"] = "00:10:00",
        ["ShipBot:Services:demo:Stages:3:Bake"] = "00:10:00",
        ["ShipBot:Services:demo:Judge:Kind"] = "Sequential",
        ["ShipBot:Services:demo:Judge:EarlyPromotion"] = earlyPromotion ? "true" : "false",
        ["ShipBot:Services:demo:Judge:MinimumTime"] = "00:00:01",
        ["ShipBot:Services:demo:Judge:MinimumSamples"] = "500",
    };

    [Fact]
    public async Task Canary_ThreeTimesTheBaselineErrorRate_RolledBackWithTheJudgesNumbersOnTheAlert()
    {
        await using var host = await ShipBotHost.StartAsync(Judged(earlyPromotion: true));

        // A busy service (100,000 requests a second, 5,000 at the canary) so that the evidence piles up in seconds of real time.
        await host.SayAsync("carol", "/ship simulate demo traffic_rpm 6000000");
        await host.SayAsync("carol", "/ship simulate demo error_rate 0.009"); // 3 × the baseline's 0.3 %
        await ApprovedAsync(host, "demo@1.0.0");

        var release = await host.WaitForStateAsync("demo@1.0.0", "RolledBack", Patience);

        Assert.Equal("Canary 5 %", (string?)release["rollback"]?["stage"]);
        var breach = release["audit"]!.AsArray().Select(a => (string)a!["detail"]!).Single(d => d.StartsWith("breach at Canary 5 %", StringComparison.Ordinal));
        Assert.Contains("sequential judge", breach, StringComparison.Ordinal);
        Assert.Contains("errors: canary", breach, StringComparison.Ordinal);
        var alert = await MessageAsync(host, m => ((string?)m["card"]?["title"])?.StartsWith("🔴 Rolled back demo@1.0.0 at Canary 5 %", StringComparison.Ordinal) == true, "the rollback alert");
        var judged = alert["card"]!["blocks"]!.AsArray().SelectMany(b => b!["facts"]?.AsArray() ?? []).Single(f => (string?)f!["label"] == "Sequential judge")!;
        var numbers = (string)judged["value"]!;
        Assert.Matches(@"^errors \d[\d.]* % vs baseline 0\.\d+ %: at least \d[\d.]*× baseline at 99\.75 % confidence \(harm above 1×\)", numbers);
        Assert.Matches(@"canary \d[\d.]* % \([\d,]+ of [\d,]+\) vs baseline", numbers);
    }

    [Fact]
    public async Task Canary_CleanWithEarlyPromotion_PromotedBeforeItsBakeEndsAndTheChartIsServed()
    {
        await using var host = await ShipBotHost.StartAsync(Judged(earlyPromotion: true));
        await host.SayAsync("carol", "/ship simulate demo traffic_rpm 6000000");
        await ApprovedAsync(host, "demo@1.0.0");

        var release = await WaitForAsync(host, "demo@1.0.0",
            r => r["audit"]!.AsArray().Any(a => ((string?)a!["detail"])?.Contains("(early: the sequential judge found Canary 5 % safe", StringComparison.Ordinal) == true),
            "an early promotion out of the canary");

        var canary = release["history"]!.AsArray().First(h => (string?)h!["name"] == "Canary 5 %")!;
        var ran = DateTimeOffset.Parse((string)canary["endedAt"]!, System.Globalization.CultureInfo.InvariantCulture)
            - DateTimeOffset.Parse((string)canary["startedAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(ran < TimeSpan.FromMinutes(10), $"the canary ran {ran}");
        Assert.DoesNotContain(release["audit"]!.AsArray(), a => (string?)a!["action"] == "RollbackStarted");

        // The card shows the judge's chart inline, from ShipBot's own image endpoint.
        var card = await MessageAsync(host, m => m["card"]?["blocks"]?.AsArray().Any(b => (string?)b!["type"] == "image") == true, "a card with the judge's chart");
        var image = card["card"]!["blocks"]!.AsArray().First(b => (string?)b!["type"] == "image")!;
        var url = (string)image["url"]!;
        Assert.StartsWith("/charts/", url, StringComparison.Ordinal);
        Assert.Contains("Evidence at", (string)image["altText"]!, StringComparison.Ordinal);
        using var response = await host.Http.GetAsync(new Uri(url, UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        var png = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
    }

    private static async Task<JsonObject> MessageAsync(ShipBotHost host, Func<JsonObject, bool> match, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        do
        {
            if ((await host.MessagesAsync()).OfType<JsonObject>().LastOrDefault(match) is { } found)
            {
                return found;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"never saw {what}");
    }
}
