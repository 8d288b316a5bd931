namespace ShipBot.Bench.Judge;

/// <summary>
/// The simulated world of the judge benchmark: a service at a steady request rate, a canary on a
/// fixed share of it, a look every 30 s. Requests per look are Poisson; errors and slow requests
/// are binomial given the requests. Latency is log-normal (median 100 ms, p99 250 ms against a
/// 300 ms target); a +x % latency regression scales every request's latency by 1 + x.
/// </summary>
public sealed record JudgeScenario(string Name, double BaselineErrorRate, double ErrorFactor, double LatencyFactor, int Stages)
{
    public bool IsRegression => ErrorFactor > 1 || LatencyFactor > 1;
}

public sealed record JudgeWorldSettings
{
    public double RequestsPerMinute { get; init; } = 1000;

    public double CanaryShare { get; init; } = 0.05;

    public double LookSeconds { get; init; } = 30;

    public int Looks { get; init; } = 240;

    public double MedianMs { get; init; } = 100;

    public double P99Ms { get; init; } = 250;

    public double LatencyTargetMs { get; init; } = 300;

    /// <summary>Latency spread of the log-normal model: ln(p99 / median) / z(0.99).</summary>
    public double Sigma => Math.Log(P99Ms / MedianMs) / 2.3263478740;

    /// <summary>Share of requests slower than <paramref name="ms"/> when every latency is scaled by <paramref name="factor"/>.</summary>
    public double ShareAbove(double ms, double factor) => NormalUpper(Math.Log(ms / (MedianMs * factor)) / Sigma);

    private static double NormalUpper(double z)
    {
        // erfc by Numerical Recipes' Chebyshev fit (relative error below 1.2e-7): plenty for a simulated rate.
        var x = Math.Abs(z / Math.Sqrt(2));
        var t = 1 / (1 + (0.5 * x));
        var poly = -1.26551223 + (t * (1.00002368 + (t * (0.37409196 + (t * (0.09678418 + (t * (-0.18628806
            + (t * (0.27886807 + (t * (-1.13520398 + (t * (1.48851587 + (t * (-0.82215223 + (t * 0.17087277)))))))))))))))));
        var r = t * Math.Exp(-(x * x) + poly);
        return 0.5 * (z >= 0 ? r : 2 - r);
    }
}

/// <summary>One look's new traffic, for the canary, the production baseline and the equal-size baseline a Kayenta-style judge compares with.</summary>
public struct LookCounts
{
    public int CanaryRequests;
    public int CanaryErrors;
    public int CanarySlow;
    public int CanaryVerySlow;
    public int BaselineRequests;
    public int BaselineErrors;
    public int BaselineSlow;
    public int SliceRequests;
    public int SliceErrors;
    public int SliceSlow;
}

/// <summary>xoshiro256** (Blackman and Vigna): fast, good, and seedable per stage so runs are reproducible and parallel.</summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;

    public Rng(ulong seed)
    {
        // SplitMix64 spreads the seed over the state.
        ulong Next()
        {
            seed += 0x9E3779B97F4A7C15UL;
            var z = seed;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        _s0 = Next();
        _s1 = Next();
        _s2 = Next();
        _s3 = Next();
    }

    public double NextDouble()
    {
        var result = Rotl(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = Rotl(_s3, 45);
        return (result >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>Poisson: multiplication method for small means, normal with continuity correction above 60 (error far below the binomial noise that follows).</summary>
    public int Poisson(double mean)
    {
        if (mean <= 0)
        {
            return 0;
        }

        if (mean < 60)
        {
            var limit = Math.Exp(-mean);
            var k = 0;
            var p = NextDouble();
            while (p > limit)
            {
                k++;
                p *= NextDouble();
            }

            return k;
        }

        return Math.Max(0, (int)Math.Round(mean + (Math.Sqrt(mean) * Normal())));
    }

    /// <summary>Binomial by geometric waiting times (exact; cost grows with n·p, small here).</summary>
    public int Binomial(int n, double p)
    {
        if (n <= 0 || p <= 0)
        {
            return 0;
        }

        if (p >= 1)
        {
            return n;
        }

        if (p > 0.5)
        {
            return n - Binomial(n, 1 - p);
        }

        var logQ = Math.Log(1 - p);
        var successes = 0;
        var position = 0;
        while (true)
        {
            position += (int)Math.Floor(Math.Log(1 - NextDouble()) / logQ) + 1;
            if (position > n)
            {
                return successes;
            }

            successes++;
        }
    }

    private double Normal()
    {
        double u, v, s;
        do
        {
            u = (2 * NextDouble()) - 1;
            v = (2 * NextDouble()) - 1;
            s = (u * u) + (v * v);
        }
        while (s >= 1 || s == 0);
        return u * Math.Sqrt(-2 * Math.Log(s) / s);
    }

    private static ulong Rotl(ulong x, int k) => (x << k) | (x >> (64 - k));
}

/// <summary>Draws the looks of one stage.</summary>
public sealed class StageSimulator(JudgeWorldSettings world, JudgeScenario scenario, Rng rng)
{
    private readonly double _perLook = world.RequestsPerMinute * world.LookSeconds / 60;
    private readonly double _canaryErrors = Math.Min(scenario.BaselineErrorRate * scenario.ErrorFactor, 1);
    private readonly double _canarySlow = world.ShareAbove(world.LatencyTargetMs, scenario.LatencyFactor);
    private readonly double _canaryVerySlowGivenSlow = world.ShareAbove(2 * world.LatencyTargetMs, scenario.LatencyFactor) / world.ShareAbove(world.LatencyTargetMs, scenario.LatencyFactor);
    private readonly double _baselineSlow = world.ShareAbove(world.LatencyTargetMs, 1);

    public LookCounts Next()
    {
        var c = default(LookCounts);
        c.CanaryRequests = rng.Poisson(_perLook * world.CanaryShare);
        c.BaselineRequests = rng.Poisson(_perLook * (1 - world.CanaryShare));
        c.SliceRequests = rng.Poisson(_perLook * world.CanaryShare);

        // Errors and slowness are drawn independently: a failed request is not also timed.
        c.CanaryErrors = rng.Binomial(c.CanaryRequests, _canaryErrors);
        c.CanarySlow = rng.Binomial(c.CanaryRequests, _canarySlow);
        c.CanaryVerySlow = rng.Binomial(c.CanarySlow, _canaryVerySlowGivenSlow);
        c.BaselineErrors = rng.Binomial(c.BaselineRequests, scenario.BaselineErrorRate);
        c.BaselineSlow = rng.Binomial(c.BaselineRequests, _baselineSlow);
        c.SliceErrors = rng.Binomial(c.SliceRequests, scenario.BaselineErrorRate);
        c.SliceSlow = rng.Binomial(c.SliceRequests, _baselineSlow);
        return c;
    }

    /// <summary>The threshold rule's baseline: the production error rate read over one minute before the rollout.</summary>
    public double PreRolloutErrorRate()
    {
        var n = rng.Poisson(world.RequestsPerMinute);
        return n == 0 ? 0 : (double)rng.Binomial(n, scenario.BaselineErrorRate) / n;
    }
}
