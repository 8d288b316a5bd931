using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ShipBot.Http;

/// <summary>A token bucket: a sustained rate and the burst above it.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Requests per second sustained.</summary>
    public int PermitsPerSecond { get; set; }

    /// <summary>Requests allowed at once on top of a quiet period (the bucket's size).</summary>
    public int Burst { get; set; }
}

/// <summary>
/// The <c>ShipBot:RateLimits</c> section: limits that apply after a request's identity is known,
/// and a separate small one per source address for requests that fail verification. Defaults sit
/// far above what a real workspace sends and above ShipBot's measured throughput, so they only
/// ever stop floods.
/// </summary>
public sealed class InboundLimitOptions
{
    public const string Section = "ShipBot:RateLimits";

    /// <summary>Per Slack team, per Teams tenant, and for Alertmanager. Default 50,000/s, burst 50,000.</summary>
    public RateLimitOptions Platform { get; set; } = new() { PermitsPerSecond = 50_000, Burst = 50_000 };

    /// <summary>Per API token. Default 1,000/s, burst 2,000.</summary>
    public RateLimitOptions Token { get; set; } = new() { PermitsPerSecond = 1_000, Burst = 2_000 };

    /// <summary>Per console user (the signed-in identity; in Demo mode the acting user). Default 100/s, burst 200.</summary>
    public RateLimitOptions ConsoleUser { get; set; } = new() { PermitsPerSecond = 100, Burst = 200 };

    /// <summary>Per source address, for requests that failed verification (bad signature, token or session). Default 20/s, burst 40.</summary>
    public RateLimitOptions Unverified { get; set; } = new() { PermitsPerSecond = 20, Burst = 40 };

    /// <summary>The largest request body any inbound endpoint reads; a larger one gets 413 before any check. Default 1 MiB.</summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Problems with these settings, each naming its key (empty when valid).</summary>
    public IEnumerable<string> Validate()
    {
        foreach (var (name, limit) in new[] { ("Platform", Platform), ("Token", Token), ("ConsoleUser", ConsoleUser), ("Unverified", Unverified) })
        {
            if (limit.PermitsPerSecond < 1 || limit.Burst < 1)
            {
                yield return $"{Section}:{name}: PermitsPerSecond and Burst must be at least 1.";
            }
        }

        if (MaxBodyBytes < 1024)
        {
            yield return $"{Section}:MaxBodyBytes must be at least 1024.";
        }
    }
}

/// <summary>Whose budget a verified request spends.</summary>
public enum InboundPrincipal
{
    /// <summary>A chat platform's workspace (Slack team, Teams tenant) or Alertmanager.</summary>
    Platform,

    /// <summary>An API token.</summary>
    Token,

    /// <summary>A console user.</summary>
    ConsoleUser,
}

/// <summary>
/// Limits after identity, for every inbound endpoint. An endpoint verifies first (signature, JWT,
/// token or session), then spends the verified principal's budget (<see cref="TryAcquire"/>);
/// a request that fails verification spends only its source address's small failure budget
/// (<see cref="OnVerificationFailed"/>), so a flood of forged requests never uses up what real
/// traffic needs. Verification still runs for every request from an address whose failure budget
/// is gone: the address is not an identity (behind a proxy without forwarded headers every caller
/// shares one), and a genuine request from it must still be answered.
/// </summary>
public sealed partial class InboundGuard : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);
    private readonly PartitionedRateLimiter<string>[] _verified;
    private readonly PartitionedRateLimiter<string> _unverified;
    private readonly ILogger<InboundGuard> _logger;

    public InboundGuard(IOptions<InboundLimitOptions> options, ILogger<InboundGuard> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        MaxBodyBytes = o.MaxBodyBytes;
        _logger = logger;
        _verified = [Create(o.Platform), Create(o.Token), Create(o.ConsoleUser)];
        _unverified = Create(o.Unverified);
    }

    /// <summary>The body bound (<see cref="InboundLimitOptions.MaxBodyBytes"/>).</summary>
    public int MaxBodyBytes { get; }

    /// <summary>Reads the body within <see cref="MaxBodyBytes"/>.</summary>
    public ValueTask<BoundedBodyResult> ReadBodyAsync(HttpRequest request) => BoundedBody.ReadAsync(request, MaxBodyBytes);

    /// <summary>Spends one request of a verified principal's budget; false (with when to retry) when it is spent.</summary>
    public bool TryAcquire(InboundPrincipal kind, string partition, out TimeSpan retryAfter)
    {
        using var lease = _verified[(int)kind].AttemptAcquire(partition);
        return Granted(lease, out retryAfter);
    }

    /// <summary>
    /// Records a request that failed verification against its source address. Returns the answer
    /// to give: <paramref name="refusal"/> (usually 401) while the address has failure budget left,
    /// then 429 with <c>Retry-After</c>; <paramref name="log"/> runs only within the budget, so a
    /// flood cannot flood the log either.
    /// </summary>
    public IResult OnVerificationFailed(HttpContext context, IResult refusal, Action? log = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var lease = _unverified.AttemptAcquire(AddressOf(context));
        if (Granted(lease, out var retryAfter))
        {
            log?.Invoke();
            return refusal;
        }

        return TooMany(context, retryAfter, "Too many requests that failed verification from this address.");
    }

    /// <summary>429 with <c>Retry-After</c> (whole seconds, at least 1).</summary>
    public static IResult TooMany(HttpContext context, TimeSpan retryAfter, string message = "Too many requests: slow down.")
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Json(new { error = message }, statusCode: StatusCodes.Status429TooManyRequests);
    }

    /// <summary>The source address (after forwarded headers, when the host trusts a proxy).</summary>
    public static string AddressOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var address = context.Connection.RemoteIpAddress;
        return address is null ? "unknown" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
    }

    public void Dispose()
    {
        foreach (var limiter in _verified)
        {
            limiter.Dispose();
        }

        _unverified.Dispose();
    }

    private static PartitionedRateLimiter<string> Create(RateLimitOptions limit)
    {
        // Replenished every 100 ms by the partitioned limiter's own timer (no timer per partition).
        var perPeriod = Math.Max(1, (int)Math.Ceiling(limit.PermitsPerSecond * Period.TotalSeconds));
        var options = new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.Burst,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = Period,
            QueueLimit = 0,
            AutoReplenishment = false,
        };
        return PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => options), StringComparer.Ordinal);
    }

    private static bool Granted(RateLimitLease lease, out TimeSpan retryAfter)
    {
        if (lease.IsAcquired)
        {
            retryAfter = TimeSpan.Zero;
            return true;
        }

        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        return false;
    }
}

/// <summary>Registers the <see cref="InboundGuard"/> (once, whichever adapter asks first); the host binds its options to <c>ShipBot:RateLimits</c>.</summary>
public static class InboundGuardServiceCollectionExtensions
{
    public static IServiceCollection AddInboundGuard(this IServiceCollection services)
    {
        services.AddOptions<InboundLimitOptions>();
        services.TryAddSingleton<InboundGuard>();
        return services;
    }
}
