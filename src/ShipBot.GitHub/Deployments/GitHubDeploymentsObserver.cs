using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.GitHub.Rest;

namespace ShipBot.GitHub.Deployments;

/// <summary>A service linked to a GitHub repository, with the client for it.</summary>
public sealed record GitHubDeploymentLink(string Service, ServiceGitHubOptions Repository, GitHubRestClient Client)
{
    public string Owner => Repository.Owner!;

    public string Repo => Repository.Repo!;
}

/// <summary>Which GitHub deployment belongs to a release in an environment, and the status last posted to it (stored format).</summary>
public sealed record DeploymentRecord(long DeploymentId, string? State, string? Description);

/// <summary>The deployment that is live in an environment, and the one it replaced (stored format).</summary>
public sealed record CurrentDeployment(string Release, long DeploymentId, string? PreviousRelease, long? PreviousDeploymentId);

/// <summary>
/// Mirrors releases into GitHub Deployments for services linked to a repository: a deployment per
/// environment (staging, production), created when the release gets there, with statuses as it
/// moves (<see cref="DeploymentStatusPlan"/>) linking back to the release
/// (<c>log_url</c> = <c>{PublicUrl}/api/releases/{service}@{version}</c>). When a deployment
/// succeeds, the one it replaced in that environment becomes <c>inactive</c>; when a release that
/// replaced another is rolled back, the replaced one is marked <c>success</c> again.
/// <para>
/// It never holds up a release: a transition is only queued, and a background loop brings GitHub
/// up to date from the release's state, retrying transient failures (outages, rate limits) with
/// backoff on the injected clock; a newer snapshot of the same release supersedes an older one
/// that keeps failing. Idempotent: the deployment id of each release and environment, and the
/// status last posted to it, are kept in <see cref="IChatStateStore"/>; a lost record is found
/// again through the deployment's payload (<c>release</c>) and its latest status, so a repeat
/// creates no second deployment and posts no status twice in a row. The queue lives in this process: after a restart, the next
/// transition (or <see cref="Enqueue"/> at recovery) brings GitHub up to date.
/// </para>
/// </summary>
public sealed partial class GitHubDeploymentsObserver : IReleaseObserver, IAsyncDisposable
{
    /// <summary>The task of every deployment ShipBot creates.</summary>
    public const string DeploymentTask = "deploy";

    private static readonly TimeSpan RecordTtl = TimeSpan.FromDays(400);
    private static readonly DeploymentEnvironment[] Environments = [DeploymentEnvironment.Staging, DeploymentEnvironment.Production];

    private readonly IReadOnlyDictionary<string, GitHubDeploymentLink> _links;
    private readonly IChatStateStore _state;
    private readonly GitHubDeploymentsOptions _options;
    private readonly Uri? _publicUrl;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Release> _queue = Channel.CreateUnbounded<Release>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<ReleaseId, long> _newest = new();
    private readonly SemaphoreSlim _reconciling = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private Task? _worker;
    private int _pending;
    private int _disposed;

    /// <param name="publicUrl">ShipBot's public base URL for <c>log_url</c>; null: statuses carry no link.</param>
    public GitHubDeploymentsObserver(
        IEnumerable<GitHubDeploymentLink> links,
        IChatStateStore state,
        GitHubDeploymentsOptions options,
        Uri? publicUrl,
        TimeProvider time,
        ILogger<GitHubDeploymentsObserver> logger)
    {
        ArgumentNullException.ThrowIfNull(links);
        _links = links.ToDictionary(l => l.Service.ToLowerInvariant(), StringComparer.OrdinalIgnoreCase);
        _state = state;
        _options = options;
        _publicUrl = publicUrl is null ? null : new Uri(publicUrl.ToString().TrimEnd('/') + "/");
        _time = time;
        _logger = logger;
    }

