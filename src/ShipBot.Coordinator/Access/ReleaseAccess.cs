using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.Access;

/// <summary>
/// Role checks and the services' policies. Every refusal names the role that was needed; an unknown
/// service lists the configured ones.
/// </summary>
internal sealed class ReleaseAccess(AccessPolicy policy)
{
    public AccessPolicy Policy => policy;

    public IReadOnlyDictionary<string, ServicePolicy> Services => policy.Services;

    public ServicePolicy PolicyOf(string service) =>
        policy.Services.TryGetValue(service, out var found) ? found : throw UnknownService(service);

    public ReleaseRuleException UnknownService(string service) =>
        new($"Unknown service '{service}'. Configured services: {string.Join(", ", policy.Services.Keys)}.") { Kind = RefusalKind.NotFound };

    /// <summary>The roles the command's row declares, for <paramref name="service"/>.</summary>
    public void Require(Commands.CommandContext context, string service) => Require(context.Actor, service, context.Row.Doing, context.Row.Roles);

    public void Require(Actor actor, string service, string verb, Role[] roles)
    {
        if (policy.HasAny(actor, service, roles) || (policy.IsAdmin(actor) && roles.Contains(Role.Admin)))
        {
            return;
        }

        var needed = string.Join(" or ", roles.Select(AccessPolicy.Describe));
        throw new ReleaseRuleException($"{actor.Mention} cannot {verb} for {service}: that needs the {needed} role.") { Kind = RefusalKind.Forbidden };
    }

    public static bool IsRequester(Release release, Actor actor) => string.Equals(release.Requester.Id, actor.Id, StringComparison.OrdinalIgnoreCase);

    public static Person PersonOf(Actor actor) => new(actor.Id, actor.DisplayName);
}
