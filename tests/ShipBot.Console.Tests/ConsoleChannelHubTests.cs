using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Cards;

namespace ShipBot.Console.Tests;

public sealed class ConsoleChannelHubTests
{
    private static readonly DateTimeOffset Start = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _time = new(Start);

    [Fact]
    public void Post_Twice_AssignsIncreasingIdsAtVersionOne()
    {
        var sut = CreateSut();

        var first = sut.Post("releases", "alice", "hello", null);
        _time.Advance(TimeSpan.FromSeconds(3));
        var second = sut.Post("releases", "bob", "hi", null);

        Assert.Equal("m1", first.Id);
        Assert.Equal("m2", second.Id);
        Assert.Equal(1, first.Version);
        Assert.Equal(Start, first.PostedAt);
        Assert.Equal(Start.AddSeconds(3), second.PostedAt);
        Assert.Equal([first, second], sut.List("releases", viewer: null));
    }

    [Fact]
    public void Post_AcrossChannels_SharesOneIdSequence()
    {
        var sut = CreateSut();

        var first = sut.Post("releases", "alice", "hello", null);
        var second = sut.Post("ops", "alice", "hello", null);

        Assert.Equal("m1", first.Id);
        Assert.Equal("m2", second.Id);
        Assert.Equal([second], sut.List("ops", null));
    }

    [Fact]
    public void Channels_AfterPostAndEnsure_ListsEachChannelOnceInOrder()
    {
        var sut = CreateSut();

        sut.Post("releases", "alice", "hello", null);
        sut.EnsureChannel("ops");
        sut.EnsureChannel("releases");

        Assert.Equal(["ops", "releases"], sut.Channels);
        Assert.Empty(sut.List("ops", null));
    }

    [Fact]
    public void List_UnknownChannel_ReturnsEmpty()
    {
        var sut = CreateSut();

        Assert.Empty(sut.List("nowhere", "alice"));
    }

    [Fact]
    public void Get_PostedMessage_ReturnsItAndUnknownIdReturnsNull()
    {
        var sut = CreateSut();

        var posted = sut.Post("releases", "alice", "hello", null);

        Assert.Equal(posted, sut.Get(posted.Id));
        Assert.Null(sut.Get("m999"));
    }

    [Fact]
    public void Upsert_NewKey_PostsAsShipBot()
    {
        var sut = CreateSut();
        var card = Card("demo@1.0.0 started");

        var posted = sut.Upsert("releases", "release:demo@1.0.0", card.Fallback, card, threadKey: null);

        Assert.Equal("shipbot", posted.Author);
        Assert.Equal(1, posted.Version);
        Assert.Same(card, posted.Card);
        Assert.Null(posted.ThreadOf);
        Assert.Null(posted.VisibleTo);
    }

    [Fact]
    public void Upsert_SameKey_UpdatesInPlaceWithNextVersion()
    {
        var sut = CreateSut();
        var first = sut.Upsert("releases", "release:demo@1.0.0", "draft", Card("draft"), null);
        sut.Post("releases", "alice", "looks good", null);
        var updatedCard = Card("approved");

        var updated = sut.Upsert("releases", "release:demo@1.0.0", "approved", updatedCard, null);

        Assert.Equal(first.Id, updated.Id);
        Assert.Equal(2, updated.Version);
        Assert.Equal("approved", updated.Text);
        Assert.Same(updatedCard, updated.Card);
        Assert.Equal(first.PostedAt, updated.PostedAt);
        var list = sut.List("releases", null);
        Assert.Equal(2, list.Count);
        Assert.Equal(updated, list[0]);
        Assert.Equal(updated, sut.Get(first.Id));
    }

    [Fact]
    public void Upsert_SameKeyThreeTimes_CountsVersions()
    {
        var sut = CreateSut();

        sut.Upsert("releases", "k", "one", Card("one"), null);
        sut.Upsert("releases", "k", "two", Card("two"), null);
        var third = sut.Upsert("releases", "k", "three", Card("three"), null);

        Assert.Equal(3, third.Version);
        Assert.Single(sut.List("releases", null));
    }

    [Fact]
    public void Upsert_WithThreadKey_ThreadsUnderThatKeysMessage()
    {
        var sut = CreateSut();
        var parent = sut.Upsert("releases", "release:demo@1.0.0", "card", Card("card"), null);

        var reply = sut.Upsert("releases", "alert:demo@1.0.0:rollback", "rolled back", Card("rolled back"), threadKey: "release:demo@1.0.0");

        Assert.NotEqual(parent.Id, reply.Id);
        Assert.Equal(parent.Id, reply.ThreadOf);
    }

    [Fact]
    public void Upsert_WithUnknownThreadKey_PostsUnthreaded()
    {
        var sut = CreateSut();

        var posted = sut.Upsert("releases", "alert", "text", Card("text"), threadKey: "never-posted");

        Assert.Null(posted.ThreadOf);
    }

