using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShipBot.Coordinator;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Teams;

/// <summary>
/// What ShipBot does with Bot Framework activities from Teams: messages (<c>@ShipBot ship &lt;verb&gt; …</c>
/// in a channel or group chat, <c>&lt;verb&gt; …</c> in a personal chat), Adaptive Card
/// <c>Action.Execute</c> invokes (answered with the updated card) and their <c>Action.Submit</c>
/// fallback. It translates them into the coordinator's commands and the replies back into
/// activities, and nothing more.
/// </summary>
public sealed partial class TeamsInbound(
    IReleaseCommands coordinator,
    BotConnectorClient connector,
    TeamsConversations conversations,
    TeamsChatNotifier notifier,
    IOptions<TeamsOptions> options,
    ILogger<TeamsInbound> logger)
{
    public const string InvokeName = "adaptiveCard/action";

    /// <summary>Handles an authenticated activity; returns the body of the HTTP answer (an invoke response), or null for an empty 200.</summary>
    public async Task<JsonObject?> OnActivityAsync(JsonObject activity, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(activity);
        await conversations.RememberAsync(activity, ct).ConfigureAwait(false);
        switch ((string?)activity["type"])
        {
            case "message" when activity["value"] is JsonObject { } submitted && (string?)submitted["command"] is { Length: > 0 }:
                // Action.Submit (clients without Action.Execute): the click arrives as a message carrying the card's data.
                await OnSubmitAsync(activity, submitted, ct).ConfigureAwait(false);
                return null;
            case "message":
                await OnMessageAsync(activity, ct).ConfigureAwait(false);
                return null;
            case "invoke" when (string?)activity["name"] == InvokeName:
                return await OnExecuteAsync(activity, ct).ConfigureAwait(false);
            default:
                return null;
        }
    }

    /// <summary>The command text of a message: the bot's mention removed, HTML decoded; null when a channel message does not start with "ship".</summary>
    public static string? CommandText(JsonObject activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        var text = (string?)activity["text"] ?? string.Empty;
        var botId = (string?)activity["recipient"]?["id"];
        if (activity["entities"] is JsonArray entities)
        {
            foreach (var mention in entities.OfType<JsonObject>().Where(e => (string?)e["type"] == "mention"))
            {
                if ((string?)mention["mentioned"]?["id"] == botId && (string?)mention["text"] is { Length: > 0 } mentionText)
                {
                    text = text.Replace(mentionText, " ", StringComparison.Ordinal);
                }
            }
        }

        // Other mentions keep their names; any remaining markup goes.
        text = WebUtility.HtmlDecode(Tags().Replace(text.Replace("<at>", "@", StringComparison.Ordinal).Replace("</at>", string.Empty, StringComparison.Ordinal), " "));
        text = Spaces().Replace(text, " ").Trim();
        var personal = (string?)activity["conversation"]?["conversationType"] is null or "personal";
        if (text.StartsWith("/ship", StringComparison.OrdinalIgnoreCase) || Regex.IsMatch(text, @"^ship\b", RegexOptions.IgnoreCase))
        {
            return text;
        }

        return personal ? $"/ship {text}".Trim() : null;
    }

    private async Task OnMessageAsync(JsonObject activity, CancellationToken ct)
    {
        var text = CommandText(activity);
        if (text is null)
        {
            await ReplyAsync(activity, CommandReply.Private("Type `@ShipBot ship help` to see what I can do."), ct).ConfigureAwait(false);
            return;
        }

        var reply = await RunAsync(activity, text, ct).ConfigureAwait(false);
        await ReplyAsync(activity, reply, ct).ConfigureAwait(false);
    }

    private async Task<JsonObject> OnExecuteAsync(JsonObject activity, CancellationToken ct)
    {
        var action = activity["value"]?["action"] as JsonObject;
        var data = action?["data"] as JsonObject;
        if ((string?)data?["command"] is not { Length: > 0 } command)
        {
            return InvokeMessage(400, "This card action carries no command.");
        }

        var input = InputOf(data);
        var reply = await RunAsync(activity, string.IsNullOrEmpty(input) ? command : $"{command} {input}", ct, Click(activity, (string?)action?["verb"], data, command, input)).ConfigureAwait(false);
        if (reply.Card is not null && reply.Visibility == ReplyVisibility.InChannel)
        {
            // A button that shows something (status, audit) posts it for everyone; the clicked card stays.
            await ReplyAsync(activity, reply, ct).ConfigureAwait(false);
        }

        if (reply.Changed && (string?)activity["replyToId"] is { Length: > 0 } clicked
            && await notifier.LatestCardForActivityAsync(clicked, ct).ConfigureAwait(false) is { } card)
        {
            return new JsonObject { ["statusCode"] = 200, ["type"] = AdaptiveCards.ContentType, ["value"] = card };
        }

        // Refusals and no-ops are shown to the person who clicked only.
        return InvokeMessage(200, reply.Text);
    }

    private async Task OnSubmitAsync(JsonObject activity, JsonObject data, CancellationToken ct)
    {
        var command = (string)data["command"]!;
        var input = InputOf(data);
        var reply = await RunAsync(activity, string.IsNullOrEmpty(input) ? command : $"{command} {input}", ct, Click(activity, null, data, command, input)).ConfigureAwait(false);
        if (!(reply.Changed && reply.Visibility == ReplyVisibility.Ephemeral))
        {
            await ReplyAsync(activity, reply, ct).ConfigureAwait(false);
        }
    }

    /// <summary>A click: the card message it is on, the button, its basis and what was typed — a double click is one request.</summary>
    private static (string RequestId, string? Basis) Click(JsonObject activity, string? verb, JsonObject data, string command, string? input)
    {
        var basis = (string?)data["basis"];
        var message = (string?)activity["replyToId"] ?? (string?)activity["id"] ?? string.Empty;
        return (ClickKeys.For(TeamsChatNotifier.PlatformName, message, verb ?? command, basis, command, input), basis);
    }

    private async Task<CommandReply> RunAsync(JsonObject activity, string text, CancellationToken ct, (string RequestId, string? Basis)? click = null)
    {
        var from = activity["from"] as JsonObject;
        var userId = (string?)from?["aadObjectId"] ?? (string?)from?["id"] ?? "unknown";
        var name = (string?)from?["name"] ?? userId;
        var groups = options.Value.Groups.Where(g => g.Value.Contains(userId, StringComparer.OrdinalIgnoreCase)).Select(g => g.Key).ToList();
        var conversation = new Conversation(TeamsChatNotifier.PlatformName, (string?)activity["conversation"]?["id"] ?? "unknown");
        var actor = new Actor(userId, name, groups);
        var inbound = click is { } c
            ? InboundCommand.Click(c.RequestId, actor, conversation, text, c.Basis)
            : new InboundCommand($"teams:{(string?)activity["id"] ?? Guid.NewGuid().ToString("N")}", actor, conversation, text);
        return await coordinator.HandleAsync(inbound, ct).ConfigureAwait(false);
    }

    /// <summary>Replies in the conversation (in the thread of the message in a channel). Teams has no private replies in channels: refusals are replies to the person.</summary>
    private async Task ReplyAsync(JsonObject activity, CommandReply reply, CancellationToken ct)
    {
        if ((string?)activity["serviceUrl"] is not { Length: > 0 } serviceUrl || (string?)activity["conversation"]?["id"] is not { Length: > 0 } conversationId)
        {
            return;
        }

        var message = new JsonObject
        {
            ["type"] = "message",
            ["textFormat"] = "markdown",
            ["text"] = reply.Card is null ? Markdown(reply.Text) : null,
        };
        if (reply.Card is { } card)
        {
            message["summary"] = card.Fallback;
            message["attachments"] = new JsonArray(AdaptiveCards.Attachment(AdaptiveCards.Render(card)));
            if (!string.IsNullOrWhiteSpace(reply.Text) && reply.Text != card.Fallback)
            {
                message["text"] = Markdown(reply.Text);
            }
        }

        if (message["text"] is null)
        {
            message.Remove("text");
        }

        if (activity["from"] is JsonObject from)
        {
            message["recipient"] = from.DeepClone();
        }

        try
        {
            await connector.SendAsync(serviceUrl, conversationId, message, (string?)activity["id"], ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BotConnectorException or HttpRequestException or TaskCanceledException)
        {
            LogReplyFailed(ex.Message);
        }
    }

    /// <summary>The reason typed into the button's input (its id is in data.inputId; inputs are merged into data by id).</summary>
    private static string? InputOf(JsonObject data) =>
        ((string?)data["inputId"] is { Length: > 0 } id ? data[id] : data["input"]) is JsonValue v && v.TryGetValue<string>(out var text) ? text.Trim() : null;

    private static JsonObject InvokeMessage(int status, string text) => new()
    {
        ["statusCode"] = status,
        ["type"] = "application/vnd.microsoft.activity.message",
        ["value"] = text,
    };

    /// <summary>ShipBot's replies are already Markdown (**bold**, `code`, • lists); Teams needs line breaks doubled.</summary>
    private static string Markdown(string text) => text.Replace("\n", "\n\n", StringComparison.Ordinal);

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tags();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Teams reply failed: {Reason}")]
    private partial void LogReplyFailed(string reason);
}
