using ShipBot.Core.Checklists;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;

namespace ShipBot.Core.Tests.Delivery;

/// <summary>Builds releases as the store keeps them (stage history, rollback, kind) at chosen instants.</summary>
internal static class DeliveryHistory
{
    /// <summary>2026-03-02 is a Monday.</summary>
    public static DateTimeOffset At(int day, int hour, int minute = 0) => new(2026, 3, day, hour, minute, 0, TimeSpan.Zero);

    public static Release Release(
        string service,
        string version,
        DateTimeOffset created,
        DateTimeOffset? production = null,
        DateTimeOffset? full = null,
        DateTimeOffset? rollback = null,
        ReleaseKind kind = ReleaseKind.Standard,
        string channel = "releases")
    {
        var plan = StagePlan.Default;
        var history = new List<StageRecord> { new("Staging", created.AddMinutes(10), production) };
        if (production is { } p)
        {
            history.Add(new StageRecord(plan.Stages[0].Label, p, full ?? rollback));
        }

        if (full is { } f)
        {
            history.Add(new StageRecord(plan.Stages[^1].Label, f, rollback));
        }

        var state = rollback is not null ? ReleaseState.RolledBack : full is not null ? ReleaseState.Operating : production is not null ? ReleaseState.Canary : ReleaseState.Staging;
        return new Release
        {
            Id = new ReleaseId(service, version),
            Kind = kind,
            HotfixReason = kind == ReleaseKind.Standard ? null : "fix",
            Requester = new Person("U1", "alice"),
            Conversation = new Conversation("console", channel),
            Contract = new ReleaseContract([], "notes", "redeploy", [], []),
            Plan = plan,
            Checklist = ChecklistCatalog.For(kind),
            State = state,
            StageIndex = production is null ? -1 : 0,
            History = history,
            Rollback = rollback is { } r ? new RollbackRecord("breach", "shipbot", plan.Stages[0].Label, [], r) : null,
            CreatedAt = created,
            UpdatedAt = created,
            Revision = 5,
        };
    }
}
