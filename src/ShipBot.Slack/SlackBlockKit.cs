using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ShipBot.Core.Cards;

namespace ShipBot.Slack;

/// <summary>
/// Renders ShipBot's platform-neutral cards as Block Kit, within Slack's documented limits:
/// 50 blocks a message, 3,000 characters of section text, 150 of a header, 10 fields of 2,000,
/// 25 elements an actions block, 75 characters of button text, 2,000 of a button value, 255 of an
/// action id. A card that would need more blocks keeps its head and its buttons and says what it
/// left out. Every message also carries a plain <c>text</c> fallback for notifications.
/// </summary>
public static partial class SlackBlockKit
{
    public const int MaxBlocks = 50;
    public const int MaxSectionText = 3000;
    public const int MaxHeaderText = 150;
    public const int MaxFields = 10;
    public const int MaxFieldText = 2000;
    public const int MaxActionElements = 25;
    public const int MaxButtonText = 75;
    public const int MaxButtonValue = 2000;
    public const int MaxActionId = 255;
    public const int MaxContextText = 2000;
    public const int MaxFallbackText = 3000;

    /// <summary>Action ids of buttons that ask for a reason first (a modal) start with this.</summary>
    public const string AskPrefix = "ask:";

    /// <summary>
    /// Separates a button's action id from the basis it was rendered for (<c>promote|r12.Canary.0</c>):
    /// the click brings the basis back, and the value stays the command the button runs.
    /// </summary>
    public const char BasisSeparator = '|';

    /// <summary>Splits a clicked action id into the button's id and its basis (null when it has none).</summary>
    public static (string Button, string? Basis) SplitActionId(string actionId)
    {
        ArgumentNullException.ThrowIfNull(actionId);
        var at = actionId.LastIndexOf(BasisSeparator);
        return at < 0 ? (actionId, null) : (actionId[..at], actionId[(at + 1)..]);
    }

    public static JsonArray Blocks(Card card)
    {
        ArgumentNullException.ThrowIfNull(card);
        var blocks = new List<JsonObject> { Header(card.Title) };
        if (!string.IsNullOrWhiteSpace(card.Subtitle))
        {
            blocks.Add(Context(Mrkdwn(card.Subtitle, card.Mentions)));
        }

        if (card.Mentions.Count > 0)
        {
            blocks.Add(Section("🔔 " + string.Join(" ", card.Mentions.Select(MentionOf))));
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var block in card.Blocks)
        {
            switch (block)
            {
                case TextBlock t:
                    var text = Mrkdwn(t.Text, card.Mentions);
                    blocks.AddRange(Chunk(t.Emphasis ? Bold(text) : text, MaxSectionText).Select(Section));
                    break;
                case FactsBlock f:
                    blocks.AddRange(f.Facts.Chunk(MaxFields).Select(chunk => Fields(chunk.Select(x => Truncate($"*{Escape(x.Label)}*\n{Mrkdwn(x.Value, card.Mentions)}", MaxFieldText)))));
                    break;
                case ProgressBlock p:
                    blocks.Add(Section(Truncate(Progress(p), MaxSectionText)));
                    break;
                case ChecklistBlock c:
                    blocks.AddRange(Checklist(c, card.Mentions, ids));
                    break;
                case ActionsBlock a:
                    blocks.AddRange(a.Actions.Chunk(MaxActionElements).Select(chunk => Actions(chunk.Select(x => Button(x, ids)))));
                    break;
                case ContextBlock c:
                    blocks.Add(Context(Mrkdwn(c.Text, card.Mentions)));
                    break;
                case ImageBlock i:
                    // Slack fetches the image itself: only an absolute URL works (ShipBot:Charts:PublicBaseUrl); else the words.
                    blocks.Add(i.IsAbsolute && i.Url.Length <= 3000
                        ? new JsonObject { ["type"] = "image", ["image_url"] = i.Url, ["alt_text"] = Truncate(i.AltText, 2000) }
                        : Context(Truncate(Escape(i.AltText), MaxSectionText)));
                    break;
            }
        }

        return new JsonArray([.. Fit(blocks)]);
    }

    /// <summary>Fits a rendered block list into 50 blocks the same way (head, then body, then the buttons and footer).</summary>
    public static JsonArray Fit(JsonArray blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        var list = blocks.OfType<JsonObject>().Select(b => (JsonObject)b.DeepClone()).ToList();
        return new JsonArray([.. Fit(list)]);
    }

    /// <summary>The plain-text fallback (notifications, screen readers, clients without blocks); mentions are real mentions so they notify.</summary>
    public static string Fallback(Card card)
    {
        ArgumentNullException.ThrowIfNull(card);
        var text = Mrkdwn(string.IsNullOrWhiteSpace(card.Fallback) ? card.Title : card.Fallback, card.Mentions);
        var missing = card.Mentions.Select(MentionOf).Where(m => !text.Contains(m, StringComparison.Ordinal)).ToList();
        if (missing.Count > 0)
        {
            text = string.Join(" ", missing) + " " + text;
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            text = "ShipBot";
        }

        return Truncate(text, MaxFallbackText);
    }

