using System.Net;
using Microsoft.Extensions.DependencyInjection;
using ShipBot.Coordinator.Identity;
using ShipBot.Core.Settings;
using ShipBot.Host;
using ShipBot.Testing;
using static ShipBot.IntegrationTests.Identity.IdentityScenario;

namespace ShipBot.IntegrationTests.Identity;

/// <summary>Two replicas on one real redis-server: tokens and sessions work on both, and a revocation stops a token at once on the other.</summary>
public sealed class ReplicaRevocationTests
{
    [Fact]
    public async Task Token_CreatedOnTheCommandLineAndRevokedOnOneReplica_StopsAtOnceOnTheOther()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = SignIn(new() { ["ConnectionStrings:Redis"] = redis.ConnectionString });
        await using var a = await ShipBotHost.StartAsync(settings);
        await using var b = await ShipBotHost.StartAsync(settings);

        using var output = new StringWriter();
        using var errors = new StringWriter();
        var exit = await TokenCommandLine.RunAsync(["create", "deploy-bot", "releases:read", $"--ConnectionStrings:Redis={redis.ConnectionString}"], output, errors);
        var token = output.ToString().Trim();
        Assert.True(exit == 0, errors.ToString());
        Assert.True(ApiTokenService.LooksLikeToken(token), "the command line printed the token alone on stdout");
        Assert.DoesNotContain(token, errors.ToString(), StringComparison.Ordinal);

        using var onA = WithToken(a, token);
        using var onB = WithToken(b, token);
        using (var first = await onB.GetAsync("/api/releases"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        Assert.NotNull(await a.Services.GetRequiredService<ApiTokenService>().RevokeAsync("deploy-bot", "dave"));

        using var afterOnB = await onB.GetAsync("/api/releases");
        using var afterOnA = await onA.GetAsync("/api/releases");
        Assert.Equal(HttpStatusCode.Unauthorized, afterOnB.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, afterOnA.StatusCode);

        using var listed = new StringWriter();
        Assert.Equal(0, await TokenCommandLine.RunAsync(["list", $"--ConnectionStrings:Redis={redis.ConnectionString}"], listed, errors));
        Assert.DoesNotContain("deploy-bot", listed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_IssuedByOneReplica_IsReadByTheOther()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = SignIn(new() { ["ConnectionStrings:Redis"] = redis.ConnectionString });
        await using var a = await ShipBotHost.StartAsync(settings);
        await using var b = await ShipBotHost.StartAsync(settings);
        var cookie = SessionCookie(a, new Actor("bob", "bob", []));

        using var onB = SignedInClient(b, cookie);
        using var me = await onB.GetAsync("/api/console/me");

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task CommandLine_WithoutRedis_ExplainsAndChangesNothing()
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();

        var exit = await TokenCommandLine.RunAsync(["create", "ci", "releases:read", "--ConnectionStrings:Redis="], output, errors);

        Assert.Equal(2, exit);
        Assert.Empty(output.ToString());
        Assert.Contains("ConnectionStrings:Redis is not set", errors.ToString(), StringComparison.Ordinal);
    }
}
