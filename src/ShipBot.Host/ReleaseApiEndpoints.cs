using ShipBot.Coordinator;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Identity;

namespace ShipBot.Host;

public sealed record ChecklistItemView(string Id, string Group, string Label, string State, string? By, string? Detail, bool Floor);

public sealed record ReleaseView(
    string Name,
    string Service,
    string Version,
    string Kind,
    string State,
    string Stage,
    int StageIndex,
    long Revision,
    string Requester,
    IReadOnlyList<string> Approvals,
    int RequiredApprovals,
    IReadOnlyList<ChecklistItemView> Checklist,
    HealthVerdict? Health,
    IReadOnlyDictionary<string, double> Baseline,
    IReadOnlyList<StageRecord> History,
    RollbackRecord? Rollback,
    PendingDecision? Decision,
    string? HaltReason,
    IReadOnlyList<HandoffCheck> Handoff,
    IReadOnlyList<OutcomeReport> Outcomes,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<AuditEntry>? Audit)
{
    /// <summary>Decisions on-call chose to hold (no timeout; no promotion until continued or rolled back).</summary>
    public IReadOnlyList<PendingDecision> HeldDecisions { get; init; } = [];

    /// <summary>How each decision ended.</summary>
    public IReadOnlyList<DecisionRecord> DecisionHistory { get; init; } = [];

    /// <summary>The card revision buttons carry (meaningful changes only; <see cref="Revision"/> is the store's version).</summary>
    public long CardRevision { get; init; }

    public string? AbortReason { get; init; }

    /// <summary>Where the release came from (commit, pull requests, pipeline run), or null.</summary>
    public ReleaseProvenance? Provenance { get; init; }

    /// <summary>What ShipBot said about the command that produced this view (write API answers only); null otherwise.</summary>
    public string? Message { get; init; }

    public static ReleaseView From(Release r, IReadOnlyList<AuditEntry>? audit) => new(
        r.Id.ToString(), r.Id.Service, r.Id.Version, r.Kind.ToString(), r.State.ToString(), r.Where, r.StageIndex, r.Revision,
        r.Requester.Id, r.Approvals.Select(a => a.By.Id).ToList(), r.RequiredApprovals,
        r.Checklist.Select(i => new ChecklistItemView(i.Id, i.Group.ToString(), i.Label, i.State.ToString().ToLowerInvariant(), i.By, i.Detail, i.Floor)).ToList(),
        r.LastHealth, r.Baseline, r.History, r.Rollback, r.Decision, r.HaltReason, r.Handoff, r.Outcomes, r.CreatedAt, r.UpdatedAt, audit)
    {
        HeldDecisions = r.HeldDecisions,
        DecisionHistory = r.DecisionHistory,
        CardRevision = r.CardRevision,
        AbortReason = r.AbortReason,
        Provenance = r.Provenance,
    };
}

/// <summary>
/// The read-only release API. It needs a session or an API token with <c>releases:read</c>, except in
/// the console's Demo mode. The probes /healthz and /readyz are health checks: see Telemetry/TelemetryExtensions.
/// </summary>
public static class ReleaseApiEndpoints
{
    public static IEndpointRouteBuilder MapReleaseApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/releases", async (IReleaseStore store, string? service, CancellationToken ct) =>
        {
            var releases = service is null
                ? await store.ListActiveAsync(ct).ConfigureAwait(false)
                : await store.ListByServiceAsync(service.ToLowerInvariant(), ct).ConfigureAwait(false);
            return Results.Json(releases.Select(r => ReleaseView.From(r, null)), ShipBotJson.Options);
        }).RequireCaller(TokenScopes.ReleasesRead);

        // GET /api/releases/{name} (with its long poll) is mapped by Api/ReleaseWriteApi.cs.
        app.MapGet("/api/releases/{name}/audit", async (string name, IReleaseStore store, CancellationToken ct) =>
        {
            if (!ReleaseId.TryParse(name, out var id) || await store.GetAsync(id.Value, ct).ConfigureAwait(false) is null)
            {
                return Results.Json(new { error = $"There is no release {name}." }, ShipBotJson.Options, statusCode: 404);
            }

            return Results.Json(await store.GetAuditAsync(id.Value, ct).ConfigureAwait(false), ShipBotJson.Options);
        }).RequireCaller(TokenScopes.ReleasesRead);

        app.MapGet("/api/signals", async (IReleaseStore store, CancellationToken ct) =>
            Results.Json(await store.ListSignalsAsync(ct).ConfigureAwait(false), ShipBotJson.Options)).RequireCaller(TokenScopes.ReleasesRead);
        return app;
    }
}
