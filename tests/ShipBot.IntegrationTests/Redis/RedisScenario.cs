using System.Text.Json.Nodes;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Redis;

/// <summary>
/// The crash, replica and outage tests start real redis-server and ShipBot processes and rely on
/// real timers: they run one after the other, not side by side, so a 2-core machine keeps up.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RedisProcessCollection
{
    public const string Name = "Redis processes";
}

/// <summary>The demo flow and the exactly-once assertions shared by the Redis tests.</summary>
internal static class RedisScenario
{
    public static readonly string[] BlockingItems =
        ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    /// <summary>What each promotion's audit detail says, in order: staging → Canary → EA → GA → Full.</summary>
    public static readonly string[] Promotions =
        ["passed staging and starts Canary 5 %", "promoted to Early adopters 25 %", "promoted to GA 50 %", "promoted to Full 100 %"];

    public static readonly int[] ProductionPercents = [5, 25, 50, 100];

    public static string Text(JsonObject reply) => reply["text"]?.GetValue<string>() ?? ShipBotHost.Text(reply);

    public static bool Is(JsonObject entry, string action) => entry["action"]?.GetValue<string>() == action;

    public static bool DetailContains(JsonObject entry, string part) =>
        entry["detail"]?.GetValue<string>().Contains(part, StringComparison.Ordinal) == true;

    /// <summary>The entry's detail ends with <paramref name="end"/>: "during-failover-3" is not "during-failover-33".</summary>
    public static bool DetailEndsWith(JsonObject entry, string end) =>
        entry["detail"]?.GetValue<string>().EndsWith(end, StringComparison.Ordinal) == true;

    /// <summary>The deployment call of <paramref name="percent"/> % production traffic has been applied and recorded: the stage's bake is running.</summary>
    public static Func<JsonObject, bool> Deployed(int percent) =>
        e => Is(e, "DeploymentSucceeded") && DetailContains(e, $"production at {percent} %");

    /// <summary>
    /// BUG (see <see cref="WorkLeaseTests"/>, skipped until fixed): the work lease is re-entrant for its
    /// owner, so while one replica calls the deployment target, that same replica's recurring tick
    /// takes the lease again and makes the same call a second time. With the fast settings this
    /// happens now and then (in about a third of the runs here, usually at 25 %). While this is true, a duplicate call that
    /// has exactly that signature (it started before the deployment's result was committed) is
    /// reported, not failed; any other duplicate still fails. Set to false once the bug is fixed.
    /// </summary>
    public const bool ToleratesReentrantWorkLeaseBug = false;

    /// <summary>
    /// Asserts one Promoted per stage, one ValidationStarted, one DeploymentSucceeded and one
    /// deployment call per target (staging and each production percent). Returns the duplicate
    /// calls tolerated under <see cref="ToleratesReentrantWorkLeaseBug"/>, for the test output.
    /// </summary>
    public static IReadOnlyList<string> AssertEachStepExactlyOnce(JsonObject release, string context)
    {
        var audit = ShipBotProcess.Audit(release);
        var why = $"{context}\n{ShipBotProcess.Describe(release)}";
        var promoted = audit.Where(e => Is(e, "Promoted")).ToList();
        Assert.True(promoted.Count == Promotions.Length, $"expected {Promotions.Length} Promoted entries, found {promoted.Count}. {why}");
        foreach (var promotion in Promotions)
        {
            var count = promoted.Count(e => DetailContains(e, promotion));
            Assert.True(count == 1, $"'{promotion}' is audited {count} times, expected exactly once. {why}");
        }

        var validation = audit.Count(e => Is(e, "ValidationStarted"));
        Assert.True(validation == 1, $"ValidationStarted is audited {validation} times, expected once. {why}");
        Assert.DoesNotContain(audit, e => Is(e, "RollbackStarted") || Is(e, "BreachDetected") || Is(e, "DeploymentFailed"));

        var tolerated = new List<string>();
        foreach (var target in new[] { "staging at 100 %" }.Concat(ProductionPercents.Select(p => $"production at {p} %")))
        {
            var succeeded = audit.Where(e => Is(e, "DeploymentSucceeded") && DetailContains(e, $"deployed to {target}:")).ToList();
            Assert.True(succeeded.Count == 1, $"{target} is recorded as deployed {succeeded.Count} times, expected once. {why}");
            var calls = audit.Where(e => Is(e, "deployment call") && e["detail"]!.GetValue<string>().StartsWith($"{target}:", StringComparison.Ordinal)).ToList();
            Assert.True(calls.Count >= 1, $"the deployment target was never called for {target}. {why}");
            if (calls.Count == 1)
            {
                continue;
            }

            var committed = succeeded[0]["at"]!.GetValue<DateTimeOffset>();
            var overlapping = calls.All(c => CallStartedAt(c) <= committed);
            Assert.True(
                ToleratesReentrantWorkLeaseBug && overlapping,
                $"the deployment target was called {calls.Count} times for {target}, expected once" +
                (overlapping ? string.Empty : " (a call started after the deployment was committed)") + $". {why}");
            tolerated.Add($"KNOWN BUG (re-entrant work lease): {target} called {calls.Count} times, all before its result was committed at {committed:HH:mm:ss.fff}");
        }

        return tolerated;
    }

    /// <summary>A deployment call's audit time minus its duration ("… → ok in 18 ms: …").</summary>
    private static DateTimeOffset CallStartedAt(JsonObject call)
    {
        var detail = call["detail"]!.GetValue<string>();
        var match = System.Text.RegularExpressions.Regex.Match(detail, @" in (\d+) ms");
        var ms = match.Success ? double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        return call["at"]!.GetValue<DateTimeOffset>() - TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>alice starts the release and settles the checklist with a command; returns the start reply.</summary>
    public static async Task<JsonObject> StartAndConfirmAsync(ShipBotProcess starter, ShipBotProcess confirmer, string version)
    {
        var release = $"demo@{version}";
        var started = await starter.SayAsync("alice", $"/ship start demo {version} faster checkout");
        Assert.True(Text(started).Contains($"Started {release}", StringComparison.Ordinal), $"start on {starter.Name}: {Text(started)}\n{starter.Log()}");
        var checkedItems = await confirmer.SayAsync("alice", $"/ship check {release} {string.Join(' ', BlockingItems)}");
        Assert.True((await confirmer.StateAsync(release)) == "AwaitingApproval", $"check on {confirmer.Name}: {Text(checkedItems)}\n{confirmer.Log()}");
        return started;
    }

    public static async Task ApproveAsync(ShipBotProcess host, string release)
    {
        var approved = await host.SayAsync("bob", $"/ship approve {release}");
        Assert.True(Text(approved).Contains("goes to staging", StringComparison.Ordinal), $"approve on {host.Name}: {Text(approved)}\n{host.Log()}");
    }

    /// <summary>alice ticks "user-facing functionality verified" once the release validates.</summary>
    public static async Task VerifyAsync(ShipBotProcess host, string release)
    {
        var verified = await host.SayAsync("alice", $"/ship check {release} ufv");
        var item = (await host.ReleaseAsync(release))["checklist"]!.AsArray().OfType<JsonObject>().Single(i => i["id"]!.GetValue<string>() == "ufv");
        Assert.True(item["state"]!.GetValue<string>() == "confirmed", $"ufv on {host.Name}: {Text(verified)}\n{host.Log()}");
    }
}
