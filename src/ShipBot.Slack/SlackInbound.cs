using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShipBot.Coordinator;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Slack;

/// <summary>A slash command invocation, from the form Slack posts (HTTP) or the Socket Mode payload.</summary>
public sealed record SlashCommand(string Command, string Text, string UserId, string? UserName, string ChannelId, string? TeamId, string? ResponseUrl, string? TriggerId)
{
    public static SlashCommand? From(Func<string, string?> field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field("user_id") is { Length: > 0 } user && field("channel_id") is { Length: > 0 } channel
            ? new SlashCommand(field("command") ?? "/ship", field("text") ?? string.Empty, user, field("user_name"), channel, field("team_id"), field("response_url"), field("trigger_id"))
            : null;
    }
}

/// <summary>
/// What ShipBot does with Slack's slash commands, interactions and events, whichever transport
/// brought them (HTTP endpoints or Socket Mode). It translates them into the coordinator's
/// commands and the replies back into Slack messages, and nothing more: the command parser, the
/// role checks and the cards are the same as on every platform.
/// The answer to a command goes in the acknowledgement when the coordinator is done within
/// <see cref="SlackOptions.AckBudget"/>; otherwise Slack gets an interim acknowledgement and the
/// answer follows through <c>response_url</c> (at most 5 uses in 30 minutes, then
/// <c>chat.postEphemeral</c>).
/// </summary>
public sealed partial class SlackInbound(
    IReleaseCommands coordinator,
    SlackWebApi api,
    SlackUserDirectory directory,
    IIdempotencyStore idempotency,
    IOptions<SlackOptions> options,
    TimeProvider time,
    ILogger<SlackInbound> logger)
{
    public const string InputCallbackId = "shipbot:input";
    private const string ReasonBlock = "reason";
    private const string ReasonInput = "reason";
    private static readonly TimeSpan EventWindow = TimeSpan.FromHours(1);
    private readonly ConcurrentDictionary<string, ResponseUrlUse> _responseUrls = new(StringComparer.Ordinal);
    private long _nextPruneTicks;

    /// <summary>Handles a slash command; returns the acknowledgement body.</summary>
    public async Task<JsonObject> OnSlashCommandAsync(SlashCommand command, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var text = $"/ship {Unescape(command.Text)}".Trim();
        var conversation = new Conversation(SlackChatNotifier.PlatformName, command.ChannelId);
        var requestId = $"slack:cmd:{command.TriggerId ?? Guid.NewGuid().ToString("N")}";
        var work = RunAsync(requestId, command.UserId, command.UserName, conversation, text);
        if (await FinishesWithinBudgetAsync(work, ct).ConfigureAwait(false))
        {
            return Render(await work.ConfigureAwait(false));
        }

        _ = FollowUpAsync(work, command.ResponseUrl, command.ChannelId, command.UserId, onlyWhenUnchanged: false);
        return Ephemeral("⏳ Working on it — the answer follows here in a moment.");
    }

    /// <summary>Handles an interaction payload; returns the acknowledgement body, or null for an empty 200.</summary>
    public async Task<JsonObject?> OnInteractionAsync(JsonObject payload, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(payload);
        switch ((string?)payload["type"])
        {
            case "block_actions":
                await OnBlockActionsAsync(payload, ct).ConfigureAwait(false);
                return null;
            case "view_submission" when IsInputView(payload):
                return await OnInputSubmittedAsync(payload, ct).ConfigureAwait(false);
            default:
                return null;
        }
    }

    /// <summary>Handles an Events API envelope (<c>event_callback</c>) after it was acknowledged; a retried event (same event id) changes nothing. Never throws.</summary>
    public async Task OnEventAsync(JsonObject envelope, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        try
        {
            await HandleEventAsync(envelope, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StoreUnavailableException or SlackApiException or HttpRequestException or OperationCanceledException)
        {
            LogFollowUpFailed(ex.Message);
        }
    }

    private async Task HandleEventAsync(JsonObject envelope, CancellationToken ct)
    {
        if ((string?)envelope["type"] != "event_callback" || envelope["event"] is not JsonObject e)
        {
            return;
        }

        var type = (string?)e["type"];
        var isDirect = type == "message" && (string?)e["channel_type"] == "im";
        if ((type != "app_mention" && !isDirect) || e["bot_id"] is not null || e["subtype"] is not null
            || (string?)e["user"] is not { Length: > 0 } user || (string?)e["channel"] is not { Length: > 0 } channel)
        {
            return;
        }

        var eventId = (string?)envelope["event_id"] ?? (string?)e["client_msg_id"] ?? (string?)e["ts"] ?? Guid.NewGuid().ToString("N");
        if (!await idempotency.TryClaimAsync($"slack:event:{eventId}", EventWindow, ct).ConfigureAwait(false))
        {
            LogDuplicateEvent(eventId);
            return;
        }

        var text = Unescape(LeadingMentions().Replace((string?)e["text"] ?? string.Empty, string.Empty)).Trim();
        if (!text.StartsWith("ship", StringComparison.OrdinalIgnoreCase) && !text.StartsWith("/ship", StringComparison.OrdinalIgnoreCase))
        {
            text = "/ship " + text;
        }

        // The adapter's claim above and the coordinator's own request-id claim must not share a key.
        var reply = await RunAsync($"slack:evcmd:{eventId}", user, null, new Conversation(SlackChatNotifier.PlatformName, channel), text).ConfigureAwait(false);
        var message = Render(reply);
        message.Remove("response_type");
        if (reply.Visibility == ReplyVisibility.Ephemeral && !isDirect)
        {
            await api.PostEphemeralAsync(channel, user, message, ct).ConfigureAwait(false);
        }
        else
        {
            await api.PostMessageAsync(channel, message, (string?)e["thread_ts"] ?? (isDirect ? null : (string?)e["ts"]), ct: ct).ConfigureAwait(false);
        }
    }

    /// <summary>The acknowledgement body of a command reply: ephemeral or in-channel, the card's blocks when there is one.</summary>
    public static JsonObject Render(CommandReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        JsonObject message;
        if (reply.Card is { } card)
        {
            message = SlackBlockKit.Message(card);
            if (!string.IsNullOrWhiteSpace(reply.Text) && reply.Text != card.Fallback && message["blocks"] is JsonArray blocks)
            {
                blocks.Insert(0, new JsonObject
                {
                    ["type"] = "section",
                    ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = SlackBlockKit.Truncate(SlackBlockKit.Mrkdwn(reply.Text, card.Mentions), SlackBlockKit.MaxSectionText) },
                });
                message["blocks"] = SlackBlockKit.Fit(blocks);
            }
        }
        else
        {
            message = SlackBlockKit.Message(reply.Text);
        }

        message["response_type"] = reply.Visibility == ReplyVisibility.InChannel ? "in_channel" : "ephemeral";
        return message;
    }

    public static JsonObject Ephemeral(string text)
    {
        var message = SlackBlockKit.Message(text);
        message["response_type"] = "ephemeral";
        return message;
    }

    private static bool IsInputView(JsonObject payload) => (string?)payload["view"]?["callback_id"] == InputCallbackId;

    private async Task OnBlockActionsAsync(JsonObject payload, CancellationToken ct)
    {
        if ((string?)payload["user"]?["id"] is not { Length: > 0 } user
            || ((string?)payload["channel"]?["id"] ?? (string?)payload["container"]?["channel_id"]) is not { Length: > 0 } channel
            || payload["actions"] is not JsonArray { Count: > 0 } actions || actions[0] is not JsonObject action
            || (string?)action["value"] is not { Length: > 0 } value)
        {
            return;
        }

        var userName = (string?)payload["user"]?["username"] ?? (string?)payload["user"]?["name"];
        var responseUrl = (string?)payload["response_url"];
        var triggerId = (string?)payload["trigger_id"];
        var (button, basis) = SlackBlockKit.SplitActionId((string?)action["action_id"] ?? string.Empty);

        // The message the button is on: a double click on it is one request, whatever Slack's trigger ids.
        var message = $"{channel}:{(string?)payload["container"]?["message_ts"] ?? (string?)payload["message"]?["ts"] ?? (string?)action["action_ts"] ?? triggerId}";
        if (button.StartsWith(SlackBlockKit.AskPrefix, StringComparison.Ordinal) && triggerId is not null)
        {
            // A button that needs a reason: the modal asks for it, and its submission runs the command.
            var label = (string?)action["text"]?["text"] ?? "Reason";
            var metadata = new JsonObject { ["c"] = value, ["ch"] = channel, ["m"] = message, ["a"] = button, ["b"] = basis }.ToJsonString();
            try
            {
                await api.OpenViewAsync(triggerId, ReasonModal(label, value, metadata), ct).ConfigureAwait(false);
            }
            catch (SlackApiException ex)
            {
                LogModalFailed(ex.Error);
                _ = FollowUpAsync(Task.FromResult(CommandReply.Private($"Could not open the reason dialog ({ex.Error}); type `/ship {value} <reason>` instead.")), responseUrl, channel, user, onlyWhenUnchanged: false);
            }

            return;
        }

        var requestId = ClickKeys.For(SlackChatNotifier.PlatformName, message, button, basis, value, null);
        var work = RunAsync(requestId, user, userName, new Conversation(SlackChatNotifier.PlatformName, channel), value, click: true, basis);
        await FinishesWithinBudgetAsync(work, ct).ConfigureAwait(false);

        // The updated card is the answer to a click that worked; refusals and no-ops get a private note.
        _ = FollowUpAsync(work, responseUrl, channel, user, onlyWhenUnchanged: true);
    }

    private async Task<JsonObject?> OnInputSubmittedAsync(JsonObject payload, CancellationToken ct)
    {
        var view = payload["view"] as JsonObject;
        var reason = ((string?)view?["state"]?["values"]?[ReasonBlock]?[ReasonInput]?["value"])?.Trim();
        if (string.IsNullOrWhiteSpace(reason))
        {
            return new JsonObject { ["response_action"] = "errors", ["errors"] = new JsonObject { [ReasonBlock] = "Give a reason: it goes into the audit trail." } };
        }

        JsonObject? metadata = null;
        try
        {
            metadata = JsonNode.Parse((string?)view?["private_metadata"] ?? "{}") as JsonObject;
        }
        catch (JsonException)
        {
            // Handled below.
        }

        if ((string?)metadata?["c"] is not { Length: > 0 } command || (string?)metadata["ch"] is not { Length: > 0 } channel
            || (string?)payload["user"]?["id"] is not { Length: > 0 } user)
        {
            return new JsonObject { ["response_action"] = "errors", ["errors"] = new JsonObject { [ReasonBlock] = "This dialog is out of date; close it and click the button again." } };
        }

        var userName = (string?)payload["user"]?["username"] ?? (string?)payload["user"]?["name"];

        // The reason is part of the click: resubmitting with another reason is another request.
        var requestId = ClickKeys.For(SlackChatNotifier.PlatformName, (string?)metadata["m"] ?? $"view:{(string?)view?["id"]}", (string?)metadata["a"] ?? command, (string?)metadata["b"], command, reason);
        var work = RunAsync(requestId, user, userName, new Conversation(SlackChatNotifier.PlatformName, channel), $"{command} {reason}", click: true, (string?)metadata["b"]);
        await FinishesWithinBudgetAsync(work, ct).ConfigureAwait(false);
        _ = FollowUpAsync(work, null, channel, user, onlyWhenUnchanged: true);
        return null;
    }

    private static JsonObject ReasonModal(string label, string command, string metadata)
    {
        var title = SlackBlockKit.Truncate(label.TrimEnd('…', '.').Trim(), 24);
        return new JsonObject
        {
            ["type"] = "modal",
            ["callback_id"] = InputCallbackId,
            ["private_metadata"] = metadata,
            ["title"] = SlackBlockKit.PlainText(title),
            ["submit"] = SlackBlockKit.PlainText(title),
            ["close"] = SlackBlockKit.PlainText("Cancel"),
            ["blocks"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "section",
                    ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = $"`/ship {SlackBlockKit.Escape(command)}` — the reason is recorded in the audit trail." },
                },
                new JsonObject
                {
                    ["type"] = "input",
                    ["block_id"] = ReasonBlock,
                    ["label"] = SlackBlockKit.PlainText("Reason"),
                    ["element"] = new JsonObject
                    {
                        ["type"] = "plain_text_input",
                        ["action_id"] = ReasonInput,
                        ["multiline"] = true,
                        ["max_length"] = 500,
                    },
                }),
        };
    }

    private async Task<CommandReply> RunAsync(string requestId, string userId, string? userName, Conversation conversation, string text, bool click = false, string? basis = null)
    {
        try
        {
            var actor = await directory.ActorAsync(userId, userName).ConfigureAwait(false);
            var inbound = click ? InboundCommand.Click(requestId, actor, conversation, text, basis) : new InboundCommand(requestId, actor, conversation, text);
            return await coordinator.HandleAsync(inbound).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCommandFailed(ex);
            return CommandReply.Private("ShipBot hit an internal error handling that; nothing secret is shown here, see the server log.");
        }
    }

    private async Task<bool> FinishesWithinBudgetAsync(Task work, CancellationToken ct)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var finished = await Task.WhenAny(work, Task.Delay(options.Value.AckBudget, time, budget.Token)).ConfigureAwait(false) == work;
        await budget.CancelAsync().ConfigureAwait(false);
        return finished;
    }

    /// <summary>Sends a reply after the acknowledgement: through response_url while its budget lasts, else chat.postEphemeral / chat.postMessage.</summary>
    private async Task FollowUpAsync(Task<CommandReply> work, string? responseUrl, string channel, string user, bool onlyWhenUnchanged)
    {
        try
        {
            var reply = await work.ConfigureAwait(false);
            if (onlyWhenUnchanged && reply is { Changed: true, Visibility: ReplyVisibility.Ephemeral })
            {
                return;
            }

            var message = Render(reply);
            if (responseUrl is not null && Uri.TryCreate(responseUrl, UriKind.Absolute, out var url) && TryUse(responseUrl))
            {
                message["replace_original"] = false;
                await api.PostToResponseUrlAsync(url, message).ConfigureAwait(false);
                return;
            }

            message.Remove("response_type");
            if (reply.Visibility == ReplyVisibility.InChannel)
            {
                await api.PostMessageAsync(channel, message).ConfigureAwait(false);
            }
            else
            {
                await api.PostEphemeralAsync(channel, user, message).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SlackApiException or HttpRequestException or TaskCanceledException)
        {
            LogFollowUpFailed(ex.Message);
        }
    }

    /// <summary>Slack allows 5 uses of a response_url within 30 minutes of the interaction.</summary>
    private bool TryUse(string responseUrl)
    {
        var now = time.GetUtcNow();

        // Expired URLs are dropped at most once a minute: scanning on every click made clicks slower the more there had been.
        var next = Interlocked.Read(ref _nextPruneTicks);
        if (now.UtcTicks >= next && Interlocked.CompareExchange(ref _nextPruneTicks, (now + TimeSpan.FromMinutes(1)).UtcTicks, next) == next)
        {
            foreach (var old in _responseUrls.Where(u => u.Value.First + TimeSpan.FromMinutes(30) < now).Select(u => u.Key).ToList())
            {
                _responseUrls.TryRemove(old, out _);
            }
        }

        var use = _responseUrls.AddOrUpdate(responseUrl, _ => new ResponseUrlUse(now, 1), (_, u) => u with { Count = u.Count + 1 });
        return use.Count <= 5 && now - use.First < TimeSpan.FromMinutes(30);
    }

    /// <summary>Slack escapes &amp;, &lt; and &gt; in the text it sends; the parser wants what the user typed.</summary>
    private static string Unescape(string text) =>
        text.Replace("&lt;", "<", StringComparison.Ordinal).Replace("&gt;", ">", StringComparison.Ordinal).Replace("&amp;", "&", StringComparison.Ordinal);

    [GeneratedRegex(@"^(\s*<@[A-Z0-9]+(\|[^>]*)?>\s*)+")]
    private static partial Regex LeadingMentions();

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack event {EventId} was delivered again; ignored")]
    private partial void LogDuplicateEvent(string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not open the reason modal: {Error}")]
    private partial void LogModalFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack follow-up failed: {Reason}")]
    private partial void LogFollowUpFailed(string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Slack command failed")]
    private partial void LogCommandFailed(Exception ex);

    private sealed record ResponseUrlUse(DateTimeOffset First, int Count);
}
