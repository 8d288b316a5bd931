using System.Text.Json.Serialization;

namespace ShipBot.Core.Cards;

public enum CardTone
{
    Neutral,
    Info,
    Success,
    Warning,
    Danger,
}

public enum ActionStyle
{
    Default,
    Primary,
    Danger,
}

/// <summary>
/// A button. <see cref="Value"/> is the <c>/ship</c> command it runs (without the prefix), so one
/// parser serves typed commands and clicks on every platform; <see cref="Input"/>, when set, is
/// the prompt for text appended to the command (a reason); <see cref="Confirm"/> asks first.
/// </summary>
public sealed record CardAction(string Id, string Label, string Value, ActionStyle Style = ActionStyle.Default, string? Confirm = null, string? Input = null)
{
    /// <summary>
    /// What the button was rendered for (<see cref="Releases.ClickBasis.Token"/>); every platform sends it
    /// back with the click, which then acts only while it still holds. Null for buttons that are
    /// not about one release's state (unhalt, record a signal): those act like typed commands.
    /// </summary>
    public string? Basis { get; init; }
}

public sealed record CardFact(string Label, string Value);

public enum StageStatus
{
    Pending,
    Current,
    Done,
    Failed,
    Skipped,
}

public sealed record StageProgress(string Name, StageStatus Status, string? Detail);

public sealed record ChecklistRow(string Id, string Label, string State, string? Detail, bool Floor, IReadOnlyList<CardAction> Actions)
{
    /// <summary>A mandatory item outside the floor (a hotfix's security items): not waivable either.</summary>
    public bool Mandatory { get; init; }
}

public sealed record ChecklistSection(string Title, IReadOnlyList<ChecklistRow> Items);

[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(TextBlock), "text")]
[JsonDerivedType(typeof(FactsBlock), "facts")]
[JsonDerivedType(typeof(ProgressBlock), "progress")]
[JsonDerivedType(typeof(ChecklistBlock), "checklist")]
[JsonDerivedType(typeof(ActionsBlock), "actions")]
[JsonDerivedType(typeof(ContextBlock), "context")]
[JsonDerivedType(typeof(ImageBlock), "image")]
public abstract record CardBlock;

/// <summary>Text with light markup: **bold** and `code`; @name mentions.</summary>
public sealed record TextBlock(string Text, bool Emphasis = false) : CardBlock;

public sealed record FactsBlock(IReadOnlyList<CardFact> Facts) : CardBlock;

public sealed record ProgressBlock(IReadOnlyList<StageProgress> Stages) : CardBlock;

public sealed record ChecklistBlock(IReadOnlyList<ChecklistSection> Groups) : CardBlock;

public sealed record ActionsBlock(IReadOnlyList<CardAction> Actions) : CardBlock;

public sealed record ContextBlock(string Text) : CardBlock;

/// <summary>
/// An image (a chart) at <paramref name="Url"/>, with <paramref name="AltText"/> saying what it shows
/// for screen readers and clients that cannot show it. A relative URL is served by ShipBot itself
/// (the console shows it); Slack and Teams fetch only absolute http(s) URLs, so they show the alt
/// text instead of a relative one.
/// </summary>
public sealed record ImageBlock(string Url, string AltText) : CardBlock
{
    /// <summary>Whether <see cref="Url"/> is an absolute http(s) URL that a chat service can fetch.</summary>
    public bool IsAbsolute => Uri.TryCreate(Url, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http";
}

/// <summary>
/// A platform-neutral card. Platform adapters render it (Block Kit, Adaptive Cards, HTML) and do
/// nothing else with it. <see cref="Mentions"/> are user ids or <c>group:</c> entries to notify;
/// <see cref="Fallback"/> is the plain text for notifications.
/// </summary>
public sealed record Card(string Title, string? Subtitle, CardTone Tone, IReadOnlyList<CardBlock> Blocks, IReadOnlyList<string> Mentions, string Fallback);
