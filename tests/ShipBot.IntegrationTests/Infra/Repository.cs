using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using ShipBot.Telemetry;

namespace ShipBot.IntegrationTests.Infra;

/// <summary>Paths in the repository, the tools the infra tests run, and the metric names ShipBot exports.</summary>
internal static partial class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Runs a tool to completion (bounded: 2 minutes) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string tool, string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(File.Exists($"/usr/bin/{tool}") ? $"/usr/bin/{tool}" : tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"{tool} did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"{tool} is not installed: run bash scripts/test.sh, which installs Debian's prometheus package (it ships promtool).", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout + await stderr);
        }
    }

    /// <summary>
    /// The Prometheus names of the ShipBot meter's instruments, as the OpenTelemetry exporter writes
    /// them: dots become underscores, seconds add <c>_seconds</c>, counters add <c>_total</c>,
    /// histograms are <c>_bucket</c>, <c>_sum</c> and <c>_count</c>.
    /// </summary>
    public static IReadOnlySet<string> ShipBotMetricNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name != ShipBotTelemetry.Name)
            {
                return;
            }

            var name = instrument.Name.Replace('.', '_') + (instrument.Unit == "s" ? "_seconds" : string.Empty);
            var type = instrument.GetType().GetGenericTypeDefinition();
            if (type == typeof(Counter<>))
            {
                names.Add(name + "_total");
            }
            else if (type == typeof(Histogram<>))
            {
                names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
            }
            else
            {
                names.Add(name);
            }
        };
        _ = ShipBotTelemetry.Releases;
        listener.Start();
        return names;
    }

    /// <summary>Every <c>shipbot_…</c> metric name in a PromQL expression (a name followed by a selector or a range; label names are not).</summary>
    public static IEnumerable<string> ShipBotNamesIn(string promql) => ShipBotName().Matches(promql).Select(m => m.Value);

    [GeneratedRegex(@"\bshipbot_[a-z0-9_]+(?=\s*[{\[])")]
    private static partial Regex ShipBotName();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ShipBot.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"ShipBot.sln not found above {AppContext.BaseDirectory}");
    }
}
