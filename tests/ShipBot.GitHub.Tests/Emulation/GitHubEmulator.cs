using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ShipBot.GitHub.Tests.Emulation;

/// <summary>One request the emulation received, as it judged it.</summary>
internal sealed record RecordedRequest(DateTimeOffset At, string Method, string Path, string? OperationId, int Status, string Auth, JsonNode? Body);

/// <summary>An answer the emulation gives instead of the real one (a rate limit, an outage).</summary>
internal sealed record EmulatedFault(int Status, string Message, string DocumentationUrl, IReadOnlyDictionary<string, string> Headers)
{
    public static EmulatedFault SecondaryRateLimit(int retryAfterSeconds) => new(
        403,
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.",
        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        new Dictionary<string, string> { ["Retry-After"] = retryAfterSeconds.ToString(CultureInfo.InvariantCulture) });

    public static EmulatedFault Unavailable() => new(503, "Service Unavailable", "https://www.githubstatus.com", new Dictionary<string, string>());
}

/// <summary>How a dispatched run goes: how long it takes and how it concludes (success, failure, cancelled, …).</summary>
internal sealed record RunScript(TimeSpan Duration, string Conclusion);

internal sealed class EmulatedWorkflow
{
    public required long Id { get; init; }

    public required string File { get; init; }

    public required string Name { get; init; }

    /// <summary>The workflow's <c>run-name</c>, with <c>${{ inputs.x }}</c> placeholders; null: runs are named after the workflow.</summary>
    public string? RunName { get; init; }

    public required IReadOnlyList<string> Inputs { get; init; }

    public IReadOnlyList<string> RequiredInputs { get; init; } = [];

    public string Path => $".github/workflows/{File}";
}

internal sealed class EmulatedRun
{
    public required long Id { get; init; }

    public required long Number { get; init; }

    public required EmulatedWorkflow Workflow { get; init; }

    public required string Ref { get; init; }

    public required IReadOnlyDictionary<string, string> Inputs { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required RunScript Script { get; init; }

    public required string DisplayTitle { get; init; }

    public static readonly TimeSpan QueuedFor = TimeSpan.FromSeconds(10);

    public string StatusAt(DateTimeOffset now) => now < CreatedAt + QueuedFor ? "queued" : now < CreatedAt + Script.Duration ? "in_progress" : "completed";
}

internal sealed record EmulatedStatus(long Id, string State, string Description, string? LogUrl, bool? AutoInactive, DateTimeOffset At);

internal sealed class EmulatedDeployment
{
    public required long Id { get; init; }

    public required string Ref { get; init; }

    public required string Task { get; init; }

    public required string Environment { get; init; }

    public required string Description { get; init; }

    public required JsonNode? Payload { get; init; }

    public required bool ProductionEnvironment { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public List<EmulatedStatus> Statuses { get; } = [];
}

internal sealed class EmulatedRepository
{
    public required long Id { get; init; }

    public required string Owner { get; init; }

    public required string Name { get; init; }

    public HashSet<string> Refs { get; } = new(StringComparer.Ordinal) { "main" };

    public List<EmulatedWorkflow> Workflows { get; } = [];

    public List<EmulatedRun> Runs { get; } = [];

    public List<EmulatedDeployment> Deployments { get; } = [];

    public string FullName => $"{Owner}/{Name}";
}

/// <summary>
/// GitHub's REST API, emulated on Kestrel over loopback for the parts ShipBot uses: GitHub App
/// authentication (RS256 JWTs checked against the app's key, installation tokens that expire on
/// the shared fake clock), workflow dispatch and runs (which progress with the clock), and
/// deployments with their statuses. Every request is first checked against GitHub's published
/// OpenAPI description (<see cref="OpenApiValidator"/>); a request that departs from it is answered
/// 422 and recorded in <see cref="Violations"/>. Every successful answer is checked against the
/// documented response schema too, so the emulation answers in GitHub's documented shapes. Rate
/// limits: a quota for the installation's requests (the app's own JWT requests are not counted)
/// with <c>x-ratelimit-*</c> headers (403 when spent), and injected
/// faults such as a secondary rate limit with <c>Retry-After</c>.
/// </summary>
internal sealed class GitHubEmulator : IAsyncDisposable
{
    public const string AppClientId = "Iv23liShipBotTests0001";
    public const long AppId = 31337;
    public const long InstallationId = 4242;
    public const string PersonalAccessToken = "github_pat_shipbot_tests_0123456789";
    public const string Docs = "https://docs.github.com/rest";
    public const int QuotaLimit = 5000;

