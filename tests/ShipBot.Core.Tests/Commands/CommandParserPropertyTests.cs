using CsCheck;
using ShipBot.Core.Commands;

namespace ShipBot.Core.Tests.Commands;

/// <summary>The parser never throws and always answers with a command or an error plus usage.</summary>
public sealed class CommandParserPropertyTests
{
    private const long Iterations = 10_000;

    private static readonly HashSet<string> KnownVerbs = CommandParser.Verbs.Select(v => v.Verb).ToHashSet(StringComparer.Ordinal);

    private static readonly string[] Prefixes = [string.Empty, "/ship ", "ship ", "/SHIP ", "  "];

    private static readonly string[] InterestingTokens =
    [
        "checkout@1.4.2", "checkout", "Check!out", "1.4.2", "@", "a@", "@b", "a@b@c", "p0", "P1", "p2",
        "--flag", "-f", "--audit", "-a", "all", "*", "--all", "rollback", "roll-back", "hold", "continue", "reset",
        "4.8%", "%", "NaN", "-Infinity", "1e308", "1e309", "-0", "0x10", "performance", "incident", "customer,friction",
        "1", "99999999999999999999", "\"", "“", "”", "\"\"", ",", ",,", ";", "; ;", "https,", "\t", "\u0000", "\u200b",
        "ǅ", "İ", "ß", "😀", "\ud800", new string('x', 300),
    ];

    /// <summary>Verbs, aliases and near-misses, in any case.</summary>
    private static readonly Gen<string> Verb = Gen.OneOf<string>(
        Gen.OneOf(KnownVerbs.Concat(["ls", "?", "roll-back", "deploy", "APPROVE", "Start", "help"]).ToArray()),
        Gen.String[0, 12]);

    private static readonly Gen<string> Token = Gen.Frequency<string>(
        (4, Gen.OneOf(InterestingTokens)),
        (2, Gen.String[0, 16]),
        (2, Gen.Char.AlphaNumeric.Array[1, 10].Select(chars => new string(chars))));

    private static readonly Gen<string> CommandLike = Gen.Select(
        Gen.OneOf(Prefixes),
        Verb,
        Token.Array[0, 7],
        Gen.OneOf(" ", "  ", "\t", " \n "),
        (prefix, verb, tokens, separator) => prefix + string.Join(separator, [verb, .. tokens]));

    private static void AssertCommandOrUsage(string? text)
    {
        var result = CommandParser.Parse(text);

        if (result.Success)
        {
            Assert.NotNull(result.Command);
            Assert.Null(result.Error);
            Assert.Null(result.Usage);
            Assert.Contains(result.Command.Verb, KnownVerbs);
        }
        else
        {
            Assert.Null(result.Command);
            Assert.False(string.IsNullOrWhiteSpace(result.Error));
            Assert.NotNull(result.Usage);
            Assert.StartsWith("/ship ", result.Usage, StringComparison.Ordinal);
            Assert.Contains(CommandParser.Verbs, v => result.Usage == CommandParser.UsageOf(v.Verb));
        }
    }

    [Fact]
    public void Parse_AnyString_NeverThrowsAndReturnsCommandOrUsage()
    {
        Gen.String.Sample(AssertCommandOrUsage, iter: Iterations);
    }

    [Fact]
    public void Parse_AnyCharactersIncludingControlAndSurrogates_NeverThrows()
    {
        Gen.Char.Array[0, 64].Select(chars => new string(chars)).Sample(AssertCommandOrUsage, iter: Iterations);
    }

    [Fact]
    public void Parse_VerbsWithRandomTokens_NeverThrowsAndReturnsCommandOrUsage()
    {
        CommandLike.Sample(AssertCommandOrUsage, iter: Iterations);
    }

    [Fact]
    public void Parse_KnownVerbWithRandomTokens_FailureShowsThatVerbsUsage()
    {
        var gen = Gen.Select(Gen.OneOf(KnownVerbs.Where(v => v != "help").ToArray()), Token.Array[0, 6]);

        gen.Sample((verb, tokens) =>
        {
            var result = CommandParser.Parse(string.Join(' ', [verb, .. tokens]));
            if (!result.Success)
            {
                Assert.Equal(CommandParser.UsageOf(verb), result.Usage);
            }
        }, iter: Iterations);
    }

    [Fact]
    public void Parse_PrefixOptional_SameResultWithOrWithoutShip()
    {
        Gen.Select(Verb, Token.Array[0, 5]).Sample((verb, tokens) =>
        {
            var bare = string.Join(' ', [verb, .. tokens]);
            if (bare.TrimStart().StartsWith("ship", StringComparison.OrdinalIgnoreCase) || bare.TrimStart().StartsWith("/ship", StringComparison.OrdinalIgnoreCase))
            {
                return;
            }

            var plain = CommandParser.Parse(bare);
            var prefixed = CommandParser.Parse("/ship " + bare);
            Assert.Equal(plain.Success, prefixed.Success);
            Assert.Equal(plain.Usage, prefixed.Usage);
            Assert.Equal(plain.Command?.GetType(), prefixed.Command?.GetType());
        }, iter: Iterations);
    }
}
