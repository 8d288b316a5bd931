using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Settings;

namespace ShipBot.Core.Releases.Events;

/// <summary>A person started the release: a standard release or a hotfix (<paramref name="ReleaseKind"/>).</summary>
public sealed record Created(ReleaseId Release, Person By, ReleaseKind ReleaseKind) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.Created;
}

/// <summary>How a checklist item was settled.</summary>
public enum Settlement
{
    /// <summary>A person confirmed it.</summary>
    Confirmed,

    /// <summary>ShipBot's own check passed (the note is the evidence).</summary>
    Verified,

    /// <summary>ShipBot's own check failed (the note is the evidence); a person may still confirm it.</summary>
    NotVerified,

    /// <summary>ShipBot ticked an item it owns (the note is the evidence).</summary>
    Ticked,

    /// <summary>An approver waived it (the note is the reason).</summary>
    Waived,
}

/// <summary>One checklist item was settled: how, by whom (<see cref="Person.System"/> for ShipBot's own checks), with what evidence or reason.</summary>
public sealed record ItemSettled(ReleaseId Release, string ItemId, string Label, Settlement How, Person By, string? Note = null) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.ItemSettled;
}

/// <summary>Every blocking item is settled: the release waits for <paramref name="RequiredApprovals"/> approvals.</summary>
public sealed record ReadyForApproval(ReleaseId Release, int RequiredApprovals) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.ReadyForApproval;
}

/// <summary>An approver approved: <paramref name="Count"/> of <paramref name="Required"/>.</summary>
public sealed record Approved(ReleaseId Release, Person By, int Count, int Required) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.Approved;
}

public sealed record Rejected(ReleaseId Release, Person By, string Reason) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.Rejected;
}

public sealed record Aborted(ReleaseId Release, Person By, string Reason) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.Aborted;
}

/// <summary>The approvals are complete: the staging gate starts with a deployment to staging.</summary>
public sealed record StagingStarted(ReleaseId Release) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.StagingStarted;
}

/// <summary>The deployment target confirmed <paramref name="Intent"/>.</summary>
public sealed record DeploymentSucceeded(ReleaseId Release, DeploymentIntent Intent, string Detail) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.DeploymentSucceeded;
}

/// <summary>The deployment target failed a rollback (it is retried); other failed calls stop the line instead.</summary>
public sealed record DeploymentFailed(ReleaseId Release, DeploymentIntent Intent, string Detail) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.DeploymentFailed;
}

public sealed record SmokeChecksPassed(ReleaseId Release, string Detail) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.SmokeChecksPassed;
}

/// <summary>The staging gate is red (deployment or smoke checks): the release is halted, and so is its service.</summary>
public sealed record StagingFailed(ReleaseId Release, string Reason) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.StagingFailed;

    public override bool HaltsService => true;
}

/// <summary>An approver moved the release on by hand: before its bake was over, or out of a stage that waited for an approver.</summary>
/// <param name="By">The approver.</param>
/// <param name="ApprovedWaitingStage">The stage waited for an approver (this is that approval, not an early promotion).</param>
/// <param name="Skipped">Bake time left when it was promoted; zero when none was left.</param>
/// <param name="Bake">The whole bake of the stage it left.</param>
/// <param name="Reason">The approver's reason, trimmed; null when none was given.</param>
public sealed record ManualPromotion(Person By, bool ApprovedWaitingStage, TimeSpan Skipped, TimeSpan Bake, string? Reason);

/// <summary>The sequential judge found the stage safe before its bake was over (and the service allows early promotion).</summary>
/// <param name="Elapsed">How long the judge had looked.</param>
/// <param name="Skipped">Bake time left when it was promoted.</param>
/// <param name="Metrics">The judge's numbers, one line per metric.</param>
public sealed record JudgedPromotion(TimeSpan Elapsed, TimeSpan Skipped, IReadOnlyList<string> Metrics);

/// <summary>
/// The release moved from <paramref name="From"/> ("Staging" or a stage label) to the stage labelled
/// <paramref name="To"/>. Both <paramref name="Manual"/> and <paramref name="Judged"/> are null for the
/// automatic promotion at the end of a green bake.
/// </summary>
public sealed record Promoted(ReleaseId Release, string From, string To, bool FromStaging, ManualPromotion? Manual = null, JudgedPromotion? Judged = null) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.Promoted;
}

/// <summary>The bake of <paramref name="Stage"/> is over, and promotion out of it waits for an approver.</summary>
public sealed record PromotionNeedsApproval(ReleaseId Release, string Stage) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.PromotionNeedsApproval;
}

