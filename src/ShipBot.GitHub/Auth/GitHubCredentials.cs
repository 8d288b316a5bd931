namespace ShipBot.GitHub.Auth;

/// <summary>Where a GitHub request's <c>Authorization</c> header comes from.</summary>
public interface IGitHubCredentials
{
    /// <summary>The whole header value, for example <c>Bearer ghs_…</c>.</summary>
    ValueTask<string> GetAuthorizationAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// GitHub refused <paramref name="authorization"/> (401): forget it. Returns true when a fresh
    /// one can be had (an app's installation token), so the request is worth sending again.
    /// </summary>
    bool Invalidate(string authorization);
}

/// <summary>A fixed token (a personal access token or any token GitHub accepts as <c>Bearer</c>).</summary>
public sealed class GitHubTokenCredentials : IGitHubCredentials
{
    private readonly string _authorization;

    public GitHubTokenCredentials(string token)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        _authorization = $"Bearer {token.Trim()}";
    }

    public ValueTask<string> GetAuthorizationAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(_authorization);

    /// <summary>A refused fixed token stays refused: the request is not repeated.</summary>
    public bool Invalidate(string authorization) => false;
}

/// <summary>The app itself (a fresh JWT for every request), for the <c>/app</c> endpoints and installation look-ups.</summary>
public sealed class GitHubAppJwtCredentials(GitHubAppJwt jwt) : IGitHubCredentials
{
    public ValueTask<string> GetAuthorizationAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult($"Bearer {jwt.Create()}");

    /// <summary>A refused JWT is usually a clock far off or a wrong key; one fresh JWT is worth a try.</summary>
    public bool Invalidate(string authorization) => true;
}

/// <summary>
/// An app installation's access token for one repository: the installation is configured or
/// looked up for the repository, and its token comes from the app's cache.
/// </summary>
public sealed class GitHubInstallationCredentials(GitHubAppAuthenticator app, long? installationId, string owner, string repo) : IGitHubCredentials
{
    public async ValueTask<string> GetAuthorizationAsync(CancellationToken cancellationToken = default)
    {
        var installation = installationId ?? await app.GetInstallationIdAsync(owner, repo, cancellationToken).ConfigureAwait(false);
        var token = await app.GetTokenAsync(installation, cancellationToken).ConfigureAwait(false);
        return $"Bearer {token}";
    }

    public bool Invalidate(string authorization)
    {
        ArgumentNullException.ThrowIfNull(authorization);
        app.Forget(authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? authorization[7..] : authorization);
        return true;
    }
}
