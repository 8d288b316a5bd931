using ShipBot.Core.Plans;

namespace ShipBot.Core.Checklists;

/// <summary>The checklist items (pre-deployment checks and the six-domain ship checklist, docs/release-process.md) and those of the hotfix path.</summary>
public static class ChecklistCatalog
{
    public const string Approved = "approved";
    public const string OnCallNotified = "oncall";
    public const string HealthCheck = "health";
    public const string Https = "https";
    public const string UserFacingVerified = "ufv";

    /// <summary>The minimum viable production floor: HTTPS, environment variables, error logging, health check, rollback plan.</summary>
    public static readonly IReadOnlySet<string> FloorIds = new HashSet<string>(StringComparer.Ordinal)
    {
        "https", "env", "errors", "health", "rollback",
    };

    private static readonly ChecklistItem[] Standard =
    [
        Item("qa", ChecklistGroup.PreDeployment, "All quality evaluations passed"),
        new(Approved, ChecklistGroup.PreDeployment, "Release contract approved by a human", false, ItemSettledBy.ShipBot),
        Item("rollback", ChecklistGroup.PreDeployment, "Rollback plan documented and tested"),
        Item("flags", ChecklistGroup.PreDeployment, "Feature flags configured and tested in staging"),
        Item("migrations", ChecklistGroup.PreDeployment, "Database migrations backward-compatible"),
        Item("dashboards", ChecklistGroup.PreDeployment, "Monitoring dashboards ready"),
        new(OnCallNotified, ChecklistGroup.PreDeployment, "On-call team notified", false, ItemSettledBy.ShipBot),
        Item("env", ChecklistGroup.Environment, "Environment variables configured, not hard-coded"),
        Item("db", ChecklistGroup.Database, "Production database set up with backups"),
        Item("errors", ChecklistGroup.Errors, "Error logging and monitoring in place"),
        Item(HealthCheck, ChecklistGroup.Monitoring, "Health check endpoint exists"),
        Item("deploydoc", ChecklistGroup.Deployment, "Deployment process documented"),
        Item("rollbacktest", ChecklistGroup.Deployment, "Rollback plan tested"),
        Item(Https, ChecklistGroup.Security, "HTTPS enabled"),
        Item("ratelimit", ChecklistGroup.Security, "Rate limiting configured"),
    ];

    /// <summary>
    /// The hotfix checklist: the floor plus the security items, which stay mandatory — rate limiting is
    /// such a mandatory security item (not waivable on a hotfix), not part of the floor.
    /// </summary>
    private static readonly string[] HotfixIds = [Approved, "rollback", OnCallNotified, "env", "errors", HealthCheck, Https, "ratelimit"];

    /// <summary>The item a human ticks during post-deployment validation.</summary>
    public static ChecklistItem UserFacingVerification { get; } =
        new(UserFacingVerified, ChecklistGroup.Validation, "User-facing functionality verified", false, ItemSettledBy.Human);

    public static IReadOnlyList<ChecklistItem> For(ReleaseKind kind)
    {
        var items = kind == ReleaseKind.Standard
            ? Standard.ToList()
            : Standard.Where(i => HotfixIds.Contains(i.Id))
                .Select(i => i.Group == ChecklistGroup.Security && !i.Floor ? i with { Mandatory = true } : i)
                .ToList();
        items.Add(UserFacingVerification);
        return items;
    }

    public static string GroupTitle(ChecklistGroup group) => group switch
    {
        ChecklistGroup.PreDeployment => "Pre-deployment checks",
        ChecklistGroup.Validation => "Post-deployment validation",
        _ => group.ToString(),
    };

    private static ChecklistItem Item(string id, ChecklistGroup group, string label) =>
        new(id, group, label, FloorIds.Contains(id), ItemSettledBy.Human);
}
