using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ShipBot.GitHub.Tests.TestSupport;

namespace ShipBot.GitHub.Tests.Emulation;

/// <summary>The emulation's checks catch what they claim to catch: requests that depart from GitHub's description are refused and recorded.</summary>
public sealed class GitHubEmulatorTests
{
    [Theory]
    [InlineData("POST", "repos/acme/checkout/actions/workflows/deploy.yml/dispatches", "{\"inputs\":{}}", "body")]
    [InlineData("POST", "repos/acme/checkout/actions/workflows/deploy.yml/dispatches", "{\"ref\":\"main\",\"inputs\":[]}", "body")]
    [InlineData("POST", "repos/acme/checkout/deployments/12/statuses", "{\"state\":\"deployed\"}", "body")]
    [InlineData("POST", "repos/acme/checkout/deployments", "{\"ref\":\"main\",\"auto_merge\":\"no\"}", "body")]
    [InlineData("GET", "repos/acme/checkout/actions/runs/not-a-number", null, "run_id")]
    [InlineData("GET", "repos/acme/checkout/deployments?colour=blue", null, "colour")]
    [InlineData("GET", "repos/acme/checkout/deployments?per_page=many", null, "per_page")]
    [InlineData("POST", "repos/acme/checkout/deployments", null, "required")]
    [InlineData("DELETE", "repos/acme/checkout/no-such-thing", null, "no operation")]
    public async Task Request_DepartsFromTheDescription_RefusedAndRecorded(string method, string path, string? body, string expected)
    {
        await using var host = await GitHubTestHost.StartAsync();
        using var http = Client(host);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);

        Assert.True(response.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.NotFound, $"HTTP {(int)response.StatusCode}");
        var violation = Assert.Single(host.GitHub.Violations);
        Assert.Contains(expected, violation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_WithoutUserAgentOrApiVersion_Recorded()
    {
        await using var host = await GitHubTestHost.StartAsync();
        using var http = new HttpClient { BaseAddress = host.GitHub.ApiUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GitHubEmulator.PersonalAccessToken);

        using var response = await http.GetAsync(new Uri("repos/acme/checkout/actions/runs/1", UriKind.Relative));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains(host.GitHub.Violations, v => v.Contains("User-Agent", StringComparison.Ordinal));
        Assert.Contains(host.GitHub.Violations, v => v.Contains("X-GitHub-Api-Version", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Request_Valid_AnsweredWithoutViolation()
    {
        await using var host = await GitHubTestHost.StartAsync();
        using var http = Client(host);

        using var created = await http.PostAsync(
            new Uri("repos/acme/checkout/deployments", UriKind.Relative),
            new StringContent("{\"ref\":\"main\",\"environment\":\"staging\",\"required_contexts\":[],\"payload\":{\"release\":\"x@1\"},\"description\":null}", Encoding.UTF8, "application/json"));
        using var listed = await http.GetAsync(new Uri("repos/acme/checkout/deployments?environment=staging&per_page=5", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        host.GitHub.AssertNoViolations();
    }

    [Fact]
    public async Task ValidateResponse_MissingRequiredField_Reported()
    {
        var validator = new OpenApiValidator(await OctokitOpenApi.LoadAsync());
        var operation = validator.Match("GET", "/repos/acme/checkout/actions/runs/7")!;
        var run = new JsonObject { ["id"] = 7, ["status"] = "completed" };

        var problems = validator.ValidateResponse(operation, 200, run);

        Assert.NotEmpty(problems);
        Assert.Contains(problems, p => p.Contains("html_url", StringComparison.Ordinal) || p.Contains("required", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Match_LiteralSegmentsWinOverParameters()
    {
        var validator = new OpenApiValidator(await OctokitOpenApi.LoadAsync());

        var dispatch = validator.Match("POST", "/repos/acme/checkout/actions/workflows/deploy.yml/dispatches");
        var installation = validator.Match("GET", "/repos/acme/checkout/installation");

        Assert.Equal("actions/create-workflow-dispatch", dispatch?.OperationId);
        Assert.Equal("deploy.yml", dispatch?.PathValues["workflow_id"]);
        Assert.Equal("apps/get-repo-installation", installation?.OperationId);
    }

    [Fact]
    public async Task AppEndpoint_JwtSignedWithAnotherKey_Refused()
    {
        await using var host = await GitHubTestHost.StartAsync();
        using var other = System.Security.Cryptography.RSA.Create(2048);
        var jwt = new ShipBot.GitHub.Auth.GitHubAppJwt(GitHubEmulator.AppClientId, other, host.Clock).Create();
        using var http = Client(host, jwt);

        using var response = await http.PostAsync(new Uri("app/installations/4242/access_tokens", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, host.GitHub.TokensIssued);
        host.GitHub.AssertNoViolations();
    }

    private static HttpClient Client(GitHubTestHost host, string? token = null)
    {
        var http = new HttpClient { BaseAddress = host.GitHub.ApiUrl };
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("ShipBotTests", "1.0"));
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
        http.DefaultRequestHeaders.Add("X-GitHub-Api-Version", "2022-11-28");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token ?? GitHubEmulator.PersonalAccessToken);
        return http;
    }
}
