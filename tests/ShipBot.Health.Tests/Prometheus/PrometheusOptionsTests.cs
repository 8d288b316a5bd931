using ShipBot.Core.Health;
using ShipBot.Health.Prometheus;

namespace ShipBot.Health.Tests.Prometheus;

public sealed class PrometheusOptionsTests
{
    private static PrometheusOptions CreateSut() => new() { Url = new Uri("http://prometheus:9090/") };

    [Fact]
    public void Defaults_AreStated()
    {
        var sut = CreateSut();

        Assert.Equal("version", sut.VersionLabel);
        Assert.Equal("1m", sut.Window);
        Assert.Equal(TimeSpan.FromSeconds(5), sut.Timeout);
        Assert.Null(sut.BearerToken);
    }

    [Fact]
    public void TemplatesFor_NothingConfigured_TheSeedTriggersOnConventionalMetrics()
    {
        var sut = CreateSut();

        var templates = sut.TemplatesFor("Canary");

        Assert.Equal(new[] { Metrics.Cpu, Metrics.ErrorRate, Metrics.LatencyP99 }, templates.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("http_requests_total", templates[Metrics.ErrorRate], StringComparison.Ordinal);
        Assert.Contains("code=~\"5..\"", templates[Metrics.ErrorRate], StringComparison.Ordinal);
        Assert.Contains("histogram_quantile(0.99", templates[Metrics.LatencyP99], StringComparison.Ordinal);
        Assert.StartsWith("1000 * ", templates[Metrics.LatencyP99], StringComparison.Ordinal);
        Assert.Contains("process_cpu_seconds_total", templates[Metrics.Cpu], StringComparison.Ordinal);
        Assert.All(templates.Values, t =>
        {
            Assert.Contains("{{selector}}", t, StringComparison.Ordinal);
            Assert.Contains("{{window}}", t, StringComparison.Ordinal);
            Assert.Contains("service=\"{{service}}\"", t, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void TemplatesFor_ConfiguredQuery_ReplacesTheDefaultAndAddsNewMetrics()
    {
        var sut = CreateSut();
        sut.Queries[Metrics.ErrorRate] = "my_errors{{{selector}}}";
        sut.Queries["queue_depth"] = "max(queue_depth{{{selector}}})";

        var templates = sut.TemplatesFor("Canary");

        Assert.Equal("my_errors{{{selector}}}", templates[Metrics.ErrorRate]);
        Assert.Equal("max(queue_depth{{{selector}}})", templates["queue_depth"]);
        Assert.Equal(PrometheusOptions.DefaultQueries[Metrics.Cpu], templates[Metrics.Cpu]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void TemplatesFor_EmptyString_TurnsADefaultOff(string empty)
    {
        var sut = CreateSut();
        sut.Queries[Metrics.Cpu] = empty;
        sut.Queries[Metrics.LatencyP99] = empty;

        var templates = sut.TemplatesFor("Canary");

        Assert.Equal(new[] { Metrics.ErrorRate }, templates.Keys);
        Assert.Equal(new[] { Metrics.ErrorRate }, sut.TemplatesFor("baseline").Keys);
    }

    [Theory]
    [InlineData("Canary", false)]
    [InlineData("EarlyAdopters", true)]
    [InlineData("GeneralAvailability", true)]
    [InlineData("Full", true)]
    [InlineData("baseline", true)]
    [InlineData("staging", true)]
    public void TemplatesFor_StageQuery_AppliesFromItsStageOn(string stage, bool applies)
    {
        var sut = CreateSut();
        sut.StageQueries["EarlyAdopters"] = new() { [Metrics.UserFeedback] = "feedback" };

        var templates = sut.TemplatesFor(stage);

        Assert.Equal(applies, templates.ContainsKey(Metrics.UserFeedback));
        Assert.True(templates.ContainsKey(Metrics.ErrorRate));
    }

    [Fact]
    public void TemplatesFor_LaterStageQuery_ReplacesAnEarlierStagesFromItsStageOn()
    {
        var sut = CreateSut();

        // Configured in the "wrong" order on purpose: stage order decides, not configuration order.
        sut.StageQueries["GeneralAvailability"] = new() { [Metrics.ErrorRate] = "ga_errors" };
        sut.StageQueries["EarlyAdopters"] = new() { [Metrics.ErrorRate] = "ea_errors" };
        sut.Queries[Metrics.ErrorRate] = "base_errors";

        Assert.Equal("base_errors", sut.TemplatesFor("Canary")[Metrics.ErrorRate]);
        Assert.Equal("ea_errors", sut.TemplatesFor("EarlyAdopters")[Metrics.ErrorRate]);
        Assert.Equal("ga_errors", sut.TemplatesFor("GeneralAvailability")[Metrics.ErrorRate]);
        Assert.Equal("ga_errors", sut.TemplatesFor("Full")[Metrics.ErrorRate]);
        Assert.Equal("base_errors", sut.TemplatesFor("baseline")[Metrics.ErrorRate]);
    }

    [Fact]
    public void TemplatesFor_EmptyStageQuery_TurnsAMetricOffFromThatStage()
    {
        var sut = CreateSut();
        sut.StageQueries["GeneralAvailability"] = new() { [Metrics.Cpu] = string.Empty };

        Assert.True(sut.TemplatesFor("EarlyAdopters").ContainsKey(Metrics.Cpu));
        Assert.False(sut.TemplatesFor("GeneralAvailability").ContainsKey(Metrics.Cpu));
        Assert.False(sut.TemplatesFor("Full").ContainsKey(Metrics.Cpu));
    }

    [Fact]
    public void TemplatesFor_StageNames_AreCaseInsensitive()
    {
        var sut = CreateSut();
        sut.StageQueries["earlyadopters"] = new() { [Metrics.Adoption] = "adoption" };

        Assert.True(sut.TemplatesFor("EARLYADOPTERS").ContainsKey(Metrics.Adoption));
        Assert.True(sut.TemplatesFor("generalavailability").ContainsKey(Metrics.Adoption));
    }
}
