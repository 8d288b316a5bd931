namespace ShipBot.Host;

/// <summary>
/// HTTPS served by Kestrel itself (<c>ShipBot:Https</c>): a certificate for every <c>https://</c>
/// address in <c>Urls</c>, and HSTS on its answers. Behind a TLS proxy leave it unset and set
/// <see cref="ForwardedHeadersSettings"/> instead.
/// </summary>
public sealed class HttpsSettings
{
    public const string Section = "ShipBot:Https";

    /// <summary>The certificate: a PKCS#12 file (.pfx/.p12), or a PEM certificate with <see cref="KeyPath"/>. Unset: no HTTPS.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of a PEM certificate.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PKCS#12 password, or the PEM key's (from the environment: <c>ShipBot__Https__CertificatePassword</c>).</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>The HSTS max-age sent on HTTPS answers. Default 365 days.</summary>
    public TimeSpan HstsMaxAge { get; set; } = TimeSpan.FromDays(365);

    public bool IsEnabled => !string.IsNullOrWhiteSpace(CertificatePath);
}

/// <summary>
/// Running behind a TLS-terminating proxy (<c>ShipBot:ForwardedHeaders</c>): only the listed
/// proxies' <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed, so the client's
/// address (the failure bucket's key) and the scheme (Secure cookies) are the real ones.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "ShipBot:ForwardedHeaders";

    /// <summary>Proxy IP addresses to trust (e.g. 10.0.0.5).</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Proxy networks to trust, in CIDR notation (e.g. 10.0.0.0/8).</summary>
    public List<string> KnownNetworks { get; set; } = [];

    public bool IsEnabled => KnownProxies.Count > 0 || KnownNetworks.Count > 0;
}
