using System.Text.Json.Serialization;
using ShipBot.Core.Releases;

namespace ShipBot.Core.Plans;

/// <summary>The production stages, in the order a plan must use them.</summary>
public enum StageKind
{
    Canary,
    EarlyAdopters,
    GeneralAvailability,
    Full,
}

/// <summary>One production stage: its traffic share, how long it bakes and whether promotion out of it needs a human.</summary>
public sealed record Stage(StageKind Kind, int Percent, TimeSpan Bake, bool NeedsApproval = false)
{
    [JsonIgnore]
    public ReleaseState State => Kind switch
    {
        StageKind.Canary => ReleaseState.Canary,
        StageKind.EarlyAdopters => ReleaseState.EarlyAdopters,
        StageKind.GeneralAvailability => ReleaseState.GeneralAvailability,
        _ => ReleaseState.Full,
    };

    [JsonIgnore]
    public string Name => Kind switch
    {
        StageKind.Canary => "Canary",
        StageKind.EarlyAdopters => "Early adopters",
        StageKind.GeneralAvailability => "GA",
        _ => "Full",
    };

    [JsonIgnore]
    public string Label => $"{Name} {Percent} %";
}

/// <summary>Which rules a plan is validated against.</summary>
public enum ReleaseKind
{
    Standard,
    HotfixP0,
    HotfixP1,
}

/// <summary>
/// A release's progressive plan: staging (never skipped), then the production stages, then the
/// post-deployment validation window.
/// </summary>
public sealed record StagePlan(TimeSpan StagingBake, IReadOnlyList<Stage> Stages, TimeSpan ValidationWindow)
{
    /// <summary>The default plan: canary 5 % 30 min → early adopters 25 % 2 h → GA 50 % 4 h → full 100 %.</summary>
    public static StagePlan Default { get; } = new(
        TimeSpan.FromMinutes(10),
        [
            new Stage(StageKind.Canary, 5, TimeSpan.FromMinutes(30)),
            new Stage(StageKind.EarlyAdopters, 25, TimeSpan.FromHours(2)),
            new Stage(StageKind.GeneralAvailability, 50, TimeSpan.FromHours(4)),
            new Stage(StageKind.Full, 100, TimeSpan.FromMinutes(30)),
        ],
        TimeSpan.FromHours(1));

    /// <summary>
    /// The expedited (hotfix) plan derived from a service's plan: P0 keeps staging → canary → 100 %,
    /// P1 staging → canary → GA → 100 %; bake times are shortened to at most <paramref name="maxBake"/>
    /// and validation lasts 15 minutes (or the service's window if shorter, for demos).
    /// </summary>
    public static StagePlan Hotfix(StagePlan basePlan, ReleaseKind kind, TimeSpan maxBake)
    {
        ArgumentNullException.ThrowIfNull(basePlan);
        if (kind == ReleaseKind.Standard)
        {
            throw new ArgumentException("A hotfix plan needs a hotfix kind.", nameof(kind));
        }

        var keep = kind == ReleaseKind.HotfixP0
            ? new[] { StageKind.Canary, StageKind.Full }
            : [StageKind.Canary, StageKind.GeneralAvailability, StageKind.Full];
        var stages = new List<Stage>();
        foreach (var wanted in keep)
        {
            var source = basePlan.Stages.FirstOrDefault(s => s.Kind == wanted) ?? Default.Stages.First(s => s.Kind == wanted);
            stages.Add(source with { Bake = Min(source.Bake, maxBake), NeedsApproval = false });
        }

        return new StagePlan(
            Min(basePlan.StagingBake, maxBake),
            stages,
            Min(basePlan.ValidationWindow, TimeSpan.FromMinutes(15)));
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Checks the plan's rules; returns the problems, empty when the plan is valid.</summary>
    public IReadOnlyList<string> Validate(ReleaseKind kind)
    {
        var problems = new List<string>();
        if (Stages.Count == 0)
        {
            problems.Add("the plan has no production stages");
            return problems;
        }

        if (Stages[^1].Kind != StageKind.Full || Stages[^1].Percent != 100)
        {
            problems.Add("the last stage must be Full at 100 %");
        }

        for (var i = 0; i < Stages.Count; i++)
        {
            var stage = Stages[i];
            if (stage.Percent is <= 0 or > 100)
            {
                problems.Add($"{stage.Name} has {stage.Percent} %, which is not between 1 and 100");
            }

            if (stage.Bake < TimeSpan.Zero)
            {
                problems.Add($"{stage.Name} has a negative bake time");
            }

            if (i > 0 && (stage.Kind <= Stages[i - 1].Kind || stage.Percent <= Stages[i - 1].Percent))
            {
                problems.Add($"{stage.Name} must come after {Stages[i - 1].Name} with more traffic");
            }

            if (i < Stages.Count - 1 && stage.Percent >= 100)
            {
                problems.Add($"{stage.Name} reaches 100 % before the last stage");
            }
        }

        var partial = Stages.Count(s => s.Percent < 100);
        if (kind != ReleaseKind.HotfixP0 && partial < 2)
        {
            problems.Add($"a plan needs at least two partial stages before 100 % (no big-bang), this one has {partial}");
        }

        if (kind == ReleaseKind.HotfixP0 && partial < 1)
        {
            problems.Add("even a P0 hotfix goes through a canary before 100 %");
        }

        if (StagingBake < TimeSpan.Zero || ValidationWindow < TimeSpan.Zero)
        {
            problems.Add("staging bake and validation window cannot be negative");
        }

        return problems;
    }
}
