using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ShipBot.Coordinator.Identity;
using ShipBot.Core.Cards;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Api;

/// <summary>
/// The write API over Kestrel as a pipeline uses it, with the console off so every call needs an
/// API token: idempotent create, separation of duties, scopes, the long poll, and malformed bodies
/// answered with problem details that change nothing.
/// </summary>
public sealed class ReleaseWriteApiTests
{
    private static readonly string[] BlockingItems =
        ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    private static readonly string[] MainLine = ["Staging", "Canary", "EarlyAdopters", "GeneralAvailability", "Full", "Validating", "Operating"];

    /// <summary>The console off (tokens only); the pipeline's token may request and approve demo, a second token may approve.</summary>
    private static Dictionary<string, string?> Settings() => new()
    {
        ["ShipBot:Console:Mode"] = "Off",
        ["ShipBot:Services:demo:Requesters:1"] = "token:ci",
        ["ShipBot:Services:demo:Approvers:1"] = "token:ci",
        ["ShipBot:Services:demo:Approvers:2"] = "token:release-manager",
    };

    private static object Body(string version = "1.4.2") => new
    {
        service = "demo",
        version,
        changes = new[] { "faster checkout", "new receipts" },
        flags = new[] { "receipts-v2" },
        commit = "0123456789abcdef0123456789abcdef01234567",
        pullRequests = new[] { "https://github.com/acme/demo/pull/41", "https://github.com/acme/demo/pull/42" },
        pipelineRun = "https://github.com/acme/demo/actions/runs/1001",
    };

    [Fact]
    public async Task Create_RetriedWithTheSameIdempotencyKey_OneReleaseAndTheSameAnswer()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        using var ci = await ClientAsync(host, "ci", TokenScopes.ReleasesWrite);

        using var first = await PostAsync(ci, "/api/releases", Body(), key: "run-1001");
        using var retry = await PostAsync(ci, "/api/releases", Body(), key: "run-1001");
        using var other = await PostAsync(ci, "/api/releases", Body(), key: "run-1002");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal("/api/releases/demo@1.4.2", first.Headers.Location?.OriginalString);
        var a = await first.Content.ReadFromJsonAsync<JsonObject>();
        var b = await retry.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("demo@1.4.2", (string?)a?["name"]);
        Assert.Equal((string?)a?["name"], (string?)b?["name"]);
        Assert.Equal((string?)a?["message"], (string?)b?["message"]);
        Assert.Equal("token:ci", (string?)a?["requester"]);

        // A different key is a different request: the release exists already, so it is refused and changes nothing.
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Equal("application/problem+json", other.Content.Headers.ContentType?.MediaType);

        var store = host.Services.GetRequiredService<IReleaseStore>();
        Assert.Single(await store.ListByServiceAsync("demo"));
        var audit = await store.GetAuditAsync(new ReleaseId("demo", "1.4.2"));
        Assert.Single(audit, e => e.Action == nameof(ReleaseEventKind.Created));

        // Where it came from is stored, shown in the API, on the card and in the contract.
        var release = (await store.GetAsync(new ReleaseId("demo", "1.4.2")))!;
        Assert.Equal("0123456789abcdef0123456789abcdef01234567", release.Provenance?.Commit);
        Assert.Equal(2, release.Provenance?.PullRequests.Count);
        Assert.Equal("https://github.com/acme/demo/actions/runs/1001", (string?)a?["provenance"]?["pipelineRun"]);
        var card = ReleaseCards.Release(release, null, DateTimeOffset.UtcNow);
        var source = card.Blocks.OfType<FactsBlock>().SelectMany(f => f.Facts).Single(f => f.Label == "Source");
        Assert.Contains("commit 0123456789ab", source.Value, StringComparison.Ordinal);
        Assert.Contains("https://github.com/acme/demo/pull/42", source.Value, StringComparison.Ordinal);
        var contract = ContractDocument.Markdown(release, host.Services.GetRequiredService<Core.Settings.AccessPolicy>().Services["demo"]);
        Assert.Contains("- Commit: `0123456789abcdef0123456789abcdef01234567`", contract, StringComparison.Ordinal);
        Assert.Contains("- Pipeline run: <https://github.com/acme/demo/actions/runs/1001>", contract, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Approve_WithTheTokenThatRequestedTheRelease_403AndNothingChanges()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        using var ci = await ClientAsync(host, "ci", TokenScopes.ReleasesWrite);
        using var created = await PostAsync(ci, "/api/releases", Body(), key: "run-1");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var checkedItems = await PostAsync(ci, "/api/releases/demo@1.4.2/actions/check", new { items = BlockingItems, evidence = "https://ci.example.com/runs/1/report" });
        Assert.Equal(HttpStatusCode.OK, checkedItems.StatusCode);
        var before = (await host.Services.GetRequiredService<IReleaseStore>().GetAsync(new ReleaseId("demo", "1.4.2")))!;
        Assert.Contains(before.Checklist, i => i.Id == "qa" && i.Detail!.Contains("https://ci.example.com/runs/1/report", StringComparison.Ordinal));

        using var approve = await PostAsync(ci, "/api/releases/demo@1.4.2/actions/approve", null);

        Assert.Equal(HttpStatusCode.Forbidden, approve.StatusCode);
        var problem = await approve.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Contains("separation of duties", (string?)problem?["detail"], StringComparison.Ordinal);
        var after = (await host.Services.GetRequiredService<IReleaseStore>().GetAsync(new ReleaseId("demo", "1.4.2")))!;
        Assert.Empty(after.Approvals);
        Assert.Equal(before.State, after.State);
    }

