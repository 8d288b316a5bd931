using LibGit2Sharp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ShipBot.Core.Commands;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Records.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class GitReleaseRecordsTests
{
    private const string ReleaseFile = "releases/2026-03-03-checkout-1.4.2.md";

    [Fact]
    public async Task Milestones_ReleaseFromStartToCompleted_OneCommitEachByShipBot()
    {
        await using var s = await RecordsScenario.CreateAsync();
        await s.WhenWrittenAsync();
        Assert.Equal(["ShipBot: records brought up to date"], s.Commits().Select(c => c.Subject));

        await s.CreateReleaseAsync();
        await s.ToOperatingAsync();
        for (var checkpoint = 1; checkpoint <= 3; checkpoint++)
        {
            var n = checkpoint;
            s.Time.Advance(TimeSpan.FromDays(1));
            await s.DoAsync((r, now) => r.RecordOutcome(new OutcomeReport(n, now, [$"checkout conversion: 2.{n} % vs target ≥ 2.1 % — pass"]), lastCheckpoint: n == 3, now));
        }

        await s.WhenWrittenAsync();
        var commits = s.Commits();
        Assert.Equal(
        [
            "ShipBot: records brought up to date",
            "checkout@1.4.2: @alice started release checkout@1.4.2",
            "checkout@1.4.2: @bob approved checkout@1.4.2 (1 of 1)",
            "checkout@1.4.2: checkout@1.4.2 passed staging and starts Canary 5 % (bake time over, health green)",
            "checkout@1.4.2: checkout@1.4.2 promoted to Early adopters 25 % (bake time over, health green)",
            "checkout@1.4.2: checkout@1.4.2 promoted to GA 50 % (bake time over, health green)",
            "checkout@1.4.2: checkout@1.4.2 promoted to Full 100 % (bake time over, health green)",
            "checkout@1.4.2: checkout@1.4.2 is at 100 %; post-deployment validation until 10:30:00 UTC",
            "checkout@1.4.2: checkout@1.4.2 handed over to operations",
            "checkout@1.4.2: outcome checkpoint 1 of checkout@1.4.2: checkout conversion: 2.1 % vs target ≥ 2.1 % — pass",
            "checkout@1.4.2: outcome checkpoint 2 of checkout@1.4.2: checkout conversion: 2.2 % vs target ≥ 2.1 % — pass",
            "checkout@1.4.2: checkout@1.4.2 completed: every outcome checkpoint reported, every flag removed",
        ],
            commits.Select(c => c.Subject));
        Assert.All(commits, c => Assert.Equal("ShipBot <shipbot@localhost>", c.Author));
        Assert.All(commits.Skip(1), c => Assert.Equal([ReleaseFile, "STATUS.md"], c.Paths.OrderBy(p => p == "STATUS.md")));

        var record = s.ReadFile(ReleaseFile);
        Assert.StartsWith("# Release contract: checkout@1.4.2", record, StringComparison.Ordinal);
        Assert.Contains("- conversion ≥ 2.1 %", record, StringComparison.Ordinal);
        Assert.Contains("| Canary 5 % | 2026-03-03 09:", record, StringComparison.Ordinal);
        Assert.True(record.IndexOf("## Outcome report 1", StringComparison.Ordinal) < record.IndexOf("## Outcome report 3", StringComparison.Ordinal));
        Assert.True(record.IndexOf("## Rollout", StringComparison.Ordinal) < record.IndexOf("## Outcome report 1", StringComparison.Ordinal));
        Assert.Contains("- checkout conversion: 2.3 % vs target ≥ 2.1 % — pass", record, StringComparison.Ordinal);
        Assert.Contains("## Active\n\nNone.", s.ReadFile("STATUS.md").ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Null(s.Records.Current.LastError);
    }

    [Fact]
    public async Task Status_ActiveAndOperatingReleases_AreListedWithLinks()
    {
        await using var s = await RecordsScenario.CreateAsync();
        await s.CreateReleaseAsync();
        await s.ToCanaryAsync();
        await s.WhenWrittenAsync();

        var status = s.ReadFile("STATUS.md").ReplaceLineEndings("\n");
        Assert.Contains($"| [checkout@1.4.2]({ReleaseFile}) | Canary | Canary 5 % | @alice | 2026-03-03 09:00 |", status, StringComparison.Ordinal);

        await s.ToOperatingAsyncFromCanary();
        await s.WhenWrittenAsync();
        status = s.ReadFile("STATUS.md").ReplaceLineEndings("\n");
        Assert.Contains("## Active\n\nNone.", status, StringComparison.Ordinal);
        Assert.Contains($"| [checkout@1.4.2]({ReleaseFile}) | 2026-03-03 ", status, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Milestones_Rollback_StartedAndDoneAreCommits()
    {
        await using var s = await RecordsScenario.CreateAsync();
        await s.CreateReleaseAsync();
        await s.ToCanaryAsync();
        await s.DoAsync((r, now) => r.BeginRollback("customer reports of broken carts", "olga", [], now));
        await s.ConfirmDeploymentAsync();
        await s.WhenWrittenAsync();

        var subjects = s.Commits().Select(c => c.Subject).ToList();
        Assert.Equal("checkout@1.4.2: @olga started rolling back checkout@1.4.2 at Canary 5 %: customer reports of broken carts", subjects[^2]);
        Assert.Equal("checkout@1.4.2: checkout@1.4.2 rolled back: 200 OK", subjects[^1]);
        Assert.Contains("Rolled back at Canary 5 % on 2026-03-03 09:", s.ReadFile(ReleaseFile), StringComparison.Ordinal);
        Assert.DoesNotContain("checkout@1.4.2]", s.ReadFile("STATUS.md"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Milestones_SameTransitionObservedTwice_CommitsOnce()
    {
        await using var s = await RecordsScenario.CreateAsync();
        await s.CreateReleaseAsync();
        var change = await s.DoAsync((r, now) => r.Abort(RecordsScenario.Alice, "wrong version", now));
        await s.Records.OnTransitionAsync(s.Release, change.Next, change.Events);
        await s.WhenWrittenAsync();

        Assert.Single(s.Commits(), c => c.Subject.Contains("aborted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Signals_RecordedAndFilledIn_AreFilesUnderSignals()
    {
        await using var s = await RecordsScenario.CreateAsync();
        var at = s.Time.GetUtcNow();
        await s.Records.OnSignalAsync(new Signal("sig-42", SignalKind.Incident, "checkout@1.4.2", "(to be filled in)", "olga", at, Open: true));
        await s.Records.OnSignalAsync(new Signal("sig-42", SignalKind.Incident, "checkout@1.4.2", "Carts emptied on refresh for 12 minutes.", "olga", at));
        await s.WhenWrittenAsync();

        var commits = s.Commits();
        Assert.Equal(["Signal sig-42 opened about checkout@1.4.2: incident", "Signal sig-42 recorded about checkout@1.4.2: incident"], commits.Skip(1).Select(c => c.Subject));
        Assert.All(commits.Skip(1), c => Assert.Equal(["signals/2026-03-03-sig-42.md"], c.Paths));
        var file = s.ReadFile("signals/2026-03-03-sig-42.md");
        Assert.StartsWith("# Signal sig-42: incident", file, StringComparison.Ordinal);
        Assert.Contains("Carts emptied on refresh for 12 minutes.", file, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadOnlyFolder_WriteFails_TheReleaseGoesOnAndTheStatusSaysWhyUntilItRecovers()
    {
        await using var s = await RecordsScenario.CreateAsync();
        await s.WhenWrittenAsync();
        ReadOnlyFolder.Lock(s.WorkTree);

        // The observer returns at once and never throws: the release is not held up.
        await s.CreateReleaseAsync();
        await s.ToStagingAsync();
        Assert.Equal(ReleaseState.Staging, s.Release.State);

        await s.WaitUntilAsync(() => s.Records.Current.LastError is not null, "the write error");
        var failed = s.Records.Current;
        Assert.StartsWith($"cannot write {ReleaseFile} in {s.WorkTree}: ", failed.LastError, StringComparison.Ordinal);
        Assert.Equal(2, failed.Pending); // created, approved
        Assert.False(failed.IsHealthy);
        Assert.NotNull(failed.NextRetryAt);
        Assert.StartsWith("Records: cannot write releases/", failed.Describe(), StringComparison.Ordinal);
        Assert.Single(s.Commits());

        ReadOnlyFolder.Unlock(s.WorkTree);
        await s.WaitUntilAsync(() => s.Records.Current.Pending == 0, "the retried writes", advanceClock: true);

        Assert.Null(s.Records.Current.LastError);
        Assert.Equal(3, s.Commits().Count);
        Assert.StartsWith("Records: last commit ", s.Records.Current.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_Enabled_EachMilestoneReachesTheRemote()
    {
        await using var s = await RecordsScenario.CreateAsync(bareRemote: true);
        await s.CreateReleaseAsync();
        await s.WaitUntilAsync(() => s.Records.Current is { Pending: 0, Unpushed: false }, "the push");

        var remote = Path.Combine(s.Folder, "origin.git");
        Assert.Equal(["ShipBot: records brought up to date", "checkout@1.4.2: @alice started release checkout@1.4.2"], s.Commits(remote).Select(c => c.Subject));
    }

    [Fact]
    public async Task Push_RemoteGone_CommitsLocallyReportsAndPushesWhenItIsBack()
    {
        await using var s = await RecordsScenario.CreateAsync(bareRemote: true);
        await s.WaitUntilAsync(() => s.Records.Current is { Pending: 0, Unpushed: false }, "the first push");
        var remote = Path.Combine(s.Folder, "origin.git");
        var moved = remote + ".away";
        Directory.Move(remote, moved);

        await s.CreateReleaseAsync();
        await s.WaitUntilAsync(() => s.Records.Current.LastError is not null, "the push error");
        Assert.StartsWith("push to origin failed", s.Records.Current.LastError, StringComparison.Ordinal);
        Assert.True(s.Records.Current.Unpushed);
        Assert.Equal(2, s.Commits().Count);

        Directory.Move(moved, remote);
        await s.WaitUntilAsync(() => s.Records.Current is { Unpushed: false, LastError: null }, "the retried push", advanceClock: true);
        Assert.Equal(2, s.Commits(remote).Count);
    }

    [Fact]
    public async Task Push_RemoteMovedOn_MergesAndPushes()
    {
        await using var s = await RecordsScenario.CreateAsync(bareRemote: true);
        await s.WaitUntilAsync(() => s.Records.Current is { Pending: 0, Unpushed: false }, "the first push");

        // Someone else (another replica, a person) pushes a commit of their own.
        var remote = Path.Combine(s.Folder, "origin.git");
        var other = Path.Combine(s.Folder, "other");
        Repository.Clone(remote, other);
        using (var repo = new Repository(other))
        {
            File.WriteAllText(Path.Combine(other, "README.md"), "Release records of the shop.\n");
            Commands.Stage(repo, "README.md");
            var person = new Signature("Rita", "rita@example.com", s.Time.GetUtcNow());
            repo.Commit("Explain the repository", person, person);
            repo.Network.Push(repo.Network.Remotes["origin"], $"refs/heads/{repo.Head.FriendlyName}", new PushOptions());
        }

        await s.CreateReleaseAsync();
        await s.WaitUntilAsync(() => s.Records.Current is { Pending: 0, Unpushed: false, LastError: null }, "the merged push", advanceClock: true);

        var subjects = s.Commits(remote).Select(c => c.Subject).ToList();
        Assert.Contains("Explain the repository", subjects);
        Assert.Contains("checkout@1.4.2: @alice started release checkout@1.4.2", subjects);
        Assert.True(File.Exists(Path.Combine(s.WorkTree, "README.md")));
    }

    [Fact]
    public void Options_Invalid_FailStartUpNamingTheKey()
    {
        var folder = Directory.CreateTempSubdirectory("shipbot-records-options-").FullName;
        try
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ShipBot:Records:Repository"] = folder,
                ["ShipBot:Records:Username"] = "shipbot",
            }).Build();
            var services = new ServiceCollection();
            Assert.True(services.AddShipBotRecords(configuration));
            using var provider = services.BuildServiceProvider();

            var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<GitRecordsOptions>>().Value);

            Assert.Contains(e.Failures, f => f.StartsWith($"ShipBot:Records:Repository '{folder}' is not a git work tree", StringComparison.Ordinal));
            Assert.Contains("ShipBot:Records: set both Username and Password (an access token) for an https remote, or neither.", e.Failures);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Options_NoRepository_RegistersADisabledStatus()
    {
        var services = new ServiceCollection();
        Assert.False(services.AddShipBotRecords(new ConfigurationBuilder().Build()));
        using var provider = services.BuildServiceProvider();

        var status = provider.GetRequiredService<IReleaseRecordsStatus>().Current;

        Assert.False(status.Enabled);
        Assert.Equal("Records: no repository configured", status.Describe());
        Assert.Empty(provider.GetServices<IReleaseObserver>());
    }
}
