using System.Globalization;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Testing;

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
    /// Takes a Draft release to <paramref name="target"/> through the aggregate's methods with the
    /// tests' own walkers (<see cref="ReleaseScenario"/>: readiness, checklist, approval, staging
    /// deployment and smoke checks, promotions with green health), on a clock that starts at
    /// <paramref name="start"/>; then moves every due time to <paramref name="dueAt"/> so that
    /// nothing is due while the benchmark runs and no work is pending.
    /// </summary>
    public static Release Advance(Release release, ReleaseState target, DateTimeOffset start, DateTimeOffset dueAt)
    {
        var scenario = ReleaseScenario.From(release, Policy(release.Id.Service), start);

        // Verified health and HTTPS: no readiness work is left for a recovered Draft.
        scenario.Do((r, now) => r.RecordReadiness([("health", true, "GET /healthz → 200"), ("https", true, "valid certificate")], now));
        var r = scenario.To(target).Release;
        return target switch
        {
            ReleaseState.Staging => r with { BakeEndsAt = dueAt },
            _ when target.IsProductionStage() => r with { BakeEndsAt = dueAt },
            ReleaseState.Validating => r with { ValidationEndsAt = dueAt },

            // The first outcome checkpoint (+1 day) is then never due during the benchmark.
            ReleaseState.Operating => r with { OperatingSince = dueAt, PhaseStartedAt = dueAt },
            _ => r,
        };
    }
}
