using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ShipBot.Testing;

/// <summary>A playground user (or the bot): the Teams id Teams puts in <c>from.id</c> and the Entra object id in <c>from.aadObjectId</c>.</summary>
public sealed record PlaygroundUser(string Id, string Name, string AadObjectId);

/// <summary>
/// What <c>.m365agentsplayground.yml</c> declares: the tenant, the bot, the current user (whose
/// identity every typed message carries), exactly five other users, the personal chat, a group chat
/// and a team whose General channel's id is the team id, plus one more channel.
/// </summary>
public sealed record PlaygroundSetup(
    string TenantId,
    PlaygroundUser Bot,
    PlaygroundUser CurrentUser,
    IReadOnlyList<PlaygroundUser> Users,
    string PersonalChatId,
    string GroupChatId,
    string TeamId,
    string ReleasesChannelId)
{
    /// <summary>alice types (the current user); bob, carol, dave, erin and frank can click cards in the team and the group chat.</summary>
    public static PlaygroundSetup Default { get; } = new(
        "5b1e0c4a-0000-4000-8000-0000000000aa",
        new PlaygroundUser("00000000-0000-0000-0000-00000000b075", "ShipBot", "00000000-0000-0000-0000-00000000b075"),
        new PlaygroundUser("29:alice", "Alice", "a11ce000-0000-4000-8000-000000000001"),
        [
            new PlaygroundUser("29:bob", "Bob", "b0b00000-0000-4000-8000-000000000002"),
            new PlaygroundUser("29:carol", "Carol", "ca201000-0000-4000-8000-000000000003"),
            new PlaygroundUser("29:dave", "Dave", "da7e0000-0000-4000-8000-000000000004"),
            new PlaygroundUser("29:erin", "Erin", "e2140000-0000-4000-8000-000000000005"),
            new PlaygroundUser("29:frank", "Frank", "f2a4c000-0000-4000-8000-000000000006"),
        ],
        "a:shipbot-personal-alice",
        "19:shipbot-release-group@thread.v2",
        "19:shipbot-ops-team@thread.tacv2",
        "19:shipbot-releases@thread.tacv2");

    /// <summary>The General channel: its id is the team's id.</summary>
    public string GeneralChannelId => TeamId;

    public PlaygroundUser User(string name) =>
        CurrentUser.Name.Equals(name, StringComparison.OrdinalIgnoreCase) ? CurrentUser
        : Users.FirstOrDefault(u => u.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
          ?? throw new ArgumentException($"No playground user named {name}.", nameof(name));

    /// <summary>The playground's configuration file.</summary>
    public string ToYaml()
    {
        if (Users.Count != 5)
        {
            throw new InvalidOperationException($"The Agents Playground needs exactly 5 users besides the current user; got {Users.Count}.");
        }

        var yaml = new StringBuilder();
        yaml.Append("version: \"0.1.1\"\n");
        yaml.Append(CultureInfo.InvariantCulture, $"tenantId: {Q(TenantId)}\n");
        yaml.Append(CultureInfo.InvariantCulture, $"bot:\n  id: {Q(Bot.Id)}\n  name: {Q(Bot.Name)}\n");
        yaml.Append("currentUser:\n");
        foreach (var (key, value) in Fields(CurrentUser))
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  {key}: {Q(value)}\n");
        }

        yaml.Append("users:\n");
        foreach (var user in Users)
        {
            yaml.Append("  - {").Append(string.Join(", ", Fields(user).Select(f => $"{f.Key}: {Q(f.Value)}"))).Append("}\n");
        }

        yaml.Append(CultureInfo.InvariantCulture, $"personalChat:\n  id: {Q(PersonalChatId)}\n");
        yaml.Append(CultureInfo.InvariantCulture, $"groupChat:\n  id: {Q(GroupChatId)}\n  name: \"Release group\"\n");
        yaml.Append(CultureInfo.InvariantCulture, $"team:\n  id: {Q(TeamId)}\n  name: \"Ops\"\n  aadGroupId: \"0a5c0000-0000-4000-8000-0000000000ab\"\n");
        yaml.Append(CultureInfo.InvariantCulture, $"  channels:\n    - id: {Q(ReleasesChannelId)}\n      name: \"Releases\"\n");
        return yaml.ToString();
    }

    private static IEnumerable<KeyValuePair<string, string>> Fields(PlaygroundUser user)
    {
        var handle = user.Name.ToLowerInvariant();
        yield return new("id", user.Id);
        yield return new("name", user.Name);
        yield return new("userPrincipleName", $"{handle}@shipbot.example"); // sic: the playground's spelling
        yield return new("aadObjectId", user.AadObjectId);
        yield return new("givenName", user.Name);
        yield return new("surname", "Tester");
        yield return new("email", $"{handle}@shipbot.example");
    }

    private static string Q(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

/// <summary>A user message posted to the playground: its id, and for a channel post the conversation id of its thread.</summary>
public sealed record PlaygroundPost(string MessageId, string? PostConversationId);

/// <summary>The playground's answer to a card action: HTTP status, and the bot's invoke response (<c>{type, value}</c>) or the playground's error.</summary>
public sealed record PlaygroundInvokeResult(int Status, JsonObject? Body, string Raw)
{
    public string? Type => (string?)Body?["type"];

    public JsonNode? Value => Body?["value"];
}

/// <summary>
/// Microsoft's Teams client emulator, the Microsoft 365 Agents Playground
/// (<c>@microsoft/m365agentsplayground</c>), as a real process on a free loopback port, headless
/// (<c>TEAMSAPPTESTER_BROWSER=none</c>), offline and without credentials, pointed at a bot's
/// <c>/api/messages</c>. The npm package is installed once into a cache directory
/// (<c>$SHIPBOT_PLAYGROUND_DIR</c>, else <c>~/.cache/shipbot-tests/m365agentsplayground-&lt;version&gt;</c>);
/// when it cannot be installed the fixture fails with the reason rather than skipping.
/// It is driven over its own HTTP API (post a message as the current user, invoke a card action as
/// any configured user) and observed through its conversation WebSocket (<see cref="Stream"/>), which
/// is connected before anything is sent. Disposing kills the process tree and deletes its directory.
/// </summary>
public sealed partial class AgentsPlayground : IAsyncDisposable
{
    public const string PackageName = "@microsoft/m365agentsplayground";
    public const string PackageVersion = "0.2.28";

    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(60);

    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static string? _installedCli;

    private readonly Process _process;
    private readonly string _directory;
    private readonly OutputTail _output;

    private AgentsPlayground(Process process, string directory, OutputTail output, int port, PlaygroundSetup setup, Uri botEndpoint)
    {
        _process = process;
        _directory = directory;
        _output = output;
        Port = port;
        Setup = setup;
        BotEndpoint = botEndpoint;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(90) };
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public Uri BotEndpoint { get; }

    public PlaygroundSetup Setup { get; }

    public HttpClient Http { get; }

    /// <summary>The conversation stream: every message the bot posts (<c>createMessage</c>) or replaces (<c>updateMessage</c>).</summary>
    public PlaygroundStream Stream { get; private set; } = null!;

    /// <summary>The playground's own log stream (every hop between it and the bot), for failure messages.</summary>
    public PlaygroundStream Log { get; private set; } = null!;

    /// <summary>Where the package is cached.</summary>
    public static string CacheDirectory =>
        Environment.GetEnvironmentVariable("SHIPBOT_PLAYGROUND_DIR") is { Length: > 0 } configured
            ? configured
            : Path.Combine(
                Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
                : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? Path.Combine(home, ".cache")
                : Path.GetTempPath(),
                "shipbot-tests",
                $"m365agentsplayground-{PackageVersion}");

    /// <summary>Installs the package if needed, writes the configuration, starts the playground against <paramref name="botEndpoint"/> and waits until it answers.</summary>
    public static async Task<AgentsPlayground> StartAsync(Uri botEndpoint, PlaygroundSetup? setup = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(botEndpoint);
        setup ??= PlaygroundSetup.Default;
        var cli = await EnsureInstalledAsync(ct).ConfigureAwait(false);
        var directory = Directory.CreateTempSubdirectory("shipbot-playground-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, ".m365agentsplayground.yml"), setup.ToYaml(), ct).ConfigureAwait(false);

        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        var requested = RedisServer.FreePort();

        // cli.js is the package's `agentsplayground` bin; running it through node also works where shebangs do not.
        foreach (var arg in new[] { cli, "start", "-e", botEndpoint.ToString(), "-c", "msteams", "-p", requested.ToString(CultureInfo.InvariantCulture), "--dt" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["TEAMSAPPTESTER_BROWSER"] = "none";
        info.Environment["NO_COLOR"] = "1";
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("The Teams end-to-end tests need Node.js (node 18 or later on the PATH) to run the Microsoft 365 Agents Playground.", ex);
        }

        var output = new OutputTail();
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            output.Add(e.Data);
            if (ListeningLine().Match(e.Data) is { Success: true } m)
            {
                listening.TrySetResult(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Add("stderr: " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        AgentsPlayground? playground = null;
        try
        {
            // It falls back to a random port when the requested one is taken: believe what it says.
            var exited = process.WaitForExitAsync(ct);
            var first = await Task.WhenAny(listening.Task, exited, Task.Delay(DefaultWait, ct)).ConfigureAwait(false);
            if (first != listening.Task)
            {
                throw new InvalidOperationException(process.HasExited
                    ? $"The Agents Playground exited with {process.ExitCode} before listening.\n{output}"
                    : $"The Agents Playground did not say 'Listening on <port>' within {DefaultWait.TotalSeconds} s.\n{output}");
            }

            playground = new AgentsPlayground(process, directory, output, await listening.Task.ConfigureAwait(false), setup, botEndpoint);
            await playground.WaitUntilReadyAsync(ct).ConfigureAwait(false);

            // Events are buffered until the first client connects; connect before anything is driven.
            playground.Stream = await PlaygroundStream.ConnectAsync(new Uri($"ws://127.0.0.1:{playground.Port}/_ws_conversation/v1/conversations/stream"), ct).ConfigureAwait(false);
            playground.Log = await PlaygroundStream.ConnectAsync(new Uri($"ws://127.0.0.1:{playground.Port}/_ws/log/stream"), ct).ConfigureAwait(false);
            return playground;
        }
        catch
        {
            if (playground is not null)
            {
                await playground.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                Kill(process);
                process.Dispose();
                TryDelete(directory);
            }

            throw;
        }
    }

    /// <summary>
    /// Installs <c>@microsoft/m365agentsplayground@<see cref="PackageVersion"/></c> with npm into
    /// <see cref="CacheDirectory"/> unless it is already there; returns the path of its <c>cli.js</c>.
    /// Several test processes may race: a lock file serialises them.
    /// </summary>
    public static async Task<string> EnsureInstalledAsync(CancellationToken ct = default)
    {
        if (_installedCli is { } known)
        {
            return known;
        }

        await InstallGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_installedCli is { } again)
            {
                return again;
            }

            var root = CacheDirectory;
            Directory.CreateDirectory(root);
            var cli = Path.Combine(root, "node_modules", "@microsoft", "m365agentsplayground", "cli.js");
            var marker = Path.Combine(root, $".installed-{PackageVersion}");
            using (await LockFileAsync(Path.Combine(root, ".install.lock"), ct).ConfigureAwait(false))
            {
                if (!(File.Exists(marker) && File.Exists(cli) && InstalledVersion(root) == PackageVersion))
                {
                    await NpmInstallAsync(root, ct).ConfigureAwait(false);
                    if (!File.Exists(cli) || InstalledVersion(root) != PackageVersion)
                    {
                        throw new InvalidOperationException($"npm install finished but {cli} (version {PackageVersion}) is not there; delete {root} and try again.");
                    }

                    await File.WriteAllTextAsync(marker, DateTimeOffset.UtcNow.ToString("O"), ct).ConfigureAwait(false);
                }
            }

            _installedCli = cli;
            return cli;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    /// <summary>
    /// Posts a message typed in the playground. The playground always delivers it to the bot as the
    /// configured current user (whatever <paramref name="fromUserId"/> says); in a channel or group
    /// chat it reaches the bot only when it mentions the bot. Answered before the bot is called.
    /// </summary>
    public async Task<PlaygroundPost> SendMessageAsync(string conversationId, string text, bool mentionBot = false, string? fromUserId = null, CancellationToken ct = default)
    {
        var tag = $"<at>{Setup.Bot.Name}</at>";
        var body = new JsonObject
        {
            ["from"] = new JsonObject { ["id"] = fromUserId ?? Setup.CurrentUser.Id },
            ["text"] = mentionBot ? $"{tag} {text}" : text,
            ["textFormat"] = "plain",
        };
        if (mentionBot)
        {
            body["mentions"] = new JsonArray(new JsonObject
            {
                ["mentioned"] = new JsonObject { ["id"] = Setup.Bot.Id, ["name"] = Setup.Bot.Name },
                ["text"] = tag,
            });
        }

        using var response = await Http.PostAsJsonAsync($"_conversation/v1/conversations/{Uri.EscapeDataString(conversationId)}/messages", body, ct).ConfigureAwait(false);
        var raw = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode || Parse(raw) is not { } answer || (string?)answer["messageId"] is not { Length: > 0 } messageId)
        {
            throw new InvalidOperationException($"The playground refused the message to {conversationId}: HTTP {(int)response.StatusCode} {raw}");
        }

        return new PlaygroundPost(messageId, (string?)answer["postConversationId"]);
    }

    /// <summary>
    /// Clicks an <c>Action.Execute</c> button of the bot's message <paramref name="replyToId"/> as
    /// <paramref name="fromUserId"/> (any configured member of the conversation): the playground
    /// sends the <c>adaptiveCard/action</c> invoke and answers with the bot's invoke response.
    /// </summary>
    public async Task<PlaygroundInvokeResult> InvokeAsync(string fromUserId, string conversationId, string replyToId, string verb, JsonObject? data, CancellationToken ct = default)
    {
        var body = new JsonObject
        {
            ["name"] = "adaptiveCard/action",
            ["from"] = new JsonObject { ["id"] = fromUserId },
            ["conversation"] = new JsonObject { ["id"] = conversationId },
            ["replyToId"] = replyToId,
            ["value"] = new JsonObject
            {
                ["action"] = new JsonObject { ["type"] = "Action.Execute", ["verb"] = verb, ["data"] = data?.DeepClone() ?? new JsonObject() },
                ["trigger"] = "manual",
            },
        };
        using var response = await Http.PostAsJsonAsync("_conversation/v1/invoke", body, ct).ConfigureAwait(false);
        var raw = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        return new PlaygroundInvokeResult((int)response.StatusCode, Parse(raw), raw);
    }

    /// <summary>Clicks the given <c>Action.Execute</c> element of a card (its verb and data).</summary>
    public Task<PlaygroundInvokeResult> InvokeAsync(string fromUserId, string conversationId, string replyToId, JsonObject executeAction, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(executeAction);
        return InvokeAsync(fromUserId, conversationId, replyToId, (string?)executeAction["verb"] ?? string.Empty, executeAction["data"] as JsonObject, ct);
    }

    /// <summary>Sends a raw activity to the bot as is (e.g. a message from another user than the current one).</summary>
    public async Task<(int Status, string Raw)> SendCustomActivityAsync(JsonObject activity, CancellationToken ct = default)
    {
        using var response = await Http.PostAsJsonAsync("_internal/v1/customActivities", activity, ct).ConfigureAwait(false);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
    }

    /// <summary>The configuration the playground resolved (users, chats, channels).</summary>
    public async Task<JsonObject> TestConfigAsync(CancellationToken ct = default) =>
        Parse(await Http.GetStringAsync(new Uri("_internal/v1/testConfig", UriKind.Relative), ct).ConfigureAwait(false)) ?? [];

    /// <summary>Everything useful after a failure: the playground's output, its hop log and the conversation stream.</summary>
    public string Diagnostics()
    {
        var text = new StringBuilder();
        text.Append("--- playground output ---\n").Append(_output).Append('\n');
        text.Append("--- playground log stream (last 40) ---\n");
        foreach (var e in Log?.Snapshot().TakeLast(40) ?? [])
        {
            text.Append(PlaygroundStream.Short(e.Raw, 600)).Append('\n');
        }

        text.Append("--- conversation stream ---\n").Append(Stream?.Describe() ?? "(not connected)");
        return text.ToString();
    }

    /// <summary>The Adaptive Card a stream message or an invoke response carries, or null.</summary>
    public static JsonObject? CardOf(JsonObject? message) =>
        (message?["attachments"] as JsonArray)?.OfType<JsonObject>()
            .FirstOrDefault(a => (string?)a["contentType"] == "application/vnd.microsoft.card.adaptive")?["content"] as JsonObject;

    /// <summary>Every <c>Action.Execute</c> in a card, also those inside column sets and show-cards (not the <c>fallback</c>s).</summary>
    public static IEnumerable<JsonObject> ExecuteActions(JsonNode? card)
    {
        switch (card)
        {
            case JsonObject o:
                if ((string?)o["type"] == "Action.Execute")
                {
                    yield return o;
                }

                foreach (var (key, value) in o)
                {
                    if (key == "fallback")
                    {
                        continue;
                    }

                    foreach (var inner in ExecuteActions(value))
                    {
                        yield return inner;
                    }
                }

                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    foreach (var inner in ExecuteActions(item))
                    {
                        yield return inner;
                    }
                }

                break;
        }
    }

    /// <summary>The text of a card's TextBlocks and facts, one per line.</summary>
    public static string CardText(JsonNode? card)
    {
        var lines = new List<string>();
        Collect(card, lines);
        return string.Join('\n', lines);

        static void Collect(JsonNode? node, List<string> lines)
        {
            switch (node)
            {
                case JsonObject o:
                    if ((string?)o["type"] == "TextBlock" && (string?)o["text"] is { } text)
                    {
                        lines.Add(text);
                    }
                    else if (o["title"] is JsonValue && o["value"] is JsonValue && (string?)o["type"] is null)
                    {
                        lines.Add($"{(string?)o["title"]}: {(string?)o["value"]}");
                    }

                    foreach (var (key, value) in o)
                    {
                        if (key != "fallback")
                        {
                            Collect(value, lines);
                        }
                    }

                    break;
                case JsonArray a:
                    foreach (var item in a)
                    {
                        Collect(item, lines);
                    }

                    break;
            }
        }
    }

    /// <summary>The card's heading (its first TextBlock).</summary>
    public static string CardTitle(JsonNode? card) =>
        (card?["body"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(b => (string?)b["type"] == "TextBlock") is { } first ? (string?)first["text"] ?? string.Empty : string.Empty;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (Stream is not null)
        {
            await Stream.DisposeAsync().ConfigureAwait(false);
        }

        if (Log is not null)
        {
            await Log.DisposeAsync().ConfigureAwait(false);
        }

        Kill(_process);
        _process.Dispose();
        TryDelete(_directory);
    }

    private async Task WaitUntilReadyAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + DefaultWait;
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The Agents Playground exited with {_process.ExitCode}.\n{_output}");
            }

            try
            {
                if (await probe.GetStringAsync(new Uri("_debug/ping", UriKind.Relative), ct).ConfigureAwait(false) == "pong")
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not answering yet
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // slow start
            }

            await Task.Delay(100, ct).ConfigureAwait(false);
        }

        throw new TimeoutException($"The Agents Playground did not answer /_debug/ping on port {Port} within {DefaultWait.TotalSeconds} s.\n{_output}");
    }

    private static async Task NpmInstallAsync(string root, CancellationToken ct)
    {
        var packageJson = Path.Combine(root, "package.json");
        if (!File.Exists(packageJson))
        {
            await File.WriteAllTextAsync(packageJson, "{ \"name\": \"shipbot-test-playground\", \"private\": true }\n", ct).ConfigureAwait(false);
        }

        var info = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm")
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
            throw new InvalidOperationException($"The Teams end-to-end tests need the Microsoft 365 Agents Playground, but npm is not installed, so {what} is impossible. Install Node.js 18+ with npm, or set SHIPBOT_PLAYGROUND_DIR to a directory where the package is installed.", ex);
        }

        using (npm)
        {
            var output = new OutputTail();
            npm.OutputDataReceived += (_, e) => output.Add(e.Data);
            npm.ErrorDataReceived += (_, e) => output.Add(e.Data);
            npm.BeginOutputReadLine();
            npm.BeginErrorReadLine();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromMinutes(5));
            try
            {
                await npm.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Kill(npm);
                throw new InvalidOperationException($"{what} did not finish within 5 minutes (no access to the npm registry?). The Teams end-to-end tests need the package.\n{output}");
            }

            if (npm.ExitCode != 0)
            {
                throw new InvalidOperationException($"{what} failed with exit code {npm.ExitCode}; the Teams end-to-end tests need the package (install it there by hand, or set SHIPBOT_PLAYGROUND_DIR to a directory where it is installed).\n{output}");
            }
        }
    }

    private static string? InstalledVersion(string root)
    {
        var path = Path.Combine(root, "node_modules", "@microsoft", "m365agentsplayground", "package.json");
        try
        {
            return File.Exists(path) ? (string?)JsonNode.Parse(File.ReadAllText(path))?["version"] : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<FileStream> LockFileAsync(string path, CancellationToken ct)
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

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
        catch (UnauthorizedAccessException)
        {
            // best effort
        }
    }

    internal static JsonObject? Parse(string raw)
    {
        try
        {
            return string.IsNullOrWhiteSpace(raw) ? null : JsonNode.Parse(raw) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"Listening on (\d+)")]
    private static partial Regex ListeningLine();

    /// <summary>The last lines a child process printed, for failure messages.</summary>
    private sealed class OutputTail
    {
        private readonly Queue<string> _lines = new();

        public void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_lines)
            {
                _lines.Enqueue(line);
                while (_lines.Count > 60)
                {
                    _lines.Dequeue();
                }
            }
        }

        public override string ToString()
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }
}

