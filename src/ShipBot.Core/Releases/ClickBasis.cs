using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using ShipBot.Core.Checklists;

namespace ShipBot.Core.Releases;

/// <summary>
/// What a card's button was rendered for. Every button of a release carries one, the click brings it
/// back, and the click acts only while it still describes the release; otherwise it changes nothing
/// and the person is told what changed. Typed commands carry none and act on the current state.
/// <list type="bullet">
/// <item><see cref="RevisionBasis"/> (the release's own buttons: Approve, Reject…, Abort…, Promote
/// now, Approve promotion, Pause, Resume, Roll back…, Flag removed): the state, the stage and
/// <see cref="Release.CardRevision"/>, which counts meaningful changes only — a quiet health reading,
/// a flapping health status, a checklist tick, a partial approval or a confirmed deployment call
/// never makes such a card stale, and every change a click makes does (or makes the command a no-op),
/// so one click acts at most once.</item>
/// <item><see cref="DecisionBasis"/> (Roll back now / Hold here / Continue on a consult): the
/// decision's id.</item>
/// <item><see cref="ItemBasis"/> (Confirm / Waive… / Verified on a checklist row): the item and
/// the state it was shown in, so several items can be ticked in a row on one card.</item>
/// </list>
/// <see cref="Token"/> is the stable wire form (for example <c>r12.Canary.0</c>, <c>d.d3</c>,
/// <c>i.qa.Pending</c>): short, URL- and Slack-safe, without '|' or spaces.
/// </summary>
public abstract record ClickBasis
{
    public abstract string Token { get; }

    /// <summary>The release's own buttons: the release must still be exactly where the card showed it.</summary>
    public static ClickBasis Revision(Release release)
    {
        ArgumentNullException.ThrowIfNull(release);
        return new RevisionBasis(release.CardRevision, release.State, release.StageIndex);
    }

    public static ClickBasis Decision(PendingDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return new DecisionBasis(decision.Id);
    }

    public static ClickBasis Item(ChecklistItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return new ItemBasis(item.Id, item.State);
    }

    /// <summary>Reads a token; false for anything that is not one (a click with an unreadable basis is refused, never taken as typed).</summary>
    public static bool TryParse(string? token, [NotNullWhen(true)] out ClickBasis? basis)
    {
        basis = null;
        if (string.IsNullOrWhiteSpace(token) || token.Length > 200)
        {
            return false;
        }

        var parts = token.Split('.');
        switch (parts[0])
        {
            case ['r', .. var rev] when parts.Length == 3
                && long.TryParse(rev, NumberStyles.None, CultureInfo.InvariantCulture, out var revision)
                && TryState(parts[1], out var state) && TryIndex(parts[2], out var index):
                basis = new RevisionBasis(revision, state, index);
                return true;
            case "d" when parts.Length == 2 && parts[1].Length > 0:
                basis = new DecisionBasis(parts[1]);
                return true;
            case "i" when parts.Length == 3 && parts[1].Length > 0
                && Enum.TryParse<ChecklistItemState>(parts[2], ignoreCase: false, out var itemState) && Enum.IsDefined(itemState):
                basis = new ItemBasis(parts[1], itemState);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Null while the click still describes <paramref name="current"/>; otherwise the reply saying what changed.</summary>
    public abstract string? StaleReason(Release current);

    public sealed override string ToString() => Token;

    private protected static string OutOfDate(Release current, string? what = null) =>
        $"This card is out of date: {what ?? $"{current.Id} is now {ReleaseSituation.Describe(current)}"}"
        + (what is null && current.LastChange is { } last ? $" (latest: {last})" : string.Empty)
        + ". Nothing was changed — use the updated card.";

    private static bool TryState(string text, out ReleaseState state) =>
        Enum.TryParse(text, ignoreCase: false, out state) && Enum.IsDefined(state) && !text.All(char.IsDigit);

    private static bool TryIndex(string text, out int index) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out index) && index >= -1;
}

/// <summary>A release button's basis: state, stage and card revision must all still match.</summary>
public sealed record RevisionBasis(long CardRevision, ReleaseState State, int StageIndex) : ClickBasis
{
    public override string Token => string.Create(CultureInfo.InvariantCulture, $"r{CardRevision}.{State}.{StageIndex}");

