using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.GitHub.Rest;

namespace ShipBot.GitHub.Actions;

/// <summary>
/// Changes traffic by running a GitHub Actions workflow: each stage change dispatches the
/// configured workflow (<c>workflow_dispatch</c>) with the inputs <c>service</c>, <c>version</c>,
/// <c>environment</c>, <c>percent</c>, <c>release</c>, <c>rollback</c> and <c>dispatch_id</c>,
/// finds the run it started, follows it to completion and answers with the run's URL. Only a run
/// that concludes <c>success</c> is a successful deployment; failure, cancellation, a timeout and
/// every other conclusion are failed deployments.
/// <para>
/// Finding the run: GitHub answers the dispatch with the run's id (<c>return_run_details</c>).
/// Where it does not (older GitHub Enterprise Server), ShipBot lists the workflow's
/// <c>workflow_dispatch</c> runs created since the dispatch and takes the one whose name contains
/// the dispatch id, which the workflow puts in its <c>run-name</c>.
/// </para>
/// <para>
/// Idempotent per <see cref="DeploymentRequest.IdempotencyKey"/>: the dispatch id is derived from
/// the key; the run it started is remembered (<see cref="IChatStateStore"/>), and before dispatching
/// ShipBot looks for a run of the last day with that dispatch id, so a repeated call (a retry, a
/// restart, another replica) follows the same run instead of starting a second one.
/// </para>
/// </summary>
public sealed partial class GitHubActionsDeploymentTarget : IDeploymentTarget
{
    /// <summary>The workflow input that carries the dispatch id (put it in the workflow's <c>run-name</c>).</summary>
    public const string DispatchIdInput = "dispatch_id";

    /// <summary>How far back a run with the same dispatch id is looked for before dispatching.</summary>
    public static readonly TimeSpan LookBack = TimeSpan.FromDays(1);

    // Runs are stamped by GitHub's clock, dispatches by ours: look a little earlier than the dispatch.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan StateTtl = TimeSpan.FromDays(7);
    private const int MaxDispatchAttempts = 3;

    private readonly GitHubRestClient _github;
    private readonly string _owner;
    private readonly string _repo;
    private readonly GitHubActionsTargetOptions _options;
    private readonly IChatStateStore? _state;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Lazy<Task<DeploymentResult>>> _inFlight = new(StringComparer.Ordinal);

