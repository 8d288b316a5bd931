using Microsoft.Extensions.Configuration;
using ShipBot.Core.Outcomes;
using ShipBot.Host;

namespace ShipBot.IntegrationTests.Configuration;

/// <summary><c>ShipBot:Services:&lt;name&gt;:Outcomes</c>, bound and validated as the host does at start-up.</summary>
public sealed class OutcomeTargetOptionsTests
{
    private static ShipBotOptions BindHost(params (string Key, string Value)[] values)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ShipBot:Services:checkout:Requesters:0"] = "alice",
            ["ShipBot:Services:checkout:Approvers:0"] = "bob",
        };
        foreach (var (key, value) in values)
        {
            settings[key] = value;
        }

        var options = new ShipBotOptions();
        ShipBotConfiguration.Bind(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), options);
        return options;
    }

    [Fact]
    public void HostBinding_Targets_ReachTheServicePolicy()
    {
        var options = BindHost(
            ("ShipBot:Services:checkout:Outcomes:checkout conversion:Query", "100 * sum(rate(orders_total[1d])) / sum(rate(sessions_total[1d]))"),
            ("ShipBot:Services:checkout:Outcomes:checkout conversion:Comparison", "≥"),
            ("ShipBot:Services:checkout:Outcomes:checkout conversion:Value", "2.1"),
            ("ShipBot:Services:checkout:Outcomes:checkout conversion:Unit", "%"),
            ("ShipBot:Services:checkout:Outcomes:refund rate:Query", "refund_pct"),
            ("ShipBot:Services:checkout:Outcomes:refund rate:Comparison", "<="),
            ("ShipBot:Services:checkout:Outcomes:refund rate:Value", "0.5"),
            ("ShipBot:Services:checkout:Outcomes:refund rate:Always", "false"));

        var policy = options.Services["checkout"].ToPolicy("checkout");

        Assert.True(new ShipBotOptionsValidator().Validate(null, options).Succeeded);
        Assert.True(policy.Outcomes.TryResolve([], out var always, out _));
        Assert.Equal(["checkout conversion ≥ 2.1 %"], always.Select(t => t.Describe()));
        Assert.True(policy.Outcomes.TryResolve(["refund rate"], out var both, out _));
        Assert.Equal([TargetComparison.AtLeast, TargetComparison.AtMost], both.Select(t => t.Comparison));
    }

    [Theory]
    [InlineData("Value", "", "ShipBot:Services:checkout:Outcomes:checkout conversion:Value is missing")]
    [InlineData("Comparison", "about", "ShipBot:Services:checkout:Outcomes:checkout conversion:Comparison 'about' is unknown")]
    [InlineData("Query", " ", "ShipBot:Services:checkout:Outcomes:checkout conversion:Query is missing")]
    public void Validate_BadTarget_StopsStartUpNamingTheKey(string field, string value, string error)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Query"] = "conversion_pct",
            ["Comparison"] = ">=",
            ["Value"] = "2.1",
        };
        settings[field] = value;
        var options = BindHost([.. settings.Where(s => s.Value.Length > 0).Select(s => ($"ShipBot:Services:checkout:Outcomes:checkout conversion:{s.Key}", s.Value))]);

        var failures = new ShipBotOptionsValidator().Validate(null, options).Failures ?? [];

        Assert.Contains(failures, f => f.StartsWith(error, StringComparison.Ordinal));
    }
}