    [Fact]
    public async Task Write_WithoutTheScopeOrWithoutAToken_403Or401AndNoRelease()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        using var reader = await ClientAsync(host, "reader", TokenScopes.ReleasesRead);
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        using var withoutScope = await PostAsync(reader, "/api/releases", Body(), key: "k");
        using var withoutToken = await PostAsync(anonymous, "/api/releases", Body(), key: "k");
        using var actWithoutToken = await PostAsync(anonymous, "/api/releases/demo@1.4.2/actions/pause", null);

        Assert.Equal(HttpStatusCode.Forbidden, withoutScope.StatusCode);
        Assert.Equal("application/problem+json", withoutScope.Content.Headers.ContentType?.MediaType);
        Assert.Contains("releases:write", (string?)(await withoutScope.Content.ReadFromJsonAsync<JsonObject>())?["detail"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutToken.StatusCode);
        Assert.Equal("application/problem+json", withoutToken.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, actWithoutToken.StatusCode);
        Assert.Empty(await host.Services.GetRequiredService<IReleaseStore>().ListByServiceAsync("demo"));
    }

    [Fact]
    public async Task Write_InTheDemoConsole_StillNeedsAWriteToken()
    {
        await using var host = await ShipBotHost.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        using var refused = await PostAsync(anonymous, "/api/releases", Body(), key: "k");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Empty(await host.Services.GetRequiredService<IReleaseStore>().ListByServiceAsync("demo"));
    }

