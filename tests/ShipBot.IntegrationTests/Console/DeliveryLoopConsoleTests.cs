using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ShipBot.IntegrationTests.Console;

/// <summary>
/// Freeze calendars and delivery stats on a real host: an iCalendar file read by the host's
/// calendar service, commands through the console's JSON API, <c>GET /api/stats</c> and its chart.
/// </summary>
public sealed class DeliveryLoopConsoleTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("shipbot-freezes-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A calendar whose one window began yesterday and ends the day after tomorrow (UTC), so it holds whenever the test runs.</summary>
    private string WriteCalendar()
    {
        var today = DateTime.UtcNow.Date;
        var path = Path.Combine(_folder, "freeze.ics");
        File.WriteAllText(path, string.Join("\r\n",
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//ShipBot tests//EN",
            "BEGIN:VEVENT",
            "UID:freeze-1@tests",
            $"DTSTAMP:{today:yyyyMMdd}T000000Z",
            $"DTSTART:{today.AddDays(-1):yyyyMMdd}T000000Z",
            $"DTEND:{today.AddDays(2):yyyyMMdd}T120000Z",
            "SUMMARY:Year-end freeze",
            "END:VEVENT",
            "END:VCALENDAR",
            string.Empty));
        return path;
    }

    [Fact]
    public async Task Console_InsideAFreezeWindow_StartRefusedFreezesListedAndAnOnCallHotfixBypassIsAudited()
    {
        var path = WriteCalendar();
        await using var host = await ShipBotHost.StartAsync(new Dictionary<string, string?>
        {
            ["ShipBot:Freezes:Calendars:0:Name"] = "company",
            ["ShipBot:Freezes:Calendars:0:Path"] = path,
        });

        var freezes = await host.SayAsync("alice", "/ship freezes");
        var refused = await host.SayAsync("alice", "/ship start demo 1.0.0 faster checkout");
        var bypassed = await host.SayAsync("carol", "/ship hotfix demo 1.0.1 p0 checkout down --bypass-freeze \"customers cannot pay\"");

        Assert.Contains("Year-end freeze (global) until", freezes["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var refusal = refused["text"]!.GetValue<string>();
        Assert.Contains("Not started", refusal, StringComparison.Ordinal);
        Assert.Contains("'Year-end freeze'", refusal, StringComparison.Ordinal);
        Assert.Contains($"{DateTime.UtcNow.Date.AddDays(2):ddd d MMM yyyy} 12:00 UTC", refusal, StringComparison.Ordinal);
        using (var missing = await host.Http.GetAsync("/api/releases/demo@1.0.0"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        Assert.Contains("Started demo@1.0.1", bypassed["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var release = await host.ReleaseAsync("demo@1.0.1");
        Assert.Contains(release["audit"]!.AsArray(), a => a!["action"]!.GetValue<string>() == "freeze bypass"
            && a["actor"]!.GetValue<string>() == "carol" && a["detail"]!.GetValue<string>().Contains("customers cannot pay", StringComparison.Ordinal));
        var card = await host.CardMessageAsync("demo@1.0.1 —");
        Assert.Contains("Freeze bypassed", ShipBotHost.Text(card), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_ApiAndCommand_GiveTheKeysAsTextAndAChartImage()
    {
        await using var host = await ShipBotHost.StartAsync();

        var stats = await host.Http.GetFromJsonAsync<JsonObject>("/api/stats?service=demo&days=14");
        var command = await host.SayAsync("alice", "/ship stats demo --days 14");
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };
        using var bad = await host.Http.GetAsync("/api/stats?days=0");

        Assert.NotNull(stats);
        Assert.Equal("demo", stats["scope"]!.GetValue<string>());
        Assert.Equal(14, stats["days"]!.GetValue<double>());
        Assert.Equal(0, stats["deployments"]!.GetValue<int>());
        Assert.Contains("Deployment frequency: 0 per week", ShipBotHost.Text(stats["lines"]), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        var chart = stats["chart"]!.GetValue<string>();
        Assert.StartsWith("/charts/", chart, StringComparison.Ordinal);
        using var image = await anonymous.GetAsync(chart);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        var png = await image.Content.ReadAsByteArrayAsync();
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);

        Assert.Contains("Delivery of demo, 14 days", ShipBotHost.Text(command), StringComparison.Ordinal);
        Assert.Contains("/charts/", ShipBotHost.Text(command), StringComparison.Ordinal);
    }
}
