using ShipBot.Core.Health;
using ShipBot.Core.Plans;

namespace ShipBot.Core.Settings;

public enum Role
{
    Requester,
    Approver,
    OnCall,
    Admin,
}

/// <summary>Who is acting: a platform user id (Slack <c>U…</c>, Teams AAD object id, console name) and the groups the platform says they are in.</summary>
public sealed record Actor(string Id, string DisplayName, IReadOnlyList<string> Groups)
{
    public static Actor System { get; } = new("shipbot", "ShipBot", []);

    /// <summary>
    /// The scopes of the API token this actor authenticated with (see <c>TokenScopes</c>), or null
    /// for a person. A token's scopes cap the roles configuration gives it: without
    /// <c>releases:write</c> it holds no service role, without <c>admin</c> it is no admin.
    /// </summary>
    public IReadOnlyList<string>? Scopes { get; init; }

    public string Mention => $"@{DisplayName}";
}

/// <summary>
/// Everything the core needs to know about one service, resolved from configuration: roles,
/// stage plan, thresholds, approvals. Role entries are user ids, or <c>group:&lt;id&gt;</c> for a
/// platform group (Slack user group, Teams group).
/// </summary>
public sealed record ServicePolicy
{
    public required string Name { get; init; }

    /// <summary>Channel where this service's releases are announced when started elsewhere. Default "releases".</summary>
    public string Channel { get; init; } = "releases";

    public IReadOnlyList<string> Requesters { get; init; } = [];

    public IReadOnlyList<string> Approvers { get; init; } = [];

    public IReadOnlyList<string> OnCall { get; init; } = [];

    /// <summary>How many distinct approvers must approve. Default 1.</summary>
    public int RequiredApprovals { get; init; } = 1;

    public StagePlan Plan { get; init; } = StagePlan.Default;

    public HealthThresholds Thresholds { get; init; } = new();

    /// <summary>The service's health URL, which ShipBot probes to verify the health-check and HTTPS items.</summary>
    public string? HealthUrl { get; init; }

    /// <summary>A runbook link shown on alerts and checked at handoff.</summary>
    public string? Runbook { get; init; }

    /// <summary>How long a consult decision waits before rolling back by itself. Default 15 minutes.</summary>
    public TimeSpan ConsultTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Outcome checkpoints after handoff. Default +1 day, +7 days, +30 days.</summary>
    public IReadOnlyList<TimeSpan> OutcomeCheckpoints { get; init; } =
        [TimeSpan.FromDays(1), TimeSpan.FromDays(7), TimeSpan.FromDays(30)];

    /// <summary>The service's measured outcome targets (<c>ShipBot:Services:&lt;name&gt;:Outcomes</c>). Default none.</summary>
    public Outcomes.OutcomeTargetCatalog Outcomes { get; init; } = ShipBot.Core.Outcomes.OutcomeTargetCatalog.Empty;

    /// <summary>Cap on every bake time of a hotfix plan. Default 10 minutes.</summary>
    public TimeSpan HotfixMaxBake { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How many inconclusive health evaluations in a row halt a release for a human. Default 3; 0 never halts.</summary>
    public int MaxInconclusive { get; init; } = 3;

    /// <summary>How the service's partial stages are judged (<see cref="Judging.JudgeSettings"/>). Default: the threshold rule.</summary>
    public Judging.JudgeSettings Judge { get; init; } = new();

    /// <summary>The on-call mention target (a user or group), first of <see cref="OnCall"/>.</summary>
    public string? OnCallMention => OnCall.Count > 0 ? OnCall[0] : null;
}

/// <summary>The role configuration: global admins plus each service's lists.</summary>
public sealed class AccessPolicy(IReadOnlyDictionary<string, ServicePolicy> services, IReadOnlyList<string> admins)
{
    public IReadOnlyDictionary<string, ServicePolicy> Services { get; } = services;

    public IReadOnlyList<string> Admins { get; } = admins;

    public bool IsAdmin(Actor actor) => Matches(actor, Admins) && ScopeAllows(actor, Ports.TokenScopes.Admin);

    public bool Has(Actor actor, string service, Role role)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (role == Role.Admin)
        {
            return IsAdmin(actor);
        }

        if (!Services.TryGetValue(service, out var policy) || !ScopeAllows(actor, Ports.TokenScopes.ReleasesWrite))
        {
            return false;
        }

        return Matches(actor, role switch
        {
            Role.Requester => policy.Requesters,
            Role.Approver => policy.Approvers,
            _ => policy.OnCall,
        });
    }

    public bool HasAny(Actor actor, string service, params Role[] roles) => roles.Any(r => Has(actor, service, r));

    /// <summary>Every role the actor has somewhere (for the console's user picker).</summary>
    public IReadOnlyList<Role> RolesOf(Actor actor)
    {
        var roles = new HashSet<Role>();
        foreach (var service in Services.Keys)
        {
            foreach (var role in new[] { Role.Requester, Role.Approver, Role.OnCall })
            {
                if (Has(actor, service, role))
                {
                    roles.Add(role);
                }
            }
        }

        if (IsAdmin(actor))
        {
            roles.Add(Role.Admin);
        }

        return roles.Order().ToList();
    }

    public static string Describe(Role role) => role switch
    {
        Role.OnCall => "on-call",
        _ => role.ToString().ToLowerInvariant(),
    };

    private static bool ScopeAllows(Actor actor, string scope) => actor.Scopes is not { } scopes || Ports.TokenScopes.Allows(scopes, scope);

    private static bool Matches(Actor actor, IReadOnlyList<string> entries) =>
        entries.Any(e => string.Equals(e, actor.Id, StringComparison.OrdinalIgnoreCase)
            || (e.StartsWith("group:", StringComparison.Ordinal) && actor.Groups.Contains(e[6..], StringComparer.OrdinalIgnoreCase)));
}
