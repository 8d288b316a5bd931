using ShipBot.Core.Delivery;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator;

/// <summary>What a chat or API surface needs from ShipBot: hand it a typed or clicked command, get the reply to show.</summary>
public interface IReleaseCommands
{
    /// <summary>Who may do what, for surfaces that show it (the console's user list, the API's token check). Never a substitute for the coordinator's own role checks.</summary>
    AccessPolicy Access { get; }

    /// <summary>
    /// Handles one command. A repeated <see cref="InboundCommand.RequestId"/> gets the first answer
    /// and changes nothing. Never throws for bad input or refused rules: the reply says why.
    /// </summary>
    Task<CommandReply> HandleAsync(InboundCommand inbound, CancellationToken cancellationToken = default);
}

/// <summary>A monitoring system's pushed alerts (Alertmanager, a router's own analysis).</summary>
public interface IAlertIntake
{
    /// <summary>Judges a firing alert at once against the service's active release; one firing acts once per release.</summary>
    Task<AlertResult> OnAlertAsync(ExternalAlert alert, CancellationToken cancellationToken = default);
}

/// <summary>The scheduler's side: timers that fire, recovery at start-up and the sweep of releases armed elsewhere.</summary>
public interface IReleaseTimers
{
    /// <summary>Runs one timer; safe to call twice or on two replicas.</summary>
    Task OnTimerAsync(ReleaseId id, TimerKind kind, CancellationToken cancellationToken = default);

    /// <summary>Rebuilds every active release's timers; returns how many releases.</summary>
    Task<int> RecoverAsync(CancellationToken cancellationToken = default);

    /// <summary>Arms the timers of active releases this instance does not know yet; returns how many.</summary>
    Task<int> SweepAsync(CancellationToken cancellationToken = default);
}

/// <summary>ShipBot as Flagger's gate (<c>POST /hooks/flagger/{gate}</c>).</summary>
public interface IFlaggerGate
{
    /// <summary>Answers one call of a Flagger webhook; never throws for a refused rule.</summary>
    Task<FlaggerAnswer> OnFlaggerHookAsync(FlaggerHook hook, CancellationToken cancellationToken = default);
}

/// <summary>The delivery keys (DORA) for <c>GET /api/stats</c> and its chart.</summary>
public interface IDeliveryReports
{
    /// <summary>The four keys over the <paramref name="days"/> days before now, for one service, one channel or everything.</summary>
    Task<DoraReport> DeliveryReportAsync(string? service, string? channel, int days, CancellationToken cancellationToken = default);

    /// <summary>The chart of <paramref name="report"/>, or null when none can be published.</summary>
    Task<string?> ChartLinkAsync(DoraReport report, CancellationToken cancellationToken = default);
}
