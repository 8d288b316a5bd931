using Microsoft.Extensions.Time.Testing;

namespace ShipBot.GitHub.Tests.Emulation;

/// <summary>
/// A fake clock (<see cref="FakeTimeProvider"/>) that knows which of its timers are pending, so a
/// test can move time exactly to the next thing the code waits for (a poll interval, a
/// Retry-After, a backoff) instead of guessing steps or sleeping. Time moves only when the test
/// says; the emulated GitHub reads the same clock, so token expiry and run progress follow it.
/// </summary>
internal sealed class SteppingClock : TimeProvider
{
    private readonly FakeTimeProvider _inner;
    private readonly List<TrackedTimer> _timers = [];
    private TaskCompletionSource _timerCreated = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SteppingClock(DateTimeOffset start)
    {
        _inner = new FakeTimeProvider(start);
    }

    public static DateTimeOffset Start { get; } = new(2026, 3, 3, 9, 0, 0, TimeSpan.Zero);

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override long TimestampFrequency => _inner.TimestampFrequency;

    public override DateTimeOffset GetUtcNow() => _inner.GetUtcNow();

    public override long GetTimestamp() => _inner.GetTimestamp();

    public void Advance(TimeSpan by) => _inner.Advance(by);

    /// <summary>When the earliest pending timer is due, or null when nothing waits on the clock.</summary>
    public DateTimeOffset? NextDue
    {
        get
        {
            lock (_timers)
            {
                return _timers.Select(t => t.Due()).Where(d => d is not null).Min();
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var tracked = new TrackedTimer(this);
        tracked.Inner = _inner.CreateTimer(
            s =>
            {
                tracked.Fired();
                callback(s);
            },
            state,
            dueTime,
            period);
        tracked.Schedule(dueTime, period);
        TaskCompletionSource created;
        lock (_timers)
        {
            _timers.Add(tracked);
            created = _timerCreated;
            _timerCreated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        created.TrySetResult();
        return tracked;
    }

    /// <summary>Moves time to the next pending timer (firing it); false when nothing waits on the clock.</summary>
    public bool AdvanceToNextTimer()
    {
        if (NextDue is not { } due)
        {
            return false;
        }

        var by = due - GetUtcNow();
        _inner.Advance(by > TimeSpan.Zero ? by : TimeSpan.Zero);
        return true;
    }

    /// <summary>
    /// Runs <paramref name="work"/> to its end, moving the clock to each timer it (or anything
    /// else on this clock) waits for. Fails after <paramref name="deadline"/> of real time, a
    /// generous bound for a slow machine, never a verdict on speed.
    /// </summary>
    public async Task<T> RunAsync<T>(Task<T> work, TimeSpan? deadline = null)
    {
        await DriveAsync(work, deadline);
        return await work;
    }

    public async Task RunAsync(Task work, TimeSpan? deadline = null)
    {
        await DriveAsync(work, deadline);
        await work;
    }

    /// <summary>Moves the clock from timer to timer until <paramref name="condition"/> holds.</summary>
    public async Task RunUntilAsync(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(60));
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"Still waiting for {what} at {GetUtcNow():O}.");
            }

            if (!AdvanceToNextTimer())
            {
                await WaitForTimerOrDelayAsync(Task.CompletedTask);
            }
            else
            {
                await Task.Yield();
            }
        }
    }

    private async Task DriveAsync(Task work, TimeSpan? deadline)
    {
        var until = DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(60));
        while (!work.IsCompleted)
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"The work did not finish; the fake clock is at {GetUtcNow():O}.");
            }

            if (!AdvanceToNextTimer())
            {
                // Nothing waits on the clock: the code is doing I/O. Wait for it, or for its next timer.
                await WaitForTimerOrDelayAsync(work);
            }
            else
            {
                await Task.Yield();
            }
        }
    }

    private async Task WaitForTimerOrDelayAsync(Task work)
    {
        Task created;
        lock (_timers)
        {
            created = _timerCreated.Task;
        }

        // The short real delay only paces this loop while I/O is in flight; it decides nothing.
        await Task.WhenAny(work, created, Task.Delay(20));
    }

    private void Remove(TrackedTimer timer)
    {
        lock (_timers)
        {
            _timers.Remove(timer);
        }
    }

    private sealed class TrackedTimer(SteppingClock clock) : ITimer
    {
        private readonly Lock _gate = new();
        private TimeSpan _period = Timeout.InfiniteTimeSpan;

        public ITimer Inner { get; set; } = null!;

        private DateTimeOffset? _dueAt;

        public DateTimeOffset? Due()
        {
            lock (_gate)
            {
                return _dueAt;
            }
        }

        public void Schedule(TimeSpan dueTime, TimeSpan period)
        {
            lock (_gate)
            {
                _period = period;
                _dueAt = dueTime == Timeout.InfiniteTimeSpan ? null : clock.GetUtcNow() + dueTime;
            }
        }

        public void Fired()
        {
            lock (_gate)
            {
                _dueAt = _period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero ? null : clock.GetUtcNow() + _period;
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Schedule(dueTime, period);
            return Inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            Inner.Dispose();
            clock.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
