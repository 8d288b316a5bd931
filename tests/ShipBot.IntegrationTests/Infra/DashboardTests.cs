using System.Text.Json.Nodes;

namespace ShipBot.IntegrationTests.Infra;

/// <summary>The Grafana dashboard (infra/grafana) is valid JSON whose every query is valid PromQL over metrics ShipBot exports.</summary>
public sealed class DashboardTests
{
    private static readonly string File_ = Repository.PathOf("infra/grafana/shipbot-dashboard.json");

    [Fact]
    public async Task Dashboard_EveryQuery_IsValidPromQL()
    {
        var expressions = await ExpressionsAsync();
        Assert.True(expressions.Count >= 15, $"only {expressions.Count} queries");

        // promtool checks PromQL through a rules file: each panel query becomes a recording rule
        // (Grafana's variables replaced by what Grafana would send).
        var directory = System.IO.Directory.CreateTempSubdirectory("shipbot-dashboard-").FullName;
        try
        {
            var rules = "groups:\n  - name: dashboard\n    rules:\n" + string.Concat(expressions.Select((e, i) =>
                $"      - record: dashboard:query_{i}\n        expr: '{Grafana(e).Replace("'", "''", StringComparison.Ordinal)}'\n"));
            await File.WriteAllTextAsync(Path.Combine(directory, "dashboard.rules.yml"), rules);
            var (exit, output) = await Repository.RunAsync("promtool", directory, "check", "rules", "dashboard.rules.yml");
            Assert.True(exit == 0, $"{output}\n{rules}");
        }
        finally
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Dashboard_ShipBotMetricNames_AreOnesShipBotExports()
    {
        var known = Repository.ShipBotMetricNames();
        var used = (await ExpressionsAsync()).SelectMany(Repository.ShipBotNamesIn).ToHashSet();

        Assert.All(used, name => Assert.True(known.Contains(name), $"the dashboard uses {name}, which ShipBot does not export"));

        // Every instrument has a panel (histograms through their buckets or count).
        foreach (var family in known.Select(n => n.Replace("_bucket", string.Empty, StringComparison.Ordinal).Replace("_count", string.Empty, StringComparison.Ordinal).Replace("_sum", string.Empty, StringComparison.Ordinal)).Distinct())
        {
            Assert.True(used.Any(u => u.StartsWith(family, StringComparison.Ordinal)), $"no panel shows {family}");
        }
    }

    private static async Task<IReadOnlyList<string>> ExpressionsAsync()
    {
        var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(File_))!.AsObject();
        Assert.Equal("shipbot", dashboard["uid"]!.GetValue<string>());
        return [.. dashboard["panels"]!.AsArray().OfType<JsonObject>()
            .SelectMany(p => p["targets"]?.AsArray().OfType<JsonObject>() ?? [])
            .Select(t => t["expr"]!.GetValue<string>())];
    }

    private static string Grafana(string expr) => expr.Replace("$__rate_interval", "1m", StringComparison.Ordinal).Replace("$instance", ".*", StringComparison.Ordinal);
}
