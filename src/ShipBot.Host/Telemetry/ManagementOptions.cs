using Microsoft.Extensions.Options;

namespace ShipBot.Host.Telemetry;

/// <summary>
/// The <c>Management</c> section: where ShipBot's own metrics are served, away from the public
/// port. With <see cref="Urls"/> set, ShipBot also listens there and answers <c>GET /metrics</c>
/// (Prometheus text format) only on those ports; with <see cref="MetricsToken"/> set, the public
/// port answers <c>/metrics</c> to <c>Authorization: Bearer &lt;token&gt;</c> only. With neither,
/// no scrape endpoint exists (OTLP export still works when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set).
/// </summary>
public sealed class ManagementOptions
{
    public const string Section = "Management";

    /// <summary>Management listener URLs, <c>;</c>-separated, each with an explicit port (for example <c>http://0.0.0.0:9464</c>). Default none.</summary>
    public string? Urls { get; set; }

    /// <summary>A bearer token that lets <c>/metrics</c> be scraped on the public port. Default none (a secret: set it through the environment, <c>Management__MetricsToken</c>).</summary>
    public string? MetricsToken { get; set; }

    /// <summary>How often the active releases are counted by state for <c>shipbot_releases</c>. Default 30 s; at least 1 s.</summary>
    public TimeSpan ReleaseGaugeInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a chat platform's readiness answer (Slack <c>auth.test</c>, the Teams token) is reused. Default 30 s.</summary>
    public TimeSpan ChatCheckCacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The management ports parsed from <see cref="Urls"/> (empty when none).</summary>
    public IReadOnlyList<int> Ports => ParseUrls(Urls).Select(u => u.Port).ToList();

    public static IReadOnlyList<Uri> ParseUrls(string? urls) =>
        (urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(u => Uri.TryCreate(u.Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal), UriKind.Absolute, out var uri) ? uri : null)
            .OfType<Uri>()
            .ToList();
}

/// <summary>Start-up validation of the <c>Management</c> section: a bad value stops start-up and names the key.</summary>
public sealed class ManagementOptionsValidator : IValidateOptions<ManagementOptions>
{
    public ValidateOptionsResult Validate(string? name, ManagementOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var raw = (options.Urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var parsed = ManagementOptions.ParseUrls(options.Urls);
        if (parsed.Count != raw.Length || parsed.Any(u => u.Scheme is not ("http" or "https")))
        {
            errors.Add($"Management:Urls must be http(s) URLs separated by ';', such as http://0.0.0.0:9464 (got '{options.Urls}').");
        }
        else if (raw.Any(u => !HasExplicitPort(u)) || parsed.Any(u => u.Port is <= 0 or > 65535))
        {
            errors.Add($"Management:Urls needs an explicit port from 1 to 65535 in each URL, such as http://0.0.0.0:9464 (got '{options.Urls}'): /metrics is told apart by the port it arrives on.");
        }

        if (options.MetricsToken is { } token && token.Trim().Length < 16)
        {
            errors.Add("Management:MetricsToken must be at least 16 characters (a random secret), or unset.");
        }

        if (options.ReleaseGaugeInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"Management:ReleaseGaugeInterval must be at least 00:00:01 (got {options.ReleaseGaugeInterval}).");
        }

        if (options.ChatCheckCacheDuration < TimeSpan.Zero)
        {
            errors.Add($"Management:ChatCheckCacheDuration must not be negative (got {options.ChatCheckCacheDuration}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool HasExplicitPort(string url)
    {
        var authority = url.Contains("://", StringComparison.Ordinal) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
        authority = authority.Split('/')[0];
        var colon = authority.LastIndexOf(':');
        return colon >= 0 && colon > authority.LastIndexOf(']') && int.TryParse(authority[(colon + 1)..], out var port) && port > 0;
    }
}
