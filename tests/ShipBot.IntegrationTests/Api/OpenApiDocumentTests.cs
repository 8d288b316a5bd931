using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ShipBot.IntegrationTests.Api;

/// <summary>
/// The OpenAPI document at /openapi/v1.json against the endpoints the host really maps: every
/// route and method on one side is on the other, so an endpoint added without a description, or a
/// description left behind, fails here.
/// </summary>
public sealed partial class OpenApiDocumentTests
{
    /// <summary>Probes and the document itself: described in docs/operations.md, not part of the API.</summary>
    private static readonly HashSet<string> NotApi = new(StringComparer.Ordinal)
    {
        "GET /openapi/{documentName}.json",
    };

    public static TheoryData<string> Hosts() => ["demo console", "slack, teams and alertmanager"];

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task Document_ComparedWithTheEndpointDataSource_SameRoutesAndMethods(string configuration)
    {
        var settings = configuration == "demo console"
            ? new Dictionary<string, string?>()
            : new Dictionary<string, string?>
            {
                ["ShipBot:Console:Mode"] = "Off",
                ["Slack:SigningSecret"] = ShipBot.Testing.FakeSlack.SigningSecret,
                ["Slack:BotToken"] = ShipBot.Testing.FakeSlack.BotToken,
                ["Slack:ApiBaseUrl"] = "http://127.0.0.1:9/api/",
                ["Teams:AppId"] = "00000000-0000-0000-0000-00000000b075",
                ["Teams:AppPassword"] = "not-used-by-this-test",
                ["Teams:OpenIdMetadataUrl"] = "http://127.0.0.1:9/.well-known/openid-configuration",
                ["ShipBot:Alertmanager:BearerToken"] = "alertmanager-bearer-token-0123456789",
            };
        await using var host = await ShipBotHost.StartAsync(settings);

        var document = await host.Http.GetFromJsonAsync<JsonObject>("/openapi/v1.json");
        var documented = document!["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(operation => $"{operation.Key.ToUpperInvariant()} {path.Key}"))
            .ToHashSet(StringComparer.Ordinal);
        var mapped = host.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>() is not null)
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Select(m => $"{m} {Normalise(e.RoutePattern.RawText!)}"))
            .Where(route => !NotApi.Contains(route) && !IsProbe(route))
            .ToHashSet(StringComparer.Ordinal);

        var undocumented = mapped.Except(documented).Order().ToList();
        var stale = documented.Except(mapped).Order().ToList();
        Assert.True(undocumented.Count == 0 && stale.Count == 0,
            $"Mapped but not in the OpenAPI document: {string.Join(", ", undocumented)}\nIn the document but not mapped: {string.Join(", ", stale)}");
        Assert.Contains("POST /api/releases", documented);
        Assert.Contains("POST /api/releases/{name}/actions/{verb}", documented);
        Assert.Contains("GET /api/releases/{name}", documented);
        Assert.Contains(configuration == "demo console" ? "POST /api/console/messages" : "POST /slack/commands", mapped);
        if (configuration != "demo console")
        {
            Assert.Contains("POST /api/messages", mapped);
            Assert.Contains("POST /hooks/alertmanager", mapped);
        }
    }

    /// <summary>Health and metrics probes (management endpoints), which are not HTTP API operations.</summary>
    private static bool IsProbe(string route) => route is "GET /healthz" or "GET /readyz" or "GET /metrics" or "HEAD /healthz" or "HEAD /readyz";

    /// <summary>"/api/x/{id:int}" → "/api/x/{id}", "/{**path}" → "/{path}": the document names parameters without constraints.</summary>
    private static string Normalise(string raw)
    {
        var route = Constraint().Replace(raw.StartsWith('/') ? raw : "/" + raw, "{$1}");
        return route;
    }

    [GeneratedRegex(@"\{\**([A-Za-z0-9_]+)[^}]*\}")]
    private static partial Regex Constraint();
}