    [Fact]
    public async Task LongPoll_WaitingForEachStateOfTheRollout_ReturnsOnceTheReleaseIsThere()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        using var ci = await ClientAsync(host, "ci", TokenScopes.ReleasesWrite);
        using var manager = await ClientAsync(host, "release-manager", TokenScopes.ReleasesWrite);
        (await PostAsync(ci, "/api/releases", Body(), key: "run-1")).Dispose();
        (await PostAsync(ci, "/api/releases/demo@1.4.2/actions/check", new { items = BlockingItems })).Dispose();
        using var approved = await PostAsync(manager, "/api/releases/demo@1.4.2/actions/approve", null);
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);

        foreach (var wanted in MainLine)
        {
            // Each call waits at most 120 s on the server; a slow machine simply asks again, as the ship action does.
            JsonObject? release;
            var asked = 0;
            do
            {
                release = await ci.GetFromJsonAsync<JsonObject>($"/api/releases/demo@1.4.2?wait={wanted}&timeout=120");
                asked++;
            }
            while (!IsAtOrPast((string?)release?["state"], wanted) && asked < 5);

            var state = (string?)release?["state"];
            Assert.True(IsAtOrPast(state, wanted), $"waited for {wanted}, got {state}");
            if (wanted == "Validating")
            {
                // Validation ends when someone confirms user-facing functionality: the pipeline's smoke suite, with its report.
                using var verified = await PostAsync(ci, "/api/releases/demo@1.4.2/actions/check", new { items = new[] { "ufv" }, evidence = "smoke suite green" });
                Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
            }
        }
    }

    [Fact]
    public async Task LongPoll_StateNotReachedInTime_AnswersAtTheTimeoutWithTheCurrentState()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        using var ci = await ClientAsync(host, "ci", TokenScopes.ReleasesWrite);
        (await PostAsync(ci, "/api/releases", Body(), key: "run-1")).Dispose();

        // Nobody approves: the release stays a draft, and the poll answers when its second is up.
        using var response = await ci.GetAsync("/api/releases/demo@1.4.2?wait=Canary&timeout=1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Draft", (string?)(await response.Content.ReadFromJsonAsync<JsonObject>())?["state"]);
    }

    [Theory]
    [InlineData("/api/releases", "not json at all", "body")]
    [InlineData("/api/releases", "[1, 2]", "body")]
    [InlineData("/api/releases", "{\"service\": \"demo\", \"version\": \"1.4.2\", \"changes\": \"not a list\"}", "changes")]
    [InlineData("/api/releases", "{\"servce\": \"demo\", \"version\": \"1.4.2\"}", "servce")]
    [InlineData("/api/releases", "{\"version\": \"1.4.2\"}", "service")]
    [InlineData("/api/releases", "{\"service\": \"nosuch\", \"version\": \"1.4.2\"}", "service")]
    [InlineData("/api/releases", "{\"service\": \"demo\", \"version\": \"not a version!\"}", "version")]
    [InlineData("/api/releases", "{\"service\": \"demo\", \"version\": \"1.4.3\", \"commit\": \"xyz\"}", "commit")]
    [InlineData("/api/releases", "{\"service\": \"demo\", \"version\": \"1.4.3\", \"pullRequests\": [\"https://github.com/acme/demo/pull/1\", \"javascript:alert(1)\"]}", "pullRequests[1]")]
    [InlineData("/api/releases", "{\"service\": \"demo\", \"version\": \"1.4.3\", \"pipelineRun\": \"not a link\"}", "pipelineRun")]
    [InlineData("/api/releases/demo@1.4.2/actions/rollback", "{}", "reason")]
    [InlineData("/api/releases/demo@1.4.2/actions/abort", "{\"reason\": 42}", "reason")]
    [InlineData("/api/releases/demo@1.4.2/actions/check", "{\"evidence\": \"report\"}", "items")]
    [InlineData("/api/releases/demo@1.4.2/actions/launch", "{}", "verb")]
    [InlineData("/api/releases/demo/actions/pause", "{}", "name")]
    public async Task Write_MalformedBody_ProblemDetailsNamingTheFieldAndNothingChanges(string path, string json, string field)
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        using var ci = await ClientAsync(host, "ci", TokenScopes.ReleasesWrite);
        (await PostAsync(ci, "/api/releases", Body(), key: "run-1")).Dispose();
        var store = host.Services.GetRequiredService<IReleaseStore>();
        var id = new ReleaseId("demo", "1.4.2");

        // The new release's readiness checks run in the background and save a revision of their own (and post
        // to the thread, which is audited by ShipBot): let them finish, and count what people did.
        Assert.True(await Eventually.TrueAsync(async () => (await store.GetAsync(id))!.ReadinessChecked), "readiness checked");
        var before = (await store.GetAsync(id))!;
        var auditBefore = (await store.GetAuditAsync(id)).Count(e => e.Actor != Actor.System.Id);

        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", "malformed");
        using var response = await ci.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(400, (int?)problem?["status"]);
        Assert.True(problem?["errors"]?[field] is JsonArray { Count: > 0 }, $"errors name {field}: {problem}");
        Assert.Single(await store.ListByServiceAsync("demo"));
        var after = (await store.GetAsync(id))!;
        Assert.Equal(before.Revision, after.Revision);
        Assert.Equal(auditBefore, (await store.GetAuditAsync(id)).Count(e => e.Actor != Actor.System.Id));
    }

    [Theory]
    [InlineData("wait=Launched", "wait")]
    [InlineData("wait=Canary&timeout=soon", "timeout")]
    [InlineData("wait=Canary&timeout=-5", "timeout")]
    public async Task LongPoll_BadQuery_ProblemDetailsNamingTheParameter(string query, string field)
    {
        await using var host = await ShipBotHost.StartAsync(Settings());
        using var ci = await ClientAsync(host, "ci", TokenScopes.ReleasesWrite);

        using var response = await ci.GetAsync($"/api/releases/demo@1.4.2?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(problem?["errors"]?[field] is JsonArray { Count: > 0 }, $"errors name {field}: {problem}");
    }

    private static bool IsAtOrPast(string? state, string wanted) =>
        Enum.TryParse<ReleaseState>(state, out var s) && Host.Api.ReleaseWriteApi.Reached(s, Enum.Parse<ReleaseState>(wanted)) && !s.IsTerminal();

    private static async Task<HttpClient> ClientAsync(ShipBotHost host, string name, string scope)
    {
        var issued = await host.Services.GetRequiredService<ApiTokenService>().CreateAsync(name, [scope], "dave");
        var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", issued!.Value);
        return client;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, object? body, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return await client.SendAsync(request);
    }
}
