using ShipBot.Core.Health;

namespace ShipBot.Health.Simulated;

/// <summary>
/// Simulated request counts for the sequential judge. A service serves <c>traffic_rpm</c> requests
/// a minute (default 1,000); the new version gets its stage's share of them. Each read draws the
/// requests since the previous read (Poisson), then errors (binomial at the error rate: the new
/// version's simulated one for the canary, the healthy default for the baseline) and requests
/// slower than the latency target (binomial at the share a log-normal latency with the simulated
/// p99 puts above it, p99 = 2.5 × median). Counts accumulate from the stage's start, so a read
/// returns the stage so far, as Prometheus's <c>increase()</c> over the stage would.
/// </summary>
internal sealed class SimulatedTraffic(Random random)
{
    /// <summary>Default traffic of a simulated service, requests per minute.</summary>
    public const double DefaultRequestsPerMinute = 1000;

    // ln(p99 / median) / z(0.99) with p99 = 2.5 × median: a spread typical of web latency.
    private static readonly double Sigma = Math.Log(2.5) / 2.3263478740;

    private readonly Dictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>The share of requests slower than <paramref name="targetMs"/> when the p99 latency is <paramref name="p99Ms"/>.</summary>
    public static double ShareAbove(double targetMs, double p99Ms)
    {
        if (p99Ms <= 0 || targetMs <= 0)
        {
            return p99Ms > 0 ? 1 : 0;
        }

        var z = Math.Log(targetMs / (p99Ms / 2.5)) / Sigma;
        return 0.5 * Erfc(z / Math.Sqrt(2));
    }

    /// <summary>Counts since <paramref name="since"/> for one metric of one release, advanced to <paramref name="now"/>.</summary>
    public MetricCounts Read(string service, string version, string metric, DateTimeOffset since, DateTimeOffset now, double share, Rates canary, Rates baseline)
    {
        lock (_gate)
        {
            // One counter per release and stage start: a new stage starts from zero, and a stage's old counters go.
            var key = $"{service}\n{version}\n{since.UtcTicks}";
            if (!_counters.TryGetValue(key, out var counter))
            {
                foreach (var stale in _counters.Keys.Where(k => k.StartsWith($"{service}\n{version}\n", StringComparison.Ordinal)).ToList())
                {
                    _counters.Remove(stale);
                }

                counter = new Counter(since);
                _counters[key] = counter;
            }

            counter.AdvanceTo(now, share, canary, baseline, random);
            var (canaryEvents, baselineEvents) = metric == CountMetrics.SlowRequests
                ? (counter.CanarySlow, counter.BaselineSlow)
                : (counter.CanaryErrors, counter.BaselineErrors);
            return new MetricCounts(metric, counter.Canary, canaryEvents, counter.Baseline, baselineEvents, since, now, "simulated");
        }
    }

    /// <summary>What one version serves: requests a minute, error rate, share of slow requests.</summary>
    internal readonly record struct Rates(double RequestsPerMinute, double ErrorRate, double SlowShare);

    private sealed class Counter(DateTimeOffset since)
    {
        private DateTimeOffset _until = since;

        public double Canary { get; private set; }

        public double CanaryErrors { get; private set; }

        public double CanarySlow { get; private set; }

        public double Baseline { get; private set; }

        public double BaselineErrors { get; private set; }

        public double BaselineSlow { get; private set; }

        public void AdvanceTo(DateTimeOffset now, double share, Rates canary, Rates baseline, Random random)
        {
            var minutes = (now - _until).TotalMinutes;
            if (minutes <= 0)
            {
                return;
            }

            _until = now;
            var canaryRequests = Poisson(random, canary.RequestsPerMinute * share * minutes);
            var baselineRequests = Poisson(random, baseline.RequestsPerMinute * (1 - share) * minutes);
            Canary += canaryRequests;
            CanaryErrors += Binomial(random, canaryRequests, canary.ErrorRate);
            CanarySlow += Binomial(random, canaryRequests, canary.SlowShare);
            Baseline += baselineRequests;
            BaselineErrors += Binomial(random, baselineRequests, baseline.ErrorRate);
            BaselineSlow += Binomial(random, baselineRequests, baseline.SlowShare);
        }
    }

    private static long Poisson(Random random, double mean)
    {
        if (mean <= 0)
        {
            return 0;
        }

        if (mean > 50)
        {
            return Math.Max(0, (long)Math.Round(mean + (Math.Sqrt(mean) * Normal(random))));
        }

        var limit = Math.Exp(-mean);
        var k = 0L;
        for (var p = random.NextDouble(); p > limit; p *= random.NextDouble())
        {
            k++;
        }

        return k;
    }

    private static long Binomial(Random random, long n, double p)
    {
        if (n <= 0 || p <= 0)
        {
            return 0;
        }

        if (p >= 1)
        {
            return n;
        }

        var mean = n * p;
        if (mean > 50 && n * (1 - p) > 50)
        {
            return Math.Clamp((long)Math.Round(mean + (Math.Sqrt(mean * (1 - p)) * Normal(random))), 0, n);
        }

        if (p > 0.5)
        {
            return n - Binomial(random, n, 1 - p);
        }

        // Waiting times between successes are geometric: cost grows with n·p, not n.
        var logQ = Math.Log(1 - p);
        var successes = 0L;
        for (var position = 0L; ; successes++)
        {
            position += (long)Math.Floor(Math.Log(1 - random.NextDouble()) / logQ) + 1;
            if (position > n)
            {
                return successes;
            }
        }
    }

    private static double Normal(Random random)
    {
        var u = 1 - random.NextDouble();
        var v = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }

    private static double Erfc(double x)
    {
        // Numerical Recipes' Chebyshev fit, relative error below 1.2e-7.
        var z = Math.Abs(x);
        var t = 1 / (1 + (0.5 * z));
        var poly = -1.26551223 + (t * (1.00002368 + (t * (0.37409196 + (t * (0.09678418 + (t * (-0.18628806
            + (t * (0.27886807 + (t * (-1.13520398 + (t * (1.48851587 + (t * (-0.82215223 + (t * 0.17087277)))))))))))))))));
        var r = t * Math.Exp(-(z * z) + poly);
        return x >= 0 ? r : 2 - r;
    }
}
