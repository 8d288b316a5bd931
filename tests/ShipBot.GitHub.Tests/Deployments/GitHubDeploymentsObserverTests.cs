using ShipBot.Core.Checklists;
using ShipBot.Core.Releases;
using ShipBot.Testing;
using ShipBot.GitHub.Deployments;
using ShipBot.GitHub.Tests.Emulation;
using ShipBot.GitHub.Tests.TestSupport;

namespace ShipBot.GitHub.Tests.Deployments;

public sealed class GitHubDeploymentsObserverTests
{
    private const string LogUrl = "https://shipbot.example.com/api/releases/checkout@1.4.2";

    [Fact]
    public async Task OnTransitionAsync_ReleaseRunsItsCourse_StatusesInOrderOnEachEnvironment()
    {
        await using var host = await GitHubTestHost.StartAsync();
        await using var observer = host.Observer();
        var walk = new ObservedRelease(ReleaseScenario.Create(), observer);

        await walk.ToOperatingAsync();
        await Settle(host, observer);

        var deployments = host.GitHub.DeploymentsOf("acme", "checkout");
        Assert.Equal(["staging", "production"], deployments.Select(d => d.Environment));
        var staging = deployments[0];
        var production = deployments[1];
        Assert.Equal(
            [
                ("in_progress", "Deploying to staging"),
                ("in_progress", "Smoke checks in staging"),
                ("in_progress", "Baking in staging"),
                ("success", "Passed the staging gate"),
            ],
            staging.Statuses.Select(s => (s.State, s.Description)));
        var stages = ReleaseScenario.SmallPlan.Stages.Select(s => s.Label).ToList();
        Assert.Equal(
            [.. stages.SelectMany(label => new[] { ("in_progress", $"Deploying {label}"), ("in_progress", $"{label}: baking") }), ("success", "Deployed to 100 %")],
            production.Statuses.Select(s => (s.State, s.Description)));
        Assert.All(deployments.SelectMany(d => d.Statuses), s =>
        {
            Assert.Equal(LogUrl, s.LogUrl);
            Assert.False(s.AutoInactive);
        });
        Assert.All(deployments, d =>
        {
            Assert.Equal("v1.4.2", d.Ref);
            Assert.Equal("deploy", d.Task);
            Assert.Equal("checkout@1.4.2", (string?)d.Payload?["release"]);
        });
        Assert.False(staging.ProductionEnvironment);
        Assert.True(production.ProductionEnvironment);
        var create = host.GitHub.Requests.First(r => r.OperationId == "repos/create-deployment").Body!;
        Assert.False((bool)create["auto_merge"]!);
        Assert.Empty(create["required_contexts"]!.AsArray());
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task OnTransitionAsync_NextReleaseSucceeds_ReplacedDeploymentsBecomeInactive()
    {
        await using var host = await GitHubTestHost.StartAsync();
        await using var observer = host.Observer();
        var first = new ObservedRelease(ReleaseScenario.Create(), observer);
        await first.ToOperatingAsync();
        await Settle(host, observer);

        var second = new ObservedRelease(ReleaseScenario.Create(), observer, "1.5.0");
        await second.ToValidatingAsync();
        await Settle(host, observer);

        var deployments = host.GitHub.DeploymentsOf("acme", "checkout");
        var old = deployments.Where(d => (string?)d.Payload?["release"] == "checkout@1.4.2").ToList();
        var replacing = deployments.Where(d => (string?)d.Payload?["release"] == "checkout@1.5.0").ToList();
        Assert.Equal(2, old.Count);
        Assert.All(old, d => Assert.Equal(("inactive", "Replaced by checkout@1.5.0"), (d.Statuses[^1].State, d.Statuses[^1].Description)));
        Assert.All(replacing, d => Assert.Equal("success", d.Statuses[^1].State));
        Assert.All(replacing, d => Assert.Equal("v1.5.0", d.Ref));

        // The older release still reports outcomes afterwards: it never displaces the newer one.
        await first.ToCompletedAsync();
        await Settle(host, observer);
        Assert.All(replacing, d => Assert.Equal("success", d.Statuses[^1].State));
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task OnTransitionAsync_ReplacingReleaseRolledBack_FailureAndThePreviousIsLiveAgain()
    {
        await using var host = await GitHubTestHost.StartAsync();
        await using var observer = host.Observer();
        await new ObservedRelease(ReleaseScenario.Create(), observer).ToOperatingAsync();
        var second = new ObservedRelease(ReleaseScenario.Create(), observer, "1.5.0");
        await second.ToValidatingAsync();

        await second.StepAsync((r, now) => r.BeginRollback("error rate up", "olga", [], now));
        await second.StepAsync((r, now) => r.RecordDeployment(r.PendingDeployment!, true, "run 7 success", now));
        await Settle(host, observer);

        var production = host.GitHub.DeploymentsOf("acme", "checkout").Where(d => d.Environment == "production").ToList();
        var rolledBack = production.Single(d => (string?)d.Payload?["release"] == "checkout@1.5.0");
        var previous = production.Single(d => (string?)d.Payload?["release"] == "checkout@1.4.2");
        Assert.Equal(["success", "in_progress", "failure"], rolledBack.Statuses.Select(s => s.State).TakeLast(3));
        Assert.StartsWith("Rolled back from", rolledBack.Statuses[^1].Description, StringComparison.Ordinal);
        Assert.Equal(["success", "inactive", "success"], previous.Statuses.Select(s => s.State).TakeLast(3));
        Assert.Equal("Live again: checkout@1.5.0 was rolled back", previous.Statuses[^1].Description);
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task OnTransitionAsync_StagingGateFailsThenAborted_FailureThenInactiveAndNoProduction()
    {
        await using var host = await GitHubTestHost.StartAsync();
        await using var observer = host.Observer();
        var walk = new ObservedRelease(ReleaseScenario.Create(), observer);
        await walk.ToStagingAsync();

        await walk.StepAsync((r, now) => r.RecordDeployment(r.PendingDeployment!, false, "workflow run #3 failure", now));
        await walk.StepAsync((r, now) => r.Abort(People.Alice, "broken build", now));
        await Settle(host, observer);

        var staging = Assert.Single(host.GitHub.DeploymentsOf("acme", "checkout"));
        Assert.Equal(["in_progress", "failure", "inactive"], staging.Statuses.Select(s => s.State));
        Assert.Contains("workflow run #3 failure", staging.Statuses[1].Description, StringComparison.Ordinal);
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task OnTransitionAsync_GitHubDown_ReturnsAtOnceAndCatchesUpWhenGitHubIsBack()
    {
        await using var host = await GitHubTestHost.StartAsync();
        await using var observer = host.Observer();
        host.GitHub.Inject("repos/list-deployments", EmulatedFault.Unavailable(), times: 12);
        var walk = new ObservedRelease(ReleaseScenario.Create(), observer);

        var transitions = await walk.ToStagingAsync();

        Assert.All(transitions, t => Assert.True(t.IsCompletedSuccessfully, "an observer call waited for GitHub"));
        await Settle(host, observer);
        var staging = Assert.Single(host.GitHub.DeploymentsOf("acme", "checkout"));
        Assert.Equal("Deploying to staging", staging.Statuses[^1].Description);
        Assert.True(host.GitHub.Requests.Count(r => r.Status == 503) >= 4, "reads are retried by the client, then the update by the observer");
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task OnTransitionAsync_GitHubRefuses_GivesUpOnThatUpdateAndHandlesTheNext()
    {
        await using var host = await GitHubTestHost.StartAsync();
        host.Repository.Refs.Remove("v1.4.2");
        await using var observer = host.Observer();
        var walk = new ObservedRelease(ReleaseScenario.Create(), observer);
        await walk.ToStagingAsync();
        await Settle(host, observer);
        Assert.Empty(host.GitHub.DeploymentsOf("acme", "checkout"));

        host.Repository.Refs.Add("v1.4.2");
        await walk.StepAsync((r, now) => r.RecordDeployment(r.PendingDeployment!, true, "ok", now));
        await Settle(host, observer);

        var staging = Assert.Single(host.GitHub.DeploymentsOf("acme", "checkout"));
        Assert.Equal("Smoke checks in staging", staging.Statuses[^1].Description);
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task OnTransitionAsync_SameSnapshotAgainOrAfterRestart_NothingTwice()
    {
        await using var host = await GitHubTestHost.StartAsync();
        await using var observer = host.Observer();
        var walk = new ObservedRelease(ReleaseScenario.Create(), observer);
        await walk.ToStagingAsync();
        await Settle(host, observer);

        observer.Enqueue(walk.Release);
        await using var restarted = host.Observer();
        restarted.Enqueue(walk.Release);
        await using var forgetful = host.Observer(new ShipBot.InMemory.InMemoryReleaseStore(host.Clock));
        forgetful.Enqueue(walk.Release);
        await Settle(host, observer, restarted, forgetful);

        var staging = Assert.Single(host.GitHub.DeploymentsOf("acme", "checkout"));
        Assert.Single(staging.Statuses);
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task OnTransitionAsync_ServiceNotLinked_IgnoresIt()
    {
        await using var host = await GitHubTestHost.StartAsync();
        await using var observer = host.Observer();
        var renamed = ReleaseScenario.In(ReleaseState.Staging).Release with { Id = new ReleaseId("payments", "2.0.0") };

        await observer.OnTransitionAsync(renamed, renamed with { Revision = renamed.Revision + 1 }, []);

        Assert.Equal(0, observer.Pending);
        Assert.Empty(host.GitHub.Requests);
    }

    [Fact]
    public async Task LogUrlFor_PublicUrlWithOrWithoutSlash_PointsAtTheRelease()
    {
        await using var host = await GitHubTestHost.StartAsync();
        host.Settings["ShipBot:GitHub:PublicUrl"] = "https://ops.example.com/shipbot/";
        await using var observer = host.Observer();

        Assert.Equal("https://ops.example.com/shipbot/api/releases/checkout@1.4.2", observer.LogUrlFor(new ReleaseId("checkout", "1.4.2")));
    }

    /// <summary>Runs the clock until every observer has brought GitHub up to date.</summary>
    private static Task Settle(GitHubTestHost host, params GitHubDeploymentsObserver[] observers) =>
        host.Clock.RunUntilAsync(() => observers.All(o => o.Pending == 0), "the Deployments updates");

    /// <summary>A release walked through its lifecycle with the aggregate's own commands, each transition told to the observer as the coordinator would.</summary>
    private sealed class ObservedRelease(ReleaseScenario scenario, GitHubDeploymentsObserver observer, string? version = null)
    {
        private readonly ReleaseId _id = new("checkout", version ?? "1.4.2");

        public Release Release => scenario.Release with { Id = _id };

        public async Task<Task> StepAsync(Func<Release, DateTimeOffset, ReleaseChange> command)
        {
            var previous = Release;
            var change = scenario.Apply(command);
            var call = observer.OnTransitionAsync(previous, change.Next with { Id = _id }, change.Events);
            await call;
            return call;
        }

        public async Task<IReadOnlyList<Task>> ToStagingAsync()
        {
            var calls = new List<Task>
            {
                await StepAsync((r, now) => r.TickBySystem(ChecklistCatalog.OnCallNotified, "on-call notified", now)),
            };
            var human = scenario.Release.BlockingItems.Select(i => i.Id).ToList();
            calls.Add(await StepAsync((r, now) => r.Confirm(People.Alice, human, now)));
            calls.Add(await StepAsync((r, now) => r.Approve(People.Bob, now)));
            return calls;
        }

        public async Task ToValidatingAsync()
        {
            await ToStagingAsync();
            await StepAsync((r, now) => r.RecordDeployment(r.PendingDeployment!, true, "ok", now));
            await StepAsync((r, now) => r.RecordSmokeChecks(true, "3 of 3 passed", now));
            scenario.Advance(scenario.Release.Plan.StagingBake);
            await StepAsync((r, now) => r.Promote(now, null, null, Verdicts.Baseline));
            while (true)
            {
                await StepAsync((r, now) => r.RecordDeployment(r.PendingDeployment!, true, "ok", now));
                await StepAsync((r, now) => r.ApplyHealth(Verdicts.Healthy(now), scenario.Policy.ConsultTimeout, now));
                scenario.Advance(scenario.Release.CurrentStage!.Bake);
                await StepAsync((r, now) => r.Promote(now, Verdicts.Healthy(now), null));
                if (scenario.Release.State == ReleaseState.Validating)
                {
                    return;
                }
            }
        }

        public async Task ToOperatingAsync()
        {
            await ToValidatingAsync();
            await StepAsync((r, now) => r.Confirm(People.Bob, [ChecklistCatalog.UserFacingVerified], now));
            scenario.Advance(scenario.Release.Plan.ValidationWindow);
            await StepAsync((r, now) => r.CompleteValidation(now, Verdicts.Healthy(now), hasRunbook: true));
            Assert.Equal(ReleaseState.Operating, scenario.Release.State);
        }

        public async Task ToCompletedAsync()
        {
            await StepAsync((r, now) => r.MarkFlagRemoved(People.Alice, ReleaseScenario.Flag, checkpointsDone: false, now));
            for (var checkpoint = 1; checkpoint <= 3; checkpoint++)
            {
                var n = checkpoint;
                scenario.Advance(TimeSpan.FromDays(1));
                await StepAsync((r, now) => r.RecordOutcome(new OutcomeReport(n, now, ["conversion +2 %"]), lastCheckpoint: n == 3, now));
            }

            Assert.Equal(ReleaseState.Completed, scenario.Release.State);
        }
    }
}
