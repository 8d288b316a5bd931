using System.Text.Json.Serialization;
using ShipBot.Core.Commands;
using ShipBot.Core.Health;
using ShipBot.Core.Releases;

namespace ShipBot.Core.Ports;

/// <summary>One line of a release's audit trail: who, what, when, evidence.</summary>
public sealed record AuditEntry(DateTimeOffset At, string Actor, string Action, string Detail);

/// <summary>A stop of the line: one service, or every service when <see cref="Service"/> is <see cref="Everything"/>.</summary>
public sealed record ServiceHalt(string Service, string Reason, string By, DateTimeOffset At)
{
    public const string Everything = "*";

    [JsonIgnore]
    public bool IsFreeze => Service == Everything;
}

/// <summary>A recorded feedback signal; an open one is still waiting to be filled in.</summary>
public sealed record Signal(string Id, SignalKind Kind, string? Release, string Text, string By, DateTimeOffset At, bool Open = false);

public enum CreateOutcome
{
    Created,

    /// <summary>The service already has an active release (its name is in <see cref="CreateResult.Existing"/>).</summary>
    ServiceBusy,

    /// <summary>A release with this exact name exists already.</summary>
    AlreadyExists,
}

public sealed record CreateResult(CreateOutcome Outcome, ReleaseId? Existing = null);

/// <summary>
/// Where releases live. Every write is atomic: the release, its audit entries, the service's
/// one-active-release lock and an optional halt change together or not at all, and a save is a
/// compare-and-set on <see cref="Release.Version"/>.
/// Implementations: the in-memory store (embedded default) and Redis; both pass one contract suite.
/// A store that cannot be reached throws <see cref="StoreUnavailableException"/>.
/// </summary>
public interface IReleaseStore
{
    Task<Release?> GetAsync(ReleaseId id, CancellationToken cancellationToken = default);

    /// <summary>Releases that are not terminal (including Operating ones), oldest first.</summary>
    Task<IReadOnlyList<Release>> ListActiveAsync(CancellationToken cancellationToken = default);

    /// <summary>The ids of releases that are not terminal (cheap: no release bodies are read).</summary>
    Task<IReadOnlyList<ReleaseId>> ListActiveIdsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The ids of one service's releases that are not terminal (its rolling-out release and older
    /// ones still operating), oldest first. Cheap at any scale: a per-service index kept in the same
    /// atomic write that changes the active set, so no other service's release is read.
    /// </summary>
    Task<IReadOnlyList<ReleaseId>> ListActiveIdsOfServiceAsync(string service, CancellationToken cancellationToken = default);

    /// <summary>
    /// Keeps the latest readings of a release whose verdict did not change, without a new revision:
    /// nothing is audited and <see cref="Release.Version"/> stays. Reads of the release then show
    /// them as <see cref="Release.LastHealth"/> while it is still at <paramref name="version"/> and
    /// they are newer than the stored verdict; the next save drops them. Returns every halt as it is
    /// at that instant (what the card of the release shows next, read in the same step), or null,
    /// changing nothing, when the release is gone or no longer at <paramref name="version"/>. Not
    /// replicated with <c>WAIT</c>: readings are re-taken on the next evaluation.
    /// </summary>
    Task<IReadOnlyList<ServiceHalt>?> SetLatestHealthAsync(ReleaseId id, long version, HealthVerdict verdict, CancellationToken cancellationToken = default);

    /// <summary>Every release of a service, newest first.</summary>
    Task<IReadOnlyList<Release>> ListByServiceAsync(string service, CancellationToken cancellationToken = default);

