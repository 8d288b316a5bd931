using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace ShipBot.Core.Releases;

/// <summary>A release's name, <c>service@version</c> (for example <c>checkout@1.4.2</c>).</summary>
public readonly partial record struct ReleaseId(string Service, string Version)
{
    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex ServicePattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();

    public static bool IsValidService(string? service) => service is not null && ServicePattern().IsMatch(service);

    public static bool IsValidVersion(string? version) => version is not null && VersionPattern().IsMatch(version);

    /// <summary>Parses <c>service@version</c>; the service part is case-insensitive and normalised to lower case.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out ReleaseId? id)
    {
        id = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at == text.Length - 1 || text.IndexOf('@', at + 1) >= 0)
        {
            return false;
        }

        var service = text[..at].ToLowerInvariant();
        var version = text[(at + 1)..];
        if (!IsValidService(service) || !IsValidVersion(version))
        {
            return false;
        }

        id = new ReleaseId(service, version);
        return true;
    }

    public override string ToString() => $"{Service}@{Version}";
}
