using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ShipBot.GitHub.Auth;

namespace ShipBot.GitHub.Rest;

/// <summary>What the client last heard about its primary rate limit.</summary>
public sealed record GitHubRateLimit(int? Remaining, DateTimeOffset? Reset, DateTimeOffset BlockedUntil);

/// <summary>
/// A typed client for the parts of GitHub's REST API ShipBot uses (API version 2022-11-28), for
/// one set of credentials. It honours GitHub's rate limits on the injected clock: it stops when
/// <c>x-ratelimit-remaining</c> reached 0 until <c>x-ratelimit-reset</c>; a 403 or 429 refusal is
/// sent again after <c>Retry-After</c>, after the reset when the quota is spent, or (a secondary
/// limit without either) after a minute, doubling; a wait longer than <c>MaxRateLimitWait</c> or
/// more than <c>MaxRateLimitRetries</c> refusals end in a transient <see cref="GitHubApiException"/>.
/// Writes go one at a time, at least <c>MinWriteInterval</c> apart. A 401 makes the credentials
/// mint a fresh token once. Reads are retried after network errors and 5xx answers; writes are not
/// (the caller knows whether repeating one is safe).
/// </summary>
public sealed partial class GitHubRestClient
{
    public const string HttpClientName = "github";
    public const string ApiVersion = "2022-11-28";
    public const string MediaType = "application/vnd.github+json";

    private static readonly ProductInfoHeaderValue UserAgent = new("ShipBot", "1.0");

    private readonly HttpClient _http;
    private readonly Uri _apiUrl;
    private readonly IGitHubCredentials _credentials;
    private readonly GitHubOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly Lock _gate = new();
    private DateTimeOffset _blockedUntil;
    private int? _remaining;
    private DateTimeOffset? _reset;
    private long? _lastWrite;

    public GitHubRestClient(HttpClient http, IGitHubCredentials credentials, GitHubOptions options, TimeProvider time, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _credentials = credentials;
        _options = options;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
        var api = options.ApiUrl.ToString();
        _apiUrl = new Uri(api.EndsWith('/') ? api : api + "/");
    }

    public GitHubRateLimit RateLimit
    {
        get
        {
            lock (_gate)
            {
                return new GitHubRateLimit(_remaining, _reset, _blockedUntil);
            }
        }
    }

    // ------------------------------------------------------------------ apps

    /// <summary><c>GET /repos/{owner}/{repo}/installation</c> (as the app).</summary>
    public async Task<RepositoryInstallation> GetRepositoryInstallationAsync(string owner, string repo, CancellationToken cancellationToken = default) =>
        (await SendAsync("apps/get-repo-installation", HttpMethod.Get, $"repos/{E(owner)}/{E(repo)}/installation", null, GitHubJson.Default.RepositoryInstallation, cancellationToken).ConfigureAwait(false)).Required();

    /// <summary><c>POST /app/installations/{installation_id}/access_tokens</c> (as the app).</summary>
    public async Task<InstallationToken> CreateInstallationTokenAsync(long installationId, CancellationToken cancellationToken = default) =>
        (await SendAsync("apps/create-installation-access-token", HttpMethod.Post, $"app/installations/{installationId.ToString(CultureInfo.InvariantCulture)}/access_tokens", null, GitHubJson.Default.InstallationToken, cancellationToken).ConfigureAwait(false)).Required();

    // ------------------------------------------------------------------ actions

    /// <summary>
    /// <c>POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches</c>. Returns the run
    /// GitHub started when it says (<c>return_run_details</c>), or null (204: GitHub did not say).
    /// </summary>
    public async Task<WorkflowDispatchResponse?> DispatchWorkflowAsync(string owner, string repo, string workflow, WorkflowDispatchRequest dispatch, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(dispatch, GitHubJson.Default.WorkflowDispatchRequest);
        var answer = await SendAsync("actions/create-workflow-dispatch", HttpMethod.Post, $"repos/{E(owner)}/{E(repo)}/actions/workflows/{E(workflow)}/dispatches", body, GitHubJson.Default.WorkflowDispatchResponse, cancellationToken).ConfigureAwait(false);
        return answer.Value;
    }

