using Microsoft.Extensions.Logging;
using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Freezes;
using ShipBot.Coordinator.Routers;
using ShipBot.Core.Cards;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.Chat;

/// <summary>
/// Posts cards to the release's chat platform: the release card (updated in place, with its halt,
/// router, freeze, records and judge-chart lines) and the alerts beside it, each audited. A chat
/// outage never undoes or blocks a committed transition.
/// </summary>
internal sealed partial class CardPublisher(
    IEnumerable<IChatNotifier> notifiers,
    IReleaseStore store,
    ReleaseLookup lookup,
    ReleaseAccess access,
    FreezeGate freezes,
    RouterStatusBoard routers,
    Integrations integrations,
    TimeProvider time,
    ILogger log)
{
    private readonly IReadOnlyDictionary<string, IChatNotifier> _notifiers = notifiers.ToDictionary(n => n.Platform, StringComparer.OrdinalIgnoreCase);

    /// <summary>The configured chat platforms.</summary>
    public IEnumerable<string> Platforms => _notifiers.Keys;

    public bool HasPlatform(string platform) => _notifiers.ContainsKey(platform);

    /// <summary>The release card as it stands: the release, its service's halt and everything the card shows beside them.</summary>
    public async Task<Card> ReleaseCardAsync(Release release, CancellationToken ct)
    {
        var halt = await lookup.HaltOfAsync(release.Id.Service, ct).ConfigureAwait(false);
        return ReleaseCards.Release(release, halt, time.GetUtcNow(), await CardContextAsync(release, ct).ConfigureAwait(false));
    }

    public async Task PublishCardAsync(Release release, CancellationToken ct) =>
        await PublishToAsync(release.Conversation, ReleaseCards.CardKey(release.Id), await ReleaseCardAsync(release, ct).ConfigureAwait(false), null, ct).ConfigureAwait(false);

    /// <summary>Posts <paramref name="card"/> in the release card's thread; every post but the release card's own is audited.</summary>
    public async Task PublishAsync(Release release, string key, Card card, CancellationToken ct)
    {
        await PublishToAsync(release.Conversation, key, card, ReleaseCards.CardKey(release.Id), ct).ConfigureAwait(false);
        if (key != ReleaseCards.CardKey(release.Id))
        {
            // Every alert, decision, outcome and reminder post is audited; the release card's own
            // in-place updates mirror transitions that are audited already.
            await store.AppendAuditAsync(release.Id, new AuditEntry(time.GetUtcNow(), Actor.System.Id, "chat post", $"{card.Title}"), ct).ConfigureAwait(false);
        }
    }

    public async Task PublishToAsync(Conversation conversation, string key, Card card, string? threadKey, CancellationToken ct)
    {
        if (!_notifiers.TryGetValue(conversation.Platform, out var notifier))
        {
            LogNoNotifier(conversation.Platform);
            return;
        }

        try
        {
            await notifier.PublishAsync(conversation, key, card, threadKey, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException or InvalidOperationException)
        {
            // A chat outage must not undo or block a committed transition; the next update carries the state.
            LogChatFailed(conversation.Platform, key, ex.Message);
        }
    }

    private async Task<ReleaseCardContext> CardContextAsync(Release release, CancellationToken ct)
    {
        var approvers = access.Services.TryGetValue(release.Id.Service, out var policy) ? policy.Approvers : [];
        var owes = release.Kind != Core.Plans.ReleaseKind.Standard && await lookup.HasOpenSignalAsync(release.Id, ct).ConfigureAwait(false);
        return new ReleaseCardContext(approvers, owes)
        {
            Router = routers.Of(release.Id),
            Freeze = freezes.FreezeLine(release),
            Records = RecordsLine(),
            JudgeChartUrl = await JudgeChartAsync(release, ct).ConfigureAwait(false),
        };
    }

    /// <summary>The card's line about records, only when writing them fails (a failure never blocks the release).</summary>
    private string? RecordsLine() =>
        integrations.Records?.Current is { Enabled: true, LastError: not null } status ? "⚠️ " + status.Describe().Replace("Records: ", string.Empty, StringComparison.Ordinal) : null;

    /// <summary>The evidence chart of the stage being judged; a chart that cannot be drawn or stored leaves the card with its numbers only.</summary>
    private async Task<string?> JudgeChartAsync(Release release, CancellationToken ct)
    {
        if (integrations.JudgeCharts is not { } charts || release.Judge is not { Looks: > 0 } judge || !release.JudgesCurrentStage(judge) || release.State.IsTerminal())
        {
            return null;
        }

        try
        {
            return await charts.LinkAsync(release.Id, judge, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogChartFailed(release.Id.ToString(), ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the judge's chart of {Release}: {Reason}")]
    private partial void LogChartFailed(string release, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No chat notifier for platform {Platform}")]
    private partial void LogNoNotifier(string platform);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat post {Key} on {Platform} failed: {Reason}")]
    private partial void LogChatFailed(string platform, string key, string reason);
}
