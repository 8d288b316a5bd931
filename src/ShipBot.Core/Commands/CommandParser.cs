using System.Globalization;
using System.Text;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;

namespace ShipBot.Core.Commands;

/// <summary>A parse: the command, or a short error with the usage line to show instead.</summary>
public sealed record ParseResult(ShipCommand? Command, string? Error, string? Usage)
{
    public bool Success => Command is not null;

    public static ParseResult Ok(ShipCommand command) => new(command, null, null);

    public static ParseResult Fail(string error, string usage) => new(null, error, usage);
}

/// <summary>
/// The one parser of <c>/ship</c> commands for every channel. Accepts the text with or
/// without a leading <c>/ship</c> or <c>ship</c>; double quotes group words. Never throws.
/// </summary>
public static class CommandParser
{
    /// <summary>Every verb with its usage line, in the order <c>help</c> shows them (declared once, in <see cref="CommandVerbs"/>).</summary>
    public static IReadOnlyList<(string Verb, string Usage, string What)> Verbs { get; } =
        [.. CommandVerbs.All.Select(v => (v.Verb, v.Usage, v.What))];

    public static string UsageOf(string verb) =>
        "/ship " + (Verbs.FirstOrDefault(v => v.Verb == verb).Usage ?? "help");

    public static ParseResult Parse(string? text)
    {
        try
        {
            return ParseCore(text ?? string.Empty);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException or InvalidOperationException)
        {
            // The parser is written not to throw; this keeps a future slip from reaching a user as a stack trace.
            return Fail("I could not read that command.", "help");
        }
    }

    private static ParseResult ParseCore(string text)
    {
        var tokens = Tokenize(text);
        if (tokens.Count > 0 && (tokens[0].Equals("/ship", StringComparison.OrdinalIgnoreCase) || tokens[0].Equals("ship", StringComparison.OrdinalIgnoreCase)))
        {
            tokens.RemoveAt(0);
        }

        if (tokens.Count == 0)
        {
            return ParseResult.Ok(new HelpCommand(null));
        }

        var verb = tokens[0].ToLowerInvariant();
        var args = tokens.Skip(1).ToList();
        return verb switch
        {
            "start" => ParseStart(args),
            "hotfix" => ParseHotfix(args),
            "status" => ParseStatus(args),
            "list" or "ls" => args.Count == 0 ? ParseResult.Ok(new ListCommand()) : Fail("list takes no arguments.", "list"),
            "approve" => One(args, "approve", r => new ApproveCommand(r)),
            "reject" => WithReason(args, "reject", (r, why) => new RejectCommand(r, why)),
            "check" => ParseCheck(args),
            "waive" => args.Count >= 3 ? ParseResult.Ok(new WaiveCommand(args[0], args[1], string.Join(' ', args.Skip(2)))) : Fail("Name the release, the item and a reason.", "waive"),
            "promote" => args.Count >= 1
                ? ParseResult.Ok(new PromoteCommand(args[0], args.Count > 1 ? string.Join(' ', args.Skip(1)) : null))
                : Fail("Name the release, for example demo@1.0.0.", "promote"),
            "pause" => One(args, "pause", r => new PauseCommand(r)),
            "resume" => One(args, "resume", r => new ResumeCommand(r)),
            "rollback" or "roll-back" => WithReason(args, "rollback", (r, why) => new RollbackCommand(r, why)),
            "abort" => WithReason(args, "abort", (r, why) => new AbortCommand(r, why)),
            "decide" => ParseDecide(args),
            "halt" => ParseHalt(args),
            "unhalt" => ParseUnhalt(args),
            "contract" => One(args, "contract", r => new ContractCommand(r)),
            "notes" => One(args, "notes", r => new NotesCommand(r)),
            "outcome" => One(args, "outcome", r => new OutcomeCommand(r)),
            "flag-removed" => args.Count == 2 ? ParseResult.Ok(new FlagRemovedCommand(args[0], args[1])) : Fail("Name the release and the flag.", "flag-removed"),
            "signal" => ParseSignal(args),
            "signals" => args.Count == 0 ? ParseResult.Ok(new SignalsCommand()) : Fail("signals takes no arguments.", "signals"),
            "freezes" or "freeze" => ParseFreezes(args),
            "stats" => ParseStats(args),
            "simulate" => ParseSimulate(args),
            "token" => TokenCommand.Parse(args),
            "help" or "?" => ParseResult.Ok(new HelpCommand(args.FirstOrDefault()?.ToLowerInvariant())),
            _ => Fail($"I don't know the verb '{Shorten(tokens[0])}'.", "help"),
        };
    }