/// <summary>One frame of a playground WebSocket, for the conversation stream <c>{action, actionConversationId, message}</c>.</summary>
public sealed record PlaygroundEvent(int Sequence, JsonObject Raw)
{
    /// <summary><c>createMessage</c>, <c>updateMessage</c>, <c>typing</c>, …</summary>
    public string? Action => (string?)Raw["action"];

    public string? ConversationId => (string?)Raw["actionConversationId"];

    public JsonObject? Message => Raw["message"] as JsonObject;

    public string? MessageId => (string?)Message?["messageId"];

    public string? FromId => (string?)Message?["from"]?["id"];

    public string Text => (string?)Message?["text"] ?? string.Empty;

    public JsonObject? Card => AgentsPlayground.CardOf(Message);

    public string CardTitle => AgentsPlayground.CardTitle(Card);

    public string CardText => AgentsPlayground.CardText(Card);

    public bool IsCreate => Action == "createMessage";

    public bool IsUpdate => Action == "updateMessage";

    /// <summary>Short, for assertion messages.</summary>
    public override string ToString() =>
        $"#{Sequence} {Action} conv={ConversationId} id={MessageId}" + (Card is null ? string.Empty : $" card=\"{CardTitle}\"") + (Text.Length == 0 ? string.Empty : $" text=\"{PlaygroundStream.Short(Text, 120)}\"");
}

