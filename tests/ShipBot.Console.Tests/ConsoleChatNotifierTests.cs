using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Cards;
using ShipBot.Core.Releases;

namespace ShipBot.Console.Tests;

public sealed class ConsoleChatNotifierTests
{
    private static readonly Conversation Releases = new("console", "releases");

    private readonly ConsoleChannelHub _hub = new(new FakeTimeProvider(new DateTimeOffset(2025, 6, 2, 9, 0, 0, TimeSpan.Zero)));

    [Fact]
    public void Platform_Always_IsConsole()
    {
        var sut = CreateSut();

        Assert.Equal("console", sut.Platform);
        Assert.Equal(ConsoleChatNotifier.PlatformName, sut.Platform);
    }

    [Fact]
    public async Task PublishAsync_Card_PostsFallbackAsTextWithTheCard()
    {
        var sut = CreateSut();
        var card = Card("🚀 demo@1.0.0 is at canary 5 %", "demo@1.0.0: canary 5 %");

        await sut.PublishAsync(Releases, "release:demo@1.0.0", card);

        var message = Assert.Single(_hub.List("releases", null));
        Assert.Equal("demo@1.0.0: canary 5 %", message.Text);
        Assert.Same(card, message.Card);
        Assert.Equal("shipbot", message.Author);
        Assert.Equal("releases", message.Channel);
    }

    [Fact]
    public async Task PublishAsync_SameKeyAgain_UpdatesTheMessageInPlace()
    {
        var sut = CreateSut();
        await sut.PublishAsync(Releases, "release:demo@1.0.0", Card("Draft", "draft"));

        await sut.PublishAsync(Releases, "release:demo@1.0.0", Card("Approved", "approved"));

        var message = Assert.Single(_hub.List("releases", null));
        Assert.Equal("approved", message.Text);
        Assert.Equal(2, message.Version);
    }

    [Fact]
    public async Task PublishAsync_WithThreadKey_ThreadsUnderThatMessage()
    {
        var sut = CreateSut();
        await sut.PublishAsync(Releases, "release:demo@1.0.0", Card("Release", "release"));

        await sut.PublishAsync(Releases, "alert:demo@1.0.0", Card("Alert", "alert"), threadKey: "release:demo@1.0.0");

        var list = _hub.List("releases", null);
        Assert.Equal(2, list.Count);
        Assert.Equal(list[0].Id, list[1].ThreadOf);
    }

    [Fact]
    public async Task PublishAsync_NullCardOrConversation_Throws()
    {
        var sut = CreateSut();

        await Assert.ThrowsAsync<ArgumentNullException>(() => sut.PublishAsync(Releases, "k", null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => sut.PublishAsync(null!, "k", Card("t", "t")));
        Assert.Empty(_hub.Channels);
    }

    private static Card Card(string title, string fallback) => new(title, null, CardTone.Info, [new TextBlock(title)], [], fallback);

    private ConsoleChatNotifier CreateSut() => new(_hub);
}
