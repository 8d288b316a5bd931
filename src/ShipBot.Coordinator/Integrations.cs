using ShipBot.Coordinator.Identity;
using ShipBot.Core.Ports;

namespace ShipBot.Coordinator;

/// <summary>
/// The optional integrations the host plugs in after construction (the coordinator's <c>init</c>
/// properties write here); the rooms read them when they need them. Every one may be absent.
/// </summary>
internal sealed class Integrations
{
    public IJudgeCharts? JudgeCharts { get; set; }

    public IReleaseRecordsStatus? Records { get; set; }

    public IReadOnlyList<ISignalObserver> SignalObservers { get; set; } = [];

    public IDeliveryCharts? DeliveryCharts { get; set; }

    public IOutcomeSource? OutcomeSource { get; set; }

    public IFreezeCalendar? Freezes { get; set; }

    public ApiTokenService? Tokens { get; set; }
}
