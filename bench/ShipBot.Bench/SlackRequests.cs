using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ShipBot.Bench;

/// <summary>What the load generator sends and to whom (serialized to the load child as JSON).</summary>
public sealed record SlackLoadSpec
{
    /// <summary>ShipBot's base URL, e.g. http://127.0.0.1:5080/.</summary>
    public string Target { get; init; } = string.Empty;

    /// <summary><c>command</c> (a signed <c>/ship status</c>) or <c>button</c> (a signed block_actions click).</summary>
    public string Kind { get; init; } = "command";

    /// <summary><c>open</c> (fixed arrival rate) or <c>closed</c> (<see cref="Connections"/> back-to-back senders).</summary>
    public string Mode { get; init; } = "open";

    public double Rate { get; init; } = 500;

    public int Connections { get; init; } = 32;

    /// <summary>Measured seconds per run.</summary>
    public double Seconds { get; init; } = 20;

    /// <summary>Seconds sent at the same rate before the first run and not measured (warms the client and the server).</summary>
    public double Warmup { get; init; } = 3;

    public int Runs { get; init; } = 3;

    /// <summary>Closed loop: requests precomputed per run = this × <see cref="Seconds"/> (each request is sent once).</summary>
    public double ClosedBudgetPerSecond { get; init; } = 8000;

    public string SigningSecret { get; init; } = string.Empty;

    public string ResponseUrlPrefix { get; init; } = string.Empty;

    /// <summary>Diagnostic: clicks without a response_url (ShipBot then answers refusals with chat.postEphemeral).</summary>
    public bool NoResponseUrl { get; init; }

    public string Release { get; init; } = "demo@1.0.0";

    public string Channel { get; init; } = "CRELEASES";

    /// <summary>Who types <c>/ship status</c>.</summary>
    public string CommandUser { get; init; } = "UBOB";

    /// <summary>Who clicks the button.</summary>
    public string ButtonUser { get; init; } = "UMALLORY";

    /// <summary>The button element (JSON) as it appears on the card.</summary>
    public string Button { get; init; } = "{}";

    /// <summary>The card message's ts.</summary>
    public string MessageTs { get; init; } = string.Empty;

    /// <summary>Makes trigger ids, action timestamps and response URLs unique across runs and processes.</summary>
    public string Nonce { get; init; } = Guid.NewGuid().ToString("N")[..12];
}

/// <summary>One request signed as Slack signs it.</summary>
public sealed record SignedRequest(string Path, byte[] Body, string Timestamp, string Signature);

/// <summary>
/// Builds unique, signed Slack requests, independently of ShipBot's own code, from Slack's
/// documentation ("Verifying requests from Slack"): <c>X-Slack-Signature</c> = <c>v0=</c> + hex
/// HMAC-SHA256 of <c>v0:{X-Slack-Request-Timestamp}:{raw body}</c> under the signing secret. Each
/// request carries its own trigger_id and response_url, so no two bodies (nor signatures) repeat
/// and ShipBot's replay guard lets every one through. Bodies are form-encoded as Slack sends them.
/// </summary>
public sealed class SlackRequests(SlackLoadSpec spec)
{
    public const string CommandsPath = "/slack/commands";
    public const string InteractionsPath = "/slack/interactions";
    public const string FormContentType = "application/x-www-form-urlencoded";
    public const string TimestampHeader = "X-Slack-Request-Timestamp";
    public const string SignatureHeader = "X-Slack-Signature";
    public const string TeamId = "T0SHIPBOT";

    private readonly byte[] _key = Encoding.UTF8.GetBytes(spec.SigningSecret);
    private readonly JsonObject _button = JsonNode.Parse(spec.Button) as JsonObject ?? [];
    private long _serial;

    /// <summary>The acknowledgement a request of this kind must get: 200 and, for a command, the in-channel card of the release; for a click, an empty body.</summary>
    public static bool IsExpectedAck(string kind, int status, ReadOnlySpan<byte> body, ReadOnlySpan<byte> release) =>
        status == 200 && (kind == "button"
            ? body.Length == 0
            : body.IndexOf("\"response_type\":\"in_channel\""u8) >= 0 && body.IndexOf(release) >= 0 && body.IndexOf("\"blocks\""u8) >= 0);

