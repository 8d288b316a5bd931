using ShipBot.Core.Releases;

namespace ShipBot.Coordinator;

/// <summary>A Flagger canary (namespace/name) that ShipBot gates, and the service it belongs to.</summary>
/// <param name="Service">The ShipBot service.</param>
/// <param name="Namespace">The Canary's namespace.</param>
/// <param name="Canary">The Canary's name.</param>
/// <param name="Platform">The chat platform of the release card (slack, teams, console); null picks the first configured of slack, teams, console.</param>
public sealed record FlaggerCanary(string Service, string Namespace, string Canary, string? Platform = null);

/// <summary>The Flagger webhook types ShipBot answers as a gate.</summary>
public enum FlaggerGate
{
    /// <summary><c>confirm-rollout</c>: before the canary is scaled up.</summary>
    ConfirmRollout,

    /// <summary><c>confirm-traffic-increase</c>: before each weight increase.</summary>
    ConfirmTrafficIncrease,

    /// <summary><c>confirm-promotion</c>: before the canary is promoted.</summary>
    ConfirmPromotion,

    /// <summary><c>rollback</c>: 2xx makes Flagger roll the canary back.</summary>
    Rollback,
}

/// <summary>One call of a Flagger webhook, as Flagger sends it (name, namespace, phase, checksum, metadata).</summary>
public sealed record FlaggerHook(FlaggerGate Gate, string Name, string Namespace, string? Phase, string? Checksum, IReadOnlyDictionary<string, string> Metadata);

/// <summary>ShipBot's answer to a Flagger gate: allowed (HTTP 200) or not yet (HTTP 403 with the reason).</summary>
public sealed record FlaggerAnswer(bool Allowed, string Reason, ReleaseId? Release = null);

/// <summary>Flagger's words for its gates (the <c>{gate}</c> of <c>POST /hooks/flagger/{gate}</c>).</summary>
public static class FlaggerGates
{
    /// <summary>The gate named by Flagger's webhook type, e.g. <c>confirm-traffic-increase</c>; false for any other.</summary>
    public static bool TryParse(string? text, out FlaggerGate gate)
    {
        switch (text)
        {
            case "confirm-rollout":
                gate = FlaggerGate.ConfirmRollout;
                return true;
            case "confirm-traffic-increase":
                gate = FlaggerGate.ConfirmTrafficIncrease;
                return true;
            case "confirm-promotion":
                gate = FlaggerGate.ConfirmPromotion;
                return true;
            case "rollback":
                gate = FlaggerGate.Rollback;
                return true;
            default:
                gate = default;
                return false;
        }
    }

    /// <summary>Flagger's name of the gate.</summary>
    public static string Name(this FlaggerGate gate) => gate switch
    {
        FlaggerGate.ConfirmRollout => "confirm-rollout",
        FlaggerGate.ConfirmTrafficIncrease => "confirm-traffic-increase",
        FlaggerGate.ConfirmPromotion => "confirm-promotion",
        _ => "rollback",
    };
}
