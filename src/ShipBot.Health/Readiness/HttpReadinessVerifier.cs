using ShipBot.Core.Checklists;
using ShipBot.Core.Ports;
using ShipBot.Core.Settings;

namespace ShipBot.Health.Readiness;

/// <summary>
/// ShipBot's own checks of checklist items: the service's health URL answers 200 (verifies
/// "health"), and when that URL is https the TLS handshake with certificate validation succeeded
/// (verifies "https"). A service without a health URL gets no verification; its items stay for humans.
/// The health URL has <see cref="RequestTimeout"/> to answer, on the injected clock.
/// </summary>
public sealed class HttpReadinessVerifier(HttpClient http, TimeProvider time) : IReadinessVerifier
{
    /// <summary>How long the health URL has to answer: 5 s.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    public async Task<IReadOnlyList<ItemVerification>> VerifyAsync(ServicePolicy service, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (string.IsNullOrWhiteSpace(service.HealthUrl))
        {
            return [];
        }

        if (!IsHttpUrl(service.HealthUrl, out var url))
        {
            return [new ItemVerification(ChecklistCatalog.HealthCheck, false, $"health URL '{service.HealthUrl}' is not an absolute http(s) URL")];
        }

        var results = new List<ItemVerification>();
        var started = time.GetTimestamp();
        using var deadline = new CancellationTokenSource(RequestTimeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var ms = time.GetElapsedTime(started).TotalMilliseconds;
            var ok = (int)response.StatusCode == 200;
            results.Add(new ItemVerification(ChecklistCatalog.HealthCheck, ok, $"health URL {url} answered {(int)response.StatusCode} in {ms:0} ms"));
            if (url.Scheme == Uri.UriSchemeHttps)
            {
                results.Add(new ItemVerification(ChecklistCatalog.Https, true, $"{url.Host} serves HTTPS with a valid certificate"));
            }
        }
        catch (HttpRequestException ex)
        {
            results.Add(new ItemVerification(ChecklistCatalog.HealthCheck, false, $"health URL {url} did not answer: {ex.Message}"));
            if (url.Scheme == Uri.UriSchemeHttps && ex.HttpRequestError == HttpRequestError.SecureConnectionError)
            {
                results.Add(new ItemVerification(ChecklistCatalog.Https, false, $"TLS to {url.Host} failed: {ex.Message}"));
            }
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            results.Add(new ItemVerification(ChecklistCatalog.HealthCheck, false, $"health URL {url} timed out after {time.GetElapsedTime(started).TotalSeconds:0.#} s"));
        }

        return results;
    }

    /// <summary>Only absolute http and https URLs can be probed (a relative path parses as file:// on Linux).</summary>
    public static bool IsHttpUrl(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? url)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps))
        {
            url = parsed;
            return true;
        }

        url = null;
        return false;
    }
}
