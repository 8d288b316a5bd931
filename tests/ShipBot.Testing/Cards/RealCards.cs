using ShipBot.Core.Cards;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Testing;

/// <summary>
/// Every kind of card ShipBot emits, built from real releases walked through the aggregate
/// (<see cref="ReleaseScenario"/>), plus the largest inputs people can give them: long contracts,
/// long reasons, many releases, long audit trails. Each chat renderer's tests render them all.
/// </summary>
public static class RealCards
{
    /// <summary>Display names of the scenario's people, as Teams would resolve them for mentions.</summary>
    public static IReadOnlyDictionary<string, string> Names { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [People.Alice.Id] = "Alice Martin",
        [People.Bob.Id] = "Bob Okafor",
        [People.Olga.Id] = "Olga Petrova",
    };

    /// <summary>Cards of ordinary size.</summary>
    public static readonly string[] Ordinary =
    [
        "draft", "draft-hotfix", "awaiting-approval", "staging", "canary-with-health", "release-decision-pending",
        "validating", "operating", "paused", "halted-while-service-halted", "rolling-back", "rolled-back", "completed",
        "rollback-alert-breach", "rollback-alert-rolled-back-group", "decision", "decision-closed", "halt-alert", "list-empty",
        "audit-long", "canary-judged", "rollback-alert-judged",
    ];

    /// <summary>Cards whose content alone is over Teams' message size, in facts and checklist details: the renderer's compact form must bring them under.</summary>
    public static readonly string[] Compactable = ["draft-long-contract"];

    /// <summary>Cards whose content alone is over Teams' message size, in long text (a reason, a list, an audit trail) and in the notification fallback.</summary>
    public static readonly string[] Oversized = ["list-many", "audit-long-reasons", "halted-long-reason", "halt-alert-long-reason"];

    public static IEnumerable<string> All => [.. Ordinary, .. Compactable, .. Oversized];

    /// <summary>Every card the renderer brings under the size limit today.</summary>
    public static TheoryData<string> WithinLimitData() => [.. Ordinary, .. Compactable];

    public static TheoryData<string> OversizedData() => [.. Oversized];

    public static TheoryData<string> OrdinaryData() => [.. Ordinary];

    public static TheoryData<string> AllData() => [.. All];

