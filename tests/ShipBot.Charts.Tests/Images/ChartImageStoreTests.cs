using Microsoft.Extensions.Time.Testing;
using ShipBot.Charts.Images;

namespace ShipBot.Charts.Tests.Images;

public sealed class ChartImageStoreTests
{
    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));

    private ChartImageStore CreateSut(InMemoryChatState? state = null, ChartImageOptions? options = null) =>
        new(state ?? new InMemoryChatState(_time), _time, options ?? new ChartImageOptions());

    [Fact]
    public async Task PublishAsync_ThenGet_SameImage()
    {
        var sut = CreateSut();

        var link = await sut.PublishAsync(Png);
        var image = await sut.GetAsync(link.Token);

        Assert.NotNull(image);
        Assert.Equal(Png, image.Content);
        Assert.Equal("image/png", image.ContentType);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromDays(7), image.ExpiresAt);
        Assert.Equal($"/charts/{link.Token}.png", link.Path);
        Assert.Null(link.Url);
    }

    [Fact]
    public async Task PublishAsync_Twice_UnguessableDistinctTokens()
    {
        var sut = CreateSut();

        var first = await sut.PublishAsync(Png);
        var second = await sut.PublishAsync(Png);

        Assert.NotEqual(first.Token, second.Token);
        Assert.True(ChartImageStore.IsWellFormed(first.Token));
        Assert.Equal(43, first.Token.Length); // 256 random bits, base64url
    }

    [Fact]
    public async Task PublishAsync_Stored_KeyIsAHashNeverTheToken()
    {
        var state = new InMemoryChatState(_time);
        var sut = CreateSut(state);

        var link = await sut.PublishAsync(Png);

        var (key, entry) = Assert.Single(state.Entries);
        Assert.DoesNotContain(link.Token, key, StringComparison.Ordinal);
        Assert.DoesNotContain(link.Token, entry.Value, StringComparison.Ordinal);
        Assert.StartsWith("chart-image:", key, StringComparison.Ordinal);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromDays(7), entry.Expires);
    }

    [Fact]
    public async Task GetAsync_AfterTheTtl_GoneEvenIfTheStoreKeepsIt()
    {
        var sut = CreateSut(new InMemoryChatState(_time, honourTtl: false));
        var link = await sut.PublishAsync(Png, ttl: TimeSpan.FromMinutes(10));

        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Null(await sut.GetAsync(link.Token));
    }

    [Fact]
    public async Task GetAsync_JustBeforeTheTtl_StillThere()
    {
        var sut = CreateSut();
        var link = await sut.PublishAsync(Png, ttl: TimeSpan.FromMinutes(10));

        _time.Advance(TimeSpan.FromMinutes(9));

        Assert.NotNull(await sut.GetAsync(link.Token));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("../../etc/passwd")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    public async Task GetAsync_MalformedToken_NullWithoutReadingTheStore(string token)
    {
        var state = new InMemoryChatState(_time);
        var sut = CreateSut(state);

        Assert.Null(await sut.GetAsync(token));
        Assert.Equal(0, state.Reads);
    }

    [Fact]
    public async Task GetAsync_UnknownToken_Null() =>
        Assert.Null(await CreateSut().GetAsync(new string('A', 43)));

    [Fact]
    public async Task PublishAsync_TooLarge_Refused()
    {
        var sut = CreateSut(options: new ChartImageOptions { MaxBytes = 4 });

        await Assert.ThrowsAsync<ArgumentException>(() => sut.PublishAsync(Png));
    }

    [Fact]
    public async Task PublishAsync_PublicBaseUrl_AbsoluteLink()
    {
        var sut = CreateSut(options: new ChartImageOptions { PublicBaseUrl = new Uri("https://shipbot.example.com/bot") });

        var link = await sut.PublishAsync(Png);

        Assert.Equal(new Uri($"https://shipbot.example.com/bot/charts/{link.Token}.png"), link.Url);
    }

    [Fact]
    public async Task GetAsync_AnotherStoreOverTheSameState_ServesIt()
    {
        // Two replicas share the chat state: what one publishes, the other serves.
        var state = new InMemoryChatState(_time);
        var link = await CreateSut(state).PublishAsync(Png);

        var image = await CreateSut(state).GetAsync(link.Token);

        Assert.Equal(Png, image?.Content);
    }
}
