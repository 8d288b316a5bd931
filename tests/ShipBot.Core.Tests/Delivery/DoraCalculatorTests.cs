using ShipBot.Core.Delivery;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;
using static ShipBot.Core.Tests.Delivery.DeliveryHistory;

namespace ShipBot.Core.Tests.Delivery;

/// <summary>
/// The four keys on a generated four-week history whose answers were worked out by hand (the
/// comments give each sum). The period is the 28 days before Monday 2026-03-30 00:00 UTC, so the
/// weekly buckets are four whole weeks starting Monday 2 March.
/// </summary>
public sealed class DoraCalculatorTests
{
    private static readonly DateTimeOffset To = At(30, 0);

    private static readonly Dictionary<ReleaseId, DateTimeOffset> Commits = new()
    {
        [new ReleaseId("checkout", "1.0.0")] = At(1, 21), // A: 16 h before its 100 %
        [new ReleaseId("checkout", "1.3.0")] = At(10, 9), // D: 29 h before its 100 %
    };

    private static IReadOnlyList<Release> History() =>
    [
        Release("checkout", "0.9.0", At(20, 9).AddMonths(-1), At(20, 10).AddMonths(-1), At(20, 12).AddMonths(-1)), // before the period
        Release("checkout", "1.0.0", At(2, 9), At(2, 10), At(2, 13)),            // A: lead 16 h from commit
        Release("checkout", "1.1.0", At(4, 9), At(4, 10), At(4, 15)),            // B: lead 6 h from start; followed by H1
        Release("checkout", "1.1.1", At(5, 8), At(5, 8, 30), At(5, 9), kind: ReleaseKind.HotfixP0), // H1: lead 1 h
        Release("checkout", "1.2.0", At(10, 9), At(10, 10), rollback: At(10, 11)), // C: rolled back
        Release("checkout", "1.3.0", At(11, 9), At(11, 10), At(11, 14)),          // D: lead 29 h from commit
        Release("checkout", "1.4.0", At(24, 9), At(24, 10), rollback: At(24, 10, 30)), // F: rolled back
        Release("checkout", "1.4.1", At(24, 11), At(24, 11, 30), At(24, 12, 30), kind: ReleaseKind.HotfixP1), // G: lead 1 h 30, restores F
        Release("checkout", "1.5.0", At(29, 9), At(29, 10)),                      // P: still at canary
        Release("checkout", "1.6.0", At(29, 20), At(29, 23), At(30, 1)),          // Q: production in the period, 100 % after it
        Release("search", "2.0.0", At(3, 9), At(3, 10), At(3, 12), channel: "search-team"), // S1: lead 3 h
    ];

    private static IReadOnlyList<HaltEvent> Halts() =>
    [
        new("checkout", At(10, 11), true, HaltCause.Rollback),
        new("checkout", At(10, 13, 30), false),                 // C restored: 2 h 30
        new("checkout", At(17, 10), true),                      // manual halt
        new("checkout", At(17, 11), false),                     // restored: 1 h
        new("checkout", At(19, 9), true, HaltCause.StagingGate), // not an incident
        new("checkout", At(19, 10), false),
        new("*", At(20, 16), true, HaltCause.Freeze),           // a freeze: not an incident
        new("*", At(23, 8), false),
        new("checkout", At(24, 10, 30), true, HaltCause.Rollback), // F: restored by G at 100 %: 2 h
        new("checkout", At(29, 12), true),                      // still open at the end
    ];

    private static DoraReport Checkout(DateTimeOffset? to = null, int days = 28) =>
        DoraCalculator.Compute(History(), DeliveryScope.ForService("checkout"), to ?? To, days, Commits, Halts());

    [Fact]
    public void Compute_Service_CountsDeploymentsThatReached100PercentInThePeriod()
    {
        var report = Checkout();

        // A, B, H1, D, G; not the one before the period, not P (at canary), not Q (100 % after the end).
        Assert.Equal(5, report.Deployments);
        Assert.Equal(["1.0.0", "1.1.0", "1.1.1", "1.3.0", "1.4.1"], report.LeadTimes.Select(l => l.Release.Version));
        Assert.Equal(1.25, report.DeploymentsPerWeek, 10); // 5 × 7 / 28
        Assert.Equal(5.0 / 28, report.DeploymentsPerDay, 10);
        Assert.Equal(At(2, 0), report.From);
        Assert.Equal(28, report.Days);
    }

