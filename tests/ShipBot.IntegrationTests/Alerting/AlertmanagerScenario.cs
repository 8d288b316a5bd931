using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace ShipBot.IntegrationTests.Alerting;

/// <summary>
/// Shared steps of the alerting tests: a release taken into canary through the console API, and
/// Alertmanager notifications in its documented webhook format (version "4").
/// </summary>
internal static class AlertmanagerScenario
{
    public const string Release = "demo@1.0.0";

    /// <summary>The receiver's bearer token (ShipBot:Alertmanager:BearerToken).</summary>
    public const string Token = "am-bearer-token-0123456789abcdef";

    public static readonly string[] BlockingItems =
        ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    /// <summary>Alertmanager enabled; canary bakes long enough that an alert always finds the release there.</summary>
    public static Dictionary<string, string?> Settings(params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ShipBot:Alertmanager:BearerToken"] = Token,
            ["ShipBot:Services:demo:Stages:0:Bake"] = "00:10:00",
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>alice starts demo@<paramref name="version"/>, confirms the checklist, bob approves: the release goes to staging.</summary>
    public static async Task ApproveAsync(ShipBotHost host, string version = "1.0.0")
    {
        var started = await host.SayAsync("alice", $"/ship start demo {version} faster checkout");
        Assert.Contains($"Started demo@{version}", Text(started), StringComparison.Ordinal);
        await host.SayAsync("alice", $"/ship check demo@{version} {string.Join(' ', BlockingItems)}");
        var approved = await host.SayAsync("bob", $"/ship approve demo@{version}");
        Assert.Contains("goes to staging", Text(approved), StringComparison.Ordinal);
    }

    /// <summary>
    /// The release approved and rolled out to canary, with the 5 % deployment call done: only then
    /// is the release under health evaluation (a release whose deployment call is in flight is not).
    /// </summary>
    public static async Task<JsonObject> CanaryAsync(ShipBotHost host, string version = "1.0.0")
    {
        await ApproveAsync(host, version);
        await host.WaitForStateAsync($"demo@{version}", "Canary");
        return await WaitForDeployedAsync(host, $"demo@{version}", 5);
    }

    /// <summary>Waits until the deployment call of <paramref name="percent"/> % production traffic is recorded as done.</summary>
    public static async Task<JsonObject> WaitForDeployedAsync(ShipBotHost host, string release, int percent)
    {
        JsonObject current = await host.ReleaseAsync(release);
        var done = await EventuallyAsync(async () =>
        {
            current = await host.ReleaseAsync(release);
            return Audit(current).Any(a => (string?)a["action"] == "DeploymentSucceeded" && ((string?)a["detail"])?.Contains($"production at {percent} %", StringComparison.Ordinal) == true);
        }, 30);
        Assert.True(done, $"the {percent} % deployment was never recorded. {Describe(current)}");
        return current;
    }

    /// <summary>A notification as Alertmanager sends it for one alert.</summary>
    public static JsonObject Notification(
        string status = "firing",
        string service = "demo",
        string severity = "critical",
        string alertname = "HighErrorRate",
        string fingerprint = "c6eadffa33fcdf37",
        string startsAt = "2026-03-01T10:15:30.157076+00:00",
        string? groupKey = null,
        string? version = null)
    {
        var labels = new JsonObject
        {
            ["alertname"] = alertname,
            ["instance"] = $"{service}-7d9f8-abcde:8080",
            ["job"] = service,
            ["service"] = service,
            ["severity"] = severity,
        };
        if (version is not null)
        {
            labels["version"] = version;
        }

        var annotations = new JsonObject
        {
            ["summary"] = $"{service} error rate above 5 %",
            ["description"] = $"{service} is answering 5xx to 12 % of requests.",
        };
        return new JsonObject
        {
            ["receiver"] = "shipbot",
            ["status"] = status,
            ["alerts"] = new JsonArray
            {
                new JsonObject
                {
                    ["status"] = status,
                    ["labels"] = labels.DeepClone(),
                    ["annotations"] = annotations.DeepClone(),
                    ["startsAt"] = startsAt,
                    ["endsAt"] = status == "firing" ? "0001-01-01T00:00:00Z" : "2026-03-01T10:45:30.157076+00:00",
                    ["generatorURL"] = $"http://prometheus.example.org:9090/graph?g0.expr=job%3A{service}%3Aerror_rate+%3E+0.05&g0.tab=1",
                    ["fingerprint"] = fingerprint,
                },
            },
            ["groupLabels"] = new JsonObject { ["alertname"] = alertname },
            ["commonLabels"] = labels,
            ["commonAnnotations"] = annotations,
            ["externalURL"] = "http://alertmanager.example.org:9093",
            ["version"] = "4",
            ["groupKey"] = groupKey ?? $"{{}}/{{severity=\"{severity}\"}}:{{alertname=\"{alertname}\"}}",
            ["truncatedAlerts"] = 0,
        };
    }

    /// <summary>POSTs a notification with the bearer token (or <paramref name="authorization"/>, or none when empty).</summary>
    public static async Task<(int Status, JsonObject Body, HttpResponseMessage Response)> PostAsync(ShipBotHost host, JsonNode payload, string? authorization = "Bearer " + Token) =>
        await PostRawAsync(host, payload.ToJsonString(), authorization);

    public static async Task<(int Status, JsonObject Body, HttpResponseMessage Response)> PostRawAsync(ShipBotHost host, string body, string? authorization = "Bearer " + Token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/alertmanager")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (!string.IsNullOrEmpty(authorization))
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        // Alertmanager's own client identifies itself like this.
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Alertmanager", "0.28.1"));
        var response = await host.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonNode.Parse(text)!.AsObject() : new JsonObject { ["raw"] = text };
        return ((int)response.StatusCode, json, response);
    }

    public static string Text(JsonObject reply) => reply["text"]?.GetValue<string>() ?? ShipBotHost.Text(reply);

    public static IEnumerable<JsonObject> Audit(JsonObject release) => release["audit"]!.AsArray().OfType<JsonObject>();

    public static string Describe(JsonObject release) =>
        $"{release["name"]} is {release["state"]}. Audit:\n" + string.Join("\n", Audit(release).Select(a => $"  {a["action"]}: {a["detail"]}"));

    /// <summary>Every channel message whose card title contains <paramref name="titlePart"/>.</summary>
    public static async Task<List<JsonObject>> CardsAsync(ShipBotHost host, string titlePart) =>
        (await host.MessagesAsync()).OfType<JsonObject>()
            .Where(m => m["card"]?["title"]?.GetValue<string>().Contains(titlePart, StringComparison.Ordinal) == true)
            .ToList();

    /// <summary>Polls a condition for up to <paramref name="seconds"/> (no timing is measured, only reached).</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, int seconds = 90)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return await condition();
    }
}
