using ShipBot.Core.Checklists;
using ShipBot.Core.Plans;

namespace ShipBot.Core.Tests.Checklists;

public sealed class ChecklistCatalogTests
{
    private static readonly string[] HotfixIds = ["approved", "rollback", "oncall", "env", "errors", "health", "https", "ratelimit", "ufv"];

    private static IReadOnlyList<ChecklistItem> CreateSut(ReleaseKind kind = ReleaseKind.Standard) => ChecklistCatalog.For(kind);

    public static TheoryData<ReleaseKind> Kinds() => new() { ReleaseKind.Standard, ReleaseKind.HotfixP0, ReleaseKind.HotfixP1 };

    [Fact]
    public void FloorIds_AreTheMinimumViableProductionFloor()
    {
        Assert.Equal(["env", "errors", "health", "https", "rollback"], ChecklistCatalog.FloorIds.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void For_Standard_HasPreDeploymentChecksAndSixDomains()
    {
        var items = CreateSut();

        Assert.Equal(
            ["qa", "approved", "rollback", "flags", "migrations", "dashboards", "oncall", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit", "ufv"],
            items.Select(i => i.Id));
        Assert.Equal(7, items.Count(i => i.Group == ChecklistGroup.PreDeployment));
        foreach (var group in new[] { ChecklistGroup.Environment, ChecklistGroup.Database, ChecklistGroup.Errors, ChecklistGroup.Monitoring, ChecklistGroup.Deployment, ChecklistGroup.Security })
        {
            Assert.Contains(items, i => i.Group == group);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void For_AnyKind_IdsAreShortStableAndUnique(ReleaseKind kind)
    {
        var ids = CreateSut(kind).Select(i => i.Id).ToList();

        Assert.All(ids, id => Assert.Matches("^[a-z]{2,12}$", id));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(ids, CreateSut(kind).Select(i => i.Id));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void For_AnyKind_StartsAllPendingAndEndsWithUserFacingVerification(ReleaseKind kind)
    {
        var items = CreateSut(kind);

        Assert.All(items, i => Assert.Equal(ChecklistItemState.Pending, i.State));
        var last = items[^1];
        Assert.Equal(ChecklistCatalog.UserFacingVerified, last.Id);
        Assert.Equal(ChecklistGroup.Validation, last.Group);
        Assert.Equal(ItemSettledBy.Human, last.SettledBy);
        Assert.False(last.Floor);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void For_AnyKind_FloorItemsAreMarkedFloor(ReleaseKind kind)
    {
        var items = CreateSut(kind);

        Assert.All(ChecklistCatalog.FloorIds, id => Assert.True(items.Single(i => i.Id == id).Floor, id));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void For_AnyKind_OnlyApprovalAndOnCallAreTickedByShipBot(ReleaseKind kind)
    {
        var owned = CreateSut(kind).Where(i => i.SettledBy == ItemSettledBy.ShipBot).Select(i => i.Id);

        Assert.Equal([ChecklistCatalog.Approved, ChecklistCatalog.OnCallNotified], owned);
    }

    [Fact]
    public void For_Standard_FloorFlagMatchesFloorIds()
    {
        Assert.All(CreateSut(), i => Assert.Equal(ChecklistCatalog.FloorIds.Contains(i.Id), i.Floor));
        Assert.False(CreateSut().Single(i => i.Id == "ratelimit").Floor);
    }

    [Theory]
    [InlineData(ReleaseKind.HotfixP0)]
    [InlineData(ReleaseKind.HotfixP1)]
    public void For_Hotfix_AbbreviatedWithSecurityItemsMandatory(ReleaseKind kind)
    {
        var items = CreateSut(kind);

        Assert.Equal(HotfixIds, items.Select(i => i.Id));
        Assert.True(items.Single(i => i.Id == "https").Floor);

        // Rate limiting is a mandatory security item on a hotfix, not part of the never-waivable floor.
        var ratelimit = items.Single(i => i.Id == "ratelimit");
        Assert.False(ratelimit.Floor);
        Assert.True(ratelimit.Mandatory);
        Assert.All(items.Where(i => i.SettledBy == ItemSettledBy.Human && i.Id != ChecklistCatalog.UserFacingVerified), i => Assert.True(i.Floor || i.Mandatory, i.Id));
    }

    [Fact]
    public void For_CalledTwice_ReturnsIndependentLists()
    {
        Assert.NotSame(CreateSut(), CreateSut());
    }

    [Theory]
    [InlineData(ChecklistGroup.PreDeployment, "Pre-deployment checks")]
    [InlineData(ChecklistGroup.Validation, "Post-deployment validation")]
    [InlineData(ChecklistGroup.Security, "Security")]
    [InlineData(ChecklistGroup.Environment, "Environment")]
    public void GroupTitle_Group_ReadsAsInTheSpec(ChecklistGroup group, string title)
    {
        Assert.Equal(title, ChecklistCatalog.GroupTitle(group));
    }

    [Theory]
    [InlineData(ChecklistItemState.Pending, false)]
    [InlineData(ChecklistItemState.Failed, false)]
    [InlineData(ChecklistItemState.Confirmed, true)]
    [InlineData(ChecklistItemState.Verified, true)]
    [InlineData(ChecklistItemState.Waived, true)]
    public void IsDone_State_OnlySettledStatesAreDone(ChecklistItemState state, bool done)
    {
        var item = new ChecklistItem("qa", ChecklistGroup.PreDeployment, "QA", false, ItemSettledBy.Human, state);

        Assert.Equal(done, item.IsDone);
    }
}