    [Fact]
    public void Compute_Service_LeadTimeIsFromTheCommitWhenKnownElseFromStart()
    {
        var report = Checkout();

        // 16 h (A, commit), 6 h (B), 1 h (H1), 29 h (D, commit), 1 h 30 (G): median 6 h.
        Assert.Equal(
            [TimeSpan.FromHours(16), TimeSpan.FromHours(6), TimeSpan.FromHours(1), TimeSpan.FromHours(29), TimeSpan.FromHours(1.5)],
            report.LeadTimes.Select(l => l.LeadTime));
        Assert.Equal(TimeSpan.FromHours(6), report.LeadTimeMedian);
        Assert.Equal(2, report.LeadTimesFromCommit);
        Assert.True(report.LeadTimes[0].FromCommit);
        Assert.Equal(At(1, 21), report.LeadTimes[0].From);
    }

    [Fact]
    public void Compute_Service_ChangeFailureRateCountsRollbacksAndReleasesFollowedByAHotfix()
    {
        var report = Checkout();

        // Changes with production traffic in the period: A, B, H1, C, D, F, G, P, Q = 9.
        // Failed: B (followed by H1), C (rolled back), F (rolled back; G follows it too but counts once) = 3.
        Assert.Equal(9, report.Changes);
        Assert.Equal(3, report.FailedChanges);
        Assert.Equal(1.0 / 3, report.ChangeFailureRate);
        var b = Assert.Single(report.Failures, f => f.Cause == FailureCause.FollowedByHotfix);
        Assert.Equal(new ReleaseId("checkout", "1.1.0"), b.Release);
        Assert.Equal(new ReleaseId("checkout", "1.1.1"), b.Hotfix);
        Assert.Equal(["1.2.0", "1.4.0"], report.Failures.Where(f => f.Cause == FailureCause.RolledBack).Select(f => f.Release.Version));
    }

    [Fact]
    public void Compute_Service_TimeToRestoreRunsFromRollbackOrHaltUntilUnhaltOrTheNextReleaseAt100Percent()
    {
        var report = Checkout();

        // C: 11:00 → unhalt 13:30 = 2 h 30; manual halt 10:00 → unhalt 11:00 = 1 h;
        // F: 10:30 → G at 100 % 12:30 = 2 h; the halt of the 29th is still open. Median of 2.5, 1, 2 h = 2 h.
        Assert.Equal(4, report.Incidents.Count);
        Assert.Equal(
            [TimeSpan.FromHours(2.5), TimeSpan.FromHours(1), TimeSpan.FromHours(2), null],
            report.Incidents.Select(i => i.TimeToRestore));
        Assert.Equal([IncidentCause.Rollback, IncidentCause.Halt, IncidentCause.Rollback, IncidentCause.Halt], report.Incidents.Select(i => i.Cause));
        Assert.Equal(TimeSpan.FromHours(2), report.TimeToRestoreMedian);
        Assert.Equal(3, report.RestoredIncidents);
        Assert.Equal(1, report.OpenIncidents);
    }

    [Fact]
    public void Compute_Service_WeeklyBucketsStartOnMondayUtc()
    {
        var weeks = Checkout().Weeks;

        Assert.Equal([At(2, 0), At(9, 0), At(16, 0), At(23, 0)], weeks.Select(w => w.Start));
        Assert.All(weeks, w => Assert.Equal(7, w.Days));
        Assert.Equal([3, 1, 0, 1], weeks.Select(w => w.Deployments));
        Assert.Equal([3, 2, 0, 4], weeks.Select(w => w.Changes));
        Assert.Equal([1, 1, 0, 1], weeks.Select(w => w.FailedChanges));
        Assert.Equal([1.0 / 3, 0.5, null, 0.25], weeks.Select(w => w.ChangeFailureRate));
        Assert.Equal([TimeSpan.FromHours(6), TimeSpan.FromHours(29), null, TimeSpan.FromHours(1.5)], weeks.Select(w => w.LeadTimeMedian));
        Assert.Equal([null, TimeSpan.FromHours(2.5), TimeSpan.FromHours(1), TimeSpan.FromHours(2)], weeks.Select(w => w.TimeToRestoreMedian));
    }

    [Fact]
    public void Compute_PeriodNotOnAMonday_ClipsTheFirstAndLastWeeks()
    {
        var weeks = Checkout(to: At(25, 12), days: 10).Weeks; // 15 Mar 12:00 → 25 Mar 12:00

        Assert.Equal([At(15, 12), At(16, 0), At(23, 0)], weeks.Select(w => w.Start));
        Assert.Equal([At(16, 0), At(23, 0), At(25, 12)], weeks.Select(w => w.End));
        Assert.Equal([0.5, 7, 2.5], weeks.Select(w => w.Days));
    }

    [Fact]
    public void Compute_EarlierEnd_IgnoresWhatHappenedAfterIt()
    {
        // On 5 March 07:00 the hotfix of B has not been started yet: B has not failed.
        var report = Checkout(to: At(5, 7), days: 7);

        Assert.Equal(2, report.Deployments); // A, B
        Assert.Equal(2, report.Changes);
        Assert.Empty(report.Failures);
        Assert.Equal(0, report.ChangeFailureRate);
    }

