using System.Diagnostics.CodeAnalysis;

// The one ambient-clock read left in src/ outside the host: the duration of a deployment call that
// threw (for the audit line). It goes when the coordinator's leased worker moves to its own type
// and takes TimeProvider.GetTimestamp() like every other duration.
[assembly: SuppressMessage(
    "ApiDesign",
    "RS0030:Do not use banned APIs",
    Scope = "member",
    Target = "~M:ShipBot.Coordinator.ReleaseCoordinator.DoWorkUnderLeaseAsync(ShipBot.Core.Releases.Release,System.Threading.CancellationToken)~System.Threading.Tasks.Task",
    Justification = "Measures a failed deployment call's duration; replaced by TimeProvider timestamps in the coordinator split.")]
