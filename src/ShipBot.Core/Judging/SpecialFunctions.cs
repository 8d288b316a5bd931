namespace ShipBot.Core.Judging;

/// <summary>
/// The few special functions the sequential judge needs (log-gamma, log-beta, the regularized
/// incomplete beta function in log space, the normal tail), written out so that the domain core
/// depends on no numerics package. Accuracy is far beyond what a verdict needs (about 1e-12
/// relative for log-gamma, 1e-10 for the incomplete beta).
/// </summary>
internal static class SpecialFunctions
{
    // Lanczos approximation, g = 7, nine coefficients (the classic set; about 15 significant digits).
    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
        1.5056327351493116e-7,
    ];

    private const double HalfLogTwoPi = 0.91893853320467274178;

    /// <summary>ln Γ(x) for x &gt; 0.</summary>
    public static double LogGamma(double x)
    {
        if (x <= 0 || double.IsNaN(x))
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "LogGamma needs a positive argument.");
        }

        if (x < 0.5)
        {
            // Reflection keeps the series in its accurate range: Γ(x)Γ(1−x) = π / sin(πx).
            return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        }

        if (x >= 10)
        {
            // Stirling's series with four correction terms: the next term is below 1e-12 from x = 10 on,
            // and this is several times cheaper than the Lanczos sum (counts make most arguments large).
            var inv = 1 / x;
            var inv2 = inv * inv;
            var series = inv * ((1.0 / 12) - (inv2 * ((1.0 / 360) - (inv2 * ((1.0 / 1260) - (inv2 / 1680))))));
            return ((x - 0.5) * Math.Log(x)) - x + HalfLogTwoPi + series;
        }

        x -= 1;
        var sum = Lanczos[0];
        for (var i = 1; i < Lanczos.Length; i++)
        {
            sum += Lanczos[i] / (x + i);
        }

        var t = x + 7.5;
        return HalfLogTwoPi + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }

    /// <summary>ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b).</summary>
    public static double LogBeta(double a, double b) => LogGamma(a) + LogGamma(b) - LogGamma(a + b);

    /// <summary>ln I_x(a, b), the log of the regularized incomplete beta function; −∞ at x = 0, 0 at x = 1.</summary>
    public static double LogRegularizedIncompleteBeta(double a, double b, double x)
    {
        if (x <= 0)
        {
            return double.NegativeInfinity;
        }

        if (x >= 1)
        {
            return 0;
        }

        // The continued fraction converges fast on the side of the mean where the value is small,
        // so the small tail is computed directly (no cancellation) and the other side as 1 − tail.
        if (x < (a + 1) / (a + b + 2))
        {
            return LogFront(a, b, x) + Math.Log(ContinuedFraction(a, b, x)) - Math.Log(a);
        }

        var complement = Math.Exp(LogFront(b, a, 1 - x) + Math.Log(ContinuedFraction(b, a, 1 - x)) - Math.Log(b));
        return complement >= 1 ? double.NegativeInfinity : Log1P(-complement);
    }

    /// <summary>
    /// ln ∫ₓ¹ t^(a−1) (1 − t)^(b−1) dt, the upper part of the beta integral, without normalising;
    /// <paramref name="logBeta"/> is ln B(a, b), passed in because the caller has it already.
    /// </summary>
    public static double LogUpperBetaIntegral(double a, double b, double x, double logBeta)
    {
        if (x <= 0)
        {
            return logBeta;
        }

        if (x >= 1)
        {
            return double.NegativeInfinity;
        }

        var logFront = (a * Math.Log(x)) + (b * Log1P(-x));
        if (x > (a + 1) / (a + b + 2))
        {
            // The upper part is the small one: its continued fraction (with a, b swapped) converges fast.
            return logFront + Math.Log(ContinuedFraction(b, a, 1 - x)) - Math.Log(b);
        }

        var lower = Math.Exp(logFront + Math.Log(ContinuedFraction(a, b, x)) - Math.Log(a) - logBeta);
        return logBeta + (lower >= 1 ? double.NegativeInfinity : Log1P(-lower));
    }

    /// <summary>ln ∫₀ˣ t^(a−1) (1 − t)^(b−1) dt, the lower part of the beta integral (see <see cref="LogUpperBetaIntegral"/>).</summary>
    public static double LogLowerBetaIntegral(double a, double b, double x, double logBeta) =>
        LogUpperBetaIntegral(b, a, 1 - x, logBeta);

    /// <summary>ln(1 − I_x(a, b)) = ln I_{1−x}(b, a).</summary>
    public static double LogRegularizedIncompleteBetaComplement(double a, double b, double x) =>
        LogRegularizedIncompleteBeta(b, a, 1 - x);

    /// <summary>The standard normal upper tail P(Z &gt; z), via erfc (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7).</summary>
    public static double NormalUpperTail(double z) => 0.5 * Erfc(z / Math.Sqrt(2));

    private static double Erfc(double x)
    {
        var z = Math.Abs(x);
        var t = 1 / (1 + (0.5 * z));
        var poly = -1.26551223 + (t * (1.00002368 + (t * (0.37409196 + (t * (0.09678418 + (t * (-0.18628806
            + (t * (0.27886807 + (t * (-1.13520398 + (t * (1.48851587 + (t * (-0.82215223 + (t * 0.17087277)))))))))))))))));
        var r = t * Math.Exp(-(z * z) + poly);
        return x >= 0 ? r : 2 - r;
    }

    private static double LogFront(double a, double b, double x) =>
        (a * Math.Log(x)) + (b * Log1P(-x)) - LogBeta(a, b);

    /// <summary>ln(1 + x), accurate for small x (the framework's LogP1 is ln(x + 1) without care for cancellation).</summary>
    public static double Log1P(double x) => Math.Abs(x) < 1e-4
        ? x * (1 - (x * (0.5 - (x * ((1.0 / 3) - (x * 0.25))))))
        : Math.Log(1 + x);

    // Modified Lentz evaluation of the incomplete beta continued fraction.
    private static double ContinuedFraction(double a, double b, double x)
    {
        const double tiny = 1e-300;
        const double epsilon = 1e-11;
        var qab = a + b;
        var qap = a + 1;
        var qam = a - 1;
        var c = 1.0;
        var d = 1 - (qab * x / qap);
        d = Math.Abs(d) < tiny ? tiny : d;
        d = 1 / d;
        var h = d;
        for (var m = 1; m <= 100_000; m++)
        {
            var m2 = 2 * m;
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + (aa * d);
            d = Math.Abs(d) < tiny ? tiny : d;
            c = 1 + (aa / c);
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + (aa * d);
            d = Math.Abs(d) < tiny ? tiny : d;
            c = 1 + (aa / c);
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < epsilon)
            {
                return h;
            }
        }

        return h;
    }
}