    /// <summary>Creates a release and takes its service's lock, unless another release holds it.</summary>
    Task<CreateResult> TryCreateAsync(Release release, IReadOnlyList<AuditEntry> audit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="next"/> if the stored version is still <paramref name="expectedVersion"/>;
    /// releases the service lock when the release no longer holds it; sets <paramref name="halt"/> in the same write,
    /// and keeps <paramref name="answer"/> (the answer to the request that caused the change) in it too, unless its
    /// request id already has a final answer. Returns false (and changes nothing) when someone else wrote first.
    /// </summary>
    Task<bool> TrySaveAsync(Release next, long expectedVersion, IReadOnlyList<AuditEntry> audit, ServiceHalt? halt = null, RequestAnswer? answer = null, CancellationToken cancellationToken = default);

    Task AppendAuditAsync(ReleaseId id, AuditEntry entry, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<AuditEntry>> GetAuditAsync(ReleaseId id, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ServiceHalt>> GetHaltsAsync(CancellationToken cancellationToken = default);

    /// <summary>Sets a halt; returns false when that scope was already halted (the existing halt stays).</summary>
    Task<bool> TrySetHaltAsync(ServiceHalt halt, CancellationToken cancellationToken = default);

    /// <summary>Lifts a halt; returns the halt that was lifted, or null when there was none.</summary>
    Task<ServiceHalt?> RemoveHaltAsync(string service, CancellationToken cancellationToken = default);

    Task AddSignalAsync(Signal signal, CancellationToken cancellationToken = default);

    /// <summary>Replaces an open signal with its filled-in version (same id).</summary>
    Task UpdateSignalAsync(Signal signal, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<Signal>> ListSignalsAsync(CancellationToken cancellationToken = default);
}

/// <summary>Remembers the first answer to each inbound request id, so a repeated delivery gets it again and changes nothing.</summary>
/// <summary>
/// The answer to a request id, kept by the same write as the transition it describes, so a duplicate of a
/// request whose change is saved always finds an answer. It is provisional: until the request's handling
/// ends, a later answer to the same request (<see cref="IIdempotencyStore.SetAsync"/>, or another save)
/// replaces it.
/// </summary>
public sealed record RequestAnswer(string RequestId, string Answer, TimeSpan Keep);

public interface IIdempotencyStore
{
    /// <summary>The stored answer, or null when there is none yet (unknown, or claimed and still being handled).</summary>
    Task<string?> GetAsync(string requestId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims a request id before handling it: true for the first claimant; false when the id is
    /// already claimed or answered (a duplicate delivery). A claim without an answer expires after
    /// <paramref name="ttl"/>, so a crash mid-request does not block the id forever.
    /// </summary>
    Task<bool> TryClaimAsync(string requestId, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Keeps the answer for <paramref name="ttl"/>; the first answer wins (a provisional <see cref="RequestAnswer"/> kept by a save is replaced).</summary>
    Task SetAsync(string requestId, string answer, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>
    /// A command's opening in one atomic step: <see cref="TryClaimAsync"/>, and, when the claim is taken, the
    /// release <paramref name="release"/> and every halt as they are at that instant (what
    /// <see cref="IReleaseStore.GetAsync"/> and <see cref="IReleaseStore.GetHaltsAsync"/> would answer), read by a
    /// store that keeps releases too. One round trip where a command named after its release took three. A
    /// store that keeps no releases only claims (<see cref="OpeningRead.Read"/> is false).
    /// </summary>
    Task<OpeningRead> TryClaimAndReadAsync(string requestId, TimeSpan ttl, ReleaseId release, CancellationToken cancellationToken = default);
}

/// <summary>
/// What <see cref="IIdempotencyStore.TryClaimAndReadAsync"/> found. <see cref="Claimed"/> false: a duplicate,
/// nothing was read. <see cref="Read"/> true: <see cref="Release"/> (null when there is no such release) and
/// <see cref="Halts"/> were read in the same step as the claim.
/// </summary>
public sealed record OpeningRead(bool Claimed, bool Read, Release? Release, IReadOnlyList<ServiceHalt> Halts)
{
    public static OpeningRead Duplicate { get; } = new(false, false, null, []);

    /// <summary>Claimed, nothing read.</summary>
    public static OpeningRead ClaimOnly { get; } = new(true, false, null, []);
}

/// <summary>
/// Short leases so that one replica of several does a piece of timed work (a deployment call, a
/// health evaluation) while the others skip it. A lease expires by itself after its time to live.
/// </summary>
public interface ILeaseStore
{
    /// <summary>True when this caller now holds <paramref name="key"/> for <paramref name="ttl"/>.</summary>
    Task<bool> TryAcquireAsync(string key, string owner, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Gives a lease back early, if <paramref name="owner"/> still holds it.</summary>
    Task ReleaseAsync(string key, string owner, CancellationToken cancellationToken = default);

    /// <summary>
    /// A periodic evaluation's opening in one atomic step, by a store that keeps releases too: the release
    /// <paramref name="release"/> as <see cref="IReleaseStore.GetAsync"/> reads it and, only when the stored release
    /// is under evaluation (<see cref="Release.IsUnderEvaluation"/>), the lease <paramref name="key"/> for
    /// <paramref name="owner"/> as <see cref="TryAcquireAsync"/> takes it. <see cref="EvaluationRead.Leased"/> is
    /// null when the lease was not tried (not under evaluation, or a release stored by a ShipBot that did not mark
    /// it): the caller then takes it itself if it needs it.
    /// </summary>
    Task<EvaluationRead> ReadForEvaluationAsync(ReleaseId release, string key, string owner, TimeSpan ttl, CancellationToken cancellationToken = default);
}

/// <summary>What <see cref="ILeaseStore.ReadForEvaluationAsync"/> found: the release (null: there is none) and the lease (null: not tried).</summary>
public sealed record EvaluationRead(Release? Release, bool? Leased);

/// <summary>The state store cannot be reached: nothing was changed.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Small state a chat adapter shares across restarts and replicas: which platform message a card
/// key became (Slack channel and ts, Teams activity id), conversation references for proactive
/// posts. Last write wins; entries expire after their time to live.
/// </summary>
public interface IChatStateStore
{
    Task<string?> GetAsync(string key, CancellationToken cancellationToken = default);

    Task SetAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken = default);
}
