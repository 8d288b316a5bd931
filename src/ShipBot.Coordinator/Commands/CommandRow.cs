using ShipBot.Core.Commands;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.Commands;

/// <summary>
/// One verb of the command table: its declaration (usage and help line, from <see cref="CommandVerbs"/>),
/// the command type the parser makes of it, the roles it needs (none: anyone), what a refusal says
/// the actor cannot do, whether it only reads, and its handler.
/// </summary>
internal sealed record CommandRow(
    CommandVerb Verb,
    Type Command,
    Role[] Roles,
    string Doing,
    bool ReadOnly,
    Func<ShipCommand, CommandContext, CancellationToken, Task<CommandReply>> Handle)
{
    /// <summary>A row for commands of type <typeparamref name="T"/>; <paramref name="doing"/> defaults to the verb ("cannot approve for demo").</summary>
    public static CommandRow For<T>(string verb, Role[] roles, Func<T, CommandContext, CancellationToken, Task<CommandReply>> handle, string? doing = null, bool readOnly = false)
        where T : ShipCommand =>
        new(CommandVerbs.Find(verb) ?? throw new InvalidOperationException($"'{verb}' is not declared in CommandVerbs."), typeof(T), roles, doing ?? verb, readOnly,
            (command, context, ct) => handle((T)command, context, ct));
}
