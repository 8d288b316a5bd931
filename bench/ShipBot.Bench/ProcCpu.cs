using System.Globalization;

namespace ShipBot.Bench;

/// <summary>
/// CPU time and memory of processes and of the whole machine, read from /proc (Linux), so each
/// measurement can say how busy the machine was and how much of that was other people's work.
/// </summary>
public static class ProcCpu
{
    /// <summary>USER_HZ: the unit of /proc CPU times (100 on Linux builds in practice).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>CPU seconds (user + system) a process has used so far; NaN when it cannot be read.</summary>
    public static double ProcessSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // The command name may contain spaces: the fields start after its closing parenthesis.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return double.NaN;
        }
    }

    /// <summary>Busy and total CPU seconds of the whole machine (all cores) so far.</summary>
    public static (double Busy, double Total) MachineSeconds()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
            var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            var total = values.Sum();
            var idle = values[3] + values[4]; // idle + iowait
            return ((total - idle) / TicksPerSecond, total / TicksPerSecond);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            return (double.NaN, double.NaN);
        }
    }

    /// <summary>Resident set size and its peak (VmRSS, VmHWM) of a process, in bytes.</summary>
    public static (long Rss, long Peak) Memory(int pid)
    {
        long rss = 0, peak = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = Kb(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    peak = Kb(line);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // gone
        }

        return (rss, peak);

        static long Kb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}

/// <summary>
/// CPU used during one measurement window: by the machine as a whole and by each named process
/// (ShipBot, redis-server, the benchmark itself); what is left is other work on the shared machine.
/// Figures are in cores (1.0 = one core busy for the whole window).
/// </summary>
public sealed class CpuWindow
{
    private readonly (string Name, int Pid, double Start)[] _processes;
    private readonly (double Busy, double Total) _machine;
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();

    public CpuWindow(params (string Name, int Pid)[] processes)
    {
        _processes = processes.Where(p => p.Pid > 0).Select(p => (p.Name, p.Pid, ProcCpu.ProcessSeconds(p.Pid))).ToArray();
        _machine = ProcCpu.MachineSeconds();
    }

    public CpuFigures Stop()
    {
        var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(_started).TotalSeconds;
        var machine = ProcCpu.MachineSeconds();
        var cores = (machine.Total - _machine.Total) / Math.Max(seconds, 1e-9);
        var busy = (machine.Busy - _machine.Busy) / Math.Max(seconds, 1e-9);
        var each = _processes.ToDictionary(p => p.Name, p => (ProcCpu.ProcessSeconds(p.Pid) - p.Start) / Math.Max(seconds, 1e-9));
        var ours = each.Values.Where(v => !double.IsNaN(v)).Sum();
        return new CpuFigures(seconds, Math.Round(cores), busy, each, Math.Max(0, busy - ours));
    }
}

/// <summary>CPU over a window, in cores: the machine's busy cores, each named process's, and the rest (other work).</summary>
public sealed record CpuFigures(double Seconds, double Cores, double MachineBusy, IReadOnlyDictionary<string, double> Processes, double Other)
{
    public double Of(string name) => Processes.TryGetValue(name, out var v) ? v : double.NaN;

    public string Describe() =>
        $"machine {MachineBusy:0.00} of {Cores:0} cores busy: " +
        string.Join(", ", Processes.Select(p => $"{p.Key} {p.Value:0.00}")) +
        $", other work {Other:0.00}";
}
