using ShipBot.Coordinator.Access;
using ShipBot.Core.Freezes;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.Freezes;

/// <summary>
/// Change-freeze windows from calendars: a start inside one is refused, a rollout holds at its stage
/// (promotions wait; health is still judged and rollbacks are never blocked) and moves on by itself
/// at the next evaluation after the freeze ends. A hotfix may be let through by on-call or an admin
/// with a reason, which is audited and kept on the release.
/// </summary>
internal sealed class FreezeGate(Integrations integrations, ReleaseAccess access, TimeProvider time)
{
    /// <summary>How far ahead <c>/ship freezes</c> looks for the next windows, and how long a held promotion is noted once.</summary>
    public static readonly TimeSpan ListHorizon = TimeSpan.FromDays(60);

    /// <summary>The freeze calendars; null: no calendar is configured and nothing is ever frozen by one (halts still are).</summary>
    public IFreezeCalendar? Calendar => integrations.Freezes;

    /// <summary>The freeze of <paramref name="service"/> now, or null when no calendar freezes it.</summary>
    public FreezeState? FreezeOf(string service)
    {
        if (integrations.Freezes is not { } calendar)
        {
            return null;
        }

        var state = calendar.StateAt(service, time.GetUtcNow());
        return state.IsFrozen ? state : null;
    }

    /// <summary>The freeze that holds <paramref name="release"/>'s promotions now: none when it was let through that freeze.</summary>
    public FreezeState? FreezeHolding(Release release) =>
        FreezeOf(release.Id.Service) is { } state && !(release.FreezeBypass is { } bypass && state.Until is { } until && bypass.Covers(until))
            ? state
            : null;

    /// <summary>
    /// Whether a start may go ahead in a freeze: null when there is no freeze, a refusal when there is
    /// one and no permitted bypass, otherwise the bypass to keep on the release.
    /// </summary>
    public (string? Refusal, FreezeBypass? Bypass) CheckStart(Actor actor, string service, ReleaseKind kind, string? bypassReason)
    {
        if (FreezeOf(service) is not { } freeze)
        {
            return (null, null);
        }

        var explain = freeze.Explain();
        if (kind == ReleaseKind.Standard)
        {
            return ($"Not started: {explain} A standard release waits until then. A hotfix that cannot wait may go through with on-call's or an admin's reason: `/ship hotfix {service} <version> p0|p1 <reason> --bypass-freeze \"<why it cannot wait>\"`.", null);
        }

        if (string.IsNullOrWhiteSpace(bypassReason))
        {
            return ($"Not started: {explain} On-call or an admin may take this hotfix through it with a reason: add `--bypass-freeze \"<why it cannot wait>\"`.", null);
        }

        access.Require(actor, service, "bypass a change freeze", [Role.OnCall, Role.Admin]);
        var window = freeze.Governing!;
        return (null, new FreezeBypass(actor.Id, bypassReason.Trim(), window.Name, freeze.Until!.Value, time.GetUtcNow()));
    }

    /// <summary>The card's line for a held release: "Frozen until Mon 26 Oct 2026 08:00 +01:00 Europe/Berlin ('Weekend freeze', global): promotions wait; rollbacks are not blocked".</summary>
    public string? FreezeLine(Release release)
    {
        if (release.State.IsTerminal() || release.State == ReleaseState.Operating || FreezeHolding(release) is not { } freeze
            || freeze.Governing is not { } window || freeze.Until is not { } until)
        {
            return null;
        }

        return $"🧊 Frozen until {FreezeSchedule.FormatInstant(until.ToOffset(window.End.Offset), window.TimeZone)} ('{window.Name}', {(window.IsGlobal ? "global" : window.Service)}): promotions wait; rollbacks are not blocked.";
    }
}
