using System.Globalization;
using System.Text;
using ShipBot.Core.Cards;
using ShipBot.Core.Commands;
using ShipBot.Core.Freezes;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator;

/// <summary>
/// Change-freeze windows from calendars: a start inside one is refused, a rollout holds at its stage
/// (promotions wait; health is still judged and rollbacks are never blocked) and moves on by itself
/// at the next evaluation after the freeze ends. A hotfix may be let through by on-call or an admin
/// with a reason, which is audited and kept on the release.
/// </summary>
public sealed partial class ReleaseCoordinator
{
    /// <summary>How far ahead <c>/ship freezes</c> looks for the next windows.</summary>
    private static readonly TimeSpan FreezeListHorizon = TimeSpan.FromDays(60);

    /// <summary>The freeze calendars; null: no calendar is configured and nothing is ever frozen by one (halts still are).</summary>
    public IFreezeCalendar? Freezes { get; init; }

    /// <summary>The freeze of <paramref name="service"/> now, or null when no calendar freezes it.</summary>
    private FreezeState? FreezeOf(string service)
    {
        if (Freezes is null)
        {
            return null;
        }

        var state = Freezes.StateAt(service, _time.GetUtcNow());
        return state.IsFrozen ? state : null;
    }

    /// <summary>The freeze that holds <paramref name="release"/>'s promotions now: none when it was let through that freeze.</summary>
    private FreezeState? FreezeHolding(Release release) =>
        FreezeOf(release.Id.Service) is { } state && !(release.FreezeBypass is { } bypass && state.Until is { } until && bypass.Covers(until))
            ? state
            : null;

    /// <summary>
    /// Whether a start may go ahead in a freeze: null when there is no freeze, a refusal when there is
    /// one and no permitted bypass, otherwise the bypass to keep on the release.
    /// </summary>
    private (string? Refusal, FreezeBypass? Bypass) CheckStartFreeze(Actor actor, string service, ReleaseKind kind, string? bypassReason)
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

        Require(actor, service, "bypass a change freeze", [Role.OnCall, Role.Admin]);
        var window = freeze.Governing!;
        return (null, new FreezeBypass(actor.Id, bypassReason.Trim(), window.Name, freeze.Until!.Value, _time.GetUtcNow()));
    }

    /// <summary>The card's line for a held release: "Frozen until Mon 26 Oct 2026 08:00 +01:00 Europe/Berlin ('Weekend freeze', global): promotions wait; rollbacks are not blocked".</summary>
    private string? FreezeLine(Release release)
    {
        if (release.State.IsTerminal() || release.State == ReleaseState.Operating || FreezeHolding(release) is not { } freeze
            || freeze.Governing is not { } window || freeze.Until is not { } until)
        {
            return null;
        }

        return $"🧊 Frozen until {FreezeSchedule.FormatInstant(until.ToOffset(window.End.Offset), window.TimeZone)} ('{window.Name}', {(window.IsGlobal ? "global" : window.Service)}): promotions wait; rollbacks are not blocked.";
    }

    /// <summary>The card's line about records, only when writing them fails (a failure never blocks the release).</summary>
    private string? RecordsLine() =>
        Records?.Current is { Enabled: true, LastError: not null } status ? "⚠️ " + status.Describe().Replace("Records: ", string.Empty, StringComparison.Ordinal) : null;

    /// <summary>
    /// A promotion that was due is held by a freeze: said once per freeze (audit and the card, which
    /// then reads "Frozen until …"), not at every evaluation.
    /// </summary>
    private async Task NoteFreezeHoldAsync(Release release, FreezeState freeze, CancellationToken ct)
    {
        var key = $"freeze-hold:{release.Id}:{freeze.Until?.ToUnixTimeSeconds()}";
        if (!await _idempotency.TryClaimAsync(key, FreezeListHorizon, ct).ConfigureAwait(false))
        {
            return;
        }

        await _store.AppendAuditAsync(release.Id, new AuditEntry(_time.GetUtcNow(), "shipbot", "held by change freeze", $"promotion from {release.Where} waits: {freeze.Explain()}"), ct).ConfigureAwait(false);
        await PublishCardAsync(release, ct).ConfigureAwait(false);
    }

    private Task<CommandReply> FreezesAsync(FreezesCommand c)
    {
        if (c.Service is not null && !_access.Services.ContainsKey(c.Service))
        {
            throw UnknownService(c.Service);
        }

        if (Freezes is null)
        {
            return Task.FromResult(CommandReply.Private("No freeze calendar is configured (ShipBot:Freezes:Calendars, or a service's Freezes:Calendars), so no window freezes anything. `/ship halt all <reason>` stops every service by hand."));
        }

        var now = _time.GetUtcNow();
        var windows = Freezes.Between(c.Service, now, now + FreezeListHorizon);
        var active = windows.Where(w => w.Contains(now)).ToList();
        var upcoming = windows.Where(w => w.Start > now).Take(5).ToList();
        var text = new StringBuilder();
        var subject = c.Service ?? "any service";
        if (c.Service is not null && FreezeOf(c.Service) is { } state)
        {
            text.Append("🧊 ").Append(state.Explain());
        }
        else
        {
            text.Append(active.Count == 0 ? $"✅ No change freeze holds {subject} now." : $"🧊 In force now ({active.Count}):");
        }

        foreach (var window in active)
        {
            text.Append("\n• ").Append(window.Describe());
        }

        text.Append(upcoming.Count == 0 ? $"\nNo window in the next {FreezeListHorizon.TotalDays:0} days." : "\nNext:");
        foreach (var window in upcoming)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n• {window.Name} ({(window.IsGlobal ? "global" : window.Service)}) from {FreezeSchedule.FormatInstant(window.Start, window.TimeZone)} to {FreezeSchedule.FormatInstant(window.End, window.TimeZone)}");
        }

        foreach (var source in Freezes.Sources.Where(s => (c.Service is null || s.Service is null || s.Service == c.Service) && (s.IsStale || !s.IsLoaded)))
        {
            text.Append("\n⚠️ ").Append(source.Describe());
        }

        text.Append("\nInside a window, `start` is refused and rollouts hold at their stage (rollbacks are never blocked); on-call or an admin may take a hotfix through with `--bypass-freeze \"<why>\"`.");
        return Task.FromResult(CommandReply.Public(text.ToString()));
    }
}
