using ShipBot.Core.Commands;

namespace ShipBot.Coordinator.Tests.Commands;

/// <summary>The command table is the one place a verb is wired: every declared verb and every command type has exactly one row.</summary>
public sealed class CommandTableTests
{
    private static IReadOnlyList<Coordinator.Commands.CommandRow> Rows => new CoordinatorHarness().Coordinator.CommandRows;

    [Fact]
    public void Rows_EveryDeclaredVerb_HasOneRowInHelpOrder()
    {
        Assert.Equal(CommandVerbs.All.Select(v => v.Verb), Rows.Select(r => r.Verb.Verb));
    }

    [Fact]
    public void Rows_EveryCommandTheParserMakes_HasOneRow()
    {
        var commands = typeof(ShipCommand).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(ShipCommand)) && !t.IsAbstract).ToHashSet();

        Assert.Equal(commands.OrderBy(t => t.Name), Rows.Select(r => r.Command).OrderBy(t => t.Name));
    }

    [Fact]
    public void Rows_ReadOnlyVerbs_NeedNoRole()
    {
        Assert.All(Rows.Where(r => r.ReadOnly), r => Assert.Empty(r.Roles));
    }
}
