using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.ArgoRollouts;
using ShipBot.Deploy.Kubernetes;
using ShipBot.Deploy.Smoke;
using ShipBot.Testing;
using ShipBot.Testing.Kubernetes;

namespace ShipBot.Deploy.Tests.ArgoRollouts;

/// <summary>
/// The Argo Rollouts target against the Kubernetes API emulation (published Rollout CRD schema,
/// resourceVersion conflicts, status subresource, the least-privilege RBAC of infra/k8s) with an
/// emulated Argo Rollouts controller that moves the Rollout as Argo's does.
/// </summary>
public sealed class ArgoRolloutsTargetTests : IAsyncLifetime
{
    private const string Ns = "shop";
    private const string Name = "checkout";
    private static readonly ReleaseId Release = new("checkout", "1.4.2");

    private KubernetesApiEmulator _kube = null!;
    private EmulatedArgoRolloutsController _argo = null!;
    private KubernetesApi _api = null!;

    public async Task InitializeAsync()
    {
        _kube = await KubernetesApiEmulator.StartAsync();
        _kube.Rbac = KubernetesRbac.FromManifest(RepositoryFiles.RouterRbacManifest);
        _argo = new EmulatedArgoRolloutsController(_kube);
        _api = new KubernetesApi(new KubernetesConnection(_kube.KubeconfigPath, null));
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _argo.DisposeAsync();
        await _kube.DisposeAsync();
    }

