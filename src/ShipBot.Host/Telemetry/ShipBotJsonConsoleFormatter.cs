using System.Diagnostics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace ShipBot.Host.Telemetry;

/// <summary>
/// ShipBot's console log format (<c>Logging:Console:FormatterName</c> = <c>shipbot</c>, the
/// default): one JSON object per line with <c>timestamp</c>, <c>level</c>, <c>category</c>,
/// <c>eventId</c>, <c>message</c>, the current <c>traceId</c> and <c>spanId</c> (when a trace is
/// active), the structured <c>state</c> and any <c>exception</c>. Every string is passed through
/// <see cref="SecretRedactor"/> first. Text stays readable: non-ASCII characters are not escaped.
/// </summary>
public sealed class ShipBotJsonConsoleFormatter(IOptionsMonitor<ConsoleFormatterOptions> options, SecretRedactor redactor) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "shipbot";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        var settings = options.CurrentValue;
        var now = settings.UseUtcTimestamp ? DateTimeOffset.UtcNow : DateTimeOffset.Now;
        using var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", now.ToString(settings.TimestampFormat ?? "O", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("level", logEntry.LogLevel.ToString());
            json.WriteString("category", logEntry.Category);
            json.WriteNumber("eventId", logEntry.EventId.Id);
            json.WriteString("message", redactor.Redact(message ?? string.Empty));
            if (Activity.Current is { } activity)
            {
                json.WriteString("traceId", activity.TraceId.ToHexString());
                json.WriteString("spanId", activity.SpanId.ToHexString());
            }

            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> state && state.Count > 1)
            {
                json.WriteStartObject("state");
                foreach (var (key, value) in state)
                {
                    if (key != "{OriginalFormat}")
                    {
                        WriteValue(json, key, value);
                    }
                }

                json.WriteEndObject();
            }

            if (settings.IncludeScopes && scopeProvider is not null)
            {
                json.WriteStartArray("scopes");
                scopeProvider.ForEachScope((scope, writer) => writer.WriteStringValue(redactor.Redact(Convert.ToString(scope, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty)), json);
                json.WriteEndArray();
            }

            if (logEntry.Exception is { } exception)
            {
                json.WriteString("exception", redactor.Redact(exception.ToString()));
            }

            json.WriteEndObject();
        }

        textWriter.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        textWriter.Write(Environment.NewLine);
    }

    private void WriteValue(Utf8JsonWriter json, string key, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(key);
                break;
            case bool b:
                json.WriteBoolean(key, b);
                break;
            case int or long or short or byte or uint or ulong or ushort:
                json.WriteNumber(key, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case double d when double.IsFinite(d):
                json.WriteNumber(key, d);
                break;
            case float f when float.IsFinite(f):
                json.WriteNumber(key, f);
                break;
            case decimal m:
                json.WriteNumber(key, m);
                break;
            default:
                json.WriteString(key, redactor.Redact(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty));
                break;
        }
    }
}