    private readonly WebApplication _app;
    private readonly OpenApiValidator _validator;
    private readonly TimeProvider _time;
    private readonly RSA _appKey = RSA.Create(2048);
    private readonly Lock _gate = new();
    private readonly List<string> _violations = [];
    private readonly List<RecordedRequest> _requests = [];
    private readonly Dictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<EmulatedFault>> _faults = new(StringComparer.Ordinal);
    private readonly List<EmulatedRepository> _repositories = [];
    private long _nextId = 1000;
    private int _quotaRemaining = QuotaLimit;
    private DateTimeOffset _quotaReset;

    private GitHubEmulator(WebApplication app, OpenApiValidator validator, TimeProvider time)
    {
        _app = app;
        _validator = validator;
        _time = time;
        _quotaReset = time.GetUtcNow() + TimeSpan.FromHours(1);
    }

    public Uri ApiUrl { get; private set; } = null!;

    /// <summary>The app's private key as GitHub hands it out (PKCS#1 PEM).</summary>
    public string AppPrivateKeyPem => _appKey.ExportRSAPrivateKeyPem();

    /// <summary>How long installation tokens live. Default 1 hour, as on GitHub.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Whether a dispatch with <c>return_run_details</c> answers with the run (GitHub.com); false: 204, as older servers do.</summary>
    public bool ReturnsRunDetails { get; set; } = true;

    /// <summary>How each dispatched run goes. Default: succeeds after 3 minutes.</summary>
    public Func<EmulatedRun, RunScript>? Script { get; set; }

