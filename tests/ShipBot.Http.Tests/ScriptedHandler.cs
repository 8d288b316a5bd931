using System.Net;

namespace ShipBot.Http.Tests;

/// <summary>One attempt as the network saw it, at the test's clock.</summary>
internal sealed record Attempt(int Number, DateTimeOffset At, string? Body);

/// <summary>
/// The network under a resilience handler: answers each attempt from a script (the last entry
/// repeats) and records when it came, on the injected clock. An entry may hang until the attempt is
/// cancelled.
/// </summary>
internal sealed class ScriptedHandler(TimeProvider time, params Func<HttpResponseMessage?>[] script) : HttpMessageHandler
{
    private readonly Lock _gate = new();
    private readonly List<Attempt> _attempts = [];
    private int _inFlight;

    /// <summary>An entry that never answers: the attempt waits until it is cancelled.</summary>
    public static Func<HttpResponseMessage?> Hang => () => null;

    public IReadOnlyList<Attempt> Attempts
    {
        get
        {
            lock (_gate)
            {
                return [.. _attempts];
            }
        }
    }

    public bool Idle => Volatile.Read(ref _inFlight) == 0;

    public static Func<HttpResponseMessage?> Status(HttpStatusCode status, TimeSpan? retryAfter = null) => () =>
    {
        var answer = new HttpResponseMessage(status) { Content = new StringContent(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        if (retryAfter is { } wait)
        {
            answer.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(wait);
        }

        return answer;
    };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            int number;
            var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                number = _attempts.Count + 1;
                _attempts.Add(new Attempt(number, time.GetUtcNow(), body));
            }

            if (script[Math.Min(number, script.Length) - 1]() is { } answer)
            {
                return answer;
            }

            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException("unreachable");
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
