using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ShipBot.Core.Cards;

namespace ShipBot.Teams;

/// <summary>
/// Renders ShipBot's platform-neutral cards as Adaptive Cards 1.5 (what Teams renders): a heading,
/// <c>FactSet</c>s for facts, a <c>ColumnSet</c> stage bar, checklist rows with their buttons, and
/// <c>Action.Execute</c> buttons (with an <c>Action.Submit</c> fallback for older clients) whose
/// <c>data.command</c> is the command they run. Buttons that need a reason or a confirmation open an
/// <c>Action.ShowCard</c> with the question and an <c>Input.Text</c>. Mentions become
/// <c>&lt;at&gt;</c> text with <c>msteams.entities</c>. Cards stay well under Teams' 28 KB message
/// limit: a card that would not is rendered compact (checklist without buttons), then cut.
/// </summary>
public static partial class AdaptiveCards
{
    public const string Schema = "http://adaptivecards.io/schemas/adaptive-card.json";
    public const string Version = "1.5";
    public const string ContentType = "application/vnd.microsoft.card.adaptive";

    /// <summary>Rendered cards larger than this (bytes of JSON) are made compact; Teams refuses messages over about 28 KB.</summary>
    public const int MaxBytes = 24 * 1024;

    /// <param name="names">Display names of mentioned ids, when known (otherwise the id is shown).</param>
    public static JsonObject Render(Card card, IReadOnlyDictionary<string, string>? names = null)
    {
        ArgumentNullException.ThrowIfNull(card);
        var full = Build(card, names, compact: false);
        if (Size(full) <= MaxBytes)
        {
            return full;
        }

        var compact = Build(card, names, compact: true);
        if (Size(compact) <= MaxBytes)
        {
            return compact;
        }

        // Last resort: keep the heading, the buttons and the footer; drop from the middle, biggest first,
        // then shorten what is left; and say what was left out.
        var body = (JsonArray)compact["body"]!;
        bool Pinned(JsonNode? node) => node is not null && (body.IndexOf(node) == 0 || (string?)node["type"] == "ActionSet" || body.IndexOf(node) == body.Count - 1);
        var dropped = false;
        while (Size(compact) > MaxBytes && body.Where(n => !Pinned(n)).OrderByDescending(n => Size(n!)).FirstOrDefault() is { } biggest)
        {
            body.Remove(biggest);
            dropped = true;
        }

        foreach (var text in body.OfType<JsonObject>().Where(n => (string?)n["type"] == "TextBlock"))
        {
            if (Size(compact) <= MaxBytes)
            {
                break;
            }

            text["text"] = Cut((string?)text["text"] ?? string.Empty, 500);
        }

        if (dropped)
        {
            body.Insert(Math.Max(1, body.Count - 1), Text("… more in `ship status`.", subtle: true));
        }

        return compact;
    }

    public static int Size(JsonNode node) => System.Text.Encoding.UTF8.GetByteCount(node.ToJsonString());

    /// <summary>An attachment carrying the card, for a message activity.</summary>
    public static JsonObject Attachment(JsonObject card) => new() { ["contentType"] = ContentType, ["content"] = card };

