using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using ShipBot.Host;
using ShipBot.Testing;

namespace ShipBot.Bench;

/// <summary>
/// Start-up with many configured services (<c>bash bench/run.sh startup</c>). In this process:
/// binding the <c>ShipBot</c> section of an appsettings.json with N services, once with the
/// framework's configuration binder alone (what the host did before; quadratic, so only up to
/// <see cref="BenchOptions.StartupFrameworkMax"/> services by default) and once as the host does it
/// now (<see cref="ShipBotConfiguration.Bind"/>), then start-up validation of the result. As a
/// separate process: the real host with N services in its appsettings.json, from its start to
/// <c>/readyz</c>. Every service has 20 keys: channel, the three roles, a staging bake, four stages
/// and a webhook deployment target (URL and secret), as in the breach benchmark.
/// </summary>
public static class StartupBench
{
    private const string Secret = "bench-webhook-secret-0123456789abcdef";

    public static async Task<int> RunAsync(BenchOptions options)
    {
        var report = new StringBuilder();
        void Section(string text)
        {
            report.Append(text).Append('\n');
            System.Console.Error.WriteLine(text);
        }

        var total = Stopwatch.StartNew();
        Section($"""
            ## Start-up with many services: machine and settings

            - date (UTC): {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm}
            - {Environment.ProcessorCount} logical cores (nproc); {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}
            - {options.Runs} runs per figure (the median is shown, every run in the last column)
            - load average (1/5/15 min) at the start: {ProcCpu.LoadAverage()}

            """);
        Section(Binding(options));
        Section(await HostAsync(options));
        Section($"Total start-up benchmark time: {total.Elapsed.TotalMinutes:N1} min.");
        await System.Console.Out.WriteAsync(report.ToString());
        return 0;
    }

    /// <summary>Binding and validating N services in this process, warm.</summary>
    private static string Binding(BenchOptions options)
    {
        System.Console.Error.WriteLine($"Start-up: binding {string.Join(" / ", options.StartupServices.Select(n => n.ToString("N0", CultureInfo.InvariantCulture)))} services…");
        Measure(Configuration(1000), framework: true); // warm-up (JIT), not shown
        var table = new Table("services", "configuration keys", "framework binder alone s", "ShipBot binding s", "validation s", "binding + validation s", "binding + validation s of each run");
        foreach (var n in options.StartupServices)
        {
            var configuration = Configuration(n);
            var keys = configuration.AsEnumerable().Count();
            var framework = n <= options.StartupFrameworkMax
                ? Stats.F(Measure(configuration, framework: true).Bind, 2)
                : "not run (quadratic)";
            var runs = Enumerable.Range(0, options.Runs).Select(_ => Measure(configuration, framework: false)).ToList();
            var median = Stats.MedianBy(runs, r => r.Bind + r.Validate);
            table.Add(n.ToString("N0", CultureInfo.InvariantCulture), keys.ToString("N0", CultureInfo.InvariantCulture), framework,
                Stats.F(median.Bind, 3), Stats.F(median.Validate, 3), Stats.F(median.Bind + median.Validate, 3),
                string.Join(" / ", runs.Select(r => Stats.F(r.Bind + r.Validate, 3))));
        }

        return "### Binding N services, in the benchmark process\n\n" +
            "The `ShipBot` section of an appsettings.json with N services of 20 keys each, bound into `ShipBotOptions`: by the framework's configuration binder alone " +
            "(`ConfigurationBinder.Bind`, what start-up did before; run once per size, and only up to `--startup-framework-max` services) and as the host binds it now " +
            "(`ShipBotConfiguration.Bind`), then validated (`ShipBotOptionsValidator`).\n\n" + table;
    }

    private static (double Bind, double Validate) Measure(IConfigurationRoot configuration, bool framework)
    {
        var options = new ShipBotOptions();
        var watch = Stopwatch.StartNew();
        if (framework)
        {
            configuration.GetSection(ShipBotOptions.Section).Bind(options);
        }
        else
        {
            ShipBotConfiguration.Bind(configuration, options);
        }

        var bind = watch.Elapsed.TotalSeconds;
        watch.Restart();
        var result = new ShipBotOptionsValidator().Validate(null, options);
        var validate = watch.Elapsed.TotalSeconds;
        if (options.Services.Count < 1 || result.Failed)
        {
            throw new InvalidOperationException($"bound {options.Services.Count} services; validation: {result.FailureMessage}");
        }

        return (bind, validate);
    }

