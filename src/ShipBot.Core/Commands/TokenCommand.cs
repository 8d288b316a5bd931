using System.Text.RegularExpressions;
using ShipBot.Core.Ports;

namespace ShipBot.Core.Commands;

public enum TokenAction
{
    Create,
    Revoke,
    List,
}

/// <summary><c>token create &lt;name&gt; &lt;scope&gt;…</c>, <c>token revoke &lt;name&gt;</c>, <c>token list</c>: API tokens, for admins.</summary>
public sealed partial record TokenCommand(TokenAction Action, string? Name, IReadOnlyList<string> Scopes) : ShipCommand
{
    public override string Verb => "token";

    /// <summary>A token name: lowercase letters, digits, '.', '-', '_'; up to 64 characters.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>Parses the words after <c>token</c>.</summary>
    public static ParseResult Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var usage = CommandParser.UsageOf("token");
        if (args.Count == 0)
        {
            return ParseResult.Fail("Say create, revoke or list.", usage);
        }

        switch (args[0].ToLowerInvariant())
        {
            case "list" or "ls":
                return args.Count == 1 ? ParseResult.Ok(new TokenCommand(TokenAction.List, null, [])) : ParseResult.Fail("token list takes no arguments.", usage);
            case "revoke":
                return args.Count == 2 && IsValidName(args[1].ToLowerInvariant())
                    ? ParseResult.Ok(new TokenCommand(TokenAction.Revoke, args[1].ToLowerInvariant(), []))
                    : ParseResult.Fail("Name the one token to revoke.", usage);
            case "create":
                if (args.Count < 3)
                {
                    return ParseResult.Fail($"Name the token and at least one scope ({string.Join(", ", TokenScopes.All)}).", usage);
                }

                var name = args[1].ToLowerInvariant();
                if (!IsValidName(name))
                {
                    return ParseResult.Fail($"'{Shorten(args[1])}' is not a token name (lowercase letters, digits, '.', '-', '_'; up to 64).", usage);
                }

                var scopes = args.Skip(2).Select(s => s.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList();
                if (scopes.FirstOrDefault(s => !TokenScopes.IsKnown(s)) is { } unknown)
                {
                    return ParseResult.Fail($"'{Shorten(unknown)}' is not a scope: use {string.Join(", ", TokenScopes.All)}.", usage);
                }

                return ParseResult.Ok(new TokenCommand(TokenAction.Create, name, scopes));
            default:
                return ParseResult.Fail($"'{Shorten(args[0])}' is not create, revoke or list.", usage);
        }
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();
}
