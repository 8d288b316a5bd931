using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace ShipBot.Bench;

/// <summary>One measured load run against ShipBot's Slack endpoints. Latencies in ms.</summary>
public sealed record SlackLoadRun(
    string Kind,
    string Mode,
    string Tool,
    double OfferedRate,
    int Connections,
    double Seconds,
    long Sent,
    long Completed,
    long Ok,
    long BadBody,
    long TransportErrors,
    IReadOnlyDictionary<string, long> NonOkStatuses,
    double P50,
    double P90,
    double P99,
    double P999,
    double Max,
    double Mean,
    double ScheduleP99,
    double ScheduleMax,
    double SendLagP99,
    double SendLagMax,
    double ClientCpuMs,
    long Wrapped,
    int SecondsOver50 = 0,
    IReadOnlyList<double>? WorstPerSecond = null)
{
    /// <summary>Responses per second over the run (open loop: completions between the first send and the last response).</summary>
    public double PerSecond => Completed / Seconds;

    public double OkPerSecond => Ok / Seconds;

    public long NonOk => NonOkStatuses.Values.Sum();
}

/// <summary>What the load child reports: its unmeasured warm-up (open loop; for a fresh ShipBot, its cold start) and the measured runs.</summary>
public sealed record SlackLoadResult(SlackLoadRun? Warmup, IReadOnlyList<SlackLoadRun> Runs);

/// <summary>
/// The load generator, run as its own process (<c>--child slack-load --load-spec file.json</c>):
/// open loop (requests sent at a fixed arrival rate whatever the answers, so a slow answer cannot
/// slow the offered load: no coordinated omission) or closed loop (N connections back to back).
/// Requests are signed and unique, precomputed just before each run with the current timestamp.
/// Latency is from just before the request is handed to the socket to the last byte of the
/// response; for the open loop, "from schedule" also counts from the request's intended send time.
/// </summary>
public static class SlackLoad
{
    private static readonly MediaTypeHeaderValue FormType = MediaTypeHeaderValue.Parse(SlackRequests.FormContentType);

    public static async Task<SlackLoadResult> RunAsync(SlackLoadSpec spec)
    {
        var factory = new SlackRequests(spec);
        var release = Encoding.UTF8.GetBytes(spec.Release);
        using var http = Client(spec);
        var runs = new List<SlackLoadRun>();
        SlackLoadRun? warmup = null;
        if (spec.Warmup > 0)
        {
            var warm = spec.Mode == "open" ? spec.Rate : 500;
            warmup = await OpenLoopAsync(http, spec.Kind, factory.Make(spec.Kind, (int)(warm * spec.Warmup)), warm, release);
            System.Console.Error.WriteLine($"    warm-up: {spec.Warmup:0.#} s of {spec.Kind} at {warm:0} req/s (not in the measured runs): {Describe(warmup)}");
        }

        // Tells the benchmark where each measured run starts and the last one ends (it reads ShipBot's CPU time there).
        for (var r = 0; r < spec.Runs; r++)
        {
            await MarkAsync();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            SlackLoadRun run;
            if (spec.Mode == "open")
            {
                var requests = factory.Make(spec.Kind, (int)Math.Round(spec.Rate * spec.Seconds));
                run = await OpenLoopAsync(http, spec.Kind, requests, spec.Rate, release);
            }
            else
            {
                var requests = factory.Make(spec.Kind, (int)Math.Ceiling(spec.ClosedBudgetPerSecond * spec.Seconds));
                run = await ClosedLoopAsync(http, spec.Kind, requests, spec.Connections, spec.Seconds, release);
            }

            run = run with { ClientCpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds };
            runs.Add(run);
            System.Console.Error.WriteLine($"    {Describe(run)}");
        }

        await MarkAsync();

        return new SlackLoadResult(warmup, runs);
    }

    private static async Task MarkAsync()
    {
        System.Console.Out.WriteLine("MARK");
        await System.Console.Out.FlushAsync();
    }

    public static string Describe(SlackLoadRun run) =>
        string.Create(CultureInfo.InvariantCulture, $"{run.Kind} {run.Mode}{(run.Mode == "open" ? $" {run.OfferedRate:0} req/s" : $" {run.Connections} conn")} ({run.Tool}): {run.PerSecond:N0} resp/s, ok {run.Ok:N0}/{run.Sent:N0}, p50 {run.P50:N2} p99 {run.P99:N2} max {run.Max:N1} ms; non-200 {run.NonOk:N0}{(run.NonOk > 0 ? " (" + string.Join(", ", run.NonOkStatuses.Select(s => $"{s.Key} × {s.Value}")) + ")" : string.Empty)}, bad body {run.BadBody:N0}, transport errors {run.TransportErrors:N0}");

