using System.Diagnostics;
using System.Globalization;

namespace ShipBot.Bench;

/// <summary>A reading of CPU time (Linux /proc, in clock ticks of 1/100 s): the whole machine, ShipBot, this benchmark with its reaped children (load generators, wrk), and redis-server.</summary>
public sealed record CpuSample(long Timestamp, long MachineBusy, long ShipBot, long Bench, long Redis);

/// <summary>
/// Where the 2 cores went during a measurement: ShipBot's CPU per request, and the CPU used by
/// processes outside the benchmark (other work on a shared machine), so noisy runs can be recognised.
/// </summary>
public static class CpuMeter
{
    private const double TicksPerSecond = 100;

    public static CpuSample Sample(int shipBot, int? redis) => new(
        Stopwatch.GetTimestamp(),
        MachineBusy(),
        ProcessTicks(shipBot, children: false),
        ProcessTicks(Environment.ProcessId, children: true),
        redis is { } r ? ProcessTicks(r, children: false) : 0);

    /// <summary>ShipBot's CPU time between the samples, in µs per request.</summary>
    public static double ShipBotMicrosPerRequest(CpuSample from, CpuSample to, long requests) =>
        (to.ShipBot - from.ShipBot) / TicksPerSecond * 1e6 / Math.Max(1, requests);

    /// <summary>Average cores used by every other process on the machine between the samples.</summary>
    public static double OtherCores(CpuSample from, CpuSample to)
    {
        var seconds = Stopwatch.GetElapsedTime(from.Timestamp, to.Timestamp).TotalSeconds;
        var ours = (to.ShipBot - from.ShipBot) + (to.Bench - from.Bench) + (to.Redis - from.Redis);
        return Math.Max(0, (to.MachineBusy - from.MachineBusy - ours) / TicksPerSecond / Math.Max(0.001, seconds));
    }

    /// <summary>Average cores used by ShipBot between the samples.</summary>
    public static double ShipBotCores(CpuSample from, CpuSample to) =>
        (to.ShipBot - from.ShipBot) / TicksPerSecond / Math.Max(0.001, Stopwatch.GetElapsedTime(from.Timestamp, to.Timestamp).TotalSeconds);

    private static long MachineBusy()
    {
        // cpu  user nice system idle iowait irq softirq steal guest guest_nice
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        return fields.Sum() - fields[3] - fields[4];
    }

    private static long ProcessTicks(int pid, bool children)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // Fields after the command name (which may hold spaces): state is field 3; utime 14, stime 15, cutime 16, cstime 17.
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long Field(int n) => long.Parse(rest[n - 3], CultureInfo.InvariantCulture);
            return Field(14) + Field(15) + (children ? Field(16) + Field(17) : 0);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
