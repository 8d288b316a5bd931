using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;
using ShipBot.Core.Releases.Events;
using ShipBot.Testing;

namespace ShipBot.Core.Tests.Releases;

/// <summary>
/// The one place the English of events is pinned: each event with its data renders exactly the
/// words the audit trail has always kept (stored trails, cards and replies to stale clicks quote them).
/// The aggregate's tests assert on the events' data instead.
/// </summary>
public sealed class EventTextTests
{
    private static readonly ReleaseId Demo = new("demo", "1.0.0");
    private static readonly DateTimeOffset At = new(2025, 3, 3, 9, 30, 15, TimeSpan.Zero);
    private static readonly CheckResult ErrorRate = new(Metrics.ErrorRate, CheckStatus.Breach, 0.048, "limit baseline 0.3 % + 1 pt", 0.003, BreachAction.Rollback, "prometheus");
    private static readonly CheckResult Feedback = new(Metrics.UserFeedback, CheckStatus.Breach, 3.1, "limit 3.5/5", null, BreachAction.Consult, "prometheus");
    private static readonly CheckResult Cpu = new(Metrics.Cpu, CheckStatus.Breach, null, "unreadable", null, BreachAction.Rollback, "prometheus");
    private static readonly BreachKey FeedbackAtEarlyAdopters = new(Metrics.UserFeedback, "Early adopters 25 %");

