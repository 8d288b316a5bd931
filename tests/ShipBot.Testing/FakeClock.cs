using Microsoft.Extensions.Time.Testing;

namespace ShipBot.Testing;

/// <summary>
/// Moves a <see cref="FakeTimeProvider"/> while a call waits on it (backoff, <c>Retry-After</c>,
/// a circuit's break), but only while nothing is in flight: time stands still during an HTTP
/// attempt, so an attempt timeout on the same clock can never fire because the machine is slow.
/// </summary>
public static class FakeClock
{
    /// <summary>How long a drive may take in real time before it gives up: 60 s, for a very busy machine.</summary>
    public static readonly TimeSpan RealDeadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Advances <paramref name="time"/> by <paramref name="step"/> whenever <paramref name="idle"/>
    /// says nothing is in flight, until <paramref name="call"/> finishes; fails if that takes more
    /// than <paramref name="limit"/> of fake time. Returns the fake time advanced.
    /// </summary>
    public static async Task<TimeSpan> DriveAsync(this FakeTimeProvider time, Task call, Func<bool> idle, TimeSpan step, TimeSpan limit)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(idle);
        var advanced = TimeSpan.Zero;
        var deadline = DateTimeOffset.UtcNow + RealDeadline;
        while (!call.IsCompleted)
        {
            await Task.WhenAny(call, Task.Delay(5)).ConfigureAwait(false);
            if (call.IsCompleted)
            {
                break;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"the call did not finish within {RealDeadline.TotalSeconds:0} s of real time (fake time advanced {advanced})");
            }

            if (!idle())
            {
                continue;
            }

            if (advanced >= limit)
            {
                throw new Xunit.Sdk.XunitException($"still waiting after advancing the clock {advanced}");
            }

            time.Advance(step);
            advanced += step;
        }

        await call.ConfigureAwait(false);
        return advanced;
    }
}

/// <summary>Counts the requests between the resilience handler and the network, so a clock driver knows when an attempt is in flight.</summary>
public sealed class InFlightHandler : DelegatingHandler
{
    private int _inFlight;
    private int _sent;

    public InFlightHandler(HttpMessageHandler inner)
        : base(inner)
    {
    }

    /// <summary>Attempts sent and not yet answered.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public bool Idle => InFlight == 0;

    /// <summary>Attempts sent so far.</summary>
    public int Sent => Volatile.Read(ref _sent);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref _sent);
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
