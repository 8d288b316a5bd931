using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ShipBot.Http.Tests;

public sealed class InboundGuardTests
{
    private static InboundGuard CreateSut(int burst = 3, int unverifiedBurst = 2) => new(
        Options.Create(new InboundLimitOptions
        {
            Platform = new RateLimitOptions { PermitsPerSecond = 1, Burst = burst },
            Token = new RateLimitOptions { PermitsPerSecond = 1, Burst = burst },
            ConsoleUser = new RateLimitOptions { PermitsPerSecond = 1, Burst = burst },
            Unverified = new RateLimitOptions { PermitsPerSecond = 1, Burst = unverifiedBurst },
        }),
        NullLogger<InboundGuard>.Instance);

    private static HttpContext From(string address)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(address);
        return context;
    }

    [Fact]
    public void TryAcquire_PastTheBurst_RefusedWithRetryAfter_OtherPartitionsUnaffected()
    {
        using var sut = CreateSut(burst: 3);

        var granted = Enumerable.Range(0, 3).Select(i => sut.TryAcquire(InboundPrincipal.Platform, "slack:T1", out _)).ToList();
        var refused = sut.TryAcquire(InboundPrincipal.Platform, "slack:T1", out var retryAfter);

        Assert.All(granted, Assert.True);
        Assert.False(refused);
        Assert.True(retryAfter > TimeSpan.Zero);
        Assert.True(sut.TryAcquire(InboundPrincipal.Platform, "slack:T2", out _));
        Assert.True(sut.TryAcquire(InboundPrincipal.Token, "slack:T1", out _));
    }

    [Fact]
    public void OnVerificationFailed_PastTheAddressBudget_429_AndVerifiedTrafficStillFlows()
    {
        using var sut = CreateSut(burst: 3, unverifiedBurst: 2);
        var refusal = Results.Unauthorized();
        var logged = 0;

        var answers = Enumerable.Range(0, 4).Select(i => sut.OnVerificationFailed(From("203.0.113.7"), refusal, () => logged++)).ToList();

        Assert.Same(refusal, answers[0]);
        Assert.Same(refusal, answers[1]);
        Assert.All(answers.Skip(2), a => Assert.Equal(StatusCodes.Status429TooManyRequests, Assert.IsAssignableFrom<IStatusCodeHttpResult>(a).StatusCode));
        Assert.Equal(2, logged);
        Assert.Same(refusal, sut.OnVerificationFailed(From("203.0.113.8"), refusal));
        Assert.True(sut.TryAcquire(InboundPrincipal.Platform, "slack:T1", out _));
    }

    [Fact]
    public void AddressOf_MappedIPv4_ThePlainAddress()
    {
        Assert.Equal("127.0.0.1", InboundGuard.AddressOf(From("::ffff:127.0.0.1")));
    }

    [Fact]
    public void Validate_ZeroBurst_NamesTheKey()
    {
        var options = new InboundLimitOptions { Token = new RateLimitOptions { PermitsPerSecond = 5, Burst = 0 } };

        Assert.Contains("ShipBot:RateLimits:Token: PermitsPerSecond and Burst must be at least 1.", options.Validate());
    }
}