    private static JsonObject Build(Card card, IReadOnlyDictionary<string, string>? names, bool compact)
    {
        var mentions = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var body = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "TextBlock",
                ["text"] = Plain(card.Title),
                ["style"] = "heading",
                ["size"] = "Large",
                ["weight"] = "Bolder",
                ["wrap"] = true,
                ["color"] = Color(card.Tone),
            },
        };
        if (!string.IsNullOrWhiteSpace(card.Subtitle))
        {
            body.Add(Text(Markup(card.Subtitle, card.Mentions, names, mentions), subtle: true, spacing: "None"));
        }

        if (card.Mentions.Count > 0)
        {
            body.Add(Text("🔔 " + string.Join(" ", card.Mentions.Select(m => Mention(m, names, mentions))), spacing: "Small"));
        }

        foreach (var block in card.Blocks)
        {
            switch (block)
            {
                case TextBlock t:
                    body.Add(Text(Markup(compact ? Cut(t.Text, 1500) : t.Text, card.Mentions, names, mentions), weight: t.Emphasis ? "Bolder" : null));
                    break;
                case FactsBlock f:
                    body.Add(new JsonObject
                    {
                        ["type"] = "FactSet",
                        ["facts"] = new JsonArray([.. f.Facts.Select(x => (JsonNode)new JsonObject
                        {
                            ["title"] = Plain(x.Label),
                            ["value"] = Markup(compact ? Cut(x.Value, 300) : x.Value, card.Mentions, names, mentions),
                        })]),
                    });
                    break;
                case ProgressBlock p:
                    body.Add(Progress(p));
                    break;
                case ChecklistBlock c:
                    foreach (var item in Checklist(c, card.Mentions, names, mentions, compact))
                    {
                        body.Add(item);
                    }

                    break;
                case ActionsBlock a when a.Actions.Count > 0:
                    body.Add(new JsonObject { ["type"] = "ActionSet", ["actions"] = new JsonArray([.. a.Actions.Select(x => (JsonNode)Action(x))]) });
                    break;
                case ContextBlock c:
                    body.Add(Text(Markup(compact ? Cut(c.Text, 500) : c.Text, card.Mentions, names, mentions), subtle: true, size: "Small"));
                    break;
                case ImageBlock i when i.IsAbsolute && !compact:
                    // Teams fetches the image itself: only an absolute URL works (ShipBot:Charts:PublicBaseUrl).
                    body.Add(new JsonObject { ["type"] = "Image", ["url"] = i.Url, ["altText"] = Cut(i.AltText, 500), ["size"] = "Stretch" });
                    break;
                case ImageBlock i:
                    body.Add(Text(Cut(i.AltText, 500), subtle: true, size: "Small"));
                    break;
            }
        }

        var result = new JsonObject
        {
            ["type"] = "AdaptiveCard",
            ["$schema"] = Schema,
            ["version"] = Version,
            ["fallbackText"] = Cut(Plain(card.Fallback), 300),
            ["body"] = body,
        };
        var msteams = new JsonObject { ["width"] = "Full" };
        if (mentions.Count > 0)
        {
            msteams["entities"] = new JsonArray([.. mentions.Values]);
        }

        result["msteams"] = msteams;
        return result;
    }

    private static IEnumerable<JsonObject> Checklist(ChecklistBlock block, IReadOnlyList<string> cardMentions, IReadOnlyDictionary<string, string>? names, Dictionary<string, JsonObject> mentions, bool compact)
    {
        foreach (var group in block.Groups)
        {
            yield return Text($"**{Plain(group.Title)}**", spacing: "Medium");
            foreach (var row in group.Items)
            {
                var floor = row.Floor ? " 🔒" : string.Empty;
                var detail = string.IsNullOrWhiteSpace(row.Detail) ? string.Empty : $" — {Markup(compact ? Cut(row.Detail, 120) : row.Detail, cardMentions, names, mentions)}";
                var line = Text($"{StateIcon(row.State)} **{Plain(row.Label)}**{floor} ({row.Id}){detail}", spacing: "Small");
                if (compact || row.Actions.Count == 0)
                {
                    yield return line;
                    continue;
                }

                yield return new JsonObject
                {
                    ["type"] = "ColumnSet",
                    ["spacing"] = "Small",
                    ["columns"] = new JsonArray(
                        new JsonObject { ["type"] = "Column", ["width"] = "stretch", ["verticalContentAlignment"] = "Center", ["items"] = new JsonArray(line) },
                        new JsonObject
                        {
                            ["type"] = "Column",
                            ["width"] = "auto",
                            ["items"] = new JsonArray(new JsonObject { ["type"] = "ActionSet", ["actions"] = new JsonArray([.. row.Actions.Select(a => (JsonNode)Action(a))]) }),
                        }),
                };
            }
        }
    }

    private static JsonObject Progress(ProgressBlock block) => new()
    {
        ["type"] = "ColumnSet",
        ["columns"] = new JsonArray([.. block.Stages.Select(s => (JsonNode)new JsonObject
        {
            ["type"] = "Column",
            ["width"] = "stretch",
            ["items"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "TextBlock",
                    ["text"] = $"{StageIcon(s.Status)} {Plain(s.Name)}",
                    ["wrap"] = true,
                    ["weight"] = s.Status == StageStatus.Current ? "Bolder" : "Default",
                    ["color"] = s.Status switch { StageStatus.Done => "Good", StageStatus.Current => "Accent", StageStatus.Failed => "Attention", _ => "Default" },
                    ["size"] = "Small",
                },
                new JsonObject { ["type"] = "TextBlock", ["text"] = string.IsNullOrWhiteSpace(s.Detail) ? " " : Plain(s.Detail), ["wrap"] = true, ["isSubtle"] = true, ["size"] = "Small", ["spacing"] = "None" }),
        })]),
    };

    /// <summary>A button: Action.Execute (verb = the action id, data.command = the command), or a ShowCard asking for confirmation or a reason first.</summary>
    public static JsonObject Action(CardAction action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (action.Confirm is null && action.Input is null)
        {
            return Execute(action.Label, action);
        }

        var body = new JsonArray();
        if (action.Confirm is not null)
        {
            body.Add(Text(Plain(action.Confirm)));
        }

        // Input ids must be unique in a card; the button's data says which one carries its reason.
        var inputId = $"input-{action.Id}-{(uint)StableHash(action.Value):x8}";
        if (action.Input is not null)
        {
            body.Add(new JsonObject
            {
                ["type"] = "Input.Text",
                ["id"] = inputId,
                ["label"] = Plain(action.Input),
                ["isRequired"] = true,
                ["errorMessage"] = "A reason is required; it goes into the audit trail.",
                ["isMultiline"] = true,
                ["maxLength"] = 500,
            });
        }

        return new JsonObject
        {
            ["type"] = "Action.ShowCard",
            ["title"] = Plain(action.Label),
            ["card"] = new JsonObject
            {
                ["type"] = "AdaptiveCard",
                ["body"] = body,
                ["actions"] = new JsonArray(Execute($"Confirm: {action.Label.TrimEnd('…')}", action, action.Input is null ? null : inputId)),
            },
        };
    }

    private static JsonObject Execute(string title, CardAction action, string? inputId = null)
    {
        var data = new JsonObject { ["command"] = action.Value };

        // What the button was rendered for comes back with the click, which acts only while it still holds.
        if (action.Basis is not null)
        {
            data["basis"] = action.Basis;
        }

        if (inputId is not null)
        {
            data["inputId"] = inputId;
        }

        var execute = new JsonObject
        {
            ["type"] = "Action.Execute",
            ["title"] = Plain(title),
            ["verb"] = action.Id,
            ["data"] = data,
            ["fallback"] = new JsonObject { ["type"] = "Action.Submit", ["title"] = Plain(title), ["data"] = data.DeepClone() },
        };
        if (action.Style != ActionStyle.Default)
        {
            execute["style"] = action.Style == ActionStyle.Danger ? "destructive" : "positive";
        }

        return execute;
    }

    private static JsonObject Text(string text, bool subtle = false, string? weight = null, string? spacing = null, string? size = null)
    {
        var block = new JsonObject { ["type"] = "TextBlock", ["text"] = text.Length == 0 ? " " : text, ["wrap"] = true };
        if (subtle)
        {
            block["isSubtle"] = true;
        }

        if (weight is not null)
        {
            block["weight"] = weight;
        }

        if (spacing is not null)
        {
            block["spacing"] = spacing;
        }

        if (size is not null)
        {
            block["size"] = size;
        }

        return block;
    }

    /// <summary>ShipBot's light markup to Adaptive Card markdown: **bold** stays, `code` loses its backticks, @id of a mentioned user becomes a Teams mention.</summary>
    private static string Markup(string text, IReadOnlyList<string> cardMentions, IReadOnlyDictionary<string, string>? names, Dictionary<string, JsonObject> mentions)
    {
        var result = Plain(text).Replace("`", string.Empty, StringComparison.Ordinal);
        foreach (var m in cardMentions.Where(m => !m.StartsWith("group:", StringComparison.Ordinal)).OrderByDescending(m => m.Length))
        {
            var pattern = $@"(?<![\w<])@{Regex.Escape(m)}(?![\w])";
            if (Regex.IsMatch(result, pattern))
            {
                result = Regex.Replace(result, pattern, Mention(m, names, mentions).Replace("$", "$$", StringComparison.Ordinal));
            }
        }

        return result;
    }

    private static string Mention(string id, IReadOnlyDictionary<string, string>? names, Dictionary<string, JsonObject> mentions)
    {
        if (id.StartsWith("group:", StringComparison.Ordinal))
        {
            // Teams tags need the Graph; a group is named, not pinged.
            return $"@{Plain(id[6..])}";
        }

        var name = names is not null && names.TryGetValue(id, out var n) ? n : id;
        var text = $"<at>{Plain(name)}</at>";
        mentions.TryAdd(id, new JsonObject
        {
            ["type"] = "mention",
            ["text"] = text,
            ["mentioned"] = new JsonObject { ["id"] = id, ["name"] = name },
        });
        return text;
    }

    /// <summary>Text without anything Teams would read as markup of its own (&lt;at&gt; and other tags).</summary>
    private static string Plain(string text) => text.Replace("<", "‹", StringComparison.Ordinal).Replace(">", "›", StringComparison.Ordinal);

    /// <summary>A hash that is the same in every process (string.GetHashCode is randomised per process).</summary>
    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked((hash * 31) + c);
        }

        return hash;
    }

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static string Color(CardTone tone) => tone switch
    {
        CardTone.Success => "Good",
        CardTone.Warning => "Warning",
        CardTone.Danger => "Attention",
        CardTone.Info => "Accent",
        _ => "Default",
    };

    private static string StageIcon(StageStatus status) => status switch
    {
        StageStatus.Done => "✅",
        StageStatus.Current => "🔵",
        StageStatus.Failed => "🔴",
        StageStatus.Skipped => "⏭️",
        _ => "⚪",
    };

    private static string StateIcon(string state) => state.ToLowerInvariant() switch
    {
        "confirmed" or "verified" => "✅",
        "waived" => "⚪",
        "failed" => "❌",
        _ => "⬜",
    };
}
