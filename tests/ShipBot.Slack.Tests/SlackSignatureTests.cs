using System.Globalization;
using System.Text;
using CsCheck;
using Microsoft.Extensions.Time.Testing;

namespace ShipBot.Slack.Tests;

/// <summary>Slack's "Verifying requests from Slack", with its documented example and the 5-minute replay window.</summary>
public sealed class SlackSignatureTests
{
    // The example of https://api.slack.com/authentication/verifying-requests-from-slack
    private const string DocSecret = "8f742231b10e8888abcd99yyyzzz85a5";
    private const string DocTimestamp = "1531420618";
    private const string DocBody = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    private const string DocSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    private const long DocSeconds = 1531420618;

    private static readonly TimeSpan Window = TimeSpan.FromSeconds(300);

    private static byte[] Body => Encoding.UTF8.GetBytes(DocBody);

    private static SlackSignature CreateSut(string secret = DocSecret, long nowSeconds = DocSeconds) =>
        new(secret, new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(nowSeconds)), Window);

    private static string Seconds(long value) => value.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void Sign_SlacksDocumentedExample_GivesTheDocumentedSignature()
    {
        var sut = CreateSut();

        Assert.Equal(DocSignature, sut.Sign(DocTimestamp, Body));
    }

    [Fact]
    public void Verify_SlacksDocumentedExample_IsValid()
    {
        var sut = CreateSut();

        Assert.Equal(SignatureVerdict.Valid, sut.Verify(DocTimestamp, DocSignature, Body));
    }

    [Fact]
    public void Verify_OneBodyByteChanged_IsMismatch()
    {
        var sut = CreateSut();
        var body = Body;
        body[^1] ^= 0x01;

        Assert.Equal(SignatureVerdict.Mismatch, sut.Verify(DocTimestamp, DocSignature, body));
    }

    [Fact]
    public void Verify_WrongSecret_IsMismatch()
    {
        var sut = CreateSut(secret: "8f742231b10e8888abcd99yyyzzz85a6");

        Assert.Equal(SignatureVerdict.Mismatch, sut.Verify(DocTimestamp, DocSignature, Body));
    }

    [Fact]
    public void Verify_Timestamp301SecondsOld_IsStale()
    {
        var sut = CreateSut(nowSeconds: DocSeconds + 301);

        Assert.Equal(SignatureVerdict.Stale, sut.Verify(DocTimestamp, DocSignature, Body));
    }

    [Fact]
    public void Verify_Timestamp301SecondsAhead_IsFromTheFuture()
    {
        var sut = CreateSut(nowSeconds: DocSeconds - 301);

        Assert.Equal(SignatureVerdict.FromTheFuture, sut.Verify(DocTimestamp, DocSignature, Body));
    }

    [Theory]
    [InlineData(300)]
    [InlineData(-300)]
    public void Verify_TimestampExactly300SecondsAway_IsValid(long offset)
    {
        var sut = CreateSut(nowSeconds: DocSeconds + offset);

        Assert.Equal(SignatureVerdict.Valid, sut.Verify(DocTimestamp, DocSignature, Body));
    }

    [Fact]
    public void Verify_StaleTimestampSignedWithTheRightSecret_IsStillStale()
    {
        var sut = CreateSut(nowSeconds: DocSeconds + 3600);

        // A replayed request keeps its valid signature; only the window stops it.
        Assert.Equal(SignatureVerdict.Stale, sut.Verify(DocTimestamp, sut.Sign(DocTimestamp, Body), Body));
    }

    [Theory]
    [InlineData(null, DocSignature)]
    [InlineData("", DocSignature)]
    [InlineData(DocTimestamp, null)]
    [InlineData(DocTimestamp, "")]
    [InlineData(null, null)]
    public void Verify_MissingHeader_IsMissingHeaders(string? timestamp, string? signature)
    {
        var sut = CreateSut();

        Assert.Equal(SignatureVerdict.MissingHeaders, sut.Verify(timestamp, signature, Body));
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("1531420618.5")]
    [InlineData("-1531420618")]
    [InlineData("+1531420618")]
    [InlineData(" 1531420618")]
    [InlineData("1531420618 ")]
    [InlineData("0x5B4766CA")]
    [InlineData("99999999999999999999999")]
    [InlineData("１５３１４２０６１８")]
    public void Verify_NonNumericTimestamp_IsMalformedTimestamp(string timestamp)
    {
        var sut = CreateSut();

        Assert.Equal(SignatureVerdict.MalformedTimestamp, sut.Verify(timestamp, DocSignature, Body));
    }

    [Theory]
    [InlineData("a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")]
    [InlineData("v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")]
    [InlineData("V0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")]
    [InlineData("v0a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b50")]
    [InlineData("v0=")]
    [InlineData("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b5")]
    [InlineData("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b50")]
    [InlineData("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b5033")]
    [InlineData("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")]
    [InlineData("v0=z2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")]
    [InlineData("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b50g")]
    [InlineData("v0= 2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")]
    [InlineData("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b5😀")]
    [InlineData("v0=0000000000000000000000000000000000000000000000000000000000000000")]
    public void Verify_MalformedOrWrongSignature_IsMismatchNeverAnException(string signature)
    {
        var sut = CreateSut();

        var verdict = sut.Verify(DocTimestamp, signature, Body);

        Assert.Equal(SignatureVerdict.Mismatch, verdict);
    }

    [Fact]
    public void Verify_EmptyBodySignedForIt_IsValid()
    {
        var sut = CreateSut();

        Assert.Equal(SignatureVerdict.Valid, sut.Verify(DocTimestamp, sut.Sign(DocTimestamp, []), []));
    }

    [Fact]
    public void Verify_SignatureOfAnotherTimestamp_IsMismatch()
    {
        var sut = CreateSut();

        // The timestamp is part of the signed base string, so moving it within the window breaks the signature.
        Assert.Equal(SignatureVerdict.Mismatch, sut.Verify(Seconds(DocSeconds + 1), DocSignature, Body));
    }

    [Fact]
    public void Verify_AnyBodyAndTimestampWithinTheWindow_SignedIsValidAndAnyFlippedByteIsMismatch()
    {
        var sut = CreateSut();
        var cases = Gen.Select(
            Gen.Byte.Array[1, 2048],
            Gen.Long[-300, 300],
            Gen.Int[0, int.MaxValue],
            Gen.Byte[1, 255]);

        cases.Sample((body, offset, position, flip) =>
        {
            var timestamp = Seconds(DocSeconds + offset);
            var signature = sut.Sign(timestamp, body);

            Assert.Equal(SignatureVerdict.Valid, sut.Verify(timestamp, signature, body));

            var tampered = (byte[])body.Clone();
            tampered[position % tampered.Length] ^= flip;
            Assert.Equal(SignatureVerdict.Mismatch, sut.Verify(timestamp, signature, tampered));
        }, iter: 5_000);
    }
}
