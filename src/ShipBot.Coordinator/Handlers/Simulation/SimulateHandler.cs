using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Commands;
using ShipBot.Core.Commands;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;

namespace ShipBot.Coordinator.Handlers.Simulation;

/// <summary><c>/ship simulate</c>: sets or resets the simulated health source's metrics (only when that source is configured).</summary>
internal sealed class SimulateHandler(ReleaseAccess access, IHealthSimulator? simulator)
{
    public Task<CommandReply> SimulateAsync(SimulateCommand c, CommandContext context, CancellationToken ct) => Task.FromResult(Simulate(c, context.Actor));

    private CommandReply Simulate(SimulateCommand c, Core.Settings.Actor actor)
    {
        if (simulator is null)
        {
            return CommandReply.Private("simulate is available only when the simulated health source is configured (ShipBot:Health:Source = Simulated).");
        }

        access.PolicyOf(c.Service);
        if (c.Value is null)
        {
            simulator.Reset(c.Service);
            return CommandReply.Public($"🧪 {actor.Mention} reset the simulated metrics of {c.Service}.");
        }

        if (c.Metric.StartsWith("outcome:", StringComparison.Ordinal))
        {
            // The simulated value of an outcome target, read as it is (before the rollout it is the baseline).
            simulator.Set(c.Service, c.Metric, c.Value.Value);
            return CommandReply.Public($"🧪 {actor.Mention} set the simulated outcome '{c.Metric["outcome:".Length..]}' of {c.Service} to {Core.Outcomes.OutcomeTarget.Number(c.Value.Value)}.");
        }

        if (!simulator.KnownMetrics.Contains(c.Metric))
        {
            return CommandReply.Private($"Unknown metric '{c.Metric}'. Known: {string.Join(", ", simulator.KnownMetrics)}.");
        }

        simulator.Set(c.Service, c.Metric, c.Value.Value);
        return CommandReply.Public($"🧪 {actor.Mention} set simulated {Metrics.Label(c.Metric)} of {c.Service} to {Metrics.Format(c.Metric, c.Value.Value)}.");
    }
}
