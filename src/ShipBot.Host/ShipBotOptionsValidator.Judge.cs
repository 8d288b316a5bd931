using ShipBot.Core.Health;
using ShipBot.Core.Judging;
using ShipBot.Health.Prometheus;

namespace ShipBot.Host;

/// <summary>Start-up checks of a service's canary judge (<c>ShipBot:Services:&lt;name&gt;:Judge</c>).</summary>
public sealed partial class ShipBotOptionsValidator
{
    private static void ValidateJudge(string key, ServiceOptions settings, bool simulatedHealth, List<string> errors)
    {
        var judgeKey = $"{key}:Judge";
        var before = errors.Count;
        settings.Judge.Validate(judgeKey, errors);
        if (errors.Count > before || settings.Judge.Kind != JudgeKind.Sequential)
        {
            return;
        }

        // Every judged metric must be countable by a source the service reads, or the judge would say "no data" forever and halt every release.
        var countable = new HashSet<string>(StringComparer.Ordinal);
        if (settings.Health.Prometheus is { } prometheus)
        {
            countable.UnionWith(PrometheusCountQueries.Effective(prometheus).Keys);
        }

        if (!settings.Health.HasSources && simulatedHealth)
        {
            countable.UnionWith([CountMetrics.Errors, CountMetrics.SlowRequests]);
        }

        foreach (var metric in settings.Judge.ToSettings().Metrics.Where(m => !countable.Contains(m.Metric)))
        {
            errors.Add(settings.Health.Prometheus is null
                ? $"{judgeKey}:Metrics:{metric.Metric}: no health source of this service counts it: the sequential judge needs Health:Prometheus (or the simulated source, for errors and slow_requests)."
                : $"{judgeKey}:Metrics:{metric.Metric}: {key}:Health:Prometheus:CountQueries:{metric.Metric} has no Events and Total queries.");
        }
    }
}
