using ShipBot.Coordinator.Handlers.Approval;
using ShipBot.Coordinator.Handlers.Queries;
using ShipBot.Coordinator.Handlers.Rollout;
using ShipBot.Coordinator.Handlers.Simulation;
using ShipBot.Coordinator.Handlers.StopTheLine;
using ShipBot.Coordinator.Handlers.Tokens;
using ShipBot.Core.Commands;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.Commands;

/// <summary>
/// Every <c>/ship</c> verb, one row each: verb (usage and help line come from <see cref="CommandVerbs"/>),
/// the roles it needs, what a refusal says, and the handler that carries it out. To find what a verb
/// does, find its row here and follow the handler.
/// </summary>
internal sealed class CommandTable
{
    private static readonly Role[] Anyone = [];
    private readonly Dictionary<Type, CommandRow> _byCommand;

    public CommandTable(
        StartHandler start,
        ApprovalHandlers approval,
        RolloutHandlers rollout,
        HaltHandlers halts,
        SignalHandlers signals,
        ReleaseQueries queries,
        FreezesQuery freezes,
        StatsQuery stats,
        HelpQuery help,
        SimulateHandler simulate,
        TokenHandler tokens)
    {
        Rows =
        [
            CommandRow.For<StartCommand>("start", [Role.Requester], start.StartAsync),
            CommandRow.For<HotfixCommand>("hotfix", [Role.Requester, Role.OnCall], start.HotfixAsync),
            CommandRow.For<StatusCommand>("status", Anyone, queries.StatusAsync, readOnly: true),
            CommandRow.For<ListCommand>("list", Anyone, queries.ListAsync, readOnly: true),
            CommandRow.For<ApproveCommand>("approve", [Role.Approver], approval.ApproveAsync),
            CommandRow.For<RejectCommand>("reject", [Role.Approver], approval.RejectAsync),
            CommandRow.For<CheckCommand>("check", [Role.Requester, Role.Approver], approval.CheckAsync, doing: "tick checklist items"),
            CommandRow.For<WaiveCommand>("waive", [Role.Approver], approval.WaiveAsync),
            CommandRow.For<PromoteCommand>("promote", [Role.Approver], rollout.PromoteAsync),
            CommandRow.For<PauseCommand>("pause", [Role.Requester, Role.Approver, Role.OnCall], rollout.PauseAsync),
            CommandRow.For<ResumeCommand>("resume", [Role.Requester, Role.Approver, Role.OnCall], rollout.ResumeAsync),

            // Admins may roll back in an emergency.
            CommandRow.For<RollbackCommand>("rollback", [Role.Requester, Role.Approver, Role.OnCall, Role.Admin], rollout.RollbackAsync, doing: "roll back"),
            CommandRow.For<AbortCommand>("abort", [Role.Requester, Role.Approver], rollout.AbortAsync),

            // Admins may answer a consult in an emergency.
            CommandRow.For<DecideCommand>("decide", [Role.OnCall, Role.Admin], rollout.DecideAsync),
            CommandRow.For<HaltCommand>("halt", [Role.OnCall, Role.Admin], halts.HaltAsync),
            CommandRow.For<UnhaltCommand>("unhalt", [Role.OnCall, Role.Admin], halts.UnhaltAsync),
            CommandRow.For<ContractCommand>("contract", Anyone, queries.ContractAsync, readOnly: true),
            CommandRow.For<NotesCommand>("notes", Anyone, queries.NotesAsync, readOnly: true),
            CommandRow.For<OutcomeCommand>("outcome", Anyone, queries.OutcomeAsync, readOnly: true),
            CommandRow.For<FlagRemovedCommand>("flag-removed", [Role.Requester, Role.Approver], rollout.FlagRemovedAsync, doing: "mark flags removed"),
            CommandRow.For<SignalCommand>("signal", Anyone, signals.SignalAsync),
            CommandRow.For<FreezesCommand>("freezes", Anyone, freezes.FreezesAsync, readOnly: true),
            CommandRow.For<StatsCommand>("stats", Anyone, stats.StatsAsync, readOnly: true),
            CommandRow.For<SignalsCommand>("signals", Anyone, signals.SignalsAsync, readOnly: true),
            CommandRow.For<SimulateCommand>("simulate", Anyone, simulate.SimulateAsync),

            // The token service checks the admin role itself (it is also reached from the host's command line).
            CommandRow.For<TokenCommand>("token", [Role.Admin], tokens.TokensAsync),
            CommandRow.For<HelpCommand>("help", Anyone, help.HelpAsync, readOnly: true),
        ];
        _byCommand = Rows.ToDictionary(r => r.Command);
    }

    /// <summary>The rows, in the order <c>help</c> lists the verbs.</summary>
    public IReadOnlyList<CommandRow> Rows { get; }

    /// <summary>The row of a parsed command, or null for a command no surface may send here.</summary>
    public CommandRow? Find(ShipCommand command) => _byCommand.GetValueOrDefault(command.GetType());
}
