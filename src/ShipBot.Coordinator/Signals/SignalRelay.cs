using Microsoft.Extensions.Logging;
using ShipBot.Core.Ports;

namespace ShipBot.Coordinator.Signals;

/// <summary>Passes a recorded or filled-in signal on to integrations (release records in git); an integration's outage never fails the command.</summary>
internal sealed partial class SignalRelay(Integrations integrations, ILogger log)
{
    public async Task NotifyAsync(Signal signal, CancellationToken ct)
    {
        foreach (var observer in integrations.SignalObservers)
        {
            try
            {
                await observer.OnSignalAsync(signal, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                LogObserverFailed(observer.GetType().Name, signal.Release ?? signal.Id, ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Release observer {Observer} failed for {Release}: {Reason}")]
    private partial void LogObserverFailed(string observer, string release, string reason);
}
