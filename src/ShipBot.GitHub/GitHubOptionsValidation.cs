using System.Text.RegularExpressions;
using ShipBot.GitHub.Actions;
using ShipBot.GitHub.Auth;

namespace ShipBot.GitHub;

/// <summary>
/// Start-up checks of the GitHub settings, with messages that name the key and say what to set.
/// Secret values are never part of a message.
/// </summary>
public static partial class GitHubOptionsValidation
{
    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$", RegexOptions.CultureInvariant)]
    private static partial Regex OwnerPattern();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$", RegexOptions.CultureInvariant)]
    private static partial Regex RepoPattern();

    /// <summary>The <c>ShipBot:GitHub</c> section itself.</summary>
    public static IEnumerable<string> Validate(GitHubOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string key = "ShipBot:GitHub";
        if (!IsSecureUrl(options.ApiUrl))
        {
            yield return $"{key}:ApiUrl '{options.ApiUrl}' must be an absolute https URL (http only on loopback), such as https://api.github.com/.";
        }

        if (options.PublicUrl is { } publicUrl && !(publicUrl.IsAbsoluteUri && publicUrl.Scheme is "http" or "https"))
        {
            yield return $"{key}:PublicUrl '{publicUrl}' must be an absolute http(s) URL: ShipBot's address as GitHub users reach it.";
        }

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            yield return $"{key}:RequestTimeout must be positive.";
        }

        if (options.MaxRateLimitRetries < 0 || options.MaxServerErrorRetries < 0)
        {
            yield return $"{key}: MaxRateLimitRetries and MaxServerErrorRetries must be 0 or more.";
        }

        if (options.MaxRateLimitWait < TimeSpan.Zero || options.MinWriteInterval < TimeSpan.Zero)
        {
            yield return $"{key}: MaxRateLimitWait and MinWriteInterval must not be negative.";
        }

        var retries = options.Deployments;
        if (retries.MaxAttempts < 1 || retries.RetryDelay <= TimeSpan.Zero || retries.MaxRetryDelay < retries.RetryDelay)
        {
            yield return $"{key}:Deployments: MaxAttempts must be 1 or more, RetryDelay positive and MaxRetryDelay at least RetryDelay.";
        }

