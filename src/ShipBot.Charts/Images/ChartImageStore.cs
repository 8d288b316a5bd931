using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ShipBot.Core.Ports;

namespace ShipBot.Charts.Images;

/// <summary>Settings of the chart image store (<c>ShipBot:Charts</c>).</summary>
public sealed class ChartImageOptions
{
    /// <summary>
    /// ShipBot's public address, e.g. https://shipbot.example.com: image URLs are absolute so that
    /// Slack and Teams can fetch them. Null: links are relative (<c>/charts/…</c>, enough for the console).
    /// </summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>How long an image stays reachable. Default 7 days (chat clients refetch images when a message is scrolled back to).</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The largest image accepted, bytes. Default 1 MiB.</summary>
    public int MaxBytes { get; set; } = 1024 * 1024;
}

/// <summary>Where a published image can be fetched, and until when.</summary>
/// <param name="Path">The path, <c>/charts/{token}.png</c>.</param>
/// <param name="Url">The absolute URL when a public base URL is configured, else null.</param>
public sealed record ChartImageLink(string Token, string Path, Uri? Url, DateTimeOffset ExpiresAt);

/// <summary>A stored image: its bytes, its content type and when it expires.</summary>
public sealed record ChartImage(byte[] Content, string ContentType, DateTimeOffset ExpiresAt);

/// <summary>
/// Serves images (judge evidence, delivery charts…) at unguessable, expiring URLs. Each image gets
/// a fresh 256-bit random token; the token is the only credential, so it is never stored: the key
/// is its SHA-256. Images live in the shared chat state (<see cref="IChatStateStore"/>, base64 in
/// JSON, with the store's own time to live), so any replica can serve what another published. An
/// image is gone after its time to live even if a store keeps it longer: the expiry is checked on
/// every read.
/// </summary>
public sealed class ChartImageStore(IChatStateStore store, TimeProvider time, ChartImageOptions options)
{
    /// <summary>Path prefix of the image endpoint (<see cref="ChartImageEndpoints.MapChartImages"/>).</summary>
    public const string PathPrefix = "/charts/";

    private const string KeyPrefix = "chart-image:";
    private const int TokenBytes = 32;

    /// <summary>Stores an image and returns where it can be fetched. Default content type image/png; default time to live <see cref="ChartImageOptions.Ttl"/>.</summary>
    /// <exception cref="ArgumentException">The image is empty or larger than <see cref="ChartImageOptions.MaxBytes"/>.</exception>
    public async Task<ChartImageLink> PublishAsync(byte[] image, string contentType = "image/png", TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Length == 0 || image.Length > options.MaxBytes)
        {
            throw new ArgumentException($"An image must have 1 to {options.MaxBytes} bytes, not {image.Length}.", nameof(image));
        }

        var life = ttl ?? options.Ttl;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(life, TimeSpan.Zero, nameof(ttl));
        var token = Base64Url(RandomNumberGenerator.GetBytes(TokenBytes));
        var expires = time.GetUtcNow() + life;
        var stored = JsonSerializer.Serialize(new StoredImage(contentType, expires, Convert.ToBase64String(image)), ChartImageJsonContext.Default.StoredImage);
        await store.SetAsync(Key(token), stored, life, cancellationToken).ConfigureAwait(false);
        var path = $"{PathPrefix}{token}.png";
        Uri? url = null;
        if (options.PublicBaseUrl is { } root)
        {
            url = new Uri(new Uri(root.AbsoluteUri.EndsWith('/') ? root.AbsoluteUri : root.AbsoluteUri + "/"), path.TrimStart('/'));
        }

        return new ChartImageLink(token, path, url, expires);
    }

    /// <summary>The image a token stands for, or null when the token is malformed, unknown or expired.</summary>
    public async Task<ChartImage?> GetAsync(string token, CancellationToken cancellationToken = default)
    {
        if (!IsWellFormed(token))
        {
            return null;
        }

        var stored = await store.GetAsync(Key(token), cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return null;
        }

        StoredImage? image;
        try
        {
            image = JsonSerializer.Deserialize(stored, ChartImageJsonContext.Default.StoredImage);
        }
        catch (JsonException)
        {
            return null;
        }

        if (image is null || image.ExpiresAt <= time.GetUtcNow())
        {
            return null;
        }

        try
        {
            return new ChartImage(Convert.FromBase64String(image.Data), image.ContentType, image.ExpiresAt);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>A token as this store makes them: 43 base64url characters (256 bits).</summary>
    public static bool IsWellFormed(string? token) =>
        token is { Length: 43 } && token.All(c => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

    private static string Key(string token) => KeyPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>What the chat state holds for one image.</summary>
internal sealed record StoredImage(
    [property: JsonPropertyName("type")] string ContentType,
    [property: JsonPropertyName("expires")] DateTimeOffset ExpiresAt,
    [property: JsonPropertyName("data")] string Data);

[JsonSerializable(typeof(StoredImage))]
internal sealed partial class ChartImageJsonContext : JsonSerializerContext;
