using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Chat;
using ShipBot.Coordinator.Freezes;
using ShipBot.Coordinator.Handlers.Approval;
using ShipBot.Coordinator.Routers;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.Flagger;

/// <summary>
/// ShipBot as Flagger's gate. A Flagger canary mapped to a service becomes a ShipBot release on its
/// first <c>confirm-rollout</c> (requested by the Flagger principal, approved by people as usual), and
/// every gate answers from ShipBot's rules: approved, not halted (a change freeze is a halt), not
/// paused, and — before a weight increase or the promotion — the current stage approved when it
/// needs approval. <c>rollback</c> is allowed once the release rolls back (on-call's rollback or an
/// alert's). The gate never moves traffic itself: Flagger does, and its phase, weight and failed
/// checks (from the webhook's metadata) are shown on the card.
/// </summary>
internal sealed partial class FlaggerGatekeeper(
    CoordinatorSettings settings,
    ReleaseAccess access,
    IReleaseStore store,
    StartHandler starter,
    ReleaseLookup lookup,
    FreezeGate freezes,
    RouterStatusBoard routers,
    CardPublisher cards,
    TimeProvider time)
{
    /// <summary>Metadata key whose value, when set and a valid version, names the release's version instead of the checksum.</summary>
    public const string VersionKey = "version";

    /// <summary>Who requests a release that Flagger's confirm-rollout started (never a chat user: the instance is private).</summary>
    private static readonly Actor Principal = new("flagger", "Flagger", []);

    /// <summary>The last answer per release and gate, so only a changed answer is audited (Flagger asks every analysis interval).</summary>
    private readonly ConcurrentDictionary<(ReleaseId, FlaggerGate), string> _answers = new();

    /// <summary>
    /// Answers one call of a Flagger webhook. Never throws for a refused rule: the answer says why.
    /// A canary that is not mapped to a service is refused (so Flagger waits), naming the mapping key.
    /// </summary>
    public async Task<FlaggerAnswer> OnFlaggerHookAsync(FlaggerHook hook, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hook);
        var canary = settings.FlaggerCanaries.FirstOrDefault(c =>
            string.Equals(c.Namespace, hook.Namespace, StringComparison.Ordinal) && string.Equals(c.Canary, hook.Name, StringComparison.Ordinal));
        if (canary is null || !access.Services.TryGetValue(canary.Service, out var policy))
        {
            return new FlaggerAnswer(false, $"canary {hook.Namespace}/{hook.Name} is not mapped to a ShipBot service (ShipBot:Services:<name>:Flagger:Namespace and :Canary)");
        }

        if (FlaggerVersion(hook) is not { } version)
        {
            return new FlaggerAnswer(false, $"no version: the payload has no valid checksum nor metadata '{VersionKey}'");
        }

        var id = new ReleaseId(policy.Name, version);
        var release = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (release is null && hook.Gate == FlaggerGate.ConfirmRollout)
        {
            var conversation = new Conversation(FlaggerPlatform(canary), policy.Channel);
            var reply = await starter.StartAsync(Principal, conversation, policy.Name, version, Core.Plans.ReleaseKind.Standard, null,
                [$"Flagger canary {hook.Namespace}/{hook.Name} revision {hook.Checksum ?? version}"], [], null, null, null, cancellationToken).ConfigureAwait(false);
            release = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (release is null)
            {
                // Halted, or another release of the service is active: StartAsync said why.
                return new FlaggerAnswer(false, reply.Text);
            }
        }

        if (release is null)
        {
            return new FlaggerAnswer(false, $"no ShipBot release {id} yet: the canary's confirm-rollout gate creates it");
        }

        var answer = await JudgeFlaggerGateAsync(hook.Gate, release, cancellationToken).ConfigureAwait(false);
        await RecordFlaggerCallAsync(hook, release, answer, cancellationToken).ConfigureAwait(false);
        return answer with { Release = release.Id };
    }

    private async Task<FlaggerAnswer> JudgeFlaggerGateAsync(FlaggerGate gate, Release release, CancellationToken ct)
    {
        var id = release.Id;
        if (gate == FlaggerGate.Rollback)
        {
            return release.Rollback is not null || release.State is ReleaseState.RollingBack or ReleaseState.RolledBack
                ? new FlaggerAnswer(true, $"{id} is rolled back by ShipBot: {release.Rollback?.Reason ?? release.State.Display()}")
                : new FlaggerAnswer(false, $"no rollback: {id} is {ReleaseSituation.Describe(release)}");
        }

        if (release.State is ReleaseState.Draft or ReleaseState.AwaitingApproval)
        {
            var blocking = release.BlockingItems.Select(i => i.Id).ToList();
            return new FlaggerAnswer(false, blocking.Count > 0
                ? $"{id} is not approved: checklist open ({string.Join(", ", blocking)})"
                : $"{id} is not approved: waiting for an approver");
        }

        if (release.State is ReleaseState.Rejected or ReleaseState.Aborted or ReleaseState.RollingBack or ReleaseState.RolledBack)
        {
            return new FlaggerAnswer(false, $"{id} is {release.State.Display()}: it will not progress");
        }

        if (await lookup.HaltOfAsync(id.Service, ct).ConfigureAwait(false) is { } halt)
        {
            return new FlaggerAnswer(false, $"{id.Service} is halted{(halt.IsFreeze ? " (change freeze)" : string.Empty)}: {halt.Reason}");
        }

        if (release.State == ReleaseState.Halted)
        {
            return new FlaggerAnswer(false, $"{id} is halted: {release.HaltReason}");
        }

        // A calendar freeze holds Flagger's traffic exactly as it holds ShipBot's own promotions (a bypassing hotfix goes on).
        if (gate != FlaggerGate.ConfirmRollout && freezes.FreezeHolding(release) is { } freeze)
        {
            return new FlaggerAnswer(false, $"{id}: {freeze.Explain()}");
        }

        if (release.State == ReleaseState.Paused)
        {
            return new FlaggerAnswer(false, $"{id} is paused in ShipBot");
        }

        if (gate != FlaggerGate.ConfirmRollout && release.AwaitingPromotionApproval)
        {
            return new FlaggerAnswer(false, $"{id}: the next stage waits for an approver");
        }

        return new FlaggerAnswer(true, $"{id} is approved ({ReleaseSituation.Describe(release)})");
    }

    /// <summary>Flagger's phase, weight and failed checks on the card; a changed answer in the audit trail.</summary>
    private async Task RecordFlaggerCallAsync(FlaggerHook hook, Release release, FlaggerAnswer answer, CancellationToken ct)
    {
        var facts = new List<TargetFact>();
        if (!string.IsNullOrEmpty(hook.Phase))
        {
            facts.Add(new TargetFact("phase", hook.Phase));
        }

        if (Meta(hook, "weight", "canaryWeight") is { } weight)
        {
            facts.Add(new TargetFact("weight", weight.EndsWith('%') ? weight : $"{weight} %"));
        }

        if (Meta(hook, "failedChecks", "failed-checks") is { } failed)
        {
            facts.Add(new TargetFact("failed checks", failed));
        }

        if (!string.IsNullOrEmpty(hook.Checksum))
        {
            facts.Add(new TargetFact("checksum", hook.Checksum));
        }

        facts.Add(new TargetFact($"gate {hook.Gate.Name()}", $"{(answer.Allowed ? "allowed" : "not yet")}: {answer.Reason}"));

        // Keep the other gates' last answers on the card: together they say where Flagger waits.
        var previous = routers.Of(release.Id);
        if (previous is { Router: "Flagger" })
        {
            facts.AddRange(previous.Facts.Where(f => f.Label.StartsWith("gate ", StringComparison.Ordinal) && f.Label != $"gate {hook.Gate.Name()}"));
        }

        var status = new TargetStatus("Flagger", $"{hook.Namespace}/{hook.Name}", facts, time.GetUtcNow());
        routers.Remember(release.Id, status);

        var said = $"{answer.Allowed}:{answer.Reason}";
        var changedAnswer = !_answers.TryGetValue((release.Id, hook.Gate), out var before) || before != said;
        _answers[(release.Id, hook.Gate)] = said;
        if (changedAnswer)
        {
            await store.AppendAuditAsync(release.Id, new AuditEntry(time.GetUtcNow(), Principal.Id, $"flagger {hook.Gate.Name()}",
                $"{(answer.Allowed ? "allowed" : "refused")}: {answer.Reason} (phase {hook.Phase ?? "?"})"), ct).ConfigureAwait(false);
        }

        if (changedAnswer || previous is null || !previous.Facts.Where(f => !f.Label.StartsWith("gate ", StringComparison.Ordinal))
                .SequenceEqual(facts.Where(f => !f.Label.StartsWith("gate ", StringComparison.Ordinal))))
        {
            await cards.PublishCardAsync(release, ct).ConfigureAwait(false);
        }
    }

    private static string? Meta(FlaggerHook hook, params string[] keys) =>
        keys.Select(k => hook.Metadata.TryGetValue(k, out var v) ? v : null).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));

    /// <summary>The release's version: metadata <c>version</c> when it is a valid version, else the checksum.</summary>
    private static string? FlaggerVersion(FlaggerHook hook)
    {
        if (hook.Metadata.TryGetValue(VersionKey, out var v) && ReleaseId.IsValidVersion(v))
        {
            return v;
        }

        var checksum = hook.Checksum is null ? null : InvalidVersionChars().Replace(hook.Checksum, "-").Trim('-');
        return ReleaseId.IsValidVersion(checksum) ? checksum!.ToLower(CultureInfo.InvariantCulture) : null;
    }

    private string FlaggerPlatform(FlaggerCanary canary) =>
        canary.Platform ?? new[] { "slack", "teams", "console" }.FirstOrDefault(cards.HasPlatform) ?? cards.Platforms.FirstOrDefault() ?? "console";

    [GeneratedRegex("[^A-Za-z0-9.+_-]+", RegexOptions.CultureInvariant)]
    private static partial Regex InvalidVersionChars();
}
