using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using ShipBot.Coordinator;
using ShipBot.Core.Commands;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Identity;

namespace ShipBot.Host.Api;

/// <summary>The body of <c>POST /api/releases</c>: what a pipeline asks ShipBot to release.</summary>
/// <param name="Service">The service, as configured under <c>ShipBot:Services</c>. Required.</param>
/// <param name="Version">The version (for example 1.4.2). Required.</param>
/// <param name="Changes">What changed, one entry each (at most 50, each at most 500 characters). Default none.</param>
/// <param name="Flags">Feature flags the release turns on (at most 20). Default none.</param>
/// <param name="Commit">The commit SHA being released (7 to 64 hexadecimal digits). Optional.</param>
/// <param name="PullRequests">Links to the pull requests in the release (absolute http(s) URLs, at most 20). Default none.</param>
/// <param name="PipelineRun">A link to the pipeline run that asks for the release. Optional.</param>
/// <param name="Notes">Customer-facing release notes. Default: written from the changes.</param>
public sealed record CreateReleaseRequest(
    string? Service,
    string? Version,
    IReadOnlyList<string>? Changes = null,
    IReadOnlyList<string>? Flags = null,
    string? Commit = null,
    IReadOnlyList<string>? PullRequests = null,
    string? PipelineRun = null,
    string? Notes = null);

/// <summary>The body of <c>POST /api/releases/{name}/actions/{verb}</c>; which fields a verb needs is in docs/api.md.</summary>
/// <param name="Reason">Why: required for rollback and abort, optional for promote.</param>
/// <param name="Items">Checklist item ids to tick (check only; at least one).</param>
/// <param name="Evidence">What shows the items are done, such as a test report's link (check only). Optional.</param>
public sealed record ReleaseActionRequest(string? Reason = null, IReadOnlyList<string>? Items = null, string? Evidence = null);

/// <summary>
/// The write API pipelines drive ShipBot with: create a release, act on one with the chat verbs that
/// make sense for a machine, and wait for one to reach a state (a long poll). Every command goes
/// through the coordinator exactly as a chat command does, so the same role rules hold (a token
/// that requested a release never approves it) and an <c>Idempotency-Key</c> acts once. Errors are
/// RFC 9457 problem details; a refused or malformed request changes nothing.
/// </summary>
public static partial class ReleaseWriteApi
{
    /// <summary>The request header whose value makes a retried request act once (kept 24 hours).</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>The longest a long poll waits, whatever <c>timeout</c> asks: 120 s.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(120);

    /// <summary>How long a long poll waits when <c>wait</c> is given without <c>timeout</c>: 30 s.</summary>
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(30);

    /// <summary>How often a long poll reads the release again.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The verbs of <c>POST /api/releases/{name}/actions/{verb}</c>.</summary>
    public static IReadOnlyList<string> Verbs { get; } = ["check", "approve", "promote", "pause", "resume", "rollback", "abort"];

