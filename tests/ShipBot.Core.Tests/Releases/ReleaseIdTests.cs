using CsCheck;
using ShipBot.Core.Releases;

namespace ShipBot.Core.Tests.Releases;

public sealed class ReleaseIdTests
{
    [Theory]
    [InlineData("checkout@1.4.2", "checkout", "1.4.2")]
    [InlineData("Checkout@1.4.2", "checkout", "1.4.2")]
    [InlineData("pay-api_v2.eu@2.0.0-rc.1+build.7", "pay-api_v2.eu", "2.0.0-rc.1+build.7")]
    [InlineData("a@B", "a", "B")]
    public void TryParse_ServiceAtVersion_Parses(string text, string service, string version)
    {
        Assert.True(ReleaseId.TryParse(text, out var id));

        Assert.Equal(new ReleaseId(service, version), id);
        Assert.Equal($"{service}@{version}", id.Value.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("checkout")]
    [InlineData("@1.4.2")]
    [InlineData("checkout@")]
    [InlineData("checkout@1.4.2@x")]
    [InlineData("check out@1.4.2")]
    [InlineData("-checkout@1.4.2")]
    [InlineData("checkout@.1")]
    [InlineData("checkout@1 .2")]
    public void TryParse_NotAReleaseName_ReturnsFalse(string? text)
    {
        Assert.False(ReleaseId.TryParse(text, out var id));
        Assert.Null(id);
    }

    [Fact]
    public void TryParse_AnyString_NeverThrowsAndRoundTrips()
    {
        Gen.String.Sample(text =>
        {
            if (ReleaseId.TryParse(text, out var id))
            {
                Assert.True(ReleaseId.TryParse(id.Value.ToString(), out var again));
                Assert.Equal(id, again);
            }
        }, iter: 10_000);
    }

    [Fact]
    public void TryParse_ValidParts_AlwaysParses()
    {
        var service = Gen.Select(Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789"], Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789._-"].Array[0, 20])
            .Select((first, rest) => first + new string(rest));
        var version = Gen.Select(Gen.Char["ABCabc0123456789"], Gen.Char["ABCabc0123456789.+_-"].Array[0, 20])
            .Select((first, rest) => first + new string(rest));

        Gen.Select(service, version).Sample((s, v) =>
        {
            Assert.True(ReleaseId.TryParse($"{s}@{v}", out var id));
            Assert.Equal(new ReleaseId(s, v), id);
        }, iter: 10_000);
    }
}
