namespace ShipBot.Core.Judging;

/// <summary>Which alternatives a mixture test weighs against its null rate.</summary>
public enum MixtureSide
{
    /// <summary>Alternatives on both sides of the null (a two-sided confidence sequence).</summary>
    TwoSided,

    /// <summary>Only rates above the null: evidence that the true rate is higher.</summary>
    Above,

    /// <summary>Only rates below the null: evidence that the true rate is lower.</summary>
    Below,
}

/// <summary>
/// The beta-binomial mixture test for a stream of yes/no outcomes, valid however often it is
/// looked at. For a null rate p it weighs the likelihood of every other rate p′ by a beta prior
/// centred on p and divides by the likelihood of p. Under the null that ratio is a nonnegative
/// martingale with mean 1, so by Ville's inequality the chance that it ever reaches 1/α, at any
/// look, is at most α. Inverting it over p gives a confidence sequence: bounds that hold at every
/// look at once.
/// <para>
/// This is Robbins's conjugate mixture in the sub-Bernoulli form of Howard, Ramdas, McAuliffe and
/// Sekhon (2021), "Time-uniform, nonparametric, nonasymptotic confidence sequences", Annals of
/// Statistics 49(2): the prior's spread is chosen so that the boundary is tightest at a chosen
/// intrinsic time <c>vOpt</c> (variance p(1 − p) × trials) for level <c>alphaOpt</c>, and the
/// one-sided version restricts the prior to one side of the null. The arithmetic is exact for any
/// count, including non-integer counts (Prometheus's <c>increase()</c> extrapolates).
/// </para>
/// </summary>
public static class BetaBinomialMixture
{
    /// <summary>
    /// The prior precision ρ that makes a normal mixture boundary tightest at intrinsic time
    /// <paramref name="vOpt"/> for level <paramref name="alphaOpt"/>: vOpt / (2 ln(1/α) + ln(1 + 2 ln(1/α))).
    /// A one-sided mixture uses 2α.
    /// </summary>
    public static double BestRho(double vOpt, double alphaOpt)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vOpt);
        if (alphaOpt is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(alphaOpt), alphaOpt, "alphaOpt must be in (0, 1).");
        }

        var l = 2 * Math.Log(1 / alphaOpt);
        return vOpt / (l + Math.Log(1 + l));
    }

    /// <summary>
    /// ln of the mixture likelihood ratio after <paramref name="trials"/> outcomes with
    /// <paramref name="successes"/> yeses, against the null rate <paramref name="nullRate"/>.
    /// The null is rejected (at level α, valid at every look) once this reaches ln(1/α).
    /// </summary>
    /// <param name="successes">Yes outcomes so far (0 ≤ successes ≤ trials; need not be whole).</param>
    /// <param name="trials">Outcomes so far.</param>
    /// <param name="nullRate">The null rate, in (0, 1).</param>
    /// <param name="vOpt">Intrinsic time, p(1 − p) × trials, at which the boundary is tightest.</param>
    /// <param name="alphaOpt">The level the tuning aims at.</param>
    /// <param name="side">Which alternatives the prior covers.</param>
    public static double LogEvidence(double successes, double trials, double nullRate, double vOpt, double alphaOpt, MixtureSide side)
    {
        if (nullRate is <= 0 or >= 1 || double.IsNaN(nullRate))
        {
            throw new ArgumentOutOfRangeException(nameof(nullRate), nullRate, "The null rate must be in (0, 1).");
        }

        var s = Math.Clamp(successes, 0, Math.Max(trials, 0));
        var f = Math.Max(trials, 0) - s;
        var g = nullRate;
        var h = 1 - nullRate;
        var rho = BestRho(vOpt, side == MixtureSide.TwoSided ? alphaOpt : Math.Min(2 * alphaOpt, 0.999));
        var r = Math.Max(rho - (g * h), 1e-3 * g * h);

        // Prior Beta(a0, b0) on the alternative rate, centred on the null: mean a0 / (a0 + b0) = p.
        var a0 = r / h;
        var b0 = r / g;
        var logNull = (s > 0 ? s * Math.Log(g) : 0) + (f > 0 ? f * SpecialFunctions.Log1P(-g) : 0);
        var posterior = SpecialFunctions.LogBeta(a0 + s, b0 + f);
        var prior = SpecialFunctions.LogBeta(a0, b0);

        // Two-sided: the whole beta integrals. One-sided: only the part of each on the alternative's side of the null.
        return side switch
        {
            MixtureSide.Above => SpecialFunctions.LogUpperBetaIntegral(a0 + s, b0 + f, g, posterior)
                - SpecialFunctions.LogUpperBetaIntegral(a0, b0, g, prior) - logNull,
            MixtureSide.Below => SpecialFunctions.LogLowerBetaIntegral(a0 + s, b0 + f, g, posterior)
                - SpecialFunctions.LogLowerBetaIntegral(a0, b0, g, prior) - logNull,
            _ => posterior - prior - logNull,
        };
    }

    /// <summary>
    /// The lower confidence bound of the rate: the smallest null rate the one-sided test
    /// (<see cref="MixtureSide.Above"/>) does not reject at <paramref name="alpha"/>; 0 when no null
    /// rate below the observed one can be rejected. <paramref name="trialsOpt"/> sets vOpt = p(1 − p) × trialsOpt for each p.
    /// </summary>
    /// <param name="guess">Where the bound probably is (the previous look's), to start the search near it; 0 for none.</param>
    public static double LowerBound(double successes, double trials, double alpha, double trialsOpt, double alphaOpt, MixtureSide side = MixtureSide.Above, double guess = 0)
    {
        if (trials <= 0 || successes <= 0)
        {
            return 0;
        }

        var observed = Math.Min(successes / trials, 1 - 1e-12);
        var threshold = Math.Log(1 / alpha);
        return Boundary(p => LogEvidence(successes, trials, p, p * (1 - p) * trialsOpt, alphaOpt, side) - threshold, observed, towardsZero: true, guess);
    }

    /// <summary>
    /// The upper confidence bound of the rate: the largest null rate the one-sided test
    /// (<see cref="MixtureSide.Below"/>) does not reject at <paramref name="alpha"/>; 1 when none can be rejected.
    /// </summary>
    /// <param name="guess">Where the bound probably is (the previous look's), to start the search near it; 0 for none.</param>
    public static double UpperBound(double successes, double trials, double alpha, double trialsOpt, double alphaOpt, MixtureSide side = MixtureSide.Below, double guess = 0)
    {
        if (trials <= 0)
        {
            return 1;
        }

        var observed = Math.Max(Math.Clamp(successes / trials, 0, 1), 1e-12);
        var threshold = Math.Log(1 / alpha);
        return Boundary(p => LogEvidence(successes, trials, p, p * (1 - p) * trialsOpt, alphaOpt, side) - threshold, observed, towardsZero: false, guess);
    }

    /// <summary>
    /// Where a test's verdict flips between the observed rate (never rejected: the mixture's
    /// likelihood ratio is at most 1 there) and the far end (near 0 or 1). Works on the log-odds
    /// scale, where rates of very different sizes behave alike: from a guess (the previous look's
    /// bound, which moves little) it steps outwards, growing the step, until it brackets the flip,
    /// then closes the bracket by the Illinois variant of regula falsi. It returns the end that is
    /// not rejected, so the bound is never optimistic, to about 2e-5 on the log-odds scale (a
    /// relative 2e-5 for small rates). Typically five evaluations with a good guess.
    /// </summary>
    /// <param name="excess">Log evidence minus ln(1/α) at a null rate; rejected when ≥ 0.</param>
    /// <param name="towardsZero">True for a lower bound (rejected below), false for an upper one (rejected above).</param>
    private static double Boundary(Func<double, double> excess, double observed, bool towardsZero, double guess)
    {
        static double Logit(double p) => Math.Log(p / (1 - p));
        static double Expit(double z) => 1 / (1 + Math.Exp(-z));
        const double edge = 27.6; // logit of 1e-12
        var dir = towardsZero ? -1 : 1;
        var kept = Logit(observed);
        var far = dir * edge;
        var noBound = towardsZero ? 0 : 1;
        if ((far - kept) * dir <= 0)
        {
            return noBound;
        }

        double F(double z) => excess(Expit(z));

        // r: a rejected point, k: a kept point, with their values.
        double r, fr, k, fk;
        var start = guess > 0 && guess < 1 && (Logit(guess) - kept) * dir > 0 ? Logit(guess) : kept + (dir * 0.5);
        start = dir > 0 ? Math.Min(start, far) : Math.Max(start, far);
        var fs = F(start);
        var step = 0.02;
        if (fs >= 0)
        {
            (r, fr) = (start, fs);
            while (true)
            {
                var z = r - (dir * step);
                if ((z - kept) * dir <= 0)
                {
                    (k, fk) = (kept, F(kept));
                    break;
                }

                var fz = F(z);
                if (fz < 0)
                {
                    (k, fk) = (z, fz);
                    break;
                }

                (r, fr) = (z, fz);
                step *= 4;
            }
        }
        else
        {
            (k, fk) = (start, fs);
            while (true)
            {
                var z = k + (dir * step);
                if ((z - far) * dir >= 0)
                {
                    var ff = F(far);
                    if (ff < 0)
                    {
                        return noBound;
                    }

                    (r, fr) = (far, ff);
                    break;
                }

                var fz = F(z);
                if (fz >= 0)
                {
                    (r, fr) = (z, fz);
                    break;
                }

                (k, fk) = (z, fz);
                step *= 4;
            }
        }

        // Illinois: regula falsi that halves the stale end's value when the same end moves twice.
        var stale = 0;
        for (var i = 0; i < 100 && Math.Abs(k - r) > 2e-5; i++)
        {
            var c = fr != fk ? k - (fk * (k - r) / (fk - fr)) : (k + r) / 2;
            if (!(c > Math.Min(k, r) && c < Math.Max(k, r)))
            {
                c = (k + r) / 2;
            }

            var fc = F(c);
            if (fc >= 0)
            {
                (r, fr) = (c, fc);
                if (stale == 1)
                {
                    fk /= 2;
                }

                stale = 1;
            }
            else
            {
                (k, fk) = (c, fc);
                if (stale == -1)
                {
                    fr /= 2;
                }

                stale = -1;
            }
        }

        return Expit(k);
    }
}
