using System.Text.Json;
using System.Text.Json.Serialization;
using ShipBot.Deploy.Kubernetes;

namespace ShipBot.Deploy.ArgoRollouts;

// The parts of an Argo Rollouts Rollout (argoproj.io/v1alpha1) that ShipBot reads. Field names are
// the CRD's; everything else in the object is ignored.

public sealed record Rollout(ObjectMeta Metadata, RolloutSpec? Spec, RolloutStatus? Status)
{
    /// <summary>The desired replica count (the CRD's default is 1).</summary>
    [JsonIgnore]
    public int DesiredReplicas => Spec?.Replicas ?? 1;

    [JsonIgnore]
    public IReadOnlyList<CanaryStep> Steps => Spec?.Strategy?.Canary?.Steps ?? [];

    /// <summary>The controller has seen the current spec (Argo writes the generation as a string).</summary>
    [JsonIgnore]
    public bool Observed => Status?.ObservedGeneration == Metadata.Generation.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The new revision is the stable one: the rollout is complete (or was never updated).</summary>
    [JsonIgnore]
    public bool FullyPromoted => Status is { StableRS: { Length: > 0 } stable, CurrentPodHash: var current } && stable == current;

    [JsonIgnore]
    public string Phase => Status?.Phase ?? "Unknown";

    /// <summary>The weight the steps before the current one set (0 before the first setWeight; 100 when complete).</summary>
    [JsonIgnore]
    public int StepWeight
    {
        get
        {
            var index = Status?.CurrentStepIndex ?? 0;
            if (FullyPromoted || index >= Steps.Count && Steps.Count > 0)
            {
                return 100;
            }

            for (var i = Math.Min(index, Steps.Count) - 1; i >= 0; i--)
            {
                if (Steps[i].SetWeight is { } weight)
                {
                    return weight;
                }
            }

            return 0;
        }
    }
}

public sealed record RolloutSpec(int? Replicas, bool Paused, RolloutStrategy? Strategy, PodTemplate? Template, LabelSelector? Selector);

public sealed record LabelSelector(IReadOnlyDictionary<string, string>? MatchLabels);

public sealed record RolloutStrategy(CanaryStrategy? Canary, JsonElement? BlueGreen);

public sealed record CanaryStrategy(IReadOnlyList<CanaryStep>? Steps, JsonElement? TrafficRouting);

/// <summary>One canary step; only one of its fields is set.</summary>
public sealed record CanaryStep(int? SetWeight, JsonElement? Pause, JsonElement? Analysis, JsonElement? Experiment, JsonElement? SetCanaryScale)
{
    /// <summary>An indefinite pause (<c>pause: {}</c>): the Rollout holds there until promoted.</summary>
    [JsonIgnore]
    public bool IsIndefinitePause => Pause is { ValueKind: JsonValueKind.Object } p && !p.TryGetProperty("duration", out _);

    public override string ToString() =>
        SetWeight is { } w ? $"setWeight {w}"
        : Pause is not null ? IsIndefinitePause ? "pause" : "timed pause"
        : Analysis is not null ? "analysis"
        : Experiment is not null ? "experiment"
        : SetCanaryScale is not null ? "setCanaryScale"
        : "step";
}

public sealed record PodTemplate(JsonElement? Metadata, PodSpec? Spec);

public sealed record PodSpec(IReadOnlyList<Container>? Containers);

public sealed record Container(string Name, string? Image);

public sealed record RolloutStatus(
    bool Abort,
    DateTimeOffset? AbortedAt,
    IReadOnlyList<PauseCondition>? PauseConditions,
    bool ControllerPause,
    string? CurrentPodHash,
    int? CurrentStepIndex,
    int Replicas,
    int UpdatedReplicas,
    int ReadyReplicas,
    int AvailableReplicas,
    [property: JsonPropertyName("stableRS")] string? StableRS,
    string? ObservedGeneration,
    string? Phase,
    string? Message,
    IReadOnlyList<RolloutCondition>? Conditions,
    CanaryStatus? Canary,
    bool PromoteFull);

public sealed record PauseCondition(string Reason, DateTimeOffset? StartTime);

public sealed record RolloutCondition(string Type, string Status, string? Reason, string? Message, DateTimeOffset? LastTransitionTime, DateTimeOffset? LastUpdateTime);

public sealed record CanaryStatus(AnalysisRunSummary? CurrentStepAnalysisRunStatus, AnalysisRunSummary? CurrentBackgroundAnalysisRunStatus, TrafficWeights? Weights);

/// <summary>An AnalysisRun as the Rollout summarises it: name, phase (Pending, Running, Successful, Failed, Error, Inconclusive) and message.</summary>
public sealed record AnalysisRunSummary(string? Name, string? Status, string? Message)
{
    [JsonIgnore]
    public bool HasFailed => Status is "Failed" or "Error";
}

/// <summary>The traffic weights the router reports (set only when the Rollout uses trafficRouting).</summary>
public sealed record TrafficWeights(WeightDestination? Canary, WeightDestination? Stable, bool? Verified);

public sealed record WeightDestination(string? PodTemplateHash, string? ServiceName, int Weight);
