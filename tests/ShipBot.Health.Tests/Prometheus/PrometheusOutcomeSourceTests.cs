using ShipBot.Core.Outcomes;
using ShipBot.Core.Ports;
using ShipBot.Health.Prometheus;
using ShipBot.Health.Simulated;
using ShipBot.Testing;

namespace ShipBot.Health.Tests.Prometheus;

/// <summary>Outcome targets read as instant queries (Prometheus) or set values (simulated), and routed per service.</summary>
public sealed class PrometheusOutcomeSourceTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly WatchedTimeProvider _time = new(Now);
    private readonly HttpClient _http = new();
    private FakePrometheusApi _api = null!;

    public async Task InitializeAsync() => _api = await FakePrometheusApi.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _api.DisposeAsync();
    }

    private static OutcomeTarget Target(string query) => new("checkout conversion", query, TargetComparison.AtLeast, 2.1) { Unit = "%" };

    private PrometheusHealthSource CreateSut(TimeSpan? timeout = null) =>
        new(_http, new PrometheusOptions { Url = _api.Url, Timeout = timeout ?? TimeSpan.FromSeconds(30) }, _time);

    [Fact]
    public async Task ReadAsync_Vector_SumsTheSeriesWithTheServiceFilledIn()
    {
        _api.Answers["conversion{service=\"checkout\"}"] = FakeAnswer.Vector(1.5, 0.75);

        var reading = await CreateSut().ReadAsync("checkout", Target("conversion{service=\"{{service}}\"}"));

        Assert.Equal(new OutcomeReading(2.25), reading);
    }

    [Fact]
    public async Task ReadAsync_EmptyVector_NotMeasuredNeverZero()
    {
        var reading = await CreateSut().ReadAsync("checkout", Target("conversion"));

        Assert.Equal(OutcomeReading.Failed("no series"), reading);
    }

    [Fact]
    public async Task ReadAsync_PrometheusError_NotMeasuredWithItsMessage()
    {
        _api.Answers["conversion["] = FakeAnswer.Error("bad_data", "parse error: unexpected end of input");

        var reading = await CreateSut().ReadAsync("checkout", Target("conversion["));

        Assert.Equal(OutcomeReading.Failed("parse error: unexpected end of input"), reading);
    }

    [Fact]
    public async Task ReadAsync_SlowerThanTheTimeout_NotMeasuredOnTheInjectedClock()
    {
        _api.Answers["conversion"] = FakeAnswer.Vector(2.3) with { Delay = TimeSpan.FromSeconds(20) };
        var sut = CreateSut(TimeSpan.FromMilliseconds(300));

        var read = sut.ReadAsync("checkout", Target("conversion"));
        await Eventually.UntilAsync(() => _time.ActiveTimers == 1 && _api.Queries.Count == 1, "the query to be sent");
        _time.Advance(TimeSpan.FromMilliseconds(300));

        Assert.Equal(OutcomeReading.Failed("no answer within 0.3 s"), await read);
    }

    [Fact]
    public async Task ServiceOutcomeSources_ServiceWithoutItsOwn_UsesTheSimulatedValueOrIsNotMeasured()
    {
        var simulated = new SimulatedHealthSource(_time, seed: 1);
        var sut = new ServiceOutcomeSources(new Dictionary<string, IOutcomeSource> { ["checkout"] = CreateSut() }, simulated);
        _api.Answers["conversion"] = FakeAnswer.Vector(2.3);

        var unset = await sut.ReadAsync("search", Target("conversion"));
        simulated.Set("search", OutcomeTarget.BaselineKeyOf("checkout conversion"), 1.9);
        var set = await sut.ReadAsync("search", Target("conversion"));
        var own = await sut.ReadAsync("checkout", Target("conversion"));
        var nowhere = await new ServiceOutcomeSources(new Dictionary<string, IOutcomeSource>(), null).ReadAsync("search", Target("conversion"));

        Assert.Null(unset.Value);
        Assert.Contains("/ship simulate search outcome \"checkout conversion\"", unset.Error, StringComparison.Ordinal);
        Assert.Equal(new OutcomeReading(1.9), set);
        Assert.Equal(new OutcomeReading(2.3), own);
        Assert.Null(nowhere.Value);
    }
}
