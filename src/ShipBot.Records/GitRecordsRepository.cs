using System.Text;
using LibGit2Sharp;
using LibGit2Sharp.Handlers;

namespace ShipBot.Records;

/// <summary>
/// The git side of the records: writes files into the work tree, commits them as ShipBot, pushes.
/// Not thread-safe: <see cref="GitReleaseRecords"/> uses it from one worker.
/// </summary>
internal sealed class GitRecordsRepository(GitRecordsOptions options)
{
    private readonly string _root = Path.GetFullPath(options.Repository!);

    /// <summary>
    /// Makes the files read as given and commits them (only those paths) with
    /// <paramref name="message"/>. Returns the commit, or null when the files already read so
    /// (a repeated milestone). Throws <see cref="RecordsWriteException"/> with a readable reason.
    /// </summary>
    public Commit? Commit(IReadOnlyDictionary<string, string> files, string message, DateTimeOffset when)
    {
        using var repo = Open();
        EnsureBranch(repo);
        foreach (var (relative, content) in files)
        {
            Write(relative, content);
        }

        try
        {
            var paths = files.Keys.ToList();
            Commands.Stage(repo, paths);
            var status = repo.RetrieveStatus(new StatusOptions { PathSpec = [.. paths], IncludeUntracked = true });
            if (!status.IsDirty && repo.Head.Tip is not null)
            {
                return null;
            }

            var signature = new Signature(options.AuthorName, options.AuthorEmail, when);
            return repo.Commit(message, signature, signature, new CommitOptions { AllowEmptyCommit = false });
        }
        catch (EmptyCommitException)
        {
            return null;
        }
        catch (LibGit2SharpException e)
        {
            throw new RecordsWriteException($"cannot commit in {_root}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Pushes the branch. When the remote moved on (another replica pushed), fetches, merges it
    /// (keeping ShipBot's own files as just written, which are rendered from the newest state) and
    /// pushes again.
    /// </summary>
    public void Push(DateTimeOffset when)
    {
        using var repo = Open();
        var branch = EnsureBranch(repo);
        var remote = repo.Network.Remotes[options.Remote] ?? throw new RecordsWriteException($"push failed: {_root} has no remote '{options.Remote}'");
        try
        {
            PushOnce(repo, remote, branch);
        }
        catch (NonFastForwardException)
        {
            FetchAndMerge(repo, remote, branch, when);
            PushOnce(repo, remote, branch);
        }
        catch (RecordsWriteException e) when (e.Message.Contains("non-fast-forward", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("fetch first", StringComparison.OrdinalIgnoreCase))
        {
            FetchAndMerge(repo, remote, branch, when);
            PushOnce(repo, remote, branch);
        }
    }

    /// <summary>The short id and subject of the branch's tip.</summary>
    public static string Describe(Commit commit) => $"{commit.Sha[..7]} {commit.MessageShort}";

    private Repository Open()
    {
        try
        {
            return new Repository(_root);
        }
        catch (LibGit2SharpException e)
        {
            throw new RecordsWriteException($"cannot open the records repository {_root}: {e.Message}", e);
        }
    }

    private string EnsureBranch(Repository repo)
    {
        var wanted = options.Branch;
        if (wanted is null || repo.Head.FriendlyName == wanted)
        {
            return repo.Head.FriendlyName;
        }

        try
        {
            var local = repo.Branches[wanted];
            if (local is null)
            {
                var tracked = repo.Branches[$"{options.Remote}/{wanted}"];
                local = tracked is not null
                    ? repo.Branches.Update(repo.CreateBranch(wanted, tracked.Tip), b => b.TrackedBranch = tracked.CanonicalName)
                    : repo.Head.Tip is null ? null : repo.CreateBranch(wanted);
            }

            if (local is null)
            {
                // An empty repository: the first commit creates the branch HEAD points to.
                repo.Refs.UpdateTarget("HEAD", $"refs/heads/{wanted}");
                return wanted;
            }

            Commands.Checkout(repo, local);
            return wanted;
        }
        catch (LibGit2SharpException e)
        {
            throw new RecordsWriteException($"cannot check out branch '{wanted}' in {_root}: {e.Message}", e);
        }
    }

    private void Write(string relative, string content)
    {
        var path = Path.GetFullPath(Path.Combine(_root, relative));
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new RecordsWriteException($"refusing to write outside the repository: {relative}");
        }

        try
        {
            if (File.Exists(path) && File.ReadAllText(path, Encoding.UTF8) == content)
            {
                return;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RecordsWriteException($"cannot write {relative} in {_root}: {e.Message}", e);
        }
    }

    private void PushOnce(Repository repo, Remote remote, string branch)
    {
        string? rejected = null;
        var push = new PushOptions
        {
            CredentialsProvider = Credentials(),
            OnPushStatusError = error => rejected = $"{error.Reference}: {error.Message}",
        };
        try
        {
            repo.Network.Push(remote, $"refs/heads/{branch}:refs/heads/{branch}", push);
        }
        catch (NonFastForwardException)
        {
            throw;
        }
        catch (LibGit2SharpException e)
        {
            throw new RecordsWriteException($"push to {options.Remote} failed: {e.Message}", e);
        }

        if (rejected is not null)
        {
            throw new RecordsWriteException($"push to {options.Remote} was rejected: {rejected}");
        }
    }

    private void FetchAndMerge(Repository repo, Remote remote, string branch, DateTimeOffset when)
    {
        try
        {
            var refspec = $"+refs/heads/{branch}:refs/remotes/{remote.Name}/{branch}";
            Commands.Fetch(repo, remote.Name, [refspec], new FetchOptions { CredentialsProvider = Credentials() }, null);
            var theirs = repo.Branches[$"{remote.Name}/{branch}"] ?? throw new RecordsWriteException($"push failed: {remote.Name}/{branch} vanished");
            var signature = new Signature(options.AuthorName, options.AuthorEmail, when);
            var result = repo.Merge(theirs, signature, new MergeOptions
            {
                FileConflictStrategy = CheckoutFileConflictStrategy.Ours,
                MergeFileFavor = MergeFileFavor.Ours,
                CommitOnSuccess = true,
            });
            if (result.Status == MergeStatus.Conflicts)
            {
                throw new RecordsWriteException($"cannot merge {remote.Name}/{branch} into the records: conflicts remain");
            }
        }
        catch (LibGit2SharpException e)
        {
            throw new RecordsWriteException($"push to {options.Remote} failed and fetching it failed too: {e.Message}", e);
        }
    }

    private CredentialsHandler? Credentials() =>
        string.IsNullOrEmpty(options.Username)
            ? null
            : (_, _, _) => new UsernamePasswordCredentials { Username = options.Username, Password = options.Password ?? string.Empty };
}

/// <summary>Writing or pushing the records failed; the message says why in words fit for the card.</summary>
public sealed class RecordsWriteException(string message, Exception? inner = null) : Exception(message, inner);
