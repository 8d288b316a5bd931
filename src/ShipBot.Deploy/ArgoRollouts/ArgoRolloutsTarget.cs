using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.Kubernetes;
using ShipBot.Deploy.Smoke;

namespace ShipBot.Deploy.ArgoRollouts;

/// <summary>
/// Moves traffic by driving an Argo Rollouts <c>Rollout</c> through the Kubernetes API. A stage
/// at p % moves the Rollout to its <c>setWeight: p</c> step (the same status patch as
/// <c>kubectl argo rollouts promote</c>) and is done only when Argo reports it: the controller has
/// seen the spec, the Rollout holds at the indefinite pause after that step, the router's canary
/// weight is p (with trafficRouting), the canary ReplicaSet's pods are available, and no
/// AnalysisRun failed. 100 % is <c>promoteFull</c>, done when the new ReplicaSet is stable and the
/// Rollout Healthy. A rollback aborts the update (<c>status.abort</c>) and waits until the canary
/// weight is 0 and the stable ReplicaSet is available; after a full promotion it restores the
/// previous revision's pod template (like <c>kubectl argo rollouts undo</c>) and promotes it fully.
/// Every write carries the resourceVersion it was computed from; a 409 Conflict is re-read and
/// retried. Waiting is bounded by <see cref="ArgoRolloutsTargetOptions.Timeout"/> on the injected clock.
/// </summary>
public sealed class ArgoRolloutsTarget : IDeploymentTarget, IRouterTarget
{
    public const string Router = "Argo Rollouts";

    /// <summary>The ReplicaSet annotation Argo numbers revisions with.</summary>
    public const string RevisionAnnotation = "rollout.argoproj.io/revision";

    /// <summary>The label Argo puts on each ReplicaSet (and its pods) with the pod template hash.</summary>
    public const string PodTemplateHashLabel = "rollouts-pod-template-hash";

    private const int MaxConflictRetries = 5;
    private readonly KubernetesApi _api;
    private readonly ArgoRolloutsTargetOptions _options;
    private readonly HttpSmokeChecks _smoke;
    private readonly TimeProvider _time;
    private int _conflicts;

    public ArgoRolloutsTarget(KubernetesApi api, ArgoRolloutsTargetOptions options, HttpSmokeChecks smoke, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(options);
        _api = api;
        _options = options;
        _smoke = smoke;
        _time = time;
    }

    public string Name => $"argo-rollouts {_options.Production}";

    /// <summary>409 Conflicts met (and retried) so far, for tests and diagnostics.</summary>
    public int Conflicts => Volatile.Read(ref _conflicts);

    public ArgoRolloutsTargetOptions Options => _options;

    public async Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = _time.GetTimestamp();
        var intent = request.Intent;
        var staging = intent.Environment == DeploymentEnvironment.Staging;
        var where = staging ? _options.Staging : _options.Production;
        if (where is null)
        {
            return new DeploymentResult(true, "no staging Rollout is configured (Deployment:ArgoRollouts:Staging): staging is deployed by the team's pipeline, not moved by ShipBot; the smoke checks gate it", _time.GetElapsedTime(started));
        }

