using System.Diagnostics;
using System.Globalization;

namespace ShipBot.Testing;

/// <summary>Runs Debian's <c>redis-cli</c> (installed with redis-server) against a loopback port, bounded to 30 s.</summary>
public static class RedisCli
{
    /// <summary>The reply's text (redis-cli's raw output), or throws with what redis-cli printed when it fails.</summary>
    public static async Task<string> RunAsync(int port, params string[] args)
    {
        var info = new ProcessStartInfo(File.Exists("/usr/bin/redis-cli") ? "/usr/bin/redis-cli" : "redis-cli")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture) }.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("redis-cli did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        var output = (await stdout.ConfigureAwait(false)).Trim();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-cli -p {port} {string.Join(' ', args)} exited with {process.ExitCode}: {output} {await stderr.ConfigureAwait(false)}");
        }

        return output;
    }

    /// <summary>Waits (up to <paramref name="timeout"/>) until <paramref name="condition"/> holds for the reply; returns the last reply.</summary>
    public static async Task<string> WaitForAsync(int port, Func<string, bool> condition, string what, TimeSpan timeout, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + timeout;
        var last = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await RunAsync(port, args).ConfigureAwait(false);
                if (condition(last))
                {
                    return last;
                }
            }
            catch (InvalidOperationException ex)
            {
                last = ex.Message;
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        throw new TimeoutException($"{what}: not within {timeout.TotalSeconds:0} s. Last reply of redis-cli -p {port} {string.Join(' ', args)}: {last}");
    }
}
