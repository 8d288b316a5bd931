using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ShipBot.Slack;

public enum SignatureVerdict
{
    Valid,
    MissingHeaders,
    MalformedTimestamp,
    Stale,
    FromTheFuture,
    Mismatch,
}

/// <summary>
/// Slack's request signing ("Verifying requests from Slack"): <c>X-Slack-Signature</c> is
/// <c>v0=</c> + hex HMAC-SHA256 of <c>v0:{X-Slack-Request-Timestamp}:{raw body}</c> keyed with the
/// signing secret. The comparison is constant-time; a timestamp further than the allowed skew from
/// now, in either direction, is refused before any hashing.
/// </summary>
public sealed class SlackSignature(string signingSecret, TimeProvider time, TimeSpan maxSkew)
{
    public const string SignatureHeader = "X-Slack-Signature";
    public const string TimestampHeader = "X-Slack-Request-Timestamp";

    private readonly byte[] _key = Encoding.UTF8.GetBytes(signingSecret ?? throw new ArgumentNullException(nameof(signingSecret)));

    public SignatureVerdict Verify(string? timestamp, string? signature, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature))
        {
            return SignatureVerdict.MissingHeaders;
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return SignatureVerdict.MalformedTimestamp;
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var skew = (long)maxSkew.TotalSeconds;
        if (seconds < now - skew)
        {
            return SignatureVerdict.Stale;
        }

        if (seconds > now + skew)
        {
            return SignatureVerdict.FromTheFuture;
        }

        Span<byte> expected = stackalloc byte[32];
        Compute(timestamp, body, expected);
        if (!signature.StartsWith("v0=", StringComparison.Ordinal) || signature.Length != 3 + 64)
        {
            return SignatureVerdict.Mismatch;
        }

        Span<byte> given = stackalloc byte[32];
        try
        {
            if (Convert.FromHexString(signature.AsSpan(3), given, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
            {
                return SignatureVerdict.Mismatch;
            }
        }
        catch (FormatException)
        {
            return SignatureVerdict.Mismatch;
        }

        return CryptographicOperations.FixedTimeEquals(expected, given) ? SignatureVerdict.Valid : SignatureVerdict.Mismatch;
    }

    /// <summary>The signature Slack would send for this timestamp and body (for tests, the fake Slack and the benchmark).</summary>
    public string Sign(string timestamp, ReadOnlySpan<byte> body)
    {
        Span<byte> mac = stackalloc byte[32];
        Compute(timestamp, body, mac);
        return "v0=" + Convert.ToHexStringLower(mac);
    }

    private void Compute(string timestamp, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        // Hashed in pieces: the body is not copied for every request.
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        hmac.AppendData(Encoding.UTF8.GetBytes($"v0:{timestamp}:"));
        hmac.AppendData(body);
        hmac.GetHashAndReset(destination);
    }
}
