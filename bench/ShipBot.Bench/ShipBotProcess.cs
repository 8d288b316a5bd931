using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;

namespace ShipBot.Bench;

/// <summary>
/// ShipBot itself, as a separate process: the Release build of <c>src/ShipBot.Host</c> run with
/// <c>dotnet ShipBot.Host.dll</c> (as the container does) from the repository root, configured
/// through environment variables. Its console log goes to a file; CPU time and memory are read
/// from the process.
/// </summary>
public sealed class ShipBotProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ShipBotProcess(Process process, StreamWriter log, Uri baseAddress, string logPath)
    {
        _process = process;
        _log = log;
        BaseAddress = baseAddress;
        LogPath = logPath;
    }

    public Uri BaseAddress { get; }

    public string LogPath { get; }

    public int Id => _process.Id;

    public static string HostDll(string repo) => Path.Combine(repo, "src", "ShipBot.Host", "bin", "Release", "net10.0", "ShipBot.Host.dll");

    /// <param name="arguments">What <c>dotnet</c> runs: the host's dll, or the bench's dll and a child mode.</param>
    public static async Task<ShipBotProcess> StartAsync(string repo, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, string logPath)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = repo,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["Urls"] = $"http://127.0.0.1:{port}";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start ShipBot");
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var bot = new ShipBotProcess(process, log, new Uri($"http://127.0.0.1:{port}/"), logPath);

        using var http = new HttpClient { BaseAddress = bot.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"ShipBot exited with {process.ExitCode} at start-up; see {logPath}:\n{await File.ReadAllTextAsync(logPath)}");
            }

            try
            {
                using var ready = await http.GetAsync(new Uri("readyz", UriKind.Relative));
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return bot;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        await bot.DisposeAsync();
        throw new TimeoutException($"ShipBot was not ready within 60 s; see {logPath}");
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }

    /// <summary>User + system CPU time used by ShipBot so far.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>Resident set size now and its peak (VmRSS, VmHWM).</summary>
    public (long Rss, long Peak) Memory()
    {
        long Field(string name) => File.ReadLines($"/proc/{_process.Id}/status")
            .Where(l => l.StartsWith(name, StringComparison.Ordinal))
            .Select(l => long.Parse(l[(name.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024)
            .FirstOrDefault();
        return (Field("VmRSS"), Field("VmHWM"));
    }

    /// <summary>Log lines at warning level or above (JSON "level", or SimpleConsole's "warn:", "fail:", "crit:").</summary>
    public (int Warnings, int Errors, IReadOnlyList<string> Sample) LogProblems()
    {
        lock (_log)
        {
            _log.Flush();
        }

        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        // ShipBot logs JSON lines by default ("level":"Warning"); the simple console format says "warn:".
        var warnings = lines.Where(l => (l.Contains(" warn: ", StringComparison.Ordinal) || l.Contains("\"level\":\"Warning\"", StringComparison.Ordinal)) && !l.Contains("in-memory store", StringComparison.Ordinal)).ToList();
        var errors = lines.Where(l => l.Contains(" fail: ", StringComparison.Ordinal) || l.Contains(" crit: ", StringComparison.Ordinal)
            || l.Contains("\"level\":\"Error\"", StringComparison.Ordinal) || l.Contains("\"level\":\"Critical\"", StringComparison.Ordinal)).ToList();
        return (warnings.Count, errors.Count, [.. errors.Concat(warnings).Take(5)]);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM: the host stops gracefully; kill it if it does not within 15 s.
            _ = kill(_process.Id, 15);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }
}
