using ShipBot.Core.Commands;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;

namespace ShipBot.Core.Tests.Commands;

public sealed class CommandParserTests
{
    private const string Rel = "checkout@1.4.2";

    private static ShipCommand ParseOk(string text)
    {
        var result = CommandParser.Parse(text);
        Assert.True(result.Success, $"'{text}' did not parse: {result.Error}");
        Assert.Null(result.Error);
        Assert.Null(result.Usage);
        return result.Command!;
    }

    /// <summary>One valid example per verb: the input and the verb the command must carry.</summary>
    public static TheoryData<string, string> ValidExamples() => new()
    {
        { "start checkout 1.4.2 faster cart", "start" },
        { "hotfix checkout 1.4.3 p0 payments down", "hotfix" },
        { $"status {Rel}", "status" },
        { "list", "list" },
        { $"approve {Rel}", "approve" },
        { $"reject {Rel} missing load test", "reject" },
        { $"check {Rel} https env", "check" },
        { $"waive {Rel} ratelimit internal only", "waive" },
        { $"promote {Rel}", "promote" },
        { $"pause {Rel}", "pause" },
        { $"resume {Rel}", "resume" },
        { $"rollback {Rel} customer reports", "rollback" },
        { $"abort {Rel} wrong build", "abort" },
        { $"decide {Rel} hold", "decide" },
        { "halt checkout database on fire", "halt" },
        { "unhalt checkout fixed by hotfix", "unhalt" },
        { $"contract {Rel}", "contract" },
        { $"notes {Rel}", "notes" },
        { $"outcome {Rel}", "outcome" },
        { $"flag-removed {Rel} new-cart", "flag-removed" },
        { "signal friction approvals take too long", "signal" },
        { "signals", "signals" },
        { "freezes checkout", "freezes" },
        { "stats checkout --days 90", "stats" },
        { "simulate checkout error_rate 4.8%", "simulate" },
        { "token create ci releases:read releases:write", "token" },
        { "help start", "help" },
    };

    /// <summary>Malformed examples: the input and the verb whose usage line must come back.</summary>
    public static TheoryData<string, string> MalformedExamples() => new()
    {
        { "start", "start" },
        { "start checkout", "start" },
        { "start Check!out 1.4.2", "start" },
        { "start checkout not/a/version", "start" },
        { "start checkout 1.4.2 --flag", "start" },
        { "hotfix checkout 1.4.3 p0", "hotfix" },
        { "hotfix checkout 1.4.3 p2 payments down", "hotfix" },
        { "hotfix Check!out 1.4.3 p0 payments down", "hotfix" },
        { "status a@1 b@2", "status" },
        { "status --audit", "status" },
        { "list everything", "list" },
        { "approve", "approve" },
        { $"approve {Rel} {Rel}", "approve" },
        { $"reject {Rel}", "reject" },
        { "reject", "reject" },
        { $"check {Rel}", "check" },
        { $"waive {Rel} ratelimit", "waive" },
        { "promote", "promote" },
        { "pause", "pause" },
        { "resume a@1 b@2", "resume" },
        { $"rollback {Rel}", "rollback" },
        { $"abort {Rel}", "abort" },
        { $"decide {Rel}", "decide" },
        { $"decide {Rel} maybe", "decide" },
        { "halt", "halt" },
        { "halt all", "halt" },
        { "unhalt", "unhalt" },
        { "unhalt all", "unhalt" },
        { "unhalt Check!out fixed", "unhalt" },
        { "halt Check!out broken", "halt" },
        { "signals now", "signals" },
        { "hotfix checkout 1.4.3 p0 payments down --notes", "hotfix" },
        { "contract", "contract" },
        { "notes a@1 b@2", "notes" },
        { "outcome", "outcome" },
        { $"flag-removed {Rel}", "flag-removed" },
        { "signal gossip text", "signal" },
        { "signal customer", "signal" },
        { "signal 1 numbers are not kinds", "signal" },
        { "simulate checkout", "simulate" },
        { "simulate checkout error_rate lots", "simulate" },
        { "simulate checkout error_rate NaN", "simulate" },
        { "simulate checkout error_rate Infinity", "simulate" },
        { "simulate Check!out error_rate 1", "simulate" },
        { "token create ci", "token" },
        { "token create ci releases:delete", "token" },
        { "token create C!I admin", "token" },
        { "freezes checkout payments", "freezes" },
        { "stats checkout --days 0", "stats" },
        { "stats checkout --days", "stats" },
        { "stats checkout payments", "stats" },
        { "hotfix checkout 1.4.3 p0 payments down --bypass-freeze", "hotfix" },
        { "token revoke", "token" },
        { "token rotate ci", "token" },
    };

