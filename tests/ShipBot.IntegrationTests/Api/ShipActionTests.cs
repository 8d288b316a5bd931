using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using ShipBot.Coordinator.Identity;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Api;

/// <summary>
/// The repository's composite action (.github/actions/ship/ship.sh) against the real write API:
/// the step starts the release, waits through the long poll while a person approves, and reports
/// the state it reached.
/// </summary>
public sealed class ShipActionTests
{
    private static readonly string[] BlockingItems =
        ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    [Fact]
    public async Task ShipScript_AgainstTheApi_StartsOnceWaitsForTheApprovalAndReportsTheState()
    {
        await using var host = await ShipBotHost.StartAsync(new Dictionary<string, string?>
        {
            ["ShipBot:Console:Mode"] = "Off",
            ["ShipBot:Services:demo:Requesters:1"] = "token:ci",
            ["ShipBot:Services:demo:Approvers:1"] = "token:release-manager",
        });
        var tokens = host.Services.GetRequiredService<ApiTokenService>();
        var ci = (await tokens.CreateAsync("ci", [TokenScopes.ReleasesWrite], "dave"))!.Value;
        var manager = (await tokens.CreateAsync("release-manager", [TokenScopes.ReleasesWrite], "dave"))!.Value;
        var outputs = Path.GetTempFileName();
        try
        {
            using var process = Start(host, ci, outputs);
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();

            // A person (here the release manager's token) settles the checklist and approves while the step waits.
            var store = host.Services.GetRequiredService<IReleaseStore>();
            var id = new ReleaseId("demo", "1.4.2");
            Assert.True(await Eventually.TrueAsync(async () => await store.GetAsync(id) is not null, Eventually.Deadline * 2), "the step never created the release");
            using var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", manager);
            using (var check = await client.PostAsJsonAsync("/api/releases/demo@1.4.2/actions/check", new { items = BlockingItems }))
            {
                Assert.Equal(HttpStatusCode.OK, check.StatusCode);
            }

            using (var approve = await client.PostAsync(new Uri("/api/releases/demo@1.4.2/actions/approve", UriKind.Relative), null))
            {
                Assert.Equal(HttpStatusCode.OK, approve.StatusCode);
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await process.WaitForExitAsync(deadline.Token);
            var output = await stdout + await stderr;
            Assert.True(process.ExitCode == 0, output);
            var reported = await File.ReadAllTextAsync(outputs);
            Assert.Contains("release=demo@1.4.2", reported, StringComparison.Ordinal);
            Assert.Matches("state=(Canary|EarlyAdopters|GeneralAvailability|Full|Validating)", reported);
            var release = (await store.GetAsync(id))!;
            Assert.Equal("token:ci", release.Requester.Id);
            Assert.Equal("0123abc", release.Provenance?.Commit);
            Assert.Equal("https://github.com/acme/demo/actions/runs/777", release.Provenance?.PipelineRun);
            Assert.Single(await store.ListByServiceAsync("demo"));
        }
        finally
        {
            File.Delete(outputs);
        }
    }

    private static Process Start(ShipBotHost host, string token, string outputs)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(RepositoryRoot(), ".github", "actions", "ship", "ship.sh"));
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["SHIPBOT_URL"] = host.BaseAddress.ToString(),
            ["SHIPBOT_TOKEN"] = token,
            ["SHIPBOT_SERVICE"] = "demo",
            ["SHIPBOT_VERSION"] = "1.4.2",
            ["SHIPBOT_CHANGES"] = "faster checkout",
            ["SHIPBOT_COMMIT"] = "0123abc",
            ["SHIPBOT_PULL_REQUESTS"] = "https://github.com/acme/demo/pull/41",
            ["SHIPBOT_WAIT_FOR"] = "Canary",
            ["SHIPBOT_POLL_SECONDS"] = "5",
            ["SHIPBOT_RETRY_SECONDS"] = "1",
            ["SHIPBOT_TIMEOUT_MINUTES"] = "4",
            ["GITHUB_SERVER_URL"] = "https://github.com",
            ["GITHUB_REPOSITORY"] = "acme/demo",
            ["GITHUB_RUN_ID"] = "777",
            ["GITHUB_OUTPUT"] = outputs,
        })
        {
            info.Environment[key] = value;
        }

        return Process.Start(info)!;
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ShipBot.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("ShipBot.sln not found above the test's directory");
    }
}