    /// <summary>A message body for chat.postMessage / chat.update / response_url: fallback text plus blocks.</summary>
    public static JsonObject Message(Card card) => new()
    {
        ["text"] = Fallback(card),
        ["blocks"] = Blocks(card),
    };

    /// <summary>A plain reply (no card) as a message body.</summary>
    public static JsonObject Message(string text) => new()
    {
        ["text"] = Truncate(Mrkdwn(text, []), 40_000),
    };

    /// <summary>
    /// ShipBot's light markup to Slack mrkdwn: escapes <c>&amp; &lt; &gt;</c>, turns <c>**bold**</c>
    /// into <c>*bold*</c>, and <c>@id</c> of a mentioned user or group into a real mention.
    /// </summary>
    public static string Mrkdwn(string text, IReadOnlyList<string> mentions)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(mentions);
        var escaped = BoldPattern().Replace(Escape(text), "*$1*");
        foreach (var m in mentions.OrderByDescending(m => m.Length))
        {
            var plain = m.StartsWith("group:", StringComparison.Ordinal) ? m[6..] : m;
            escaped = Regex.Replace(escaped, $@"(?<![\w<])@{Regex.Escape(plain)}(?![\w])", MentionOf(m).Replace("$", "$$", StringComparison.Ordinal));
        }