    [Fact]
    public async Task ApplyAsync_EveryStageThenFull_EachDoneOnlyWhenArgoReportsIt()
    {
        await _argo.CreateRolloutAsync(Ns, Name, "ghcr.io/acme/checkout:1.4.1");
        var target = CreateSut(o => o.Image = "ghcr.io/acme/checkout:{{version}}");

        var staging = await ApplyAsync(target, "staging", 100);
        Assert.True(staging.Succeeded, staging.Detail);
        Assert.Contains("no staging Rollout is configured", staging.Detail, StringComparison.Ordinal);

        foreach (var (percent, hold) in new[] { (5, 1), (25, 3), (50, 5) })
        {
            var result = await ApplyAsync(target, "production", percent);
            Assert.True(result.Succeeded, result.Detail);

            // What ShipBot reported is what Argo has: held at the pause after setWeight, canary pods available.
            var rollout = _kube.Get(_kube.Rollouts, Ns, Name)!;
            var status = rollout["status"]!;
            Assert.Equal(hold, (int)status["currentStepIndex"]!);
            Assert.Equal("Paused", (string?)status["phase"]);
            Assert.Equal(percent, (int)status["canary"]!["weights"]!["canary"]!["weight"]!);
            Assert.Equal(100 - percent, (int)status["canary"]!["weights"]!["stable"]!["weight"]!);
            Assert.Equal("ghcr.io/acme/checkout:1.4.2", (string?)rollout["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
            Assert.NotNull(result.Status);
            Assert.Equal($"canary {percent} % · stable {100 - percent} %", result.Status!["weights"]);
            Assert.Equal($"{hold + 1}/6 (pause)", result.Status["step"]);
            Assert.Matches(@"^checkout-[0-9a-f]{10} \d/\d available$", result.Status["canary ReplicaSet"]!);
            Assert.StartsWith("Paused (CanaryPauseStep)", result.Status["phase"], StringComparison.Ordinal);
        }

        var full = await ApplyAsync(target, "production", 100);
        Assert.True(full.Succeeded, full.Detail);
        var promoted = _kube.Get(_kube.Rollouts, Ns, Name)!["status"]!;
        Assert.Equal((string?)promoted["currentPodHash"], (string?)promoted["stableRS"]);
        Assert.Equal("Healthy", (string?)promoted["phase"]);
        Assert.Equal("4/4 available, 4 updated", full.Status!["replicas"]);
        AssertCleanApiUse();
    }

    [Fact]
    public async Task ApplyAsync_PipelineAlreadyUpdatedTheImage_MovesToTheStageWithoutTouchingTheImage()
    {
        await _argo.CreateRolloutAsync(Ns, Name, "ghcr.io/acme/checkout:1.4.1");
        _kube.Update(_kube.Rollouts, Ns, Name, r =>
        {
            r["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = "ghcr.io/acme/checkout:v1.4.2@sha256:" + new string('a', 64);
            return true;
        });
        var target = CreateSut();

        var canary = await ApplyAsync(target, "production", 5);
        var early = await ApplyAsync(target, "production", 25);

        Assert.True(canary.Succeeded, canary.Detail);
        Assert.True(early.Succeeded, early.Detail);
        Assert.DoesNotContain(_kube.Requests, r => r.Method == "PATCH" && r.ContentType!.StartsWith("application/json-patch+json", StringComparison.Ordinal));
        Assert.Equal(3, (int)_kube.Get(_kube.Rollouts, Ns, Name)!["status"]!["currentStepIndex"]!);
        AssertCleanApiUse();
    }

    [Fact]
    public async Task ApplyAsync_ImageIsAnotherVersion_RefusesToMoveTraffic()
    {
        await _argo.CreateRolloutAsync(Ns, Name, "ghcr.io/acme/checkout:1.4.1");

        var result = await ApplyAsync(CreateSut(), "production", 5);

        Assert.False(result.Succeeded);
        Assert.Contains("runs ghcr.io/acme/checkout:1.4.1, not version 1.4.2", result.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(_kube.Requests, r => r.Method == "PATCH");
    }

    [Fact]
    public async Task ApplyAsync_RollbackDuringCanary_AbortsAndWaitsUntilTrafficIsBackOnStable()
    {
        await _argo.CreateRolloutAsync(Ns, Name, "ghcr.io/acme/checkout:1.4.1");
        var target = CreateSut(o => o.Image = "ghcr.io/acme/checkout:{{version}}");
        Assert.True((await ApplyAsync(target, "production", 25)).Succeeded);

        var rollback = await ApplyAsync(target, "production", 0, rollback: true);

        Assert.True(rollback.Succeeded, rollback.Detail);
        Assert.StartsWith("aborted, traffic back on stable", rollback.Detail, StringComparison.Ordinal);
        var status = _kube.Get(_kube.Rollouts, Ns, Name)!["status"]!;
        Assert.True((bool)status["abort"]!);
        Assert.Equal(0, (int)status["canary"]!["weights"]!["canary"]!["weight"]!);
        Assert.Equal("Degraded", (string?)status["phase"]);
        Assert.Equal("canary 0 % · stable 100 %", rollback.Status!["weights"]);
        Assert.Contains(_kube.Requests, r => r.Method == "PATCH" && r.Path.EndsWith("/status", StringComparison.Ordinal) && r.Body.Contains("\"abort\":true", StringComparison.Ordinal));

        // A repeated rollback (a lost answer, a retry) changes nothing and succeeds.
        var again = await ApplyAsync(target, "production", 0, rollback: true);
        Assert.True(again.Succeeded, again.Detail);
        AssertCleanApiUse();
    }

    [Fact]
    public async Task ApplyAsync_RollbackAfterFullPromotion_RestoresThePreviousRevision()
    {
        await _argo.CreateRolloutAsync(Ns, Name, "ghcr.io/acme/checkout:1.4.1");
        var target = CreateSut(o => o.Image = "ghcr.io/acme/checkout:{{version}}");
        Assert.True((await ApplyAsync(target, "production", 5)).Succeeded);
        Assert.True((await ApplyAsync(target, "production", 100)).Succeeded);

        var rollback = await ApplyAsync(target, "production", 0, rollback: true);

        Assert.True(rollback.Succeeded, rollback.Detail);
        Assert.StartsWith("previous revision restored and promoted", rollback.Detail, StringComparison.Ordinal);
        var rollout = _kube.Get(_kube.Rollouts, Ns, Name)!;
        Assert.Equal("ghcr.io/acme/checkout:1.4.1", (string?)rollout["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
        Assert.Equal("Healthy", (string?)rollout["status"]!["phase"]);
        Assert.Equal((string?)rollout["status"]!["currentPodHash"], (string?)rollout["status"]!["stableRS"]);
        AssertCleanApiUse();
    }

    [Fact]
    public async Task ApplyAsync_ControllerWritesBetweenReadAndPatch_ConflictIsRetriedOnTheNewVersion()
    {
        await _argo.CreateRolloutAsync(Ns, Name, "ghcr.io/acme/checkout:1.4.1");
        var target = CreateSut(o => o.Image = "ghcr.io/acme/checkout:{{version}}");
        Assert.True((await ApplyAsync(target, "production", 5)).Succeeded);
        var raced = 0;
        _kube.BeforePatch = _ =>
        {
            // Another writer (Argo's controller) stores a new version just before ShipBot's first status patch lands.
            if (Interlocked.Increment(ref raced) == 1)
            {
                _kube.Update(_kube.Rollouts, Ns, Name, r =>
                {
                    r["status"]!["restartedAt"] = "2026-01-01T00:00:00Z";
                    return true;
                });
            }

            return Task.CompletedTask;
        };

        var result = await ApplyAsync(target, "production", 25);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Matches(@"\(\d+ write conflicts? retried\)$", result.Detail);
        Assert.True(target.Conflicts >= 1);
        Assert.Contains(_kube.Requests, r => r.Status == 409 && r.Reason == "Conflict" && r.Path.EndsWith("/status", StringComparison.Ordinal));
        Assert.Equal(3, (int)_kube.Get(_kube.Rollouts, Ns, Name)!["status"]!["currentStepIndex"]!);
        AssertCleanApiUse();
    }

    [Fact]
    public async Task ApplyAsync_ArgoAbortsOnAFailedAnalysis_FailsWithTheAnalysisMessage()
    {
        await _argo.CreateRolloutAsync(Ns, Name, "ghcr.io/acme/checkout:1.4.1");
        _argo.CanaryPodsCrashLoop = true;
        var target = CreateSut(o => o.Image = "ghcr.io/acme/checkout:{{version}}");
        var apply = ApplyAsync(target, "production", 5);
        await _argo.WaitUntilAsync(Ns, Name, r => (string?)r["status"]?["currentPodHash"] != (string?)r["status"]?["stableRS"] && (string?)r["status"]?["phase"] == "Progressing");

        _argo.FailAnalysis(Ns, Name, "Metric \"success-rate\" assessed Failed due to failed (3) > failureLimit (2)");
        var result = await apply;

        Assert.False(result.Succeeded);
        Assert.True(result.Detail.StartsWith("Argo Rollouts aborted shop/checkout: RolloutAborted: Rollout aborted update to revision 2: Step-based analysis phase error/failed: Metric \"success-rate\" assessed Failed", StringComparison.Ordinal), result.Detail);
        Assert.Matches("^checkout-[0-9a-f]{10}-2-0 Failed: Metric \"success-rate\"", result.Status!["analysis"]!);
        AssertCleanApiUse();
    }

    [Fact]
    public async Task CheckForAbortAsync_DegradedAndAbortedRollouts_ReportArgosReasonWithAStableKey()
    {
        await _argo.CreateRolloutAsync(Ns, Name, "ghcr.io/acme/checkout:1.4.1");
        var target = CreateSut(o => o.Image = "ghcr.io/acme/checkout:{{version}}");
        Assert.True((await ApplyAsync(target, "production", 5)).Succeeded);
        Assert.Null(await target.CheckForAbortAsync(Release));

        _argo.ExceedProgressDeadline(Ns, Name);
        await _argo.WaitUntilAsync(Ns, Name, r => (string?)r["status"]?["phase"] == "Degraded");
        var degraded = await target.CheckForAbortAsync(Release);
        Assert.NotNull(degraded);
        Assert.Equal("ArgoRolloutDegraded", degraded.Name);
        Assert.Contains("ProgressDeadlineExceeded: ReplicaSet \"checkout-", degraded.Reason, StringComparison.Ordinal);
        Assert.Equal(degraded.DedupKey, (await target.CheckForAbortAsync(Release))!.DedupKey);

        _argo.FailAnalysis(Ns, Name, "Metric \"latency\" assessed Failed");
        await _argo.WaitUntilAsync(Ns, Name, r => ((string?)r["status"]?["message"])?.StartsWith("RolloutAborted", StringComparison.Ordinal) == true);
        var aborted = await target.CheckForAbortAsync(Release);
        Assert.NotNull(aborted);
        Assert.Equal("ArgoRolloutAborted", aborted.Name);
        Assert.Equal("checkout", aborted.Service);
        Assert.Equal("1.4.2", aborted.Version);
        Assert.Contains("Metric \"latency\" assessed Failed", aborted.Reason, StringComparison.Ordinal);
        Assert.NotEqual(degraded.DedupKey, aborted.DedupKey);
        Assert.Equal(aborted.DedupKey, (await target.CheckForAbortAsync(Release))!.DedupKey);
    }

    [Fact]
    public async Task SetPausedAsync_PausesAndResumesTheRollout()
    {
        await _argo.CreateRolloutAsync(Ns, Name, "ghcr.io/acme/checkout:1.4.1");
        var target = CreateSut(o => o.Image = "ghcr.io/acme/checkout:{{version}}");
        Assert.True((await ApplyAsync(target, "production", 5)).Succeeded);

        var paused = await target.SetPausedAsync(Release, paused: true);
        Assert.True(paused!.Succeeded, paused.Detail);
        await _argo.WaitUntilAsync(Ns, Name, r => (string?)r["status"]?["message"] == "manually paused");
        var blocked = await ApplyAsync(target, "production", 25);
        var resumed = await target.SetPausedAsync(Release, paused: false);
        var moved = await ApplyAsync(target, "production", 25);

        Assert.Contains("paused in Argo Rollouts (spec.paused)", blocked.Detail, StringComparison.Ordinal);
        Assert.False(blocked.Succeeded);
        Assert.True(resumed!.Succeeded, resumed.Detail);
        Assert.True(moved.Succeeded, moved.Detail);
        AssertCleanApiUse();
    }

    [Fact]
    public async Task ApplyAsync_StepsWithoutTheStageWeight_FailsNamingTheWeightsItHas()
    {
        await _argo.CreateRolloutAsync(Ns, Name, "ghcr.io/acme/checkout:1.4.1", weights: [10, 30]);

        var result = await ApplyAsync(CreateSut(o => o.Image = "ghcr.io/acme/checkout:{{version}}"), "production", 25);

        Assert.False(result.Succeeded);
        Assert.Contains("has no setWeight: 25 step (it has 10, 30)", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_RolloutMissing_FailsWithNotFound()
    {
        var result = await ApplyAsync(CreateSut(), "production", 5);

        Assert.False(result.Succeeded);
        Assert.Equal("Rollout shop/checkout not found", result.Detail);
        Assert.Contains(_kube.Requests, r => r.Status == 404 && r.Reason == "NotFound");
    }

    [Fact]
    public async Task ApplyAsync_NamespaceOutsideTheRbacGrant_FailsWithTheServersForbiddenMessage()
    {
        var target = CreateSut(o => o.Namespace = "payments");

        var result = await ApplyAsync(target, "production", 5);

        Assert.False(result.Succeeded);
        Assert.Contains("rollouts.argoproj.io \"checkout\" is forbidden: User \"system:serviceaccount:shipbot:shipbot\" cannot get resource \"rollouts\" in API group \"argoproj.io\" in the namespace \"payments\"", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_ControllerDown_FailsAfterTheTimeoutWithTheLastStatus()
    {
        await _argo.CreateRolloutAsync(Ns, Name, "ghcr.io/acme/checkout:1.4.1");
        Assert.True((await ApplyAsync(CreateSut(o => o.Image = "ghcr.io/acme/checkout:{{version}}"), "production", 5)).Succeeded);
        _argo.Stopped = true;
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-03-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var target = CreateSut(o => o.Timeout = TimeSpan.FromMinutes(2), time);

        var apply = ApplyAsync(target, "production", 25);
        while (!apply.IsCompleted)
        {
            time.Advance(TimeSpan.FromSeconds(2));
            await Task.Delay(5);
        }

        var result = await apply;
        Assert.False(result.Succeeded);
        Assert.StartsWith("Argo Rollouts did not report the canary at 25 % (paused at step 4/6) within 2 min; last seen: Argo Rollouts shop/checkout: phase Paused (CanaryPauseStep) · step 3/6 (setWeight 25)", result.Detail, StringComparison.Ordinal);
    }

    private ArgoRolloutsTarget CreateSut(Action<ArgoRolloutsTargetOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new ArgoRolloutsTargetOptions
        {
            Namespace = Ns,
            Rollout = Name,
            PollInterval = TimeSpan.FromMilliseconds(20),
            Timeout = TimeSpan.FromSeconds(60),
        };
        configure?.Invoke(options);
        var clock = time ?? TimeProvider.System;
        return new ArgoRolloutsTarget(_api, options, new HttpSmokeChecks(new HttpClient(), new SmokeCheckOptions(), clock), clock);
    }

    private static Task<DeploymentResult> ApplyAsync(ArgoRolloutsTarget target, string environment, int percent, bool rollback = false) =>
        target.ApplyAsync(new DeploymentRequest(Release, new DeploymentIntent(DeploymentEnvironments.TryParse(environment, out var where) ? where : throw new ArgumentException(environment), percent, rollback), $"{Release}:{environment}:{percent}:{rollback}"));

    /// <summary>Every request satisfied the schemas and the RBAC; only the expected refusals happened.</summary>
    private void AssertCleanApiUse()
    {
        Assert.Empty(_kube.Violations);
        Assert.Empty(_argo.Errors);
        // 409s may happen on their own: the emulated controller writes status concurrently, as Argo's does; they are retried.
        var refused = _kube.Requests.Where(r => r.Status is 400 or 401 or 403 or 415 or 422).ToList();
        Assert.True(refused.Count == 0, string.Join("\n", refused.Select(r => $"{r.Method} {r.Path} {r.ContentType} → {r.Status} {r.Reason}: {r.Body}")));
    }
}
