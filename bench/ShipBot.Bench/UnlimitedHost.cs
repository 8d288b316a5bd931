using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using ShipBot.Host;

namespace ShipBot.Bench;

/// <summary>
/// Diagnostic only (<c>--child shipbot-unlimited</c>): ShipBot exactly as <see cref="ShipBotApp.Build"/>
/// builds it, in its own process, with one change: the global rate limiter is removed (a
/// PostConfigure of <see cref="RateLimiterOptions"/>, which runs after ShipBotApp's own
/// configuration). Since limits moved after verification (per Slack team, 50,000/s by default,
/// <c>ShipBot:RateLimits</c>), the shipped host no longer has that global limiter, so this variant
/// now measures the shipped request path; it is kept for its GC figures.
/// </summary>
public static class UnlimitedHost
{
    public static async Task RunAsync()
    {
        var app = ShipBotApp.Build([], builder => builder.Services.PostConfigure<RateLimiterOptions>(o => o.GlobalLimiter = null));

        // The process's own GC figures, for the benchmark (this diagnostic host only).
        app.MapGet("/bench/gc", () => GcFigures.Now());
        await app.RunAsync();
    }
}

/// <summary>GC counters of the diagnostic host; <see cref="Minus"/> turns two readings into the figures of the time between them.</summary>
public sealed record GcFigures(int Gen0, int Gen1, int Gen2, double PauseMs, long HeapBytes, long AllocatedBytes, double PausePercent = 0)
{
    public static GcFigures Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration().TotalMilliseconds,
        GC.GetGCMemoryInfo().HeapSizeBytes, GC.GetTotalAllocatedBytes());

    public static async Task<GcFigures> ReadAsync(Uri host)
    {
        using var http = new HttpClient { BaseAddress = host, Timeout = TimeSpan.FromSeconds(5) };
        return await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<GcFigures>(http, new Uri("bench/gc", UriKind.Relative))
            ?? throw new InvalidOperationException("no GC figures");
    }

    public GcFigures Minus(GcFigures earlier, TimeSpan elapsed) => new(
        Gen0 - earlier.Gen0, Gen1 - earlier.Gen1, Gen2 - earlier.Gen2, PauseMs - earlier.PauseMs, HeapBytes, AllocatedBytes - earlier.AllocatedBytes,
        100 * (PauseMs - earlier.PauseMs) / Math.Max(1, elapsed.TotalMilliseconds));
}