    public static Card Build(string name)
    {
        switch (name)
        {
            case "draft":
                return Release(ReleaseScenario.Create());
            case "draft-long-contract":
                var contract = ReleaseScenario.Contract with
                {
                    // The card lists 5 changes and says how many more; five very long ones still overflow it.
                    Changes = [.. Enumerable.Range(1, 5).Select(i => $"change {i}: <b>fix</b> & **tidy** the 😀 cart {new string('x', 6000)}")],
                    Flags = [.. Enumerable.Range(1, 80).Select(i => $"flag-{i}-{new string('f', 30)}")],
                };
                return Release(ReleaseScenario.Create(contract: contract));
            case "draft-hotfix":
                return Release(ReleaseScenario.Create(kind: ShipBot.Core.Plans.ReleaseKind.HotfixP0));
            case "awaiting-approval":
                return Release(ReleaseScenario.In(ReleaseState.AwaitingApproval));
            case "staging":
                return Release(ReleaseScenario.In(ReleaseState.Staging));
            case "canary-with-health":
                return Release(ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(4)));
            case "release-decision-pending":
                return Release(WithDecision());
            case "validating":
                return Release(ReleaseScenario.In(ReleaseState.Validating));
            case "operating":
                return Release(ReleaseScenario.In(ReleaseState.Operating));
            case "paused":
                return Release(ReleaseScenario.In(ReleaseState.Paused));
            case "halted-while-service-halted":
                var halted = ReleaseScenario.In(ReleaseState.Halted);
                return ReleaseCards.Release(halted.Release, new ServiceHalt("checkout", "incident <INC-42> & payments", "olga", halted.Now), halted.Now);
            case "halted-long-reason":
                var haltedLong = ReleaseScenario.Create().ToStage(0);
                haltedLong.Do((r, now) => r.Halt(LongText("halted because ", 30_000), People.Olga.Name, now));
                return Release(haltedLong);
            case "rolling-back":
                return Release(ReleaseScenario.In(ReleaseState.RollingBack));
            case "rolled-back":
                return Release(ReleaseScenario.In(ReleaseState.RolledBack));
            case "completed":
                return Release(ReleaseScenario.In(ReleaseState.Completed));
            case "rollback-alert-breach":
                var breach = ReleaseScenario.In(ReleaseState.Canary);
                breach.Do((r, now) => r.ApplyHealth(Verdicts.ErrorRateBreach(now), TimeSpan.FromMinutes(15), now));
                return ReleaseCards.RollbackAlert(breach.Release, breach.Policy, null, breach.Now);
            case "rollback-alert-rolled-back-group":
                var rolledBack = ReleaseScenario.In(ReleaseState.RolledBack);
                return ReleaseCards.RollbackAlert(rolledBack.Release, rolledBack.Policy with { OnCall = ["group:S0PAYMENTS", People.Olga.Id] }, "webhook 200 in 340 ms", rolledBack.Now);
            case "decision":
                var decision = WithDecision().Advance(TimeSpan.FromMinutes(3));
                return ReleaseCards.Decision(decision.Release, decision.Policy, decision.Now);
            case "decision-closed":
                return ReleaseCards.DecisionClosed(WithDecision().Release, "@olga chose hold at 09:45:00 UTC");
            case "halt-alert":
                return ReleaseCards.HaltAlert("checkout", "staging smoke checks failed: login 500 <html>", ReleaseScenario.DefaultPolicy, UnhaltAction());
            case "halt-alert-long-reason":
                return ReleaseCards.HaltAlert("checkout", LongText("staging smoke checks failed: ", 30_000), ReleaseScenario.DefaultPolicy, UnhaltAction());
            case "list-many":
                var states = new[] { ReleaseState.Draft, ReleaseState.AwaitingApproval, ReleaseState.Staging, ReleaseState.Canary, ReleaseState.Halted, ReleaseState.Paused, ReleaseState.Validating };
                var releases = Enumerable.Range(0, 120).Select(i => ReleaseScenario.In(states[i % states.Length]).Release).ToList();
                var halts = Enumerable.Range(0, 30).Select(i => new ServiceHalt($"service-{i}", $"incident {i} <&> {new string('r', 100)}", "olga", ReleaseScenario.Start)).ToList();
                return ReleaseCards.List(releases, [new ServiceHalt(ServiceHalt.Everything, "freeze", "olga", ReleaseScenario.Start), .. halts], ReleaseScenario.Start);
            case "list-empty":
                return ReleaseCards.List([], [], ReleaseScenario.Start);
            case "audit-long":
                var audit = Enumerable.Range(1, 500)
                    .Select(i => new AuditEntry(ReleaseScenario.Start.AddSeconds(i), "alice", "check", $"entry {i} <{new string('d', 200)}> & 👍🏽"))
                    .ToList();
                return ReleaseCards.Audit(ReleaseScenario.Create().Release, audit);
            case "audit-long-reasons":
                // Waivers, rejections and rollbacks record the reason people typed; a card input takes 500 characters, a typed command more.
                var reasons = Enumerable.Range(1, 500)
                    .Select(i => new AuditEntry(ReleaseScenario.Start.AddSeconds(i), "bob", "waive", LongText($"reason {i}: ", 900)))
                    .ToList();
                return ReleaseCards.Audit(ReleaseScenario.Create().Release, reasons);
            case "canary-judged":
                // The sequential judge's explanation and its chart at ShipBot's public address.
                var judged = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(4));
                judged.Do((r, now) => r.ApplyJudgement(Judged(r, now, 3), TimeSpan.FromMinutes(15), now));
                return ReleaseCards.Release(judged.Release, null, judged.Now, new ReleaseCardContext([], false)
                {
                    JudgeChartUrl = "https://shipbot.example.com/charts/3q2-7wEjV0c8m5Rk1yPqJH9mLx4T2bVnZc6dQe8fGhA.png",
                });
            case "rollback-alert-judged":
                var harmed = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(4));
                harmed.Do((r, now) => r.ApplyJudgement(Judged(r, now, 60), TimeSpan.FromMinutes(15), now));
                return ReleaseCards.RollbackAlert(harmed.Release, harmed.Policy, null, harmed.Now);
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, null);
        }
    }

    private static Card Release(ReleaseScenario scenario) => ReleaseCards.Release(scenario.Release, null, scenario.Now);

    /// <summary>One look of the sequential judge at the release's canary: 1,000 canary requests with <paramref name="canaryErrors"/> errors against a baseline at 0.3 %.</summary>
    private static Core.Judging.JudgeStep Judged(Release release, DateTimeOffset now, double canaryErrors)
    {
        var state = Core.Judging.SequentialJudge.Start(new Core.Judging.JudgeSettings { Kind = Core.Judging.JudgeKind.Sequential }, "Canary", 0, 3, release.PhaseStartedAt ?? now);
        var since = state.StartedAt;
        return Core.Judging.SequentialJudge.Observe(state, new Core.Judging.JudgeObservation(now,
        [
            new Core.Health.MetricCounts(Core.Health.CountMetrics.Errors, 1000, canaryErrors, 19_000, 57, since, now, "prometheus"),
            new Core.Health.MetricCounts(Core.Health.CountMetrics.SlowRequests, 1000, 10, 19_000, 190, since, now, "prometheus"),
        ]));
    }

    private static IReadOnlyList<CardAction> UnhaltAction() =>
        [new CardAction("unhalt", "Unhalt…", "unhalt checkout", ActionStyle.Default, "Unhalt checkout?", "Why is it safe?")];

    private static string LongText(string prefix, int length)
    {
        var words = "the login probe <svc-auth> returned 500 & the canary error rate rose ";
        var text = new System.Text.StringBuilder(prefix);
        while (text.Length < length)
        {
            text.Append(words);
        }

        return text.ToString(0, length);
    }

    private static ReleaseScenario WithDecision()
    {
        var scenario = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        scenario.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), TimeSpan.FromMinutes(15), now));
        return scenario;
    }
}