    [Fact]
    public void Compute_AllServices_IncludesEveryRelease()
    {
        var report = DoraCalculator.Compute(History(), DeliveryScope.All, To, 28, Commits, Halts());

        Assert.Equal(6, report.Deployments); // checkout's 5 + search's S1
        Assert.Equal(10, report.Changes);
        Assert.Equal(3, report.FailedChanges);
        Assert.Equal(TimeSpan.FromHours(4.5), report.LeadTimeMedian); // 1, 1.5, 3, 6, 16, 29 h: (3 + 6) / 2
    }

    [Fact]
    public void Compute_Channel_IncludesOnlyReleasesStartedThere()
    {
        var report = DoraCalculator.Compute(History(), DeliveryScope.ForChannel("#search-team"), To, 28, Commits, Halts());

        Assert.Equal(1, report.Deployments);
        Assert.Equal(TimeSpan.FromHours(3), report.LeadTimeMedian);
        Assert.Equal(0, report.ChangeFailureRate);
        Assert.Empty(report.Incidents);
        Assert.Equal("#search-team", report.Scope.Describe());
    }

    [Fact]
    public void Compute_NoReleases_HasNoRatesButWholeWeeks()
    {
        var report = DoraCalculator.Compute([], DeliveryScope.ForService("billing"), To, 14);

        Assert.Equal(0, report.Deployments);
        Assert.Null(report.LeadTimeMedian);
        Assert.Null(report.ChangeFailureRate);
        Assert.Null(report.TimeToRestoreMedian);
        Assert.Equal(2, report.Weeks.Count);
    }

    [Fact]
    public void Compute_HaltWithoutReleases_StillCountsForTheService()
    {
        var report = DoraCalculator.Compute([], DeliveryScope.ForService("billing"), To, 14, halts: [new("billing", At(20, 9), true), new("billing", At(20, 9, 45), false)]);

        Assert.Equal(TimeSpan.FromMinutes(45), report.TimeToRestoreMedian);
    }

    [Fact]
    public void Compute_DaysBelowOne_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DoraCalculator.Compute([], DeliveryScope.All, To, 0));
    }

    [Fact]
    public void Median_EvenCount_IsTheMeanOfTheMiddleTwo()
    {
        Assert.Equal(TimeSpan.FromMinutes(15), DoraCalculator.Median([TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(20)]));
        Assert.Equal(TimeSpan.FromMinutes(20), DoraCalculator.Median([TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(20)]));
        Assert.Null(DoraCalculator.Median([]));
    }

    [Fact]
    public void Facts_ReleaseWalkedThroughTheAggregate_ReadProductionAnd100PercentFromItsHistory()
    {
        var scenario = ShipBot.Testing.ReleaseScenario.Create().ToValidating();
        var facts = ReleaseDeliveryFacts.From(scenario.Release);

        var canary = scenario.Release.History.Single(h => h.Name == "Canary 5 %").StartedAt;
        var full = scenario.Release.History.Single(h => h.Name == "Full 100 %").StartedAt;
        Assert.Equal(canary, facts.ProductionAt);
        Assert.Equal(full, facts.FullAt);
        Assert.Null(facts.RollbackAt);
        Assert.True(full > canary);
    }

    [Fact]
    public void Text_Report_SaysEachKeyWithItsCounts()
    {
        var lines = DoraText.Lines(Checkout());

        Assert.Equal("Delivery of checkout, 28 days to 2026-03-30 00:00 UTC", lines[0]);
        Assert.Equal("Deployment frequency: 1.3 per week (5 deployment(s) to 100 % in 28 days)", lines[1]);
        Assert.Equal("Lead time for changes: median 6 h (5 release(s): 2 from the commit, 3 from start)", lines[2]);
        Assert.Equal("Change failure rate: 33.3 % (3 of 9 change(s): 2 rolled back, 1 followed by a hotfix)", lines[3]);
        Assert.Equal("Time to restore: median 2 h (3 incident(s) restored; 1 not restored yet)", lines[4]);
    }

    [Theory]
    [InlineData(0, 0, 30, "30 s")]
    [InlineData(0, 45, 0, "45 min")]
    [InlineData(2, 5, 0, "2 h 5 min")]
    [InlineData(28, 0, 0, "1 d 4 h")]
    [InlineData(48, 0, 0, "2 d")]
    public void Duration_TwoLargestUnits(int hours, int minutes, int seconds, string expected)
    {
        Assert.Equal(expected, DoraText.Duration(new TimeSpan(hours, minutes, seconds)));
    }
}
