using System.Collections.Concurrent;
using ShipBot.Core.Cards;
using ShipBot.Core.Commands;
using ShipBot.Core.Outcomes;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>Measured outcome targets: baseline before the rollout, one report per checkpoint, a miss opens a signal.</summary>
public sealed partial class ReleaseCoordinatorTests
{
    private const string Conversion = "checkout conversion";
    private const string Refunds = "refund rate";

    /// <summary>An outcome source whose values the test sets; a target without a value is unreadable.</summary>
    private sealed class FakeOutcomeSource : IOutcomeSource
    {
        private readonly ConcurrentDictionary<string, double> _values = new(StringComparer.OrdinalIgnoreCase);

        public ConcurrentQueue<string> Queries { get; } = new();

        public void Set(string target, double value) => _values[target] = value;

        public void Clear(string target) => _values.TryRemove(target, out _);

        public Task<OutcomeReading> ReadAsync(string service, OutcomeTarget target, CancellationToken cancellationToken = default)
        {
            Queries.Enqueue(target.Query);
            return Task.FromResult(_values.TryGetValue(target.Name, out var v) ? new OutcomeReading(v) : OutcomeReading.Failed("no answer within 5 s"));
        }
    }

    private static ServicePolicy WithTargets(ServicePolicy policy) => policy with
    {
        Outcomes = new OutcomeTargetCatalog(new Dictionary<string, OutcomeTargetOptions>
        {
            [Conversion] = new() { Query = "conversion_pct", Comparison = ">=", Value = 2.1, Unit = "%" },
            [Refunds] = new() { Query = "refund_pct", Comparison = "<=", Value = 0.5, Unit = "%", Always = false },
        }),
    };

    private static (CoordinatorHarness Sut, FakeOutcomeSource Source) CreateOutcomeSut()
    {
        var source = new FakeOutcomeSource();
        return (new CoordinatorHarness(WithTargets, outcomes: source), source);
    }

    [Fact]
    public async Task OnTimerAsync_TargetMet_ReportShowsPassAndChangeSinceBaseline()
    {
        var (sut, source) = CreateOutcomeSut();
        source.Set(Conversion, 2);
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        Assert.Equal(2, (await sut.GetAsync(id)).Baseline[OutcomeTarget.BaselineKeyOf(Conversion)]);
        await ToOperatingAsync(sut, id);
        source.Set(Conversion, 2.3);

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), id, TimerKind.OutcomeCheckpoint);

        var report = Assert.Single((await sut.GetAsync(id)).Outcomes);
        Assert.Contains("checkout conversion: 2.3 % vs target ≥ 2.1 % — pass (Δ +0.3 % since baseline 2 %, +15 %)", report.Lines);
        Assert.Contains("1 of 1 target(s) met.", report.Lines);
        var posted = Assert.Single(sut.PublicationsWithKey($"outcome:{id}:1"));
        Assert.Contains("checkout conversion: 2.3 %", posted.Card.Blocks.OfType<TextBlock>().Single().Text, StringComparison.Ordinal);
        Assert.Empty(await sut.Store.ListSignalsAsync());
        Assert.DoesNotContain("refund_pct", source.Queries);

        var shown = await sut.SendAsync(Mallory, $"/ship outcome {id}");
        Assert.Contains("checkout conversion: 2.3 % vs target ≥ 2.1 % — pass", shown.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnTimerAsync_TargetMissed_OpensAnAuditedSignalAndKeepsTheReleaseOperating()
    {
        var (sut, source) = CreateOutcomeSut();
        source.Set(Conversion, 2.4);
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        await ToOperatingAsync(sut, id);
        source.Set(Conversion, 1.8);

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), id, TimerKind.OutcomeCheckpoint);
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), id, TimerKind.OutcomeCheckpoint);

        var release = await sut.GetAsync(id);
        Assert.Equal(2, release.Outcomes.Count);
        Assert.Contains(release.Outcomes[0].Lines, l => l.StartsWith("checkout conversion: 1.8 % vs target ≥ 2.1 % — miss (Δ −0.6 % since baseline 2.4 %", StringComparison.Ordinal));
        var signals = await sut.Store.ListSignalsAsync();
        Assert.Equal(2, signals.Count);
        Assert.All(signals, s => Assert.True(s.Open && s.Kind == SignalKind.Unexpected && s.Release == id.ToString()));
        Assert.Contains(signals, s => s.Id == $"outcome:{id}:1" && s.Text.Contains("checkout conversion: 1.8 %", StringComparison.Ordinal));
        Assert.Contains(await sut.AuditAsync(id), a => a.Action == "signal" && a.Detail.Contains("missed checkout conversion", StringComparison.Ordinal));
        Assert.Equal(CardTone.Warning, sut.PublicationsWithKey($"outcome:{id}:1").Single().Card.Tone);

        // The open signal keeps the release operating: nobody has said yet what was learned.
        Assert.Equal(ReleaseState.Operating, release.State);
    }

    [Fact]
    public async Task OnTimerAsync_TargetUnreadable_NotMeasuredAndNoSignal()
    {
        var (sut, source) = CreateOutcomeSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        Assert.False((await sut.GetAsync(id)).Baseline.ContainsKey(OutcomeTarget.BaselineKeyOf(Conversion)));
        await ToOperatingAsync(sut, id);

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), id, TimerKind.OutcomeCheckpoint);

        var report = Assert.Single((await sut.GetAsync(id)).Outcomes);
        Assert.Contains("checkout conversion: not measured (no answer within 5 s) — target ≥ 2.1 %", report.Lines);
        Assert.Contains("0 of 1 target(s) met; 1 not measured.", report.Lines);
        Assert.Empty(await sut.Store.ListSignalsAsync());
    }

    [Fact]
    public async Task HandleAsync_StartWithOutcome_MeasuresTheOnRequestTargetToo()
    {
        var (sut, source) = CreateOutcomeSut();
        sut.StartOptions = " --outcome \"Refund Rate\"";
        source.Set(Conversion, 2.2);
        source.Set(Refunds, 0.4);
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        var started = await sut.GetAsync(id);
        Assert.Equal([Refunds], started.RequestedOutcomes);
        Assert.Contains("refund rate ≤ 0.5 %", started.Contract.OutcomeTargets);
        await ToOperatingAsync(sut, id);
        source.Set(Refunds, 0.7);

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), id, TimerKind.OutcomeCheckpoint);

        var report = Assert.Single((await sut.GetAsync(id)).Outcomes);
        Assert.Contains("refund rate: 0.7 % vs target ≤ 0.5 % — miss (Δ +0.3 % since baseline 0.4 %, +75 %)", report.Lines);
        Assert.Contains("1 of 2 target(s) met; missed: refund rate.", report.Lines);
    }

    [Fact]
    public async Task HandleAsync_StartWithUnknownOutcome_RefusedNamingTheConfiguredTargets()
    {
        var (sut, _) = CreateOutcomeSut();

        var reply = await sut.SendAsync(Alice, "/ship start demo 1.0.0 new flow --outcome nps");

        Assert.Equal(RefusalKind.Rule, reply.Refusal);
        Assert.Contains("Unknown outcome target(s) 'nps' (configured: checkout conversion, refund rate)", reply.Text, StringComparison.Ordinal);
        Assert.Null(await sut.Store.GetAsync(Id("1.0.0")));
    }
}