    /// <param name="state">Where dispatched runs are remembered across restarts and replicas (Redis in production); null: in this process only.</param>
    public GitHubActionsDeploymentTarget(GitHubRestClient github, string owner, string repo, GitHubActionsTargetOptions options, IChatStateStore? state, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Workflow);
        _github = github;
        _owner = owner;
        _repo = repo;
        _options = options;
        _state = state;
        _time = time;
        _logger = logger;
    }

    public string Name => "github-actions";

    /// <summary>The workflow input values for a request.</summary>
    public static IReadOnlyDictionary<string, string> InputsFor(DeploymentRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["service"] = request.Release.Service,
            ["version"] = request.Release.Version,
            ["environment"] = request.Intent.Environment.Name(),
            ["percent"] = request.Intent.Percent.ToString(CultureInfo.InvariantCulture),
            ["release"] = request.Release.ToString(),
            ["rollback"] = request.Intent.IsRollback ? "true" : "false",
            [DispatchIdInput] = DispatchIdFor(request.IdempotencyKey),
        };
    }

    /// <summary>The dispatch id of an idempotency key: short, stable, unique enough to find one run by its name.</summary>
    public static string DispatchIdFor(string idempotencyKey) =>
        "sb-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))[..20];

    public async Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);

        // Two calls with one key at once (a retry racing the first call) share one run.
        var call = _inFlight.GetOrAdd(request.IdempotencyKey, _ => new Lazy<Task<DeploymentResult>>(() => DeployAsync(request, cancellationToken)));
        try
        {
            return await call.Value.ConfigureAwait(false);
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<DeploymentResult>>>(request.IdempotencyKey, call));
        }
    }

    /// <summary>The workflow run is the deployment: it has no smoke checks of its own (configure <c>SmokeChecks:Urls</c> for HTTP checks).</summary>
    public Task<DeploymentResult> RunSmokeChecksAsync(ReleaseId release, DeploymentEnvironment environment, CancellationToken cancellationToken = default) =>
        Task.FromResult(new DeploymentResult(true, "no smoke checks of its own: the workflow run was the check (configure SmokeChecks:Urls for HTTP checks)", TimeSpan.Zero));

    private async Task<DeploymentResult> DeployAsync(DeploymentRequest request, CancellationToken ct)
    {
        var started = _time.GetTimestamp();
        var dispatchId = DispatchIdFor(request.IdempotencyKey);
        try
        {
            var run = await LoadRunAsync(dispatchId, ct).ConfigureAwait(false)
                ?? await FindRunAsync(dispatchId, _time.GetUtcNow() - LookBack, ct).ConfigureAwait(false);
            if (run is not null)
            {
                LogFollowingEarlierRun(request.Release.ToString(), run.Id, dispatchId);
            }
            else
            {
                (run, var problem) = await DispatchAsync(request, dispatchId, ct).ConfigureAwait(false);
                if (run is null)
                {
                    return new DeploymentResult(false, problem!, _time.GetElapsedTime(started));
                }

                LogDispatched(request.Release.ToString(), request.Intent.Describe(), run.Id, run.Url);
            }

            await SaveRunAsync(dispatchId, run, ct).ConfigureAwait(false);
            return await FollowAsync(run, started, ct).ConfigureAwait(false);
        }
        catch (GitHubApiException ex)
        {
            return new DeploymentResult(false, ex.Message, _time.GetElapsedTime(started));
        }
        catch (HttpRequestException ex)
        {
            return new DeploymentResult(false, $"GitHub could not be reached: {ex.Message}", _time.GetElapsedTime(started));
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new DeploymentResult(false, "GitHub did not answer in time", _time.GetElapsedTime(started));
        }
    }

    private async Task<(RunRef? Run, string? Problem)> DispatchAsync(DeploymentRequest request, string dispatchId, CancellationToken ct)
    {
        var dispatch = new WorkflowDispatchRequest(_options.Ref, InputsFor(request), ReturnRunDetails: true);
        var dispatchedAt = _time.GetUtcNow();
        WorkflowDispatchResponse? details = null;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                details = await _github.DispatchWorkflowAsync(_owner, _repo, _options.Workflow!, dispatch, ct).ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (IsTransient(ex, ct) && attempt < MaxDispatchAttempts)
            {
                // The dispatch may have gone through before its answer was lost: look before dispatching again.
                LogDispatchUncertain(request.Release.ToString(), ex.Message);
                await Task.Delay(_options.PollInterval, _time, ct).ConfigureAwait(false);
                if (await FindRunAsync(dispatchId, dispatchedAt - ClockSkew, ct).ConfigureAwait(false) is { } earlier)
                {
                    return (earlier, null);
                }
            }
        }

        if (details is not null)
        {
            return (new RunRef(details.WorkflowRunId, details.HtmlUrl), null);
        }

        // GitHub did not say which run it started: find it by the dispatch id in its name.
        var waited = _time.GetTimestamp();
        while (true)
        {
            try
            {
                if (await FindRunAsync(dispatchId, dispatchedAt - ClockSkew, ct).ConfigureAwait(false) is { } run)
                {
                    return (run, null);
                }
            }
            catch (Exception ex) when (IsTransient(ex, ct))
            {
                LogFollowProblem(request.Release.ToString(), ex.Message);
            }

            if (_time.GetElapsedTime(waited) >= _options.FindRunTimeout)
            {
                return (null,
                    $"dispatched {_options.Workflow} in {_owner}/{_repo}, but no run named with '{dispatchId}' appeared within {_options.FindRunTimeout.TotalMinutes:0.#} min: " +
                    $"the workflow's run-name must contain ${{{{ inputs.{DispatchIdInput} }}}}");
            }

            await Task.Delay(_options.PollInterval, _time, ct).ConfigureAwait(false);
        }
    }

    private async Task<RunRef?> FindRunAsync(string dispatchId, DateTimeOffset since, CancellationToken ct)
    {
        var runs = await _github.ListWorkflowRunsAsync(_owner, _repo, _options.Workflow!, "workflow_dispatch", since, 100, ct).ConfigureAwait(false);
        var run = runs.WorkflowRuns
            .Where(r => (r.DisplayTitle ?? r.Name ?? string.Empty).Contains(dispatchId, StringComparison.Ordinal))
            .OrderBy(r => r.CreatedAt)
            .FirstOrDefault();
        return run is null ? null : new RunRef(run.Id, run.HtmlUrl);
    }

    private async Task<DeploymentResult> FollowAsync(RunRef run, long started, CancellationToken ct)
    {
        var following = _time.GetTimestamp();
        WorkflowRun? last = null;
        while (true)
        {
            try
            {
                last = await _github.GetWorkflowRunAsync(_owner, _repo, run.Id, ct).ConfigureAwait(false);
                if (last.Status == "completed")
                {
                    var succeeded = last.Conclusion == "success";
                    LogRunCompleted(run.Id, last.Conclusion ?? "none", last.HtmlUrl);
                    return new DeploymentResult(succeeded, $"workflow run #{last.RunNumber} {last.Conclusion ?? "ended without a conclusion"}: {last.HtmlUrl}", _time.GetElapsedTime(started));
                }
            }
            catch (Exception ex) when (IsTransient(ex, ct))
            {
                // GitHub's hiccup is not the deployment's failure: keep following until the time limit.
                LogFollowProblem(run.Url, ex.Message);
            }

            if (_time.GetElapsedTime(following) >= _options.RunTimeout)
            {
                return new DeploymentResult(false,
                    $"workflow run still {last?.Status ?? "unknown"} after {_options.RunTimeout.TotalMinutes:0.#} min; ShipBot stopped waiting (the run goes on): {last?.HtmlUrl ?? run.Url}",
                    _time.GetElapsedTime(started));
            }

            await Task.Delay(_options.PollInterval, _time, ct).ConfigureAwait(false);
        }
    }

    private async Task<RunRef?> LoadRunAsync(string dispatchId, CancellationToken ct)
    {
        if (_state is null)
        {
            return null;
        }

        try
        {
            var stored = await _state.GetAsync(StateKey(dispatchId), ct).ConfigureAwait(false);
            var space = stored?.IndexOf(' ', StringComparison.Ordinal) ?? -1;
            return space > 0 && long.TryParse(stored.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? new RunRef(id, stored![(space + 1)..])
                : null;
        }
        catch (StoreUnavailableException ex)
        {
            // GitHub itself is the fallback memory: the run is found by its dispatch id.
            LogStateUnavailable(ex.Message);
            return null;
        }
    }

    private async Task SaveRunAsync(string dispatchId, RunRef run, CancellationToken ct)
    {
        if (_state is null)
        {
            return;
        }

        try
        {
            await _state.SetAsync(StateKey(dispatchId), $"{run.Id.ToString(CultureInfo.InvariantCulture)} {run.Url}", StateTtl, ct).ConfigureAwait(false);
        }
        catch (StoreUnavailableException ex)
        {
            LogStateUnavailable(ex.Message);
        }
    }

    private string StateKey(string dispatchId) => $"github:actions:{_owner}/{_repo}:{dispatchId}".ToLowerInvariant();

    private static bool IsTransient(Exception ex, CancellationToken ct) =>
        ex is HttpRequestException
        || (ex is GitHubApiException { IsTransient: true })
        || (ex is TaskCanceledException && !ct.IsCancellationRequested);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Release}: dispatched the workflow for {Intent}: run {RunId} {Url}")]
    private partial void LogDispatched(string release, string intent, long runId, string url);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Release}: following run {RunId} dispatched earlier for this stage change ({DispatchId})")]
    private partial void LogFollowingEarlierRun(string release, long runId, string dispatchId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Release}: the workflow dispatch got no clear answer ({Reason}); looking for its run before dispatching again")]
    private partial void LogDispatchUncertain(string release, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GitHub Actions {What}: {Reason}; still following")]
    private partial void LogFollowProblem(string what, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Workflow run {RunId} completed: {Conclusion} {Url}")]
    private partial void LogRunCompleted(long runId, string conclusion, string url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The state store is unavailable ({Reason}); the workflow run is found through GitHub instead")]
    private partial void LogStateUnavailable(string reason);

    private sealed record RunRef(long Id, string Url);
}
