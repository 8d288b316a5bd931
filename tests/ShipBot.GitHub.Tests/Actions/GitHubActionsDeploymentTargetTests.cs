using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.GitHub.Actions;
using ShipBot.GitHub.Tests.Emulation;
using ShipBot.GitHub.Tests.TestSupport;

namespace ShipBot.GitHub.Tests.Actions;

public sealed class GitHubActionsDeploymentTargetTests
{
    private static readonly ReleaseId Checkout = new("checkout", "1.4.2");

    private static DeploymentRequest Canary(string key = "checkout@1.4.2:9:production:5:False") =>
        new(Checkout, new DeploymentIntent(DeploymentEnvironment.Production, 5), key);

    [Fact]
    public async Task ApplyAsync_DispatchedRunSucceeds_SucceedsWithTheRunUrl()
    {
        await using var host = await GitHubTestHost.StartAsync();
        var target = host.Target();

        var result = await host.Clock.RunAsync(target.ApplyAsync(Canary()));

        Assert.True(result.Succeeded, result.Detail);
        var run = Assert.Single(host.GitHub.RunsOf("acme", "checkout"));
        Assert.Contains($"https://github.com/acme/checkout/actions/runs/{run.Id}", result.Detail, StringComparison.Ordinal);
        Assert.Contains("success", result.Detail, StringComparison.Ordinal);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["service"] = "checkout",
                ["version"] = "1.4.2",
                ["environment"] = "production",
                ["percent"] = "5",
                ["release"] = "checkout@1.4.2",
                ["rollback"] = "false",
                ["dispatch_id"] = GitHubActionsDeploymentTarget.DispatchIdFor("checkout@1.4.2:9:production:5:False"),
            },
            run.Inputs);
        Assert.Equal("main", run.Ref);

        // Followed to completion: the last look at the run found it completed, after it had been seen running.
        var looks = host.GitHub.Requests.Where(r => r.OperationId == "actions/get-workflow-run").ToList();
        Assert.True(looks.Count >= 2, $"expected the run to be polled, saw {looks.Count} look(s)");
        Assert.True(looks[^1].At >= run.CreatedAt + run.Script.Duration);
        Assert.True(host.Clock.GetUtcNow() - run.CreatedAt < run.Script.Duration + TimeSpan.FromSeconds(16), "ShipBot noticed the end within one poll interval");
        host.GitHub.AssertNoViolations();
    }

    [Theory]
    [InlineData("failure")]
    [InlineData("cancelled")]
    [InlineData("timed_out")]
    [InlineData("startup_failure")]
    public async Task ApplyAsync_RunDoesNotSucceed_FailsWithTheRunUrlAndConclusion(string conclusion)
    {
        await using var host = await GitHubTestHost.StartAsync();
        host.GitHub.Script = _ => new RunScript(TimeSpan.FromMinutes(2), conclusion);
        var target = host.Target();

        var result = await host.Clock.RunAsync(target.ApplyAsync(Canary()));

        Assert.False(result.Succeeded);
        var run = Assert.Single(host.GitHub.RunsOf("acme", "checkout"));
        Assert.Contains(conclusion, result.Detail, StringComparison.Ordinal);
        Assert.Contains($"/actions/runs/{run.Id}", result.Detail, StringComparison.Ordinal);
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_SecondaryRateLimitWithRetryAfter_WaitsThatLongAndDispatchesOnce()
    {
        await using var host = await GitHubTestHost.StartAsync();
        host.GitHub.Inject("actions/create-workflow-dispatch", EmulatedFault.SecondaryRateLimit(90));
        var target = host.Target();

        var result = await host.Clock.RunAsync(target.ApplyAsync(Canary()));

        Assert.True(result.Succeeded, result.Detail);
        var dispatches = host.GitHub.Requests.Where(r => r.OperationId == "actions/create-workflow-dispatch").ToList();
        Assert.Equal([403, 200], dispatches.Select(d => d.Status));
        Assert.True(dispatches[1].At - dispatches[0].At >= TimeSpan.FromSeconds(90), $"sent again after {(dispatches[1].At - dispatches[0].At).TotalSeconds} s, before Retry-After");
        Assert.Single(host.GitHub.RunsOf("acme", "checkout"));
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_SecondaryRateLimitWithoutRetryAfter_WaitsAMinuteAtLeast()
    {
        await using var host = await GitHubTestHost.StartAsync();
        host.GitHub.Inject("actions/get-workflow-run", EmulatedFault.SecondaryRateLimit(0) with { Headers = new Dictionary<string, string>() });
        var target = host.Target();

        var result = await host.Clock.RunAsync(target.ApplyAsync(Canary()));

        Assert.True(result.Succeeded, result.Detail);
        var looks = host.GitHub.Requests.Where(r => r.OperationId == "actions/get-workflow-run").ToList();
        Assert.Equal(403, looks[0].Status);
        Assert.True(looks[1].At - looks[0].At >= TimeSpan.FromMinutes(1));
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_PrimaryQuotaSpent_WaitsForTheResetBeforeTheNextRequest()
    {
        await using var host = await GitHubTestHost.StartAsync();
        host.Settings["ShipBot:GitHub:MaxRateLimitWait"] = "02:00:00";
        var target = host.Target();

        // Two requests left in this window: the look for an earlier run and the dispatch, whose answer says 0 remain.
        host.GitHub.SetQuota(2);
        var result = await host.Clock.RunAsync(target.ApplyAsync(Canary()));

        Assert.True(result.Succeeded, result.Detail);
        var requests = host.GitHub.Requests.ToList();
        Assert.DoesNotContain(requests, r => r.Status == 403);
        var dispatch = requests.FindIndex(r => r.OperationId == "actions/create-workflow-dispatch");
        var next = requests[dispatch + 1];
        Assert.True(next.At >= SteppingClock.Start + TimeSpan.FromHours(1), $"the request after the quota ran out went at {next.At:O}, before the reset");
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_InstallationTokenExpiresMidRelease_RenewsItBeforeExpiryAndSucceeds()
    {
        await using var host = await GitHubTestHost.StartAsync();
        host.GitHub.TokenLifetime = TimeSpan.FromMinutes(20);
        host.GitHub.Script = _ => new RunScript(TimeSpan.FromMinutes(50), "success");
        var target = host.Target();

        var result = await host.Clock.RunAsync(target.ApplyAsync(Canary()));

        Assert.True(result.Succeeded, result.Detail);
        Assert.True(host.GitHub.TokensIssued >= 3, $"a 50-minute run outlives two 20-minute tokens; {host.GitHub.TokensIssued} issued");
        Assert.DoesNotContain(host.GitHub.Requests, r => r.Status == 401);
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_InstallationTokenRevokedMidRelease_MintsANewOneAndGoesOn()
    {
        await using var host = await GitHubTestHost.StartAsync();
        var target = host.Target();
        var apply = target.ApplyAsync(Canary());

        await host.Clock.RunUntilAsync(() => host.GitHub.Requests.Count(r => r.OperationId == "actions/get-workflow-run") >= 2, "the run being followed");
        host.GitHub.RevokeTokens();
        var result = await host.Clock.RunAsync(apply);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(2, host.GitHub.TokensIssued);
        var refused = Assert.Single(host.GitHub.Requests, r => r.Status == 401);
        Assert.Equal("actions/get-workflow-run", refused.OperationId);
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_SameKeyAgain_FollowsTheSameRunWithoutDispatching()
    {
        await using var host = await GitHubTestHost.StartAsync();
        var process = host.NewProcess();

        var first = await host.Clock.RunAsync(host.Target(process).ApplyAsync(Canary()));
        var again = await host.Clock.RunAsync(host.Target(process).ApplyAsync(Canary()));
        var afterRestart = await host.Clock.RunAsync(host.Target().ApplyAsync(Canary()));
        var withLostMemory = await host.Clock.RunAsync(host.Target(host.NewProcess(new ShipBot.InMemory.InMemoryReleaseStore(host.Clock))).ApplyAsync(Canary()));

        Assert.All(new[] { first, again, afterRestart, withLostMemory }, r => Assert.True(r.Succeeded, r.Detail));
        var run = Assert.Single(host.GitHub.RunsOf("acme", "checkout"));
        Assert.All(new[] { again, afterRestart, withLostMemory }, r => Assert.Contains($"/actions/runs/{run.Id}", r.Detail, StringComparison.Ordinal));
        Assert.Single(host.GitHub.Requests, r => r.OperationId == "actions/create-workflow-dispatch");
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_TwoCallsAtOnce_OneRun()
    {
        await using var host = await GitHubTestHost.StartAsync();
        var target = host.Target();

        var both = Task.WhenAll(target.ApplyAsync(Canary()), target.ApplyAsync(Canary()));
        var results = await host.Clock.RunAsync(both);

        Assert.All(results, r => Assert.True(r.Succeeded, r.Detail));
        Assert.Single(host.GitHub.RunsOf("acme", "checkout"));
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_DifferentKeys_OneRunEach()
    {
        await using var host = await GitHubTestHost.StartAsync();
        var target = host.Target();

        await host.Clock.RunAsync(target.ApplyAsync(Canary("checkout@1.4.2:9:production:5:False")));
        await host.Clock.RunAsync(target.ApplyAsync(new DeploymentRequest(Checkout, new DeploymentIntent(DeploymentEnvironment.Production, 25), "checkout@1.4.2:12:production:25:False")));

        Assert.Equal(["5", "25"], host.GitHub.RunsOf("acme", "checkout").Select(r => r.Inputs["percent"]));
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_Rollback_SendsRollbackAndZeroPercent()
    {
        await using var host = await GitHubTestHost.StartAsync();
        var target = host.Target();

        await host.Clock.RunAsync(target.ApplyAsync(new DeploymentRequest(Checkout, new DeploymentIntent(DeploymentEnvironment.Production, 0, IsRollback: true), "checkout@1.4.2:14:production:0:True")));

        var run = Assert.Single(host.GitHub.RunsOf("acme", "checkout"));
        Assert.Equal("true", run.Inputs["rollback"]);
        Assert.Equal("0", run.Inputs["percent"]);
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_GitHubDoesNotReturnTheRun_FindsItByTheDispatchIdInItsName()
    {
        await using var host = await GitHubTestHost.StartAsync();
        host.GitHub.ReturnsRunDetails = false;
        var target = host.Target();

        var result = await host.Clock.RunAsync(target.ApplyAsync(Canary()));

        Assert.True(result.Succeeded, result.Detail);
        var run = Assert.Single(host.GitHub.RunsOf("acme", "checkout"));
        Assert.Contains($"/actions/runs/{run.Id}", result.Detail, StringComparison.Ordinal);
        Assert.Contains(GitHubActionsDeploymentTarget.DispatchIdFor(Canary().IdempotencyKey), run.DisplayTitle, StringComparison.Ordinal);
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_RunNameWithoutDispatchIdAndNoRunDetails_FailsSayingWhatToPutInRunName()
    {
        await using var host = await GitHubTestHost.StartAsync();
        host.GitHub.ReturnsRunDetails = false;
        host.GitHub.AddRepository("acme", "legacy", runName: null).Refs.Add("main");
        var options = GitHubTestHost.TargetOptions();
        options.Repo = "legacy";
        var target = host.Target(options: options);

        var result = await host.Clock.RunAsync(target.ApplyAsync(Canary()));

        Assert.False(result.Succeeded);
        Assert.Contains("run-name", result.Detail, StringComparison.Ordinal);
        Assert.Contains("inputs.dispatch_id", result.Detail, StringComparison.Ordinal);
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_UnknownWorkflow_FailsWithGitHubsAnswer()
    {
        await using var host = await GitHubTestHost.StartAsync();
        var options = GitHubTestHost.TargetOptions();
        options.Workflow = "missing.yml";
        var target = host.Target(options: options);

        var result = await host.Clock.RunAsync(target.ApplyAsync(Canary()));

        Assert.False(result.Succeeded);
        Assert.Contains("404", result.Detail, StringComparison.Ordinal);
        Assert.Empty(host.GitHub.RunsOf("acme", "checkout"));
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_RunOutlastsRunTimeout_FailsAndSaysTheRunGoesOn()
    {
        await using var host = await GitHubTestHost.StartAsync();
        host.GitHub.Script = _ => new RunScript(TimeSpan.FromHours(3), "success");
        var options = GitHubTestHost.TargetOptions();
        options.RunTimeout = TimeSpan.FromMinutes(30);
        options.PollInterval = TimeSpan.FromMinutes(1);
        var target = host.Target(options: options);

        var result = await host.Clock.RunAsync(target.ApplyAsync(Canary()));

        Assert.False(result.Succeeded);
        Assert.Contains("still in_progress after 30 min", result.Detail, StringComparison.Ordinal);
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_OutageWhileFollowing_KeepsFollowing()
    {
        await using var host = await GitHubTestHost.StartAsync();
        host.GitHub.Inject("actions/get-workflow-run", EmulatedFault.Unavailable(), times: 6);
        var target = host.Target();

        var result = await host.Clock.RunAsync(target.ApplyAsync(Canary()));

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(6, host.GitHub.Requests.Count(r => r.Status == 503));
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ApplyAsync_PersonalAccessToken_AuthenticatesWithIt()
    {
        await using var host = await GitHubTestHost.StartAsync();
        host.Settings["ShipBot:GitHub:Auth:AppId"] = null;
        host.Settings["ShipBot:GitHub:Auth:PrivateKey"] = null;
        host.Settings["ShipBot:GitHub:Auth:Token"] = GitHubEmulator.PersonalAccessToken;
        var target = host.Target();

        var result = await host.Clock.RunAsync(target.ApplyAsync(Canary()));

        Assert.True(result.Succeeded, result.Detail);
        Assert.All(host.GitHub.Requests, r => Assert.Equal("pat", r.Auth));
        Assert.Equal(0, host.GitHub.TokensIssued);
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task RunSmokeChecksAsync_Always_PassesSayingTheRunWasTheCheck()
    {
        await using var host = await GitHubTestHost.StartAsync();

        var result = await host.Target().RunSmokeChecksAsync(Checkout, DeploymentEnvironment.Staging);

        Assert.True(result.Succeeded);
        Assert.Contains("SmokeChecks:Urls", result.Detail, StringComparison.Ordinal);
        Assert.Empty(host.GitHub.Requests);
    }
}