    private static HttpClient Client(SlackLoadSpec spec) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        MaxConnectionsPerServer = spec.Mode == "open" ? int.MaxValue : spec.Connections,
    })
    {
        BaseAddress = new Uri(spec.Target),
        Timeout = TimeSpan.FromSeconds(30),
    };

    private sealed class Samples(int n)
    {
        public readonly double[] Latency = new double[n];
        public readonly double[] FromSchedule = new double[n];
        public readonly double[] SendLag = new double[n];
        public readonly int[] Status = new int[n];
        public readonly bool[] Expected = new bool[n];
        public readonly long[] Done = new long[n];
    }

    private static async Task SendAsync(HttpClient http, string kind, SignedRequest request, int i, long due, Samples s, ReadOnlyMemory<byte> release)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, request.Path) { Content = new ByteArrayContent(request.Body) };
        message.Content.Headers.ContentType = FormType;
        message.Headers.TryAddWithoutValidation(SlackRequests.TimestampHeader, request.Timestamp);
        message.Headers.TryAddWithoutValidation(SlackRequests.SignatureHeader, request.Signature);
        message.Headers.TryAddWithoutValidation("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)");
        var t0 = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            var t1 = Stopwatch.GetTimestamp();
            s.Status[i] = (int)response.StatusCode;
            s.Expected[i] = SlackRequests.IsExpectedAck(kind, (int)response.StatusCode, body, release.Span);
            s.Latency[i] = Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
            s.FromSchedule[i] = Stopwatch.GetElapsedTime(due, t1).TotalMilliseconds;
            s.SendLag[i] = Stopwatch.GetElapsedTime(due, t0).TotalMilliseconds;
            s.Done[i] = t1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            s.Status[i] = -1;
            s.Done[i] = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Sends request i at start + i / rate from a dedicated pacing thread (1 ms sleeps, no spinning: the cores are shared with ShipBot), without waiting for answers.</summary>
    private static async Task<SlackLoadRun> OpenLoopAsync(HttpClient http, string kind, SignedRequest[] requests, double rate, byte[] release)
    {
        var n = requests.Length;
        var s = new Samples(n);
        var pending = new Task[n];
        var period = Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 50);
        var pacer = new Thread(() =>
        {
            for (var i = 0; i < n; i++)
            {
                var due = start + (long)(i * period);
                while (Stopwatch.GetTimestamp() < due)
                {
                    Thread.Sleep(1);
                }

                pending[i] = SendAsync(http, kind, requests[i], i, due, s, release);
            }
        })
        { IsBackground = true, Name = "open-loop pacer", Priority = ThreadPriority.AboveNormal };
        pacer.Start();
        await Task.Run(pacer.Join);
        var all = Task.WhenAll(pending);
        await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(35)));
        var seconds = Stopwatch.GetElapsedTime(start, s.Done.Max()).TotalSeconds;
        var run = Summarize(kind, "open", "dotnet", rate, 0, seconds, n, s, Enumerable.Range(0, n).ToArray(), 0);

        // Per second of the schedule, the slowest answer: tells a short stall from a sustained overload.
        var worst = new double[(int)Math.Ceiling(n / rate)];
        for (var i = 0; i < n; i++)
        {
            var second = Math.Min(worst.Length - 1, (int)(i / rate));
            worst[second] = Math.Max(worst[second], s.Status[i] > 0 ? s.FromSchedule[i] : double.PositiveInfinity);
        }

        System.Console.Error.WriteLine($"      slowest answer per second of the run (ms, from schedule): {string.Join(" ", worst.Select(w => w.ToString("0", CultureInfo.InvariantCulture)))}");
        return run with { SecondsOver50 = worst.Count(w => w > 50), WorstPerSecond = worst };
    }

    /// <summary><paramref name="connections"/> senders, each sending its next request as soon as the previous one is answered, for <paramref name="seconds"/>.</summary>
    private static async Task<SlackLoadRun> ClosedLoopAsync(HttpClient http, string kind, SignedRequest[] requests, int connections, double seconds, byte[] release)
    {
        var n = requests.Length;
        var s = new Samples(n);
        var next = -1;
        var wrapped = 0L;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(seconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= n)
                {
                    Interlocked.Increment(ref wrapped);
                    return;
                }

                await SendAsync(http, kind, requests[i], i, Stopwatch.GetTimestamp(), s, release).ConfigureAwait(false);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var sent = Math.Min(n, Volatile.Read(ref next) + 1);
        return Summarize(kind, "closed", "dotnet", 0, connections, elapsed, sent, s, Enumerable.Range(0, sent).ToArray(), wrapped);
    }

    private static SlackLoadRun Summarize(string kind, string mode, string tool, double rate, int connections, double seconds, int sent, Samples s, int[] indexes, long wrapped)
    {
        var answered = indexes.Where(i => s.Status[i] > 0).ToArray();
        var latency = answered.Select(i => s.Latency[i]).Order().ToArray();
        var fromSchedule = answered.Select(i => s.FromSchedule[i]).Order().ToArray();
        var lag = answered.Select(i => s.SendLag[i]).Order().ToArray();
        var statuses = answered.Where(i => s.Status[i] != 200).GroupBy(i => s.Status[i].ToString(CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        return new SlackLoadRun(
            kind, mode, tool, rate, connections, seconds, sent, answered.Length,
            answered.LongCount(i => s.Expected[i]),
            answered.LongCount(i => s.Status[i] == 200 && !s.Expected[i]),
            indexes.LongCount(i => s.Status[i] < 0) + indexes.LongCount(i => s.Status[i] == 0),
            statuses,
            Stats.Percentile(latency, 50), Stats.Percentile(latency, 90), Stats.Percentile(latency, 99), Stats.Percentile(latency, 99.9),
            latency.Length > 0 ? latency[^1] : double.NaN, latency.Length > 0 ? latency.Average() : double.NaN,
            mode == "open" ? Stats.Percentile(fromSchedule, 99) : double.NaN, mode == "open" && fromSchedule.Length > 0 ? fromSchedule[^1] : double.NaN,
            mode == "open" ? Stats.Percentile(lag, 99) : double.NaN, mode == "open" && lag.Length > 0 ? lag[^1] : double.NaN,
            0, wrapped);
    }
}