    private static ParseResult ParseStart(List<string> args)
    {
        if (args.Count < 2)
        {
            return Fail("Name the service and the version.", "start");
        }

        if (!ReleaseId.IsValidService(args[0].ToLowerInvariant()))
        {
            return Fail($"'{Shorten(args[0])}' is not a service name (letters, digits, '.', '-', '_').", "start");
        }

        if (!ReleaseId.IsValidVersion(args[1]))
        {
            return Fail($"'{Shorten(args[1])}' is not a version (for example 1.4.2).", "start");
        }

        var notes = TakeNotes(args);
        if (notes is { Length: 0 })
        {
            return Fail("--notes needs the customer-facing text.", "start");
        }

        var changes = new List<string>();
        var flags = new List<string>();
        string? commit = null;
        var outcomes = new List<string>();
        for (var i = 2; i < args.Count; i++)
        {
            if (args[i] is "--outcome")
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    return Fail("--outcome needs the name of a configured outcome target (in quotes when it has spaces).", "start");
                }

                outcomes.Add(args[++i].Trim());
            }
            else if (args[i] is "--commit")
            {
                if (i + 1 >= args.Count || !ReleaseProvenance.IsCommit(args[i + 1]))
                {
                    return Fail("--commit needs the commit SHA (7 to 64 hexadecimal digits).", "start");
                }

                commit = args[++i].ToLowerInvariant();
            }
            else if (args[i] is "--flag" or "-f")
            {
                if (i + 1 >= args.Count)
                {
                    return Fail("--flag needs a flag name.", "start");
                }

                flags.Add(args[++i]);
            }
            else
            {
                changes.Add(args[i]);
            }
        }

        var changeText = string.Join(' ', changes);
        var changeList = changeText.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        return ParseResult.Ok(new StartCommand(args[0].ToLowerInvariant(), args[1], changeList, flags)
        {
            Notes = notes,
            Provenance = commit is null ? null : new ReleaseProvenance(commit, [], null),
            Outcomes = outcomes,
        });
    }

    private static ParseResult ParseHotfix(List<string> args)
    {
        // Taken out first, so "--notes" (which takes the rest of the line) never swallows it.
        var bypassAt = args.FindIndex(a => a is "--bypass-freeze");
        string? bypass = null;
        if (bypassAt >= 0)
        {
            bypass = bypassAt + 1 < args.Count && !args[bypassAt + 1].StartsWith("--", StringComparison.Ordinal) ? args[bypassAt + 1].Trim() : string.Empty;
            if (bypass.Length == 0)
            {
                return Fail("--bypass-freeze needs the reason in quotes, for example --bypass-freeze \"payments down, cannot wait\".", "hotfix");
            }

            args.RemoveRange(bypassAt, 2);
        }

        var notes = TakeNotes(args);
        if (notes is { Length: 0 })
        {
            return Fail("--notes needs the customer-facing text.", "hotfix");
        }

        if (args.Count < 4)
        {
            return Fail("A hotfix needs the service, the version, p0 or p1, and a reason.", "hotfix");
        }

        if (!ReleaseId.IsValidService(args[0].ToLowerInvariant()) || !ReleaseId.IsValidVersion(args[1]))
        {
            return Fail("That is not a service and a version.", "hotfix");
        }

        var priority = args[2].ToLowerInvariant() switch
        {
            "p0" => ReleaseKind.HotfixP0,
            "p1" => ReleaseKind.HotfixP1,
            _ => ReleaseKind.Standard,
        };
        if (priority == ReleaseKind.Standard)
        {
            return Fail($"The priority must be p0 (service down) or p1 (customer-impacting), not '{Shorten(args[2])}'.", "hotfix");
        }

        return ParseResult.Ok(new HotfixCommand(args[0].ToLowerInvariant(), args[1], priority, string.Join(' ', args.Skip(3))) { Notes = notes, BypassFreeze = bypass });
    }

    private static ParseResult ParseFreezes(List<string> args)
    {
        if (args.Count == 0)
        {
            return ParseResult.Ok(new FreezesCommand(null));
        }

        return args.Count == 1 && ReleaseId.IsValidService(args[0].ToLowerInvariant())
            ? ParseResult.Ok(new FreezesCommand(args[0].ToLowerInvariant()))
            : Fail("freezes takes at most one service name.", "freezes");
    }

    private static ParseResult ParseStats(List<string> args)
    {
        var days = StatsCommand.DefaultDays;
        var at = args.FindIndex(a => a is "--days" or "-d");
        if (at >= 0)
        {
            if (at + 1 >= args.Count || !int.TryParse(args[at + 1], NumberStyles.None, CultureInfo.InvariantCulture, out days) || days is < 1 or > StatsCommand.MaxDays)
            {
                return Fail($"--days needs a whole number of days from 1 to {StatsCommand.MaxDays}.", "stats");
            }

            args.RemoveRange(at, 2);
        }

        if (args.Count == 0)
        {
            return ParseResult.Ok(new StatsCommand(null, days));
        }

        return args.Count == 1 && ReleaseId.IsValidService(args[0].ToLowerInvariant())
            ? ParseResult.Ok(new StatsCommand(args[0].ToLowerInvariant(), days))
            : Fail("stats takes at most one service name, then --days N.", "stats");
    }

    /// <summary>Removes "--notes …" (everything after it) from <paramref name="args"/>; null when absent, empty when nothing follows it.</summary>
    private static string? TakeNotes(List<string> args)
    {
        var at = args.FindIndex(a => a is "--notes" or "-n");
        if (at < 0)
        {
            return null;
        }

        var notes = string.Join(' ', args.Skip(at + 1)).Trim();
        args.RemoveRange(at, args.Count - at);
        return notes;
    }

    private static ParseResult ParseCheck(List<string> args)
    {
        // "check demo@1.0.0 qa, env,db" — commas separate items as well as spaces.
        var items = args.Skip(1).SelectMany(a => a.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        return args.Count >= 1 && items.Count > 0
            ? ParseResult.Ok(new CheckCommand(args[0], items))
            : Fail("Name the release and at least one item.", "check");
    }

    private static ParseResult ParseStatus(List<string> args)
    {
        var audit = args.RemoveAll(a => a is "--audit" or "-a") > 0;
        return args.Count switch
        {
            0 => audit ? Fail("--audit needs a release.", "status") : ParseResult.Ok(new ListCommand()),
            1 => ParseResult.Ok(new StatusCommand(args[0], audit)),
            _ => Fail("status takes one release.", "status"),
        };
    }

    private static ParseResult ParseDecide(List<string> args)
    {
        if (args.Count is < 2 or > 3)
        {
            return Fail("Name the release and rollback, hold or continue.", "decide");
        }

        DecisionChoice? choice = args[1].ToLowerInvariant() switch
        {
            "rollback" or "roll-back" => DecisionChoice.Rollback,
            "hold" => DecisionChoice.Hold,
            "continue" => DecisionChoice.Continue,
            _ => null,
        };
        return choice is { } c ? ParseResult.Ok(new DecideCommand(args[0], c, args.Count == 3 ? args[2] : null)) : Fail($"'{Shorten(args[1])}' is not rollback, hold or continue.", "decide");
    }

    private static ParseResult ParseHalt(List<string> args)
    {
        if (args.Count == 0)
        {
            return Fail("Name the service (or all, for a change freeze of every service) and a reason.", "halt");
        }

        // A change freeze is never implied: only "halt all" (or "*", "--all") stops every service.
        if (args[0] is "*" or "all" or "--all")
        {
            return args.Count > 1
                ? ParseResult.Ok(new HaltCommand(null, string.Join(' ', args.Skip(1))))
                : Fail("A change freeze needs a reason.", "halt");
        }

        if (!ReleaseId.IsValidService(args[0].ToLowerInvariant()))
        {
            return Fail($"'{Shorten(args[0])}' is not a service name. Name the service, or all for a change freeze.", "halt");
        }

        // The reason may be empty here: the coordinator first says whether the service exists.
        return ParseResult.Ok(new HaltCommand(args[0].ToLowerInvariant(), string.Join(' ', args.Skip(1))));
    }

    private static ParseResult ParseUnhalt(List<string> args)
    {
        if (args.Count == 0)
        {
            return Fail("Name the service (or all) and a reason.", "unhalt");
        }

        var service = args[0] is "*" or "all" or "--all" ? null : args[0].ToLowerInvariant();
        if (service is not null && !ReleaseId.IsValidService(service))
        {
            return Fail($"'{Shorten(args[0])}' is not a service name.", "unhalt");
        }

        var reason = string.Join(' ', args.Skip(1));
        return service is null && reason.Length == 0
            ? Fail("Lifting a change freeze needs a reason.", "unhalt")
            : ParseResult.Ok(new UnhaltCommand(service, reason));
    }

    private static ParseResult ParseSignal(List<string> args)
    {
        // Enum.TryParse would also accept "1" or "customer,friction" (flags syntax); only a plain name is a kind.
        if (args.Count < 2 || !args[0].All(char.IsLetter) || !Enum.TryParse<SignalKind>(args[0], ignoreCase: true, out var kind))
        {
            return Fail("Name the kind (performance, customer, friction, unexpected, incident) and the text.", "signal");
        }

        string? release = null;
        var rest = args.Skip(1).ToList();
        if (rest.Count >= 2 && ReleaseId.TryParse(rest[0], out _))
        {
            release = rest[0];
            rest.RemoveAt(0);
        }

        return ParseResult.Ok(new SignalCommand(kind, release, string.Join(' ', rest)));
    }

    private static ParseResult ParseSimulate(List<string> args)
    {
        if (args.Count == 2 && args[1].Equals("reset", StringComparison.OrdinalIgnoreCase))
        {
            return ParseResult.Ok(new SimulateCommand(args[0].ToLowerInvariant(), "reset", null));
        }

        if (args.Count == 4 && args[1].Equals("outcome", StringComparison.OrdinalIgnoreCase) && ReleaseId.IsValidService(args[0].ToLowerInvariant()))
        {
            // An outcome target's value is taken as written: its unit is the target's, so "%" is only shown, never a ratio.
            return double.TryParse(args[3].TrimEnd('%').Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var measured) && double.IsFinite(measured)
                ? ParseResult.Ok(new SimulateCommand(args[0].ToLowerInvariant(), Outcomes.OutcomeTarget.BaselineKeyOf(args[2].Trim().ToLowerInvariant()), measured))
                : Fail($"'{Shorten(args[3])}' is not a number.", "simulate");
        }

        if (args.Count != 3 || !ReleaseId.IsValidService(args[0].ToLowerInvariant()))
        {
            return Fail("Name the service, the metric and a value.", "simulate");
        }

        if (!double.TryParse(args[2].TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            return Fail($"'{Shorten(args[2])}' is not a number.", "simulate");
        }

        if (args[2].EndsWith('%'))
        {
            value /= 100;
        }

        return ParseResult.Ok(new SimulateCommand(args[0].ToLowerInvariant(), args[1].ToLowerInvariant(), value));
    }

    private static ParseResult One(List<string> args, string verb, Func<string, ShipCommand> make) =>
        args.Count == 1 ? ParseResult.Ok(make(args[0])) : Fail(args.Count == 0 ? "Name the release, for example demo@1.0.0." : $"{verb} takes one release.", verb);

    private static ParseResult WithReason(List<string> args, string verb, Func<string, string, ShipCommand> make) =>
        args.Count >= 2 ? ParseResult.Ok(make(args[0], string.Join(' ', args.Skip(1)))) : Fail("Name the release and give a reason.", verb);

    private static ParseResult Fail(string error, string verb) => ParseResult.Fail(error, UsageOf(verb));

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";

    /// <summary>Splits on whitespace; "double quotes" group words; smart quotes from chat clients count as quotes.</summary>
    internal static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        var hasToken = false;
        foreach (var ch in text)
        {
            if (ch is '"' or '“' or '”')
            {
                quoted = !quoted;
                hasToken = true;
                continue;
            }

            if (!quoted && char.IsWhiteSpace(ch))
            {
                if (hasToken)
                {
                    tokens.Add(current.ToString());
                    current.Clear();
                    hasToken = false;
                }

                continue;
            }

            if (char.IsControl(ch))
            {
                continue;
            }

            current.Append(ch);
            hasToken = true;
        }

        if (hasToken)
        {
            tokens.Add(current.ToString());
        }

        return tokens;
    }
}
