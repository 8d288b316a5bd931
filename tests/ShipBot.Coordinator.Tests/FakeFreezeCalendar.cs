using ShipBot.Core.Freezes;
using ShipBot.Core.Ports;

namespace ShipBot.Coordinator.Tests;

/// <summary>A freeze calendar with windows set by the test, answered by the same pure rules as the real one.</summary>
internal sealed class FakeFreezeCalendar : IFreezeCalendar
{
    private readonly Lock _gate = new();
    private readonly List<FreezeWindow> _windows = [];

    public IReadOnlyList<FreezeSourceStatus> Sources { get; set; } = [];

    public void Add(FreezeWindow window)
    {
        lock (_gate)
        {
            _windows.Add(window);
        }
    }

    public IReadOnlyList<FreezeWindow> ActiveAt(string service, DateTimeOffset at) => FreezeSchedule.ActiveAt(Snapshot(), service, at);

    public FreezeWindow? Next(string service, DateTimeOffset after) => FreezeSchedule.Next(Snapshot(), service, after);

    public IReadOnlyList<FreezeWindow> Between(string? service, DateTimeOffset from, DateTimeOffset to) =>
        Snapshot().Where(w => (service is null || w.AppliesTo(service)) && w.Start < to && w.End > from).OrderBy(w => w.Start).ToList();

    private List<FreezeWindow> Snapshot()
    {
        lock (_gate)
        {
            return [.. _windows];
        }
    }
}
