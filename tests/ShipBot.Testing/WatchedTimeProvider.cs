using Microsoft.Extensions.Time.Testing;

namespace ShipBot.Testing;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that knows how many of its timers are alive (created and not
/// yet disposed): every deadline, delay and backoff on the injected clock is one. A test waits
/// until exactly the timers it means to fire are left, then advances the clock, so nothing else
/// can time out however slow the machine is.
/// </summary>
public sealed class WatchedTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private int _active;

    /// <summary>Timers created on this clock and not disposed yet.</summary>
    public int ActiveTimers => Volatile.Read(ref _active);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        Interlocked.Increment(ref _active);
        return new Watched(timer, this);
    }

    private sealed class Watched(ITimer inner, WatchedTimeProvider clock) : ITimer
    {
        private int _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref clock._active);
            }

            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
