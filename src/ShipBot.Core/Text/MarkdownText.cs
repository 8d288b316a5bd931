using System.Text;
using System.Text.RegularExpressions;

namespace ShipBot.Core.Text;

/// <summary>
/// Makes user text literal inside Markdown: a change line "[x] done" must never render as a ticked
/// box, a link, emphasis, a table or a heading. Only what Markdown would act on is escaped, so the
/// raw text stays readable where chat shows it unrendered.
/// </summary>
public static partial class MarkdownText
{
    /// <summary>Characters that act anywhere in a line.</summary>
    private const string Inline = "\\`*_[]<>|";

    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var escaped = new StringBuilder(text.Length + 8);
        foreach (var ch in text)
        {
            if (ch is '\r' or '\n')
            {
                // One item per line: a line break would start a new block.
                escaped.Append(' ');
                continue;
            }

            if (Inline.Contains(ch, StringComparison.Ordinal))
            {
                escaped.Append('\\');
            }

            escaped.Append(ch);
        }

        // At the start of a line, these open a heading, a quote or a (nested) list.
        var result = escaped.ToString().TrimStart();
        var marker = LineStartMarker().Match(result);
        return marker.Success ? result.Insert(marker.Groups["mark"].Index, "\\") : result;
    }

    [GeneratedRegex(@"^(?:\d+(?<mark>[.)])|(?<mark>[#>+\-=]))")]
    private static partial Regex LineStartMarker();
}
