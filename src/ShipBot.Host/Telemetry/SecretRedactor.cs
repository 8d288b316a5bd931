using System.Text.RegularExpressions;

namespace ShipBot.Host.Telemetry;

/// <summary>
/// The last line of defence for the console log: ShipBot's code never logs a secret, and this
/// replaces with <c>***</c> anything that still looks like one — the configured secret values
/// themselves (tokens, signing secrets, passwords, the Redis password) and the shapes of
/// credentials (Slack tokens, bearer tokens, JWTs, Slack request signatures, interaction
/// response URLs, cookies).
/// </summary>
public sealed partial class SecretRedactor
{
    public const string Mask = "***";

    private static readonly string[] Cues = ["xox", "xapp-", "eyJ", "earer", "v0=", "hooks.slack.com", "ookie", "assword", "ecret", "oken"];

    private readonly string[] _secrets;

    public SecretRedactor(IEnumerable<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        _secrets = [.. secrets.Where(s => s.Length >= 6).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)];
    }

    /// <summary>Every configured value whose key names a secret (…Token, …Secret, …Password, …ApiKey), and the password of each connection string.</summary>
    public static SecretRedactor FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var secrets = new List<string>();
        foreach (var (key, value) in configuration.AsEnumerable())
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            var leaf = key[(key.LastIndexOf(':') + 1)..];
            if (SecretKey().IsMatch(leaf))
            {
                secrets.Add(value.Trim());
            }

            if (key.StartsWith("ConnectionStrings:", StringComparison.OrdinalIgnoreCase))
            {
                secrets.AddRange(ConnectionPassword().Matches(value).Select(m => m.Groups[1].Value.Trim()));
            }
        }

        return new SecretRedactor(secrets);
    }

    /// <summary>The text with every secret masked; the same instance when nothing looked secret.</summary>
    public string Redact(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        var result = text;
        foreach (var secret in _secrets)
        {
            if (result.Contains(secret, StringComparison.Ordinal))
            {
                result = result.Replace(secret, Mask, StringComparison.Ordinal);
            }
        }

        if (!Cues.Any(c => result.Contains(c, StringComparison.OrdinalIgnoreCase)))
        {
            return result;
        }

        return Shapes().Replace(result, m => m.Groups["keep"].Success ? m.Groups["keep"].Value + Mask : Mask);
    }

    [GeneratedRegex("(?i)(token|secret|password|apikey|api_key|credential)s?$")]
    private static partial Regex SecretKey();

    [GeneratedRegex(@"(?i)password\s*=\s*([^,;]+)")]
    private static partial Regex ConnectionPassword();

    [GeneratedRegex(
        @"xox[a-z]-[A-Za-z0-9-]{6,}|xapp-[A-Za-z0-9-]{6,}|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*|v0=[0-9a-fA-F]{16,}"
        + @"|(?<keep>(?i:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{6,}"
        + @"|(?<keep>hooks\.slack\.com/)\S+"
        + @"|(?<keep>(?i:cookie|set-cookie|password|secret|token)[""']?\s*[:=]\s*[""']?)[^\s,;""']{4,}")]
    private static partial Regex Shapes();
}