    public static TheoryData<ReleaseEvent, string> Table() => new()
    {
        { new Created(Demo, People.Alice, ReleaseKind.Standard), "@alice started release demo@1.0.0" },
        { new Created(Demo, People.Alice, ReleaseKind.HotfixP0), "@alice started P0 hotfix demo@1.0.0" },
        { new Created(Demo, People.Alice, ReleaseKind.HotfixP1), "@alice started P1 hotfix demo@1.0.0" },
        { new ItemSettled(Demo, "tests", "Tests pass", Settlement.Confirmed, People.Alice), "@alice confirmed tests (Tests pass)" },
        { new ItemSettled(Demo, "health", "Health URL", Settlement.Verified, Person.System, "200 from https://demo/health"), "ShipBot verified health: 200 from https://demo/health" },
        { new ItemSettled(Demo, "https", "HTTPS", Settlement.NotVerified, Person.System, "plain http"), "ShipBot could not verify https: plain http" },
        { new ItemSettled(Demo, "oncall", "On-call notified", Settlement.Ticked, Person.System, "paged @olga"), "ShipBot ticked oncall: paged @olga" },
        { new ItemSettled(Demo, "db", "Database migration", Settlement.Waived, People.Bob, "no database"), "@bob waived db: no database" },
        { new ReadyForApproval(Demo, 2), "demo@1.0.0 checklist complete; awaiting 2 approval(s)" },
        { new Approved(Demo, People.Bob, 1, 2), "@bob approved demo@1.0.0 (1 of 2)" },
        { new Rejected(Demo, People.Bob, "not this week"), "@bob rejected demo@1.0.0: not this week" },
        { new Aborted(Demo, People.Alice, "wrong version"), "@alice aborted demo@1.0.0: wrong version" },
        { new StagingStarted(Demo), "demo@1.0.0 enters the staging gate" },
        { new DeploymentSucceeded(Demo, new DeploymentIntent(DeploymentEnvironment.Staging, 100), "ok"), "demo@1.0.0 deployed to staging at 100 %: ok" },
        { new DeploymentSucceeded(Demo, new DeploymentIntent(DeploymentEnvironment.Production, 5), "ok"), "demo@1.0.0 deployed to production at 5 %: ok" },
        { new DeploymentSucceeded(Demo, new DeploymentIntent(DeploymentEnvironment.Production, 0, IsRollback: true), "ok"), "demo@1.0.0 deployed to rollback to the previous version: ok" },
        { new DeploymentFailed(Demo, new DeploymentIntent(DeploymentEnvironment.Production, 0, IsRollback: true), "HTTP 503"), "rollback of demo@1.0.0 failed: HTTP 503" },
        { new SmokeChecksPassed(Demo, "3 of 3"), "staging smoke checks passed: 3 of 3" },
        { new StagingFailed(Demo, "staging smoke checks failed: 1 of 3"), "demo@1.0.0 halted at the staging gate: staging smoke checks failed: 1 of 3" },
        { new Promoted(Demo, "Staging", "Canary 5 %", FromStaging: true), "demo@1.0.0 passed staging and starts Canary 5 % (bake time over, health green)" },
        { new Promoted(Demo, "Canary 5 %", "Early adopters 25 %", FromStaging: false), "demo@1.0.0 promoted to Early adopters 25 % (bake time over, health green)" },
        {
            new Promoted(Demo, "Canary 5 %", "Early adopters 25 %", false, new ManualPromotion(People.Bob, false, TimeSpan.FromMinutes(6), TimeSpan.FromMinutes(10), "canary clean")),
            "demo@1.0.0 promoted to Early adopters 25 % (@bob promoted early, skipping 6 min of the 10 min bake: canary clean)"
        },
        {
            new Promoted(Demo, "Canary 5 %", "Early adopters 25 %", false, new ManualPromotion(People.Bob, false, TimeSpan.Zero, TimeSpan.FromMinutes(10), null)),
            "demo@1.0.0 promoted to Early adopters 25 % (@bob promoted)"
        },
        {
            new Promoted(Demo, "GA 50 %", "Full 100 %", false, new ManualPromotion(People.Carol, true, TimeSpan.Zero, TimeSpan.FromMinutes(10), "looks good")),
            "demo@1.0.0 promoted to Full 100 % (@carol approved the promotion: looks good)"
        },
        {
            new Promoted(Demo, "Canary 5 %", "Early adopters 25 %", false, Judged: new JudgedPromotion(TimeSpan.FromSeconds(192), TimeSpan.FromSeconds(408), ["errors 1 in 1,000", "slow requests 2 in 1,000"])),
            "demo@1.0.0 promoted to Early adopters 25 % (early: the sequential judge found Canary 5 % safe after 3.2 min, 6.8 min of bake skipped: errors 1 in 1,000; slow requests 2 in 1,000)"
        },
        { new PromotionNeedsApproval(Demo, "GA 50 %"), "promotion out of GA 50 % waits for an approver" },
        { new ValidationStarted(Demo, At), "demo@1.0.0 is at 100 %; post-deployment validation until 09:30:15 UTC" },
        { new HandedOver(Demo), "demo@1.0.0 handed over to operations" },
        { new HealthChanged(Demo, "Canary 5 %", new HealthVerdict(HealthStatus.Unknown, [], At, "timeout"), 2), "health inconclusive at Canary 5 % (2 in a row): unknown — timeout" },
        { new HealthInconclusive(Demo, "Canary 5 %", 3, "timeout"), "demo@1.0.0 halted at Canary 5 %: health unreadable in 3 evaluations in a row (timeout)" },
        { new BreachDetected(Demo, "Canary 5 %", [ErrorRate, Cpu]), "breach at Canary 5 %: error rate 4.8 % breaches limit baseline 0.3 % + 1 pt; CPU unreadable" },
        {
            new BreachDetected(Demo, "Canary 5 %", [ErrorRate]) { Judge = new JudgeFinding(TimeSpan.FromMinutes(4), ["errors 9 in 1,000"]) },
            "breach at Canary 5 %: error rate 4.8 % breaches limit baseline 0.3 % + 1 pt — sequential judge after 4 min: errors 9 in 1,000"
        },
        { new ConsultRequested(Demo, "d1", "Early adopters 25 %", Feedback), "breach at Early adopters 25 % needs a decision (d1): user feedback 3.1/5 breaches limit 3.5/5" },
        {
            new ConsultRequested(Demo, "d2", "Early adopters 25 %", Feedback) { Judge = new JudgeFinding(TimeSpan.FromMinutes(12.5), ["a", "b"]) },
            "breach at Early adopters 25 % needs a decision (d2): user feedback 3.1/5 breaches limit 3.5/5 — sequential judge after 12.5 min: a; b"
        },
        { new Decided(Demo, People.Olga, DecisionChoice.Rollback, "d1", FeedbackAtEarlyAdopters), "@olga chose roll back (user feedback at Early adopters 25 %, decision d1)" },
        {
            new Decided(Demo, People.Olga, DecisionChoice.Hold, "d1", FeedbackAtEarlyAdopters),
            "@olga chose hold here (user feedback at Early adopters 25 %, decision d1): no promotion and no automatic rollback for this breach until on-call continues or rolls back"
        },
        { new Decided(Demo, People.Olga, DecisionChoice.Continue, "d1", FeedbackAtEarlyAdopters), "@olga chose continue (user feedback at Early adopters 25 %, decision d1)" },
        { new DecisionClosed(Demo, "d1", FeedbackAtEarlyAdopters, "rolling back"), "decision d1 (user feedback at Early adopters 25 %) closed: demo@1.0.0 is now rolling back" },
        { new RollbackStarted(Demo, "automatic: error rate 4.8 %", "shipbot", "Canary 5 %", [ErrorRate]), "ShipBot started rolling back demo@1.0.0 at Canary 5 %: automatic: error rate 4.8 %" },
        { new RollbackStarted(Demo, "double charges", "olga", "GA 50 %", []), "@olga started rolling back demo@1.0.0 at GA 50 %: double charges" },
        { new RolledBack(Demo, "traffic on the previous version"), "demo@1.0.0 rolled back: traffic on the previous version" },
        { new Halted(Demo, "Canary 5 %", "shipbot", "health unreadable"), "demo@1.0.0 halted at Canary 5 % by @shipbot: health unreadable" },
        { new Paused(Demo, People.Alice, "Canary 5 %"), "@alice paused demo@1.0.0 at Canary 5 %" },
        { new Resumed(Demo, People.Alice, "Canary 5 %"), "@alice resumed demo@1.0.0 at Canary 5 %" },
        { new OutcomeRecorded(Demo, new OutcomeReport(2, At, ["conversion 3.1 % (target 3 %) ✓", "errors ok"])), "outcome checkpoint 2 of demo@1.0.0: conversion 3.1 % (target 3 %) ✓; errors ok" },
        { new FlagRemoved(Demo, People.Alice, "new-checkout"), "@alice marked flag new-checkout removed" },
        { new Completed(Demo), "demo@1.0.0 completed: every outcome checkpoint reported, every flag removed" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Render_EachEvent_IsTheTextTheAuditTrailKeeps(ReleaseEvent e, string expected)
    {
        Assert.Equal(expected, EventText.Render(e));
        Assert.Equal(expected, e.Summary);
    }

    [Fact]
    public void Render_HealthChangedToAKnownStatus_SaysTheStatus()
    {
        var healthy = new HealthVerdict(HealthStatus.Healthy, [], At);

        Assert.Equal($"health healthy at GA 50 %: {healthy.Summary}", new HealthChanged(Demo, "GA 50 %", healthy, 0).Summary);
    }

    [Fact]
    public void Table_Always_CoversEveryEventKind()
    {
        var covered = Table().Select(row => ((ReleaseEvent)row[0]).Kind).ToHashSet();

        Assert.Empty(Enum.GetValues<ReleaseEventKind>().Except(covered));
    }

    [Theory]
    [InlineData(ReleaseEventKind.RollbackStarted, true)]
    [InlineData(ReleaseEventKind.StagingFailed, true)]
    [InlineData(ReleaseEventKind.Halted, false)]
    [InlineData(ReleaseEventKind.HealthInconclusive, false)]
    [InlineData(ReleaseEventKind.BreachDetected, false)]
    public void HaltsService_OnlyARollbackOrARedStagingGate_StopsTheWholeService(ReleaseEventKind kind, bool halts)
    {
        var e = Table().Select(row => (ReleaseEvent)row[0]).First(x => x.Kind == kind);

        Assert.Equal(halts, e.HaltsService);
    }
}
