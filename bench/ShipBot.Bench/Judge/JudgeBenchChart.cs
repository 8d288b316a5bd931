namespace ShipBot.Bench.Judge;

/// <summary>The benchmark's chart: share of stages rolled back by each minute, healthy and 2× canaries.</summary>
public static class JudgeBenchChart
{
    public static void Write(string path, JudgeWorldSettings world, ScenarioResult healthy, ScenarioResult twice, IReadOnlyList<string> names)
    {
        // Filled in with the chart project (ScottPlot).
        _ = (path, world, healthy, twice, names);
    }
}
