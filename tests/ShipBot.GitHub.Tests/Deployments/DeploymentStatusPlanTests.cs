using ShipBot.Core.Releases;
using ShipBot.Testing;
using ShipBot.GitHub.Deployments;

namespace ShipBot.GitHub.Tests.Deployments;

public sealed class DeploymentStatusPlanTests
{
    public static TheoryData<ReleaseState, string?, string?, string?, string?> Expectations => new()
    {
        { ReleaseState.Draft, null, null, null, null },
        { ReleaseState.AwaitingApproval, null, null, null, null },
        { ReleaseState.Rejected, null, null, null, null },
        { ReleaseState.Aborted, null, null, null, null },
        { ReleaseState.Staging, "in_progress", "Baking in staging", null, null },
        { ReleaseState.Canary, "success", "Passed the staging gate", "in_progress", "Canary 5 %: baking" },
        { ReleaseState.EarlyAdopters, "success", "Passed the staging gate", "in_progress", "Early adopters 25 %: baking" },
        { ReleaseState.Full, "success", "Passed the staging gate", "in_progress", "Full 100 %: baking" },
        { ReleaseState.Paused, "success", "Passed the staging gate", "in_progress", "Paused at Canary 5 %" },
        { ReleaseState.Halted, "success", "Passed the staging gate", "in_progress", "Halted at Canary 5 %: checkout halted by on-call" },
        { ReleaseState.RollingBack, "success", "Passed the staging gate", "in_progress", "Rolling back from Canary 5 %: customer reports" },
        { ReleaseState.RolledBack, "success", "Passed the staging gate", "failure", "Rolled back from Canary 5 %: customer reports" },
        { ReleaseState.Validating, "success", "Passed the staging gate", "success", "Deployed to 100 %" },
        { ReleaseState.Operating, "success", "Passed the staging gate", "success", "Deployed to 100 %" },
        { ReleaseState.Completed, "success", "Passed the staging gate", "success", "Deployed to 100 %" },
    };

    [Theory]
    [MemberData(nameof(Expectations))]
    public void For_EachState_ShowsWhereTheReleaseIs(ReleaseState state, string? stagingState, string? stagingText, string? productionState, string? productionText)
    {
        var release = ReleaseScenario.In(state).Release;

        var staging = DeploymentStatusPlan.For(release, DeploymentEnvironment.Staging);
        var production = DeploymentStatusPlan.For(release, DeploymentEnvironment.Production);

        Assert.Equal(stagingState, staging?.State);
        Assert.Equal(stagingText, staging?.Description);
        Assert.Equal(productionState, production?.State);
        Assert.Equal(productionText, production?.Description);
    }

    [Fact]
    public void For_StagingDeploymentPending_SaysItDeploys()
    {
        var release = ReleaseScenario.Create().ToStaging(StagingStep.Deploying).Release;

        Assert.Equal(DesiredStatus.Of("in_progress", "Deploying to staging"), DeploymentStatusPlan.For(release, DeploymentEnvironment.Staging));
    }

    [Fact]
    public void For_StagingGateFailed_FailureWithTheReason()
    {
        var scenario = ReleaseScenario.Create().ToStaging(StagingStep.SmokeChecking);
        scenario.Do((r, now) => r.RecordSmokeChecks(false, "1 of 3 smoke checks failed", now));

        var staging = DeploymentStatusPlan.For(scenario.Release, DeploymentEnvironment.Staging);

        Assert.Equal("failure", staging?.State);
        Assert.Contains("1 of 3 smoke checks failed", staging?.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void For_AbortedInStaging_Inactive()
    {
        var scenario = ReleaseScenario.Create().ToStaging();
        scenario.Do((r, now) => r.Abort(People.Alice, "wrong build", now));

        Assert.Equal(DesiredStatus.Of("inactive", "Aborted before production"), DeploymentStatusPlan.For(scenario.Release, DeploymentEnvironment.Staging));
        Assert.Null(DeploymentStatusPlan.For(scenario.Release, DeploymentEnvironment.Production));
    }

    [Fact]
    public void Of_LongDescription_CutTo140Characters()
    {
        var status = DesiredStatus.Of("failure", new string('x', 400));

        Assert.Equal(DesiredStatus.MaxDescription, status.Description.Length);
        Assert.EndsWith("…", status.Description, StringComparison.Ordinal);
    }
}