    public override string? StaleReason(Release current)
    {
        ArgumentNullException.ThrowIfNull(current);
        return current.CardRevision == CardRevision && current.State == State && current.StageIndex == StageIndex ? null : OutOfDate(current);
    }
}

/// <summary>A consult button's basis: the decision must still be open.</summary>
public sealed record DecisionBasis(string DecisionId) : ClickBasis
{
    public override string Token => $"d.{DecisionId}";

    public override string? StaleReason(Release current)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (current.OpenDecisions.Any(d => d.Id == DecisionId))
        {
            return null;
        }

        var ended = current.DecisionHistory.LastOrDefault(d => d.Id == DecisionId);
        var what = ended is null ? $"decision {DecisionId} of {current.Id} is no longer open" : $"decision {DecisionId} ({ended.About}) ended — {ended.Outcome}";
        return OutOfDate(current, $"{what}; {current.Id} is now {ReleaseSituation.Describe(current)}");
    }
}

/// <summary>A checklist button's basis: the item must still be in the state it was shown in, in a phase where it can be settled.</summary>
public sealed record ItemBasis(string ItemId, ChecklistItemState State) : ClickBasis
{
    public override string Token => $"i.{ItemId}.{State}";

    public override string? StaleReason(Release current)
    {
        ArgumentNullException.ThrowIfNull(current);
        var item = current.Checklist.FirstOrDefault(i => string.Equals(i.Id, ItemId, StringComparison.OrdinalIgnoreCase));
        if (item is null)
        {
            return OutOfDate(current, $"{current.Id} has no checklist item '{ItemId}'");
        }

        if (item.State != State)
        {
            return OutOfDate(current, $"{item.Id} is already {item.State.ToString().ToLowerInvariant()}{(item.By is null ? string.Empty : $" by @{item.By}")}");
        }

        var settleable = item.Id == ChecklistCatalog.UserFacingVerified
            ? current.State == ReleaseState.Validating
            : current.State is ReleaseState.Draft or ReleaseState.AwaitingApproval;
        return settleable ? null : OutOfDate(current);
    }
}

/// <summary>Where a release is, in words for replies: "at GA 50 %", "paused at Canary 5 %", "rolled back from Canary 5 %".</summary>
public static class ReleaseSituation
{
    public static string Describe(Release release)
    {
        ArgumentNullException.ThrowIfNull(release);
        var r = release;
        return r.State switch
        {
            ReleaseState.Draft => $"a draft ({r.BlockingItems.Count()} checklist item(s) to settle)",
            ReleaseState.AwaitingApproval => $"awaiting approval ({r.Approvals.Count} of {r.RequiredApprovals})",
            ReleaseState.Staging => "in the staging gate",
            ReleaseState.Validating => "validating at 100 %" + Decisions(r),
            ReleaseState.Operating => "handed over to operations",
            ReleaseState.Completed => "completed",
            ReleaseState.Rejected => $"rejected ({r.Rejection})",
            ReleaseState.Aborted => r.AbortReason is { } why ? $"aborted ({why})" : "aborted",
            ReleaseState.RollingBack => $"rolling back from {r.Rollback?.Stage ?? r.Where}",
            ReleaseState.RolledBack => $"rolled back from {r.Rollback?.Stage ?? r.Where}",
            ReleaseState.Halted => $"halted at {r.Where}",
            ReleaseState.Paused => $"paused at {r.Where}" + Decisions(r),
            _ => $"at {r.Where}" + (r.AwaitingPromotionApproval ? ", its promotion waiting for an approver" : string.Empty) + Decisions(r),
        };
    }

    private static string Decisions(Release r) =>
        (r.Decision is { } d ? $", decision {d.Id} pending about {d.About}" : string.Empty)
        + string.Concat(r.HeldDecisions.Select(h => $", held by @{h.HeldBy} on {h.About}"));
}
