using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ShipBot.Teams.Tests.TestSupport;
using ShipBot.Testing;

namespace ShipBot.Teams.Tests;

/// <summary>
/// Outbound calls against a real Kestrel playing the Bot Connector and the token endpoint: the
/// client-credentials token and its cache, the URLs of POST and PUT (percent-encoded ids), retries
/// of 429/412/502/504 with backoff and Retry-After on the injected clock, and no retry of the rest.
/// </summary>
public sealed class BotConnectorClientTests : IAsyncLifetime
{
    private const string AppId = "3f2a6c8e-0d4b-4b8e-9a51-7c1f0e2d9b10";
    private const string AppPassword = "s3cr3t~value";
    private const string Conversation = "19:meeting_abc@thread.v2";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));
    private readonly List<ServiceProvider> _containers = [];
    private InFlightHandler? _network;
    private LoopbackConnector _connector = null!;

    private string ServiceUrl => _connector.BaseUrl.AbsoluteUri;

    public async Task InitializeAsync() => _connector = await LoopbackConnector.StartAsync(_time);

    public async Task DisposeAsync()
    {
        await _connector.DisposeAsync();
        foreach (var container in _containers)
        {
            await container.DisposeAsync();
        }
    }

    private BotConnectorClient CreateSut(Action<TeamsOptions>? configure = null)
    {
        var options = new TeamsOptions
        {
            AppId = AppId,
            AppPassword = AppPassword,
            TokenEndpoint = _connector.TokenEndpointTemplate,
        };
        configure?.Invoke(options);

        // As the host registers it: the factory's client with its resilience handler, over the real network.
        var network = _network = new InFlightHandler(new SocketsHttpHandler());
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddBotConnectorClient().ConfigurePrimaryHttpMessageHandler(() => network);
        var container = services.BuildServiceProvider();
        _containers.Add(container);
        return container.GetRequiredService<BotConnectorClient>();
    }

    private static JsonObject Message(string text = "hello") => new() { ["type"] = "message", ["text"] = text };

    /// <summary>
    /// Runs a call while the fake clock moves on (half a second at a time), so backoff delays
    /// elapse; time stands still while an attempt is on the wire, so the attempt timeout never
    /// fires because the machine is slow.
    /// </summary>
    private async Task<T> Drive<T>(Task<T> call)
    {
        await _time.DriveAsync(call, () => _network?.Idle ?? true, TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(10));
        return await call;
    }

    private async Task Drive(Task call)
    {
        await Drive(Completion(call));

        static async Task<bool> Completion(Task t)
        {
            await t;
            return true;
        }
    }

    // ---------------------------------------------------------------- the token

    [Fact]
    public async Task SendAsync_FirstCall_RequestsAClientCredentialsToken()
    {
        var sut = CreateSut();

        await sut.SendAsync(ServiceUrl, Conversation, Message());

        var token = Assert.Single(_connector.TokenRequests);
        Assert.Equal("POST", token.Method);
        Assert.Equal("/botframework.com/oauth2/v2.0/token", token.RawTarget);
        Assert.StartsWith("application/x-www-form-urlencoded", token.ContentType, StringComparison.Ordinal);
        Assert.Equal("client_credentials", token.Form["grant_type"]);
        Assert.Equal(AppId, token.Form["client_id"]);
        Assert.Equal(AppPassword, token.Form["client_secret"]);
        Assert.Equal("https://api.botframework.com/.default", token.Form["scope"]);
        Assert.Null(token.Authorization);
    }

    [Fact]
    public async Task SendAsync_SingleTenantBot_RequestsTheTokenFromItsTenant()
    {
        var sut = CreateSut(o => o.TenantId = "7d1c8a52-4e3f-4a9b-b0c6-2f5e9d3a1b77");

        await sut.SendAsync(ServiceUrl, Conversation, Message());

        Assert.Equal("/7d1c8a52-4e3f-4a9b-b0c6-2f5e9d3a1b77/oauth2/v2.0/token", Assert.Single(_connector.TokenRequests).RawTarget);
    }

    [Fact]
    public async Task SendAsync_ManyCalls_ReuseTheTokenUntilFiveMinutesBeforeItExpires()
    {
        var sut = CreateSut();

        for (var i = 0; i < 3; i++)
        {
            await sut.SendAsync(ServiceUrl, Conversation, Message());
        }

        Assert.Single(_connector.TokenRequests);
        _time.Advance(TimeSpan.FromMinutes(54));
        await sut.SendAsync(ServiceUrl, Conversation, Message());
        Assert.Single(_connector.TokenRequests);

        _time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await sut.SendAsync(ServiceUrl, Conversation, Message());

        Assert.Equal(2, _connector.TokenRequests.Count);
        Assert.Equal(["Bearer token-1", "Bearer token-1", "Bearer token-1", "Bearer token-1", "Bearer token-2"], _connector.ConnectorRequests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task SendAsync_ExpiresInAsAString_IsHonoured()
    {
        _connector.ExpiresIn = "600";
        var sut = CreateSut();

        await sut.SendAsync(ServiceUrl, Conversation, Message());
        _time.Advance(TimeSpan.FromMinutes(4));
        await sut.SendAsync(ServiceUrl, Conversation, Message());
        Assert.Single(_connector.TokenRequests);
        _time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await sut.SendAsync(ServiceUrl, Conversation, Message());

        Assert.Equal(2, _connector.TokenRequests.Count);
    }

    [Fact]
    public async Task SendAsync_ConcurrentFirstCalls_RequestOneToken()
    {
        var sut = CreateSut();

        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => sut.SendAsync(ServiceUrl, Conversation, Message($"m{i}"))));

        Assert.Single(_connector.TokenRequests);
        Assert.Equal(10, _connector.ConnectorRequests.Count);
    }

    [Fact]
    public async Task SendAsync_TokenEndpointRefuses_ThrowsWithoutTheSecretAndCallsNoConnector()
    {
        _connector.ScriptToken(new ScriptedAnswer(HttpStatusCode.Unauthorized, $$"""{"error":"invalid_client","echo":"{{AppPassword}}"}"""));
        var sut = CreateSut();

        var error = await Assert.ThrowsAsync<BotConnectorException>(() => sut.SendAsync(ServiceUrl, Conversation, Message()));

        Assert.Contains("401", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(AppPassword, error.Message, StringComparison.Ordinal);
        Assert.Empty(_connector.ConnectorRequests);
    }

    [Fact]
    public async Task SendAsync_TokenEndpointThrottles_RetriesTheTokenRequest()
    {
        _connector.ScriptToken(new ScriptedAnswer(HttpStatusCode.TooManyRequests, RetryAfter: TimeSpan.FromSeconds(1)));
        var sut = CreateSut();

        var id = await Drive(sut.SendAsync(ServiceUrl, Conversation, Message()));

        Assert.Equal("activity-1", id);
        Assert.Equal(2, _connector.TokenRequests.Count);
        Assert.Equal("Bearer token-1", Assert.Single(_connector.ConnectorRequests).Authorization);
    }

    [Fact]
    public async Task SendAsync_UnauthenticatedLoopbackWithoutPassword_RequestsNoToken()
    {
        var sut = CreateSut(o =>
        {
            o.AppPassword = null;
            o.AllowUnauthenticatedLoopback = true;
        });

        var id = await sut.SendAsync(ServiceUrl, Conversation, Message());

        Assert.Equal("activity-1", id);
        Assert.Empty(_connector.TokenRequests);
        Assert.Null(Assert.Single(_connector.ConnectorRequests).Authorization);
    }

    [Fact]
    public async Task SendAsync_UnauthenticatedLoopbackWithAPassword_StillSendsAToken()
    {
        var sut = CreateSut(o => o.AllowUnauthenticatedLoopback = true);

        await sut.SendAsync(ServiceUrl, Conversation, Message());

        Assert.Single(_connector.TokenRequests);
        Assert.Equal("Bearer token-1", Assert.Single(_connector.ConnectorRequests).Authorization);
    }

    // ---------------------------------------------------------------- URLs, methods, bodies

    [Fact]
    public async Task SendAsync_NewMessage_PostsTheActivityWithTheTokenAndReturnsItsId()
    {
        var sut = CreateSut();
        var activity = Message("**hi** 🚀");

        var id = await sut.SendAsync(ServiceUrl, Conversation, activity);

        Assert.Equal("activity-1", id);
        var call = Assert.Single(_connector.ConnectorRequests);
        Assert.Equal("POST", call.Method);
        Assert.Equal("/v3/conversations/19%3Ameeting_abc%40thread.v2/activities", call.RawTarget);
        Assert.Equal("Bearer token-1", call.Authorization);
        Assert.StartsWith("application/json", call.ContentType, StringComparison.Ordinal);
        Assert.True(JsonNode.DeepEquals(activity, call.Json));
    }

    [Fact]
    public async Task SendAsync_Reply_PostsToTheActivityItAnswers()
    {
        var sut = CreateSut();

        await sut.SendAsync(ServiceUrl, Conversation, Message(), replyToId: "1700000000123");

        Assert.Equal("/v3/conversations/19%3Ameeting_abc%40thread.v2/activities/1700000000123", Assert.Single(_connector.ConnectorRequests).RawTarget);
    }

    [Fact]
    public async Task UpdateAsync_Card_PutsTheActivityInPlace()
    {
        var sut = CreateSut();
        var activity = new JsonObject { ["type"] = "message", ["id"] = "1700000000123", ["attachments"] = new JsonArray() };

        await sut.UpdateAsync(ServiceUrl, Conversation, "1700000000123", activity);

        var call = Assert.Single(_connector.ConnectorRequests);
        Assert.Equal("PUT", call.Method);
        Assert.Equal("/v3/conversations/19%3Ameeting_abc%40thread.v2/activities/1700000000123", call.RawTarget);
        Assert.Equal("Bearer token-1", call.Authorization);
        Assert.True(JsonNode.DeepEquals(activity, call.Json));
    }

    [Theory]
    [InlineData("19:abc@thread.tacv2;messageid=1700000000000", "19%3Aabc%40thread.tacv2%3Bmessageid%3D1700000000000")]
    [InlineData("a:1Xyz-_AbC.9~", "a%3A1Xyz-_AbC.9~")]
    [InlineData("29:1a b/c?d#e", "29%3A1a%20b%2Fc%3Fd%23e")]
    public async Task SendAndUpdate_IdsWithReservedCharacters_ArePercentEncoded(string conversationId, string encoded)
    {
        var sut = CreateSut();

        await sut.SendAsync(ServiceUrl, conversationId, Message(), replyToId: "1:x@y;z");
        await sut.UpdateAsync(ServiceUrl, conversationId, "1:x@y;z", Message());

        Assert.Equal(
            [$"/v3/conversations/{encoded}/activities/1%3Ax%40y%3Bz", $"/v3/conversations/{encoded}/activities/1%3Ax%40y%3Bz"],
            _connector.ConnectorRequests.Select(r => r.RawTarget));
    }

    [Theory]
    [InlineData("amer")]
    [InlineData("amer/")]
    public async Task SendAsync_ServiceUrlWithAPath_KeepsThePath(string path)
    {
        var sut = CreateSut();

        await sut.SendAsync(ServiceUrl + path, Conversation, Message());

        Assert.Equal("/amer/v3/conversations/19%3Ameeting_abc%40thread.v2/activities", Assert.Single(_connector.ConnectorRequests).RawTarget);
    }

    // ---------------------------------------------------------------- retries

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.PreconditionFailed)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    public async Task SendAsync_TransientStatus_RetriesThenSucceeds(HttpStatusCode status)
    {
        _connector.Script(new ScriptedAnswer(status));
        var sut = CreateSut();

        var id = await Drive(sut.SendAsync(ServiceUrl, Conversation, Message()));

        Assert.Equal("activity-1", id);
        var calls = _connector.ConnectorRequests;
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal("Bearer token-1", c.Authorization));
        Assert.True(JsonNode.DeepEquals(calls[0].Json, calls[1].Json));
    }

    [Fact]
    public async Task UpdateAsync_EveryTransientStatusInTurn_RetriesAllFourThenSucceeds()
    {
        _connector.Script(
            new ScriptedAnswer(HttpStatusCode.TooManyRequests),
            new ScriptedAnswer(HttpStatusCode.PreconditionFailed),
            new ScriptedAnswer(HttpStatusCode.BadGateway),
            new ScriptedAnswer(HttpStatusCode.GatewayTimeout));
        var sut = CreateSut();

        await Drive(sut.UpdateAsync(ServiceUrl, Conversation, "1700000000123", Message()));

        Assert.Equal(5, _connector.ConnectorRequests.Count);
        Assert.All(_connector.ConnectorRequests, c => Assert.Equal("PUT", c.Method));
    }

    [Fact]
    public async Task SendAsync_TooManyRequestsWithRetryAfter_WaitsThatLongOnTheInjectedClock()
    {
        _connector.Script(new ScriptedAnswer(HttpStatusCode.TooManyRequests, RetryAfter: TimeSpan.FromSeconds(30)));
        var sut = CreateSut();

        await Drive(sut.SendAsync(ServiceUrl, Conversation, Message()));

        var calls = _connector.ConnectorRequests;
        Assert.Equal(2, calls.Count);
        Assert.InRange(calls[1].At - calls[0].At, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(33));
    }

    [Fact]
    public async Task SendAsync_BackoffBetweenRetries_TakesTimeOnTheInjectedClock()
    {
        _connector.Script(new ScriptedAnswer(HttpStatusCode.BadGateway), new ScriptedAnswer(HttpStatusCode.BadGateway));
        var sut = CreateSut();

        await Drive(sut.SendAsync(ServiceUrl, Conversation, Message()));

        var calls = _connector.ConnectorRequests;
        Assert.Equal(3, calls.Count);
        Assert.True(calls[2].At > calls[0].At, "retries are spaced by a backoff on the injected clock, not sent back to back");
    }

    [Fact]
    public async Task SendAsync_TransientStatusEveryTime_GivesUpAfterMaxRetries()
    {
        _connector.Script([.. Enumerable.Repeat(new ScriptedAnswer(HttpStatusCode.BadGateway, """{"error":"upstream"}"""), 10)]);
        var sut = CreateSut(o => o.MaxRetries = 4);

        var error = await Assert.ThrowsAsync<BotConnectorException>(() => Drive(sut.SendAsync(ServiceUrl, Conversation, Message())));

        Assert.Contains("502", error.Message, StringComparison.Ordinal);
        Assert.Equal(5, _connector.ConnectorRequests.Count);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Unauthorized)]
    public async Task SendAsync_NonTransientStatus_ThrowsWithoutRetrying(HttpStatusCode status)
    {
        _connector.Script(new ScriptedAnswer(status, """{"error":{"code":"BotNotInConversationRoster"}}"""));
        var sut = CreateSut();

        var error = await Assert.ThrowsAsync<BotConnectorException>(() => Drive(sut.SendAsync(ServiceUrl, Conversation, Message())));

        Assert.Contains(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Single(_connector.ConnectorRequests);
    }

    [Fact]
    public async Task UpdateAsync_NonTransientStatus_ThrowsWithoutRetrying()
    {
        _connector.Script(new ScriptedAnswer(HttpStatusCode.Forbidden));
        var sut = CreateSut();

        await Assert.ThrowsAsync<BotConnectorException>(() => Drive(sut.UpdateAsync(ServiceUrl, Conversation, "1", Message())));

        Assert.Single(_connector.ConnectorRequests);
    }

    [Fact]
    public async Task SendAsync_NoRetriesConfigured_ThrowsOnTheFirstThrottle()
    {
        _connector.Script(new ScriptedAnswer(HttpStatusCode.TooManyRequests));
        var sut = CreateSut(o => o.MaxRetries = 0);

        await Assert.ThrowsAsync<BotConnectorException>(() => Drive(sut.SendAsync(ServiceUrl, Conversation, Message())));

        Assert.Single(_connector.ConnectorRequests);
    }
}