    public int TokensIssued { get; private set; }

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_gate)
            {
                return [.. _violations];
            }
        }
    }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<GitHubEmulator> StartAsync(TimeProvider time)
    {
        var api = await OctokitOpenApi.LoadAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var emulator = new GitHubEmulator(app, new OpenApiValidator(api), time);
        app.Run(emulator.HandleAsync);
        await app.StartAsync();
        emulator.ApiUrl = new Uri(app.Urls.Single().TrimEnd('/') + "/");
        return emulator;
    }

    /// <summary>A repository whose workflow <c>deploy.yml</c> declares ShipBot's inputs and names its runs with the dispatch id.</summary>
    public EmulatedRepository AddRepository(string owner, string name, string? runName = "Deploy ${{ inputs.release }} to ${{ inputs.environment }} at ${{ inputs.percent }}% (${{ inputs.dispatch_id }})")
    {
        lock (_gate)
        {
            var repository = new EmulatedRepository { Id = _nextId++, Owner = owner, Name = name };
            repository.Workflows.Add(new EmulatedWorkflow
            {
                Id = _nextId++,
                File = "deploy.yml",
                Name = "Deploy",
                RunName = runName,
                Inputs = ["service", "version", "environment", "percent", "release", "rollback", "dispatch_id"],
                RequiredInputs = ["service", "version", "environment", "percent", "release"],
            });
            _repositories.Add(repository);
            return repository;
        }
    }

    /// <summary>Answers the next <paramref name="times"/> requests of an operation with a fault.</summary>
    public void Inject(string operationId, EmulatedFault fault, int times = 1)
    {
        lock (_gate)
        {
            if (!_faults.TryGetValue(operationId, out var queue))
            {
                _faults[operationId] = queue = new Queue<EmulatedFault>();
            }

            for (var i = 0; i < times; i++)
            {
                queue.Enqueue(fault);
            }
        }
    }

    /// <summary>Sets how many requests the quota still allows in this window.</summary>
    public void SetQuota(int remaining)
    {
        lock (_gate)
        {
            _quotaRemaining = remaining;
        }
    }

    /// <summary>Revokes every installation token now (as GitHub does when an app's permissions change).</summary>
    public void RevokeTokens()
    {
        lock (_gate)
        {
            _tokens.Clear();
        }
    }

    public IReadOnlyList<EmulatedDeployment> DeploymentsOf(string owner, string name)
    {
        lock (_gate)
        {
            return [.. Repository(owner, name)?.Deployments ?? []];
        }
    }

    public IReadOnlyList<EmulatedRun> RunsOf(string owner, string name)
    {
        lock (_gate)
        {
            return [.. Repository(owner, name)?.Runs ?? []];
        }
    }

    /// <summary>Fails with every recorded departure from GitHub's description (requests and the emulation's own answers).</summary>
    public void AssertNoViolations()
    {
        var violations = Violations;
        Assert.True(violations.Count == 0, "Requests or answers that depart from GitHub's OpenAPI description:\n" + string.Join('\n', violations));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _appKey.Dispose();
    }

    // ------------------------------------------------------------------ request pipeline

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        JsonNode? json = null;
        if (body.Length > 0)
        {
            try
            {
                json = JsonNode.Parse(body);
            }
            catch (JsonException)
            {
                // The validator reports it.
            }
        }

        var operation = _validator.Match(request.Method, path);
        Answer answer;
        var auth = "none";
        if (operation is null)
        {
            Violation($"{request.Method} {path}: no operation of GitHub's REST API has this method and path");
            answer = Error(404, "Not Found");
        }
        else if (_validator.ValidateRequest(operation, query, headers, request.ContentType, body) is { Count: > 0 } problems)
        {
            foreach (var problem in problems)
            {
                Violation(problem);
            }

            answer = new Answer(422, new JsonObject { ["message"] = "Invalid request.\n\n" + string.Join("\n", problems), ["documentation_url"] = Docs });
        }
        else
        {
            (auth, var refused) = Authenticate(operation, headers.GetValueOrDefault("Authorization"));
            answer = refused ?? Fault(operation) ?? (auth == "jwt" ? null : Quota()) ?? Route(operation, query, json);
            if (answer.Status is >= 200 and < 300 && answer.Validate)
            {
                foreach (var problem in _validator.ValidateResponse(operation, answer.Status, answer.Body))
                {
                    Violation($"the emulation's own {problem}");
                }
            }
        }

        lock (_gate)
        {
            _requests.Add(new RecordedRequest(_time.GetUtcNow(), request.Method, path + request.QueryString, operation?.OperationId, answer.Status, auth, json));
        }

        var response = context.Response;
        response.StatusCode = answer.Status;
        response.Headers["X-GitHub-Media-Type"] = "github.v3; format=json";
        response.Headers["X-GitHub-Api-Version-Selected"] = OpenApiValidator.SupportedApiVersion;
        lock (_gate)
        {
            response.Headers["x-ratelimit-limit"] = QuotaLimit.ToString(CultureInfo.InvariantCulture);
            response.Headers["x-ratelimit-remaining"] = Math.Max(0, _quotaRemaining).ToString(CultureInfo.InvariantCulture);
            response.Headers["x-ratelimit-used"] = (QuotaLimit - Math.Max(0, _quotaRemaining)).ToString(CultureInfo.InvariantCulture);
            response.Headers["x-ratelimit-reset"] = _quotaReset.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            response.Headers["x-ratelimit-resource"] = "core";
        }

        foreach (var (name, value) in answer.Headers ?? new Dictionary<string, string>())
        {
            response.Headers[name] = value;
        }

        if (answer.Body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(answer.Body.ToJsonString());
            response.ContentType = "application/json; charset=utf-8";
            response.ContentLength = bytes.Length;
            await response.Body.WriteAsync(bytes, context.RequestAborted);
        }
    }

    private (string Auth, Answer? Refused) Authenticate(OpenApiOperation operation, string? authorization)
    {
        var credential = authorization switch
        {
            null => null,
            _ when authorization.StartsWith("Bearer ", StringComparison.Ordinal) => authorization[7..],
            _ when authorization.StartsWith("token ", StringComparison.Ordinal) => authorization[6..],
            _ => null,
        };
        var asApp = operation.OperationId is "apps/create-installation-access-token" or "apps/get-repo-installation";
        if (credential is null)
        {
            return ("none", Error(401, "Requires authentication"));
        }

        if (asApp)
        {
            return VerifyJwt(credential) is { } problem
                ? ("jwt", Error(401, $"'{problem}' - JWT could not be decoded or verified"))
                : ("jwt", null);
        }

        if (credential == PersonalAccessToken)
        {
            return ("pat", null);
        }

        lock (_gate)
        {
            if (_tokens.TryGetValue(credential, out var expires) && expires > _time.GetUtcNow())
            {
                return ($"installation:{credential[^6..]}", null);
            }
        }

        return ("unknown", Error(401, "Bad credentials"));
    }

    private string? VerifyJwt(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return "A JSON web token could not be decoded";
        }

        try
        {
            var header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]));
            if ((string?)header?["alg"] != "RS256")
            {
                return "The JWT must be signed with RS256";
            }

            var signed = Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}");
            if (!_appKey.VerifyData(signed, Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            {
                return "A JSON web token could not be verified";
            }

            var payload = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!;
            var now = _time.GetUtcNow().ToUnixTimeSeconds();
            var iat = (long)payload["iat"]!;
            var exp = (long)payload["exp"]!;
            var iss = payload["iss"]?.ToString();
            if (iss != AppClientId && iss != AppId.ToString(CultureInfo.InvariantCulture))
            {
                return $"Issuer {iss} is not a known app";
            }

            if (iat > now)
            {
                return "'Issued at' claim ('iat') must be an Integer representing a time in the past";
            }

            if (exp <= now)
            {
                return "'Expiration time' claim ('exp') is too far in the past";
            }

            if (exp > now + 600)
            {
                return "'Expiration time' claim ('exp') is too far in the future";
            }

            return null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException or NullReferenceException)
        {
            return "A JSON web token could not be decoded";
        }
    }

    private Answer? Fault(OpenApiOperation operation)
    {
        lock (_gate)
        {
            if (_faults.TryGetValue(operation.OperationId, out var queue) && queue.TryDequeue(out var fault))
            {
                return new Answer(fault.Status, new JsonObject { ["message"] = fault.Message, ["documentation_url"] = fault.DocumentationUrl }, fault.Headers, Validate: false);
            }
        }

        return null;
    }

    private Answer? Quota()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (now >= _quotaReset)
            {
                _quotaRemaining = QuotaLimit;
                _quotaReset = now + TimeSpan.FromHours(1);
            }

            if (_quotaRemaining <= 0)
            {
                return new Answer(403, new JsonObject
                {
                    ["message"] = $"API rate limit exceeded for installation ID {InstallationId}.",
                    ["documentation_url"] = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit",
                }, Validate: false);
            }

            _quotaRemaining--;
            return null;
        }
    }

    private Answer Route(OpenApiOperation operation, IReadOnlyDictionary<string, string> query, JsonNode? body)
    {
        lock (_gate)
        {
            var values = operation.PathValues;
            if (operation.OperationId == "apps/create-installation-access-token")
            {
                return CreateToken(values["installation_id"]);
            }

            var repository = Repository(values.GetValueOrDefault("owner") ?? string.Empty, values.GetValueOrDefault("repo") ?? string.Empty);
            if (repository is null)
            {
                return Error(404, "Not Found");
            }

            return operation.OperationId switch
            {
                "apps/get-repo-installation" => new Answer(200, Installation()),
                "actions/create-workflow-dispatch" => Dispatch(repository, values["workflow_id"], body!),
                "actions/list-workflow-runs" => ListRuns(repository, values["workflow_id"], query),
                "actions/get-workflow-run" => repository.Runs.FirstOrDefault(r => r.Id.ToString(CultureInfo.InvariantCulture) == values["run_id"]) is { } run
                    ? new Answer(200, RunJson(repository, run))
                    : Error(404, "Not Found"),
                "repos/list-deployments" => ListDeployments(repository, query),
                "repos/create-deployment" => CreateDeployment(repository, body!),
                "repos/create-deployment-status" => CreateStatus(repository, values["deployment_id"], body!),
                "repos/list-deployment-statuses" => repository.Deployments.FirstOrDefault(d => d.Id.ToString(CultureInfo.InvariantCulture) == values["deployment_id"]) is { } deployment
                    ? new Answer(200, new JsonArray(deployment.Statuses.AsEnumerable().Reverse()
                        .Take(query.TryGetValue("per_page", out var pp) ? int.Parse(pp, CultureInfo.InvariantCulture) : 30)
                        .Select(st => (JsonNode)StatusJson(repository, deployment, st)).ToArray()))
                    : Error(404, "Not Found"),
                _ => Unsupported(operation),
            };
        }
    }

    private Answer Unsupported(OpenApiOperation operation)
    {
        // Called under the lock.
        _violations.Add($"{operation.OperationId}: a valid GitHub operation this emulation does not implement (ShipBot should not need it)");
        return Error(501, "Not implemented by the emulation");
    }

    private Answer CreateToken(string installation)
    {
        if (installation != InstallationId.ToString(CultureInfo.InvariantCulture))
        {
            return Error(404, "Not Found");
        }

        var token = "ghs_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(18));
        var expires = _time.GetUtcNow() + TokenLifetime;
        _tokens[token] = expires;
        TokensIssued++;
        return new Answer(201, new JsonObject
        {
            ["token"] = token,
            ["expires_at"] = Time(expires),
            ["permissions"] = new JsonObject { ["actions"] = "write", ["deployments"] = "write", ["metadata"] = "read" },
            ["repository_selection"] = "selected",
        });
    }

    private Answer Dispatch(EmulatedRepository repository, string workflowId, JsonNode body)
    {
        var workflow = Workflow(repository, workflowId);
        if (workflow is null)
        {
            return Error(404, "Not Found");
        }

        var gitRef = (string)body["ref"]!;
        if (!repository.Refs.Contains(gitRef))
        {
            return Validation($"No ref found for: {gitRef}");
        }

        var inputs = (body["inputs"] as JsonObject ?? []).ToDictionary(i => i.Key, i => i.Value?.ToString() ?? string.Empty, StringComparer.Ordinal);
        var unexpected = inputs.Keys.Where(k => !workflow.Inputs.Contains(k)).ToList();
        if (unexpected.Count > 0)
        {
            return Validation($"Unexpected inputs provided: [{string.Join(", ", unexpected.Select(u => $"\"{u}\""))}]");
        }

        if (workflow.RequiredInputs.FirstOrDefault(r => !inputs.ContainsKey(r)) is { } missing)
        {
            return Validation($"Required input '{missing}' not provided");
        }

        var title = workflow.RunName is null ? workflow.Name : Interpolate(workflow.RunName, inputs);
        var draft = new EmulatedRun
        {
            Id = _nextId++,
            Number = repository.Runs.Count + 1,
            Workflow = workflow,
            Ref = gitRef,
            Inputs = inputs,
            CreatedAt = _time.GetUtcNow(),
            Script = new RunScript(TimeSpan.FromMinutes(3), "success"),
            DisplayTitle = title,
        };
        var run = Script is null ? draft : new EmulatedRun
        {
            Id = draft.Id,
            Number = draft.Number,
            Workflow = workflow,
            Ref = gitRef,
            Inputs = inputs,
            CreatedAt = draft.CreatedAt,
            Script = Script(draft),
            DisplayTitle = title,
        };
        repository.Runs.Add(run);
        if (ReturnsRunDetails && body["return_run_details"]?.GetValue<bool>() == true)
        {
            return new Answer(200, new JsonObject
            {
                ["workflow_run_id"] = run.Id,
                ["run_url"] = $"{ApiUrl}repos/{repository.FullName}/actions/runs/{run.Id}",
                ["html_url"] = HtmlRun(repository, run),
            });
        }

        return new Answer(204, null);
    }

    private Answer ListRuns(EmulatedRepository repository, string workflowId, IReadOnlyDictionary<string, string> query)
    {
        var workflow = Workflow(repository, workflowId);
        if (workflow is null)
        {
            return Error(404, "Not Found");
        }

        IEnumerable<EmulatedRun> runs = repository.Runs.Where(r => r.Workflow == workflow);
        if (query.TryGetValue("event", out var eventName) && eventName != "workflow_dispatch")
        {
            runs = [];
        }

        if (query.TryGetValue("created", out var created))
        {
            if (!created.StartsWith(">=", StringComparison.Ordinal) || !DateTimeOffset.TryParse(created[2..], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since))
            {
                return Validation($"created '{created}' is not a date range this emulation understands (>=YYYY-MM-DDTHH:MM:SSZ)");
            }

            runs = runs.Where(r => r.CreatedAt >= since);
        }

        var perPage = query.TryGetValue("per_page", out var pp) ? int.Parse(pp, CultureInfo.InvariantCulture) : 30;
        var list = runs.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).ToList();
        return new Answer(200, new JsonObject
        {
            ["total_count"] = list.Count,
            ["workflow_runs"] = new JsonArray(list.Take(perPage).Select(r => (JsonNode)RunJson(repository, r)).ToArray()),
        });
    }

    private Answer ListDeployments(EmulatedRepository repository, IReadOnlyDictionary<string, string> query)
    {
        IEnumerable<EmulatedDeployment> deployments = repository.Deployments;
        if (query.TryGetValue("environment", out var environment))
        {
            deployments = deployments.Where(d => d.Environment == environment);
        }

        if (query.TryGetValue("ref", out var gitRef))
        {
            deployments = deployments.Where(d => d.Ref == gitRef);
        }

        if (query.TryGetValue("task", out var task))
        {
            deployments = deployments.Where(d => d.Task == task);
        }

        var perPage = query.TryGetValue("per_page", out var pp) ? int.Parse(pp, CultureInfo.InvariantCulture) : 30;
        return new Answer(200, new JsonArray(deployments.OrderByDescending(d => d.Id).Take(perPage).Select(d => (JsonNode)DeploymentJson(repository, d)).ToArray()));
    }

    private Answer CreateDeployment(EmulatedRepository repository, JsonNode body)
    {
        var gitRef = (string)body["ref"]!;
        if (!repository.Refs.Contains(gitRef))
        {
            return Validation($"No ref found for: {gitRef}");
        }

        if (body["required_contexts"] is not JsonArray { Count: 0 })
        {
            // No commit statuses exist in the emulation; GitHub would check all of them unless told not to.
            return new Answer(409, new JsonObject { ["message"] = "Conflict: Commit status checks failed for " + gitRef, ["documentation_url"] = Docs });
        }

        var environment = (string?)body["environment"] ?? "production";
        var deployment = new EmulatedDeployment
        {
            Id = _nextId++,
            Ref = gitRef,
            Task = (string?)body["task"] ?? "deploy",
            Environment = environment,
            Description = (string?)body["description"] ?? string.Empty,
            Payload = body["payload"]?.DeepClone(),
            ProductionEnvironment = (bool?)body["production_environment"] ?? environment == "production",
            CreatedAt = _time.GetUtcNow(),
        };
        repository.Deployments.Add(deployment);
        return new Answer(201, DeploymentJson(repository, deployment));
    }

    private Answer CreateStatus(EmulatedRepository repository, string deploymentId, JsonNode body)
    {
        var deployment = repository.Deployments.FirstOrDefault(d => d.Id.ToString(CultureInfo.InvariantCulture) == deploymentId);
        if (deployment is null)
        {
            return Error(404, "Not Found");
        }

        var description = (string?)body["description"] ?? string.Empty;
        if (description.Length > 140)
        {
            return Validation("description is too long (maximum is 140 characters)");
        }

        var status = new EmulatedStatus(_nextId++, (string)body["state"]!, description, (string?)body["log_url"], (bool?)body["auto_inactive"], _time.GetUtcNow());
        deployment.Statuses.Add(status);
        return new Answer(201, StatusJson(repository, deployment, status));
    }

    // ------------------------------------------------------------------ documented shapes

    private JsonObject RunJson(EmulatedRepository repository, EmulatedRun run)
    {
        var now = _time.GetUtcNow();
        var status = run.StatusAt(now);
        var api = $"{ApiUrl}repos/{repository.FullName}/actions/runs/{run.Id}";
        var sha = Sha(run.Ref);
        return new JsonObject
        {
            ["id"] = run.Id,
            ["name"] = run.Workflow.Name,
            ["node_id"] = $"WFR_{run.Id}",
            ["head_branch"] = run.Ref,
            ["head_sha"] = sha,
            ["path"] = run.Workflow.Path,
            ["display_title"] = run.DisplayTitle,
            ["run_number"] = run.Number,
            ["run_attempt"] = 1,
            ["event"] = "workflow_dispatch",
            ["status"] = status,
            ["conclusion"] = status == "completed" ? run.Script.Conclusion : null,
            ["workflow_id"] = run.Workflow.Id,
            ["url"] = api,
            ["html_url"] = HtmlRun(repository, run),
            ["pull_requests"] = new JsonArray(),
            ["created_at"] = Time(run.CreatedAt),
            ["updated_at"] = Time(status == "completed" ? run.CreatedAt + run.Script.Duration : now),
            ["run_started_at"] = Time(run.CreatedAt + EmulatedRun.QueuedFor),
            ["jobs_url"] = $"{api}/jobs",
            ["logs_url"] = $"{api}/logs",
            ["check_suite_url"] = $"{ApiUrl}repos/{repository.FullName}/check-suites/{run.Id + 1}",
            ["artifacts_url"] = $"{api}/artifacts",
            ["cancel_url"] = $"{api}/cancel",
            ["rerun_url"] = $"{api}/rerun",
            ["workflow_url"] = $"{ApiUrl}repos/{repository.FullName}/actions/workflows/{run.Workflow.Id}",
            ["head_commit"] = new JsonObject
            {
                ["id"] = sha,
                ["tree_id"] = Sha("tree:" + run.Ref),
                ["message"] = "Release",
                ["timestamp"] = Time(run.CreatedAt - TimeSpan.FromHours(1)),
                ["author"] = new JsonObject { ["name"] = "Mona Octocat", ["email"] = "mona@example.com" },
                ["committer"] = new JsonObject { ["name"] = "Mona Octocat", ["email"] = "mona@example.com" },
            },
            ["repository"] = RepositoryJson(repository),
            ["head_repository"] = RepositoryJson(repository),
            ["actor"] = User("shipbot[bot]", 41898282, "Bot"),
            ["triggering_actor"] = User("shipbot[bot]", 41898282, "Bot"),
        };
    }

    private JsonObject DeploymentJson(EmulatedRepository repository, EmulatedDeployment deployment)
    {
        var url = $"{ApiUrl}repos/{repository.FullName}/deployments/{deployment.Id}";
        return new JsonObject
        {
            ["url"] = url,
            ["id"] = deployment.Id,
            ["node_id"] = $"DE_{deployment.Id}",
            ["sha"] = Sha(deployment.Ref),
            ["ref"] = deployment.Ref,
            ["task"] = deployment.Task,
            ["payload"] = deployment.Payload?.DeepClone() ?? new JsonObject(),
            ["original_environment"] = deployment.Environment,
            ["environment"] = deployment.Environment,
            ["description"] = deployment.Description,
            ["creator"] = User("shipbot[bot]", 41898282, "Bot"),
            ["created_at"] = Time(deployment.CreatedAt),
            ["updated_at"] = Time(deployment.Statuses.Count == 0 ? deployment.CreatedAt : deployment.Statuses[^1].At),
            ["statuses_url"] = $"{url}/statuses",
            ["repository_url"] = $"{ApiUrl}repos/{repository.FullName}",
            ["transient_environment"] = false,
            ["production_environment"] = deployment.ProductionEnvironment,
        };
    }

    private JsonObject StatusJson(EmulatedRepository repository, EmulatedDeployment deployment, EmulatedStatus status)
    {
        var deploymentUrl = $"{ApiUrl}repos/{repository.FullName}/deployments/{deployment.Id}";
        return new JsonObject
        {
            ["url"] = $"{deploymentUrl}/statuses/{status.Id}",
            ["id"] = status.Id,
            ["node_id"] = $"DES_{status.Id}",
            ["state"] = status.State,
            ["creator"] = User("shipbot[bot]", 41898282, "Bot"),
            ["description"] = status.Description,
            ["environment"] = deployment.Environment,
            ["target_url"] = status.LogUrl ?? string.Empty,
            ["log_url"] = status.LogUrl ?? string.Empty,
            ["environment_url"] = string.Empty,
            ["created_at"] = Time(status.At),
            ["updated_at"] = Time(status.At),
            ["deployment_url"] = deploymentUrl,
            ["repository_url"] = $"{ApiUrl}repos/{repository.FullName}",
        };
    }

    private JsonObject Installation() => new()
    {
        ["id"] = InstallationId,
        ["account"] = User("acme", 9919, "Organization"),
        ["repository_selection"] = "selected",
        ["access_tokens_url"] = $"{ApiUrl}app/installations/{InstallationId}/access_tokens",
        ["repositories_url"] = $"{ApiUrl}installation/repositories",
        ["html_url"] = $"https://github.com/organizations/acme/settings/installations/{InstallationId}",
        ["app_id"] = AppId,
        ["app_slug"] = "shipbot",
        ["client_id"] = AppClientId,
        ["target_id"] = 9919,
        ["target_type"] = "Organization",
        ["permissions"] = new JsonObject { ["actions"] = "write", ["deployments"] = "write", ["metadata"] = "read" },
        ["events"] = new JsonArray(),
        ["created_at"] = Time(_time.GetUtcNow() - TimeSpan.FromDays(30)),
        ["updated_at"] = Time(_time.GetUtcNow() - TimeSpan.FromDays(30)),
        ["single_file_name"] = null,
        ["suspended_by"] = null,
        ["suspended_at"] = null,
    };

    private JsonObject RepositoryJson(EmulatedRepository repository)
    {
        var api = $"{ApiUrl}repos/{repository.FullName}";
        var repo = new JsonObject
        {
            ["id"] = repository.Id,
            ["node_id"] = $"R_{repository.Id}",
            ["name"] = repository.Name,
            ["full_name"] = repository.FullName,
            ["owner"] = User(repository.Owner, 9919, "Organization"),
            ["private"] = true,
            ["html_url"] = $"https://github.com/{repository.FullName}",
            ["description"] = null,
            ["fork"] = false,
            ["url"] = api,
        };
        foreach (var name in new[]
        {
            "archive", "assignees", "blobs", "branches", "collaborators", "comments", "commits", "compare", "contents", "contributors",
            "deployments", "downloads", "events", "forks", "git_commits", "git_refs", "git_tags", "hooks", "issue_comment", "issue_events",
            "issues", "keys", "labels", "languages", "merges", "milestones", "notifications", "pulls", "releases", "stargazers", "statuses",
            "subscribers", "subscription", "tags", "teams", "trees",
        })
        {
            repo[$"{name}_url"] = $"{api}/{name.Replace('_', '/')}";
        }

        return repo;
    }

    private static JsonObject User(string login, long id, string type)
    {
        var api = $"https://api.github.com/users/{login}";
        return new JsonObject
        {
            ["login"] = login,
            ["id"] = id,
            ["node_id"] = $"U_{id}",
            ["avatar_url"] = $"https://avatars.githubusercontent.com/u/{id}?v=4",
            ["gravatar_id"] = string.Empty,
            ["url"] = api,
            ["html_url"] = $"https://github.com/{login}",
            ["followers_url"] = $"{api}/followers",
            ["following_url"] = $"{api}/following{{/other_user}}",
            ["gists_url"] = $"{api}/gists{{/gist_id}}",
            ["starred_url"] = $"{api}/starred{{/owner}}{{/repo}}",
            ["subscriptions_url"] = $"{api}/subscriptions",
            ["organizations_url"] = $"{api}/orgs",
            ["repos_url"] = $"{api}/repos",
            ["events_url"] = $"{api}/events{{/privacy}}",
            ["received_events_url"] = $"{api}/received_events",
            ["type"] = type,
            ["site_admin"] = false,
        };
    }

    // ------------------------------------------------------------------ helpers

    private EmulatedRepository? Repository(string owner, string name) =>
        _repositories.FirstOrDefault(r => string.Equals(r.Owner, owner, StringComparison.OrdinalIgnoreCase) && string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));

    private static EmulatedWorkflow? Workflow(EmulatedRepository repository, string id) =>
        repository.Workflows.FirstOrDefault(w => w.File == id || w.Id.ToString(CultureInfo.InvariantCulture) == id);

    private static string HtmlRun(EmulatedRepository repository, EmulatedRun run) => $"https://github.com/{repository.FullName}/actions/runs/{run.Id}";

    private static string Interpolate(string template, IReadOnlyDictionary<string, string> inputs) =>
        System.Text.RegularExpressions.Regex.Replace(template, @"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}", m => inputs.GetValueOrDefault(m.Groups[1].Value) ?? string.Empty);

    private static string Sha(string seed) => Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(seed)));

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static Answer Error(int status, string message) => new(status, new JsonObject { ["message"] = message, ["documentation_url"] = Docs }, Validate: false);

    private static Answer Validation(string message) => new(422, new JsonObject
    {
        ["message"] = "Validation Failed",
        ["errors"] = new JsonArray(new JsonObject { ["resource"] = "Emulation", ["code"] = "custom", ["message"] = message }),
        ["documentation_url"] = Docs,
    }, Validate: false);

    private void Violation(string problem)
    {
        lock (_gate)
        {
            _violations.Add(problem);
        }
    }

    private sealed record Answer(int Status, JsonNode? Body, IReadOnlyDictionary<string, string>? Headers = null, bool Validate = true);
}
