namespace ShipBot.Scheduling.Tests;

/// <summary>Real-timer tests run one class at a time, so their timings are not squeezed by each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QuartzCollection
{
    public const string Name = "Quartz";
}