    /// <summary>Snapshots queued and not yet brought to GitHub.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>The link to the release that statuses carry, or null without a public URL.</summary>
    public string? LogUrlFor(ReleaseId release) => _publicUrl is null ? null : new Uri(_publicUrl, $"api/releases/{release}").ToString();

    /// <summary>Queues the release when what GitHub shows for it changes; returns at once.</summary>
    public Task OnTransitionAsync(Release previous, Release next, IReadOnlyList<ReleaseEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (!_links.ContainsKey(next.Id.Service))
        {
            return Task.CompletedTask;
        }

        if (previous is not null && previous.Id == next.Id
            && DeploymentStatusPlan.For(previous, DeploymentEnvironment.Staging) == DeploymentStatusPlan.For(next, DeploymentEnvironment.Staging)
            && DeploymentStatusPlan.For(previous, DeploymentEnvironment.Production) == DeploymentStatusPlan.For(next, DeploymentEnvironment.Production))
        {
            return Task.CompletedTask;
        }

        Enqueue(next);
        return Task.CompletedTask;
    }

    /// <summary>Queues a release to be brought up to date on GitHub (also for recovery after a restart).</summary>
    public void Enqueue(Release release)
    {
        ArgumentNullException.ThrowIfNull(release);
        if (!_links.ContainsKey(release.Id.Service))
        {
            return;
        }

        _newest.AddOrUpdate(release.Id, release.Revision, (_, v) => Math.Max(v, release.Revision));
        Interlocked.Increment(ref _pending);
        _queue.Writer.TryWrite(release);
        lock (_gate)
        {
            _worker ??= Task.Run(() => RunAsync(_stop.Token));
        }
    }

