using System.Net;

namespace ShipBot.Host;

/// <summary>
/// Where Kestrel will listen, read from configuration the way it reads it: <c>Kestrel:Endpoints</c>,
/// else <c>urls</c> (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, appsettings' <c>Urls</c>), else
/// <c>http_ports</c>/<c>https_ports</c> (every interface), else http://localhost:5000.
/// </summary>
public static class ListeningAddresses
{
    public static IReadOnlyList<string> From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>().ToList();
        if (endpoints.Count > 0)
        {
            return endpoints;
        }

        if (configuration["urls"] is { Length: > 0 } urls)
        {
            return urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        var ports = Ports(configuration["http_ports"], "http").Concat(Ports(configuration["https_ports"], "https")).ToList();
        return ports.Count > 0 ? ports : ["http://localhost:5000"];
    }

    /// <summary>Whether an address only accepts connections from this machine (localhost, 127.0.0.0/8, [::1]).</summary>
    public static bool IsLoopback(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var rest = address[(address.IndexOf("://", StringComparison.Ordinal) is var i and >= 0 ? i + 3 : 0)..];
        string host;
        if (rest.StartsWith('['))
        {
            host = rest[1..Math.Max(1, rest.IndexOf(']', StringComparison.Ordinal))];
        }
        else
        {
            var end = rest.IndexOfAny([':', '/']);
            host = end < 0 ? rest : rest[..end];
        }

        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    public static bool IsHttps(string address) => address.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<string> Ports(string? ports, string scheme) =>
        (ports ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"{scheme}://*:{p}");
}
