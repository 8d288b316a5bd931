namespace ShipBot.Testing;

/// <summary>Configuration overrides for a ShipBot under test (keys with ':').</summary>
public static class ShipBotSettings
{
    /// <summary>Fast demo settings: staging bakes 1 s, each stage 2 s, validation 2 s, evaluation every second, outcome checkpoints at 1, 2 and 3 s.</summary>
    public static Dictionary<string, string?> Fast() => new()
    {
        ["ShipBot:EvaluationInterval"] = "00:00:01",
        ["ShipBot:Deployment:SimulatedLatency"] = "00:00:00.020",
        ["ShipBot:Services:demo:StagingBake"] = "00:00:01",
        ["ShipBot:Services:demo:Stages:0:Bake"] = "00:00:02",
        ["ShipBot:Services:demo:Stages:1:Bake"] = "00:00:02",
        ["ShipBot:Services:demo:Stages:2:Bake"] = "00:00:02",
        ["ShipBot:Services:demo:Stages:3:Bake"] = "00:00:01",
        ["ShipBot:Services:demo:ValidationWindow"] = "00:00:02",
        ["ShipBot:Services:demo:OutcomeCheckpoints:0"] = "00:00:01",
        ["ShipBot:Services:demo:OutcomeCheckpoints:1"] = "00:00:02",
        ["ShipBot:Services:demo:OutcomeCheckpoints:2"] = "00:00:03",
    };
}
