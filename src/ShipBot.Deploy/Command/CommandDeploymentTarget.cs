using System.Diagnostics;
using System.Globalization;
using System.Text;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.Smoke;

namespace ShipBot.Deploy.Command;

/// <summary>A service's command target (<c>ShipBot:Services:&lt;name&gt;:Deployment:Command</c>).</summary>
public sealed class CommandTargetOptions
{
    /// <summary>The program to run (an absolute path is best). Never a shell string: no shell is involved.</summary>
    public string? Path { get; set; }

    /// <summary>Arguments, one per entry, passed as they are (placeholders <c>{{service}}</c>, <c>{{version}}</c>, <c>{{environment}}</c>, <c>{{percent}}</c>, <c>{{rollback}}</c>, <c>{{release}}</c> are replaced; nothing is split or interpreted).</summary>
    public List<string> Arguments { get; set; } = [];

    public string? WorkingDirectory { get; set; }

    /// <summary>Time limit; the process tree is killed after it. Default 10 minutes.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// Changes traffic by running a configured program with <see cref="ProcessStartInfo.ArgumentList"/>
/// and the stage change in environment variables (<c>SHIPBOT_RELEASE</c>, <c>SHIPBOT_SERVICE</c>,
/// <c>SHIPBOT_VERSION</c>, <c>SHIPBOT_ENVIRONMENT</c>, <c>SHIPBOT_PERCENT</c>, <c>SHIPBOT_ROLLBACK</c>,
/// <c>SHIPBOT_IDEMPOTENCY_KEY</c>); never through a shell string. Exit code 0 is success; the exit
/// code and the tail of the output go into the result (and so the audit trail). A run past the
/// timeout is killed with its children and counts as failed.
/// </summary>
public sealed class CommandDeploymentTarget(CommandTargetOptions options, HttpSmokeChecks smoke, TimeProvider time) : IDeploymentTarget
{
    private const int OutputTail = 1500;

    public string Name => $"command {System.IO.Path.GetFileName(options.Path)}";

    public async Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = time.GetTimestamp();
        var intent = request.Intent;
        var values = new Dictionary<string, string>
        {
            ["release"] = request.Release.ToString(),
            ["service"] = request.Release.Service,
            ["version"] = request.Release.Version,
            ["environment"] = intent.Environment.Name(),
            ["percent"] = intent.Percent.ToString(CultureInfo.InvariantCulture),
            ["rollback"] = intent.IsRollback ? "true" : "false",
            ["idempotency_key"] = request.IdempotencyKey,
        };
        var info = new ProcessStartInfo(options.Path!)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = options.WorkingDirectory ?? string.Empty,
        };
        foreach (var argument in options.Arguments)
        {
            info.ArgumentList.Add(values.Aggregate(argument, (a, v) => a.Replace("{{" + v.Key + "}}", v.Value, StringComparison.Ordinal)));
        }

        foreach (var (key, value) in values)
        {
            info.Environment["SHIPBOT_" + key.ToUpperInvariant()] = value;
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
                if (output.Length > 4 * OutputTail)
                {
                    output.Remove(0, output.Length - (2 * OutputTail));
                }
            }
        }

        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new DeploymentResult(false, $"could not start {options.Path}: {ex.Message}", time.GetElapsedTime(started));
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(options.Timeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It ended just now.
            }

            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return new DeploymentResult(false, $"killed after {options.Timeout.TotalSeconds:0.#} s timeout; output: {Tail(output)}", time.GetElapsedTime(started));
        }

        // WaitForExitAsync returns after the output streams closed, so the output is complete here.
        var exit = process.ExitCode;
        return new DeploymentResult(exit == 0, $"exit code {exit}; output: {Tail(output)}", time.GetElapsedTime(started));
    }

    public Task<DeploymentResult> RunSmokeChecksAsync(ReleaseId release, DeploymentEnvironment environment, CancellationToken cancellationToken = default) =>
        smoke.RunAsync(release, environment, cancellationToken);

    private static string Tail(StringBuilder output)
    {
        string text;
        lock (output)
        {
            text = output.ToString().Trim();
        }

        if (text.Length == 0)
        {
            return "(none)";
        }

        return text.Length > OutputTail ? "…" + text[^OutputTail..] : text;
    }
}
