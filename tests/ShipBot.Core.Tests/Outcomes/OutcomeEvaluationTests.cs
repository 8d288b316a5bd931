using ShipBot.Core.Outcomes;

namespace ShipBot.Core.Tests.Outcomes;

public sealed class OutcomeEvaluationTests
{
    private static readonly OutcomeTarget Conversion = new("checkout conversion", "100 * sum(rate(orders_total[1d])) / sum(rate(sessions_total[1d]))", TargetComparison.AtLeast, 2.1) { Unit = "%" };

    private static readonly OutcomeTarget Latency = new("p95 latency", "histogram_quantile(0.95, …)", TargetComparison.AtMost, 300) { Unit = "ms" };

    private static readonly DateTimeOffset At = new(2026, 3, 3, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Describe_Target_ReadsAsTheContractWritesIt()
    {
        Assert.Equal("checkout conversion ≥ 2.1 %", Conversion.Describe());
        Assert.Equal("p95 latency ≤ 300 ms", Latency.Describe());
        Assert.Equal("outcome:checkout conversion", Conversion.BaselineKey);
    }

    [Theory]
    [InlineData(TargetComparison.AtLeast, 2.1, true)]
    [InlineData(TargetComparison.AtLeast, 2.0999, false)]
    [InlineData(TargetComparison.Above, 2.1, false)]
    [InlineData(TargetComparison.Above, 2.2, true)]
    [InlineData(TargetComparison.AtMost, 2.1, true)]
    [InlineData(TargetComparison.Below, 2.1, false)]
    [InlineData(TargetComparison.Below, 2.0, true)]
    [InlineData(TargetComparison.AtLeast, double.NaN, false)]
    public void IsMetBy_Comparison_ComparesWithTheValue(TargetComparison comparison, double actual, bool met)
    {
        Assert.Equal(met, (Conversion with { Comparison = comparison }).IsMetBy(actual));
    }

    [Fact]
    public void Evaluate_MetTarget_PassesWithTheChangeSinceBaseline()
    {
        var result = OutcomeEvaluation.Evaluate(Conversion, 2.3, 2.0);

        Assert.Equal(OutcomeVerdict.Pass, result.Verdict);
        Assert.Equal(0.3, result.Delta!.Value, 10);
        Assert.Equal(0.15, result.RelativeDelta!.Value, 10);
        Assert.Equal("checkout conversion: 2.3 % vs target ≥ 2.1 % — pass (Δ +0.3 % since baseline 2 %, +15 %)", result.Line);
    }

    [Fact]
    public void Evaluate_MissedTarget_IsAMissWithANegativeChange()
    {
        var result = OutcomeEvaluation.Evaluate(Latency, 340, 360);

        Assert.True(result.IsMiss);
        Assert.Equal("p95 latency: 340 ms vs target ≤ 300 ms — miss (Δ −20 ms since baseline 360 ms, −5.6 %)", result.Line);
    }

    [Fact]
    public void Evaluate_NoBaseline_SaysSo()
    {
        Assert.Equal("checkout conversion: 2.3 % vs target ≥ 2.1 % — pass (no baseline)", OutcomeEvaluation.Evaluate(Conversion, 2.3, null).Line);
    }

    [Fact]
    public void Evaluate_NoValue_IsNotMeasuredWithTheError()
    {
        var result = OutcomeEvaluation.Evaluate(Conversion, null, 2.0, "prometheus: timeout after 10 s");

        Assert.Equal(OutcomeVerdict.NotMeasured, result.Verdict);
        Assert.False(result.IsMiss);
        Assert.Null(result.Delta);
        Assert.Equal("checkout conversion: not measured (prometheus: timeout after 10 s) — target ≥ 2.1 %", result.Line);
        Assert.Equal(OutcomeVerdict.NotMeasured, OutcomeEvaluation.Evaluate(Conversion, double.NaN, 2.0).Verdict);
    }

    [Fact]
    public void Report_Results_OneLineEachThenASummary()
    {
        var report = OutcomeEvaluation.Report(2, At,
        [
            OutcomeEvaluation.Evaluate(Conversion, 2.3, 2.0),
            OutcomeEvaluation.Evaluate(Latency, 340, 360),
            OutcomeEvaluation.Evaluate(Conversion with { Name = "signups" }, null, null, "no data"),
        ]);

        Assert.Equal(2, report.Checkpoint);
        Assert.Equal(At, report.At);
        Assert.Equal(4, report.Lines.Count);
        Assert.Equal("1 of 3 target(s) met; missed: p95 latency; 1 not measured.", report.Lines[^1]);
    }

    [Fact]
    public void Report_NoTargets_SaysNoneIsConfigured()
    {
        Assert.Equal(["No measured outcome target is configured."], OutcomeEvaluation.Report(1, At, []).Lines);
    }

    [Theory]
    [InlineData(">=", TargetComparison.AtLeast)]
    [InlineData("≥", TargetComparison.AtLeast)]
    [InlineData("AtMost", TargetComparison.AtMost)]
    [InlineData("<", TargetComparison.Below)]
    [InlineData(" > ", TargetComparison.Above)]
    public void TryParseComparison_KnownSpellings_Parse(string text, TargetComparison expected)
    {
        Assert.True(OutcomeTarget.TryParseComparison(text, out var comparison));
        Assert.Equal(expected, comparison);
    }

    [Fact]
    public void Options_Invalid_NameTheKey()
    {
        var errors = new OutcomeTargetOptions { Comparison = "=~" }.Validate("ShipBot:Services:checkout:Outcomes:conversion");

        Assert.Equal(3, errors.Count);
        Assert.All(errors, e => Assert.StartsWith("ShipBot:Services:checkout:Outcomes:conversion:", e, StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains(":Comparison '=~' is unknown", StringComparison.Ordinal));
    }

    [Fact]
    public void Catalog_Resolve_AddsNamedTargetsToTheAlwaysOnes()
    {
        var catalog = new OutcomeTargetCatalog(new Dictionary<string, OutcomeTargetOptions>
        {
            ["conversion"] = new() { Query = "q1", Value = 2.1, Unit = "%" },
            ["refunds"] = new() { Query = "q2", Comparison = "<=", Value = 0.5, Always = false },
        });

        Assert.True(catalog.TryResolve([], out var always, out _));
        Assert.Equal(["conversion"], always.Select(t => t.Name));
        Assert.True(catalog.TryResolve(["Refunds", "conversion"], out var both, out _));
        Assert.Equal(["conversion", "refunds"], both.Select(t => t.Name));
        Assert.Equal("refunds ≤ 0.5", both[1].Describe());
        Assert.False(catalog.TryResolve(["nps"], out _, out var error));
        Assert.Equal("Unknown outcome target(s) 'nps' (configured: conversion, refunds).", error);
    }
}
