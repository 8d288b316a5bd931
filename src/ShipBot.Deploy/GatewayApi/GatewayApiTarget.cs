using System.Globalization;
using System.Text.Json.Nodes;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.Kubernetes;
using ShipBot.Deploy.Smoke;

namespace ShipBot.Deploy.GatewayApi;

/// <summary>
/// Moves traffic by setting the weights of an HTTPRoute's stable and canary backendRefs
/// (canary p, stable 100 − p, in every rule that routes to them) with one JSON patch that carries
/// the resourceVersion it was computed from (a 409 Conflict is re-read and retried). A stage is
/// done only when the gateway controller reports it for the route's new generation: every parent
/// Gateway the route names has <c>Accepted</c> and <c>ResolvedRefs</c> True with that
/// <c>observedGeneration</c>, and the Service that now gets traffic has ready endpoints
/// (EndpointSlices). A condition False for the new generation fails the call at once with the
/// controller's reason. A rollback sets canary 0, stable 100 and waits the same way.
/// </summary>
public sealed class GatewayApiTarget : IDeploymentTarget, IRouterTarget
{
    public const string Router = "Gateway API";
    private const int MaxConflictRetries = 5;
    private readonly KubernetesApi _api;
    private readonly GatewayApiTargetOptions _options;
    private readonly HttpSmokeChecks _smoke;
    private readonly TimeProvider _time;
    private int _conflicts;

    public GatewayApiTarget(KubernetesApi api, GatewayApiTargetOptions options, HttpSmokeChecks smoke, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(options);
        _api = api;
        _options = options;
        _smoke = smoke;
        _time = time;
    }

    public string Name => $"gateway-api {_options.Production}";

    /// <summary>409 Conflicts met (and retried) so far.</summary>
    public int Conflicts => Volatile.Read(ref _conflicts);

    public async Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = _time.GetTimestamp();
        var intent = request.Intent;
        var staging = intent.Environment == DeploymentEnvironment.Staging;
        var where = staging ? StagingRef() : _options.Production;
        if (where is null)
        {
            return new DeploymentResult(true, "no staging HTTPRoute is configured (Deployment:GatewayApi:Staging): staging is deployed by the team's pipeline, not moved by ShipBot; the smoke checks gate it", _time.GetElapsedTime(started));
        }

        var canary = intent.IsRollback ? 0 : staging ? 100 : intent.Percent;
        var attempt = new Attempt(where, canary);
        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            var route = await _api.GetAsync<HttpRoute>(CustomResourceKind.HttpRoutes, where.Namespace!, where.Route!, linked.Token).ConfigureAwait(false);
            if (route is null)
            {
                return Result(false, $"HTTPRoute {where} not found", started, attempt);
            }

            if (Backends(route, where) is { Error: { } error })
            {
                return Result(false, error, started, attempt);
            }

            route = await PatchAsync(attempt, route, linked.Token).ConfigureAwait(false);
            var (done, detail) = await WaitAsync(attempt, linked.Token).ConfigureAwait(false);
            return Result(done, detail, started, attempt);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Result(false, $"the gateway did not report the weights canary {canary} · stable {100 - canary} within {_options.Timeout.TotalSeconds:0.#} s; last seen: {(attempt.Last is { } last ? StatusOf(last).Summary : "nothing read")}", started, attempt);
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
        var where = _options.Production;
        var route = await _api.GetAsync<HttpRoute>(CustomResourceKind.HttpRoutes, where.Namespace!, where.Route!, cancellationToken).ConfigureAwait(false);
        if (route is null)
        {
            return new TargetStatus(Router, where.ToString(), [new TargetFact("route", "not found")], _time.GetUtcNow());
        }

