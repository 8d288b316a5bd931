namespace ShipBot.Deploy;

/// <summary>
/// A traffic router stopped a rollout on its own (Argo Rollouts aborted it, or it degraded):
/// ShipBot turns it into a rollback alert for the service's release.
/// </summary>
/// <param name="Service">The ShipBot service.</param>
/// <param name="Version">The release's version the router was rolling out.</param>
/// <param name="Name">What happened, as an alert name: <c>ArgoRolloutAborted</c>, <c>ArgoRolloutDegraded</c>.</param>
/// <param name="Reason">The router's own words: condition message, AnalysisRun message.</param>
/// <param name="Source">Which router object, e.g. "Argo Rollouts prod/checkout".</param>
/// <param name="At">When the router says it happened (or when ShipBot saw it).</param>
/// <param name="DedupKey">The same for every sighting of one abort: it acts once.</param>
public sealed record RouterAlarm(string Service, string Version, string Name, string Reason, string Source, DateTimeOffset At, string DedupKey);