    /// <summary><c>GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs</c>, newest first.</summary>
    public async Task<WorkflowRunList> ListWorkflowRunsAsync(string owner, string repo, string workflow, string? eventName, DateTimeOffset? createdSince, int perPage = 100, CancellationToken cancellationToken = default)
    {
        var query = new List<string> { $"per_page={perPage.ToString(CultureInfo.InvariantCulture)}" };
        if (eventName is not null)
        {
            query.Add($"event={E(eventName)}");
        }

        if (createdSince is { } since)
        {
            // GitHub's search syntax for dates: created=>=2025-03-03T09:00:00Z
            query.Add($"created={E(">=" + since.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture))}");
        }

        var path = $"repos/{E(owner)}/{E(repo)}/actions/workflows/{E(workflow)}/runs?{string.Join('&', query)}";
        return (await SendAsync("actions/list-workflow-runs", HttpMethod.Get, path, null, GitHubJson.Default.WorkflowRunList, cancellationToken).ConfigureAwait(false)).Required();
    }

    /// <summary><c>GET /repos/{owner}/{repo}/actions/runs/{run_id}</c>.</summary>
    public async Task<WorkflowRun> GetWorkflowRunAsync(string owner, string repo, long runId, CancellationToken cancellationToken = default) =>
        (await SendAsync("actions/get-workflow-run", HttpMethod.Get, $"repos/{E(owner)}/{E(repo)}/actions/runs/{runId.ToString(CultureInfo.InvariantCulture)}", null, GitHubJson.Default.WorkflowRun, cancellationToken).ConfigureAwait(false)).Required();

    // ------------------------------------------------------------------ deployments

    /// <summary><c>GET /repos/{owner}/{repo}/deployments</c> filtered by environment, ref and task (newest first, one page).</summary>
    public async Task<IReadOnlyList<Deployment>> ListDeploymentsAsync(string owner, string repo, string environment, string gitRef, string task, CancellationToken cancellationToken = default)
    {
        var path = $"repos/{E(owner)}/{E(repo)}/deployments?environment={E(environment)}&ref={E(gitRef)}&task={E(task)}&per_page=100";
        return (await SendAsync("repos/list-deployments", HttpMethod.Get, path, null, GitHubJson.Default.IReadOnlyListDeployment, cancellationToken).ConfigureAwait(false)).Required();
    }

    /// <summary><c>POST /repos/{owner}/{repo}/deployments</c>.</summary>
    public async Task<Deployment> CreateDeploymentAsync(string owner, string repo, CreateDeploymentRequest deployment, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(deployment, GitHubJson.Default.CreateDeploymentRequest);
        var answer = await SendAsync("repos/create-deployment", HttpMethod.Post, $"repos/{E(owner)}/{E(repo)}/deployments", body, GitHubJson.Default.Deployment, cancellationToken).ConfigureAwait(false);
        if (answer.Status != HttpStatusCode.Created || answer.Value is null)
        {
            // 202 means GitHub merged the default branch into the ref instead; ShipBot asks for auto_merge false, so this is a surprise.
            throw new GitHubApiException("repos/create-deployment", answer.Status, "GitHub did not create the deployment");
        }

        return answer.Value;
    }

    /// <summary><c>POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses</c>.</summary>
    public async Task<DeploymentStatus> CreateDeploymentStatusAsync(string owner, string repo, long deploymentId, CreateDeploymentStatusRequest status, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(status, GitHubJson.Default.CreateDeploymentStatusRequest);
        var path = $"repos/{E(owner)}/{E(repo)}/deployments/{deploymentId.ToString(CultureInfo.InvariantCulture)}/statuses";
        return (await SendAsync("repos/create-deployment-status", HttpMethod.Post, path, body, GitHubJson.Default.DeploymentStatus, cancellationToken).ConfigureAwait(false)).Required();
    }

    /// <summary><c>GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses</c>, newest first.</summary>
    public async Task<IReadOnlyList<DeploymentStatus>> ListDeploymentStatusesAsync(string owner, string repo, long deploymentId, int perPage = 1, CancellationToken cancellationToken = default)
    {
        var path = $"repos/{E(owner)}/{E(repo)}/deployments/{deploymentId.ToString(CultureInfo.InvariantCulture)}/statuses?per_page={perPage.ToString(CultureInfo.InvariantCulture)}";
        return (await SendAsync("repos/list-deployment-statuses", HttpMethod.Get, path, null, GitHubJson.Default.IReadOnlyListDeploymentStatus, cancellationToken).ConfigureAwait(false)).Required();
    }

    // ------------------------------------------------------------------ the send loop

