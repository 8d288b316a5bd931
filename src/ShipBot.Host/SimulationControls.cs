using ShipBot.Core.Ports;
using ShipBot.Deploy.Simulated;
using ShipBot.Health.Simulated;

namespace ShipBot.Host;

/// <summary>
/// <c>/ship simulate</c>: health metrics go to the simulated health source; <c>smoke_fail</c> and
/// <c>deploy_fail</c> (1 = fail, 0 = pass) go to the simulated deployment target.
/// </summary>
public sealed class SimulationControls(SimulatedHealthSource health, SimulatedDeploymentTarget target) : IHealthSimulator
{
    public IReadOnlyCollection<string> KnownMetrics => [.. health.KnownMetrics, "smoke_fail", "deploy_fail"];

    public void Set(string service, string metric, double value)
    {
        switch (metric)
        {
            case "smoke_fail":
                target.FailSmokeChecks(service, value != 0);
                break;
            case "deploy_fail":
                target.FailDeployments(service, value != 0);
                break;
            default:
                health.Set(service, metric, value);
                break;
        }
    }

    public void Reset(string service)
    {
        health.Reset(service);
        target.Reset(service);
    }
}
