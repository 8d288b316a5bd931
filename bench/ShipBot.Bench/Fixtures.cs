using System.Globalization;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Bench;

/// <summary>Services, people and releases for the benchmarks, built through the Release aggregate's own methods.</summary>
public static class Fixtures
{
    public static readonly Person Alice = new("alice", "alice");
    public static readonly Person Bob = new("bob", "bob");
    public static readonly Actor AliceActor = new("alice", "alice", []);
    public static readonly Conversation Channel = new("console", "releases");

    /// <summary>The states the recovery data set is spread over (equal shares), all active.</summary>
    public static readonly ReleaseState[] RecoveryStates =
    [
        ReleaseState.Draft, ReleaseState.AwaitingApproval, ReleaseState.Staging, ReleaseState.Canary, ReleaseState.EarlyAdopters,
        ReleaseState.GeneralAvailability, ReleaseState.Full, ReleaseState.Validating, ReleaseState.Paused, ReleaseState.Operating,
    ];

    private static readonly string[] HumanItems = ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "deploydoc", "rollbacktest", "ratelimit"];

    private static readonly Dictionary<string, double> Baseline = new()
    {
        [Metrics.ErrorRate] = 0.002,
        [Metrics.LatencyP99] = 120,
        [Metrics.Cpu] = 0.35,
        [Metrics.Business] = 0.031,
    };

    public static string ServiceName(string prefix, int i) => $"{prefix}{i.ToString("D5", CultureInfo.InvariantCulture)}";

    public static ServicePolicy Policy(string name) => new()
    {
        Name = name,
        Requesters = ["alice"],
        Approvers = ["bob"],
        OnCall = ["carol"],
    };

    /// <summary>An access policy with <paramref name="count"/> services named prefix00000….</summary>
    public static AccessPolicy Access(string prefix, int count) =>
        new(Enumerable.Range(0, count).Select(i => Policy(ServiceName(prefix, i))).ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase), []);

    public static HealthSample HealthySample(IReadOnlyList<string> metrics, DateTimeOffset now)
    {
        var values = new Dictionary<string, double>
        {
            [Metrics.ErrorRate] = 0.003,
            [Metrics.LatencyP99] = 140,
            [Metrics.Cpu] = 0.4,
            [Metrics.ProbeFailures] = 0,
            [Metrics.UserFeedback] = 4.2,
            [Metrics.Adoption] = 0.12,
            [Metrics.Business] = 0.032,
        };
        return new HealthSample(metrics.Where(values.ContainsKey).Select(m => new HealthReading(m, values[m], "bench", now)).ToList());
    }

    private static HealthVerdict Green(Release r, DateTimeOffset now)
    {
        var metrics = HealthPolicy.MetricsFor(r.CurrentStage?.Kind);
        return HealthPolicy.Evaluate(HealthySample(metrics, now), metrics, r.Baseline, new HealthThresholds(), now);
    }

    /// <summary>A new Draft release, as <c>/ship start</c> creates it (with its Created audit entry).</summary>
    public static (Release Release, IReadOnlyList<AuditEntry> Audit) Create(ReleaseId id, DateTimeOffset now)
    {
        var contract = new ReleaseContract(
            ["benchmark change", "another change"],
            ContractDocument.DefaultNotes(id, ["benchmark change", "another change"]),
            $"ShipBot sets {id.Service}'s traffic back to the previous version through the 'bench' deployment target and halts {id.Service}; on-call reviews and unhalts.",
            ["bench-flag"],
            ["error rate ≤ baseline + 1 pt", "p99 latency ≤ 300 ms", "business metric ≥ baseline − 10 %"]);
        var change = Release.Create(id, ReleaseKind.Standard, Alice, Channel, Policy(id.Service), contract, null, now);
        return (change.Next, change.Events.Select(e => new AuditEntry(now, "alice", e.Kind.ToString(), e.Summary)).ToList());
    }

    /// <summary>
    /// Takes a Draft release to <paramref name="target"/> through the aggregate's methods (readiness,
    /// checklist, approval, staging deployment and smoke checks, promotions with green health), on a
    /// synthetic clock that starts at <paramref name="start"/>; then moves every due time to
    /// <paramref name="dueAt"/> so that nothing is due while the benchmark runs and no work is pending.
    /// </summary>
    public static Release Advance(Release release, ReleaseState target, DateTimeOffset start, DateTimeOffset dueAt)
    {
        var t = start;
        var r = release;
        r = r.RecordReadiness([("health", true, "GET /healthz → 200"), ("https", true, "valid certificate")], t).Next;
        r = r.TickBySystem("oncall", "@carol notified in #releases", t).Next;
        if (target == ReleaseState.Draft)
        {
            return r;
        }

        r = r.Confirm(Alice, HumanItems, t).Next;
        if (target == ReleaseState.AwaitingApproval)
        {
            return r;
        }

        r = r.Approve(Bob, t).Next;
        r = r.RecordDeployment(r.PendingDeployment!, true, "bench → ok in 0 ms", t).Next;
        r = r.RecordSmokeChecks(true, "bench → ok", t).Next;
        if (target == ReleaseState.Staging)
        {
            return r with { BakeEndsAt = dueAt };
        }

        t = r.BakeEndsAt!.Value;
        r = r.Promote(t, null, null, Baseline).Next;
        r = r.RecordDeployment(r.PendingDeployment!, true, "bench → ok in 0 ms", t).Next;
        r = r.ApplyHealth(Green(r, t), TimeSpan.FromMinutes(15), t).Next;
        var stop = target is ReleaseState.Paused ? ReleaseState.Canary : target is ReleaseState.Validating or ReleaseState.Operating ? ReleaseState.Full : target;
        while (r.State != stop)
        {
            t = r.BakeEndsAt!.Value;
            r = r.ApplyHealth(Green(r, t), TimeSpan.FromMinutes(15), t).Next;
            r = r.Promote(t, r.LastHealth, null).Next;
            r = r.RecordDeployment(r.PendingDeployment!, true, "bench → ok in 0 ms", t).Next;
            r = r.ApplyHealth(Green(r, t), TimeSpan.FromMinutes(15), t).Next;
        }

        if (target.IsProductionStage())
        {
            return r with { BakeEndsAt = dueAt };
        }

        if (target == ReleaseState.Paused)
        {
            return r.Pause(Alice, t).Next;
        }

        t = r.BakeEndsAt!.Value;
        r = r.ApplyHealth(Green(r, t), TimeSpan.FromMinutes(15), t).Next;
        r = r.Promote(t, r.LastHealth, null).Next;
        if (target == ReleaseState.Validating)
        {
            return r with { ValidationEndsAt = dueAt };
        }

        r = r.Confirm(Alice, ["ufv"], t).Next;
        t = r.ValidationEndsAt!.Value;
        r = r.ApplyHealth(Green(r, t), TimeSpan.FromMinutes(15), t).Next;
        r = r.CompleteValidation(t, r.LastHealth, false).Next;
        if (r.State != ReleaseState.Operating)
        {
            throw new InvalidOperationException($"fixture did not reach Operating: {r.State}");
        }

        // The first outcome checkpoint (+1 day) is then never due during the benchmark.
        return r with { OperatingSince = dueAt, PhaseStartedAt = dueAt };
    }
}