    /// <summary>Brings GitHub up to date with this snapshot now (creates missing deployments, posts changed statuses); throws on failure.</summary>
    public async Task ReconcileAsync(Release release, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(release);
        if (!_links.TryGetValue(release.Id.Service, out var link))
        {
            return;
        }

        await _reconciling.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var environment in Environments)
            {
                if (DeploymentStatusPlan.For(release, environment) is not { } desired)
                {
                    continue;
                }

                var name = environment == DeploymentEnvironment.Staging ? link.Repository.StagingEnvironment : link.Repository.ProductionEnvironment;
                var key = RecordKey(link, release.Id, name);
                var record = await LoadAsync(key, DeploymentJson.Default.DeploymentRecord, cancellationToken).ConfigureAwait(false);
                if (record is null)
                {
                    record = await FindOrCreateAsync(link, release.Id, name, environment, cancellationToken).ConfigureAwait(false);
                    await SaveAsync(key, record, DeploymentJson.Default.DeploymentRecord, cancellationToken).ConfigureAwait(false);
                }

                if (record.State != desired.State || record.Description != desired.Description)
                {
                    await PostStatusAsync(link, record.DeploymentId, desired, release.Id, cancellationToken).ConfigureAwait(false);
                    record = record with { State = desired.State, Description = desired.Description };
                    await SaveAsync(key, record, DeploymentJson.Default.DeploymentRecord, cancellationToken).ConfigureAwait(false);
                }

                if (desired.State == "success")
                {
                    await ReplaceCurrentAsync(link, name, release.Id, record.DeploymentId, cancellationToken).ConfigureAwait(false);
                }
                else if (environment == DeploymentEnvironment.Production && release.State == ReleaseState.RolledBack)
                {
                    await RestorePreviousAsync(link, name, release.Id, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _reconciling.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        Task? worker;
        lock (_gate)
        {
            worker = _worker;
        }

        if (worker is not null)
        {
            await worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stop.Dispose();
        _reconciling.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        try
        {
            await foreach (var release in _queue.Reader.ReadAllAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await ProcessAsync(release, stop).ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Decrement(ref _pending);
                    if (release.State.IsTerminal())
                    {
                        _newest.TryRemove(new KeyValuePair<ReleaseId, long>(release.Id, release.Revision));
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Shutting down: what is still queued is made good by the next transition after a restart.
        }
    }

    private async Task ProcessAsync(Release release, CancellationToken stop)
    {
        var delay = _options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            if (attempt > 1 && _newest.TryGetValue(release.Id, out var newest) && newest > release.Revision)
            {
                // A newer snapshot is queued; it brings GitHub up to date on its own.
                return;
            }

            try
            {
                await ReconcileAsync(release, stop).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsTransient(ex, stop))
            {
                if (attempt >= _options.MaxAttempts)
                {
                    LogGaveUp(release.Id.ToString(), attempt, ex.Message);
                    return;
                }

                LogRetrying(release.Id.ToString(), ex.Message, delay.TotalSeconds);
                await Task.Delay(delay, _time, stop).ConfigureAwait(false);
                delay = delay * 2 > _options.MaxRetryDelay ? _options.MaxRetryDelay : delay * 2;
            }
            catch (GitHubApiException ex)
            {
                // A refusal (permissions, an unknown ref) does not get better by repeating it.
                LogRefused(release.Id.ToString(), ex.Message);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The loop outlives any surprise; the next transition tries again.
                LogRefused(release.Id.ToString(), $"{ex.GetType().Name}: {ex.Message}");
                return;
            }
        }
    }

    /// <summary>The release's deployment in an environment: found through its payload (a lost record), else created.</summary>
    private async Task<DeploymentRecord> FindOrCreateAsync(GitHubDeploymentLink link, ReleaseId release, string environment, DeploymentEnvironment kind, CancellationToken ct)
    {
        var gitRef = link.Repository.RefFor(release.Service, release.Version);
        var existing = await link.Client.ListDeploymentsAsync(link.Owner, link.Repo, environment, gitRef, DeploymentTask, ct).ConfigureAwait(false);
        if (existing.FirstOrDefault(d => ReleaseOf(d.Payload) == release.ToString()) is { } found)
        {
            // Its last status too, so the same status is not posted twice in a row.
            var latest = (await link.Client.ListDeploymentStatusesAsync(link.Owner, link.Repo, found.Id, 1, ct).ConfigureAwait(false)).FirstOrDefault();
            return new DeploymentRecord(found.Id, latest?.State, latest?.Description);
        }

        var created = await link.Client.CreateDeploymentAsync(link.Owner, link.Repo, new CreateDeploymentRequest(
            gitRef,
            DeploymentTask,
            AutoMerge: false,
            RequiredContexts: [], // ShipBot's own gates decide; commit statuses must not block the record of what happened
            new DeploymentPayload(release.ToString(), release.Service, release.Version),
            environment,
            $"{release} through ShipBot",
            ProductionEnvironment: kind == DeploymentEnvironment.Production,
            TransientEnvironment: false), ct).ConfigureAwait(false);
        LogCreated(release.ToString(), environment, created.Id, $"{link.Owner}/{link.Repo}");
        return new DeploymentRecord(created.Id, null, null);
    }

    private async Task ReplaceCurrentAsync(GitHubDeploymentLink link, string environment, ReleaseId release, long deploymentId, CancellationToken ct)
    {
        var key = CurrentKey(link, environment);
        var current = await LoadAsync(key, DeploymentJson.Default.CurrentDeployment, ct).ConfigureAwait(false);

        // GitHub's deployment ids grow: an older release (still reporting its outcomes) never displaces a newer one.
        if (current is not null && (current.Release == release.ToString() || current.DeploymentId > deploymentId))
        {
            return;
        }

        if (current is not null)
        {
            await PostStatusAsync(link, current.DeploymentId, DesiredStatus.Of("inactive", $"Replaced by {release}"), null, ct).ConfigureAwait(false);
        }

        await SaveAsync(key, new CurrentDeployment(release.ToString(), deploymentId, current?.Release, current?.DeploymentId), DeploymentJson.Default.CurrentDeployment, ct).ConfigureAwait(false);
    }

    private async Task RestorePreviousAsync(GitHubDeploymentLink link, string environment, ReleaseId release, CancellationToken ct)
    {
        var key = CurrentKey(link, environment);
        var current = await LoadAsync(key, DeploymentJson.Default.CurrentDeployment, ct).ConfigureAwait(false);
        if (current is null || current.Release != release.ToString() || current.PreviousRelease is null || current.PreviousDeploymentId is not { } previous)
        {
            return;
        }

        await PostStatusAsync(link, previous, DesiredStatus.Of("success", $"Live again: {release} was rolled back"), null, ct).ConfigureAwait(false);
        await SaveAsync(key, new CurrentDeployment(current.PreviousRelease, previous, null, null), DeploymentJson.Default.CurrentDeployment, ct).ConfigureAwait(false);
    }

    private async Task PostStatusAsync(GitHubDeploymentLink link, long deploymentId, DesiredStatus status, ReleaseId? release, CancellationToken ct)
    {
        var logUrl = release is { } id ? LogUrlFor(id) : null;
        await link.Client.CreateDeploymentStatusAsync(link.Owner, link.Repo, deploymentId, new CreateDeploymentStatusRequest(status.State, status.Description, logUrl, AutoInactive: false), ct).ConfigureAwait(false);
        LogStatus(deploymentId, status.State, status.Description);
    }

    private async Task<T?> LoadAsync<T>(string key, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct)
        where T : class
    {
        var text = await _state.GetAsync(key, ct).ConfigureAwait(false);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(text, type);
        }
        catch (JsonException)
        {
            // An unreadable record is treated as missing: the deployment is found again through GitHub.
            return null;
        }
    }

    private Task SaveAsync<T>(string key, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct) =>
        _state.SetAsync(key, JsonSerializer.Serialize(value, type), RecordTtl, ct);

    private static string RecordKey(GitHubDeploymentLink link, ReleaseId release, string environment) =>
        $"github:deployment:{link.Owner}/{link.Repo}:{environment}:{release}".ToLowerInvariant();

    private static string CurrentKey(GitHubDeploymentLink link, string environment) =>
        $"github:deployment-current:{link.Owner}/{link.Repo}:{environment}:{link.Service}".ToLowerInvariant();

    private static string? ReleaseOf(JsonElement payload)
    {
        if (payload.ValueKind == JsonValueKind.String)
        {
            try
            {
                using var parsed = JsonDocument.Parse(payload.GetString() ?? string.Empty);
                return ReleaseOf(parsed.RootElement);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        return payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty("release", out var release) && release.ValueKind == JsonValueKind.String
            ? release.GetString()
            : null;
    }

    private static bool IsTransient(Exception ex, CancellationToken stop) =>
        ex is HttpRequestException or StoreUnavailableException
        || (ex is GitHubApiException { IsTransient: true })
        || (ex is TaskCanceledException && !stop.IsCancellationRequested);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Release}: GitHub deployment {DeploymentId} created in {Environment} of {Repository}")]
    private partial void LogCreated(string release, string environment, long deploymentId, string repository);

    [LoggerMessage(Level = LogLevel.Debug, Message = "GitHub deployment {DeploymentId}: {State} ({Description})")]
    private partial void LogStatus(long deploymentId, string state, string description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Release}: GitHub Deployments not updated ({Reason}); trying again in {Seconds:0} s")]
    private partial void LogRetrying(string release, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Release}: GitHub Deployments still not updated after {Attempts} attempts ({Reason}); the next transition tries again")]
    private partial void LogGaveUp(string release, int attempts, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Release}: GitHub refused a Deployments update: {Reason}")]
    private partial void LogRefused(string release, string reason);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DeploymentRecord))]
[JsonSerializable(typeof(CurrentDeployment))]
internal sealed partial class DeploymentJson : JsonSerializerContext;