        var attempt = new Attempt(where);
        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            var (ok, detail) = intent.IsRollback
                ? await RollBackAsync(attempt, request.Release, linked.Token).ConfigureAwait(false)
                : await MoveAsync(attempt, request.Release, staging ? 100 : intent.Percent, linked.Token).ConfigureAwait(false);
            return Result(ok, detail, started, attempt);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Result(false, $"Argo Rollouts did not report {attempt.Goal} within {Seconds(_options.Timeout)}; last seen: {Describe(attempt.Last)}", started, attempt);
        }
        catch (RolloutFailedException ex)
        {
            return Result(false, ex.Message, started, attempt);
        }
        catch (KubernetesApiException ex)
        {
            return Result(false, $"Kubernetes API ({_api.Connection.Describe()}): {ex.Message}", started, attempt);
        }
        catch (HttpRequestException ex)
        {
            return Result(false, $"Kubernetes API unreachable ({_api.Connection.Describe()}): {ex.Message}", started, attempt);
        }
    }

    public Task<DeploymentResult> RunSmokeChecksAsync(ReleaseId release, DeploymentEnvironment environment, CancellationToken cancellationToken = default) =>
        _smoke.RunAsync(release, environment, cancellationToken);

    public async Task<TargetStatus?> ReadStatusAsync(ReleaseId release, CancellationToken cancellationToken = default)
    {
        var observation = await ObserveAsync(_options.Production, cancellationToken).ConfigureAwait(false);
        return observation is null
            ? new TargetStatus(Router, _options.Production.ToString(), [new TargetFact("phase", "not found")], _time.GetUtcNow())
            : StatusOf(observation);
    }

    /// <summary>Pauses (<c>spec.paused: true</c>) or resumes the production Rollout, as <c>kubectl argo rollouts pause/resume</c> do.</summary>
    public async Task<DeploymentResult?> SetPausedAsync(ReleaseId release, bool paused, CancellationToken cancellationToken = default)
    {
        var started = _time.GetTimestamp();
        var attempt = new Attempt(_options.Production) { Goal = paused ? "a pause" : "a resume" };
        try
        {
            var observation = await ObserveAsync(_options.Production, cancellationToken).ConfigureAwait(false);
            if (observation is null)
            {
                return Result(false, $"Rollout {_options.Production} not found", started, attempt);
            }

            attempt.Last = observation;
            var rollout = await PatchAsync(attempt, observation.Rollout, r => r.Spec?.Paused == paused ? null : KubernetesPatch.Merge(new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = r.Metadata.ResourceVersion },
                ["spec"] = new JsonObject { ["paused"] = paused },
            }), status: false, cancellationToken).ConfigureAwait(false);
            attempt.Last = observation with { Rollout = rollout };
            return Result(true, $"Rollout {_options.Production} {(paused ? "paused" : "resumed")} (spec.paused: {(paused ? "true" : "false")})", started, attempt);
        }
        catch (KubernetesApiException ex)
        {
            return Result(false, $"Kubernetes API ({_api.Connection.Describe()}): {ex.Message}", started, attempt);
        }
    }

    /// <summary>
    /// Reads the production Rollout and reports an abort or degradation Argo Rollouts made on its
    /// own while <paramref name="release"/> is rolling out; null when the Rollout is fine.
    /// </summary>
    public async Task<RouterAlarm?> CheckForAbortAsync(ReleaseId release, CancellationToken cancellationToken = default)
    {
        var observation = await ObserveAsync(_options.Production, cancellationToken).ConfigureAwait(false);
        if (observation?.Rollout is not { Status: { } status } rollout || !rollout.Observed)
        {
            return null;
        }

        var source = $"{Router} {_options.Production}";
        var progressing = status.Conditions?.FirstOrDefault(c => c.Type == "Progressing");
        var analysis = FailedAnalysis(status);
        if (status.Abort)
        {
            if (rollout.Phase != "Degraded" && progressing?.Reason != "RolloutAborted")
            {
                // Requested but not processed by the controller yet: its reason comes with the next read.
                return null;
            }

            var reason = rollout.Phase == "Degraded" && status.Message is { Length: > 0 } message ? message : $"RolloutAborted: {progressing!.Message}";
            if (analysis is not null && !reason.Contains(analysis.Message ?? analysis.Name ?? "\0", StringComparison.Ordinal))
            {
                reason += $"; AnalysisRun {analysis.Name} {analysis.Status}: {analysis.Message}";
            }

            var at = status.AbortedAt ?? progressing?.LastTransitionTime ?? _time.GetUtcNow();
            return new RouterAlarm(release.Service, release.Version, "ArgoRolloutAborted", $"Argo Rollouts aborted {_options.Production}: {reason}", source, at,
                $"argo:{rollout.Metadata.Uid}:{status.CurrentPodHash}:aborted:{at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}");
        }

        if (rollout.Phase == "Degraded")
        {
            var at = progressing?.LastTransitionTime ?? _time.GetUtcNow();
            return new RouterAlarm(release.Service, release.Version, "ArgoRolloutDegraded", $"Argo Rollouts reports {_options.Production} degraded: {status.Message ?? progressing?.Message ?? "no message"}", source, at,
                $"argo:{rollout.Metadata.Uid}:{status.CurrentPodHash}:degraded:{progressing?.Reason}:{at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}");
        }

        return null;
    }

    private async Task<(bool Ok, string Detail)> MoveAsync(Attempt attempt, ReleaseId release, int percent, CancellationToken ct)
    {
        attempt.Goal = percent >= 100 ? "the new version fully promoted" : $"the canary at {percent} %";
        var observation = await ObserveAsync(attempt.Where, ct).ConfigureAwait(false);
        if (observation is null)
        {
            return (false, $"Rollout {attempt.Where} not found");
        }

        attempt.Last = observation;
        var rollout = observation.Rollout;
        if (rollout.Spec?.Strategy?.Canary is null)
        {
            return (false, $"Rollout {attempt.Where} does not use the canary strategy: ShipBot moves canary weights");
        }

        var (index, container) = ContainerOf(rollout);
        if (container is null)
        {
            return (false, $"Rollout {attempt.Where} has no container {(_options.Container is { } c ? $"named {c}" : "in its pod template")}");
        }

        if (_options.Image is { Length: > 0 } template)
        {
            var image = template.Replace("{{version}}", release.Version, StringComparison.Ordinal);
            if (!string.Equals(container.Image, image, StringComparison.Ordinal))
            {
                attempt.Goal = $"the new pod template ({image}) observed";
                await PatchAsync(attempt, rollout, r => ImagePatch(r, index, container.Name, image), status: false, ct).ConfigureAwait(false);
            }
        }
        else if (!ImageIsVersion(container.Image, release.Version))
        {
            return (false, $"Rollout {attempt.Where} runs {container.Image}, not version {release.Version}: update the Rollout's image (or set Deployment:ArgoRollouts:Image so ShipBot does)");
        }

        // Argo restarts the steps when it sees a new pod template: wait for that before moving a step.
        observation = await WaitAsync(attempt, o => o.Rollout.Observed ? true : null, ct).ConfigureAwait(false);
        rollout = observation.Rollout;
        if (rollout.Status?.Abort == true)
        {
            return (false, $"{Failure(observation)}; it does not move until a new revision or `kubectl argo rollouts retry`");
        }

        if (rollout.Spec?.Paused == true)
        {
            return (false, $"Rollout {attempt.Where} is paused in Argo Rollouts (spec.paused): resume it first");
        }

        if (percent >= 100)
        {
            attempt.Goal = "the new version fully promoted";
            if (!rollout.FullyPromoted)
            {
                await PatchAsync(attempt, rollout, r => r.FullyPromoted || r.Status?.PromoteFull == true ? null : StatusPatch(r, new JsonObject { ["promoteFull"] = true }), status: true, ct).ConfigureAwait(false);
            }

            observation = await WaitAsync(attempt, FullyPromotedVerdict, ct).ConfigureAwait(false);
            return (true, $"fully promoted: {StatusOf(observation).Summary}");
        }

        if (rollout.FullyPromoted)
        {
            return (false, $"Rollout {attempt.Where} is not rolling out {release.Version}: its stable ReplicaSet already runs it (promoted outside ShipBot?), so there is no canary to move");
        }

        var steps = rollout.Steps;
        var step = -1;
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i].SetWeight == percent)
            {
                step = i;
                break;
            }
        }

        if (step < 0)
        {
            var weights = string.Join(", ", steps.Where(s => s.SetWeight is not null).Select(s => s.SetWeight));
            return (false, $"Rollout {attempt.Where} has no setWeight: {percent} step (it has {(weights.Length == 0 ? "none" : weights)}): give it a setWeight for every ShipBot stage, each followed by pause: {{}}");
        }

        var hold = HoldAfter(steps, step);
        if (hold < 0)
        {
            return (false, $"Rollout {attempt.Where}: setWeight: {percent} (step {step + 1}) is not followed by an indefinite pause: {{}}, so Argo would move past it on its own");
        }

        attempt.Goal = $"the canary at {percent} % (paused at step {hold + 1}/{steps.Count})";
        if (!AtHold(rollout, hold, percent))
        {
            await PatchAsync(attempt, rollout, r => AtHold(r, hold, percent) ? null : StatusPatch(r, new JsonObject
            {
                ["currentStepIndex"] = step,
                ["pauseConditions"] = null,
            }), status: true, ct).ConfigureAwait(false);
        }

        observation = await WaitAsync(attempt, o => StageVerdict(o, hold, percent), ct).ConfigureAwait(false);
        return (true, $"at {percent} %: {StatusOf(observation).Summary}");
    }

    private async Task<(bool Ok, string Detail)> RollBackAsync(Attempt attempt, ReleaseId release, CancellationToken ct)
    {
        attempt.Goal = "traffic back on the stable version";
        var observation = await ObserveAsync(attempt.Where, ct).ConfigureAwait(false);
        if (observation is null)
        {
            return (false, $"Rollout {attempt.Where} not found");
        }

        attempt.Last = observation;
        var rollout = observation.Rollout;
        if (!rollout.FullyPromoted)
        {
            // An update in progress: abort it, as `kubectl argo rollouts abort` does; Argo sends every request to stable.
            if (rollout.Status?.Abort != true)
            {
                await PatchAsync(attempt, rollout, r => r.Status?.Abort == true ? null : StatusPatch(r, new JsonObject { ["abort"] = true }), status: true, ct).ConfigureAwait(false);
            }

            observation = await WaitAsync(attempt, AbortedVerdict, ct).ConfigureAwait(false);
            return (true, $"aborted, traffic back on stable: {StatusOf(observation).Summary}");
        }

        var (_, container) = ContainerOf(rollout);
        var runsRelease = container is not null && (_options.Image is { Length: > 0 } template
            ? string.Equals(container.Image, template.Replace("{{version}}", release.Version, StringComparison.Ordinal), StringComparison.Ordinal)
            : ImageIsVersion(container.Image, release.Version));
        if (!runsRelease)
        {
            observation = await WaitAsync(attempt, FullyPromotedVerdict, ct).ConfigureAwait(false);
            return (true, $"the stable version is not {release.Version} (already rolled back): {StatusOf(observation).Summary}");
        }

        // Fully promoted already: restore the previous revision's pod template and promote it at once.
        var current = observation.ReplicaSet(rollout.Status?.CurrentPodHash);
        var previous = observation.ReplicaSets
            .Where(rs => rs != current && Revision(rs) < (current is null ? long.MaxValue : Revision(current)))
            .OrderByDescending(Revision)
            .FirstOrDefault();
        if (previous?.Spec?.Template is null)
        {
            return (false, $"Rollout {attempt.Where} is fully promoted to {release.Version} and keeps no earlier ReplicaSet to roll back to");
        }

        var previousHash = previous.Metadata.Labels?.TryGetValue(PodTemplateHashLabel, out var h) == true ? h : null;
        attempt.Goal = $"the previous revision (ReplicaSet {previous.Metadata.Name}) restored";
        var restored = JsonNode.Parse(KubernetesJson.Serialize(previous.Spec.Template))!.AsObject();
        (restored["metadata"]?["labels"] as JsonObject)?.Remove(PodTemplateHashLabel);
        (restored["metadata"] as JsonObject)?.Remove("creationTimestamp");
        await PatchAsync(attempt, rollout, r => KubernetesPatch.Operations(
        [
            KubernetesPatch.Op("replace", "/spec/template", restored.DeepClone()),
            KubernetesPatch.Op("replace", "/metadata/resourceVersion", r.Metadata.ResourceVersion),
        ]), status: false, ct).ConfigureAwait(false);
        observation = await WaitAsync(attempt, o => o.Rollout.Observed && (previousHash is null || o.Rollout.Status?.CurrentPodHash == previousHash) ? true : null, ct).ConfigureAwait(false);
        if (!observation.Rollout.FullyPromoted)
        {
            await PatchAsync(attempt, observation.Rollout, r => r.FullyPromoted || r.Status?.PromoteFull == true ? null : StatusPatch(r, new JsonObject { ["promoteFull"] = true }), status: true, ct).ConfigureAwait(false);
        }

        observation = await WaitAsync(attempt, FullyPromotedVerdict, ct).ConfigureAwait(false);
        return (true, $"previous revision restored and promoted: {StatusOf(observation).Summary}");
    }

    /// <summary>Done when the controller holds the Rollout at <paramref name="hold"/> with the canary at <paramref name="percent"/> and its pods available.</summary>
    private static bool? StageVerdict(Observation o, int hold, int percent)
    {
        if (Failure(o) is { } failure)
        {
            throw new RolloutFailedException(failure);
        }

        var r = o.Rollout;
        var canary = o.ReplicaSet(r.Status?.CurrentPodHash);
        return AtHold(r, hold, percent)
            && r.Status!.PauseConditions?.Any(p => p.Reason == "CanaryPauseStep") == true
            && (r.Status.Canary?.Weights?.Canary is not { } weight || weight.Weight == percent)
            && canary?.Status is { } rs && rs.Replicas >= 1 && (rs.AvailableReplicas ?? 0) >= (canary.Spec?.Replicas ?? 1)
            ? true
            : null;
    }

    private static bool? FullyPromotedVerdict(Observation o)
    {
        if (Failure(o) is { } failure)
        {
            throw new RolloutFailedException(failure);
        }

        var r = o.Rollout;
        var stable = o.ReplicaSet(r.Status?.StableRS);
        return r.Observed && r.FullyPromoted && r.Phase == "Healthy"
            && (r.Status!.Canary?.Weights?.Stable is not { } weight || weight.Weight == 100)
            && (stable?.Status?.AvailableReplicas ?? 0) >= r.DesiredReplicas
            ? true
            : null;
    }

    private static bool? AbortedVerdict(Observation o)
    {
        var r = o.Rollout;
        var stable = o.ReplicaSet(r.Status?.StableRS);
        var canary = o.ReplicaSet(r.Status?.CurrentPodHash);
        var trafficRouted = r.Spec?.Strategy?.Canary?.TrafficRouting is not null;
        return r.Status is { Abort: true } status
            && (status.Canary?.Weights?.Canary is not { } weight || weight.Weight == 0)
            && (trafficRouted || (canary?.Spec?.Replicas ?? 0) == 0)
            && (stable?.Status?.AvailableReplicas ?? 0) >= r.DesiredReplicas
            ? true
            : null;
    }

    /// <summary>Argo stopped the update on its own: aborted (analysis failed, someone aborted) or degraded.</summary>
    private static string? Failure(Observation o)
    {
        var r = o.Rollout;
        if (!r.Observed || r.Status is not { } status)
        {
            return null;
        }

        var analysis = FailedAnalysis(status);
        var suffix = analysis is null ? string.Empty : $"; AnalysisRun {analysis.Name} {analysis.Status}: {analysis.Message}";
        if (status.Abort)
        {
            // The phase message is the controller's; until it has processed the abort, its condition (or nothing) says why.
            var aborted = status.Conditions?.FirstOrDefault(c => c.Reason == "RolloutAborted");
            var why = r.Phase == "Degraded" && status.Message is { Length: > 0 } message ? message
                : aborted is not null ? $"RolloutAborted: {aborted.Message}"
                : "abort requested (not yet processed by the controller)";
            return $"Argo Rollouts aborted {r.Metadata.Namespace}/{r.Metadata.Name}: {why}{suffix}";
        }

        return r.Phase == "Degraded" ? $"Argo Rollouts reports {r.Metadata.Namespace}/{r.Metadata.Name} degraded: {status.Message}{suffix}" : null;
    }

    private static AnalysisRunSummary? FailedAnalysis(RolloutStatus status) =>
        status.Canary?.CurrentStepAnalysisRunStatus is { HasFailed: true } step ? step
        : status.Canary?.CurrentBackgroundAnalysisRunStatus is { HasFailed: true } background ? background
        : null;

    /// <summary>The Rollout holds at <paramref name="hold"/> (or is moving there) with the steps' weight at <paramref name="percent"/>.</summary>
    private static bool AtHold(Rollout r, int hold, int percent) =>
        r.Observed && !r.FullyPromoted && r.Status?.CurrentStepIndex == hold && r.StepWeight == percent;

    /// <summary>The indefinite pause after the setWeight at <paramref name="step"/> with no other setWeight between them; -1 when there is none.</summary>
    private static int HoldAfter(IReadOnlyList<CanaryStep> steps, int step)
    {
        for (var i = step + 1; i < steps.Count; i++)
        {
            if (steps[i].SetWeight is not null)
            {
                return -1;
            }

            if (steps[i].IsIndefinitePause)
            {
                return i;
            }
        }

        return -1;
    }

    private async Task<Observation> WaitAsync(Attempt attempt, Func<Observation, bool?> done, CancellationToken ct)
    {
        while (true)
        {
            var observation = await ObserveAsync(attempt.Where, ct).ConfigureAwait(false)
                ?? throw new KubernetesApiException(System.Net.HttpStatusCode.NotFound, "NotFound", $"Rollout {attempt.Where} disappeared");
            attempt.Last = observation;
            if (done(observation) == true)
            {
                return observation;
            }

            await Task.Delay(_options.PollInterval, _time, ct).ConfigureAwait(false);
        }
    }

    private async Task<Rollout> PatchAsync(Attempt attempt, Rollout current, Func<Rollout, KubernetesPatch?> plan, bool status, CancellationToken ct)
    {
        for (var tries = 1; ; tries++)
        {
            if (plan(current) is not { } patch)
            {
                return current;
            }

            try
            {
                return await _api.PatchAsync<Rollout>(CustomResourceKind.Rollouts, attempt.Where.Namespace!, attempt.Where.Rollout!, patch, status, ct).ConfigureAwait(false);
            }
            catch (KubernetesApiException ex) when (ex.IsConflict && tries < MaxConflictRetries)
            {
                // Someone (usually the Argo controller) wrote in between: decide again on what is stored now.
                Interlocked.Increment(ref _conflicts);
                attempt.Conflicts++;
                current = await _api.GetAsync<Rollout>(CustomResourceKind.Rollouts, attempt.Where.Namespace!, attempt.Where.Rollout!, ct).ConfigureAwait(false)
                    ?? throw new KubernetesApiException(System.Net.HttpStatusCode.NotFound, "NotFound", $"Rollout {attempt.Where} disappeared");
            }
        }
    }

    private async Task<Observation?> ObserveAsync(ArgoRolloutRef where, CancellationToken ct)
    {
        var rollout = await _api.GetAsync<Rollout>(CustomResourceKind.Rollouts, where.Namespace!, where.Rollout!, ct).ConfigureAwait(false);
        if (rollout is null)
        {
            return null;
        }

        var selector = rollout.Spec?.Selector?.MatchLabels is { Count: > 0 } labels
            ? string.Join(',', labels.Select(l => $"{l.Key}={l.Value}"))
            : string.Empty;
        var sets = await _api.ListReplicaSetsAsync(where.Namespace!, selector, ct).ConfigureAwait(false);
        var owned = sets.Items
            .Where(rs => rs.Metadata.OwnerReferences?.Any(o => o.Kind == "Rollout" && (rollout.Metadata.Uid is null || o.Uid == rollout.Metadata.Uid)) == true)
            .ToList();
        return new Observation(rollout, owned);
    }

    private (int Index, Container? Container) ContainerOf(Rollout rollout)
    {
        var containers = rollout.Spec?.Template?.Spec?.Containers ?? [];
        for (var i = 0; i < containers.Count; i++)
        {
            if (_options.Container is null || containers[i].Name == _options.Container)
            {
                return (i, containers[i]);
            }
        }

        return (-1, null);
    }

    private static KubernetesPatch ImagePatch(Rollout r, int index, string container, string image)
    {
        var at = $"/spec/template/spec/containers/{index.ToString(CultureInfo.InvariantCulture)}";
        return KubernetesPatch.Operations(
        [
            KubernetesPatch.Op("test", $"{at}/name", container),
            KubernetesPatch.Op("replace", $"{at}/image", image),
            KubernetesPatch.Op("replace", "/metadata/resourceVersion", r.Metadata.ResourceVersion),
        ]);
    }

    private static KubernetesPatch StatusPatch(Rollout r, JsonObject status) => KubernetesPatch.Merge(new JsonObject
    {
        ["metadata"] = new JsonObject { ["resourceVersion"] = r.Metadata.ResourceVersion },
        ["status"] = status,
    });

    /// <summary>The image's tag is the version: <c>repo:1.4.2</c>, <c>repo:v1.4.2</c>, or either with a <c>@sha256:…</c> digest.</summary>
    public static bool ImageIsVersion(string? image, string version)
    {
        if (string.IsNullOrEmpty(image))
        {
            return false;
        }

        var withoutDigest = image.Split('@')[0];
        var slash = withoutDigest.LastIndexOf('/');
        var colon = withoutDigest.LastIndexOf(':');
        if (colon <= slash)
        {
            return false;
        }

        var tag = withoutDigest[(colon + 1)..];
        return string.Equals(tag, version, StringComparison.Ordinal) || string.Equals(tag, "v" + version, StringComparison.Ordinal);
    }

    private static long Revision(V1ReplicaSet rs) =>
        rs.Metadata.Annotations?.TryGetValue(RevisionAnnotation, out var value) == true && long.TryParse(value, CultureInfo.InvariantCulture, out var revision) ? revision : 0;

    /// <summary>The Rollout as the card shows it: phase, step, weights, ReplicaSets with available pods, AnalysisRuns.</summary>
    public TargetStatus StatusOf(Observation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var r = observation.Rollout;
        var status = r.Status;
        var facts = new List<TargetFact>
        {
            new("phase", status?.Message is { Length: > 0 } message ? $"{r.Phase} ({message})" : r.Phase),
        };
        var steps = r.Steps;
        if (steps.Count > 0)
        {
            var index = status?.CurrentStepIndex ?? 0;
            facts.Add(new("step", index >= steps.Count ? $"{steps.Count}/{steps.Count} complete" : $"{index + 1}/{steps.Count} ({steps[index]})"));
        }

        facts.Add(new("weights", status?.Canary?.Weights is { } w
            ? $"canary {w.Canary?.Weight ?? 0} % · stable {w.Stable?.Weight ?? 0} %"
            : $"canary {r.StepWeight} % by replica count"));
        var stable = observation.ReplicaSet(status?.StableRS);
        facts.Add(new("stable ReplicaSet", Describe(stable, status?.StableRS, r)));
        if (!r.FullyPromoted && status?.CurrentPodHash is { } currentHash)
        {
            facts.Add(new("canary ReplicaSet", Describe(observation.ReplicaSet(currentHash), currentHash, r)));
        }

        facts.Add(new("replicas", $"{status?.AvailableReplicas ?? 0}/{r.DesiredReplicas} available, {status?.UpdatedReplicas ?? 0} updated"));
        foreach (var (label, analysis) in new[] { ("analysis", status?.Canary?.CurrentStepAnalysisRunStatus), ("background analysis", status?.Canary?.CurrentBackgroundAnalysisRunStatus) })
        {
            if (analysis is { Name: { Length: > 0 } name })
            {
                facts.Add(new(label, $"{name} {analysis.Status}{(analysis.Message is { Length: > 0 } m ? $": {m}" : string.Empty)}"));
            }
        }

        if (r.Spec?.Paused == true)
        {
            facts.Add(new("paused", "spec.paused (manually)"));
        }

        return new TargetStatus(Router, $"{r.Metadata.Namespace}/{r.Metadata.Name}", facts, _time.GetUtcNow());
    }

    private static string Describe(V1ReplicaSet? rs, string? hash, Rollout r) => rs is null
        ? hash is null ? "none" : $"{r.Metadata.Name}-{hash} (not found)"
        : $"{rs.Metadata.Name} {rs.Status?.AvailableReplicas ?? 0}/{rs.Spec?.Replicas ?? 0} available";

    private string Describe(Observation? observation) => observation is null ? "nothing read" : StatusOf(observation).Summary;

    private DeploymentResult Result(bool ok, string detail, long started, Attempt attempt)
    {
        var conflicts = attempt.Conflicts == 0 ? string.Empty : $" ({attempt.Conflicts} write conflict{(attempt.Conflicts == 1 ? string.Empty : "s")} retried)";
        return new DeploymentResult(ok, detail + conflicts, _time.GetElapsedTime(started))
        {
            Status = attempt.Last is { } last ? StatusOf(last) : null,
        };
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds >= 120 ? $"{t.TotalMinutes:0.#} min" : $"{t.TotalSeconds:0.#} s";

    /// <summary>A Rollout and the ReplicaSets it owns, read together.</summary>
    public sealed record Observation(Rollout Rollout, IReadOnlyList<V1ReplicaSet> ReplicaSets)
    {
        public V1ReplicaSet? ReplicaSet(string? hash) => hash is null
            ? null
            : ReplicaSets.FirstOrDefault(rs => rs.Metadata.Labels?.TryGetValue(PodTemplateHashLabel, out var h) == true && h == hash);
    }

    private sealed class Attempt(ArgoRolloutRef where)
    {
        public ArgoRolloutRef Where { get; } = where;

        public string Goal { get; set; } = "the change";

        public Observation? Last { get; set; }

        public int Conflicts { get; set; }
    }

    private sealed class RolloutFailedException(string message) : Exception(message);
}
