namespace ShipBot.Core.Commands;

/// <summary>One verb of <c>/ship</c>: its name, its usage line and what it does, as <c>help</c> shows them.</summary>
public sealed record CommandVerb(string Verb, string Usage, string What);

/// <summary>
/// The one declaration of the <c>/ship</c> verbs: the parser's usage lines and <c>help</c> come from
/// here, and the application layer's command table adds each verb's roles and handler to it.
/// </summary>
public static class CommandVerbs
{
    /// <summary>Every verb, in the order <c>help</c> shows them.</summary>
    public static IReadOnlyList<CommandVerb> All { get; } =
    [
        new("start", "start <service> <version> [changes; …] [--flag <name>]… [--commit <sha>] [--outcome <target>]… [--notes <customer-facing notes>]", "create a release and post its contract + checklist card"),
        new("hotfix", "hotfix <service> <version> p0|p1 <reason> [--bypass-freeze \"<why it cannot wait>\"] [--notes <customer-facing notes>]", "emergency release on the expedited path (on-call or an admin may take it through a change freeze)"),
        new("status", "status [release] [--audit]", "one release in detail (with its audit trail), or all active ones"),
        new("list", "list", "all active releases"),
        new("approve", "approve <release>", "approve a release contract"),
        new("reject", "reject <release> <reason>", "reject a release contract"),
        new("check", "check <release> <item> [<item>…]", "tick checklist items"),
        new("waive", "waive <release> <item> <reason>", "waive a checklist item (never the production floor)"),
        new("promote", "promote <release> [reason]", "promote now, skipping the rest of the bake time, or approve a promotion that waits for an approver"),
        new("pause", "pause <release>", "stop the promotion clock"),
        new("resume", "resume <release>", "restart the promotion clock"),
        new("rollback", "rollback <release> <reason>", "roll back now"),
        new("abort", "abort <release> <reason>", "abandon a release before production traffic"),
        new("decide", "decide <release> rollback|hold|continue [decision id]", "answer a consult card"),
        new("halt", "halt <service>|all <reason>", "stop the line for a service, or `all` for a change freeze of every service"),
        new("unhalt", "unhalt <service>|all <reason>", "lift a halt or a change freeze"),
        new("contract", "contract <release>", "the release contract as Markdown"),
        new("notes", "notes <release>", "the customer-facing release notes"),
        new("outcome", "outcome <release>", "the latest outcome report"),
        new("flag-removed", "flag-removed <release> <flag>", "mark a feature flag removed from the code"),
        new("signal", "signal performance|customer|friction|unexpected|incident [release] <text>", "record a feedback signal"),
        new("freezes", "freezes [service]", "the change-freeze windows in force now and the next ones"),
        new("stats", "stats [service] [--days N]", "deployment frequency, lead time, change failure rate and time to restore, with a chart"),
        new("signals", "signals", "the open signals (a hotfix's post-incident signal until it is filled in) and the latest ones"),
        new("simulate", "simulate <service> <metric> <value>|outcome <target> <value>|reset", "change the simulated health source"),
        new("token", "token create <name> <scope>… | token revoke <name> | token list", "API tokens for pipelines (admins; the token is shown once, privately)"),
        new("help", "help [verb]", "verbs and usage"),
    ];

    /// <summary>The verb named <paramref name="verb"/>, or null.</summary>
    public static CommandVerb? Find(string verb) => All.FirstOrDefault(v => v.Verb == verb);
}
