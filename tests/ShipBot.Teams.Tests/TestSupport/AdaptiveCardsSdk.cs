using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ShipBot.Teams.Tests.TestSupport;

/// <summary>One validation event the adaptivecards SDK reported for a card.</summary>
public sealed record SdkEvent(string Origin, string? Phase, string Event, string Message, string? Source)
{
    public override string ToString() => $"[{Origin}/{Event}] {Message}{(Source is null ? string.Empty : $" ({Source})")}";
}

/// <summary>
/// The adaptivecards npm package (the SDK Teams' web and desktop clients render with), installed
/// once per package.json/lock into a temp cache (<c>npm ci</c>, under a file lock so parallel runs
/// share it), and <c>cardcheck/validate.js</c> run with Node over a directory of card files.
/// </summary>
public static class AdaptiveCardsSdk
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _installed;

    private static string Source => Path.Combine(AppContext.BaseDirectory, "cardcheck");

    /// <summary>Validates each card (file name → card JSON); returns the package version and each card's events.</summary>
    public static async Task<(string Version, IReadOnlyDictionary<string, IReadOnlyList<SdkEvent>> Events)> ValidateAsync(IReadOnlyDictionary<string, JsonObject> cards)
    {
        var root = await InstallAsync();
        var dir = Directory.CreateTempSubdirectory("shipbot-cards-");
        try
        {
            foreach (var (name, card) in cards)
            {
                await File.WriteAllTextAsync(Path.Combine(dir.FullName, $"{name}.json"), card.ToJsonString(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            }

            var (code, stdout, stderr) = await RunAsync("node", [Path.Combine(root, "validate.js"), dir.FullName], root, TimeSpan.FromMinutes(2));
            if (code != 0)
            {
                throw new InvalidOperationException($"node validate.js exited with {code}: {stderr}");
            }

            var report = JsonNode.Parse(stdout)!.AsObject();
            var events = report["cards"]!.AsArray().Select(c => c!.AsObject()).ToDictionary(
                c => Path.GetFileNameWithoutExtension((string)c["file"]!),
                c => (IReadOnlyList<SdkEvent>)[.. c["events"]!.AsArray().Select(e => new SdkEvent(
                    (string?)e!["origin"] ?? "?",
                    (string?)e["phase"],
                    (string?)e["event"] ?? "?",
                    (string?)e["message"] ?? string.Empty,
                    (string?)e["source"]))],
                StringComparer.Ordinal);
            return ((string)report["version"]!, events);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Installs the pinned package into the cache (once) and returns the directory holding validate.js and node_modules.</summary>
    private static async Task<string> InstallAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_installed is not null)
            {
                return _installed;
            }

            var manifest = await File.ReadAllBytesAsync(Path.Combine(Source, "package.json"));
            var lockFile = await File.ReadAllBytesAsync(Path.Combine(Source, "package-lock.json"));
            var hash = Convert.ToHexStringLower(SHA256.HashData([.. manifest, .. lockFile]))[..16];
            var root = Path.Combine(Path.GetTempPath(), "shipbot-teams-cardcheck", hash);
            Directory.CreateDirectory(root);

            // Another test process may be installing into the same cache: wait for its lock.
            await using var guard = await LockAsync(Path.Combine(root, ".install.lock"));
            File.Copy(Path.Combine(Source, "validate.js"), Path.Combine(root, "validate.js"), overwrite: true);
            var marker = Path.Combine(root, ".installed");
            if (!File.Exists(marker) || !File.Exists(Path.Combine(root, "node_modules", "adaptivecards", "package.json")))
            {
                await File.WriteAllBytesAsync(Path.Combine(root, "package.json"), manifest);
                await File.WriteAllBytesAsync(Path.Combine(root, "package-lock.json"), lockFile);
                var (code, stdout, stderr) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts"], root, TimeSpan.FromMinutes(5));
                if (code != 0)
                {
                    throw new InvalidOperationException($"npm ci failed ({code}) in {root}: {stderr}\n{stdout}");
                }

                await File.WriteAllTextAsync(marker, DateTime.UtcNow.ToString("O"));
            }

            _installed = root;
            return root;
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<FileStream> LockAsync(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (attempt < 600)
            {
                await Task.Delay(500);
            }
        }
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, IReadOnlyList<string> args, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"'{file}' is needed to validate cards with the adaptivecards npm package (Node.js 20+): {ex.Message}", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {string.Join(' ', args)} took longer than {timeout}");
            }

            return (process.ExitCode, await stdout, await stderr);
        }
    }
}