    private async Task<Answer<T>> SendAsync<T>(string operation, HttpMethod method, string path, byte[]? body, JsonTypeInfo<T> answerType, CancellationToken ct)
        where T : class
    {
        var write = method != HttpMethod.Get;
        var refusals = 0;
        var serverErrors = 0;
        var reauthenticated = false;
        if (write)
        {
            await _writes.WaitAsync(ct).ConfigureAwait(false);
        }

        try
        {
            while (true)
            {
                await WaitForRateLimitAsync(operation, ct).ConfigureAwait(false);
                if (write)
                {
                    await SpaceWritesAsync(ct).ConfigureAwait(false);
                }

                var authorization = await _credentials.GetAuthorizationAsync(ct).ConfigureAwait(false);
                using var request = new HttpRequestMessage(method, new Uri(_apiUrl, path));
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaType));
                request.Headers.Add("X-GitHub-Api-Version", ApiVersion);
                request.Headers.UserAgent.Add(UserAgent);
                if (body is not null)
                {
                    request.Content = new ByteArrayContent(body);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                }

                HttpResponseMessage response;
                try
                {
                    response = await _http.SendAsync(request, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (!write && IsNetworkFailure(ex, ct) && serverErrors < _options.MaxServerErrorRetries)
                {
                    serverErrors++;
                    LogRetrying(operation, ex.Message, serverErrors);
                    await Task.Delay(Backoff(serverErrors), _time, ct).ConfigureAwait(false);
                    continue;
                }
                finally
                {
                    if (write)
                    {
                        lock (_gate)
                        {
                            _lastWrite = _time.GetTimestamp();
                        }
                    }
                }

                using (response)
                {
                    ObserveRateLimit(response);
                    var status = (int)response.StatusCode;
                    if (status is 403 or 429)
                    {
                        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                        if (RateLimitWait(response, text, refusals) is { } wait)
                        {
                            if (refusals >= _options.MaxRateLimitRetries || wait > _options.MaxRateLimitWait)
                            {
                                throw new GitHubApiException(operation, response.StatusCode, $"rate limited ({Describe(text)}); ShipBot would have to wait {wait.TotalSeconds:0} s and gives up for now", rateLimited: true);
                            }

                            refusals++;
                            lock (_gate)
                            {
                                var until = _time.GetUtcNow() + wait;
                                _blockedUntil = until > _blockedUntil ? until : _blockedUntil;
                            }

                            LogRateLimited(operation, status, wait.TotalSeconds);
                            continue;
                        }

                        throw Error(operation, response.StatusCode, text);
                    }

                    if (status == 401 && !reauthenticated && _credentials.Invalidate(authorization))
                    {
                        reauthenticated = true;
                        LogUnauthorized(operation);
                        continue;
                    }

                    if (status >= 500 && !write && serverErrors < _options.MaxServerErrorRetries)
                    {
                        serverErrors++;
                        LogRetrying(operation, $"HTTP {status}", serverErrors);
                        await Task.Delay(Backoff(serverErrors), _time, ct).ConfigureAwait(false);
                        continue;
                    }

                    if (!response.IsSuccessStatusCode)
                    {
                        throw Error(operation, response.StatusCode, await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
                    }

                    if (response.StatusCode == HttpStatusCode.NoContent || response.Content.Headers.ContentLength == 0)
                    {
                        return new Answer<T>(response.StatusCode, null);
                    }

                    try
                    {
                        return new Answer<T>(response.StatusCode, await response.Content.ReadFromJsonAsync(answerType, ct).ConfigureAwait(false));
                    }
                    catch (JsonException ex)
                    {
                        throw new GitHubApiException(operation, HttpStatusCode.BadGateway, $"answered with JSON ShipBot cannot read: {ex.Message}");
                    }
                }
            }
        }
        finally
        {
            if (write)
            {
                _writes.Release();
            }
        }
    }

    private async Task WaitForRateLimitAsync(string operation, CancellationToken ct)
    {
        DateTimeOffset until;
        lock (_gate)
        {
            until = _blockedUntil;
            if (_remaining == 0 && _reset is { } reset && reset > until)
            {
                until = reset;
            }
        }

        var wait = until - _time.GetUtcNow();
        if (wait <= TimeSpan.Zero)
        {
            return;
        }

        if (wait > _options.MaxRateLimitWait)
        {
            throw new GitHubApiException(operation, HttpStatusCode.TooManyRequests, $"rate limit spent until {until:O}; ShipBot does not wait that long", rateLimited: true);
        }

        LogWaitingForRateLimit(operation, wait.TotalSeconds);
        await Task.Delay(wait, _time, ct).ConfigureAwait(false);
        lock (_gate)
        {
            // The quota is back after the reset; the next answer says how much.
            if (_reset is { } reset && reset <= _time.GetUtcNow())
            {
                _remaining = null;
            }
        }
    }

    private async Task SpaceWritesAsync(CancellationToken ct)
    {
        long? last;
        lock (_gate)
        {
            last = _lastWrite;
        }

        if (last is { } timestamp)
        {
            var left = _options.MinWriteInterval - _time.GetElapsedTime(timestamp);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left, _time, ct).ConfigureAwait(false);
            }
        }
    }

    private void ObserveRateLimit(HttpResponseMessage response)
    {
        var remaining = Header(response, "x-ratelimit-remaining");
        var reset = Header(response, "x-ratelimit-reset");
        lock (_gate)
        {
            if (int.TryParse(remaining, NumberStyles.None, CultureInfo.InvariantCulture, out var r))
            {
                _remaining = r;
            }

            if (long.TryParse(reset, NumberStyles.None, CultureInfo.InvariantCulture, out var epoch))
            {
                _reset = DateTimeOffset.FromUnixTimeSeconds(epoch);
            }
        }
    }

    /// <summary>How long to wait before repeating a 403/429, or null when it is not a rate limit (a plain refusal).</summary>
    private TimeSpan? RateLimitWait(HttpResponseMessage response, string text, int refusals)
    {
        var now = _time.GetUtcNow();
        if (response.Headers.RetryAfter is { } retryAfter)
        {
            var wait = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - now : TimeSpan.Zero);
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        if (Header(response, "x-ratelimit-remaining") == "0"
            && long.TryParse(Header(response, "x-ratelimit-reset"), NumberStyles.None, CultureInfo.InvariantCulture, out var epoch))
        {
            var wait = DateTimeOffset.FromUnixTimeSeconds(epoch) - now + TimeSpan.FromSeconds(1);
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        if (response.StatusCode == HttpStatusCode.TooManyRequests || text.Contains("rate limit", StringComparison.OrdinalIgnoreCase))
        {
            // A secondary limit without a hint: GitHub asks for at least a minute, then exponentially longer.
            return TimeSpan.FromMinutes(Math.Pow(2, refusals));
        }

        return null;
    }

    private static GitHubApiException Error(string operation, HttpStatusCode status, string text)
    {
        try
        {
            var error = JsonSerializer.Deserialize(text, GitHubJson.Default.GitHubError);
            if (error?.Message is { Length: > 0 } message)
            {
                var details = error.Errors is { ValueKind: JsonValueKind.Array } errors ? ErrorDetails(errors) : null;
                return new GitHubApiException(operation, status, details is null ? message : $"{message}: {details}", error.DocumentationUrl);
            }
        }
        catch (JsonException)
        {
            // Not GitHub's error shape (a proxy's page): the text itself, shortened, says more.
        }

        return new GitHubApiException(operation, status, Describe(text));
    }

    private static string ErrorDetails(JsonElement errors) => string.Join("; ", errors.EnumerateArray().Select(e => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Object when e.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String => m.GetString(),
        JsonValueKind.Object => string.Join(" ", new[] { "resource", "field", "code" }.Select(p => e.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null).Where(v => v is not null)),
        _ => e.GetRawText(),
    }));

    private static string Describe(string text)
    {
        var oneLine = text.ReplaceLineEndings(" ").Trim();
        return oneLine.Length > 300 ? oneLine[..300] + "…" : oneLine;
    }

    private static bool IsNetworkFailure(Exception ex, CancellationToken ct) =>
        ex is HttpRequestException || (ex is TaskCanceledException && !ct.IsCancellationRequested);

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromSeconds(Math.Pow(2, attempt - 1));

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static string E(string segment) => Uri.EscapeDataString(segment);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GitHub {Operation}: rate limited (HTTP {Status}); sending again in {Seconds:0} s")]
    private partial void LogRateLimited(string operation, int status, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "GitHub {Operation}: the rate limit is spent; waiting {Seconds:0} s for it to reset")]
    private partial void LogWaitingForRateLimit(string operation, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GitHub {Operation}: {Reason}; retry {Attempt}")]
    private partial void LogRetrying(string operation, string reason, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "GitHub {Operation}: credentials refused (401); trying once more with fresh ones")]
    private partial void LogUnauthorized(string operation);

    private readonly record struct Answer<T>(HttpStatusCode Status, T? Value)
        where T : class
    {
        public T Required() => Value ?? throw new GitHubApiException("request", Status, "answered without a body");
    }
}
