using System.Text.Json.Serialization;
namespace ShipBot.Core.Checklists;

public enum ChecklistItemState
{
    Pending,
    Confirmed,
    Verified,
    Waived,
    Failed,
}

public enum ChecklistGroup
{
    PreDeployment,
    Environment,
    Database,
    Errors,
    Monitoring,
    Deployment,
    Security,
    Validation,
}

/// <summary>Who or what may settle an item.</summary>
public enum ItemSettledBy
{
    /// <summary>A person confirms it (the requester or an approver).</summary>
    Human,

    /// <summary>ShipBot ticks it itself (the approval, notifying on-call).</summary>
    ShipBot,
}

/// <summary>
/// One checklist item. <see cref="Id"/> is short and stable (what people type in
/// <c>/ship check demo@1.0.0 https</c>); <see cref="Floor"/> items belong to the minimum viable
/// production floor and can never be waived.
/// </summary>
public sealed record ChecklistItem(
    string Id,
    ChecklistGroup Group,
    string Label,
    bool Floor,
    ItemSettledBy SettledBy,
    ChecklistItemState State = ChecklistItemState.Pending,
    string? By = null,
    string? Detail = null,
    DateTimeOffset? At = null)
{
    /// <summary>
    /// A mandatory item outside the floor: it cannot be waived on this release either (the security
    /// items of a hotfix). Default false.
    /// </summary>
    public bool Mandatory { get; init; }

    /// <summary>Whether the item no longer blocks the release.</summary>
    [JsonIgnore]
    public bool IsDone => State is ChecklistItemState.Confirmed or ChecklistItemState.Verified or ChecklistItemState.Waived;
}
