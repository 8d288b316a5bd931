using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ShipBot.GitHub.Auth;

/// <summary>
/// Signs the JSON Web Tokens a GitHub App authenticates with: RS256 with the app's private key,
/// issued 60 s in the past (GitHub's advice against clock drift) and valid for 9 minutes (GitHub
/// refuses more than 10), with the app's client ID or app ID as issuer.
/// </summary>
public sealed class GitHubAppJwt
{
    /// <summary>How far back <c>iat</c> is set, for clocks that run slightly ahead of GitHub's.</summary>
    public static readonly TimeSpan Backdate = TimeSpan.FromSeconds(60);

    /// <summary>How long a token is valid after now.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(9);

    private static readonly string Header = Base64Url.EncodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}"u8);

    private readonly string _issuer;
    private readonly RSA _key;
    private readonly TimeProvider _time;

    public GitHubAppJwt(string issuer, RSA key, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(issuer);
        ArgumentNullException.ThrowIfNull(key);
        _issuer = issuer;
        _key = key;
        _time = time;
    }

    /// <summary>Reads a PEM private key (PKCS#1 <c>RSA PRIVATE KEY</c> or PKCS#8 <c>PRIVATE KEY</c>).</summary>
    /// <exception cref="ArgumentException">The text holds no RSA private key.</exception>
    public static RSA ImportKey(string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return rsa;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            rsa.Dispose();

            // Never echo the key material: only say what is wrong with it.
            throw new ArgumentException("The GitHub App private key is not a PEM-encoded RSA private key.", nameof(pem), ex);
        }
    }

    public string Create()
    {
        var now = _time.GetUtcNow();
        using var payload = new MemoryStream();
        using (var json = new Utf8JsonWriter(payload))
        {
            json.WriteStartObject();
            json.WriteNumber("iat", (now - Backdate).ToUnixTimeSeconds());
            json.WriteNumber("exp", (now + Lifetime).ToUnixTimeSeconds());
            json.WriteString("iss", _issuer);
            json.WriteEndObject();
        }

        var signingInput = $"{Header}.{Base64Url.EncodeToString(payload.ToArray())}";
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{signingInput}.{Base64Url.EncodeToString(signature)}";
    }
}
