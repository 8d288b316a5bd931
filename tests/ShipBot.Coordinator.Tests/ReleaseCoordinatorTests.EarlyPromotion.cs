using ShipBot.Core.Releases;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>An approver's "promote now" skips the rest of a bake: the audit trail says who, how much and why, at every stage.</summary>
public sealed partial class ReleaseCoordinatorTests
{
    [Fact]
    public async Task HandleAsync_ApproverPromotesNowOutOfFull_AuditedAsAnEarlyPromotionBeforeValidationStarts()
    {
        // Found by the lifecycle property test: leaving 100 % early was audited only as "validation started".
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        await sut.BakeAndPromoteAsync(id);
        Assert.Equal(ReleaseState.Full, (await sut.GetAsync(id)).State);

        var reply = await sut.SendAsync(Bob, $"/ship promote {id} users are waiting", "promote-full");

        Assert.True(reply.Changed, reply.Text);
        Assert.Equal(ReleaseState.Validating, (await sut.GetAsync(id)).State);
        var audit = await sut.AuditAsync(id);
        var promoted = Assert.Single(audit, a => a.Action == nameof(ReleaseEventKind.Promoted) && a.Detail.Contains("to Validation", StringComparison.Ordinal));
        Assert.Equal("bob", promoted.Actor);
        Assert.Contains("promoted early, skipping", promoted.Detail, StringComparison.Ordinal);
        Assert.Contains("users are waiting", promoted.Detail, StringComparison.Ordinal);
        Assert.Equal(nameof(ReleaseEventKind.ValidationStarted), audit[^1].Action);
    }
}
