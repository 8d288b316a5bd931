using LibGit2Sharp;
using Microsoft.Extensions.Options;

namespace ShipBot.Records;

/// <summary>
/// Release records in git (<c>ShipBot:Records</c>). Enabled when <see cref="Repository"/> is set:
/// a local clone ShipBot commits to, optionally pushing each commit. Credentials for an https
/// remote come from configuration or the environment (<c>ShipBot__Records__Username</c>,
/// <c>ShipBot__Records__Password</c>), never from a file in the repository.
/// </summary>
public sealed class GitRecordsOptions
{
    public const string Section = "ShipBot:Records";

    /// <summary>The folder of a local git clone (its work tree). Default none: records are off.</summary>
    public string? Repository { get; set; }

    /// <summary>The branch to commit to. Default: the branch checked out.</summary>
    public string? Branch { get; set; }

    /// <summary>Whether each commit is pushed to <see cref="Remote"/>. Default false.</summary>
    public bool Push { get; set; }

    /// <summary>The remote to push to. Default "origin".</summary>
    public string Remote { get; set; } = "origin";

    /// <summary>The user name for an https remote (for a token, any non-empty name such as "shipbot"). Default none.</summary>
    public string? Username { get; set; }

    /// <summary>The password or access token for an https remote. Default none. Keep it in the environment.</summary>
    public string? Password { get; set; }

    /// <summary>The author and committer name of ShipBot's commits. Default "ShipBot".</summary>
    public string AuthorName { get; set; } = "ShipBot";

    /// <summary>The author and committer e-mail of ShipBot's commits. Default "shipbot@localhost".</summary>
    public string AuthorEmail { get; set; } = "shipbot@localhost";

    /// <summary>The first wait before a failed write or push is retried; it doubles up to <see cref="MaxRetryDelay"/>. Default 5 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between retries. Default 5 minutes.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The most milestones kept waiting while writing fails; later ones are dropped (the next written one carries the latest content). Default 10,000.</summary>
    public int MaxPending { get; set; } = 10_000;

    public bool IsEnabled => !string.IsNullOrWhiteSpace(Repository);
}

/// <summary>Start-up validation of <c>ShipBot:Records</c>, each message naming the key.</summary>
public sealed class GitRecordsOptionsValidator : IValidateOptions<GitRecordsOptions>
{
    public ValidateOptionsResult Validate(string? name, GitRecordsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.IsEnabled)
        {
            return ValidateOptionsResult.Success;
        }

        const string key = GitRecordsOptions.Section;
        var errors = new List<string>();
        if (!Directory.Exists(options.Repository))
        {
            errors.Add($"{key}:Repository '{options.Repository}' does not exist: clone the records repository there first.");
        }
        else if (!LibGit2Sharp.Repository.IsValid(options.Repository))
        {
            errors.Add($"{key}:Repository '{options.Repository}' is not a git work tree: clone the records repository there (git clone <url> {options.Repository}).");
        }
        else
        {
            using var repo = new Repository(options.Repository);
            if (repo.Info.IsBare)
            {
                errors.Add($"{key}:Repository '{options.Repository}' is a bare repository: ShipBot needs a clone with a work tree.");
            }

            if (options.Push && repo.Network.Remotes[options.Remote] is null)
            {
                errors.Add($"{key}:Remote '{options.Remote}' is not a remote of {options.Repository} (remotes: {string.Join(", ", repo.Network.Remotes.Select(r => r.Name).DefaultIfEmpty("none"))}).");
            }
        }

        if (options.Branch is { } branch && !Reference.IsValidName($"refs/heads/{branch}"))
        {
            errors.Add($"{key}:Branch '{branch}' is not a valid branch name.");
        }

        if (string.IsNullOrEmpty(options.Username) != string.IsNullOrEmpty(options.Password))
        {
            errors.Add($"{key}: set both Username and Password (an access token) for an https remote, or neither.");
        }

        if (string.IsNullOrWhiteSpace(options.AuthorName) || string.IsNullOrWhiteSpace(options.AuthorEmail))
        {
            errors.Add($"{key}:AuthorName and {key}:AuthorEmail must not be empty.");
        }

        if (options.RetryDelay <= TimeSpan.Zero || options.MaxRetryDelay < options.RetryDelay)
        {
            errors.Add($"{key}:RetryDelay must be positive and at most {key}:MaxRetryDelay.");
        }

        if (options.MaxPending < 1)
        {
            errors.Add($"{key}:MaxPending must be at least 1.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
