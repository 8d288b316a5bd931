using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.Smoke;
using ShipBot.Deploy.Webhook;
using ShipBot.Testing;

namespace ShipBot.Deploy.Tests.Webhook;

/// <summary>
/// The signed webhook target against a real HTTP endpoint on loopback that verifies the signature
/// itself. The target's resilience handler runs on a fake clock: backoff, attempt timeouts and the
/// circuit's break elapse only when the test moves the clock, and the clock never moves while an
/// attempt that is meant to be answered is on the wire.
/// </summary>
public sealed class WebhookDeploymentTargetTests : IAsyncLifetime
{
    private const string Secret = "whsec-0123456789abcdef-test";
    private static readonly ReleaseId Demo = new("demo", "1.4.2");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));
    private readonly InFlightHandler _network = new(new SocketsHttpHandler());
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync(Secret, _time);
        _receiver.Respond = (_, _) => Task.FromResult(Microsoft.AspNetCore.Http.Results.Text("applied"));
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        _network.Dispose();
        await _receiver.DisposeAsync();
    }

    /// <summary>Moves the clock while no attempt is on the wire (backoff, breaks), until <paramref name="call"/> finishes; returns the fake time it took.</summary>
    private Task<TimeSpan> DriveAsync(Task call) => DriveAsync(call, () => _network.Idle);

    /// <summary>Moves the clock while <paramref name="idle"/> says nothing that will be answered is on the wire.</summary>
    private Task<TimeSpan> DriveAsync(Task call, Func<bool> idle) => _time.DriveAsync(call, idle, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));

    private async Task<DeploymentResult> Apply(WebhookDeploymentTarget sut, DeploymentRequest request, Func<bool>? idle = null)
    {
        var call = sut.ApplyAsync(request);
        await DriveAsync(call, idle ?? (() => _network.Idle));
        return await call;
    }

    [Fact]
    public async Task ApplyAsync_Answer200_SendsASignedPostWithTheDocumentedPayloadAndSucceeds()
    {
        var sut = CreateSut();
        var request = Request(new DeploymentIntent(DeploymentEnvironment.Production, 25), "demo@1.4.2:7:production:25:False");
        var before = _time.GetUtcNow();

        var result = await sut.ApplyAsync(request);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal("HTTP 200 applied", result.Detail);
        var call = Assert.Single(_receiver.Calls);
        Assert.Equal("POST", call.Method);
        Assert.True(call.SignatureValid, call.SignatureProblem);
        Assert.Equal("application/json; charset=utf-8", call.ContentType);
        Assert.Equal("demo@1.4.2:7:production:25:False", call.IdempotencyKey);
        var json = call.Json;
        Assert.Equal("demo@1.4.2", (string?)json["release"]);
        Assert.Equal("demo", (string?)json["service"]);
        Assert.Equal("1.4.2", (string?)json["version"]);
        Assert.Equal("production", (string?)json["environment"]);
        Assert.Equal(25, (int?)json["percent"]);
        Assert.False((bool?)json["rollback"]);
        Assert.Equal(call.IdempotencyKey, (string?)json["idempotencyKey"]);
        var requestedAt = DateTimeOffset.Parse((string)json["requestedAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(requestedAt, before.AddSeconds(-1), _time.GetUtcNow().AddSeconds(1));
        Assert.Equal(8, json.Count);
    }

    [Fact]
    public async Task ApplyAsync_Rollback_SendsRollbackTrueAndPercentZero()
    {
        var sut = CreateSut();

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 0, IsRollback: true), "demo@1.4.2:9:production:0:True"));

        Assert.True(result.Succeeded, result.Detail);
        var json = Assert.Single(_receiver.Calls).Json;
        Assert.True((bool?)json["rollback"]);
        Assert.Equal(0, (int?)json["percent"]);
    }

    [Fact]
    public async Task ApplyAsync_StagingDeployment_SaysStaging()
    {
        var sut = CreateSut();

        await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Staging, 100), "demo@1.4.2:3:staging:100:False"));

        Assert.Equal("staging", (string?)Assert.Single(_receiver.Calls).Json["environment"]);
    }

    [Fact]
    public async Task ApplyAsync_Answer202Or204_CountsAsDone()
    {
        _receiver.RespondWith(202, 204);
        var sut = CreateSut();

        var accepted = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k-1"));
        var noContent = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 25), "k-2"));

        Assert.True(accepted.Succeeded, accepted.Detail);
        Assert.True(noContent.Succeeded, noContent.Detail);
        Assert.Equal("HTTP 204", noContent.Detail);
    }

    [Fact]
    public async Task ApplyAsync_503Then200_RetriesWithTheSameIdempotencyKeyAndBodyAndAFreshValidSignature()
    {
        _receiver.RespondWith(503, 200);
        var sut = CreateSut(o => o.MaxRetries = 2);

        var result = await Apply(sut, Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "demo@1.4.2:5:production:5:False"));

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal("HTTP 200 answer 2", result.Detail);
        var calls = _receiver.Calls.ToList();
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.True(c.SignatureValid, c.SignatureProblem));
        Assert.All(calls, c => Assert.Equal("demo@1.4.2:5:production:5:False", c.IdempotencyKey));
        Assert.Equal(calls[0].Body, calls[1].Body);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(408)]
    [InlineData(429)]
    public async Task ApplyAsync_TransientStatusThen200_IsRetried(int status)
    {
        _receiver.RespondWith(status, 200);
        var sut = CreateSut(o => o.MaxRetries = 1);

        var result = await Apply(sut, Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k"));

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(2, _receiver.Calls.Count);
    }

    [Fact]
    public async Task ApplyAsync_Always503_FailsAfterMaxRetriesWithTheLastAnswer()
    {
        _receiver.RespondWith(503);
        var sut = CreateSut(o => o.MaxRetries = 1);

        var result = await Apply(sut, Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k"));

        Assert.False(result.Succeeded);
        Assert.StartsWith("HTTP 503", result.Detail, StringComparison.Ordinal);
        Assert.Equal(2, _receiver.Calls.Count);
    }

    [Fact]
    public async Task ApplyAsync_400_IsNotRetriedAndFailsWithTheBody()
    {
        _receiver.Respond = (_, _) => Task.FromResult(Microsoft.AspNetCore.Http.Results.Text("image demo:1.4.2 not found in registry", statusCode: 400));
        var sut = CreateSut(o => o.MaxRetries = 3);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k"));

        Assert.False(result.Succeeded);
        Assert.Equal("HTTP 400 image demo:1.4.2 not found in registry", result.Detail);
        Assert.Single(_receiver.Calls);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(409)]
    [InlineData(422)]
    public async Task ApplyAsync_Refusal4xx_IsNotRetried(int status)
    {
        _receiver.RespondWith(status);
        var sut = CreateSut(o => o.MaxRetries = 3);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k"));

        Assert.False(result.Succeeded);
        Assert.StartsWith($"HTTP {status}", result.Detail, StringComparison.Ordinal);
        Assert.Single(_receiver.Calls);
    }

    [Fact]
    public async Task ApplyAsync_LongErrorBody_IsShortenedToOneLine()
    {
        var text = string.Join("\n", Enumerable.Repeat("line of a very long stack trace", 40));
        _receiver.Respond = (_, _) => Task.FromResult(Microsoft.AspNetCore.Http.Results.Text(text, statusCode: 400));
        var sut = CreateSut();

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k"));

        Assert.DoesNotContain('\n', result.Detail);
        Assert.EndsWith("…", result.Detail, StringComparison.Ordinal);
        Assert.True(result.Detail.Length < 320, result.Detail);
    }

    [Fact]
    public async Task ApplyAsync_WrongSecret_TheReceiverRefusesAndTheCallFails()
    {
        var sut = CreateSut(o => o.Secret = "another-secret-0123456789");

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k"));

        Assert.False(result.Succeeded);
        Assert.StartsWith("HTTP 401", result.Detail, StringComparison.Ordinal);
        Assert.False(Assert.Single(_receiver.Calls).SignatureValid);
    }

    [Fact]
    public async Task ApplyAsync_EndpointHangs_EachAttemptTimesOutAndIsRetried()
    {
        _receiver.Hang();
        var sut = CreateSut(o =>
        {
            o.Timeout = TimeSpan.FromMilliseconds(300);
            o.MaxRetries = 1;
        });

        // Every attempt hangs: once the receiver holds it, moving the clock is what times it out.
        var call = sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k"));
        var took = await DriveAsync(call, () => _network.Idle || _receiver.Calls.Count == _network.Sent);
        var result = await call;

        Assert.False(result.Succeeded);
        Assert.Equal("no answer within 0.3 s (after 1 retries)", result.Detail);
        Assert.True(took < TimeSpan.FromSeconds(10), $"took {took}");
        Assert.Equal(2, _receiver.Calls.Count);
        Assert.All(_receiver.Calls, c => Assert.Equal("k", c.IdempotencyKey));
    }

    [Fact]
    public async Task ApplyAsync_HangThenAnswer_SucceedsOnTheRetry()
    {
        _receiver.Respond = async (call, ct) =>
        {
            if (call.Number == 1)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            }

            return Microsoft.AspNetCore.Http.Results.Text("applied late");
        };
        var sut = CreateSut(o =>
        {
            o.Timeout = TimeSpan.FromMilliseconds(300);
            o.MaxRetries = 1;
        });

        // The clock moves while only the first (hanging) attempt is on the wire, never while the answered retry is.
        var result = await Apply(sut, Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k"), () => _network.Idle || (_network.Sent == 1 && _receiver.Calls.Count == 1));

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(2, _receiver.Calls.Count);
    }

    [Fact]
    public async Task ApplyAsync_NobodyListens_FailsWithTheNetworkError()
    {
        var sut = CreateSut(o =>
        {
            o.Url = new Uri($"http://127.0.0.1:{Loopback.ClosedPort()}/hooks/shipbot");
            o.MaxRetries = 1;
        });

        var result = await Apply(sut, Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k"));

        Assert.False(result.Succeeded);
        Assert.Contains("after 1 retries", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_RepeatedFailures_OpenTheCircuitAndLaterCallsFailFastWithoutCalling()
    {
        _receiver.RespondWith(503);
        var sut = CreateSut(o =>
        {
            o.MaxRetries = 1;
            o.FailuresBeforeBreaking = 3;
            o.BreakDuration = TimeSpan.FromMinutes(1);
        });

        // Call 1: two 503s. Call 2: a third 503 opens the circuit; its retry is refused by the open circuit.
        var first = await Apply(sut, Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k-1"));
        var second = await Apply(sut, Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k-2"));

        // Fail fast: calls 3 and 4 finish on a clock that does not move at all (no backoff, no timeout, no wait).
        var stoppedAt = _time.GetUtcNow();
        var third = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k-3"));
        var fourth = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 0, IsRollback: true), "k-4"));
        var took = _time.GetUtcNow() - stoppedAt;

        Assert.False(first.Succeeded);
        Assert.StartsWith("HTTP 503", first.Detail, StringComparison.Ordinal);
        Assert.False(second.Succeeded);
        Assert.False(third.Succeeded);
        Assert.False(fourth.Succeeded);
        Assert.Contains("circuit open", third.Detail, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", third.Detail, StringComparison.Ordinal);
        Assert.Contains("not called", fourth.Detail, StringComparison.Ordinal);
        Assert.Equal(3, _receiver.Calls.Count);
        Assert.True(took < TimeSpan.FromSeconds(2), $"an open circuit should fail fast, took {took}");
    }

    [Fact]
    public async Task ApplyAsync_CircuitBreakDurationOver_CallsTheEndpointAgain()
    {
        _receiver.RespondWith(503, 503, 200);
        var sut = CreateSut(o =>
        {
            o.MaxRetries = 1;
            o.FailuresBeforeBreaking = 2;
            o.BreakDuration = TimeSpan.FromSeconds(30);
        });
        await Apply(sut, Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k-1"));
        var broken = await Apply(sut, Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k-2"));

        _time.Advance(TimeSpan.FromSeconds(31));
        var recovered = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k-3"));

        Assert.Contains("circuit open", broken.Detail, StringComparison.Ordinal);
        Assert.True(recovered.Succeeded, recovered.Detail);
        Assert.Equal(3, _receiver.Calls.Count);
    }

    [Fact]
    public async Task ApplyAsync_Refusals4xx_DoNotOpenTheCircuit()
    {
        _receiver.RespondWith(422);
        var sut = CreateSut(o =>
        {
            o.MaxRetries = 1;
            o.FailuresBeforeBreaking = 2;
        });

        for (var i = 0; i < 4; i++)
        {
            var result = await Apply(sut, Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), $"k-{i}"));
            Assert.StartsWith("HTTP 422", result.Detail, StringComparison.Ordinal);
        }

        Assert.Equal(4, _receiver.Calls.Count);
    }

    [Fact]
    public async Task ApplyAsync_CallerCancels_Throws()
    {
        _receiver.Hang();
        var sut = CreateSut(o => o.Timeout = TimeSpan.FromSeconds(30));
        using var cancel = new CancellationTokenSource();

        var call = sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k"), cancel.Token);
        await Eventually.UntilAsync(() => _receiver.Calls.Count == 1, "the hanging call");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task RunSmokeChecksAsync_NoUrls_PassesAndSaysSo()
    {
        var sut = CreateSut();

        var result = await sut.RunSmokeChecksAsync(Demo, DeploymentEnvironment.Staging);

        Assert.True(result.Succeeded);
        Assert.Contains("no smoke checks configured", result.Detail, StringComparison.Ordinal);
        Assert.Empty(_receiver.Calls);
    }

    [Fact]
    public async Task Constructor_MaxRetriesZero_CallsOnceWithoutRetrying()
    {
        _receiver.RespondWith(503, 200);
        var sut = CreateSut(o => o.MaxRetries = 0);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5), "k"));

        Assert.False(result.Succeeded);
        Assert.Single(_receiver.Calls);
    }

    [Fact]
    public void Name_IsWebhook()
    {
        Assert.Equal("webhook", CreateSut().Name);
    }

    [Fact]
    public void Sign_MatchesAnIndependentHmacOfV1TimestampBody()
    {
        var body = Encoding.UTF8.GetBytes("""{"release":"demo@1.4.2"}""");
        var expected = "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes("""v1:1767225600:{"release":"demo@1.4.2"}""")));

        Assert.Equal(expected, WebhookDeploymentTarget.Sign(Secret, "1767225600", body));
        Assert.NotEqual(expected, WebhookDeploymentTarget.Sign(Secret, "1767225601", body));
        Assert.NotEqual(expected, WebhookDeploymentTarget.Sign(Secret + "x", "1767225600", body));
    }

    private WebhookDeploymentTarget CreateSut(Action<WebhookTargetOptions>? configure = null)
    {
        var options = new WebhookTargetOptions
        {
            Url = _receiver.Url,
            Secret = Secret,
            Timeout = TimeSpan.FromSeconds(5),
            MaxRetries = 1,
            FailuresBeforeBreaking = 5,
            BreakDuration = TimeSpan.FromSeconds(30),
        };
        configure?.Invoke(options);
        return new WebhookDeploymentTarget(_network, options, new HttpSmokeChecks(_http, new SmokeCheckOptions(), _time), _time);
    }

    private static DeploymentRequest Request(DeploymentIntent intent, string key) => new(Demo, intent, key);
}