    /// <summary><paramref name="count"/> fresh requests of <paramref name="kind"/>, all signed with the current time.</summary>
    public SignedRequest[] Make(string kind, int count)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var requests = new SignedRequest[count];
        for (var i = 0; i < count; i++)
        {
            var n = Interlocked.Increment(ref _serial);
            var (path, body) = kind == "button" ? (InteractionsPath, Click(n)) : (CommandsPath, Command(n, spec.CommandUser, $"status {spec.Release}"));
            var bytes = Encoding.UTF8.GetBytes(body);
            requests[i] = new SignedRequest(path, bytes, timestamp, Sign(timestamp, bytes));
        }

        return requests;
    }

    /// <summary>One signed <c>/ship</c> command typed by <paramref name="user"/> (for setting up the release).</summary>
    public SignedRequest Command(string user, string text)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var bytes = Encoding.UTF8.GetBytes(Command(Interlocked.Increment(ref _serial), user, text));
        return new SignedRequest(CommandsPath, bytes, timestamp, Sign(timestamp, bytes));
    }

    public string Sign(string timestamp, byte[] body)
    {
        var basestring = new byte[3 + timestamp.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes("v0:" + timestamp + ":").CopyTo(basestring, 0);
        body.CopyTo(basestring, 3 + timestamp.Length + 1);
        return "v0=" + Convert.ToHexStringLower(HMACSHA256.HashData(_key, basestring));
    }

    private string TriggerId(long n) => $"{n}.4242424242.{spec.Nonce}{n:x8}";

    private string ResponseUrl(long n) => $"{spec.ResponseUrlPrefix}{spec.Nonce}-{n}";

    private string Command(long n, string user, string text) => Form(
    [
        new("token", "gIkuvaNzQIHg97ATvDxqgjtO"),
        new("team_id", TeamId),
        new("team_domain", "shipbot-bench"),
        new("channel_id", spec.Channel),
        new("channel_name", "releases"),
        new("user_id", user),
        new("user_name", user[1..].ToLowerInvariant()),
        new("command", "/ship"),
        new("text", text),
        new("api_app_id", "A0SHIPBOT"),
        new("is_enterprise_install", "false"),
        new("response_url", ResponseUrl(n)),
        new("trigger_id", TriggerId(n)),
    ]);

    private string Click(long n)
    {
        // As Slack posts a block_actions interaction (fields as in Slack's reference payload).
        var payload = new JsonObject
        {
            ["type"] = "block_actions",
            ["user"] = new JsonObject { ["id"] = spec.ButtonUser, ["username"] = "mallory", ["name"] = "mallory", ["team_id"] = TeamId },
            ["api_app_id"] = "A0SHIPBOT",
            ["token"] = "gIkuvaNzQIHg97ATvDxqgjtO",
            ["container"] = new JsonObject { ["type"] = "message", ["message_ts"] = spec.MessageTs, ["channel_id"] = spec.Channel, ["is_ephemeral"] = false },
            ["trigger_id"] = TriggerId(n),
            ["team"] = new JsonObject { ["id"] = TeamId, ["domain"] = "shipbot-bench" },
            ["channel"] = new JsonObject { ["id"] = spec.Channel, ["name"] = "releases" },
            ["message"] = new JsonObject { ["type"] = "message", ["ts"] = spec.MessageTs, ["bot_id"] = "B0SHIPBOT" },
            ["response_url"] = spec.NoResponseUrl ? null : ResponseUrl(n),
            ["actions"] = new JsonArray(new JsonObject
            {
                ["action_id"] = (string?)_button["action_id"],
                ["block_id"] = (string?)_button["block_id"] ?? "actions",
                ["text"] = _button["text"]?.DeepClone(),
                ["value"] = (string?)_button["value"],
                ["type"] = "button",
                ["action_ts"] = $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{n % 1_000_000:D6}",
            }),
        };
        return Form([new("payload", payload.ToJsonString())]);
    }

    private static string Form(IEnumerable<KeyValuePair<string, string>> fields) => ShipBot.Testing.FakeSlack.Form(fields);

    /// <summary>A raw HTTP/1.1 request, for wrk.</summary>
    public static byte[] Raw(SignedRequest request, string host)
    {
        var head = Encoding.ASCII.GetBytes(
            $"POST {request.Path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {FormContentType}\r\nContent-Length: {request.Body.Length}\r\n" +
            $"{TimestampHeader}: {request.Timestamp}\r\n{SignatureHeader}: {request.Signature}\r\nUser-Agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\n\r\n");
        return [.. head, .. request.Body];
    }
}
