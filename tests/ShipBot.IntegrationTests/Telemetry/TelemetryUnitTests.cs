using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using ShipBot.Core.Health;
using ShipBot.Core.Releases;
using ShipBot.Host.Telemetry;
using ShipBot.Telemetry;

namespace ShipBot.IntegrationTests.Telemetry;

/// <summary>The telemetry pieces on their own: the chat API counters, rollback triggers, the redactor, the JSON log line, the ack classifier.</summary>
public sealed class TelemetryUnitTests
{
    [Fact]
    public async Task ChatApiMetricsHandler_SlackOkFalseAnd429_CountedAsCallsErrorsAndRateLimitsWithTheBodyStillReadable()
    {
        var method = $"test.m{Guid.NewGuid():N}";
        var answers = new Queue<HttpResponseMessage>(
        [
            Json(HttpStatusCode.OK, """{"ok":true,"ts":"1.2"}"""),
            Json(HttpStatusCode.OK, """{"ok":false,"error":"channel_not_found","response_metadata":{"messages":["x"]}}"""),
            Json(HttpStatusCode.TooManyRequests, """{"ok":false,"error":"ratelimited"}"""),
            Json(HttpStatusCode.OK, """{"ok":false,"error":"Weird Error <script>"}"""),
        ]);
        using var recorder = new Recorder(method);
        using var http = new HttpClient(ChatApiMetricsHandlerFor(answers)) { BaseAddress = new Uri("https://slack.example/api/") };

        var bodies = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await http.PostAsync(method, new StringContent("{}"));
            bodies.Add(await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(4, recorder.Sum("shipbot.chat.api.calls"));
        Assert.Equal(1, recorder.Sum("shipbot.chat.api.rate_limited"));
        Assert.Equal(["channel_not_found", "429", "unknown_error"], recorder.Tags("shipbot.chat.api.errors", ShipBotTelemetry.Tags.ErrorType));
        Assert.All(recorder.Tags("shipbot.chat.api.calls", ShipBotTelemetry.Tags.Platform), p => Assert.Equal("slack", p));
        Assert.Contains("channel_not_found", bodies[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("POST", "https://slack.com/api/chat.postMessage", "chat.postMessage")]
    [InlineData("POST", "https://slack.com/api/auth.test", "auth.test")]
    [InlineData("POST", "https://hooks.slack.com/actions/T1/2/abcdef", "response_url")]
    [InlineData("POST", "https://slack.com/api/weird%20method", "other")]
    public void SlackMethod_FromTheUrl_NeverCarriesTheResponseUrlsSecretPath(string verb, string url, string expected) =>
        Assert.Equal(expected, ChatApiMetricsHandler.SlackMethod(new HttpRequestMessage(new HttpMethod(verb), url)));

    [Theory]
    [InlineData("POST", "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token", "token")]
    [InlineData("POST", "https://smba.trafficmanager.net/emea/v3/conversations/19%3Aabc/activities", "activities.send")]
    [InlineData("POST", "https://smba.trafficmanager.net/emea/v3/conversations/19%3Aabc/activities/1234", "activities.reply")]
    [InlineData("PUT", "https://smba.trafficmanager.net/emea/v3/conversations/19%3Aabc/activities/1234", "activities.update")]
    [InlineData("GET", "https://smba.trafficmanager.net/emea/v3/conversations/19%3Aabc/members/29%3Axyz", "members.get")]
    [InlineData("POST", "https://smba.trafficmanager.net/emea/v3/conversations", "conversations.create")]
    [InlineData("GET", "https://smba.trafficmanager.net/emea/v3/somethingelse", "other")]
    public void TeamsMethod_FromTheUrl_BoundedNames(string verb, string url, string expected) =>
        Assert.Equal(expected, ChatApiMetricsHandler.TeamsMethod(new HttpRequestMessage(new HttpMethod(verb), url)));

    [Theory]
    [InlineData("automatic: error rate 20 % > baseline + 1 pt", "shipbot", "error_rate", "health")]
    [InlineData("automatic: alert HighErrorRate firing", "shipbot", "alert HighErrorRate", "alert")]
    [InlineData("deployment to 25 % failed: HTTP 500", "shipbot", null, "deployment_failed")]
    [InlineData("no decision within the consult window: p99 latency", "shipbot", "latency_p99", "decision_timeout")]
    [InlineData("@carol decided to roll back: p99 latency", "carol", "latency_p99", "decision")]
    [InlineData("checkout errors in the logs", "alice", null, "manual")]
    public void TriggerOf_EveryWayARollbackStarts_NamedByItsTrigger(string reason, string by, string? metric, string expected)
    {
        var evidence = metric is null ? [] : new[] { new CheckResult(metric, CheckStatus.Breach, 1, "≤ 0", null, BreachAction.Rollback, "test") };
        Assert.Equal(expected, ReleaseTelemetry.TriggerOf(new RollbackRecord(reason, by, "Canary 5 %", evidence, DateTimeOffset.UnixEpoch)));
    }

    [Fact]
    public void SecretRedactor_ConfiguredSecretsAndCredentialShapes_Masked()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Slack:SigningSecret"] = "8f742231b10e8888abcd99yyyzzz85a5",
            ["ShipBot:Alertmanager:Password"] = "hunter2-but-longer",
            ["ShipBot:Redis:KeyPrefix"] = "shipbot",
            ["ConnectionStrings:Redis"] = "redis:6379,password=redis-pass-123,ssl=true",
        }).Build();
        var redactor = SecretRedactor.FromConfiguration(configuration);

        var text = "secret 8f742231b10e8888abcd99yyyzzz85a5 pw hunter2-but-longer redis redis-pass-123 token xoxb-1234-5678-abcdef app xapp-1-A0-123-abc "
            + "Authorization: Bearer abc.def.ghi-123 jwt eyJhbGciOi.eyJhdWQiOiJ4In0.sig sig v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503 "
            + "url https://hooks.slack.com/actions/T1/2/secretpath Cookie: d=session-value";
        var redacted = redactor.Redact(text);

        foreach (var secret in new[] { "8f742231b10e", "hunter2-but-longer", "redis-pass-123", "xoxb-1234", "xapp-1-A0", "abc.def.ghi-123", "eyJhbGciOi", "a2114d57b48e", "secretpath", "session-value" })
        {
            Assert.DoesNotContain(secret, redacted, StringComparison.Ordinal);
        }

        Assert.Contains("shipbot", redactor.Redact("key prefix shipbot"), StringComparison.Ordinal);
        Assert.Equal("Recovered the timers of 3 active release(s) in 12 ms", redactor.Redact("Recovered the timers of 3 active release(s) in 12 ms"));
    }

