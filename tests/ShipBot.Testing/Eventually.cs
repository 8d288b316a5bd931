using System.Diagnostics;

namespace ShipBot.Testing;

/// <summary>
/// Waiting on a condition instead of sleeping: polls until it holds, with a deadline generous
/// enough for a busy shared machine. A verdict never depends on how fast the machine is, only on
/// whether the condition is reached at all.
/// </summary>
public static class Eventually
{
    /// <summary>The default deadline: 30 s.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>Polls <paramref name="condition"/> every 20 ms until it holds or the deadline passes; returns whether it held.</summary>
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < (deadline ?? Deadline))
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(20).ConfigureAwait(false);
        }

        return condition();
    }

    /// <summary>Polls <paramref name="condition"/> every 20 ms until it holds or the deadline passes; returns whether it held.</summary>
    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < (deadline ?? Deadline))
        {
            if (await condition().ConfigureAwait(false))
            {
                return true;
            }

            await Task.Delay(20).ConfigureAwait(false);
        }

        return await condition().ConfigureAwait(false);
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails the test naming <paramref name="what"/> if it does not within the deadline.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        if (!await TrueAsync(condition, deadline).ConfigureAwait(false))
        {
            throw new Xunit.Sdk.XunitException($"Timed out after {(deadline ?? Deadline).TotalSeconds:0} s waiting for {what}.");
        }
    }
}
