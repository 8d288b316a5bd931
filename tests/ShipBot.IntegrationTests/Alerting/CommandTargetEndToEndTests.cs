using static ShipBot.IntegrationTests.Alerting.AlertmanagerScenario;

namespace ShipBot.IntegrationTests.Alerting;

/// <summary>demo deploys through the command target: real bash scripts, started without a shell.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CommandTargetEndToEndTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("shipbot-e2e-command-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task EveryStageChange_RunsTheCommandWithItsEnvironmentAndAuditsExitCodeAndOutput()
    {
        var log = Path.Combine(_dir, "calls.log");
        var script = Script("deploy.sh", $$"""
            {
              echo "--- $*"
              env | grep '^SHIPBOT_' | sort
            } >> '{{log}}'
            echo "set $SHIPBOT_ENVIRONMENT to $SHIPBOT_PERCENT % (rollback=$SHIPBOT_ROLLBACK)"
            """);
        await using var host = await ShipBotHost.StartAsync(CommandSettings(script, ("ShipBot:Services:demo:Deployment:Command:Arguments:0", "--weight"), ("ShipBot:Services:demo:Deployment:Command:Arguments:1", "{{percent}}")));
        await CanaryAsync(host);

        await PostAsync(host, Notification());
        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack");

        var calls = Audit(rolledBack).Where(a => (string?)a["action"] == "deployment call").Select(a => (string)a["detail"]!).ToList();
        Assert.Contains(calls, d => d.StartsWith("staging at 100 %: command deploy.sh → ok", StringComparison.Ordinal) && d.Contains("exit code 0; output: set staging to 100 % (rollback=false)", StringComparison.Ordinal));
        Assert.Contains(calls, d => d.StartsWith("production at 5 %: command deploy.sh → ok", StringComparison.Ordinal) && d.Contains("exit code 0; output: set production to 5 % (rollback=false)", StringComparison.Ordinal));
        Assert.Contains(calls, d => d.StartsWith("rollback to the previous version: command deploy.sh → ok", StringComparison.Ordinal) && d.Contains("(rollback=true)", StringComparison.Ordinal));

        var text = File.ReadAllText(log);
        Assert.Contains("--- --weight 100", text, StringComparison.Ordinal);
        Assert.Contains("--- --weight 5", text, StringComparison.Ordinal);
        Assert.Contains("SHIPBOT_RELEASE=demo@1.0.0", text, StringComparison.Ordinal);
        Assert.Contains("SHIPBOT_SERVICE=demo", text, StringComparison.Ordinal);
        Assert.Contains("SHIPBOT_VERSION=1.0.0", text, StringComparison.Ordinal);
        Assert.Contains("SHIPBOT_ENVIRONMENT=staging", text, StringComparison.Ordinal);
        Assert.Contains("SHIPBOT_ENVIRONMENT=production", text, StringComparison.Ordinal);
        Assert.Contains("SHIPBOT_PERCENT=5", text, StringComparison.Ordinal);
        Assert.Contains("SHIPBOT_ROLLBACK=true", text, StringComparison.Ordinal);
        Assert.Matches(@"SHIPBOT_IDEMPOTENCY_KEY=demo@1\.0\.0:\d+:production:5:False", text);
    }

    [Fact]
    public async Task CommandFailsAtCanary_RollsBackWithExitCodeAndStderrInTheAudit()
    {
        var script = Script("deploy.sh", """
            if [ "$SHIPBOT_ENVIRONMENT" = production ] && [ "$SHIPBOT_ROLLBACK" = false ]; then
              echo "Error from server (Forbidden): deployments.apps \"demo\" is forbidden" >&2
              exit 3
            fi
            echo "ok"
            """);
        await using var host = await ShipBotHost.StartAsync(CommandSettings(script));
        await ApproveAsync(host);

        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack");

        var failed = Assert.Single(Audit(rolledBack), a => (string?)a["action"] == "deployment call" && ((string)a["detail"]!).StartsWith("production at 5 %", StringComparison.Ordinal));
        var detail = (string)failed["detail"]!;
        Assert.Contains("command deploy.sh → failed", detail, StringComparison.Ordinal);
        Assert.Contains("exit code 3", detail, StringComparison.Ordinal);
        Assert.Contains("is forbidden", detail, StringComparison.Ordinal);
        Assert.Contains(Audit(rolledBack), a => (string?)a["action"] == "deployment call" && ((string)a["detail"]!).StartsWith("rollback to the previous version: command deploy.sh → ok", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CommandHangsAtStaging_IsKilledAtItsTimeoutAndTheReleaseHaltsBeforeProduction()
    {
        var script = Script("deploy.sh", """
            echo "waiting for rollout"
            sleep 30
            """);
        // Long enough for bash to start and print on a busy machine; the script sleeps far longer.
        await using var host = await ShipBotHost.StartAsync(CommandSettings(script, ("ShipBot:Services:demo:Deployment:Command:Timeout", "00:00:10")));
        await ApproveAsync(host);

        var halted = await host.WaitForStateAsync(Release, "Halted");

        Assert.Equal(-1, (int)halted["stageIndex"]!);
        Assert.Contains(Audit(halted), a => (string?)a["action"] == "deployment call"
            && ((string)a["detail"]!).Contains("killed after 10 s timeout; output: waiting for rollout", StringComparison.Ordinal));
        Assert.DoesNotContain(Audit(halted), a => ((string)a["detail"]!).StartsWith("production", StringComparison.Ordinal));
    }

    private string Script(string name, string body)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, "#!/bin/bash\n" + body.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static Dictionary<string, string?> CommandSettings(string script, params (string Key, string? Value)[] more) =>
        Settings([("ShipBot:Services:demo:Deployment:Command:Path", script), .. more]);
}