/// <summary>The release is at 100 %: post-deployment validation runs until <paramref name="Until"/>.</summary>
public sealed record ValidationStarted(ReleaseId Release, DateTimeOffset Until) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.ValidationStarted;
}

public sealed record HandedOver(ReleaseId Release) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.HandedOver;
}

/// <summary>The health verdict at <paramref name="Stage"/> changed status; <paramref name="InconclusiveStreak"/> counts unreadable ones in a row.</summary>
public sealed record HealthChanged(ReleaseId Release, string Stage, HealthVerdict Verdict, int InconclusiveStreak) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.HealthChanged;
}

/// <summary>Health was unreadable <paramref name="Streak"/> evaluations in a row: the release is halted for a human.</summary>
/// <param name="Error">The source's error, or the verdict's summary when it gave none.</param>
public sealed record HealthInconclusive(ReleaseId Release, string Stage, int Streak, string Error) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.HealthInconclusive;

    /// <summary>The halt reason: "health unreadable in 3 evaluations in a row (timeout)".</summary>
    public string Reason => $"health unreadable in {Streak} evaluations in a row ({Error})";
}

/// <summary>What the sequential judge saw when it found harm: how long it looked and its numbers, one line per metric.</summary>
public sealed record JudgeFinding(TimeSpan Elapsed, IReadOnlyList<string> Metrics);

/// <summary>Rollback-action checks breached at <paramref name="Stage"/>; a rollback follows in the same change.</summary>
public sealed record BreachDetected(ReleaseId Release, string Stage, IReadOnlyList<CheckResult> Breaches) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.BreachDetected;

    /// <summary>The sequential judge's numbers when it was the judge that found harm; null for threshold checks.</summary>
    public JudgeFinding? Judge { get; init; }
}

/// <summary>A consult-action check breached at <paramref name="Stage"/>: decision <paramref name="DecisionId"/> asks on-call.</summary>
public sealed record ConsultRequested(ReleaseId Release, string DecisionId, string Stage, CheckResult Breach) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.ConsultRequested;

    /// <summary>The sequential judge's numbers when it was the judge that found harm; null for threshold checks.</summary>
    public JudgeFinding? Judge { get; init; }
}

/// <summary>On-call answered decision <paramref name="DecisionId"/> about <paramref name="Breach"/>.</summary>
public sealed record Decided(ReleaseId Release, Person By, DecisionChoice Choice, string DecisionId, BreachKey Breach) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.Decided;
}

/// <summary>A decision ended unanswered because the release left its stage; <paramref name="Situation"/> says where the release is now.</summary>
public sealed record DecisionClosed(ReleaseId Release, string DecisionId, BreachKey Breach, string Situation) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.DecisionClosed;
}

/// <summary>
/// A rollback started at <paramref name="Stage"/>: by a person (<paramref name="By"/> is their name) with a
/// reason, or by ShipBot (<see cref="Actor.System"/>'s id) with the checks that breached as
/// <paramref name="Evidence"/>. The service halts with it.
/// </summary>
public sealed record RollbackStarted(ReleaseId Release, string Reason, string By, string Stage, IReadOnlyList<CheckResult> Evidence) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.RollbackStarted;

    public override bool HaltsService => true;

    /// <summary>Whether ShipBot started it (a breach, a failed deployment, a decision nobody made).</summary>
    public bool IsAutomatic => By == Actor.System.Id;
}

/// <summary>The deployment target confirmed the rollback.</summary>
public sealed record RolledBack(ReleaseId Release, string Detail) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.RolledBack;
}

/// <summary>The release stopped at <paramref name="Stage"/>; <paramref name="By"/> is the id of whoever stopped the line.</summary>
public sealed record Halted(ReleaseId Release, string Stage, string By, string Reason) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.Halted;
}

public sealed record Paused(ReleaseId Release, Person By, string Stage) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.Paused;
}

/// <summary>The clock restarted; <paramref name="Stage"/> is where the release is again.</summary>
public sealed record Resumed(ReleaseId Release, Person By, string Stage) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.Resumed;
}

public sealed record OutcomeRecorded(ReleaseId Release, OutcomeReport Report) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.OutcomeRecorded;
}

public sealed record FlagRemoved(ReleaseId Release, Person By, string Flag) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.FlagRemoved;
}

/// <summary>Every outcome checkpoint is reported and every flag removed: the release is done.</summary>
public sealed record Completed(ReleaseId Release) : ReleaseEvent(Release)
{
    public override ReleaseEventKind Kind => ReleaseEventKind.Completed;
}