        return StatusOf(await ObserveAsync(where, route, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>A route has no progression of its own to pause.</summary>
    public Task<DeploymentResult?> SetPausedAsync(ReleaseId release, bool paused, CancellationToken cancellationToken = default) =>
        Task.FromResult<DeploymentResult?>(null);

    private GatewayApiRouteRef? StagingRef() => _options.Staging is not { } staging
        ? null
        : new GatewayApiRouteRef
        {
            Namespace = staging.Namespace ?? _options.Namespace,
            Route = staging.Route,
            StableBackend = staging.StableBackend ?? _options.StableBackend,
            CanaryBackend = staging.CanaryBackend ?? _options.CanaryBackend,
        };

    /// <summary>Every (rule, backendRef) index pair of the stable and canary Services; an error when a rule routes to only one of them.</summary>
    private static (List<(int Rule, int Ref, bool Canary)> Refs, string? Error) Backends(HttpRoute route, GatewayApiRouteRef where)
    {
        var found = new List<(int, int, bool)>();
        var ns = route.Metadata.Namespace ?? where.Namespace!;
        var rules = route.Spec?.Rules ?? [];
        for (var i = 0; i < rules.Count; i++)
        {
            var refs = rules[i].BackendRefs ?? [];
            var stable = -1;
            var canary = -1;
            for (var j = 0; j < refs.Count; j++)
            {
                if (refs[j].IsService(where.StableBackend!, ns))
                {
                    stable = j;
                }
                else if (refs[j].IsService(where.CanaryBackend!, ns))
                {
                    canary = j;
                }
            }

            if (stable >= 0 != canary >= 0)
            {
                return ([], $"HTTPRoute {where} rule {i + 1} routes to {(stable >= 0 ? where.StableBackend : where.CanaryBackend)} but not to {(stable >= 0 ? where.CanaryBackend : where.StableBackend)}: give every rule both backendRefs (the canary at weight 0)");
            }

            if (stable >= 0)
            {
                found.Add((i, stable, false));
                found.Add((i, canary, true));
            }
        }

        return found.Count == 0
            ? ([], $"HTTPRoute {where} has no rule with backendRefs {where.StableBackend} and {where.CanaryBackend}")
            : (found, null);
    }

    private async Task<HttpRoute> PatchAsync(Attempt attempt, HttpRoute route, CancellationToken ct)
    {
        for (var tries = 1; ; tries++)
        {
            var (refs, error) = Backends(route, attempt.Where);
            if (error is not null)
            {
                throw new KubernetesApiException(System.Net.HttpStatusCode.UnprocessableEntity, "Invalid", error);
            }

            var rules = route.Spec!.Rules!;
            var operations = new JsonArray();
            foreach (var (rule, index, isCanary) in refs)
            {
                var weight = isCanary ? attempt.Canary : 100 - attempt.Canary;
                var backend = rules[rule].BackendRefs![index];
                if (backend.Weight == weight)
                {
                    continue;
                }

                var at = $"/spec/rules/{rule.ToString(CultureInfo.InvariantCulture)}/backendRefs/{index.ToString(CultureInfo.InvariantCulture)}";
                operations.Add(KubernetesPatch.Op("test", $"{at}/name", backend.Name));
                operations.Add(KubernetesPatch.Op("add", $"{at}/weight", weight));
            }

            if (operations.Count == 0)
            {
                return route;
            }

            operations.Add(KubernetesPatch.Op("replace", "/metadata/resourceVersion", route.Metadata.ResourceVersion));
            try
            {
                return await _api.PatchAsync<HttpRoute>(CustomResourceKind.HttpRoutes, attempt.Where.Namespace!, attempt.Where.Route!, KubernetesPatch.Operations(operations), status: false, ct).ConfigureAwait(false);
            }
            catch (KubernetesApiException ex) when (ex.IsConflict && tries < MaxConflictRetries)
            {
                Interlocked.Increment(ref _conflicts);
                attempt.Conflicts++;
                route = await _api.GetAsync<HttpRoute>(CustomResourceKind.HttpRoutes, attempt.Where.Namespace!, attempt.Where.Route!, ct).ConfigureAwait(false)
                    ?? throw new KubernetesApiException(System.Net.HttpStatusCode.NotFound, "NotFound", $"HTTPRoute {attempt.Where} disappeared");
            }
        }
    }

    private async Task<(bool Done, string Detail)> WaitAsync(Attempt attempt, CancellationToken ct)
    {
        while (true)
        {
            var route = await _api.GetAsync<HttpRoute>(CustomResourceKind.HttpRoutes, attempt.Where.Namespace!, attempt.Where.Route!, ct).ConfigureAwait(false)
                ?? throw new KubernetesApiException(System.Net.HttpStatusCode.NotFound, "NotFound", $"HTTPRoute {attempt.Where} disappeared");
            var observation = await ObserveAsync(attempt.Where, route, ct).ConfigureAwait(false);
            attempt.Last = observation;
            var (refs, error) = Backends(route, attempt.Where);
            if (error is not null)
            {
                return (false, error);
            }

            var rules = route.Spec!.Rules!;
            var weightsApplied = refs.All(r => rules[r.Rule].BackendRefs![r.Ref].Weight == (r.Canary ? attempt.Canary : 100 - attempt.Canary));
            if (!weightsApplied)
            {
                // Someone changed the weights after ShipBot did: say so rather than wait for a state that will not come.
                return (false, $"HTTPRoute {attempt.Where} weights were changed by someone else: {StatusOf(observation).Summary}");
            }

            var generation = route.Metadata.Generation;
            var refused = observation.Parents
                .SelectMany(p => (p.Status?.Conditions ?? []).Where(c => c.ObservedGeneration == generation && c.Type is "Accepted" or "ResolvedRefs" && c.Status == "False").Select(c => (p.Parent, Condition: c)))
                .FirstOrDefault();
            if (refused.Condition is { } condition)
            {
                return (false, $"the gateway refused HTTPRoute {attempt.Where} generation {generation} on {refused.Parent}: {condition.Type} False ({condition.Reason}: {condition.Message})");
            }

            var accepted = observation.Parents.Count > 0 && observation.Parents.All(p => IsTrue(p.Status, "Accepted", generation) && IsTrue(p.Status, "ResolvedRefs", generation));
            var serving = attempt.Canary > 0 ? observation.CanaryReady : observation.StableReady;
            var alsoStable = attempt.Canary < 100 ? observation.StableReady : int.MaxValue;
            if (accepted && serving >= _options.MinReadyEndpoints && alsoStable >= _options.MinReadyEndpoints)
            {
                return (true, $"weights canary {attempt.Canary} · stable {100 - attempt.Canary} accepted: {StatusOf(observation).Summary}");
            }

            await Task.Delay(_options.PollInterval, _time, ct).ConfigureAwait(false);
        }
    }

    private static bool IsTrue(RouteParentStatus? status, string type, long generation) =>
        status?.Conditions?.Any(c => c.Type == type && c.Status == "True" && c.ObservedGeneration == generation) == true;

    private async Task<Observation> ObserveAsync(GatewayApiRouteRef where, HttpRoute route, CancellationToken ct)
    {
        var ns = route.Metadata.Namespace ?? where.Namespace!;
        var parents = (route.Spec?.ParentRefs ?? [])
            .Select(p => (p, route.Status?.Parents?.FirstOrDefault(s => s.ParentRef.Matches(p, ns))))
            .ToList();
        var stable = await ReadyEndpointsAsync(ns, where.StableBackend!, ct).ConfigureAwait(false);
        var canary = await ReadyEndpointsAsync(ns, where.CanaryBackend!, ct).ConfigureAwait(false);
        return new Observation(where, route, parents, stable, canary);
    }

    /// <summary>Endpoints of the Service's EndpointSlices whose <c>ready</c> condition is not false (unset means ready).</summary>
    private async Task<int> ReadyEndpointsAsync(string ns, string service, CancellationToken ct)
    {
        var slices = await _api.ListEndpointSlicesAsync(ns, service, ct).ConfigureAwait(false);
        return slices.Items.Sum(s => s.Endpoints?.Count(e => e.Conditions?.Ready != false) ?? 0);
    }

    public TargetStatus StatusOf(Observation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var route = observation.Route;
        var facts = new List<TargetFact>();
        var (refs, _) = Backends(route, observation.Where);
        var rules = route.Spec?.Rules ?? [];
        var weights = refs.Where(r => r.Canary).Select(r =>
        {
            var stable = refs.First(s => s.Rule == r.Rule && !s.Canary);
            return $"canary {rules[r.Rule].BackendRefs![r.Ref].Weight ?? 1} · stable {rules[stable.Rule].BackendRefs![stable.Ref].Weight ?? 1}";
        }).Distinct().ToList();
        facts.Add(new("weights", weights.Count == 0 ? "no stable/canary rule" : string.Join("; ", weights)));
        foreach (var (parent, status) in observation.Parents)
        {
            var conditions = status?.Conditions is { Count: > 0 } list
                ? string.Join(", ", list.Where(c => c.Type is "Accepted" or "ResolvedRefs").Select(c => $"{c.Type} {c.Status}{(c.ObservedGeneration == route.Metadata.Generation ? string.Empty : $" (generation {c.ObservedGeneration})")}{(c.Status == "True" || string.IsNullOrEmpty(c.Reason) ? string.Empty : $" {c.Reason}")}"))
                : "no status yet";
            facts.Add(new($"parent {parent}", conditions));
        }

        facts.Add(new("generation", route.Metadata.Generation.ToString(CultureInfo.InvariantCulture)));
        facts.Add(new("ready endpoints", $"canary {observation.CanaryReady} · stable {observation.StableReady}"));
        return new TargetStatus(Router, $"HTTPRoute {observation.Where}", facts, _time.GetUtcNow());
    }

    private DeploymentResult Result(bool ok, string detail, long started, Attempt attempt)
    {
        var conflicts = attempt.Conflicts == 0 ? string.Empty : $" ({attempt.Conflicts} write conflict{(attempt.Conflicts == 1 ? string.Empty : "s")} retried)";
        return new DeploymentResult(ok, detail + conflicts, _time.GetElapsedTime(started)) { Status = attempt.Last is { } last ? StatusOf(last) : null };
    }

    /// <summary>A route, its parents' status, and the ready endpoints of both backends, read together.</summary>
    public sealed record Observation(GatewayApiRouteRef Where, HttpRoute Route, IReadOnlyList<(ParentReference Parent, RouteParentStatus? Status)> Parents, int StableReady, int CanaryReady);

    private sealed class Attempt(GatewayApiRouteRef where, int canary)
    {
        public GatewayApiRouteRef Where { get; } = where;

        public int Canary { get; } = canary;

        public Observation? Last { get; set; }

        public int Conflicts { get; set; }
    }
}