        return escaped;
    }

    /// <summary><c>&lt;@U…&gt;</c> for a user, <c>&lt;!subteam^S…&gt;</c> for <c>group:S…</c>.</summary>
    public static string MentionOf(string mention)
    {
        ArgumentNullException.ThrowIfNull(mention);
        return mention.StartsWith("group:", StringComparison.Ordinal) ? $"<!subteam^{mention[6..]}>" : $"<@{mention}>";
    }

    public static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    /// <summary>The longest prefix within <paramref name="max"/> characters, ending in an ellipsis when cut (never splitting a surrogate pair).</summary>
    public static string Truncate(string text, int max)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= max)
        {
            return text;
        }

        var cut = max - 1;
        if (char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }

        return text[..cut] + "…";
    }

    private static IEnumerable<JsonObject> Checklist(ChecklistBlock block, IReadOnlyList<string> mentions, HashSet<string> ids)
    {
        foreach (var group in block.Groups)
        {
            var settled = new StringBuilder();
            var rows = new List<JsonObject>();
            var secondary = new List<CardAction>();
            foreach (var row in group.Items)
            {
                var floor = row.Floor ? " 🔒" : string.Empty;
                var detail = string.IsNullOrWhiteSpace(row.Detail) ? string.Empty : $" — {Mrkdwn(row.Detail, mentions)}";
                var line = $"{StateIcon(row.State)} *{Escape(row.Label)}*{floor} `{Escape(row.Id)}`{detail}";
                if (row.Actions.Count == 0)
                {
                    settled.AppendLine(line);
                    continue;
                }

                var section = Section(Truncate(line, MaxSectionText));
                section["accessory"] = Button(row.Actions[0], ids);
                rows.Add(section);
                secondary.AddRange(row.Actions.Skip(1).Select(a => a with { Label = $"{a.Label.TrimEnd('…')} {row.Id}…" }));
            }

            yield return Section($"*{Escape(group.Title)}*");
            foreach (var chunk in Chunk(settled.ToString().TrimEnd(), MaxSectionText).Where(c => c.Length > 0))
            {
                yield return Section(chunk);
            }

            foreach (var row in rows)
            {
                yield return row;
            }

            foreach (var chunk in secondary.Chunk(MaxActionElements))
            {
                yield return Actions(chunk.Select(a => Button(a, ids)));
            }
        }
    }

    /// <summary>Keeps a message within 50 blocks: the head, then as much of the body as fits, then the buttons and the footer.</summary>
    private static List<JsonObject> Fit(List<JsonObject> blocks)
    {
        if (blocks.Count <= MaxBlocks)
        {
            return blocks;
        }

        // The last actions block (the release's own buttons) and everything after it always stay.
        var tailStart = blocks.FindLastIndex(b => (string?)b["type"] == "actions");
        if (tailStart < 0 || blocks.Count - tailStart > 10)
        {
            tailStart = blocks.Count - 1;
        }

        var tail = blocks.Skip(tailStart).ToList();
        var room = MaxBlocks - tail.Count - 1;
        var omitted = tailStart - room;
        var fitted = blocks.Take(room).ToList();
        fitted.Add(Context($"… {omitted} more blocks not shown: type `/ship status` for everything."));
        fitted.AddRange(tail);
        return fitted;
    }

    private static string Progress(ProgressBlock block)
    {
        var done = block.Stages.Count(s => s.Status is StageStatus.Done);
        var bar = new string('▰', done) + new string('▱', Math.Max(0, block.Stages.Count - done));
        var stages = block.Stages.Select(s =>
        {
            var name = Escape(s.Name);
            var detail = string.IsNullOrWhiteSpace(s.Detail) ? string.Empty : $" ({Escape(s.Detail)})";
            return s.Status switch
            {
                StageStatus.Done => $"{name} ✓{detail}",
                StageStatus.Current => $"*{name}*{detail}",
                StageStatus.Failed => $"~{name}~ ✗{detail}",
                StageStatus.Skipped => $"~{name}~ skipped",
                _ => name,
            };
        });
        return $"{bar}  {string.Join(" → ", stages)}";
    }

    private static string StateIcon(string state) => state.ToLowerInvariant() switch
    {
        "confirmed" => "✅",
        "verified" => "✅",
        "waived" => "⚪",
        "failed" => "❌",
        "notapplicable" or "n/a" => "➖",
        _ => "⬜",
    };

    private static JsonObject Button(CardAction action, HashSet<string> ids)
    {
        var baseId = (action.Input is null ? string.Empty : AskPrefix) + action.Id.Replace(BasisSeparator, '/');
        var basis = action.Basis is { Length: > 0 and <= 100 } b && !b.Contains(BasisSeparator, StringComparison.Ordinal) ? BasisSeparator + b : string.Empty;
        var room = MaxActionId - 6 - basis.Length;
        var id = Truncate(baseId, room);
        for (var n = 2; !ids.Add(id); n++)
        {
            id = $"{Truncate(baseId, room)}:{n}";
        }

        id += basis;

        var button = new JsonObject
        {
            ["type"] = "button",
            ["text"] = PlainText(Truncate(action.Label, MaxButtonText)),
            ["action_id"] = id,
            ["value"] = Truncate(action.Value, MaxButtonValue),
        };
        if (action.Style != ActionStyle.Default)
        {
            button["style"] = action.Style == ActionStyle.Danger ? "danger" : "primary";
        }

        // A button that asks for a reason opens a modal, which is its confirmation; the others confirm with Slack's dialog.
        if (action.Confirm is not null && action.Input is null)
        {
            var confirm = new JsonObject
            {
                ["title"] = PlainText(Truncate(action.Label.TrimEnd('…'), 100)),
                ["text"] = PlainText(Truncate(action.Confirm, 300)),
                ["confirm"] = PlainText("Yes"),
                ["deny"] = PlainText("Cancel"),
            };
            if (action.Style == ActionStyle.Danger)
            {
                confirm["style"] = "danger";
            }

            button["confirm"] = confirm;
        }

        return button;
    }

    private static JsonObject Header(string text) => new()
    {
        ["type"] = "header",
        ["text"] = PlainText(Truncate(text, MaxHeaderText)),
    };

    private static JsonObject Section(string mrkdwn) => new()
    {
        ["type"] = "section",
        ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = Truncate(mrkdwn.Length == 0 ? " " : mrkdwn, MaxSectionText) },
    };

    private static JsonObject Fields(IEnumerable<string> fields) => new()
    {
        ["type"] = "section",
        ["fields"] = new JsonArray([.. fields.Select(f => (JsonNode)new JsonObject { ["type"] = "mrkdwn", ["text"] = f })]),
    };

    private static JsonObject Actions(IEnumerable<JsonObject> elements) => new()
    {
        ["type"] = "actions",
        ["elements"] = new JsonArray([.. elements]),
    };

    private static JsonObject Context(string mrkdwn) => new()
    {
        ["type"] = "context",
        ["elements"] = new JsonArray(new JsonObject { ["type"] = "mrkdwn", ["text"] = Truncate(string.IsNullOrWhiteSpace(mrkdwn) ? " " : mrkdwn, MaxContextText) }),
    };

    internal static JsonObject PlainText(string text) => new()
    {
        ["type"] = "plain_text",
        ["text"] = text.Length == 0 ? " " : text,
        ["emoji"] = true,
    };

    private static string Bold(string mrkdwn) => mrkdwn.Contains('*', StringComparison.Ordinal) || mrkdwn.Contains('\n', StringComparison.Ordinal) ? mrkdwn : $"*{mrkdwn}*";

    /// <summary>Splits at line breaks where possible, so each piece fits in <paramref name="max"/> characters.</summary>
    private static IEnumerable<string> Chunk(string text, int max)
    {
        if (text.Length <= max)
        {
            yield return text;
            yield break;
        }

        var start = 0;
        while (start < text.Length)
        {
            var length = Math.Min(max, text.Length - start);
            if (start + length < text.Length)
            {
                var newline = text.LastIndexOf('\n', start + length - 1, length);
                if (newline > start)
                {
                    length = newline - start + 1;
                }
                else if (char.IsHighSurrogate(text[start + length - 1]))
                {
                    length--;
                }
            }

            yield return text.Substring(start, length).TrimEnd('\n');
            start += length;
        }
    }

    [GeneratedRegex(@"\*\*(.+?)\*\*")]
    private static partial Regex BoldPattern();
}