/// <summary>
/// A playground WebSocket read in the background: every frame is kept (with a sequence number), and
/// <see cref="WaitForAsync"/> finds the first frame after a point that matches, waiting for it if needed.
/// </summary>
public sealed class PlaygroundStream : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Uri _uri;
    private readonly List<PlaygroundEvent> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _reader = Task.CompletedTask;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _closed;

    private PlaygroundStream(ClientWebSocket socket, Uri uri)
    {
        _socket = socket;
        _uri = uri;
    }

    /// <summary>How many frames have arrived: pass it as <c>after</c> to look only at what comes next.</summary>
    public int Count
    {
        get
        {
            lock (_events)
            {
                return _events.Count;
            }
        }
    }

    public static async Task<PlaygroundStream> ConnectAsync(Uri uri, CancellationToken ct = default)
    {
        var socket = new ClientWebSocket();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await socket.ConnectAsync(uri, timeout.Token).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var stream = new PlaygroundStream(socket, uri);
        stream._reader = Task.Run(stream.ReadAsync, CancellationToken.None);
        return stream;
    }

    public IReadOnlyList<PlaygroundEvent> Snapshot()
    {
        lock (_events)
        {
            return [.. _events];
        }
    }

    /// <summary>The first frame with a sequence number ≥ <paramref name="after"/> that matches; fails after <paramref name="timeout"/> with everything seen.</summary>
    public async Task<PlaygroundEvent> WaitForAsync(Func<PlaygroundEvent, bool> predicate, string what, int after = 0, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var deadline = DateTime.UtcNow + (timeout ?? AgentsPlayground.DefaultWait);
        var next = after;
        while (true)
        {
            Task changed;
            lock (_events)
            {
                for (; next < _events.Count; next++)
                {
                    if (predicate(_events[next]))
                    {
                        return _events[next];
                    }
                }

                if (_closed is not null)
                {
                    throw new InvalidOperationException($"Waiting for {what}, but the WebSocket {_uri} closed ({_closed}). Seen:\n{Describe()}");
                }

                changed = _changed.Task;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"No {what} on {_uri} within {(timeout ?? AgentsPlayground.DefaultWait).TotalSeconds} s. Seen:\n{Describe()}");
            }

            await Task.WhenAny(changed, Task.Delay(left)).ConfigureAwait(false);
        }
    }

    /// <summary>The bot message (<c>createMessage</c> or <c>updateMessage</c>) with this id as it last arrived.</summary>
    public PlaygroundEvent? Latest(string messageId)
    {
        lock (_events)
        {
            return _events.LastOrDefault(e => (e.IsCreate || e.IsUpdate) && e.MessageId == messageId);
        }
    }

    /// <summary>One line per frame, for failure messages.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        foreach (var e in Snapshot())
        {
            text.Append(CultureInfo.InvariantCulture, $"#{e.Sequence} {e.Action ?? (string?)e.Raw["logAction"]} conv={e.ConversationId} id={e.MessageId}");
            if (e.Card is not null)
            {
                text.Append(" card=\"").Append(e.CardTitle).Append('"');
            }

            if (e.Text.Length > 0)
            {
                text.Append(" text=\"").Append(Short(e.Text, 160)).Append('"');
            }

            if (e.Action is null && e.Raw["logAction"] is null)
            {
                text.Append(' ').Append(Short(e.Raw, 300));
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    internal static string Short(JsonNode? node, int max) => Short(node?.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) ?? string.Empty, max);

    internal static string Short(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the playground may already be gone
        }

        try
        {
            await _reader.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // ended
        }

        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        using var frame = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Close($"closed by the server: {result.CloseStatus} {result.CloseStatusDescription}");
                    return;
                }

                frame.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var text = Encoding.UTF8.GetString(frame.GetBuffer(), 0, (int)frame.Length);
                frame.SetLength(0);
                var raw = AgentsPlayground.Parse(text) ?? new JsonObject { ["unparsed"] = text };
                lock (_events)
                {
                    _events.Add(new PlaygroundEvent(_events.Count, raw));
                    Pulse();
                }
            }
        }
        catch (OperationCanceledException)
        {
            Close("stopped");
        }
        catch (WebSocketException ex)
        {
            Close(ex.Message);
        }
    }

    private void Close(string why)
    {
        lock (_events)
        {
            _closed ??= why;
            Pulse();
        }
    }

    private void Pulse()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}
