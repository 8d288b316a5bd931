namespace ShipBot.Identity;

/// <summary>How the web console is offered (<c>ShipBot:Console:Mode</c>).</summary>
public enum ConsoleMode
{
    /// <summary>
    /// Today's local channel with the "acting as" picker, and the read API open. The embedded
    /// default, allowed only while every listening address is loopback and no chat platform or
    /// sign-in is configured.
    /// </summary>
    Demo,

    /// <summary>OpenID Connect sign-in: the acting user is the signed-in identity; no picker.</summary>
    SignIn,

    /// <summary>Not mapped. The default when Slack or Teams is on and no sign-in is configured.</summary>
    Off,
}

/// <summary>The <c>ShipBot:Console</c> section.</summary>
public sealed class ConsoleOptions
{
    public const string Section = "ShipBot:Console";

    /// <summary>
    /// Demo, SignIn or Off. Unset: SignIn when <see cref="SignIn"/> is configured, else Off when
    /// Slack or Teams is on, else Demo.
    /// </summary>
    public ConsoleMode? Mode { get; set; }

    /// <summary>The OpenID Connect provider for <see cref="ConsoleMode.SignIn"/>.</summary>
    public SignInOptions SignIn { get; set; } = new();

    /// <summary>The mode in force, from <see cref="Mode"/> or the defaults above.</summary>
    public ConsoleMode Effective(bool chatPlatformOn) =>
        Mode ?? (SignIn.IsConfigured ? ConsoleMode.SignIn : chatPlatformOn ? ConsoleMode.Off : ConsoleMode.Demo);
}

/// <summary>
/// OpenID Connect sign-in for the console (<c>ShipBot:Console:SignIn</c>): authorization code with
/// PKCE against any provider that publishes discovery metadata.
/// </summary>
public sealed class SignInOptions
{
    /// <summary>The provider's issuer URL (its <c>/.well-known/openid-configuration</c> is read from there). HTTPS, except on loopback.</summary>
    public Uri? Authority { get; set; }

    /// <summary>The client id registered with the provider.</summary>
    public string? ClientId { get; set; }

    /// <summary>The client secret, if the provider registered ShipBot as a confidential client (from the environment). PKCE is used either way.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Scopes asked for. Default openid, profile, email.</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>The claim that lists the user's groups, matched against <c>group:&lt;name&gt;</c> role entries. Default "groups".</summary>
    public string GroupsClaim { get; set; } = "groups";

    /// <summary>Where the provider sends the browser back (register it with the provider). Default /signin-oidc.</summary>
    public string CallbackPath { get; set; } = "/signin-oidc";

    /// <summary>How long a session lasts from sign-in (not sliding). Default 8 hours.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Whether <see cref="Authority"/> and <see cref="ClientId"/> are both set.</summary>
    public bool IsConfigured => Authority is not null && !string.IsNullOrWhiteSpace(ClientId);

    /// <summary>The scopes in force (<see cref="Scopes"/>, or the defaults).</summary>
    public IReadOnlyList<string> EffectiveScopes => Scopes.Count > 0 ? Scopes : ["openid", "profile", "email"];
}
