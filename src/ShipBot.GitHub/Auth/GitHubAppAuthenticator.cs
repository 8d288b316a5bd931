using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using ShipBot.GitHub.Rest;

namespace ShipBot.GitHub.Auth;

/// <summary>
/// A GitHub App's installation access tokens: minted with the app's JWT, cached per installation
/// until <c>TokenRefreshMargin</c> before they expire (at most half their life), minted once for
/// concurrent callers, and forgotten at once when GitHub refuses one (a token revoked early).
/// Installation ids are looked up per repository and cached.
/// </summary>
public sealed partial class GitHubAppAuthenticator
{
    private readonly GitHubRestClient _app;
    private readonly TimeSpan _margin;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, CachedToken> _tokens = new();
    private readonly ConcurrentDictionary<long, SemaphoreSlim> _gates = new();
    private readonly ConcurrentDictionary<string, long> _installations = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="app">A client authenticated as the app itself (<see cref="GitHubAppJwtCredentials"/>).</param>
    public GitHubAppAuthenticator(GitHubRestClient app, TimeSpan refreshMargin, TimeProvider time, ILogger logger)
    {
        _app = app;
        _margin = refreshMargin;
        _time = time;
        _logger = logger;
    }

    /// <summary>How many installation tokens this authenticator has minted (for diagnostics).</summary>
    public int TokensMinted { get; private set; }

    public async Task<long> GetInstallationIdAsync(string owner, string repo, CancellationToken cancellationToken = default)
    {
        var key = $"{owner}/{repo}";
        if (_installations.TryGetValue(key, out var id))
        {
            return id;
        }

        var installation = await _app.GetRepositoryInstallationAsync(owner, repo, cancellationToken).ConfigureAwait(false);
        _installations[key] = installation.Id;
        return installation.Id;
    }

    public async Task<string> GetTokenAsync(long installation, CancellationToken cancellationToken = default)
    {
        if (_tokens.TryGetValue(installation, out var cached) && IsFresh(cached))
        {
            return cached.Token;
        }

        var gate = _gates.GetOrAdd(installation, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_tokens.TryGetValue(installation, out cached) && IsFresh(cached))
            {
                return cached.Token;
            }

            var issuedAt = _time.GetUtcNow();
            var token = await _app.CreateInstallationTokenAsync(installation, cancellationToken).ConfigureAwait(false);
            _tokens[installation] = new CachedToken(token.Token, issuedAt, token.ExpiresAt);
            TokensMinted++;
            LogTokenMinted(installation, token.ExpiresAt);
            return token.Token;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>GitHub refused this token: the next call mints a new one.</summary>
    public void Forget(string token)
    {
        foreach (var entry in _tokens)
        {
            if (string.Equals(entry.Value.Token, token, StringComparison.Ordinal) && _tokens.TryRemove(entry))
            {
                LogTokenRefused(entry.Key);
            }
        }
    }

    private bool IsFresh(CachedToken cached)
    {
        // A margin longer than the token's life would mint a token for every request.
        var margin = TimeSpan.FromTicks(Math.Min(_margin.Ticks, (cached.ExpiresAt - cached.IssuedAt).Ticks / 2));
        return _time.GetUtcNow() < cached.ExpiresAt - margin;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "GitHub App installation {Installation}: new access token, valid until {ExpiresAt:O}")]
    private partial void LogTokenMinted(long installation, DateTimeOffset expiresAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GitHub refused the access token of installation {Installation} before its expiry; minting a new one")]
    private partial void LogTokenRefused(long installation);

    private sealed record CachedToken(string Token, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt);
}
