namespace ShipBot.Core.Ports;

/// <summary>
/// Hears about every recorded or filled-in signal (after the store has it): for integrations that
/// mirror signals elsewhere (release records in git). Must be idempotent, must not block, and must
/// not throw for an outage of its own system.
/// </summary>
public interface ISignalObserver
{
    Task OnSignalAsync(Signal signal, CancellationToken cancellationToken = default);
}

/// <summary>How writing release records is going, for the card: the last commit, the last error, what waits.</summary>
/// <param name="Enabled">Whether a records repository is configured.</param>
/// <param name="Repository">The repository's folder (never its remote URL or credentials).</param>
/// <param name="LastCommitAt">When the last milestone was committed; null if none since start-up.</param>
/// <param name="LastCommit">The short id and subject of the last commit; null if none since start-up.</param>
/// <param name="LastError">The error of the last failed attempt, until an attempt succeeds; null when all is well.</param>
/// <param name="LastErrorAt">When that attempt failed.</param>
/// <param name="Pending">Milestones waiting to be written (the first of them is being retried when <paramref name="LastError"/> is set).</param>
/// <param name="Unpushed">Whether commits wait to be pushed (push enabled and the last push failed or has not run yet).</param>
/// <param name="NextRetryAt">When the failed write or push is tried again.</param>
public sealed record RecordsStatus(
    bool Enabled,
    string? Repository,
    DateTimeOffset? LastCommitAt,
    string? LastCommit,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    int Pending,
    bool Unpushed,
    DateTimeOffset? NextRetryAt)
{
    public static RecordsStatus Disabled { get; } = new(false, null, null, null, null, null, 0, false, null);

    public bool IsHealthy => Enabled && LastError is null;

    /// <summary>One line for the card: "Records: last commit 3f2a1c0 at 09:12 UTC" or "Records: cannot write … — retrying at 09:15 UTC (2 pending)".</summary>
    public string Describe()
    {
        if (!Enabled)
        {
            return "Records: no repository configured";
        }

        if (LastError is not null)
        {
            var retry = NextRetryAt is { } r ? $" — retrying at {r.UtcDateTime:HH:mm:ss} UTC" : string.Empty;
            var pending = Pending > 0 ? $" ({Pending} milestone(s) pending)" : Unpushed ? " (commits not pushed yet)" : string.Empty;
            return $"Records: {LastError}{retry}{pending}";
        }

        return LastCommit is null
            ? "Records: up to date, nothing committed since start-up"
            : $"Records: last commit {LastCommit} at {LastCommitAt!.Value.UtcDateTime:yyyy-MM-dd HH:mm} UTC{(Pending > 0 ? $" ({Pending} pending)" : string.Empty)}";
    }
}

/// <summary>Reads how writing release records is going (the card shows it).</summary>
public interface IReleaseRecordsStatus
{
    RecordsStatus Current { get; }
}
