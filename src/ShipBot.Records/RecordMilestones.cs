using ShipBot.Core.Releases;

namespace ShipBot.Records;

/// <summary>
/// Which transitions are milestones (one commit each): created, approved, staging failed, each
/// promotion, halted, rollback started and done, validation started, handed over, each outcome
/// report, completed, rejected, aborted. Other transitions (ticks, health readings, deployment
/// confirmations) are not committed on their own; their changes ride along with the next milestone.
/// </summary>
public static class RecordMilestones
{
    private static readonly HashSet<ReleaseEventKind> Kinds =
    [
        ReleaseEventKind.Created,
        ReleaseEventKind.Approved,
        ReleaseEventKind.StagingFailed,
        ReleaseEventKind.Promoted,
        ReleaseEventKind.Halted,
        ReleaseEventKind.RollbackStarted,
        ReleaseEventKind.RolledBack,
        ReleaseEventKind.ValidationStarted,
        ReleaseEventKind.HandedOver,
        ReleaseEventKind.OutcomeRecorded,
        ReleaseEventKind.Completed,
        ReleaseEventKind.Rejected,
        ReleaseEventKind.Aborted,
    ];

    public static bool IsMilestone(ReleaseEventKind kind) => Kinds.Contains(kind);

    /// <summary>The commit message of a transition, or null when it is no milestone: "checkout@1.4.2: …" then the other events.</summary>
    public static string? CommitMessage(Release next, IReadOnlyList<ReleaseEvent> events)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(events);
        var milestones = events.Where(e => IsMilestone(e.Kind)).ToList();
        if (milestones.Count == 0)
        {
            return null;
        }

        var subject = $"{next.Id}: {OneLine(milestones[^1].Summary)}";
        var body = events.Where(e => e != milestones[^1]).Select(e => $"- {OneLine(e.Summary)}").ToList();
        return body.Count == 0 ? subject : $"{subject}\n\n{string.Join("\n", body)}";
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
