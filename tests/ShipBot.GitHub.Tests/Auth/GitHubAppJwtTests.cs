using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using ShipBot.GitHub.Auth;

namespace ShipBot.GitHub.Tests.Auth;

public sealed class GitHubAppJwtTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 3, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Create_Always_RS256SignedBackdatedAndUnderTenMinutes()
    {
        using var key = RSA.Create(2048);
        var jwt = new GitHubAppJwt("Iv23li0001", key, new FakeTimeProvider(Now)).Create();

        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        var header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!;
        var payload = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!;
        Assert.Equal("RS256", (string?)header["alg"]);
        Assert.Equal("Iv23li0001", (string?)payload["iss"]);
        Assert.Equal(Now.ToUnixTimeSeconds() - 60, (long)payload["iat"]!);
        Assert.True((long)payload["exp"]! - Now.ToUnixTimeSeconds() <= 600);
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public void ImportKey_Pkcs1AndPkcs8_BothRead()
    {
        using var rsa = RSA.Create(2048);

        using var pkcs1 = GitHubAppJwt.ImportKey(rsa.ExportRSAPrivateKeyPem());
        using var pkcs8 = GitHubAppJwt.ImportKey(rsa.ExportPkcs8PrivateKeyPem());

        Assert.Equal(rsa.ExportRSAPublicKeyPem(), pkcs1.ExportRSAPublicKeyPem());
        Assert.Equal(rsa.ExportRSAPublicKeyPem(), pkcs8.ExportRSAPublicKeyPem());
    }

    [Fact]
    public void ImportKey_NotAKey_ArgumentExceptionWithoutTheText()
    {
        var ex = Assert.Throws<ArgumentException>(() => GitHubAppJwt.ImportKey("hunter2"));

        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }
}
