using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using ShipBot.Slack.Tests.TestSupport;
using ShipBot.Testing;

namespace ShipBot.Slack.Tests;

/// <summary>The Web API client over a stub handler: wire format, errors, Retry-After and retries on the injected clock.</summary>
public sealed class SlackWebApiTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 3, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);

    private static JsonObject Message => new() { ["text"] = "hello", ["blocks"] = new JsonArray(new JsonObject { ["type"] = "divider" }) };

    private SlackWebApi CreateSut(StubSlackHandler handler, SlackOptions? options = null)
    {
        _handler = handler;
        return SlackApiFactory.Create(handler, _time, options);
    }

    private StubSlackHandler? _handler;

    /// <summary>
    /// Advances the fake clock in small steps until <paramref name="task"/> finishes (the retries
    /// wait on timers of the injected clock); time moves only while no attempt is being answered.
    /// </summary>
    private Task<TimeSpan> DriveAsync(Task task, TimeSpan step, TimeSpan limit) =>
        _time.DriveAsync(task, () => _handler?.Idle ?? true, step, limit);

    private static void AssertJsonCall(RecordedRequest request, string method)
    {
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal(new Uri($"https://slack.test/api/{method}"), request.Uri);
        Assert.Equal("Bearer", request.Authorization?.Scheme);
        Assert.Equal(SlackApiFactory.BotToken, request.Authorization?.Parameter);
        Assert.Equal("application/json", request.ContentType?.MediaType);
        Assert.Equal("utf-8", request.ContentType?.CharSet);
    }

    [Fact]
    public async Task PostMessageAsync_Always_PostsJsonWithBearerTokenAndTheChannel()
    {
        var handler = new StubSlackHandler(_ => StubSlackHandler.Ok("\"channel\":\"C1\",\"ts\":\"1.1\""));
        var sut = CreateSut(handler);

        var answer = await sut.PostMessageAsync("C1", Message);

        var request = Assert.Single(handler.Requests);
        AssertJsonCall(request, "chat.postMessage");
        Assert.Equal("C1", (string?)request.Json["channel"]);
        Assert.Equal("hello", (string?)request.Json["text"]);
        Assert.Equal("divider", (string?)request.Json["blocks"]![0]!["type"]);
        Assert.Null(request.Json["thread_ts"]);
        Assert.Null(request.Json["reply_broadcast"]);
        Assert.Equal("1.1", (string?)answer["ts"]);
    }

    [Fact]
    public async Task PostMessageAsync_InThreadWithBroadcast_SendsThreadTsAndReplyBroadcast()
    {
        var handler = new StubSlackHandler(_ => StubSlackHandler.Ok("\"ts\":\"2.2\""));
        var sut = CreateSut(handler);

        await sut.PostMessageAsync("C1", Message, threadTs: "1.1", broadcast: true);

        var body = Assert.Single(handler.Requests).Json;
        Assert.Equal("1.1", (string?)body["thread_ts"]);
        Assert.True((bool?)body["reply_broadcast"]);
    }

    [Fact]
    public async Task PostMessageAsync_Always_LeavesTheCallersMessageUntouched()
    {
        var handler = new StubSlackHandler(_ => StubSlackHandler.Ok());
        var sut = CreateSut(handler);
        var message = Message;

        await sut.PostMessageAsync("C1", message, "1.1", broadcast: true);

        Assert.Null(message["channel"]);
        Assert.Null(message["thread_ts"]);
    }

    [Fact]
    public async Task UpdateAsync_Always_PostsJsonWithChannelAndTs()
    {
        var handler = new StubSlackHandler(_ => StubSlackHandler.Ok());
        var sut = CreateSut(handler);

        await sut.UpdateAsync(new SlackMessageRef("C1", "1.1"), Message);

        var request = Assert.Single(handler.Requests);
        AssertJsonCall(request, "chat.update");
        Assert.Equal("C1", (string?)request.Json["channel"]);
        Assert.Equal("1.1", (string?)request.Json["ts"]);
        Assert.Equal("hello", (string?)request.Json["text"]);
    }

    [Fact]
    public async Task PostEphemeralAsync_Always_PostsJsonWithChannelAndUser()
    {
        var handler = new StubSlackHandler(_ => StubSlackHandler.Ok());
        var sut = CreateSut(handler);

        await sut.PostEphemeralAsync("C1", "U1", Message);

        var request = Assert.Single(handler.Requests);
        AssertJsonCall(request, "chat.postEphemeral");
        Assert.Equal("C1", (string?)request.Json["channel"]);
        Assert.Equal("U1", (string?)request.Json["user"]);
    }

    [Fact]
    public async Task UserGroupMembersAsync_Always_PostsFormFieldsWithBearerToken()
    {
        var handler = new StubSlackHandler(_ => StubSlackHandler.Ok("\"users\":[\"U1\",\"U2\"]"));
        var sut = CreateSut(handler);

        var members = await sut.UserGroupMembersAsync("S0PAYMENTS");

        var request = Assert.Single(handler.Requests);
        Assert.Equal(new Uri("https://slack.test/api/usergroups.users.list"), request.Uri);
        Assert.Equal("Bearer", request.Authorization?.Scheme);
        Assert.Equal(SlackApiFactory.BotToken, request.Authorization?.Parameter);
        Assert.Equal("application/x-www-form-urlencoded", request.ContentType?.MediaType);
        Assert.Equal("usergroup=S0PAYMENTS", request.Body);
        Assert.Equal(["U1", "U2"], members);
    }

    [Fact]
    public async Task CallAsync_OkFalse_ThrowsSlackApiExceptionWithTheErrorCode()
    {
        var handler = new StubSlackHandler(_ => StubSlackHandler.Json("""{"ok":false,"error":"channel_not_found"}"""));
        var sut = CreateSut(handler);

        var ex = await Assert.ThrowsAsync<SlackApiException>(() => sut.PostMessageAsync("C404", Message));

        Assert.Equal("channel_not_found", ex.Error);
        Assert.Equal("chat.postMessage", ex.Method);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task CallAsync_RateLimitedWithRetryAfterOneSecond_WaitsThenSucceeds()
    {
        var attempts = 0;
        var handler = new StubSlackHandler(_ => Interlocked.Increment(ref attempts) == 1 ? StubSlackHandler.RateLimited(TimeSpan.FromSeconds(1)) : StubSlackHandler.Ok("\"ts\":\"1.1\""), _time);
        var sut = CreateSut(handler);

        var call = sut.PostMessageAsync("C1", Message);
        await DriveAsync(call, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));

        Assert.Equal("1.1", (string?)(await call)["ts"]);
        var requests = handler.Requests;
        Assert.Equal(2, requests.Count);
        var waited = requests[1].At - requests[0].At;
        Assert.InRange(waited, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));
        Assert.Equal(requests[0].Body, requests[1].Body);
    }

    [Fact]
    public async Task CallAsync_RateLimitedWithRetryAfterOneSecond_DoesNotRetryBeforeTheSecondIsOver()
    {
        var attempts = 0;
        var handler = new StubSlackHandler(_ => Interlocked.Increment(ref attempts) == 1 ? StubSlackHandler.RateLimited(TimeSpan.FromSeconds(1)) : StubSlackHandler.Ok(), _time);
        var sut = CreateSut(handler);

        var call = sut.PostMessageAsync("C1", Message);
        await Eventually.UntilAsync(() => handler.Requests.Count == 1 && handler.Idle, "the first call to be answered");
        for (var i = 0; i < 9; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        // Nothing can be due before the second is over: whatever the machine's speed, the retry has not started.
        Assert.False(call.IsCompleted);
        Assert.Single(handler.Requests);
        await DriveAsync(call, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task CallAsync_RetryAfterLongerThanMaxRetryAfter_FailsWithoutWaiting()
    {
        var handler = new StubSlackHandler(_ => StubSlackHandler.RateLimited(TimeSpan.FromSeconds(120)), _time);
        var sut = CreateSut(handler, SlackApiFactory.Options(o => o.MaxRetryAfter = TimeSpan.FromSeconds(60)));

        // The clock never moves: a wait would hang the call, and the test would time out.
        var call = sut.PostMessageAsync("C1", Message);
        var finished = await Task.WhenAny(call, Task.Delay(Eventually.Deadline));

        Assert.Same(call, finished);
        var ex = await Assert.ThrowsAsync<SlackApiException>(() => call);
        Assert.Equal("ratelimited", ex.Error);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task CallAsync_RateLimitedOnEveryAttempt_GivesUpAfterMaxRetries()
    {
        var handler = new StubSlackHandler(_ => StubSlackHandler.RateLimited(TimeSpan.FromSeconds(1)), _time);
        var sut = CreateSut(handler, SlackApiFactory.Options(o => o.MaxRetries = 2));

        var call = sut.PostMessageAsync("C1", Message);
        var ex = await Assert.ThrowsAsync<SlackApiException>(async () => await DriveAsync(call, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30)));

        Assert.Equal("ratelimited", ex.Error);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    public async Task CallAsync_ServerErrorThenOk_RetriesAndSucceeds(HttpStatusCode status)
    {
        var attempts = 0;
        var handler = new StubSlackHandler(_ => Interlocked.Increment(ref attempts) == 1 ? StubSlackHandler.Json("oops", status) : StubSlackHandler.Ok("\"ts\":\"9.9\""), _time);
        var sut = CreateSut(handler);

        var call = sut.PostMessageAsync("C1", Message);
        await DriveAsync(call, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(30));

        Assert.Equal("9.9", (string?)(await call)["ts"]);
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task CallAsync_NetworkErrorThenOk_RetriesAndSucceeds()
    {
        var attempts = 0;
        var handler = new StubSlackHandler(
            _ => Interlocked.Increment(ref attempts) == 1 ? throw new HttpRequestException("connection reset") : StubSlackHandler.Ok(),
            _time);
        var sut = CreateSut(handler);

        var call = sut.PostMessageAsync("C1", Message);
        await DriveAsync(call, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(30));

        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task CallAsync_ServerErrorOnEveryAttempt_ThrowsSlackApiExceptionWithTheStatus()
    {
        var handler = new StubSlackHandler(_ => StubSlackHandler.Json("<html>bad gateway</html>", HttpStatusCode.BadGateway), _time);
        var sut = CreateSut(handler, SlackApiFactory.Options(o => o.MaxRetries = 2));

        var call = sut.PostMessageAsync("C1", Message);
        var ex = await Assert.ThrowsAsync<SlackApiException>(async () => await DriveAsync(call, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(60)));

        Assert.Equal("http_502", ex.Error);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Fact]
    public async Task CallAsync_ClientError_IsNotRetried()
    {
        var handler = new StubSlackHandler(_ => StubSlackHandler.Json("""{"ok":false,"error":"invalid_auth"}""", HttpStatusCode.Unauthorized), _time);
        var sut = CreateSut(handler);

        var ex = await Assert.ThrowsAsync<SlackApiException>(() => sut.PostMessageAsync("C1", Message));

        Assert.Equal("invalid_auth", ex.Error);
        Assert.Single(handler.Requests);
    }

    [Theory]
    [InlineData("<html><body>Gateway</body></html>")]
    [InlineData("")]
    [InlineData("[1,2]")]
    [InlineData("null")]
    [InlineData("{\"ok\":true")]
    public async Task CallAsync_AnswerIsNotAJsonObject_ThrowsSlackApiException(string body)
    {
        var handler = new StubSlackHandler(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "text/html") });
        var sut = CreateSut(handler);

        var ex = await Assert.ThrowsAsync<SlackApiException>(() => sut.PostMessageAsync("C1", Message));

        Assert.Equal("http_200", ex.Error);
    }

    [Theory]
    [InlineData("""{"ok":"true"}""")]
    [InlineData("""{"ok":false,"error":42}""")]
    public async Task CallAsync_WebApiAnswerOfTheWrongShape_ThrowsSlackApiException(string body)
    {
        var handler = new StubSlackHandler(_ => StubSlackHandler.Json(body));
        var sut = CreateSut(handler);

        await Assert.ThrowsAsync<SlackApiException>(() => sut.PostMessageAsync("C1", Message));
    }

    [Fact]
    public async Task CallAsync_RetryAfterAsHttpDate_WaitsUntilThatDateOnTheInjectedClock()
    {
        var attempts = 0;
        var handler = new StubSlackHandler(r =>
        {
            if (Interlocked.Increment(ref attempts) > 1)
            {
                return StubSlackHandler.Ok();
            }

            var limited = StubSlackHandler.Json("""{"ok":false,"error":"ratelimited"}""", HttpStatusCode.TooManyRequests);
            limited.Headers.RetryAfter = new RetryConditionHeaderValue(r.At.AddSeconds(2));
            return limited;
        }, _time);
        var sut = CreateSut(handler);

        var call = sut.PostMessageAsync("C1", Message);
        await DriveAsync(call, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));

        var requests = handler.Requests;
        Assert.Equal(2, requests.Count);
        Assert.InRange(requests[1].At - requests[0].At, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task CallAsync_CallerCancels_StopsWaitingForRetryAfter()
    {
        var handler = new StubSlackHandler(_ => StubSlackHandler.RateLimited(TimeSpan.FromSeconds(30)), _time);
        var sut = CreateSut(handler);
        using var cts = new CancellationTokenSource();

        var call = sut.PostMessageAsync("C1", Message, ct: cts.Token);
        await Eventually.UntilAsync(() => handler.Requests.Count == 1 && handler.Idle, "the rate-limited first call");
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Single(handler.Requests);
    }
}
