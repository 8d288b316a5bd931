using System.Globalization;
using System.Text;
using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Commands;
using ShipBot.Coordinator.Freezes;
using ShipBot.Core.Commands;
using ShipBot.Core.Freezes;

namespace ShipBot.Coordinator.Handlers.Queries;

/// <summary><c>/ship freezes</c>: the change-freeze windows in force now and the next ones, and any calendar that cannot be read.</summary>
internal sealed class FreezesQuery(FreezeGate freezes, ReleaseAccess access, TimeProvider time)
{
    public Task<CommandReply> FreezesAsync(FreezesCommand c, CommandContext context, CancellationToken ct)
    {
        if (c.Service is not null && !access.Services.ContainsKey(c.Service))
        {
            throw access.UnknownService(c.Service);
        }

        if (freezes.Calendar is not { } calendar)
        {
            return Task.FromResult(CommandReply.Private("No freeze calendar is configured (ShipBot:Freezes:Calendars, or a service's Freezes:Calendars), so no window freezes anything. `/ship halt all <reason>` stops every service by hand."));
        }

        var now = time.GetUtcNow();
        var windows = calendar.Between(c.Service, now, now + FreezeGate.ListHorizon);
        var active = windows.Where(w => w.Contains(now)).ToList();
        var upcoming = windows.Where(w => w.Start > now).Take(5).ToList();
        var text = new StringBuilder();
        var subject = c.Service ?? "any service";
        if (c.Service is not null && freezes.FreezeOf(c.Service) is { } state)
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

        text.Append(upcoming.Count == 0 ? $"\nNo window in the next {FreezeGate.ListHorizon.TotalDays:0} days." : "\nNext:");
        foreach (var window in upcoming)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n• {window.Name} ({(window.IsGlobal ? "global" : window.Service)}) from {FreezeSchedule.FormatInstant(window.Start, window.TimeZone)} to {FreezeSchedule.FormatInstant(window.End, window.TimeZone)}");
        }

        foreach (var source in calendar.Sources.Where(s => (c.Service is null || s.Service is null || s.Service == c.Service) && (s.IsStale || !s.IsLoaded)))
        {
            text.Append("\n⚠️ ").Append(source.Describe());
        }

        text.Append("\nInside a window, `start` is refused and rollouts hold at their stage (rollbacks are never blocked); on-call or an admin may take a hotfix through with `--bypass-freeze \"<why>\"`.");
        return Task.FromResult(CommandReply.Public(text.ToString()));
    }
}
