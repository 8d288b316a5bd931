using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShipBot.GitHub.Auth;
using ShipBot.GitHub.Rest;

namespace ShipBot.GitHub;

/// <summary>
/// Hands out one <see cref="GitHubRestClient"/> per set of credentials (and, for an app, per
/// installation or repository), so everything that shares a token shares its rate-limit state and
/// token cache. Credentials come from the given <see cref="GitHubAuthOptions"/>, else
/// <c>ShipBot:GitHub:Auth</c>.
/// </summary>
public sealed class GitHubConnections
{
    private readonly IHttpClientFactory _http;
    private readonly GitHubOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ConcurrentDictionary<string, GitHubRestClient> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, GitHubAppAuthenticator> _apps = new(StringComparer.Ordinal);

    public GitHubConnections(IHttpClientFactory http, IOptions<GitHubOptions> options, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _options = options.Value;
        _time = time;
        _loggers = loggers;
    }

    public GitHubOptions Options => _options;

    /// <summary>The client for a repository with the given credentials (null: the default ones).</summary>
    /// <exception cref="InvalidOperationException">No credentials are configured (start-up validation prevents this).</exception>
    public GitHubRestClient For(GitHubAuthOptions? auth, string owner, string repo)
    {
        auth ??= _options.Auth;
        switch (auth.Kind)
        {
            case GitHubAuthKind.Token:
                return _clients.GetOrAdd($"token:{Fingerprint(auth.Token!)}", _ => NewClient(new GitHubTokenCredentials(auth.Token!)));
            case GitHubAuthKind.App:
                var app = _apps.GetOrAdd($"{auth.AppId}:{Fingerprint(auth.ReadPrivateKey() ?? string.Empty)}", _ => NewApp(auth));
                var scope = auth.InstallationId is { } id ? $"installation:{id}" : $"repo:{owner}/{repo}".ToLowerInvariant();
                return _clients.GetOrAdd($"app:{auth.AppId}:{scope}", _ => NewClient(new GitHubInstallationCredentials(app, auth.InstallationId, owner, repo)));
            default:
                throw new InvalidOperationException("No GitHub credentials: set ShipBot:GitHub:Auth:Token, or AppId with PrivateKey (or PrivateKeyPath).");
        }
    }

    private GitHubAppAuthenticator NewApp(GitHubAuthOptions auth)
    {
        var key = GitHubAppJwt.ImportKey(auth.ReadPrivateKey() ?? throw new InvalidOperationException($"GitHub App {auth.AppId} has no private key."));
        var jwt = new GitHubAppJwt(auth.AppId!, key, _time);
        return new GitHubAppAuthenticator(NewClient(new GitHubAppJwtCredentials(jwt)), auth.TokenRefreshMargin, _time, _loggers.CreateLogger<GitHubAppAuthenticator>());
    }

    private GitHubRestClient NewClient(IGitHubCredentials credentials) =>
        new(_http.CreateClient(GitHubRestClient.HttpClientName), credentials, _options, _time, _loggers.CreateLogger<GitHubRestClient>());

    // Secrets never become dictionary keys or log lines as they are.
    private static string Fingerprint(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)))[..16];
}
