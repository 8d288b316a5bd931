using System.Runtime.CompilerServices;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Coordinator.Commands;

/// <summary>
/// What one command (or one health tick: only its halts) carries through every room it passes: the request it answers (so each save it causes keeps
/// that answer in the same write, one round trip less), the halts as it has read them (read once per command:
/// a resume checks them and its card shows the same read; read again after anything the command did to a halt),
/// and the release it names as read in the same step as its request id's claim (used until the command writes).
/// </summary>
internal static class RequestScope
{
    private static readonly AsyncLocal<AnswerSlot?> Answering = new();
    private static readonly AsyncLocal<StrongBox<IReadOnlyList<ServiceHalt>?>?> HaltsRead = new();
    private static readonly AsyncLocal<StrongBox<OpenedRelease?>?> Opened = new();

    /// <summary>A command (or a health tick) starts: no request to answer yet, no halts read, no release read.</summary>
    public static void Begin()
    {
        Answering.Value = null;
        HaltsRead.Value = new StrongBox<IReadOnlyList<ServiceHalt>?>(null);
        Opened.Value = new StrongBox<OpenedRelease?>(null);
    }

    /// <summary>The command's opening read (with its claim): the release it names, as it was then, and every halt.</summary>
    public static void RememberOpening(ReleaseId id, Release? release, IReadOnlyList<ServiceHalt> halts)
    {
        Opened.Value?.Value = new OpenedRelease(id, release);
        RememberHalts(halts);
    }

    /// <summary>
    /// The release <paramref name="id"/> as the command's opening read found it (null: there was none), until the
    /// command writes; false when there was no such read, or the command has written since.
    /// </summary>
    public static bool TryOpened(ReleaseId id, out Release? release)
    {
        if (Opened.Value?.Value is { } opened && opened.Id == id)
        {
            release = opened.Release;
            return true;
        }

        release = null;
        return false;
    }

    /// <summary>The command has written (or tried to): its next read of the release goes to the store.</summary>
    public static void ForgetOpening() => Opened.Value?.Value = null;

    /// <summary>The command now answers <paramref name="requestKey"/>, whose answer is kept for <paramref name="keep"/>.</summary>
    public static AnswerSlot Answer(string requestKey, TimeSpan keep, Func<ReleaseChange, string> answerOf) => Answering.Value = new AnswerSlot(requestKey, keep, answerOf);

    /// <summary>Work that outlives the command (a rollback started at once): it speaks for no request and reads halts afresh.</summary>
    public static void Leave()
    {
        Answering.Value = null;
        HaltsRead.Value = null;
        Opened.Value = null;
    }

    /// <summary>The request a save made now answers, or null outside a command (a timer, an alert) or once its answer is final.</summary>
    public static AnswerSlot? OpenAnswer => Answering.Value is { Closed: false } slot ? slot : null;

    /// <summary>The halts this command has read already, or null.</summary>
    public static IReadOnlyList<ServiceHalt>? Halts => HaltsRead.Value?.Value;

    public static void RememberHalts(IReadOnlyList<ServiceHalt> halts) => HaltsRead.Value?.Value = halts;

    /// <summary>The command is about to change a halt: the next look reads them again.</summary>
    public static void ForgetHalts() => HaltsRead.Value?.Value = null;
}

/// <summary>
/// The request a command is handling: its id, how long its answer is kept, and the answer the latest save kept
/// for it (the reply a one-step command gives, so its duplicate is answered without another write).
/// </summary>
internal sealed class AnswerSlot(string requestKey, TimeSpan keep, Func<ReleaseChange, string> answerOf)
{
    public string RequestKey { get; } = requestKey;

    public TimeSpan Keep { get; } = keep;

    /// <summary>The answer, as kept, that a command whose only step is <paramref name="answerOf"/>'s change gives.</summary>
    public RequestAnswer AnswerTo(ReleaseChange change) => new(RequestKey, answerOf(change), Keep);

    /// <summary>The answer the latest save kept, as stored (JSON).</summary>
    public string? Kept { get; set; }

    /// <summary>Set when the command's final answer is decided: saves from effects still running no longer speak for it.</summary>
    public bool Closed { get; set; }
}

/// <summary>A release as a command's opening read found it (<see cref="Release"/> null: not there).</summary>
internal sealed record OpenedRelease(ReleaseId Id, Release? Release);
