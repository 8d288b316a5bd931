using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ShipBot.GitHub.Tests.Pipelines;

/// <summary>
/// The ship action's script, run with bash, curl and jq against a stand-in for ShipBot's release
/// API on Kestrel that follows the contract the action is written against: <c>POST /api/releases</c>
/// with an <c>Idempotency-Key</c> and a bearer token (body: service, version, changes, flags, commit,
/// pullRequests, pipelineRun), and <c>GET /api/releases/{service}@{version}?wait=&lt;state&gt;&amp;timeout=&lt;s&gt;</c>.
/// </summary>
public sealed class ShipScriptTests
{
    private const string Token = "sbt_test_0123456789abcdef";

    [Fact]
    public async Task Ship_ReleaseReachesTheState_StartsOnceWaitsAndReportsIt()
    {
        await using var api = await FakeReleaseApi.StartAsync();
        api.States.Enqueue("Staging");
        api.States.Enqueue("Canary");

        var run = await RunAsync(api, new()
        {
            ["SHIPBOT_CHANGES"] = "faster cart\n  fix tax rounding  \n\n",
            ["SHIPBOT_FLAGS"] = "new-cart, tax-v2",
            ["SHIPBOT_PULL_REQUESTS"] = "https://github.com/acme/checkout/pull/41\nhttps://github.com/acme/checkout/pull/42",
            ["SHIPBOT_WAIT_FOR"] = "canary",
        });

        Assert.True(run.ExitCode == 0, run.Output);
        var create = Assert.Single(api.Requests, r => r.Method == "POST");
        Assert.Equal("/api/releases", create.Path);
        Assert.Equal($"Bearer {Token}", create.Authorization);
        Assert.Equal("github:acme/checkout:777:checkout@1.4.2", create.IdempotencyKey);
        var body = create.Body!;
        Assert.Equal("checkout", (string?)body["service"]);
        Assert.Equal("1.4.2", (string?)body["version"]);
        Assert.Equal(["faster cart", "fix tax rounding"], body["changes"]!.AsArray().Select(c => (string?)c));
        Assert.Equal(["new-cart", "tax-v2"], body["flags"]!.AsArray().Select(c => (string?)c));
        Assert.Equal("0123abc", (string?)body["commit"]);
        Assert.Equal(2, body["pullRequests"]!.AsArray().Count);
        Assert.Equal("https://github.com/acme/checkout/actions/runs/777", (string?)body["pipelineRun"]);
        var waits = api.Requests.Where(r => r.Method == "GET").ToList();
        Assert.Equal(2, waits.Count);
        Assert.All(waits, w => Assert.StartsWith("/api/releases/checkout@1.4.2?wait=Canary&timeout=", w.Path, StringComparison.Ordinal));
        Assert.Contains("state=Canary", run.Outputs, StringComparison.Ordinal);
        Assert.Contains("release=checkout@1.4.2", run.Outputs, StringComparison.Ordinal);
        // The runner swallows the ::add-mask:: command itself and masks the token everywhere else.
        Assert.DoesNotContain(run.Output.Split('\n').Where(l => !l.StartsWith("::add-mask::", StringComparison.Ordinal)), l => l.Contains(Token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ship_ReleaseRolledBack_FailsTheStep()
    {
        await using var api = await FakeReleaseApi.StartAsync();
        api.States.Enqueue("Canary");
        api.States.Enqueue("RollingBack");
        api.States.Enqueue("RolledBack");

        var run = await RunAsync(api, new() { ["SHIPBOT_WAIT_FOR"] = "Operating" });

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("ended RolledBack before reaching Operating", run.Output, StringComparison.Ordinal);
        Assert.Contains("state=RolledBack", run.Outputs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ship_StatePassedWhileWaiting_CountsAsReached()
    {
        await using var api = await FakeReleaseApi.StartAsync();
        api.States.Enqueue("GeneralAvailability");

        var run = await RunAsync(api, new() { ["SHIPBOT_WAIT_FOR"] = "Canary" });

        Assert.True(run.ExitCode == 0, run.Output);
    }

    [Fact]
    public async Task Ship_ServerErrorOnCreate_RetriesWithTheSameKey()
    {
        await using var api = await FakeReleaseApi.StartAsync();
        api.CreateAnswers.Enqueue(503);
        api.CreateAnswers.Enqueue(502);

        var run = await RunAsync(api, new() { ["SHIPBOT_WAIT_FOR"] = "none" });

        Assert.True(run.ExitCode == 0, run.Output);
        var creates = api.Requests.Where(r => r.Method == "POST").ToList();
        Assert.Equal(3, creates.Count);
        Assert.Single(creates.Select(c => c.IdempotencyKey).Distinct());
        Assert.DoesNotContain(api.Requests, r => r.Method == "GET");
    }

    [Fact]
    public async Task Ship_Refused_FailsWithTheProblemDetails()
    {
        await using var api = await FakeReleaseApi.StartAsync();
        api.CreateAnswers.Enqueue(400);

        var run = await RunAsync(api, new());

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("HTTP 400", run.Output, StringComparison.Ordinal);
        Assert.Contains("version: must be a version such as 1.4.2", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ship_NoVersionOnATagPush_TakesItFromTheTag()
    {
        await using var api = await FakeReleaseApi.StartAsync();

        var run = await RunAsync(api, new() { ["SHIPBOT_VERSION"] = string.Empty, ["GITHUB_REF_TYPE"] = "tag", ["GITHUB_REF_NAME"] = "v2.0.1", ["SHIPBOT_WAIT_FOR"] = "none" });

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("2.0.1", (string?)api.Requests.Single().Body!["version"]);
    }

    [Fact]
    public async Task Ship_UnknownWaitState_RefusedBeforeAnyCall()
    {
        await using var api = await FakeReleaseApi.StartAsync();

        var run = await RunAsync(api, new() { ["SHIPBOT_WAIT_FOR"] = "Done" });

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("wait-for 'Done'", run.Output, StringComparison.Ordinal);
        Assert.Empty(api.Requests);
    }

    private static async Task<ScriptRun> RunAsync(FakeReleaseApi api, Dictionary<string, string> settings)
    {
        var dir = Directory.CreateTempSubdirectory("shipbot-action-");
        try
        {
            var outputs = Path.Combine(dir.FullName, "outputs");
            File.WriteAllText(outputs, string.Empty);
            var info = new ProcessStartInfo("bash")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(Path.Combine(WorkflowFilesTests.RepositoryRoot(), ".github", "actions", "ship", "ship.sh"));
            var env = new Dictionary<string, string>
            {
                ["SHIPBOT_URL"] = api.BaseUrl,
                ["SHIPBOT_TOKEN"] = Token,
                ["SHIPBOT_SERVICE"] = "checkout",
                ["SHIPBOT_VERSION"] = "1.4.2",
                ["SHIPBOT_COMMIT"] = "0123abc",
                ["SHIPBOT_POLL_SECONDS"] = "5",
                ["SHIPBOT_RETRY_SECONDS"] = "0",
                ["SHIPBOT_TIMEOUT_MINUTES"] = "10",
                ["GITHUB_SERVER_URL"] = "https://github.com",
                ["GITHUB_REPOSITORY"] = "acme/checkout",
                ["GITHUB_RUN_ID"] = "777",
                ["GITHUB_OUTPUT"] = outputs,
            };
            foreach (var (key, value) in settings)
            {
                env[key] = value;
            }

            foreach (var (key, value) in env)
            {
                info.Environment[key] = value;
            }

            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(deadline.Token);
            return new ScriptRun(process.ExitCode, await stdout + await stderr, File.ReadAllText(outputs));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private sealed record ScriptRun(int ExitCode, string Output, string Outputs);

    private sealed record ApiRequest(string Method, string Path, string? Authorization, string? IdempotencyKey, JsonNode? Body);

    /// <summary>Answers creates (201 unless told otherwise) and waits (the next queued state, else the last one).</summary>
    private sealed class FakeReleaseApi : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private string _state = "Draft";

        private FakeReleaseApi(WebApplication app) => _app = app;

        public string BaseUrl { get; private set; } = string.Empty;

        public ConcurrentQueue<ApiRequest> RequestLog { get; } = new();

        public IReadOnlyList<ApiRequest> Requests => [.. RequestLog];

        public ConcurrentQueue<string> States { get; } = new();

        public ConcurrentQueue<int> CreateAnswers { get; } = new();

        public static async Task<FakeReleaseApi> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var api = new FakeReleaseApi(app);
            app.Run(api.HandleAsync);
            await app.StartAsync();
            api.BaseUrl = app.Urls.Single();
            return api;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        private async Task HandleAsync(HttpContext context)
        {
            var request = context.Request;
            using var reader = new StreamReader(request.Body);
            var text = await reader.ReadToEndAsync();
            RequestLog.Enqueue(new ApiRequest(
                request.Method,
                request.Path + request.QueryString,
                request.Headers.Authorization.ToString(),
                request.Headers["Idempotency-Key"].ToString() is { Length: > 0 } key ? key : null,
                text.Length > 0 ? JsonNode.Parse(text) : null));
            if (request.Headers.Authorization != $"Bearer {Token}")
            {
                context.Response.StatusCode = 401;
                return;
            }

            if (request.Method == "POST" && request.Path == "/api/releases")
            {
                var status = CreateAnswers.TryDequeue(out var s) ? s : 201;
                context.Response.StatusCode = status;
                if (status == 400)
                {
                    context.Response.ContentType = "application/problem+json";
                    await context.Response.WriteAsync("{\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.5.1\",\"title\":\"One or more validation errors occurred.\",\"status\":400,\"errors\":{\"version\":[\"must be a version such as 1.4.2\"]}}");
                }
                else if (status is 200 or 201)
                {
                    await context.Response.WriteAsJsonAsync(new { name = "checkout@1.4.2", state = _state });
                }

                return;
            }

            if (request.Method == "GET" && request.Path.StartsWithSegments("/api/releases"))
            {
                if (States.TryDequeue(out var next))
                {
                    _state = next;
                }

                await context.Response.WriteAsJsonAsync(new { name = "checkout@1.4.2", state = _state });
                return;
            }

            context.Response.StatusCode = 404;
        }
    }
}
