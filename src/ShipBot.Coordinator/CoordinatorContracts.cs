using System.Text.Json;
using System.Text.Json.Serialization;
using ShipBot.Core.Cards;
using ShipBot.Core.Commands;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator;

/// <summary>
/// A command from any chat channel: who typed or clicked it, where, and the platform's (or the
/// adapter's) request id. Request ids are scoped to the sender: one person's id never answers another's.
/// </summary>
public sealed record InboundCommand(string RequestId, Actor Actor, Conversation Conversation, string Text)
{
    /// <summary>
    /// True for a button click. An adapter builds a click's <see cref="RequestId"/> from the message,
    /// the button, the basis and the typed input, so a double click is one request; its answer is kept
    /// only for <see cref="CoordinatorSettings.DoubleClickWindow"/>, after which the same click is judged afresh.
    /// </summary>
    public bool IsClick { get; init; }

    /// <summary>
    /// The clicked button's basis token (<see cref="Core.Releases.ClickBasis"/>): the click acts only while
    /// it still describes the release. Null for typed commands, which act on the current state.
    /// </summary>
    public string? Basis { get; init; }

    /// <summary>
    /// A command already parsed by its surface (the pipeline API builds it from typed JSON fields);
    /// when set, <see cref="Text"/> is only what the audit and traces show. Null: <see cref="Text"/> is parsed.
    /// </summary>
    public ShipCommand? Command { get; init; }

    public static InboundCommand Click(string requestId, Actor actor, Conversation conversation, string text, string? basis) =>
        new(requestId, actor, conversation, text) { IsClick = true, Basis = string.IsNullOrWhiteSpace(basis) ? null : basis };
}

/// <summary>The idempotency key of a click: the message, the button, its basis, what was typed into it — the sender is added by the coordinator.</summary>
public static class ClickKeys
{
    /// <summary>A short, stable key (the parts are hashed, so long reasons and ids never make long keys).</summary>
    public static string For(string platform, string message, string button, string? basis, string command, string? input)
    {
        var material = string.Join('\u001f', message, button, basis ?? string.Empty, command, input?.Trim() ?? string.Empty);
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(material));
        return $"{platform}:click:{Convert.ToHexStringLower(hash.AsSpan(0, 16))}";
    }
}

/// <summary>A firing alert pushed by a monitoring system (Alertmanager), already matched to a service (and optionally a version).</summary>
/// <param name="DedupKey">Identifies one firing of the alert: it acts once per release, however often it is delivered.</param>
public sealed record ExternalAlert(string Service, string? Version, string Name, string Severity, string Summary, string Source, DateTimeOffset StartsAt, string DedupKey)
{
    /// <summary>The metric name alerts are judged under (<c>Thresholds:Actions:alert</c> = Consult makes them consult on-call).</summary>
    public const string Metric = "alert";
}

public enum AlertOutcome
{
    /// <summary>The alert rolled the release back (or consulted on-call).</summary>
    Acted,

    /// <summary>This firing already acted on the release: a repeated notification.</summary>
    AlreadyActed,

    /// <summary>The service has no release with production traffic to act on (yet).</summary>
    NoRollout,
}

public sealed record AlertResult(AlertOutcome Outcome, ReleaseId? Release = null);

public enum ReplyVisibility
{
    /// <summary>Only the person who asked sees it (errors, usage, denials, acknowledgements).</summary>
    Ephemeral,

    /// <summary>Everyone in the channel sees it.</summary>
    InChannel,
}

/// <summary>The coordinator's answer to a command, rendered by each adapter in its own idiom.</summary>
public sealed record CommandReply(ReplyVisibility Visibility, string Text, Card? Card = null)
{
    /// <summary>
    /// The command changed a release, so its card was updated in place. A button click that changed
    /// something needs no further reply on platforms where the updated card is the answer.
    /// </summary>
    public bool Changed { get; init; }

    /// <summary>Why the command was refused (nothing changed), or null when it was carried out or changed nothing because it was done already.</summary>
    public RefusalKind? Refusal { get; init; }

    /// <summary>The release a start created (service@version), or null.</summary>
    public string? Release { get; init; }

    public static CommandReply Private(string text) => new(ReplyVisibility.Ephemeral, text);

    public static CommandReply Public(string text, Card? card = null) => new(ReplyVisibility.InChannel, text, card);
}

/// <summary>Coordinator settings. Defaults are stated per property.</summary>
public sealed record CoordinatorSettings
{
    /// <summary>How often a rolling-out release's health is evaluated. Default 30 s (the service level), configurable down to 1 s for demos.</summary>
    public TimeSpan EvaluationInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a request id's first answer is kept. Default 24 h.</summary>
    public TimeSpan IdempotencyWindow { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long a click's answer is kept: a double click or a duplicate delivery within it gets the
    /// first answer (and, while the first is still being handled, waits for it); a later click on the
    /// same button is judged afresh against its basis — so it says what changed instead of repeating,
    /// and a button that was refused works once the reason for the refusal is gone. Default 1 s.
    /// </summary>
    public TimeSpan DoubleClickWindow { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the answer to a read-only verb (status, list, contract, notes, outcome, signals, freezes, stats, help)
    /// is kept for its request id: long enough for a platform's duplicate delivery to get the same answer, without
    /// keeping every query's answer for <see cref="IdempotencyWindow"/>. Default 10 min.
    /// </summary>
    public TimeSpan ReadAnswerWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often flag-cleanup and post-incident reminders repeat after the last checkpoint. Default 1 day.</summary>
    public TimeSpan ReminderInterval { get; init; } = TimeSpan.FromDays(1);

    /// <summary>Delay before a failed deployment call (a rollback) is tried again. Default 5 s.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether a rollback's deployment call starts at once on the thread pool (true in the host), rather than
    /// only when the scheduler runs its Work timer (the default, which keeps unit tests step-by-step).
    /// </summary>
    public bool StartRollbackAtOnce { get; init; }

    /// <summary>Global admins (user ids or group:ids).</summary>
    public IReadOnlyList<string> Admins { get; init; } = [];

    /// <summary>Flagger canaries ShipBot gates (<c>POST /hooks/flagger/{gate}</c>), each mapped to a service. Default none.</summary>
    public IReadOnlyList<FlaggerCanary> FlaggerCanaries { get; init; } = [];
}

/// <summary>JSON options shared by the API, the idempotency store and the console: camelCase, enums as strings.</summary>
public static class ShipBotJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,

            // Chat text carries emoji, quotes and backticks; keep it readable in the API (responses are JSON, never HTML).
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        return options;
    }
}
