using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Cards;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.InMemory;
using ShipBot.Slack.Tests.TestSupport;
using ShipBot.Testing;

namespace ShipBot.Slack.Tests;

/// <summary>
/// The notifier over a fake Slack (a stub handler behind the real <see cref="SlackWebApi"/>) and the
/// real in-memory chat state store: post once, update in place, thread alerts, skip no-op updates,
/// keep each message's updates in order.
/// </summary>
public sealed class SlackChatNotifierTests
{
    private static readonly Conversation Channel = new(SlackChatNotifier.PlatformName, "C0RELEASES");
    /// <summary>How long a publish may take before the test gives up: generous, for a busy machine.</summary>
    private static readonly TimeSpan Patience = Eventually.Deadline;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));
    private readonly InMemoryReleaseStore _store;
    private readonly FakeSlack _slack = new();

    public SlackChatNotifierTests() => _store = new InMemoryReleaseStore(_time);

    private IChatStateStore State => _store;

    /// <summary>On the fake clock the publish wait never runs out, so a publish returns when its Slack call is done.</summary>
    private SlackChatNotifier CreateSut(TimeProvider? time = null, TimeSpan? publishWait = null)
    {
        var options = SlackApiFactory.Options(o => o.PublishWait = publishWait ?? o.PublishWait);
        var api = SlackApiFactory.Create(_slack.Handler, time ?? _time, options);
        return new SlackChatNotifier(api, _store, Options.Create(options), time ?? _time, NullLogger<SlackChatNotifier>.Instance);
    }

    private static Card CardOf(string title) => new(title, null, CardTone.Info, [new TextBlock($"body of {title}")], [], $"fallback of {title}");

    private static string TitleOf(RecordedRequest request) => (string)request.Json["blocks"]![0]!["text"]!["text"]!;

    private static async Task WithinPatience(Task task)
    {
        var finished = await Task.WhenAny(task, Task.Delay(Patience));
        Assert.True(finished == task, "the publish did not finish in time");
        await task;
    }

    [Fact]
    public async Task PublishAsync_FirstOfAKey_PostsAndRemembersTheMessage()
    {
        var sut = CreateSut();

        await sut.PublishAsync(Channel, "card:a", CardOf("v1"));

        var request = Assert.Single(_slack.Requests);
        Assert.Equal("chat.postMessage", request.ApiMethod);
        Assert.Equal("C0RELEASES", (string?)request.Json["channel"]);
        Assert.Equal("fallback of v1", (string?)request.Json["text"]);
        Assert.Null(request.Json["thread_ts"]);
        Assert.Equal($"C0RELEASES|{FakeSlack.TsOf(1)}", await State.GetAsync(SlackChatNotifier.RefKey("card:a")));
    }

    [Fact]
    public async Task PublishAsync_SecondOfAKey_UpdatesTheSameMessage()
    {
        var sut = CreateSut();

        await sut.PublishAsync(Channel, "card:a", CardOf("v1"));
        await sut.PublishAsync(Channel, "card:a", CardOf("v2"));

        var requests = _slack.Requests;
        Assert.Equal(["chat.postMessage", "chat.update"], requests.Select(r => r.ApiMethod));
        Assert.Equal(FakeSlack.TsOf(1), (string?)requests[1].Json["ts"]);
        Assert.Equal("C0RELEASES", (string?)requests[1].Json["channel"]);
        Assert.Equal("v2", TitleOf(requests[1]));
    }

    [Fact]
    public async Task PublishAsync_AfterARestart_UpdatesTheMessageRememberedInTheStore()
    {
        await CreateSut().PublishAsync(Channel, "card:a", CardOf("v1"));

        // A new notifier (another replica, or after a restart) shares only the store.
        await CreateSut().PublishAsync(Channel, "card:a", CardOf("v2"));

        Assert.Equal(["chat.postMessage", "chat.update"], _slack.Requests.Select(r => r.ApiMethod));
    }

    [Fact]
    public async Task PublishAsync_WithThreadKey_PostsInTheThreadAndBroadcasts()
    {
        var sut = CreateSut();
        await sut.PublishAsync(Channel, "card:a", CardOf("release"));

        await sut.PublishAsync(Channel, "alert:a:rollback", CardOf("alert"), threadKey: "card:a");

        var alert = _slack.Requests[1];
        Assert.Equal("chat.postMessage", alert.ApiMethod);
        Assert.Equal(FakeSlack.TsOf(1), (string?)alert.Json["thread_ts"]);
        Assert.True((bool?)alert.Json["reply_broadcast"]);
        Assert.Equal($"C0RELEASES|{FakeSlack.TsOf(2)}", await State.GetAsync(SlackChatNotifier.RefKey("alert:a:rollback")));
    }

    [Fact]
    public async Task PublishAsync_ThreadKeyWithoutAMessage_PostsToTheChannel()
    {
        var sut = CreateSut();

        await sut.PublishAsync(Channel, "alert:a:rollback", CardOf("alert"), threadKey: "card:a");

        var alert = Assert.Single(_slack.Requests);
        Assert.Null(alert.Json["thread_ts"]);
        Assert.Null(alert.Json["reply_broadcast"]);
    }

    [Fact]
    public async Task PublishAsync_ThreadedAlertUpdatedLater_UpdatesInPlace()
    {
        var sut = CreateSut();
        await sut.PublishAsync(Channel, "card:a", CardOf("release"));
        await sut.PublishAsync(Channel, "alert:a:decision", CardOf("decide"), threadKey: "card:a");

        await sut.PublishAsync(Channel, "alert:a:decision", CardOf("decided"), threadKey: "card:a");

        var last = _slack.Requests[^1];
        Assert.Equal("chat.update", last.ApiMethod);
        Assert.Equal(FakeSlack.TsOf(2), (string?)last.Json["ts"]);
    }

    [Fact]
    public async Task PublishAsync_IdenticalCardTwice_CallsSlackOnce()
    {
        var sut = CreateSut();

        await sut.PublishAsync(Channel, "card:a", CardOf("v1"));
        await sut.PublishAsync(Channel, "card:a", CardOf("v1"));

        Assert.Single(_slack.Requests);
    }

    [Fact]
    public async Task PublishAsync_IdenticalCardAfterAnUpdate_IsSkipped()
    {
        var sut = CreateSut();

        await sut.PublishAsync(Channel, "card:a", CardOf("v1"));
        await sut.PublishAsync(Channel, "card:a", CardOf("v2"));
        await sut.PublishAsync(Channel, "card:a", CardOf("v2"));

        Assert.Equal(2, _slack.Requests.Count);
    }

    [Fact]
    public async Task PublishAsync_UpdateFailed_TheSameCardIsSentAgainNextTime()
    {
        var sut = CreateSut();
        await sut.PublishAsync(Channel, "card:a", CardOf("v1"));
        _slack.UpdateErrors.Enqueue("internal_error");

        await sut.PublishAsync(Channel, "card:a", CardOf("v2"));
        await sut.PublishAsync(Channel, "card:a", CardOf("v2"));

        Assert.Equal(["chat.postMessage", "chat.update", "chat.update"], _slack.Requests.Select(r => r.ApiMethod));
    }

    [Fact]
    public async Task PublishAsync_SlackRefusesThePost_DoesNotThrowAndPostsNextTime()
    {
        var sut = CreateSut();
        _slack.PostErrors.Enqueue("channel_not_found");

        await sut.PublishAsync(Channel, "card:a", CardOf("v1"));
        await sut.PublishAsync(Channel, "card:a", CardOf("v2"));

        Assert.Equal(["chat.postMessage", "chat.postMessage"], _slack.Requests.Select(r => r.ApiMethod));
        Assert.Equal($"C0RELEASES|{FakeSlack.TsOf(1)}", await State.GetAsync(SlackChatNotifier.RefKey("card:a")));
    }

    [Fact]
    public async Task PublishAsync_SlackAnswersSomethingUnexpected_LaterPublishesOfTheKeyStillGoOut()
    {
        // The real clock with a short publish wait, as in production: a publish returns even when its lane is stuck.
        var sut = CreateSut(TimeProvider.System, TimeSpan.FromMilliseconds(200));
        _slack.PostAnswers.Enqueue("""{"ok":"yes"}""");

        await WithinPatience(sut.PublishAsync(Channel, "card:a", CardOf("v1")));
        await WithinPatience(sut.PublishAsync(Channel, "card:a", CardOf("v2")));
        await _slack.WaitForRequestsAsync(2, Patience);

        Assert.Equal(["chat.postMessage", "chat.postMessage"], _slack.Requests.Select(r => r.ApiMethod));
        Assert.Equal("v2", TitleOf(_slack.Requests[1]));
    }

    [Fact]
    public async Task PublishAsync_ManyRapidPublishesOfOneKey_SendsInOrderAndEndsWithTheLastCard()
    {
        var sut = CreateSut();
        _slack.Latency = TimeSpan.FromMilliseconds(5);

        var publishes = Enumerable.Range(0, 40).Select(i => sut.PublishAsync(Channel, "card:a", CardOf($"v{i:D2}"))).ToList();
        await WithinPatience(Task.WhenAll(publishes));

        var requests = _slack.Requests;
        var sent = requests.Select(TitleOf).ToList();
        Assert.Equal(sent.Order(StringComparer.Ordinal), sent);
        Assert.Equal(sent.Distinct().Count(), sent.Count);
        Assert.Equal("v39", sent[^1]);
        Assert.Equal("chat.postMessage", requests[0].ApiMethod);
        Assert.All(requests.Skip(1), r =>
        {
            Assert.Equal("chat.update", r.ApiMethod);
            Assert.Equal(FakeSlack.TsOf(1), (string?)r.Json["ts"]);
        });
        Assert.Equal(1, _slack.MaxConcurrent);
    }

    [Fact]
    public async Task PublishAsync_ManyRapidPublishesFromManyThreads_EndsWithTheLastCardPublished()
    {
        var sut = CreateSut();
        _slack.Latency = TimeSpan.FromMilliseconds(2);
        await sut.PublishAsync(Channel, "card:a", CardOf("first"));

        var publishes = new List<Task>();
        for (var i = 0; i < 30; i++)
        {
            var n = i;
            publishes.Add(Task.Run(() => sut.PublishAsync(Channel, "card:a", CardOf($"v{n:D2}"))));
        }

        await WithinPatience(Task.WhenAll(publishes));
        await WithinPatience(sut.PublishAsync(Channel, "card:a", CardOf("final")));

        Assert.Equal("final", TitleOf(_slack.Requests[^1]));
        Assert.Equal(1, _slack.MaxConcurrent);
        Assert.Single(_slack.Requests, r => r.ApiMethod == "chat.postMessage");
    }

    [Fact]
    public async Task PublishAsync_MessageDeleted_RepostsAndRemembersTheNewMessage()
    {
        var sut = CreateSut();
        await sut.PublishAsync(Channel, "card:a", CardOf("v1"));
        _slack.UpdateErrors.Enqueue("message_not_found");

        await sut.PublishAsync(Channel, "card:a", CardOf("v2"));
        await sut.PublishAsync(Channel, "card:a", CardOf("v3"));

        var requests = _slack.Requests;
        Assert.Equal(["chat.postMessage", "chat.update", "chat.postMessage", "chat.update"], requests.Select(r => r.ApiMethod));
        Assert.Equal("v2", TitleOf(requests[2]));
        Assert.Equal(FakeSlack.TsOf(2), (string?)requests[3].Json["ts"]);
        Assert.Equal($"C0RELEASES|{FakeSlack.TsOf(2)}", await State.GetAsync(SlackChatNotifier.RefKey("card:a")));
    }

    [Fact]
    public async Task PublishAsync_OneKeyStuckOnSlack_OtherKeysAreNotBlocked()
    {
        var sut = CreateSut();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _slack.Hold = r => r.Body.Contains("stuck", StringComparison.Ordinal) ? gate.Task : Task.CompletedTask;

        var stuck = sut.PublishAsync(Channel, "card:a", CardOf("stuck"));
        await _slack.WaitForRequestsAsync(1, Patience);

        await WithinPatience(sut.PublishAsync(Channel, "card:b", CardOf("free")));
        await WithinPatience(sut.PublishAsync(Channel, "card:b", CardOf("free again")));

        Assert.False(stuck.IsCompleted);
        gate.SetResult();
        await WithinPatience(stuck);
        Assert.Equal(3, _slack.Requests.Count);
    }

    /// <summary>
    /// Slack's chat methods as far as the notifier uses them: posts get increasing timestamps in
    /// the requested channel; updates answer with the message they updated, or a queued error.
    /// </summary>
    private sealed class FakeSlack
    {
        private int _posts;
        private int _inFlight;
        private int _maxConcurrent;

        public FakeSlack() => Handler = new StubSlackHandler(RespondAsync);

        public StubSlackHandler Handler { get; }

        public ConcurrentQueue<string> UpdateErrors { get; } = new();

        public ConcurrentQueue<string> PostErrors { get; } = new();

        /// <summary>Raw answers to the next posts, before any error or normal answer.</summary>
        public ConcurrentQueue<string> PostAnswers { get; } = new();

        public TimeSpan Latency { get; set; }

        public Func<RecordedRequest, Task> Hold { get; set; } = _ => Task.CompletedTask;

        public IReadOnlyList<RecordedRequest> Requests => Handler.Requests;

        public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

        public static string TsOf(int post) => $"1741000000.{post.ToString("D6", CultureInfo.InvariantCulture)}";

        public async Task WaitForRequestsAsync(int count, TimeSpan patience)
        {
            var until = DateTime.UtcNow + patience;
            while (Requests.Count < count)
            {
                Assert.True(DateTime.UtcNow < until, $"Slack saw {Requests.Count} of {count} requests");
                await Task.Delay(5);
            }
        }

        private async Task<HttpResponseMessage> RespondAsync(RecordedRequest request, CancellationToken ct)
        {
            var now = Interlocked.Increment(ref _inFlight);
            InterlockedMax(ref _maxConcurrent, now);
            try
            {
                await Hold(request).WaitAsync(ct);
                if (Latency > TimeSpan.Zero)
                {
                    await Task.Delay(Latency, ct);
                }

                var body = request.Json;
                var channel = (string?)body["channel"];
                switch (request.ApiMethod)
                {
                    case "chat.postMessage":
                        if (PostAnswers.TryDequeue(out var raw))
                        {
                            return StubSlackHandler.Json(raw);
                        }

                        if (PostErrors.TryDequeue(out var postError))
                        {
                            return StubSlackHandler.Json($$"""{"ok":false,"error":"{{postError}}"}""");
                        }

                        var ts = TsOf(Interlocked.Increment(ref _posts));
                        return StubSlackHandler.Ok($"\"channel\":\"{channel}\",\"ts\":\"{ts}\"");
                    case "chat.update":
                        if (UpdateErrors.TryDequeue(out var updateError))
                        {
                            return StubSlackHandler.Json($$"""{"ok":false,"error":"{{updateError}}"}""");
                        }

                        return StubSlackHandler.Ok($"\"channel\":\"{channel}\",\"ts\":\"{(string?)body["ts"]}\"");
                    default:
                        return StubSlackHandler.Json("""{"ok":false,"error":"unknown_method"}""");
                }
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int current;
            while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
            {
            }
        }
    }
}
