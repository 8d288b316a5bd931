using ShipBot.Coordinator.Commands;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Coordinator.Access;

/// <summary>Finds releases by the names people type, a service's active release, its halt, and whether a release still owes a signal.</summary>
internal sealed class ReleaseLookup(IReleaseStore store, ReleaseAccess access)
{
    /// <summary>"demo@1.0.0", or a bare service name meaning its one active release; unknown or ambiguous names list the candidates.</summary>
    public async Task<Release> ResolveAsync(string name, CancellationToken ct)
    {
        if (ReleaseId.TryParse(name, out var id))
        {
            var found = RequestScope.TryOpened(id.Value, out var opened) ? opened : await store.GetAsync(id.Value, ct).ConfigureAwait(false);
            if (found is not null)
            {
                return found;
            }

            var known = await store.ListByServiceAsync(id.Value.Service, ct).ConfigureAwait(false);
            if (known.Count == 0 && !access.Services.ContainsKey(id.Value.Service))
            {
                throw new ReleaseRuleException($"There is no release {id}: unknown service '{id.Value.Service}'. Configured services: {string.Join(", ", access.Services.Keys)}.") { Kind = RefusalKind.NotFound };
            }

            throw new ReleaseRuleException($"There is no release {id}." + (known.Count > 0 ? $" Releases of {id.Value.Service}: {string.Join(", ", known.Take(10).Select(r => r.Id))}." : string.Empty)) { Kind = RefusalKind.NotFound };
        }

        var service = name.ToLowerInvariant();
        var releases = await store.ListByServiceAsync(service, ct).ConfigureAwait(false);
        var active = releases.Where(r => !r.State.IsTerminal()).ToList();
        if (active.Count == 1)
        {
            return active[0];
        }

        if (active.Count > 1)
        {
            // Never a guess, but say which one is rolling out: on a bad day that is usually the one meant.
            var rollout = ActiveRelease.Of(active)!;
            throw new ReleaseRuleException(
                $"'{name}' is ambiguous: {string.Join(", ", active.Select(r => $"{r.Id} ({(r.Id == rollout.Id ? "the active release, " : string.Empty)}{ReleaseSituation.Describe(r)})"))}. Name the release as service@version, for example {rollout.Id}.");
        }

        if (releases.Count > 0)
        {
            throw new ReleaseRuleException($"{service} has no active release. Recent: {string.Join(", ", releases.Take(5).Select(r => r.Id))}.");
        }

        if (access.Services.ContainsKey(service))
        {
            throw new ReleaseRuleException($"{service} has no release yet. Start one with `/ship start {service} <version>`.");
        }

        var all = await store.ListActiveIdsAsync(ct).ConfigureAwait(false);
        throw new ReleaseRuleException(
            $"'{name}' is not a release (service@version) nor a configured service. Configured services: {string.Join(", ", access.Services.Keys)}. " +
            $"Active: {(all.Count == 0 ? "none" : string.Join(", ", all.Take(20)))}.");
    }

    /// <summary>The service's active release (<see cref="ActiveRelease"/>), read from the service's own active index.</summary>
    public async Task<Release?> ActiveReleaseOfAsync(string service, CancellationToken ct)
    {
        var releases = new List<Release>();
        foreach (var id in await store.ListActiveIdsOfServiceAsync(service, ct).ConfigureAwait(false))
        {
            if (await store.GetAsync(id, ct).ConfigureAwait(false) is { } release)
            {
                releases.Add(release);
            }
        }

        return ActiveRelease.Of(releases);
    }

    /// <summary>The halt of <paramref name="service"/>, or the change freeze of every service, or null.</summary>
    public async Task<ServiceHalt?> HaltOfAsync(string service, CancellationToken ct)
    {
        var halts = RequestScope.Halts ?? await store.GetHaltsAsync(ct).ConfigureAwait(false);
        RequestScope.RememberHalts(halts);
        return halts.FirstOrDefault(h => h.Service == service) ?? halts.FirstOrDefault(h => h.IsFreeze);
    }

    public async Task<bool> HasOpenSignalAsync(ReleaseId id, CancellationToken ct) =>
        (await store.ListSignalsAsync(ct).ConfigureAwait(false)).Any(s => s.Open && s.Release == id.ToString());
}
