namespace ShipBot.GitHub;

/// <summary>
/// The <c>ShipBot:GitHub</c> section: where GitHub's REST API is, the credentials every GitHub
/// call uses unless a service or target brings its own, ShipBot's public address for links from
/// GitHub, and how rate limits and outages are handled.
/// </summary>
public sealed class GitHubOptions
{
    public const string Section = "ShipBot:GitHub";

    /// <summary>The REST API's base URL. Default <c>https://api.github.com/</c>; GitHub Enterprise Server: <c>https://ghe.example.com/api/v3/</c>.</summary>
    public Uri ApiUrl { get; set; } = new("https://api.github.com/");

    /// <summary>The default credentials (a GitHub App or a token); a service's or a target's own <c>Auth</c> replaces them.</summary>
    public GitHubAuthOptions Auth { get; set; } = new();

    /// <summary>
    /// ShipBot's public base URL (for example <c>https://shipbot.example.com/</c>). Deployment statuses
    /// link back to the release as <c>{PublicUrl}/api/releases/{service}@{version}</c>. Default none: no link.
    /// </summary>
    public Uri? PublicUrl { get; set; }

    /// <summary>Time limit of one HTTP request to GitHub (real time). Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times a request refused by a rate limit (403/429) is sent again after waiting. Default 3.</summary>
    public int MaxRateLimitRetries { get; set; } = 3;

    /// <summary>
    /// The longest ShipBot waits for a rate limit to reset before giving up on a request (it then
    /// fails as a transient error). Default 15 minutes.
    /// </summary>
    public TimeSpan MaxRateLimitWait { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Retries of a read (GET) after a network error or a 5xx answer, with exponential backoff from 1 s. Default 3.</summary>
    public int MaxServerErrorRetries { get; set; } = 3;

    /// <summary>
    /// Least time between two writes (POST) on one set of credentials: GitHub asks integrations to
    /// send writes one at a time and at least a second apart to avoid secondary rate limits. Default 1 s.
    /// </summary>
    public TimeSpan MinWriteInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How GitHub Deployments statuses are retried when GitHub cannot be reached.</summary>
    public GitHubDeploymentsOptions Deployments { get; set; } = new();
}

/// <summary>
/// GitHub credentials: a GitHub App (<see cref="AppId"/> with its private key; ShipBot signs a
/// short-lived RS256 JWT and exchanges it for installation access tokens, cached until shortly
/// before they expire) or a <see cref="Token"/> (a fine-grained or classic personal access token).
/// Put secrets in the environment (<c>ShipBot__GitHub__Auth__PrivateKey</c>, <c>…__Token</c>), never in a file.
/// </summary>
public sealed class GitHubAuthOptions
{
    /// <summary>A token sent as <c>Authorization: Bearer</c>. Set either this or <see cref="AppId"/>.</summary>
    public string? Token { get; set; }

    /// <summary>The GitHub App's client ID (recommended) or numeric app ID: the JWT's issuer.</summary>
    public string? AppId { get; set; }

    /// <summary>The app's private key in PEM form (PKCS#1 as GitHub issues it, or PKCS#8). A literal <c>\n</c> stands for a line break.</summary>
    public string? PrivateKey { get; set; }

    /// <summary>A file that holds the app's private key (a mounted secret), instead of <see cref="PrivateKey"/>.</summary>
    public string? PrivateKeyPath { get; set; }

    /// <summary>The installation to act as. Default: looked up per repository (<c>GET /repos/{owner}/{repo}/installation</c>).</summary>
    public long? InstallationId { get; set; }

    /// <summary>An installation token is replaced when less than this is left of its life. Default 5 minutes.</summary>
    public TimeSpan TokenRefreshMargin { get; set; } = TimeSpan.FromMinutes(5);

    public GitHubAuthKind Kind =>
        !string.IsNullOrWhiteSpace(Token) ? GitHubAuthKind.Token
        : !string.IsNullOrWhiteSpace(AppId) ? GitHubAuthKind.App
        : GitHubAuthKind.None;

    /// <summary>The private key's PEM text (from <see cref="PrivateKey"/> or <see cref="PrivateKeyPath"/>), or null.</summary>
    public string? ReadPrivateKey()
    {
        if (!string.IsNullOrWhiteSpace(PrivateKey))
        {
            return PrivateKey.Replace("\\n", "\n", StringComparison.Ordinal);
        }

        return string.IsNullOrWhiteSpace(PrivateKeyPath) ? null : File.ReadAllText(PrivateKeyPath);
    }
}

public enum GitHubAuthKind
{
    None,
    Token,
    App,
}

/// <summary>Retries of GitHub Deployments updates (<c>ShipBot:GitHub:Deployments</c>).</summary>
public sealed class GitHubDeploymentsOptions
{
    /// <summary>Attempts of one update while GitHub fails transiently. Default 8 (about 15 minutes with the defaults below).</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>First wait before another attempt; it doubles each time. Default 5 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two attempts. Default 5 minutes.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// A service's GitHub repository (<c>ShipBot:Services:&lt;name&gt;:GitHub</c>). A linked service gets
/// a GitHub deployment per environment with statuses as its releases move, and its GitHub Actions
/// target defaults to this repository.
/// </summary>
public sealed class ServiceGitHubOptions
{
    /// <summary>The repository's owner (user or organisation).</summary>
    public string? Owner { get; set; }

    /// <summary>The repository's name.</summary>
    public string? Repo { get; set; }

    /// <summary>Whether releases of this service show under the repository's Deployments. Default true.</summary>
    public bool Deployments { get; set; } = true;

    /// <summary>
    /// The ref (branch, tag or SHA) a deployment points at; <c>{{version}}</c> and <c>{{service}}</c>
    /// are replaced. Default <c>v{{version}}</c> (a release tag).
    /// </summary>
    public string Ref { get; set; } = "v{{version}}";

    /// <summary>The GitHub environment of the staging gate. Default <c>staging</c>.</summary>
    public string StagingEnvironment { get; set; } = "staging";

    /// <summary>The GitHub environment of production traffic. Default <c>production</c>.</summary>
    public string ProductionEnvironment { get; set; } = "production";

    /// <summary>Credentials for this repository; default <c>ShipBot:GitHub:Auth</c>.</summary>
    public GitHubAuthOptions? Auth { get; set; }

    public bool IsLinked => !string.IsNullOrWhiteSpace(Owner) && !string.IsNullOrWhiteSpace(Repo);

    /// <summary>The deployment ref for a version.</summary>
    public string RefFor(string service, string version) =>
        Ref.Replace("{{version}}", version, StringComparison.Ordinal).Replace("{{service}}", service, StringComparison.Ordinal);
}