    [Fact]
    public void JsonFormatter_InsideASpan_OneJsonLineWithTraceAndSpanIdsStateAndReadableText()
    {
        var formatter = new ShipBotJsonConsoleFormatter(new StaticOptions(new ConsoleFormatterOptions { UseUtcTimestamp = true }), new SecretRedactor(["super-secret-value"]));
        using var source = new ActivitySource($"test-{Guid.NewGuid():N}");
        using var listener = new ActivityListener { ShouldListenTo = s => s == source, Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData };
        ActivitySource.AddActivityListener(listener);
        using var activity = source.StartActivity("command approve")!;
        var state = new List<KeyValuePair<string, object?>> { new("Release", "demo@1.0.0"), new("Count", 3), new("{OriginalFormat}", "…") };
        using var writer = new StringWriter();

        formatter.Write(new LogEntry<IReadOnlyList<KeyValuePair<string, object?>>>(LogLevel.Warning, "ShipBot.Test", new EventId(7), state, null, (_, _) => "Promoted demo@1.0.0 → GA, token super-secret-value"), null, writer);

        var line = writer.ToString();
        Assert.EndsWith(Environment.NewLine, line, StringComparison.Ordinal);
        using var json = System.Text.Json.JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("Warning", root.GetProperty("level").GetString());
        Assert.Equal("ShipBot.Test", root.GetProperty("category").GetString());
        Assert.Equal(activity.TraceId.ToHexString(), root.GetProperty("traceId").GetString());
        Assert.Equal(activity.SpanId.ToHexString(), root.GetProperty("spanId").GetString());
        Assert.Equal("Promoted demo@1.0.0 → GA, token ***", root.GetProperty("message").GetString());
        Assert.Contains("→", line, StringComparison.Ordinal);
        Assert.Equal("demo@1.0.0", root.GetProperty("state").GetProperty("Release").GetString());
        Assert.Equal(3, root.GetProperty("state").GetProperty("Count").GetInt32());
    }

