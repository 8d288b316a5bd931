using System.Net;
using System.Text.Json;

namespace ShipBot.Telemetry;

/// <summary>
/// Counts a chat platform's outgoing API calls at the HTTP level (every attempt, retries
/// included): calls, errors and 429s by platform and method. Slack answers most failures with
/// HTTP 200 and <c>"ok": false</c>, so for Slack the (small, already buffered) JSON answer is read
/// for its error code. Nothing from the request or answer is kept beyond the method and the error
/// code: tokens and message text never reach a metric.
/// </summary>
public sealed class ChatApiMetricsHandler(string platform, Func<HttpRequestMessage, string> methodOf) : DelegatingHandler
{
    public const string Slack = "slack";
    public const string Teams = "teams";

    /// <summary>For Slack's Web API (<c>…/api/chat.postMessage</c> → <c>chat.postMessage</c>; an interaction's response_url → <c>response_url</c>).</summary>
    public static ChatApiMetricsHandler ForSlack() => new(Slack, SlackMethod);

    /// <summary>For the Bot Framework connector and its token endpoint.</summary>
    public static ChatApiMetricsHandler ForTeams() => new(Teams, TeamsMethod);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var method = methodOf(request);
        var platformTag = new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.Platform, platform);
        var methodTag = new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.Method, method);
        ShipBotTelemetry.ChatApiCalls.Add(1, platformTag, methodTag);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            ShipBotTelemetry.ChatApiErrors.Add(1, platformTag, methodTag, new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.ErrorType, ex.GetType().Name));
            throw;
        }

        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            ShipBotTelemetry.ChatApiRateLimited.Add(1, platformTag, methodTag);
        }

        var error = !response.IsSuccessStatusCode
            ? ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : platform == Slack ? await SlackErrorAsync(response, cancellationToken).ConfigureAwait(false) : null;
        if (error is not null)
        {
            ShipBotTelemetry.ChatApiErrors.Add(1, platformTag, methodTag, new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.ErrorType, error));
        }

        return response;
    }

    /// <summary>Slack's error code from an <c>"ok": false</c> answer, or null. The content stays readable for the caller (it is buffered).</summary>
    private static async Task<string?> SlackErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return null;
        }

        await response.Content.LoadIntoBufferAsync(ct).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        try
        {
            var reader = new Utf8JsonReader(bytes);
            bool? ok = null;
            string? error = null;
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("ok"u8) && reader.Read())
                {
                    ok = reader.TokenType switch { JsonTokenType.True => true, JsonTokenType.False => false, _ => null };
                }
                else if (reader.ValueTextEquals("error"u8) && reader.Read() && reader.TokenType == JsonTokenType.String)
                {
                    error = reader.GetString();
                }
                else
                {
                    reader.Read();
                    reader.TrySkip();
                }
            }

            // Slack's error codes are a documented, finite set of snake_case words; anything else is bucketed.
            return ok == false ? (error is { Length: > 0 and <= 64 } && error.All(c => char.IsAsciiLetterLower(c) || c == '_') ? error : "unknown_error") : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static string SlackMethod(HttpRequestMessage request)
    {
        var path = request.RequestUri?.AbsolutePath ?? string.Empty;
        var api = path.LastIndexOf("/api/", StringComparison.Ordinal);
        if (api >= 0 && path.Length > api + 5)
        {
            var method = path[(api + 5)..];
            return method.All(c => char.IsAsciiLetterOrDigit(c) || c == '.' || c == '_') && method.Length <= 64 ? method : "other";
        }

        return request.RequestUri is { IsAbsoluteUri: true } uri && uri.AbsolutePath.Contains("/actions/", StringComparison.Ordinal) ? "response_url" : "other";
    }

    internal static string TeamsMethod(HttpRequestMessage request)
    {
        var path = request.RequestUri?.AbsolutePath ?? string.Empty;
        if (path.EndsWith("/token", StringComparison.Ordinal))
        {
            return "token";
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var conversations = Array.IndexOf(segments, "conversations");
        if (conversations < 0)
        {
            return "other";
        }

        var rest = segments.Length - conversations - 1;
        return (request.Method.Method, rest, rest >= 2 ? segments[conversations + 2] : null) switch
        {
            ("POST", 0, _) => "conversations.create",
            ("POST", 2, "activities") => "activities.send",
            ("POST", 3, "activities") => "activities.reply",
            ("PUT", 3, "activities") => "activities.update",
            ("DELETE", 3, "activities") => "activities.delete",
            ("GET", 3, "members") => "members.get",
            ("GET", 2, "members") => "members.list",
            _ => "other",
        };
    }
}
