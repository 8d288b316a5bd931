namespace ShipBot.Teams;

/// <summary>
/// The <c>Teams</c> configuration section. Teams is enabled when <see cref="AppId"/> is set (or
/// <see cref="Enabled"/> is true); then the app id is required and start-up fails without it.
/// Put <see cref="AppPassword"/> in the environment (<c>Teams__AppPassword</c>), never in a file.
/// </summary>
public sealed class TeamsOptions
{
    public const string Section = "Teams";

    public const string BotFrameworkMetadata = "https://login.botframework.com/v1/.well-known/openidconfiguration";

    public bool? Enabled { get; set; }

    /// <summary>The bot's Microsoft App ID (the Azure Bot's app registration); the audience of every inbound token.</summary>
    public string? AppId { get; set; }

    /// <summary>The app registration's client secret, for outbound tokens.</summary>
    public string? AppPassword { get; set; }

    /// <summary>The tenant of a single-tenant bot: its Entra issuers are accepted and outbound tokens come from it. Empty: multi-tenant.</summary>
    public string? TenantId { get; set; }

    /// <summary>The Bot Framework OpenID metadata (keys with their channel endorsements). Tests serve their own.</summary>
    public Uri OpenIdMetadataUrl { get; set; } = new(BotFrameworkMetadata);

    /// <summary>The Entra OpenID metadata for single-tenant tokens; <c>{tenant}</c> is replaced. Default login.microsoftonline.com's v2.0 document.</summary>
    public string EntraOpenIdMetadataUrl { get; set; } = "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration";

    /// <summary>Where outbound tokens come from; <c>{tenant}</c> is replaced by <see cref="TenantId"/> or botframework.com.</summary>
    public string TokenEndpoint { get; set; } = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";

    /// <summary>The scope of outbound tokens. Default https://api.botframework.com/.default.</summary>
    public string TokenScope { get; set; } = "https://api.botframework.com/.default";

    /// <summary>
    /// Accept requests without a token — only from a loopback address — for local emulators such as
    /// the Microsoft 365 Agents Playground. Off by default; logged loudly when on. Never enable it
    /// on a reachable host.
    /// </summary>
    public bool AllowUnauthenticatedLoopback { get; set; }

    /// <summary>Clock skew allowed on token lifetimes. Default 5 minutes.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Retries of a connector call after 429, 412, 502 or 504 (backoff with jitter). Default 4.</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>Group id → member AAD object ids, for roles given to <c>group:&lt;id&gt;</c>.</summary>
    public Dictionary<string, List<string>> Groups { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public bool IsEnabled => Enabled ?? !string.IsNullOrWhiteSpace(AppId);

    public string Tenant => string.IsNullOrWhiteSpace(TenantId) ? "botframework.com" : TenantId;
}
