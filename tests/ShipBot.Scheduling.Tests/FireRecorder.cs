using Quartz;
using Quartz.Extensibility;

namespace ShipBot.Scheduling.Tests;

/// <summary>
/// A Quartz job listener: every run of the jobs it listens to, as Quartz planned it (the scheduled
/// fire time) and when it finished, and how many runs are in progress. Tests read Quartz's own plan
/// instead of timing the machine.
/// </summary>
internal sealed class FireRecorder : IJobListener
{
    private readonly Lock _gate = new();
    private readonly List<(DateTimeOffset Scheduled, DateTimeOffset Finished)> _fires = [];
    private int _running;

    public string Name { get; } = $"fires-{Guid.NewGuid():N}";

    /// <summary>Runs started and not finished yet.</summary>
    public int Running => Volatile.Read(ref _running);

    public IReadOnlyList<(DateTimeOffset Scheduled, DateTimeOffset Finished)> Fires
    {
        get
        {
            lock (_gate)
            {
                return [.. _fires];
            }
        }
    }

    public ValueTask JobToBeExecuted(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _running);
        return ValueTask.CompletedTask;
    }

    public ValueTask JobExecutionVetoed(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _fires.Add((context.ScheduledFireTimeUtc ?? context.FireTimeUtc, TimeProvider.System.GetUtcNow()));
        }

        Interlocked.Decrement(ref _running);
        return ValueTask.CompletedTask;
    }

    public ValueTask JobProgressChanged(IJobExecutionContext context, FireInstanceProgress progress, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
