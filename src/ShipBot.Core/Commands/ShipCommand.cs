using ShipBot.Core.Plans;
using ShipBot.Core.Releases;

namespace ShipBot.Core.Commands;

/// <summary>A parsed <c>/ship</c> command. Release names are resolved by the coordinator (a bare service name means its active release).</summary>
/// <summary>A command about one release (named by <see cref="Release"/>).</summary>
public interface IReleaseCommand
{
    string Release { get; }
}

public abstract record ShipCommand
{
    /// <summary>The verb as typed in chat, for audit and replies.</summary>
    public abstract string Verb { get; }
}

public sealed record StartCommand(string Service, string Version, IReadOnlyList<string> Changes, IReadOnlyList<string> Flags) : ShipCommand
{
    public override string Verb => "start";

    /// <summary>Customer-facing release notes (<c>--notes …</c>); null: written from the changes.</summary>
    public string? Notes { get; init; }

    /// <summary>Where the release comes from (<c>--commit &lt;sha&gt;</c> in chat; commit, pull requests and pipeline run from the API); null: unknown.</summary>
    public ReleaseProvenance? Provenance { get; init; }

    /// <summary>Outcome targets measured only on request (<c>--outcome &lt;name&gt;</c>, repeatable). Default none.</summary>
    public IReadOnlyList<string> Outcomes { get; init; } = [];
}

public sealed record HotfixCommand(string Service, string Version, ReleaseKind Priority, string Reason) : ShipCommand
{
    public override string Verb => "hotfix";

    /// <summary>Customer-facing release notes (<c>--notes …</c>); null: a neutral line, never the incident reason.</summary>
    public string? Notes { get; init; }

    /// <summary>Why this hotfix may go out inside a change freeze (<c>--bypass-freeze "…"</c>); null: a freeze refuses it. On-call or an admin only.</summary>
    public string? BypassFreeze { get; init; }
}

/// <summary>The change-freeze windows in force now and the next ones, for one service or all; with each calendar's state.</summary>
public sealed record FreezesCommand(string? Service) : ShipCommand
{
    public override string Verb => "freezes";
}

/// <summary>The four DORA keys of a service (or of everything) over the last <see cref="Days"/> days, with the chart.</summary>
public sealed record StatsCommand(string? Service, int Days) : ShipCommand
{
    /// <summary>The period when <c>--days</c> is not given.</summary>
    public const int DefaultDays = 28;

    /// <summary>The longest period accepted.</summary>
    public const int MaxDays = 366;

    public override string Verb => "stats";
}

public sealed record StatusCommand(string? Release, bool Audit) : ShipCommand
{
    public override string Verb => "status";
}

public sealed record ListCommand : ShipCommand
{
    public override string Verb => "list";
}

public sealed record ApproveCommand(string Release) : ShipCommand, IReleaseCommand
{
    public override string Verb => "approve";
}

public sealed record RejectCommand(string Release, string Reason) : ShipCommand, IReleaseCommand
{
    public override string Verb => "reject";
}

public sealed record CheckCommand(string Release, IReadOnlyList<string> Items) : ShipCommand, IReleaseCommand
{
    public override string Verb => "check";

    /// <summary>What shows the items are done (from the API); null: none given.</summary>
    public string? Evidence { get; init; }
}

public sealed record WaiveCommand(string Release, string Item, string Reason) : ShipCommand, IReleaseCommand
{
    public override string Verb => "waive";
}

/// <summary>Promote now (skipping the rest of the bake), or approve a promotion that waits for an approver; <see cref="Reason"/> is audited.</summary>
public sealed record PromoteCommand(string Release, string? Reason = null) : ShipCommand, IReleaseCommand
{
    public override string Verb => "promote";
}

public sealed record PauseCommand(string Release) : ShipCommand, IReleaseCommand
{
    public override string Verb => "pause";
}

public sealed record ResumeCommand(string Release) : ShipCommand, IReleaseCommand
{
    public override string Verb => "resume";
}

public sealed record RollbackCommand(string Release, string Reason) : ShipCommand, IReleaseCommand
{
    public override string Verb => "rollback";
}

public sealed record AbortCommand(string Release, string Reason) : ShipCommand, IReleaseCommand
{
    public override string Verb => "abort";
}

/// <summary>
/// <c>halt &lt;service&gt; &lt;reason&gt;</c>, or <c>halt all &lt;reason&gt;</c> (null <see cref="Service"/>): a change freeze of every
/// service. An empty <see cref="Reason"/> is refused by the coordinator after it has checked the service.
/// </summary>
public sealed record HaltCommand(string? Service, string Reason) : ShipCommand
{
    public override string Verb => "halt";
}

public sealed record UnhaltCommand(string? Service, string Reason) : ShipCommand
{
    public override string Verb => "unhalt";
}

public sealed record ContractCommand(string Release) : ShipCommand, IReleaseCommand
{
    public override string Verb => "contract";
}

public sealed record NotesCommand(string Release) : ShipCommand, IReleaseCommand
{
    public override string Verb => "notes";
}

public sealed record OutcomeCommand(string Release) : ShipCommand, IReleaseCommand
{
    public override string Verb => "outcome";
}

public enum SignalKind
{
    Performance,
    Customer,
    Friction,
    Unexpected,
    Incident,
}

public sealed record SignalCommand(SignalKind Kind, string? Release, string Text) : ShipCommand
{
    public override string Verb => "signal";
}

/// <summary>Lists the open signals (a hotfix's post-incident signal until it is filled in) and the latest recorded ones.</summary>
public sealed record SignalsCommand : ShipCommand
{
    public override string Verb => "signals";
}

/// <summary>On-call's answer to a consult card; <see cref="DecisionId"/> names the decision (the card's buttons always do).</summary>
public sealed record DecideCommand(string Release, DecisionChoice Choice, string? DecisionId = null) : ShipCommand, IReleaseCommand
{
    public override string Verb => "decide";
}

/// <summary>Marks one of the release's feature flags removed from the code.</summary>
public sealed record FlagRemovedCommand(string Release, string Flag) : ShipCommand, IReleaseCommand
{
    public override string Verb => "flag-removed";
}

/// <summary>Changes a metric of the simulated health source (only when it is configured).</summary>
public sealed record SimulateCommand(string Service, string Metric, double? Value) : ShipCommand
{
    public override string Verb => "simulate";
}

public sealed record HelpCommand(string? Topic) : ShipCommand
{
    public override string Verb => "help";
}
