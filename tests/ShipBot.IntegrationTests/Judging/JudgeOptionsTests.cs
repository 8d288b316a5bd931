using Microsoft.Extensions.Configuration;
using ShipBot.Core.Health;
using ShipBot.Core.Judging;
using ShipBot.Host;

namespace ShipBot.IntegrationTests.Judging;

/// <summary>The judge's configuration keys, bound as the host binds configuration.</summary>
public sealed class JudgeOptionsTests
{
    private static JudgeOptions Bind(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        return configuration.GetSection("ShipBot:Services:checkout:Judge").Get<JudgeOptions>() ?? new JudgeOptions();
    }

    [Fact]
    public void ToSettings_NothingConfigured_ThresholdJudgeWithDefaults()
    {
        var settings = new JudgeOptions().ToSettings();

        Assert.Equal(JudgeKind.Threshold, settings.Kind);
        Assert.Equal(0.01, settings.Alpha);
        Assert.False(settings.EarlyPromotion);
        Assert.Equal([CountMetrics.Errors, CountMetrics.SlowRequests], settings.Metrics.Select(m => m.Metric));
    }

    [Fact]
    public void Bind_SequentialWithMetrics_Settings()
    {
        var options = Bind(new()
        {
            ["ShipBot:Services:checkout:Judge:Kind"] = "Sequential",
            ["ShipBot:Services:checkout:Judge:Alpha"] = "0.02",
            ["ShipBot:Services:checkout:Judge:EarlyPromotion"] = "true",
            ["ShipBot:Services:checkout:Judge:MinimumTime"] = "00:05:00",
            ["ShipBot:Services:checkout:Judge:Metrics:error_rate:Margin"] = "0.005",
            ["ShipBot:Services:checkout:Judge:Metrics:slow_requests:Critical"] = "false",
            ["ShipBot:Services:checkout:Judge:Metrics:slow_requests:Action"] = "Consult",
            ["ShipBot:Services:checkout:Judge:Metrics:queue_timeouts:HarmRatio"] = "1.5",
        });

        var settings = options.ToSettings();

        Assert.Equal(JudgeKind.Sequential, settings.Kind);
        Assert.Equal(0.02, settings.Alpha);
        Assert.True(settings.EarlyPromotion);
        Assert.Equal(TimeSpan.FromMinutes(5), settings.MinimumTime);
        Assert.Equal(0.005, settings.Metrics.Single(m => m.Metric == CountMetrics.Errors).Margin);
        var slow = settings.Metrics.Single(m => m.Metric == CountMetrics.SlowRequests);
        Assert.False(slow.Critical);
        Assert.Equal(BreachAction.Consult, slow.Action);
        Assert.Equal(1.5, settings.Metrics.Single(m => m.Metric == "queue_timeouts").HarmRatio);
        Assert.Null(settings.Validate());
    }

    [Fact]
    public void ToSettings_MetricDisabled_Removed()
    {
        var options = Bind(new() { ["ShipBot:Services:checkout:Judge:Metrics:slow_requests:Enabled"] = "false" });

        Assert.Equal([CountMetrics.Errors], options.ToSettings().Metrics.Select(m => m.Metric));
    }

    [Fact]
    public void Validate_BadAlpha_NamesTheKey()
    {
        var errors = new List<string>();

        new JudgeOptions { Alpha = 2 }.Validate("ShipBot:Services:checkout:Judge", errors);

        Assert.Equal(["ShipBot:Services:checkout:Judge: Alpha must be in (0, 0.5], not 2."], errors);
    }

    [Fact]
    public void Validate_EveryMetricDisabled_NamesTheKey()
    {
        var errors = new List<string>();
        var options = new JudgeOptions
        {
            Metrics = new(StringComparer.Ordinal) { [CountMetrics.Errors] = new() { Enabled = false }, [CountMetrics.SlowRequests] = new() { Enabled = false } },
        };

        options.Validate("ShipBot:Services:checkout:Judge", errors);

        Assert.Equal(["ShipBot:Services:checkout:Judge: Metrics must name at least one metric."], errors);
    }

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
    public void HostBinding_SequentialJudge_ReachesTheServicePolicy()
    {
        var options = BindHost(("ShipBot:Services:checkout:Judge:Kind", "sequential"), ("ShipBot:Services:checkout:Judge:EarlyPromotion", "true"));

        var policy = options.Services["checkout"].ToPolicy("checkout");

        Assert.Equal(JudgeKind.Sequential, policy.Judge.Kind);
        Assert.True(policy.Judge.EarlyPromotion);
        Assert.Empty(options.ConfigurationErrors);
        Assert.True(new ShipBotOptionsValidator().Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData("ShipBot:Services:checkout:Judge:Kind", "Bayesian", "ShipBot:Services:checkout:Judge:Kind 'Bayesian' is unknown: use Threshold or Sequential.")]
    [InlineData("ShipBot:Services:checkout:Judge:Metrics:error_rate:Action", "Page", "ShipBot:Services:checkout:Judge:Metrics:error_rate:Action 'Page' is unknown: use Rollback or Consult.")]
    public void HostBinding_NameThatNamesNothing_StopsStartUpNamingTheKey(string key, string value, string error)
    {
        var options = BindHost((key, value));

        Assert.Equal([error], options.ConfigurationErrors);
        Assert.Contains(error, new ShipBotOptionsValidator().Validate(null, options).Failures ?? []);
    }

    [Fact]
    public void Validate_BadJudgeValue_StopsStartUpNamingTheKey()
    {
        var options = BindHost(("ShipBot:Services:checkout:Judge:Kind", "Sequential"), ("ShipBot:Services:checkout:Judge:Metrics:error_rate:HarmRatio", "0.5"));

        var failures = new ShipBotOptionsValidator().Validate(null, options).Failures ?? [];

        Assert.Contains("ShipBot:Services:checkout:Judge: error_rate: HarmRatio must be at least 1, not 0.5.", failures);
    }

    [Fact]
    public void Validate_SequentialMetricNoSourceCounts_StopsStartUpNamingTheKey()
    {
        var options = BindHost(("ShipBot:Services:checkout:Judge:Kind", "Sequential"), ("ShipBot:Services:checkout:Judge:Metrics:queue_timeouts:Margin", "0.01"));

        var failures = new ShipBotOptionsValidator().Validate(null, options).Failures ?? [];

        Assert.Contains(failures, f => f.StartsWith("ShipBot:Services:checkout:Judge:Metrics:queue_timeouts: no health source of this service counts it", StringComparison.Ordinal));
    }
}