    [Fact]
    public void List_EphemeralMessage_VisibleOnlyToItsViewer()
    {
        var sut = CreateSut();
        var everyone = sut.Post("releases", "alice", "public", null);
        var privately = sut.Post("releases", "shipbot", "only alice", null, visibleTo: "alice");

        Assert.Equal([everyone, privately], sut.List("releases", "alice"));
        Assert.Equal([everyone, privately], sut.List("releases", "ALICE"));
        Assert.Equal([everyone], sut.List("releases", "bob"));
        Assert.Equal([everyone], sut.List("releases", null));
    }

    [Fact]
    public void Post_MoreThanMaxMessages_DropsTheOldest()
    {
        var sut = CreateSut();

        for (var i = 0; i <= ConsoleChannelHub.MaxMessagesPerChannel; i++)
        {
            sut.Post("releases", "alice", $"message {i}", null);
        }

        var list = sut.List("releases", null);
        Assert.Equal(ConsoleChannelHub.MaxMessagesPerChannel, list.Count);
        Assert.Equal("m2", list[0].Id);
        Assert.Equal($"m{ConsoleChannelHub.MaxMessagesPerChannel + 1}", list[^1].Id);
        Assert.Null(sut.Get("m1"));
    }

    [Fact]
    public void Post_ManyInAnotherChannel_DoesNotTrimThisChannel()
    {
        var sut = CreateSut();
        var kept = sut.Post("releases", "alice", "keep me", null);

        for (var i = 0; i <= ConsoleChannelHub.MaxMessagesPerChannel; i++)
        {
            sut.Post("ops", "bob", $"noise {i}", null);
        }

        Assert.Equal([kept], sut.List("releases", null));
        Assert.Equal(kept, sut.Get(kept.Id));
    }

    [Fact]
    public void Upsert_AfterItsMessageWasTrimmed_PostsANewMessage()
    {
        var sut = CreateSut();
        var original = sut.Upsert("releases", "release:demo@1.0.0", "card", Card("card"), null);
        for (var i = 0; i < ConsoleChannelHub.MaxMessagesPerChannel; i++)
        {
            sut.Post("releases", "alice", $"chatter {i}", null);
        }

        var reposted = sut.Upsert("releases", "release:demo@1.0.0", "card v2", Card("card v2"), null);

        Assert.NotEqual(original.Id, reposted.Id);
        Assert.Equal(1, reposted.Version);
        Assert.Equal(reposted, sut.List("releases", null)[^1]);
    }

    [Fact]
    public async Task SubscribeAsync_PostsAndUpdates_ReceivedForItsChannelOnly()
    {
        var sut = CreateSut();
        using var cts = new CancellationTokenSource(ReceiveTimeout);
        await using var subscription = sut.SubscribeAsync("releases", cts.Token).GetAsyncEnumerator(cts.Token);
        var first = subscription.MoveNextAsync();

        sut.Post("ops", "bob", "elsewhere", null);
        var posted = sut.Upsert("releases", "k", "v1", Card("v1"), null);
        var updated = sut.Upsert("releases", "k", "v2", Card("v2"), null);

        Assert.True(await first);
        Assert.Equal(posted, subscription.Current);
        Assert.True(await subscription.MoveNextAsync());
        Assert.Equal(updated, subscription.Current);
        Assert.Equal(posted.Id, subscription.Current.Id);
        Assert.Equal(2, subscription.Current.Version);
    }

    [Fact]
    public async Task SubscribeAsync_TwoSubscribers_BothReceive()
    {
        var sut = CreateSut();
        using var cts = new CancellationTokenSource(ReceiveTimeout);
        await using var one = sut.SubscribeAsync("releases", cts.Token).GetAsyncEnumerator(cts.Token);
        await using var two = sut.SubscribeAsync("releases", cts.Token).GetAsyncEnumerator(cts.Token);
        var nextOne = one.MoveNextAsync();
        var nextTwo = two.MoveNextAsync();

        var posted = sut.Post("releases", "alice", "hello", null);

        Assert.True(await nextOne);
        Assert.True(await nextTwo);
        Assert.Equal(posted, one.Current);
        Assert.Equal(posted, two.Current);
    }

    [Fact]
    public async Task SubscribeAsync_Cancelled_EndsTheSubscription()
    {
        var sut = CreateSut();
        using var cts = new CancellationTokenSource();
        await using var subscription = sut.SubscribeAsync("releases", cts.Token).GetAsyncEnumerator(cts.Token);
        var next = subscription.MoveNextAsync();

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await next);
    }

    [Fact]
    public async Task Upsert_ConcurrentCallsWithOneNewKey_PostOneMessage()
    {
        var duplicated = 0;
        for (var round = 0; round < 100; round++)
        {
            var sut = CreateSut();
            using var start = new Barrier(8);
            var writers = Enumerable.Range(0, 8).Select(i => Task.Factory.StartNew(
                () =>
                {
                    start.SignalAndWait();
                    sut.Upsert("releases", "release:demo@1.0.0", $"v{i}", Card($"v{i}"), null);
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default));
            await Task.WhenAll(writers);
            if (sut.List("releases", null).Count != 1)
            {
                duplicated++;
            }
        }

        Assert.Equal(0, duplicated);
    }

    private static Card Card(string text) => new(text, null, CardTone.Info, [new TextBlock(text)], [], text);

    private ConsoleChannelHub CreateSut() => new(_time);
}
