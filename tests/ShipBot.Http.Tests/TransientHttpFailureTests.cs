using System.Net;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace ShipBot.Http.Tests;

/// <summary>The one predicate every outgoing client retries on.</summary>
public sealed class TransientHttpFailureTests
{
    [Theory]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    [InlineData((HttpStatusCode)599)]
    public void IsTransient_TryAgainStatus_IsTransient(HttpStatusCode status)
    {
        using var answer = new HttpResponseMessage(status);

        Assert.True(TransientHttpFailure.IsTransient(Outcome.FromResult(answer)));
    }

    [Theory]
    [InlineData(HttpStatusCode.OK)]
    [InlineData(HttpStatusCode.NoContent)]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.PreconditionFailed)]
    [InlineData(HttpStatusCode.UnprocessableEntity)]
    public void IsTransient_SuccessOrRefusal_IsNotTransient(HttpStatusCode status)
    {
        using var answer = new HttpResponseMessage(status);

        Assert.False(TransientHttpFailure.IsTransient(Outcome.FromResult(answer)));
    }

    [Fact]
    public void IsTransient_NetworkErrorOrAttemptTimeout_IsTransient()
    {
        Assert.True(TransientHttpFailure.IsTransient(Outcome.FromException<HttpResponseMessage>(new HttpRequestException("connection refused"))));
        Assert.True(TransientHttpFailure.IsTransient(Outcome.FromException<HttpResponseMessage>(new TimeoutRejectedException())));
    }

    [Fact]
    public void IsTransient_CancellationOpenCircuitOrBug_IsNotTransient()
    {
        Assert.False(TransientHttpFailure.IsTransient(Outcome.FromException<HttpResponseMessage>(new TaskCanceledException())));
        Assert.False(TransientHttpFailure.IsTransient(Outcome.FromException<HttpResponseMessage>(new OperationCanceledException())));
        Assert.False(TransientHttpFailure.IsTransient(Outcome.FromException<HttpResponseMessage>(new BrokenCircuitException())));
        Assert.False(TransientHttpFailure.IsTransient(Outcome.FromException<HttpResponseMessage>(new InvalidOperationException())));
    }

    [Fact]
    public void IsTransient_ProtocolWithItsOwnStatuses_UsesThemForAnswersOnly()
    {
        static bool BotFramework(HttpResponseMessage r) => TransientHttpFailure.HasStatus(r, HttpStatusCode.PreconditionFailed, HttpStatusCode.BadGateway);
        using var preconditionFailed = new HttpResponseMessage(HttpStatusCode.PreconditionFailed);
        using var serverError = new HttpResponseMessage(HttpStatusCode.InternalServerError);

        Assert.True(TransientHttpFailure.IsTransient(Outcome.FromResult(preconditionFailed), BotFramework));
        Assert.False(TransientHttpFailure.IsTransient(Outcome.FromResult(serverError), BotFramework));
        Assert.True(TransientHttpFailure.IsTransient(Outcome.FromException<HttpResponseMessage>(new HttpRequestException()), BotFramework));
    }
}