        if (options.Auth.Kind != GitHubAuthKind.None || !string.IsNullOrWhiteSpace(options.Auth.PrivateKey) || !string.IsNullOrWhiteSpace(options.Auth.PrivateKeyPath))
        {
            foreach (var error in ValidateAuth($"{key}:Auth", options.Auth))
            {
                yield return error;
            }
        }
    }

    /// <summary>A service's repository link (<c>ShipBot:Services:&lt;name&gt;:GitHub</c>); <paramref name="serviceKey"/> is <c>ShipBot:Services:&lt;name&gt;</c>.</summary>
    public static IEnumerable<string> ValidateService(string serviceKey, ServiceGitHubOptions? link, GitHubOptions global)
    {
        ArgumentNullException.ThrowIfNull(global);
        if (link is null)
        {
            yield break;
        }

        var key = $"{serviceKey}:GitHub";
        if (string.IsNullOrWhiteSpace(link.Owner) != string.IsNullOrWhiteSpace(link.Repo))
        {
            yield return $"{key}: set both Owner and Repo (the repository the service's releases deploy from).";
            yield break;
        }

        if (!link.IsLinked)
        {
            yield break;
        }

        foreach (var error in ValidateRepository(key, link.Owner!, link.Repo!))
        {
            yield return error;
        }

        if (string.IsNullOrWhiteSpace(link.Ref))
        {
            yield return $"{key}:Ref is empty: give the ref deployments point at, such as v{{{{version}}}}.";
        }

        if (string.IsNullOrWhiteSpace(link.StagingEnvironment) || string.IsNullOrWhiteSpace(link.ProductionEnvironment)
            || string.Equals(link.StagingEnvironment, link.ProductionEnvironment, StringComparison.OrdinalIgnoreCase))
        {
            yield return $"{key}: StagingEnvironment and ProductionEnvironment must be set and differ.";
        }

        if (link.Deployments)
        {
            foreach (var error in ValidateEffectiveAuth(key, link.Auth, null, global))
            {
                yield return error;
            }
        }
    }

    /// <summary>A service's GitHub Actions target (<c>ShipBot:Services:&lt;name&gt;:Deployment:GitHubActions</c>).</summary>
    public static IEnumerable<string> ValidateActionsTarget(string serviceKey, GitHubActionsTargetOptions? target, ServiceGitHubOptions? link, GitHubOptions global)
    {
        ArgumentNullException.ThrowIfNull(global);
        var key = $"{serviceKey}:Deployment:GitHubActions";
        if (target is null)
        {
            yield return $"{key} is missing: set Owner, Repo and Workflow (the workflow_dispatch workflow each stage runs).";
            yield break;
        }

        if (string.IsNullOrWhiteSpace(target.Workflow))
        {
            yield return $"{key}:Workflow is empty: name the workflow file (deploy.yml) or give its numeric id.";
        }

        var owner = string.IsNullOrWhiteSpace(target.Owner) ? link?.Owner : target.Owner;
        var repo = string.IsNullOrWhiteSpace(target.Repo) ? link?.Repo : target.Repo;
        if (string.IsNullOrWhiteSpace(owner) || string.IsNullOrWhiteSpace(repo))
        {
            yield return $"{key}: set Owner and Repo (or the service's GitHub:Owner and GitHub:Repo).";
        }
        else
        {
            foreach (var error in ValidateRepository(key, owner, repo))
            {
                yield return error;
            }
        }

        if (string.IsNullOrWhiteSpace(target.Ref))
        {
            yield return $"{key}:Ref is empty: name the branch or tag whose workflow runs (default main).";
        }

        if (target.PollInterval < TimeSpan.FromSeconds(1))
        {
            yield return $"{key}:PollInterval must be at least 1 second.";
        }

        if (target.RunTimeout <= target.PollInterval || target.FindRunTimeout <= TimeSpan.Zero)
        {
            yield return $"{key}: RunTimeout must be longer than PollInterval, and FindRunTimeout positive.";
        }

        foreach (var error in ValidateEffectiveAuth(key, target.Auth, link?.Auth, global))
        {
            yield return error;
        }
    }

    private static IEnumerable<string> ValidateEffectiveAuth(string key, GitHubAuthOptions? own, GitHubAuthOptions? service, GitHubOptions global)
    {
        if (own is not null && (own.Kind != GitHubAuthKind.None || own.PrivateKey is not null || own.PrivateKeyPath is not null))
        {
            return ValidateAuth($"{key}:Auth", own);
        }

        if (service is not null && service.Kind != GitHubAuthKind.None)
        {
            // Checked where it is configured (the service's GitHub:Auth).
            return [];
        }

        return global.Auth.Kind == GitHubAuthKind.None
            ? [$"{key}: no GitHub credentials: set ShipBot:GitHub:Auth (Token, or AppId with PrivateKey) or {key}:Auth."]
            : [];
    }

    private static IEnumerable<string> ValidateAuth(string key, GitHubAuthOptions auth)
    {
        if (!string.IsNullOrWhiteSpace(auth.Token) && !string.IsNullOrWhiteSpace(auth.AppId))
        {
            yield return $"{key}: set either Token or AppId (a GitHub App), not both.";
            yield break;
        }

        if (auth.Kind == GitHubAuthKind.None)
        {
            yield return $"{key}: a private key is set but no AppId: set AppId to the GitHub App's client ID or app ID.";
            yield break;
        }

        if (auth.TokenRefreshMargin < TimeSpan.Zero)
        {
            yield return $"{key}:TokenRefreshMargin must not be negative.";
        }

        if (auth.Kind != GitHubAuthKind.App)
        {
            yield break;
        }

        if (auth.InstallationId is <= 0)
        {
            yield return $"{key}:InstallationId must be a positive number (or left out to look it up per repository).";
        }

        if (!string.IsNullOrWhiteSpace(auth.PrivateKey) && !string.IsNullOrWhiteSpace(auth.PrivateKeyPath))
        {
            yield return $"{key}: set PrivateKey or PrivateKeyPath, not both.";
            yield break;
        }

        if (string.IsNullOrWhiteSpace(auth.PrivateKey) && string.IsNullOrWhiteSpace(auth.PrivateKeyPath))
        {
            yield return $"{key}:PrivateKey is missing for GitHub App {auth.AppId}: put the app's PEM private key in the environment ({EnvironmentName(key)}__PrivateKey) or a file (PrivateKeyPath).";
            yield break;
        }

        if (!string.IsNullOrWhiteSpace(auth.PrivateKeyPath) && !File.Exists(auth.PrivateKeyPath))
        {
            yield return $"{key}:PrivateKeyPath '{auth.PrivateKeyPath}' does not exist.";
            yield break;
        }

        string? problem = null;
        try
        {
            using var key2 = GitHubAppJwt.ImportKey(auth.ReadPrivateKey()!);
        }
        catch (ArgumentException)
        {
            problem = $"{key}:{(string.IsNullOrWhiteSpace(auth.PrivateKeyPath) ? "PrivateKey" : "PrivateKeyPath")} does not hold a PEM-encoded RSA private key (-----BEGIN RSA PRIVATE KEY----- as GitHub issues it).";
        }
        catch (IOException ex)
        {
            problem = $"{key}:PrivateKeyPath cannot be read: {ex.Message}";
        }
        catch (UnauthorizedAccessException ex)
        {
            problem = $"{key}:PrivateKeyPath cannot be read: {ex.Message}";
        }

        if (problem is not null)
        {
            yield return problem;
        }
    }

    private static IEnumerable<string> ValidateRepository(string key, string owner, string repo)
    {
        if (!OwnerPattern().IsMatch(owner))
        {
            yield return $"{key}:Owner '{owner}' is not a GitHub user or organisation name.";
        }

        if (!RepoPattern().IsMatch(repo) || repo is "." or "..")
        {
            yield return $"{key}:Repo '{repo}' is not a GitHub repository name.";
        }
    }

    private static bool IsSecureUrl(Uri url) =>
        url.IsAbsoluteUri && (url.Scheme == "https" || (url.Scheme == "http" && url.IsLoopback));

    private static string EnvironmentName(string key) => key.Replace(":", "__", StringComparison.Ordinal);
}
