using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ShipBot.GitHub.Tests.Emulation;

/// <summary>
/// GitHub's published OpenAPI description of api.github.com, from the npm package
/// <c>@octokit/openapi</c> (version pinned). The package is installed once into a cache directory
/// (<c>$SHIPBOT_OCTOKIT_OPENAPI_DIR</c>, else <c>~/.cache/shipbot-tests/octokit-openapi-&lt;version&gt;</c>);
/// when it cannot be installed the tests fail with the reason rather than skipping.
/// </summary>
internal sealed class OctokitOpenApi
{
    public const string PackageName = "@octokit/openapi";
    public const string PackageVersion = "23.0.2";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static OctokitOpenApi? _loaded;

    private OctokitOpenApi(JsonObject document, string path)
    {
        Document = document;
        Path = path;
    }

    /// <summary>The whole description (OpenAPI 3.0).</summary>
    public JsonObject Document { get; }

    public string Path { get; }

    public static async Task<OctokitOpenApi> LoadAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_loaded is not null)
            {
                return _loaded;
            }

            var root = Environment.GetEnvironmentVariable("SHIPBOT_OCTOKIT_OPENAPI_DIR") is { Length: > 0 } configured
                ? configured
                : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "shipbot-tests", $"octokit-openapi-{PackageVersion}");
            Directory.CreateDirectory(root);
            var file = System.IO.Path.Combine(root, "node_modules", "@octokit", "openapi", "generated", "api.github.com.json");
            using (await LockAsync(System.IO.Path.Combine(root, ".install.lock")))
            {
                if (!File.Exists(file) || InstalledVersion(root) != PackageVersion)
                {
                    await NpmInstallAsync(root);
                    if (!File.Exists(file) || InstalledVersion(root) != PackageVersion)
                    {
                        throw new InvalidOperationException($"npm install finished but {file} (version {PackageVersion}) is not there; delete {root} and try again.");
                    }
                }
            }

            await using var stream = File.OpenRead(file);
            var document = await JsonNode.ParseAsync(stream) as JsonObject
                ?? throw new InvalidOperationException($"{file} is not a JSON object.");
            _loaded = new OctokitOpenApi(document, file);
            return _loaded;
        }
        finally
        {
            Gate.Release();
        }
    }

    private static string? InstalledVersion(string root)
    {
        var package = System.IO.Path.Combine(root, "node_modules", "@octokit", "openapi", "package.json");
        return File.Exists(package) ? (string?)JsonNode.Parse(File.ReadAllText(package))?["version"] : null;
    }

    private static async Task NpmInstallAsync(string root)
    {
        var manifest = System.IO.Path.Combine(root, "package.json");
        if (!File.Exists(manifest))
        {
            await File.WriteAllTextAsync(manifest, "{ \"name\": \"shipbot-test-octokit-openapi\", \"private\": true }\n");
        }

        var info = new ProcessStartInfo("npm")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "install", $"{PackageName}@{PackageVersion}", "--no-audit", "--no-fund", "--save-exact" })
        {
            info.ArgumentList.Add(arg);
        }

        var what = $"npm install {PackageName}@{PackageVersion} (in {root})";
        Process npm;
        try
        {
            npm = Process.Start(info) ?? throw new InvalidOperationException("npm did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"The GitHub emulation validates requests against GitHub's OpenAPI description, but npm is not installed, so {what} is impossible. Install Node.js with npm, or set SHIPBOT_OCTOKIT_OPENAPI_DIR to a directory where the package is installed.", ex);
        }

        using (npm)
        {
            var stdout = npm.StandardOutput.ReadToEndAsync();
            var stderr = npm.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            try
            {
                await npm.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                npm.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"{what} did not finish within 5 minutes (no access to the npm registry?).");
            }

            if (npm.ExitCode != 0)
            {
                throw new InvalidOperationException($"{what} failed with exit code {npm.ExitCode}:\n{await stdout}\n{await stderr}");
            }
        }
    }

    private static async Task<FileStream> LockAsync(string path)
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
                // Another test process installs it; its lock is released when it is done.
                await Task.Delay(200);
            }
        }
    }
}
