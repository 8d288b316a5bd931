using ShipBot.Core.Ports;
using Xunit;

namespace ShipBot.Testing;

/// <summary>
/// The contract every <see cref="ITokenStore"/> keeps: names are unique, a token is found by its
/// hash until it is removed, removal is seen at once by every view of the store (no cache), and a
/// listing never carries anything but hashes. Derive once per implementation and return fresh,
/// isolated stores; <see cref="CreatePairAsync"/> returns two views of one shared store (two
/// replicas), or the same object twice where there is only one process.
/// </summary>
public abstract class TokenStoreContract
{
    protected static readonly DateTimeOffset T0 = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);

    protected abstract Task<(ITokenStore First, ITokenStore Second)> CreatePairAsync();

    protected static StoredToken Token(string name, string hash, params string[] scopes) =>
        new(name, hash, scopes.Length == 0 ? [TokenScopes.ReleasesRead] : scopes, "dave", T0);

    [Fact]
    public async Task TryAddAsync_NewName_IsFoundByItsHash()
    {
        var (store, _) = await CreatePairAsync();

        Assert.True(await store.TryAddAsync(Token("ci", "aa11", TokenScopes.ReleasesRead, TokenScopes.ReleasesWrite)));

        var found = await store.FindByHashAsync("aa11");
        Assert.NotNull(found);
        Assert.Equal("ci", found.Name);
        Assert.Equal([TokenScopes.ReleasesRead, TokenScopes.ReleasesWrite], found.Scopes);
        Assert.Equal("dave", found.CreatedBy);
        Assert.Equal(T0, found.CreatedAt);
        Assert.Null(await store.FindByHashAsync("bb22"));
    }

    [Fact]
    public async Task TryAddAsync_NameTaken_RefusedAndTheFirstStays()
    {
        var (store, _) = await CreatePairAsync();
        Assert.True(await store.TryAddAsync(Token("ci", "aa11")));

        Assert.False(await store.TryAddAsync(Token("ci", "cc33")));

        Assert.Null(await store.FindByHashAsync("cc33"));
        Assert.Equal("ci", (await store.FindByHashAsync("aa11"))?.Name);
    }

    [Fact]
    public async Task RemoveAsync_OnOneView_TheOtherNoLongerFindsIt()
    {
        var (first, second) = await CreatePairAsync();
        Assert.True(await first.TryAddAsync(Token("ci", "aa11")));
        Assert.NotNull(await second.FindByHashAsync("aa11"));

        var removed = await first.RemoveAsync("ci");

        Assert.Equal("aa11", removed?.Hash);
        Assert.Null(await second.FindByHashAsync("aa11"));
        Assert.Null(await first.FindByHashAsync("aa11"));
        Assert.Empty(await second.ListAsync());
    }

    [Fact]
    public async Task RemoveAsync_UnknownName_ReturnsNull()
    {
        var (store, _) = await CreatePairAsync();

        Assert.Null(await store.RemoveAsync("nobody"));
    }

    [Fact]
    public async Task ListAsync_SeveralTokens_ByName()
    {
        var (store, other) = await CreatePairAsync();
        await store.TryAddAsync(Token("zeta", "01"));
        await store.TryAddAsync(Token("alpha", "02", TokenScopes.Admin));

        var list = await other.ListAsync();

        Assert.Equal(["alpha", "zeta"], list.Select(t => t.Name));
        Assert.Equal([TokenScopes.Admin], list[0].Scopes);
    }

    [Fact]
    public async Task TryAddAsync_AfterRemove_NameCanBeUsedAgain()
    {
        var (store, _) = await CreatePairAsync();
        await store.TryAddAsync(Token("ci", "aa11"));
        await store.RemoveAsync("ci");

        Assert.True(await store.TryAddAsync(Token("ci", "dd44")));
        Assert.Null(await store.FindByHashAsync("aa11"));
        Assert.Equal("ci", (await store.FindByHashAsync("dd44"))?.Name);
    }
}