    [Theory]
    [InlineData("/slack/commands", "slack", "command")]
    [InlineData("/slack/interactions", "slack", "click")]
    [InlineData("/api/messages", "teams", "activity")]
    [InlineData("/api/console/actions", "console", "click")]
    [InlineData("/api/releases", null, null)]
    public void ChatAckMiddleware_Paths_ClassifiedByPlatformAndInteraction(string path, string? platform, string? interaction) =>
        Assert.Equal(platform is null ? null : (platform, interaction!), ChatAckMiddleware.Classify(new PathString(path)));

    [Theory]
    [InlineData("/ship approve demo@1.0.0", "command")]
    [InlineData("ship approve demo@1.0.0", "command")]
    [InlineData("approve demo@1.0.0", "click")]
    [InlineData("shipit", "click")]
    public void StartInbound_TypedOrClicked_TellsTheMeasuredAcknowledgement(string text, string expected)
    {
        var measured = ChatInteraction.Begin("teams", "activity");
        using (ReleaseTelemetry.StartInbound("teams", text))
        {
        }

        Assert.Equal(expected, measured.Interaction);
    }

    private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    private static ChatApiMetricsHandler ChatApiMetricsHandlerFor(Queue<HttpResponseMessage> answers)
    {
        var handler = ChatApiMetricsHandler.ForSlack();
        handler.InnerHandler = new Answering(answers);
        return handler;
    }

    private sealed class Answering(Queue<HttpResponseMessage> answers) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => Task.FromResult(answers.Dequeue());
    }

    private sealed class StaticOptions(ConsoleFormatterOptions value) : IOptionsMonitor<ConsoleFormatterOptions>
    {
        public ConsoleFormatterOptions CurrentValue => value;

        public ConsoleFormatterOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<ConsoleFormatterOptions, string?> listener) => null;
    }

    /// <summary>Records the ShipBot meter's measurements whose <c>shipbot.method</c> is this test's own (other tests run alongside).</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Instrument, long Value, Dictionary<string, object?> Tags)> _measurements = [];

        public Recorder(string method)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ShipBotTelemetry.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                var all = new Dictionary<string, object?>();
                foreach (var tag in tags)
                {
                    all[tag.Key] = tag.Value;
                }

                if (Equals(all.GetValueOrDefault(ShipBotTelemetry.Tags.Method), method))
                {
                    lock (_measurements)
                    {
                        _measurements.Add((instrument.Name, value, all));
                    }
                }
            });
            _listener.Start();
        }

        public long Sum(string instrument)
        {
            lock (_measurements)
            {
                return _measurements.Where(m => m.Instrument == instrument).Sum(m => m.Value);
            }
        }

        public IReadOnlyList<string?> Tags(string instrument, string tag)
        {
            lock (_measurements)
            {
                return [.. _measurements.Where(m => m.Instrument == instrument).Select(m => m.Tags.GetValueOrDefault(tag)?.ToString())];
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
