using System.Diagnostics;
using LibGit2Sharp;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Checklists;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.InMemory;

namespace ShipBot.Records.Tests;

/// <summary>
/// A real git repository in a temporary folder, the in-memory store, a fake clock, and a release
/// of <c>checkout@1.4.2</c> walked through the aggregate's own commands; every change is stored
/// and then told to the records observer, as the coordinator does.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class RecordsScenario : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 3, 3, 9, 0, 0, TimeSpan.Zero);

    public static readonly Person Alice = new("U01ALICE", "alice");

    public static readonly Person Bob = new("U02BOB", "bob");

    public static readonly ServicePolicy Policy = new()
    {
        Name = "checkout",
        Requesters = [Alice.Id],
        Approvers = [Bob.Id],
        Plan = new StagePlan(
            TimeSpan.FromMinutes(5),
            [
                new Stage(StageKind.Canary, 5, TimeSpan.FromMinutes(10)),
                new Stage(StageKind.EarlyAdopters, 25, TimeSpan.FromMinutes(20)),
                new Stage(StageKind.GeneralAvailability, 50, TimeSpan.FromMinutes(30)),
                new Stage(StageKind.Full, 100, TimeSpan.FromMinutes(10)),
            ],
            TimeSpan.FromMinutes(15)),
    };

    private readonly CancellationTokenSource _stop = new();

    private RecordsScenario(string folder, GitRecordsOptions options)
    {
        Folder = folder;
        Options = options;
        Store = new InMemoryReleaseStore(Time);
        Records = new GitReleaseRecords(Microsoft.Extensions.Options.Options.Create(options), Store, new AccessPolicy(new Dictionary<string, ServicePolicy> { ["checkout"] = Policy }, []), Time, NullLogger<GitReleaseRecords>.Instance);
    }

    public string Folder { get; }

    public string WorkTree => Options.Repository!;

    public GitRecordsOptions Options { get; }

    public FakeTimeProvider Time { get; } = new(Start);

    public InMemoryReleaseStore Store { get; }

    public GitReleaseRecords Records { get; }

    public Release Release { get; private set; } = null!;

    /// <summary>A new repository (<c>git init</c>); with <paramref name="bareRemote"/>, a clone of a bare repository that is its "origin".</summary>
    public static async Task<RecordsScenario> CreateAsync(bool bareRemote = false, Action<GitRecordsOptions>? configure = null, bool start = true)
    {
        var folder = Directory.CreateTempSubdirectory("shipbot-records-").FullName;
        var workTree = Path.Combine(folder, "records");
        if (bareRemote)
        {
            var origin = Path.Combine(folder, "origin.git");
            Repository.Init(origin, isBare: true);
            Repository.Clone(origin, workTree);
        }
        else
        {
            Repository.Init(workTree);
        }

        var options = new GitRecordsOptions { Repository = workTree, RetryDelay = TimeSpan.FromSeconds(5), Push = bareRemote };
        configure?.Invoke(options);
        var scenario = new RecordsScenario(folder, options);
        if (start)
        {
            // The start-up catch-up commit first, so it cannot race with the first milestone of a test.
            await scenario.Records.StartAsync(CancellationToken.None);
            await scenario.WaitUntilAsync(() => scenario.Records.Current is { Pending: 0, Unpushed: false }, "the start-up catch-up");
        }

        return scenario;
    }

    /// <summary>The commits of the branch, oldest first.</summary>
    public IReadOnlyList<(string Subject, string Author, IReadOnlyList<string> Paths)> Commits(string? repository = null)
    {
        using var repo = new Repository(repository ?? WorkTree);
        if (repo.Head.Tip is null)
        {
            return [];
        }

        return repo.Commits.QueryBy(new CommitFilter { SortBy = CommitSortStrategies.Topological | CommitSortStrategies.Reverse })
            .Select(c => (c.MessageShort, $"{c.Author.Name} <{c.Author.Email}>", (IReadOnlyList<string>)Changed(repo, c)))
            .ToList();
    }

    public string ReadFile(string relative) => File.ReadAllText(Path.Combine(WorkTree, relative));

    /// <summary>Waits (a generous deadline, never a verdict on speed) until <paramref name="condition"/> holds, advancing the fake clock so retries run.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what, bool advanceClock = false)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"Timed out waiting for {what}; records status: {Records.Current.Describe()}");
            }

            if (advanceClock)
            {
                Time.Advance(TimeSpan.FromSeconds(5));
            }

            await Task.Delay(10);
        }
    }

    public Task WhenWrittenAsync() => WaitUntilAsync(() => Records.Current.Pending == 0, "every milestone written");

    // ---------------------------------------------------------------- the release, step by step

    public async Task CreateReleaseAsync(ReleaseContract? contract = null)
    {
        var change = Release.Create(new ReleaseId("checkout", "1.4.2"), ReleaseKind.Standard, Alice, new Conversation("console", "releases"), Policy,
            contract ?? new ReleaseContract(["faster cart"], "Checkout is faster.", "Redeploy 1.4.1", [], ["conversion ≥ 2.1 %"]), null, Time.GetUtcNow());
        Assert.Equal(CreateOutcome.Created, (await Store.TryCreateAsync(change.Next, [])).Outcome);
        Release = change.Next;
        await Records.OnTransitionAsync(change.Next, change.Next, change.Events);
    }

    public async Task<ReleaseChange> DoAsync(Func<Release, DateTimeOffset, ReleaseChange> command, bool notify = true)
    {
        var before = Release;
        var change = command(before, Time.GetUtcNow());
        Assert.True(change.Modified, change.Message);
        Assert.True(await Store.TrySaveAsync(change.Next, before.Revision, []));
        Release = change.Next;
        if (notify)
        {
            await Records.OnTransitionAsync(before, change.Next, change.Events);
        }

        return change;
    }

    public async Task ToStagingAsync()
    {
        await DoAsync((r, now) => r.TickBySystem(ChecklistCatalog.OnCallNotified, "on-call notified", now));
        var human = Release.BlockingItems.Select(i => i.Id).ToList();
        await DoAsync((r, now) => r.Confirm(Alice, human, now));
        await DoAsync((r, now) => r.Approve(Bob, now));
        await ConfirmDeploymentAsync();
        await DoAsync((r, now) => r.RecordSmokeChecks(true, "3 of 3 passed", now));
    }

    public async Task ToCanaryAsync()
    {
        await ToStagingAsync();
        Time.Advance(Release.Plan.StagingBake);
        await DoAsync((r, now) => r.Promote(now, null, null, Baseline));
        await ConfirmDeploymentAsync();
    }

    public async Task ToOperatingAsync()
    {
        await ToCanaryAsync();
        await ToOperatingAsyncFromCanary();
    }

    public async Task ToOperatingAsyncFromCanary()
    {
        while (Release.State != ReleaseState.Validating)
        {
            Time.Advance(Release.CurrentStage!.Bake);
            await DoAsync((r, now) => r.Promote(now, Healthy(now, r.CurrentStage!.Kind), null));
            if (Release.PendingDeployment is not null)
            {
                await ConfirmDeploymentAsync();
            }
        }

        await DoAsync((r, now) => r.Confirm(Bob, [ChecklistCatalog.UserFacingVerified], now));
        Time.Advance(Release.Plan.ValidationWindow);
        await DoAsync((r, now) => r.CompleteValidation(now, Healthy(now, StageKind.Full), hasRunbook: false));
    }

    public Task ConfirmDeploymentAsync()
    {
        var intent = Release.PendingDeployment!;
        return DoAsync((r, now) => r.RecordDeployment(intent, true, "200 OK", now));
    }

    public static HealthVerdict Healthy(DateTimeOffset now, StageKind stage) =>
        HealthPolicy.Evaluate(
            new HealthSample([.. new[] { (Metrics.ErrorRate, 0.004), (Metrics.LatencyP99, 210.0), (Metrics.Cpu, 0.45), (Metrics.ProbeFailures, 0.0), (Metrics.UserFeedback, 4.2), (Metrics.Adoption, 0.3), (Metrics.Business, 0.051) }
                .Select(r => new HealthReading(r.Item1, r.Item2, "prometheus", now))]),
            HealthPolicy.MetricsFor(stage),
            Baseline,
            new HealthThresholds(),
            now);

    public static IReadOnlyDictionary<string, double> Baseline { get; } = new Dictionary<string, double>
    {
        [Metrics.ErrorRate] = 0.003,
        [Metrics.LatencyP99] = 180,
        [Metrics.Cpu] = 0.4,
        [Metrics.Business] = 0.05,
    };

    public async ValueTask DisposeAsync()
    {
        await Records.StopAsync(CancellationToken.None);
        Records.Dispose();
        _stop.Dispose();
        ReadOnlyFolder.Unlock(WorkTree);
        foreach (var file in Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories))
        {
            File.SetAttributes(file, FileAttributes.Normal); // git marks its objects read-only
        }

        Directory.Delete(Folder, recursive: true);
    }

    private static List<string> Changed(Repository repo, Commit commit)
    {
        var parent = commit.Parents.FirstOrDefault();
        return repo.Diff.Compare<TreeChanges>(parent?.Tree, commit.Tree).Select(c => c.Path).Order(StringComparer.Ordinal).ToList();
    }
}

/// <summary>
/// Makes a folder read-only for the process, as an operator's mistake or a full disk would: for
/// an unprivileged user by its permission bits; for root (which ignores them, as in CI here) with
/// the immutable attribute (<c>chattr +i</c>), which forbids creating files in it.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class ReadOnlyFolder
{
    public static void Lock(string folder)
    {
        if (Environment.IsPrivilegedProcess)
        {
            Chattr("+i", folder);
        }
        else
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
    }

    public static void Unlock(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }

        if (Environment.IsPrivilegedProcess)
        {
            Chattr("-i", folder);
        }
        else
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void Chattr(string flag, string folder)
    {
        using var process = Process.Start(new ProcessStartInfo("chattr", [flag, folder]) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"chattr {flag} {folder} failed: {error}");
        }
    }
}
