using ShipBot.Core.Commands;

namespace ShipBot.Core.Tests.Commands;

public sealed class TokenCommandTests
{
    [Fact]
    public void Parse_Create_NameLowercasedAndScopesDeduplicated()
    {
        var command = Assert.IsType<TokenCommand>(CommandParser.Parse("/ship token create CI releases:read Releases:Read admin").Command);

        Assert.Equal(TokenAction.Create, command.Action);
        Assert.Equal("ci", command.Name);
        Assert.Equal(["releases:read", "admin"], command.Scopes);
    }

    [Theory]
    [InlineData("token revoke ci", TokenAction.Revoke, "ci")]
    [InlineData("token list", TokenAction.List, null)]
    [InlineData("token ls", TokenAction.List, null)]
    public void Parse_RevokeAndList_Recognised(string text, TokenAction action, string? name)
    {
        var command = Assert.IsType<TokenCommand>(CommandParser.Parse(text).Command);

        Assert.Equal((action, name), (command.Action, command.Name));
    }

    [Fact]
    public void Parse_UnknownScope_NamesTheKnownOnes()
    {
        var result = CommandParser.Parse("token create ci write");

        Assert.False(result.Success);
        Assert.Contains("releases:read, releases:write, admin", result.Error, StringComparison.Ordinal);
        Assert.Equal(CommandParser.UsageOf("token"), result.Usage);
    }
}
