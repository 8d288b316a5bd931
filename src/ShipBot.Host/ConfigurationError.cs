using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ShipBot.Host;

/// <summary>
/// Start-up's configuration errors as one line for the console: what options validation found
/// (every failure, each naming its key) or a value the configuration binder could not convert
/// (it names the key too). Anything else is not a configuration error and keeps its stack trace.
/// </summary>
public static class ConfigurationError
{
    /// <summary>The one line describing <paramref name="exception"/>, when it is a configuration error.</summary>
    public static bool TryDescribe(Exception exception, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? line)
    {
        var failures = Failures(exception);
        line = failures is null ? null : "ShipBot cannot start, the configuration is wrong: " + string.Join(" | ", failures.Select(OneLine));
        return line is not null;
    }

    private static List<string>? Failures(Exception exception) => exception switch
    {
        OptionsValidationException validation => [.. validation.Failures],
        AggregateException aggregate when aggregate.InnerExceptions.Count > 0 =>
            aggregate.InnerExceptions.Select(Failures).All(f => f is not null) ? [.. aggregate.InnerExceptions.SelectMany(e => Failures(e)!)] : null,
        InvalidOperationException binding when ThrownBy(binding, typeof(ConfigurationBinder)) =>
            [binding.InnerException is { } inner ? $"{binding.Message.TrimEnd('.')}: {inner.Message}" : binding.Message],
        _ => null,
    };

    private static bool ThrownBy(Exception exception, Type type)
    {
        for (var declaring = exception.TargetSite?.DeclaringType; declaring is not null; declaring = declaring.DeclaringType)
        {
            if (declaring == type)
            {
                return true;
            }
        }

        return false;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
