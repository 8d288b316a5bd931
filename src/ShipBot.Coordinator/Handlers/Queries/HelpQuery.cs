using System.Text;
using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Commands;
using ShipBot.Core.Checklists;
using ShipBot.Core.Commands;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;

namespace ShipBot.Coordinator.Handlers.Queries;

/// <summary><c>/ship help [verb]</c>: every verb with its usage (from <see cref="CommandVerbs"/>), or one verb with what its arguments can be.</summary>
internal sealed class HelpQuery(ReleaseAccess access, IHealthSimulator? simulator)
{
    public Task<CommandReply> HelpAsync(HelpCommand c, CommandContext context, CancellationToken ct) => Task.FromResult(Help(c.Topic));

    private CommandReply Help(string? topic)
    {
        if (topic is not null)
        {
            var verb = topic.TrimStart('/');
            verb = verb is "ls" ? "list" : verb is "roll-back" ? "rollback" : verb is "?" ? "help" : verb;
            if (CommandVerbs.Find(verb) is not { } v)
            {
                return CommandReply.Private($"I don't know the verb '{(topic.Length <= 40 ? topic : topic[..40] + "…")}'. Verbs: {string.Join(", ", CommandVerbs.All.Select(x => x.Verb))}. `/ship help` shows them all.");
            }

            return CommandReply.Private($"`/ship {v.Usage}` — {v.What}.{Detail(v.Verb)}");
        }

        var text = new StringBuilder("ShipBot — governed, progressive releases from chat. A release is named service@version.\n");
        foreach (var verb in CommandVerbs.All.Where(x => x.Verb != "simulate" || simulator is not null))
        {
            text.Append("• `/ship ").Append(verb.Usage).Append("` — ").Append(verb.What).Append('\n');
        }

        text.Append("Services: ").Append(string.Join(", ", access.Services.Keys)).Append(". `/ship help <verb>` explains one verb.");
        return CommandReply.Private(text.ToString());
    }

    /// <summary>What one verb's arguments can be, for <c>help &lt;verb&gt;</c>.</summary>
    private string Detail(string verb)
    {
        var services = string.Join(", ", access.Services.Keys);
        var items = ChecklistCatalog.For(ReleaseKind.Standard).Where(i => i.SettledBy == ItemSettledBy.Human).ToList();
        return verb switch
        {
            "check" => $"\nItems: {string.Join(", ", items.Where(i => i.Id != ChecklistCatalog.UserFacingVerified).Select(i => $"`{i.Id}` ({i.Label})"))}; " +
                $"`{ChecklistCatalog.UserFacingVerified}` ({ChecklistCatalog.UserFacingVerification.Label}) during validation. ShipBot ticks `{ChecklistCatalog.Approved}` and `{ChecklistCatalog.OnCallNotified}` itself.",
            "waive" => $"\nWaivable by an approver who is not the requester, with a reason. Never waivable: {string.Join(", ", ChecklistCatalog.FloorIds.Order(StringComparer.Ordinal).Select(i => $"`{i}`"))} (the production floor); on a hotfix also its security items.",
            "halt" => $"\n`/ship halt <service> <reason>` stops one service's releases and promotions; `/ship halt all <reason>` is a change freeze of every service. Services: {services}.",
            "unhalt" => $"\n`/ship unhalt <service> <reason>` or `/ship unhalt all <reason>`. Services: {services}.",
            "start" or "hotfix" or "simulate" => $"\nServices: {services}.",
            "decide" => "\nRoll back now; hold here (no promotion and no automatic rollback for that breach until on-call continues or rolls back); continue (promote past it). The buttons on a decision card name their decision.",
            "promote" => "\nAn approver who is not the requester; the early promotion and its reason are recorded.",
            _ => string.Empty,
        };
    }
}
