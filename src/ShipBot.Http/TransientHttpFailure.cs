using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace ShipBot.Http;

/// <summary>
/// The one definition of "worth another try" for ShipBot's outgoing HTTP calls (Slack's Web API,
/// the Bot Connector, deployment webhooks). An attempt that got no answer is transient: a network
/// error (<see cref="HttpRequestException"/>) or an attempt that ran out of time
/// (<see cref="Polly.Timeout.TimeoutRejectedException"/>), never a cancellation the caller asked for.
/// An answer is transient when its status says "try again": by default 408, 429 and every 5xx;
/// a protocol that documents a narrower set (the Bot Framework retries 412, 429, 502 and 504 only)
/// passes it as <paramref name="retryableAnswer"/>.
/// </summary>
public static class TransientHttpFailure
{
    /// <summary>Whether the outcome of one attempt is worth another try.</summary>
    /// <param name="outcome">The answer or the exception of the attempt.</param>
    /// <param name="retryableAnswer">Which answers are transient; null: <see cref="IsTransientAnswer"/>.</param>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome, Func<HttpResponseMessage, bool>? retryableAnswer = null) => outcome switch
    {
        { Result: { } answer } => (retryableAnswer ?? IsTransientAnswer)(answer),
        { Exception: { } } => HttpClientResiliencePredicates.IsTransient(outcome),
        _ => false,
    };

    /// <summary>408 Request Timeout, 429 Too Many Requests and every 5xx: the framework's (and Polly's) transient statuses.</summary>
    public static bool IsTransientAnswer(HttpResponseMessage answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return HttpClientResiliencePredicates.IsTransient(Outcome.FromResult(answer));
    }

    /// <summary>Whether <paramref name="answer"/> has one of <paramref name="statuses"/>.</summary>
    public static bool HasStatus(HttpResponseMessage answer, params ReadOnlySpan<HttpStatusCode> statuses)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return statuses.Contains(answer.StatusCode);
    }
}
