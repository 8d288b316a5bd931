using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.Kubernetes;

namespace ShipBot.Deploy.ArgoRollouts;

/// <summary>
/// Watches the Rollouts of services whose release has production traffic and reports an abort or
/// a degradation that Argo Rollouts made on its own (a failed AnalysisRun, a progress deadline,
/// someone running <c>kubectl argo rollouts abort</c>) through <paramref name="report"/>, with
/// Argo's reason. One abort is reported until it is handled (the report returns true), then never
/// again; the coordinator also acts once per abort across replicas. ShipBot's own rollback is not
/// reported: the release is rolling back (or rolled back) by then, so it is skipped.
/// Polls every <paramref name="interval"/> on the injected clock (the smallest
/// <see cref="ArgoRolloutsTargetOptions.WatchInterval"/> of the watched services).
/// </summary>
public sealed partial class ArgoRolloutsWatcher(
    IReadOnlyDictionary<string, ArgoRolloutsTarget> byService,
    IReleaseStore store,
    Func<RouterAlarm, CancellationToken, Task<bool>> report,
    TimeSpan interval,
    TimeProvider time,
    ILogger<ArgoRolloutsWatcher> log) : BackgroundService
{
    private const int RememberedAlarms = 1024;
    private readonly HashSet<string> _handled = new(StringComparer.Ordinal);
    private readonly Queue<string> _handledOrder = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (byService.Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval, time);
        do
        {
            await CheckOnceAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One pass over the active releases of watched services; returns the alarms reported in it.</summary>
    public async Task<IReadOnlyList<RouterAlarm>> CheckOnceAsync(CancellationToken cancellationToken = default)
    {
        var reported = new List<RouterAlarm>();
        IReadOnlyList<ReleaseId> ids;
        try
        {
            ids = await store.ListActiveIdsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException ex)
        {
            LogStoreDown(ex.Message);
            return reported;
        }

        foreach (var id in ids)
        {
            if (!byService.TryGetValue(id.Service, out var target))
            {
                continue;
            }

            try
            {
                var release = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
                if (release is null || release.StageIndex < 0 || release.State.IsTerminal() || release.State is ReleaseState.RollingBack)
                {
                    continue;
                }

                if (await target.CheckForAbortAsync(id, cancellationToken).ConfigureAwait(false) is not { } alarm || IsHandled(alarm.DedupKey))
                {
                    continue;
                }

                LogAlarm(id.ToString(), alarm.Name, alarm.Reason);
                if (await report(alarm, cancellationToken).ConfigureAwait(false))
                {
                    Remember(alarm.DedupKey);
                    reported.Add(alarm);
                }
            }
            catch (Exception ex) when (ex is KubernetesApiException or HttpRequestException or StoreUnavailableException or IOException)
            {
                LogReadFailed(id.ToString(), ex.Message);
            }
        }

        return reported;
    }

    private bool IsHandled(string key)
    {
        lock (_handled)
        {
            return _handled.Contains(key);
        }
    }

    private void Remember(string key)
    {
        lock (_handled)
        {
            if (_handled.Add(key))
            {
                _handledOrder.Enqueue(key);
                while (_handledOrder.Count > RememberedAlarms)
                {
                    _handled.Remove(_handledOrder.Dequeue());
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Release}: {Alarm} — {Reason}")]
    private partial void LogAlarm(string release, string alarm, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the Rollout of {Release}: {Reason}")]
    private partial void LogReadFailed(string release, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rollout watch skipped: {Reason}")]
    private partial void LogStoreDown(string reason);
}
