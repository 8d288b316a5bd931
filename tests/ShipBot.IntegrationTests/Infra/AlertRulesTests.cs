using YamlDotNet.RepresentationModel;

namespace ShipBot.IntegrationTests.Infra;

/// <summary>ShipBot's own alert rules (infra/prometheus) pass promtool's checks and unit tests, and only use metrics ShipBot exports.</summary>
public sealed class AlertRulesTests
{
    private static readonly string Directory = Repository.PathOf("infra/prometheus");

    [Fact]
    public async Task PromtoolCheckRules_ShipBotAlerts_Valid()
    {
        var (exit, output) = await Repository.RunAsync("promtool", Directory, "check", "rules", "shipbot-alerts.yml");

        Assert.True(exit == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromtoolTestRules_ShipBotAlerts_EveryAlertFiresAndStaysQuietAsSpecified()
    {
        var (exit, output) = await Repository.RunAsync("promtool", Directory, "test", "rules", "shipbot-alerts.test.yml");

        Assert.True(exit == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlertRules_EveryAlert_HasARunbookSectionAndATest()
    {
        var rules = Load("shipbot-alerts.yml");
        var tests = await File.ReadAllTextAsync(Path.Combine(Directory, "shipbot-alerts.test.yml"));
        var runbook = await File.ReadAllTextAsync(Repository.PathOf("docs/runbook.md"));
        var alerts = Rules(rules).Select(r => (Name: Scalar(r, "alert"), Runbook: Scalar((YamlMappingNode)r.Children[new YamlScalarNode("annotations")], "runbook"))).ToList();

        Assert.Equal(
            ["ShipBotRollbackSlow", "ShipBotRollbackCallsFailing", "ShipBotChatRateLimited", "ShipBotSchedulerLagging", "ShipBotStoreErrors", "ShipBotNotReady", "ShipBotDown", "ShipBotChatDegraded"],
            alerts.Select(a => a.Name));
        foreach (var (name, link) in alerts)
        {
            Assert.Equal($"docs/runbook.md#{name.ToLowerInvariant()}", link);
            Assert.Contains($"### {name}", runbook, StringComparison.Ordinal);
            Assert.Contains($"alertname: {name}", tests, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AlertRules_MetricNames_AreOnesShipBotExports()
    {
        var known = Repository.ShipBotMetricNames();
        foreach (var rule in Rules(Load("shipbot-alerts.yml")))
        {
            foreach (var name in Repository.ShipBotNamesIn(Scalar(rule, "expr")))
            {
                Assert.True(known.Contains(name), $"{Scalar(rule, "alert")} uses {name}, which ShipBot does not export. Known: {string.Join(", ", known.Order())}");
            }
        }
    }

    private static YamlMappingNode Load(string file)
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Directory, file));
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static IEnumerable<YamlMappingNode> Rules(YamlMappingNode root) =>
        ((YamlSequenceNode)root.Children[new YamlScalarNode("groups")]).Children.OfType<YamlMappingNode>()
            .SelectMany(g => ((YamlSequenceNode)g.Children[new YamlScalarNode("rules")]).Children.OfType<YamlMappingNode>());

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node.Children[new YamlScalarNode(key)]).Value ?? string.Empty;
}
