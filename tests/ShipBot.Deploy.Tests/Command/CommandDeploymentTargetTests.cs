using System.Globalization;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.Command;
using ShipBot.Deploy.Smoke;
using ShipBot.Testing;

namespace ShipBot.Deploy.Tests.Command;

/// <summary>
/// The command target running real bash scripts written to a temporary directory (Linux and
/// macOS). The script timeout is on a fake clock only the test moves: a script is never killed
/// because the machine was slow to start bash.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CommandDeploymentTargetTests : IDisposable
{
    private static readonly ReleaseId Demo = new("demo", "1.4.2");
    private readonly string _dir = Directory.CreateTempSubdirectory("shipbot-command-").FullName;
    private readonly WatchedTimeProvider _time = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ApplyAsync_ScriptExits0_SucceedsWithExitCodeAndOutput()
    {
        var script = Script("ok.sh", """
            echo "deploying $SHIPBOT_RELEASE to $SHIPBOT_PERCENT %"
            echo "done"
            exit 0
            """);
        var sut = CreateSut(script);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 25)));

        Assert.True(result.Succeeded, result.Detail);
        Assert.StartsWith("exit code 0; output: ", result.Detail, StringComparison.Ordinal);
        Assert.Contains("deploying demo@1.4.2 to 25 %", result.Detail, StringComparison.Ordinal);
        Assert.Contains("done", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_ScriptExits3_FailsWithExitCodeAndStderr()
    {
        var script = Script("fail.sh", """
            echo "pushing image"
            echo "error: image demo:1.4.2 not found" >&2
            exit 3
            """);
        var sut = CreateSut(script);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)));

        Assert.False(result.Succeeded);
        Assert.StartsWith("exit code 3;", result.Detail, StringComparison.Ordinal);
        Assert.Contains("error: image demo:1.4.2 not found", result.Detail, StringComparison.Ordinal);
        Assert.Contains("pushing image", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_NoOutput_SaysNone()
    {
        var sut = CreateSut(Script("quiet.sh", "exit 0"));

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)));

        Assert.Equal("exit code 0; output: (none)", result.Detail);
    }

    [Fact]
    public async Task ApplyAsync_ScriptHangsPastTimeout_IsKilledWithItsChildrenAndFailsQuickly()
    {
        var pids = Path.Combine(_dir, "pids");
        var script = Script("hang.sh", $"""
            echo "started"
            sleep 30 &
            echo "$$ $!" > '{pids}'
            wait
            echo "never printed"
            """);
        var sut = CreateSut(script, o => o.Timeout = TimeSpan.FromSeconds(1));

        // The script has started its child (whatever that took); now its second passes.
        var apply = sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)));
        await Eventually.UntilAsync(() => File.Exists(pids) && File.ReadAllText(pids).Trim().Split(' ').Length == 2, "the script to start its child");
        var stoppedAt = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromSeconds(1));
        var result = await apply;
        var took = _time.GetUtcNow() - stoppedAt;

        Assert.False(result.Succeeded);
        Assert.StartsWith("killed after 1 s timeout", result.Detail, StringComparison.Ordinal);
        Assert.Contains("started", result.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("never printed", result.Detail, StringComparison.Ordinal);
        Assert.True(took < TimeSpan.FromSeconds(15), $"took {took}");
        var ids = File.ReadAllText(pids).Split(' ', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, ids.Count);
        foreach (var pid in ids)
        {
            Assert.True(await GoneAsync(pid), $"process {pid} is still running after the timeout");
        }
    }

    [Fact]
    public async Task ApplyAsync_ArgumentsWithSpacesQuotesAndShellSyntax_ArePassedLiterallyWithoutAShell()
    {
        var args = Path.Combine(_dir, "args");
        var marker = Path.Combine(_dir, "injected");
        var script = Script("args.sh", $"""
            printf '%s\n' "$#" "$@" > '{args}'
            """);
        string[] arguments =
        [
            "--name",
            "two words",
            "it's \"quoted\"",
            $"$(touch {marker})",
            $"`touch {marker}`",
            $"a; touch {marker}",
            $"x && touch {marker} | cat",
            "*",
            "$HOME",
            "{{service}}@{{version}} to {{percent}} % in {{environment}} rollback={{rollback}}",
            string.Empty,
        ];
        var sut = CreateSut(script, o => o.Arguments = [.. arguments]);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 25)));

        Assert.True(result.Succeeded, result.Detail);
        var lines = File.ReadAllLines(args);
        Assert.Equal(arguments.Length.ToString(CultureInfo.InvariantCulture), lines[0]);
        string[] expected = [.. arguments[..^2], "demo@1.4.2 to 25 % in production rollback=false", string.Empty];
        Assert.Equal(expected, lines[1..]);
        Assert.False(File.Exists(marker), "an argument was interpreted by a shell");
    }

    [Fact]
    public async Task ApplyAsync_Always_PutsTheStageChangeInShipBotEnvironmentVariables()
    {
        var env = Path.Combine(_dir, "env");
        var script = Script("env.sh", $"""
            env | grep '^SHIPBOT_' | sort > '{env}'
            """);
        var sut = CreateSut(script);

        var result = await sut.ApplyAsync(new DeploymentRequest(Demo, new DeploymentIntent(DeploymentEnvironment.Staging, 100), "demo@1.4.2:3:staging:100:False"));

        Assert.True(result.Succeeded, result.Detail);
        var variables = File.ReadAllLines(env).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("demo@1.4.2", variables["SHIPBOT_RELEASE"]);
        Assert.Equal("demo", variables["SHIPBOT_SERVICE"]);
        Assert.Equal("1.4.2", variables["SHIPBOT_VERSION"]);
        Assert.Equal("staging", variables["SHIPBOT_ENVIRONMENT"]);
        Assert.Equal("100", variables["SHIPBOT_PERCENT"]);
        Assert.Equal("false", variables["SHIPBOT_ROLLBACK"]);
        Assert.Equal("demo@1.4.2:3:staging:100:False", variables["SHIPBOT_IDEMPOTENCY_KEY"]);
    }

    [Fact]
    public async Task ApplyAsync_Rollback_SetsShipBotRollbackTrue()
    {
        var script = Script("rollback.sh", """
            echo "rollback=$SHIPBOT_ROLLBACK percent=$SHIPBOT_PERCENT"
            """);
        var sut = CreateSut(script, o => o.Arguments = ["{{rollback}}"]);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 0, IsRollback: true)));

        Assert.True(result.Succeeded, result.Detail);
        Assert.Contains("rollback=true percent=0", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_WorkingDirectory_IsWhereTheProgramRuns()
    {
        var work = Directory.CreateDirectory(Path.Combine(_dir, "work dir")).FullName;
        var sut = CreateSut(Script("pwd.sh", "pwd"), o => o.WorkingDirectory = work);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)));

        Assert.True(result.Succeeded, result.Detail);
        Assert.Contains(work, result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_ScriptReadsStandardInput_GetsEndOfFileInsteadOfHanging()
    {
        var script = Script("stdin.sh", """
            if read -r line; then echo "read: $line"; else echo "stdin closed"; fi
            """);
        var sut = CreateSut(script, o => o.Timeout = TimeSpan.FromSeconds(10));

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)));

        Assert.True(result.Succeeded, result.Detail);
        Assert.Contains("stdin closed", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_LotsOfOutput_KeepsTheTail()
    {
        var sut = CreateSut(Script("noisy.sh", "seq 1 20000"));

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)));

        Assert.True(result.Succeeded, result.Detail);
        Assert.EndsWith("20000", result.Detail, StringComparison.Ordinal);
        Assert.Contains("…", result.Detail, StringComparison.Ordinal);
        Assert.True(result.Detail.Length < 1600, $"detail is {result.Detail.Length} characters");
    }

    [Fact]
    public async Task ApplyAsync_ProgramDoesNotExist_FailsWithoutThrowing()
    {
        var missing = Path.Combine(_dir, "no-such-program");
        var sut = CreateSut(missing);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)));

        Assert.False(result.Succeeded);
        Assert.StartsWith($"could not start {missing}", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_ProgramNotExecutable_FailsWithoutThrowing()
    {
        var path = Path.Combine(_dir, "not-executable.sh");
        File.WriteAllText(path, "#!/bin/bash\nexit 0\n");
        var sut = CreateSut(path);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)));

        Assert.False(result.Succeeded);
        Assert.StartsWith("could not start", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_CallerCancels_KillsTheProcessAndThrows()
    {
        var pids = Path.Combine(_dir, "pids");
        var script = Script("slow.sh", $"""
            echo "$$" > '{pids}'
            sleep 30
            """);
        var sut = CreateSut(script, o => o.Timeout = TimeSpan.FromMinutes(1));
        using var cancel = new CancellationTokenSource();
        var apply = sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)), cancel.Token);
        await WaitForFileAsync(pids);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => apply);
        Assert.True(await GoneAsync(int.Parse(File.ReadAllText(pids).Trim(), CultureInfo.InvariantCulture)), "the script survived the cancellation");
    }

    [Fact]
    public async Task RunSmokeChecksAsync_NoUrls_PassesAndSaysSo()
    {
        var sut = CreateSut(Script("unused.sh", "exit 1"));

        var result = await sut.RunSmokeChecksAsync(Demo, DeploymentEnvironment.Staging);

        Assert.True(result.Succeeded);
        Assert.Contains("no smoke checks configured", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Name_NamesTheProgram()
    {
        Assert.Equal("command set-traffic.sh", CreateSut("/opt/deploy/set-traffic.sh").Name);
    }

    private string Script(string name, string body)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, "#!/bin/bash\n" + body.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private CommandDeploymentTarget CreateSut(string path, Action<CommandTargetOptions>? configure = null)
    {
        var options = new CommandTargetOptions { Path = path, Timeout = TimeSpan.FromSeconds(20) };
        configure?.Invoke(options);
        var http = new HttpClient();
        return new CommandDeploymentTarget(options, new HttpSmokeChecks(http, new SmokeCheckOptions(), _time), _time);
    }

    private static DeploymentRequest Request(DeploymentIntent intent) =>
        new(Demo, intent, $"{Demo}:7:{intent.Environment.Name()}:{intent.Percent}:{intent.IsRollback}");

    /// <summary>Whether a process is gone (or a zombie waiting for its parent), within the generous deadline of <see cref="Eventually"/>.</summary>
    private static Task<bool> GoneAsync(int pid) => Eventually.TrueAsync(() =>
    {
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status))
        {
            return true;
        }

        try
        {
            return File.ReadLines(status).Any(l => l.StartsWith("State:", StringComparison.Ordinal) && l.Contains("zombie", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return true;
        }
    });

    private static Task WaitForFileAsync(string path) =>
        Eventually.UntilAsync(() => File.Exists(path) && new FileInfo(path).Length > 0, $"{Path.GetFileName(path)} to be written");
}