    /// <summary>The real host, started with N services in its appsettings.json, to /readyz (in-memory store, nothing else running).</summary>
    private static async Task<string> HostAsync(BenchOptions options)
    {
        var table = new Table("services in appsettings.json", "start → /readyz s (median)", "RSS after start", "start → /readyz s of each run");
        var host = options.StartupHost is null ? ShipBotProcess.HostDll : Path.Combine(options.StartupHost, "ShipBot.Host.dll");
        foreach (var n in new[] { 1, options.StartupServices.Max() })
        {
            System.Console.Error.WriteLine($"Start-up: the host with {n:N0} services, {options.Runs} runs ({host})…");
            var directory = Directory.CreateTempSubdirectory("shipbot-startup-bench-");
            try
            {
                await File.WriteAllTextAsync(Path.Combine(directory.FullName, "appsettings.json"), AppSettings(n).ToJsonString());
                var runs = new List<(double Seconds, long Rss)>();
                for (var run = 0; run < options.Runs; run++)
                {
                    var watch = Stopwatch.StartNew();
                    await using var bot = await ShipBotProcess.StartAsync(new ShipBotProcessOptions
                    {
                        Name = $"{n} services",
                        Arguments = [host],
                        WorkingDirectory = directory.FullName,
                        ReadyPath = "/readyz",
                        StartTimeout = TimeSpan.FromMinutes(10),
                        ServerGc = false,
                        StopGracefully = true,
                    });
                    runs.Add((watch.Elapsed.TotalSeconds, bot.Memory().Rss));
                }

                var median = Stats.MedianBy(runs, r => r.Seconds);
                table.Add(n.ToString("N0", CultureInfo.InvariantCulture), Stats.F(median.Seconds, 2), Stats.Mib(median.Rss), string.Join(" / ", runs.Select(r => Stats.F(r.Seconds, 2))));
            }
            finally
            {
                directory.Delete(recursive: true);
            }
        }

        return "### The host to /readyz\n\n" +
            "`dotnet ShipBot.Host.dll` (this build's, workstation GC, logging at Warning) in a directory whose appsettings.json configures N services; from the process start " +
            "to the first 200 from `/readyz` (binding, validation, the webhook targets, Quartz, recovery of nothing, Kestrel), JIT included.\n\n" + table;
    }

    private static IConfigurationRoot Configuration(int services)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(AppSettings(services).ToJsonString()));
        return new ConfigurationBuilder().AddJsonStream(stream).Build();
    }

    /// <summary>An appsettings.json with <paramref name="count"/> services (20 keys each).</summary>
    private static JsonObject AppSettings(int count)
    {
        var services = new JsonObject();
        for (var i = 0; i < count; i++)
        {
            var name = Fixtures.ServiceName("svc", i);
            services[name] = new JsonObject
            {
                ["Channel"] = "releases",
                ["Requesters"] = new JsonArray("alice"),
                ["Approvers"] = new JsonArray("bob"),
                ["OnCall"] = new JsonArray("carol"),
                ["StagingBake"] = "00:00:01",
                ["Stages"] = new JsonArray(
                    Stage("Canary", 5, "01:00:00"), Stage("EarlyAdopters", 25, "01:00:00"), Stage("GeneralAvailability", 50, "01:00:00"), Stage("Full", 100, "00:10:00")),
                ["Deployment"] = new JsonObject { ["Webhook"] = new JsonObject { ["Url"] = $"http://127.0.0.1:9/hooks/{name}", ["Secret"] = Secret } },
            };
        }

        return new JsonObject
        {
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Warning" } },
            ["ShipBot"] = new JsonObject { ["Services"] = services },
        };

        static JsonObject Stage(string kind, int percent, string bake) => new() { ["Kind"] = kind, ["Percent"] = percent, ["Bake"] = bake };
    }
}
