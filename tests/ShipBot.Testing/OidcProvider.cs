using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ShipBot.Testing;

/// <summary>A person the test provider knows: the <c>sub</c> typed on its login page, and the claims it releases.</summary>
public sealed record OidcAccount(string Subject, string Name, string Email, bool EmailVerified = true, params string[] Groups);

/// <summary>
/// A real OpenID Connect provider on a loopback port: the npm package <c>oidc-provider</c>
/// (<see cref="PackageVersion"/>) with its development interactions, which serve a real login
/// page (any password; the login is the account's <c>sub</c>) and a consent page. One public client,
/// <c>shipbot</c>, with PKCE required and one redirect URI. The package is installed once into a
/// cache directory (<c>$SHIPBOT_OIDC_DIR</c>, else <c>~/.cache/shipbot-tests/oidc-provider-&lt;version&gt;</c>);
/// when npm cannot install it the fixture fails with the reason. Disposing kills the process.
/// </summary>
public sealed class OidcProvider : IAsyncDisposable
{
    public const string PackageName = "oidc-provider";
    public const string PackageVersion = "9.13.3";
    public const string ClientId = "shipbot";

    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private readonly Process _process;
    private readonly List<string> _output;

    private OidcProvider(Process process, int port, List<string> output)
    {
        _process = process;
        _output = output;
        Issuer = new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>The issuer (the authority ShipBot is configured with).</summary>
    public Uri Issuer { get; }

    public static string CacheDirectory =>
        Environment.GetEnvironmentVariable("SHIPBOT_OIDC_DIR") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? Path.Combine(home, ".cache") : Path.GetTempPath(), "shipbot-tests", $"{PackageName}-{PackageVersion}");

    /// <summary>Starts the provider on <paramref name="port"/>, for a client that comes back to <paramref name="redirectUri"/>.</summary>
    public static async Task<OidcProvider> StartAsync(int port, Uri redirectUri, IEnumerable<OidcAccount> accounts, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(redirectUri);
        var root = await EnsureInstalledAsync(ct).ConfigureAwait(false);
        var script = Path.Combine(root, "provider.mjs");
        await File.WriteAllTextAsync(script, await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "oidc", "provider.mjs"), ct).ConfigureAwait(false), ct).ConfigureAwait(false);
        var claims = new JsonObject();
        foreach (var account in accounts)
        {
            claims[account.Subject] = new JsonObject
            {
                ["name"] = account.Name,
                ["email"] = account.Email,
                ["email_verified"] = account.EmailVerified,
                ["groups"] = new JsonArray([.. account.Groups.Select(g => (JsonNode?)g)]),
            };
        }

        var info = new ProcessStartInfo("node") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { script, port.ToString(CultureInfo.InvariantCulture), redirectUri.ToString(), claims.ToJsonString() })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["NODE_ENV"] = "development";
        var output = new List<string>();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("The sign-in tests need Node.js (node on the PATH) to run oidc-provider; the test command installs it.", ex);
        }

        void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.Add(line);
            }

            if (line.Contains("listening on", StringComparison.Ordinal))
            {
                listening.TrySetResult();
            }
        }

        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data is null ? null : "stderr: " + e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var provider = new OidcProvider(process, port, output);
        var first = await Task.WhenAny(listening.Task, process.WaitForExitAsync(ct), Task.Delay(TimeSpan.FromSeconds(60), ct)).ConfigureAwait(false);
        if (first != listening.Task)
        {
            var log = provider.Output;
            await provider.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"oidc-provider did not start listening on port {port}.\n{log}");
        }

        return provider;
    }

    /// <summary>What the provider printed (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output.TakeLast(60));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
    }

    private static async Task<string> EnsureInstalledAsync(CancellationToken ct)
    {
        var root = CacheDirectory;
        var marker = Path.Combine(root, $".installed-{PackageVersion}");
        await InstallGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            Directory.CreateDirectory(root);
            using var lockFile = await LockAsync(Path.Combine(root, ".install.lock"), ct).ConfigureAwait(false);
            if (File.Exists(marker) && File.Exists(Path.Combine(root, "node_modules", PackageName, "package.json")))
            {
                return root;
            }

            await File.WriteAllTextAsync(Path.Combine(root, "package.json"), "{ \"name\": \"shipbot-test-oidc\", \"private\": true, \"type\": \"module\" }\n", ct).ConfigureAwait(false);
            var info = new ProcessStartInfo("npm") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "install", $"{PackageName}@{PackageVersion}", "--no-audit", "--no-fund", "--save-exact" })
            {
                info.ArgumentList.Add(arg);
            }

            using var npm = Process.Start(info) ?? throw new InvalidOperationException("npm did not start");
            var stdout = npm.StandardOutput.ReadToEndAsync(ct);
            var stderr = npm.StandardError.ReadToEndAsync(ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromMinutes(5));
            await npm.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            if (npm.ExitCode != 0)
            {
                throw new InvalidOperationException($"npm install {PackageName}@{PackageVersion} (in {root}) failed with {npm.ExitCode}; the sign-in tests need it.\n{await stdout.ConfigureAwait(false)}\n{await stderr.ConfigureAwait(false)}");
            }

            await File.WriteAllTextAsync(marker, PackageVersion, ct).ConfigureAwait(false);
            return root;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    private static async Task<FileStream> LockAsync(string path, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(6);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, ct).ConfigureAwait(false);
            }
        }
    }
}
