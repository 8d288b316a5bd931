using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using ShipBot.Coordinator.Identity;
using ShipBot.Core.Ports;
using ShipBot.Core.Settings;
using ShipBot.InMemory;

namespace ShipBot.Coordinator.Tests.Identity;

/// <summary>The <c>/ship token</c> verb through the coordinator: wired by one dispatch line, answered privately, never shown twice.</summary>
public sealed class ReleaseCoordinatorTokenTests
{
    private readonly CoordinatorHarness _harness = new();
    private readonly InMemoryTokenStore _tokens = new();

    private ReleaseCoordinator CreateSut() => new(
        _harness.Store, _harness.Store, _harness.Store, _harness.Scheduler, _harness.Deployment, _harness.Health, _harness.Readiness,
        [_harness.Notifier], _harness.Access, _harness.Settings, _harness.Time, NullLogger<ReleaseCoordinator>.Instance)
    {
        Tokens = new ApiTokenService(_tokens, _harness.Access, _harness.Time, NullLogger<ApiTokenService>.Instance),
    };

    [Fact]
    public async Task HandleAsync_TokenCreateRepeatedRequestId_SecondAnswerHasNoTokenAndNothingStoredHoldsIt()
    {
        var sut = CreateSut();
        var command = new InboundCommand("req-token-1", CoordinatorHarness.Dave, CoordinatorHarness.Channel, "/ship token create ci releases:read releases:write");

        var first = await sut.HandleAsync(command);
        var again = await sut.HandleAsync(command);

        var token = Regex.Match(first.Text, "shipbot_[A-Za-z0-9_-]{43}").Value;
        Assert.NotEmpty(token);
        Assert.Equal(ReplyVisibility.Ephemeral, first.Visibility);
        Assert.DoesNotContain(token, again.Text, StringComparison.Ordinal);
        Assert.Contains("shown once", again.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(token, await _harness.Idempotency.GetAsync("req-token-1") ?? string.Empty, StringComparison.Ordinal);
        Assert.Single(await _tokens.ListAsync());
    }

    [Fact]
    public async Task HandleAsync_TokenCreateByRequester_RefusedWithTheRole()
    {
        var reply = await CreateSut().HandleAsync(new InboundCommand("r2", CoordinatorHarness.Alice, CoordinatorHarness.Channel, "/ship token create ci admin"));

        Assert.Contains("needs the admin role", reply.Text, StringComparison.Ordinal);
        Assert.Empty(await _tokens.ListAsync());
    }

    [Fact]
    public async Task HandleAsync_TokenWithoutWriteScope_CannotStartEvenWhenConfiguredAsRequester()
    {
        var sut = CreateSut();
        var readOnly = ApiTokenService.ActorOf(new StoredToken("reader", "00", [TokenScopes.ReleasesRead], "dave", CoordinatorHarness.Start)) with { Id = "alice" };

        var reply = await sut.HandleAsync(new InboundCommand("r3", readOnly, CoordinatorHarness.Channel, "/ship start demo 1.0.0 change"));

        Assert.Contains("needs the requester role", reply.Text, StringComparison.Ordinal);
    }
}
