using System.Globalization;
using System.Text;
using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.AfterCare;
using ShipBot.Coordinator.Commands;
using ShipBot.Coordinator.Signals;
using ShipBot.Core.Cards;
using ShipBot.Core.Commands;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Coordinator.Handlers.StopTheLine;

/// <summary>
/// Feedback signals: <c>signal</c> records one (or fills in the open one a hotfix or a missed outcome
/// target left, which may complete the release); <c>signals</c> lists the open and the latest ones.
/// </summary>
internal sealed class SignalHandlers(IReleaseStore store, ReleaseLookup lookup, SignalRelay relay, OutcomeCheckpoints afterCare, TimeProvider time)
{
    public async Task<CommandReply> SignalAsync(SignalCommand c, CommandContext context, CancellationToken ct)
    {
        var actor = context.Actor;
        ReleaseId? releaseId = null;
        if (c.Release is not null)
        {
            releaseId = (await lookup.ResolveAsync(c.Release, ct).ConfigureAwait(false)).Id;
        }

        var now = time.GetUtcNow();
        var signals = await store.ListSignalsAsync(ct).ConfigureAwait(false);
        var open = signals.FirstOrDefault(s => s.Open && s.Kind == c.Kind && releaseId is not null && s.Release == releaseId.ToString());
        var signal = open is not null
            ? open with { Text = c.Text, By = actor.Id, At = now, Open = false }
            : new Signal($"{c.Kind.ToString().ToLowerInvariant()}:{now.ToUnixTimeMilliseconds()}:{actor.Id}", c.Kind, releaseId?.ToString(), c.Text, actor.Id, now);
        if (open is not null)
        {
            await store.UpdateSignalAsync(signal, ct).ConfigureAwait(false);
        }
        else
        {
            await store.AddSignalAsync(signal, ct).ConfigureAwait(false);
        }

        await relay.NotifyAsync(signal, ct).ConfigureAwait(false);

        if (releaseId is { } rid)
        {
            await store.AppendAuditAsync(rid, new AuditEntry(now, actor.Id, "signal", $"{c.Kind}: {c.Text}"), ct).ConfigureAwait(false);
            if (open is not null)
            {
                await afterCare.CompleteIfDoneAsync(rid, ct).ConfigureAwait(false);
            }
        }

        return CommandReply.Public($"📡 {c.Kind} signal recorded by {actor.Mention}{(releaseId is null ? string.Empty : $" for {releaseId}")}: {c.Text}");
    }

    public async Task<CommandReply> SignalsAsync(SignalsCommand c, CommandContext context, CancellationToken ct)
    {
        var signals = await store.ListSignalsAsync(ct).ConfigureAwait(false);
        var open = signals.Where(s => s.Open).ToList();
        var recent = signals.Where(s => !s.Open).OrderByDescending(s => s.At).Take(10).ToList();
        var text = new StringBuilder();
        text.Append(open.Count == 0 ? "📡 No open signals." : $"📡 Open signals ({open.Count}):");
        foreach (var signal in open)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n• {signal.Kind.ToString().ToLowerInvariant()} for {signal.Release ?? "no release"}, opened {ReleaseCards.Clock(signal.At)} — fill it in: `/ship signal {signal.Kind.ToString().ToLowerInvariant()} {signal.Release} <what happened>`");
        }

        if (recent.Count > 0)
        {
            text.Append("\nLatest recorded:");
            foreach (var signal in recent)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n• {ReleaseCards.Clock(signal.At)} {signal.Kind.ToString().ToLowerInvariant()}{(signal.Release is null ? string.Empty : $" ({signal.Release})")} by @{signal.By}: {signal.Text}");
            }
        }

        return CommandReply.Public(text.ToString());
    }
}
