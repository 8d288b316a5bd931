using System.Diagnostics;

namespace ShipBot.Scheduling.Tests;

internal static class Eventually
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>Polls <paramref name="condition"/> every 20 ms until it holds or the deadline passes; returns whether it held.</summary>
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan? deadline = null)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < (deadline ?? Deadline))
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return condition();
    }

    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, TimeSpan? deadline = null)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < (deadline ?? Deadline))
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return await condition();
    }
}
