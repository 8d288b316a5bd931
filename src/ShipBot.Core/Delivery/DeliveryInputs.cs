using ShipBot.Core.Plans;
using ShipBot.Core.Releases;

namespace ShipBot.Core.Delivery;

/// <summary>Why a service was halted, which decides whether the halt counts as a failure of production.</summary>
public enum HaltCause
{
    /// <summary>On-call or an admin stopped the line (<c>/ship halt</c>): production is in trouble.</summary>
    Manual,

    /// <summary>The halt that comes with a rollback (the rollback itself already opens the incident).</summary>
    Rollback,

    /// <summary>A red staging gate: production was never touched, so it is not an incident.</summary>
    StagingGate,

    /// <summary>A change freeze (a halt of every service, or a calendar window): not an incident.</summary>
    Freeze,
}

/// <summary>
/// A service was halted or unhalted. <see cref="Service"/> <c>"*"</c> means every service (a freeze),
/// which never opens an incident. An unhalt of a service, or of everything, ends that service's open incident.
/// </summary>
/// <param name="Service">The service, or <c>"*"</c> for every service.</param>
/// <param name="At">When the halt was set or lifted.</param>
/// <param name="Halted">True for a halt, false for an unhalt.</param>
/// <param name="Cause">Why it was halted (ignored for an unhalt). Default <see cref="HaltCause.Manual"/>.</param>
public sealed record HaltEvent(string Service, DateTimeOffset At, bool Halted, HaltCause Cause = HaltCause.Manual)
{
    public bool IsEverything => Service == "*";
}

/// <summary>Which releases a report covers: every release, one service's, or those started in one channel.</summary>
public sealed record DeliveryScope
{
    private DeliveryScope(DeliveryScopeKind kind, string? name)
    {
        Kind = kind;
        Name = name;
    }

    public DeliveryScopeKind Kind { get; }

    /// <summary>The service or channel name; null for <see cref="DeliveryScopeKind.All"/>.</summary>
    public string? Name { get; }

    public static DeliveryScope All { get; } = new(DeliveryScopeKind.All, null);

    public static DeliveryScope ForService(string service) => new(DeliveryScopeKind.Service, Require(service));

    /// <summary>Releases whose conversation is the channel <paramref name="channel"/> (on any platform).</summary>
    public static DeliveryScope ForChannel(string channel) => new(DeliveryScopeKind.Channel, Require(channel));

    public bool Includes(Release release)
    {
        ArgumentNullException.ThrowIfNull(release);
        return Includes(release.Id.Service, release.Conversation.Channel);
    }

    public bool Includes(ReleaseDeliveryFacts release)
    {
        ArgumentNullException.ThrowIfNull(release);
        return Includes(release.Id.Service, release.Channel);
    }

    private bool Includes(string service, string channel) => Kind switch
    {
        DeliveryScopeKind.Service => string.Equals(service, Name, StringComparison.OrdinalIgnoreCase),
        DeliveryScopeKind.Channel => string.Equals(channel.TrimStart('#'), Name!.TrimStart('#'), StringComparison.OrdinalIgnoreCase),
        _ => true,
    };

    /// <summary>"checkout", "#releases", "every service".</summary>
    public string Describe() => Kind switch
    {
        DeliveryScopeKind.Service => Name!,
        DeliveryScopeKind.Channel => $"#{Name!.TrimStart('#')}",
        _ => "every service",
    };

    public override string ToString() => Describe();

    private static string Require(string name) =>
        string.IsNullOrWhiteSpace(name) ? throw new ArgumentException("A scope needs a name.", nameof(name)) : name.Trim();
}

public enum DeliveryScopeKind
{
    All,
    Service,
    Channel,
}

/// <summary>
/// What the four keys need to know about one release, read from what the store already keeps:
/// its stage history, rollback and kind.
/// </summary>
/// <param name="Id">The release.</param>
/// <param name="Kind">Standard or hotfix.</param>
/// <param name="Channel">The channel it was started in.</param>
/// <param name="CreatedAt">When <c>start</c> created it.</param>
/// <param name="CommitAt">When its change was committed, if known.</param>
/// <param name="ProductionAt">When it first received production traffic (its first production stage began); null if never.</param>
/// <param name="FullAt">When it reached 100 % of traffic; null if never.</param>
/// <param name="RollbackAt">When a rollback of it began; null if never.</param>
public sealed record ReleaseDeliveryFacts(
    ReleaseId Id,
    ReleaseKind Kind,
    string Channel,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CommitAt,
    DateTimeOffset? ProductionAt,
    DateTimeOffset? FullAt,
    DateTimeOffset? RollbackAt)
{
    /// <summary>
    /// Reads the facts from a release: the first stage record whose name is one of the plan's
    /// production stages is the start of production traffic; the record of the plan's first 100 %
    /// stage is when it reached 100 % (or, for a plan without one, the start of validation).
    /// </summary>
    public static ReleaseDeliveryFacts From(Release release, DateTimeOffset? commitAt = null)
    {
        ArgumentNullException.ThrowIfNull(release);
        var stageLabels = release.Plan.Stages.Select(s => s.Label).ToHashSet(StringComparer.Ordinal);
        var production = release.History.FirstOrDefault(h => stageLabels.Contains(h.Name))?.StartedAt;
        var fullLabel = release.Plan.Stages.FirstOrDefault(s => s.Percent >= 100)?.Label ?? "Validation";
        var full = release.History.FirstOrDefault(h => h.Name == fullLabel)?.StartedAt;
        return new ReleaseDeliveryFacts(
            release.Id,
            release.Kind,
            release.Conversation.Channel,
            release.CreatedAt,
            commitAt,
            production,
            full,
            release.Rollback?.At);
    }
}