    private static readonly JsonSerializerOptions Strict = new(ShipBotJson.Options)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Registers the OpenAPI document (<c>/openapi/v1.json</c>) that describes every public endpoint.</summary>
    public static IServiceCollection AddShipBotOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "ShipBot";
            document.Info.Description = "Governed, progressive releases: the release API for pipelines (docs/api.md), the console, chat and alert receivers.";
            return Task.CompletedTask;
        }));

    /// <summary>Maps the write API, the long poll and the OpenAPI document.</summary>
    public static IEndpointRouteBuilder MapReleaseWriteApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapOpenApi();

        app.MapPost("/api/releases", CreateAsync)
            .AddEndpointFilter(RequireWriter)
            .Accepts<CreateReleaseRequest>("application/json")
            .Produces<ReleaseView>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("CreateRelease")
            .WithSummary("Start a release (releases:write). An Idempotency-Key header makes a retry create one release.");

        app.MapPost("/api/releases/{name}/actions/{verb}", ActAsync)
            .AddEndpointFilter(RequireWriter)
            .Accepts<ReleaseActionRequest>("application/json")
            .Produces<ReleaseView>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("ActOnRelease")
            .WithSummary("Act on a release (releases:write): check, approve, promote, pause, resume, rollback or abort, under the same role rules as chat.");

        app.MapGet("/api/releases/{name}", GetAsync)
            .RequireCaller(TokenScopes.ReleasesRead)
            .Produces<ReleaseView>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetRelease")
            .WithSummary("One release with its audit trail (releases:read). With wait=<state>, a long poll until that state, a later one or an end, or timeout seconds (default 30, at most 120).");
        return app;
    }

    /// <summary>A problem details answer (RFC 9457); <c>error</c> repeats the detail for clients of the first release API.</summary>
    public static IResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title, extensions: new Dictionary<string, object?> { ["error"] = detail });

    /// <summary>A 400 naming each field that is wrong.</summary>
    public static IResult Invalid(IDictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var first = errors.First();
        return TypedResults.ValidationProblem(
            errors,
            detail: "The request is invalid: see errors, by field. Nothing was changed.",
            title: "Invalid request",
            extensions: new Dictionary<string, object?> { ["error"] = $"{first.Key}: {string.Join(" ", first.Value)}" });
    }

    private static async Task<IResult> CreateAsync(HttpContext context, IReleaseCommands coordinator, IReleaseStore store, IEnumerable<IChatNotifier> notifiers, CancellationToken cancellationToken)
    {
        var (body, bodyError) = await ReadAsync<CreateReleaseRequest>(context, required: true, cancellationToken).ConfigureAwait(false);
        if (bodyError is not null)
        {
            return bodyError;
        }

        var errors = new Dictionary<string, string[]>();
        var service = body!.Service?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(service))
        {
            errors["service"] = ["Required: the service to release."];
        }
        else if (!ReleaseId.IsValidService(service))
        {
            errors["service"] = ["Not a service name (letters, digits, '.', '-', '_')."];
        }
        else if (!coordinator.Access.Services.TryGetValue(service, out _))
        {
            errors["service"] = [$"Unknown service: configured services are {string.Join(", ", coordinator.Access.Services.Keys)}."];
        }

        var version = body.Version?.Trim();
        if (string.IsNullOrEmpty(version))
        {
            errors["version"] = ["Required: the version to release."];
        }
        else if (!ReleaseId.IsValidVersion(version))
        {
            errors["version"] = ["Not a version (for example 1.4.2)."];
        }

        var changes = Texts(body.Changes, "changes", 50, 500, errors);
        var flags = Texts(body.Flags, "flags", 20, 100, errors);
        string? commit = null;
        if (!string.IsNullOrWhiteSpace(body.Commit))
        {
            commit = body.Commit.Trim().ToLowerInvariant();
            if (!ReleaseProvenance.IsCommit(commit))
            {
                errors["commit"] = ["Not a commit SHA (7 to 64 hexadecimal digits)."];
            }
        }

        var pullRequests = Texts(body.PullRequests, "pullRequests", 20, 2048, errors);
        for (var i = 0; i < pullRequests.Count; i++)
        {
            if (!ReleaseProvenance.IsLink(pullRequests[i]))
            {
                errors[$"pullRequests[{i}]"] = ["Not an absolute http(s) URL."];
            }
        }

        var run = string.IsNullOrWhiteSpace(body.PipelineRun) ? null : body.PipelineRun.Trim();
        if (run is not null && !ReleaseProvenance.IsLink(run))
        {
            errors["pipelineRun"] = ["Not an absolute http(s) URL."];
        }

        if (body.Notes is { Length: > 2000 })
        {
            errors["notes"] = ["At most 2000 characters."];
        }

        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var provenance = new ReleaseProvenance(commit, pullRequests, run);
        var command = new StartCommand(service!, version!, changes, flags)
        {
            Notes = string.IsNullOrWhiteSpace(body.Notes) ? null : body.Notes.Trim(),
            Provenance = provenance.IsEmpty ? null : provenance,
        };
        var channel = coordinator.Access.Services[service!].Channel;
        var reply = await SendAsync(context, coordinator, notifiers, channel, command, $"/ship start {service} {version}", cancellationToken).ConfigureAwait(false);
        if (reply.Refusal is null && reply.Release is { } created && ReleaseId.TryParse(created, out var id)
            && await store.GetAsync(id.Value, cancellationToken).ConfigureAwait(false) is { } release)
        {
            var view = ReleaseView.From(release, null) with { Message = reply.Text };
            return TypedResults.Created($"/api/releases/{id}", view);
        }

        return Refused(reply);
    }

    private static async Task<IResult> ActAsync(string name, string verb, HttpContext context, IReleaseCommands coordinator, IReleaseStore store, IEnumerable<IChatNotifier> notifiers, CancellationToken cancellationToken)
    {
        var (body, bodyError) = await ReadAsync<ReleaseActionRequest>(context, required: false, cancellationToken).ConfigureAwait(false);
        if (bodyError is not null)
        {
            return bodyError;
        }

        body ??= new ReleaseActionRequest();
        var errors = new Dictionary<string, string[]>();
        if (!ReleaseId.TryParse(name, out var parsed))
        {
            errors["name"] = [$"'{Shorten(name)}' is not a release name (service@version)."];
        }

        verb = verb.ToLowerInvariant();
        if (!Verbs.Contains(verb))
        {
            errors["verb"] = [$"Not a verb of this API: use {string.Join(", ", Verbs)}."];
        }

        var reason = string.IsNullOrWhiteSpace(body.Reason) ? null : body.Reason.Trim();
        if (reason is { Length: > 500 })
        {
            errors["reason"] = ["At most 500 characters."];
        }
        else if (reason is null && verb is "rollback" or "abort")
        {
            errors["reason"] = [$"Required: say why ({verb} is audited with its reason)."];
        }

        var items = Texts(body.Items, "items", 20, 100, errors);
        if (verb == "check" && items.Count == 0 && !errors.ContainsKey("items"))
        {
            errors["items"] = ["Required: the checklist item ids to tick."];
        }

        var evidence = string.IsNullOrWhiteSpace(body.Evidence) ? null : body.Evidence.Trim();
        if (evidence is { Length: > 1000 })
        {
            errors["evidence"] = ["At most 1000 characters."];
        }

        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var id = parsed!.Value;
        var release = id.ToString();
        ShipCommand command = verb switch
        {
            "check" => new CheckCommand(release, items) { Evidence = evidence },
            "approve" => new ApproveCommand(release),
            "promote" => new PromoteCommand(release, reason),
            "pause" => new PauseCommand(release),
            "resume" => new ResumeCommand(release),
            "rollback" => new RollbackCommand(release, reason!),
            _ => new AbortCommand(release, reason!),
        };
        var existing = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        var channel = existing?.Conversation.Channel
            ?? (coordinator.Access.Services.TryGetValue(id.Service, out var policy) ? policy.Channel : "releases");
        var reply = await SendAsync(context, coordinator, notifiers, channel, command, $"/ship {verb} {release}", cancellationToken).ConfigureAwait(false);
        if (reply.Refusal is not null)
        {
            return Refused(reply);
        }

        var after = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return after is null
            ? Problem(StatusCodes.Status404NotFound, "No such release", $"There is no release {id}.")
            : TypedResults.Ok(ReleaseView.From(after, null) with { Message = reply.Text });
    }

    private static async Task<IResult> GetAsync(string name, string? wait, string? timeout, IReleaseStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (!ReleaseId.TryParse(name, out var parsed))
        {
            errors["name"] = [$"'{Shorten(name)}' is not a release name (service@version)."];
        }

        ReleaseState? wanted = null;
        if (wait is not null)
        {
            if (Enum.TryParse<ReleaseState>(wait, ignoreCase: true, out var state) && !int.TryParse(wait, out _))
            {
                wanted = state;
            }
            else
            {
                errors["wait"] = [$"Not a state: use one of {string.Join(", ", Enum.GetNames<ReleaseState>())}."];
            }
        }

        var limit = DefaultWait;
        if (timeout is not null)
        {
            if (!int.TryParse(timeout, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                errors["timeout"] = [$"Whole seconds, 0 to {MaxWait.TotalSeconds:0}."];
            }
            else
            {
                // Capped, not refused: a pipeline asking for longer simply asks again.
                limit = TimeSpan.FromSeconds(Math.Min(seconds, MaxWait.TotalSeconds));
            }
        }

        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var id = parsed!.Value;
        var release = wanted is { } target
            ? await WaitAsync(store, id, target, limit, time, cancellationToken).ConfigureAwait(false)
            : await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (release is null)
        {
            return Problem(StatusCodes.Status404NotFound, "No such release", $"There is no release {id}.");
        }

        var audit = await store.GetAuditAsync(id, cancellationToken).ConfigureAwait(false);
        return TypedResults.Json(ReleaseView.From(release, audit), ShipBotJson.Options);
    }

    /// <summary>
    /// Reads the release until it reaches <paramref name="wanted"/> (or a later state of the main line,
    /// or an end), or until <paramref name="timeout"/> passes on <paramref name="time"/>; returns the
    /// release as last read (null when there is none).
    /// </summary>
    public static async Task<Release?> WaitAsync(IReleaseStore store, ReleaseId id, ReleaseState wanted, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            var release = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            var left = deadline - time.GetUtcNow();
            if (release is null || Reached(release.State, wanted) || left <= TimeSpan.Zero)
            {
                return release;
            }

            await Task.Delay(left < PollInterval ? left : PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether a release in <paramref name="state"/> is at or past <paramref name="wanted"/>, or has ended.</summary>
    public static bool Reached(ReleaseState state, ReleaseState wanted)
    {
        if (state == wanted || state.IsTerminal())
        {
            return true;
        }

        // The main line runs Draft → … → Completed in the enum's order; side states (paused, halted, rolling back) match only themselves.
        return state <= ReleaseState.Completed && wanted <= ReleaseState.Completed && state > wanted;
    }

    /// <summary>
    /// The caller of a write: a session (with its antiforgery token) or an API token with
    /// <c>releases:write</c>. Even the Demo console's open mode needs a token here: a pipeline's
    /// release must be requested by someone. Refusals are problem details.
    /// </summary>
    private static async ValueTask<object?> RequireWriter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var refusal = await CallerEndpoints.CheckAsync(context, TokenScopes.ReleasesWrite, antiforgery: true).ConfigureAwait(false);
        if (refusal is not null)
        {
            return AsProblem(refusal);
        }

        if (context.Caller() is null)
        {
            // Demo mode lets everything through unauthenticated; the write API still needs to know who asks.
            var result = await context.AuthenticateAsync(IdentitySchemes.Token).ConfigureAwait(false);
            var actor = result.Succeeded ? ShipBotClaims.ActorOf(result.Principal) : null;
            if (actor is null)
            {
                return Problem(StatusCodes.Status401Unauthorized, "Unauthorized", $"Send an API token (Authorization: Bearer <token>) with the {TokenScopes.ReleasesWrite} scope.");
            }

            if (!TokenScopes.Allows(actor.Scopes ?? [], TokenScopes.ReleasesWrite))
            {
                return Problem(StatusCodes.Status403Forbidden, "Forbidden", $"This API token lacks the {TokenScopes.ReleasesWrite} scope.");
            }

            context.Items[DemoActorItem] = actor;
        }

        return await next(invocation).ConfigureAwait(false);
    }

    private const string DemoActorItem = "shipbot:api-actor";

    private static Actor ActorOf(HttpContext context) =>
        context.Caller() ?? context.Items[DemoActorItem] as Actor ?? throw new InvalidOperationException("The write API ran without a caller.");

    /// <summary>The identity filter's refusal (401, 403, 429 as <c>{ error }</c>) as problem details, same status and words.</summary>
    private static IResult AsProblem(IResult refusal)
    {
        var status = (refusal as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status401Unauthorized;
        var detail = "Refused.";
        if ((refusal as IValueHttpResult)?.Value is { } value
            && JsonSerializer.SerializeToElement(value, ShipBotJson.Options) is { ValueKind: JsonValueKind.Object } json
            && json.TryGetProperty("error", out var error))
        {
            detail = error.GetString() ?? detail;
        }

        var title = status switch
        {
            StatusCodes.Status401Unauthorized => "Unauthorized",
            StatusCodes.Status403Forbidden => "Forbidden",
            StatusCodes.Status429TooManyRequests => "Too many requests",
            _ => "Refused",
        };
        return Problem(status, title, detail);
    }

    private static Task<CommandReply> SendAsync(HttpContext context, IReleaseCommands coordinator, IEnumerable<IChatNotifier> notifiers, string channel, ShipCommand command, string text, CancellationToken cancellationToken)
    {
        // The release is announced where people decide: Slack when it is on, else Teams, else the console.
        var platforms = notifiers.Select(n => n.Platform).ToList();
        var platform = new[] { "slack", "teams", "console" }.FirstOrDefault(p => platforms.Contains(p, StringComparer.OrdinalIgnoreCase)) ?? platforms.FirstOrDefault() ?? "console";
        var key = context.Request.Headers[IdempotencyKeyHeader].ToString();
        var requestId = string.IsNullOrWhiteSpace(key) ? Guid.NewGuid().ToString("N") : "api:" + key.Trim();
        var inbound = new InboundCommand(requestId, ActorOf(context), new Conversation(platform, channel), text) { Command = command };
        return coordinator.HandleAsync(inbound, cancellationToken);
    }

    private static IResult Refused(CommandReply reply) => reply.Refusal switch
    {
        RefusalKind.Forbidden => Problem(StatusCodes.Status403Forbidden, "Forbidden", reply.Text),
        RefusalKind.NotFound => Problem(StatusCodes.Status404NotFound, "Not found", reply.Text),
        RefusalKind.Unavailable => Problem(StatusCodes.Status503ServiceUnavailable, "State store unavailable", reply.Text),
        _ => Problem(StatusCodes.Status409Conflict, "Refused by the release's rules", reply.Text),
    };

    /// <summary>Reads a JSON body strictly (unknown fields are errors); an error names the field at fault.</summary>
    private static async Task<(T? Body, IResult? Error)> ReadAsync<T>(HttpContext context, bool required, CancellationToken cancellationToken)
        where T : class
    {
        var request = context.Request;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (buffer.Length == 0)
        {
            return required ? (null, Invalid(new Dictionary<string, string[]> { ["body"] = ["Required: a JSON object."] })) : (null, null);
        }

        if (request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, Invalid(new Dictionary<string, string[]> { ["body"] = [$"Send application/json, not {Shorten(type)}."] }));
        }

        try
        {
            var body = JsonSerializer.Deserialize<T>(buffer.ToArray(), Strict);
            return body is null
                ? (null, Invalid(new Dictionary<string, string[]> { ["body"] = ["Required: a JSON object, not null."] }))
                : (body, null);
        }
        catch (JsonException ex)
        {
            return (null, Invalid(new Dictionary<string, string[]> { [FieldOf(ex)] = [Describe(ex)] }));
        }
    }

    /// <summary>"$.pullRequests[1]" → "pullRequests[1]"; an unknown property → its name; else "body".</summary>
    private static string FieldOf(JsonException ex)
    {
        if (ex.Message.Contains("could not be mapped", StringComparison.Ordinal) && QuotedName().Match(ex.Message) is { Success: true } unknown)
        {
            return Shorten(unknown.Groups[1].Value);
        }

        var path = ex.Path?.TrimStart('$').TrimStart('.');
        return string.IsNullOrEmpty(path) ? "body" : Shorten(path);
    }

    private static string Describe(JsonException ex) =>
        ex.Message.Contains("could not be mapped", StringComparison.Ordinal) ? "Unknown field: see docs/api.md for the fields."
        : ex.Path is null or "$" ? "Not valid JSON (or not a JSON object)."
        : "Wrong type or not valid JSON here: see docs/api.md for the fields.";

    private static List<string> Texts(IReadOnlyList<string>? values, string field, int maxCount, int maxLength, Dictionary<string, string[]> errors)
    {
        var list = new List<string>();
        if (values is null)
        {
            return list;
        }

        if (values.Count > maxCount)
        {
            errors[field] = [$"At most {maxCount} entries."];
            return list;
        }

        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i]?.Trim();
            if (string.IsNullOrEmpty(value))
            {
                errors[$"{field}[{i}]"] = ["Empty: leave it out instead."];
            }
            else if (value.Length > maxLength)
            {
                errors[$"{field}[{i}]"] = [$"At most {maxLength} characters."];
            }
            else
            {
                list.Add(value);
            }
        }

        return list;
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";

    [GeneratedRegex("'([^']{1,200})'")]
    private static partial Regex QuotedName();
}
