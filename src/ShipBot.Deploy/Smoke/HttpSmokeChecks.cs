using ShipBot.Core.Releases;
using ShipBot.Core.Ports;

namespace ShipBot.Deploy.Smoke;

/// <summary>
/// A service's smoke checks: HTTP GETs that must answer 2xx (within <see cref="Timeout"/>) after a
/// deployment to an environment, before the release bakes there. URLs may use <c>{{environment}}</c>,
/// <c>{{service}}</c> and <c>{{version}}</c>.
/// </summary>
public sealed class SmokeCheckOptions
{
    public List<string> Urls { get; set; } = [];

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}

public sealed class HttpSmokeChecks(HttpClient http, SmokeCheckOptions options, TimeProvider time)
{
    public async Task<DeploymentResult> RunAsync(Core.Releases.ReleaseId release, Core.Releases.DeploymentEnvironment environment, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        if (options.Urls.Count == 0)
        {
            return new DeploymentResult(true, "no smoke checks configured (ShipBot:Services:<name>:SmokeChecks:Urls)", TimeSpan.Zero);
        }

        var urls = options.Urls.Select(u => u
            .Replace("{{environment}}", environment.Name(), StringComparison.Ordinal)
            .Replace("{{service}}", release.Service, StringComparison.Ordinal)
            .Replace("{{version}}", release.Version, StringComparison.Ordinal)).ToList();
        var results = await Task.WhenAll(urls.Select(u => CheckAsync(u, ct))).ConfigureAwait(false);
        var failed = results.Where(r => r.Failure is not null).ToList();
        var detail = failed.Count == 0
            ? $"{results.Length} of {results.Length} smoke checks passed"
            : $"{failed.Count} of {results.Length} smoke checks failed: {string.Join("; ", failed.Select(f => $"{f.Url} {f.Failure}"))}";
        return new DeploymentResult(failed.Count == 0, detail, time.GetElapsedTime(started));
    }

    private async Task<(string Url, string? Failure)> CheckAsync(string url, CancellationToken ct)
    {
        using var deadline = new CancellationTokenSource(options.Timeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? (url, null) : (url, $"→ HTTP {(int)response.StatusCode}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (url, $"→ no answer in {options.Timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException ex)
        {
            return (url, $"→ {ex.Message}");
        }
    }
}