    [Theory]
    [MemberData(nameof(ValidExamples))]
    public void Parse_EveryVerbWithValidArgs_ReturnsItsCommand(string text, string verb)
    {
        var command = ParseOk(text);

        Assert.Equal(verb, command.Verb);
    }

    [Theory]
    [MemberData(nameof(MalformedExamples))]
    public void Parse_MalformedArgs_ReturnsErrorAndTheVerbsUsage(string text, string verb)
    {
        var result = CommandParser.Parse(text);

        Assert.False(result.Success);
        Assert.Null(result.Command);
        Assert.False(string.IsNullOrWhiteSpace(result.Error));
        Assert.StartsWith("/ship ", result.Usage, StringComparison.Ordinal);
        Assert.Equal(CommandParser.UsageOf(verb), result.Usage);
        Assert.StartsWith($"/ship {verb}", result.Usage, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HotfixWithBypassFreezeAndNotes_KeepsEachPartApart()
    {
        var command = Assert.IsType<HotfixCommand>(ParseOk("hotfix checkout 1.4.3 p0 payments down --notes Payments work again --bypass-freeze \"customers cannot pay\""));

        Assert.Equal("payments down", command.Reason);
        Assert.Equal("customers cannot pay", command.BypassFreeze);
        Assert.Equal("Payments work again", command.Notes);
    }

    [Theory]
    [InlineData("stats", null, StatsCommand.DefaultDays)]
    [InlineData("stats --days 7", null, 7)]
    [InlineData("stats Checkout -d 366", "checkout", 366)]
    public void Parse_Stats_ReadsServiceAndDays(string text, string? service, int days)
    {
        var command = Assert.IsType<StatsCommand>(ParseOk(text));

        Assert.Equal(service, command.Service);
        Assert.Equal(days, command.Days);
    }

    [Fact]
    public void Examples_CoverEveryVerb()
    {
        var verbs = CommandParser.Verbs.Select(v => v.Verb).ToHashSet();
        var valid = ValidExamples().Select(row => (string)row[1]).ToHashSet();
        var malformed = MalformedExamples().Select(row => (string)row[1]).ToHashSet();

        Assert.Equal(verbs.Order(), valid.Order());
        // help accepts anything (it is the fallback), so it has no malformed form.
        Assert.Equal(verbs.Where(v => v != "help").Order(), malformed.Order());
    }

    [Fact]
    public void Verbs_EachUsageStartsWithItsVerb()
    {
        Assert.All(CommandParser.Verbs, v =>
        {
            Assert.StartsWith(v.Verb, v.Usage, StringComparison.Ordinal);
            Assert.Equal($"/ship {v.Usage}", CommandParser.UsageOf(v.Verb));
            Assert.False(string.IsNullOrWhiteSpace(v.What));
        });
    }

    [Fact]
    public void Parse_Start_ReadsServiceVersionChangesAndFlags()
    {
        var start = Assert.IsType<StartCommand>(ParseOk("/ship start Checkout 1.4.2 faster cart; fix tax rounding --flag new-cart -f dark-mode"));

        Assert.Equal("checkout", start.Service);
        Assert.Equal("1.4.2", start.Version);
        Assert.Equal(["faster cart", "fix tax rounding"], start.Changes);
        Assert.Equal(["new-cart", "dark-mode"], start.Flags);
    }

    [Fact]
    public void Parse_StartWithOutcomes_ReadsEachQuotedTargetName()
    {
        var start = Assert.IsType<StartCommand>(ParseOk("/ship start checkout 1.4.2 faster cart --outcome \"refund rate\" --outcome nps"));

        Assert.Equal(["refund rate", "nps"], start.Outcomes);
        Assert.Equal(["faster cart"], start.Changes);
    }

    [Fact]
    public void Parse_StartOutcomeWithoutName_FailsSayingWhatIsNeeded()
    {
        var result = CommandParser.Parse("/ship start checkout 1.4.2 --outcome");

        Assert.False(result.Success);
        Assert.Contains("--outcome needs the name", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SimulateOutcome_KeepsTheValueAsWritten()
    {
        var simulate = Assert.IsType<SimulateCommand>(ParseOk("/ship simulate checkout outcome \"Checkout Conversion\" 2.3%"));

        Assert.Equal("outcome:checkout conversion", simulate.Metric);
        Assert.Equal(2.3, simulate.Value);
    }

    [Fact]
    public void Parse_StartWithoutChanges_HasEmptyLists()
    {
        var start = Assert.IsType<StartCommand>(ParseOk("start checkout 2.0.0-rc.1"));

        Assert.Equal("2.0.0-rc.1", start.Version);
        Assert.Empty(start.Changes);
        Assert.Empty(start.Flags);
    }

    [Theory]
    [InlineData("p0", ReleaseKind.HotfixP0)]
    [InlineData("P1", ReleaseKind.HotfixP1)]
    public void Parse_Hotfix_ReadsPriorityAndReason(string priority, ReleaseKind kind)
    {
        var hotfix = Assert.IsType<HotfixCommand>(ParseOk($"hotfix checkout 1.4.3 {priority} payments are down"));

        Assert.Equal("checkout", hotfix.Service);
        Assert.Equal("1.4.3", hotfix.Version);
        Assert.Equal(kind, hotfix.Priority);
        Assert.Equal("payments are down", hotfix.Reason);
    }

    [Theory]
    [InlineData("status", null, false)]
    [InlineData("list", null, false)]
    [InlineData("ls", null, false)]
    [InlineData($"status {Rel}", Rel, false)]
    [InlineData($"status {Rel} --audit", Rel, true)]
    [InlineData($"status -a {Rel}", Rel, true)]
    public void Parse_StatusAndList_ReturnsDetailOrList(string text, string? release, bool audit)
    {
        var command = ParseOk(text);

        if (release is null)
        {
            Assert.IsType<ListCommand>(command);
        }
        else
        {
            var status = Assert.IsType<StatusCommand>(command);
            Assert.Equal(release, status.Release);
            Assert.Equal(audit, status.Audit);
        }
    }

    [Fact]
    public void Parse_ReleaseVerbs_CarryTheReleaseName()
    {
        Assert.Equal(Rel, Assert.IsType<ApproveCommand>(ParseOk($"approve {Rel}")).Release);
        Assert.Equal(Rel, Assert.IsType<PromoteCommand>(ParseOk($"promote {Rel}")).Release);
        Assert.Equal(Rel, Assert.IsType<PauseCommand>(ParseOk($"pause {Rel}")).Release);
        Assert.Equal(Rel, Assert.IsType<ResumeCommand>(ParseOk($"resume {Rel}")).Release);
        Assert.Equal(Rel, Assert.IsType<ContractCommand>(ParseOk($"contract {Rel}")).Release);
        Assert.Equal(Rel, Assert.IsType<NotesCommand>(ParseOk($"notes {Rel}")).Release);
        Assert.Equal(Rel, Assert.IsType<OutcomeCommand>(ParseOk($"outcome {Rel}")).Release);
        Assert.Equal("checkout", Assert.IsType<ApproveCommand>(ParseOk("approve checkout")).Release);
    }

    [Fact]
    public void Parse_ReasonVerbs_JoinTheReason()
    {
        var reject = Assert.IsType<RejectCommand>(ParseOk($"reject {Rel} missing   load test"));
        var rollback = Assert.IsType<RollbackCommand>(ParseOk($"roll-back {Rel} customer reports"));
        var abort = Assert.IsType<AbortCommand>(ParseOk($"abort {Rel} wrong build"));

        Assert.Equal((Rel, "missing load test"), (reject.Release, reject.Reason));
        Assert.Equal((Rel, "customer reports"), (rollback.Release, rollback.Reason));
        Assert.Equal((Rel, "wrong build"), (abort.Release, abort.Reason));
    }

    [Fact]
    public void Parse_Check_ItemsSeparatedBySpacesWithStrayCommasTrimmed()
    {
        var check = Assert.IsType<CheckCommand>(ParseOk($"check {Rel} https, env ,errors,"));

        Assert.Equal(Rel, check.Release);
        Assert.Equal(["https", "env", "errors"], check.Items);
    }

    [Fact]
    public void Parse_CheckWithOnlyCommas_ReturnsUsage()
    {
        var result = CommandParser.Parse($"check {Rel} , ,,");

        Assert.False(result.Success);
        Assert.Equal(CommandParser.UsageOf("check"), result.Usage);
    }

    [Fact]
    public void Parse_Waive_ReadsItemAndReason()
    {
        var waive = Assert.IsType<WaiveCommand>(ParseOk($"waive {Rel} ratelimit internal only"));

        Assert.Equal((Rel, "ratelimit", "internal only"), (waive.Release, waive.Item, waive.Reason));
    }

    [Theory]
    [InlineData("rollback", DecisionChoice.Rollback)]
    [InlineData("roll-back", DecisionChoice.Rollback)]
    [InlineData("HOLD", DecisionChoice.Hold)]
    [InlineData("continue", DecisionChoice.Continue)]
    public void Parse_Decide_ReadsTheChoice(string word, DecisionChoice choice)
    {
        var decide = Assert.IsType<DecideCommand>(ParseOk($"decide {Rel} {word}"));

        Assert.Equal(Rel, decide.Release);
        Assert.Equal(choice, decide.Choice);
    }

    [Theory]
    [InlineData("halt checkout db on fire", "checkout", "db on fire")]
    [InlineData("halt all change freeze for the holidays", null, "change freeze for the holidays")]
    [InlineData("halt * freeze", null, "freeze")]
    [InlineData("halt --all freeze", null, "freeze")]
    [InlineData("halt freeze", "freeze", "")]
    [InlineData("halt demo", "demo", "")]
    [InlineData("halt payments outage in EU", "payments", "outage in EU")]
    [InlineData("halt Checkout broken", "checkout", "broken")]
    public void Parse_Halt_ReadsScopeAndReason(string text, string? service, string reason)
    {
        // A freeze of every service is only ever "halt all": a forgotten reason or an unknown service never becomes one.
        var halt = Assert.IsType<HaltCommand>(ParseOk(text));

        Assert.Equal(service, halt.Service);
        Assert.Equal(reason, halt.Reason);
    }

    [Theory]
    [InlineData("unhalt checkout fixed by hotfix", "checkout", "fixed by hotfix")]
    [InlineData("unhalt all freeze over", null, "freeze over")]
    [InlineData("unhalt * freeze over", null, "freeze over")]
    public void Parse_Unhalt_ReadsScopeAndReason(string text, string? service, string reason)
    {
        var unhalt = Assert.IsType<UnhaltCommand>(ParseOk(text));

        Assert.Equal(service, unhalt.Service);
        Assert.Equal(reason, unhalt.Reason);
    }

    [Fact]
    public void Parse_FlagRemoved_ReadsReleaseAndFlag()
    {
        var flag = Assert.IsType<FlagRemovedCommand>(ParseOk($"flag-removed {Rel} new-cart"));

        Assert.Equal((Rel, "new-cart"), (flag.Release, flag.Flag));
    }

    [Theory]
    [InlineData("signal performance p99 is slow", SignalKind.Performance, null, "p99 is slow")]
    [InlineData("signal Customer checkout@1.4.2 cart is empty", SignalKind.Customer, "checkout@1.4.2", "cart is empty")]
    [InlineData("signal incident checkout@1.4.2", SignalKind.Incident, null, "checkout@1.4.2")]
    [InlineData("signal unexpected totals differ", SignalKind.Unexpected, null, "totals differ")]
    public void Parse_Signal_ReadsKindOptionalReleaseAndText(string text, SignalKind kind, string? release, string body)
    {
        var signal = Assert.IsType<SignalCommand>(ParseOk(text));

        Assert.Equal(kind, signal.Kind);
        Assert.Equal(release, signal.Release);
        Assert.Equal(body, signal.Text);
    }

    [Fact]
    public void Parse_SignalKindCommaList_ReturnsUsage()
    {
        var result = CommandParser.Parse("signal customer,friction slow checkout page");

        Assert.False(result.Success);
        Assert.Equal(CommandParser.UsageOf("signal"), result.Usage);
    }

    [Theory]
    [InlineData("simulate checkout error_rate 4.8%", "error_rate", 0.048)]
    [InlineData("simulate checkout latency_p99_ms 410", "latency_p99_ms", 410)]
    [InlineData("simulate Checkout CPU 0.5", "cpu", 0.5)]
    public void Parse_Simulate_ReadsMetricAndValue(string text, string metric, double value)
    {
        var simulate = Assert.IsType<SimulateCommand>(ParseOk(text));

        Assert.Equal("checkout", simulate.Service);
        Assert.Equal(metric, simulate.Metric);
        Assert.Equal(value, simulate.Value!.Value, 10);
    }

    [Fact]
    public void Parse_SimulateReset_HasNoValue()
    {
        var simulate = Assert.IsType<SimulateCommand>(ParseOk("simulate checkout RESET"));

        Assert.Equal(("checkout", "reset", (double?)null), (simulate.Service, simulate.Metric, simulate.Value));
    }

    [Theory]
    [InlineData("help", null)]
    [InlineData("help START", "start")]
    [InlineData("?", null)]
    [InlineData("", null)]
    [InlineData("   ", null)]
    [InlineData("/ship", null)]
    [InlineData(null, null)]
    public void Parse_HelpOrNothing_ReturnsHelp(string? text, string? topic)
    {
        var help = Assert.IsType<HelpCommand>(ParseOk(text!));

        Assert.Equal(topic, help.Topic);
    }

    [Theory]
    [InlineData("deploy checkout 1.4.2", "deploy")]
    [InlineData("/ship frobnicate", "frobnicate")]
    public void Parse_UnknownVerb_ErrorNamesTheVerb(string text, string verb)
    {
        var result = CommandParser.Parse(text);

        Assert.False(result.Success);
        Assert.Contains($"'{verb}'", result.Error, StringComparison.Ordinal);
        Assert.Equal(CommandParser.UsageOf("help"), result.Usage);
    }

    [Fact]
    public void Parse_VeryLongUnknownVerb_IsShortenedInTheError()
    {
        var verb = new string('x', 500);

        var result = CommandParser.Parse(verb);

        Assert.False(result.Success);
        Assert.True(result.Error!.Length < 120);
        Assert.Contains("…", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData($"/ship approve {Rel}")]
    [InlineData($"ship approve {Rel}")]
    [InlineData($"approve {Rel}")]
    [InlineData($"/SHIP APPROVE {Rel}")]
    [InlineData($"  /ship   approve\t{Rel}  ")]
    public void Parse_ShipPrefix_IsOptional(string text)
    {
        var approve = Assert.IsType<ApproveCommand>(ParseOk(text));

        Assert.Equal(Rel, approve.Release);
    }

    [Fact]
    public void Parse_DoubleQuotes_GroupWords()
    {
        var waive = Assert.IsType<WaiveCommand>(ParseOk($"waive \"{Rel}\" \"ratelimit\" \"internal only, no PII\""));
        var signal = Assert.IsType<SignalCommand>(ParseOk("signal friction \"the approve button is hidden\""));

        Assert.Equal((Rel, "ratelimit", "internal only, no PII"), (waive.Release, waive.Item, waive.Reason));
        Assert.Equal("the approve button is hidden", signal.Text);
    }

    [Fact]
    public void Parse_QuotedReasonThatWouldBeTooShortUnquoted_StillOneArgument()
    {
        var result = CommandParser.Parse($"rollback \"{Rel} customer reports\"");

        Assert.False(result.Success);
        Assert.Equal(CommandParser.UsageOf("rollback"), result.Usage);
    }

    [Fact]
    public void Tokenize_SmartQuotesAndEmptyQuotes_AreHandled()
    {
        Assert.Equal(["reject", Rel, "not ready yet"], CommandParser.Tokenize($"reject {Rel} “not ready yet”"));
        Assert.Equal(["a", string.Empty, "b"], CommandParser.Tokenize("a \"\" b"));
        Assert.Equal(["unterminated quote"], CommandParser.Tokenize("\"unterminated quote"));
        Assert.Equal(["ab"], CommandParser.Tokenize("a\u0000b"));
    }

    [Fact]
    public void Parse_PromoteWithAReason_KeepsItForTheAudit()
    {
        Assert.Null(Assert.IsType<PromoteCommand>(ParseOk($"promote {Rel}")).Reason);
        Assert.Equal("canary clean for an hour", Assert.IsType<PromoteCommand>(ParseOk($"promote {Rel} canary clean for an hour")).Reason);
    }

    [Fact]
    public void Parse_DecideNamingADecision_CarriesItsId()
    {
        var decide = Assert.IsType<DecideCommand>(ParseOk($"decide {Rel} continue d3"));

        Assert.Equal((DecisionChoice.Continue, "d3"), (decide.Choice, decide.DecisionId));
        Assert.Null(Assert.IsType<DecideCommand>(ParseOk($"decide {Rel} hold")).DecisionId);
    }

    [Fact]
    public void Parse_Notes_AreEverythingAfterTheOptionAndNotPartOfTheReasonOrChanges()
    {
        var hotfix = Assert.IsType<HotfixCommand>(ParseOk("hotfix checkout 1.4.3 p0 payment outage in EU --notes Checkout works again for everyone"));
        var start = Assert.IsType<StartCommand>(ParseOk("start checkout 1.4.2 faster cart --flag new-cart --notes A faster cart"));

        Assert.Equal(("payment outage in EU", "Checkout works again for everyone"), (hotfix.Reason, hotfix.Notes));
        Assert.Equal(["faster cart"], start.Changes);
        Assert.Equal(["new-cart"], start.Flags);
        Assert.Equal("A faster cart", start.Notes);
        Assert.Null(Assert.IsType<HotfixCommand>(ParseOk("hotfix checkout 1.4.3 p0 payments down")).Notes);
    }

    [Fact]
    public void Parse_Signals_ListsSignals()
    {
        Assert.IsType<SignalsCommand>(ParseOk("signals"));
    }
}
