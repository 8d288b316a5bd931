using System.Text.Json;
using System.Text.Json.Serialization;

namespace ShipBot.GitHub.Rest;

// The parts of GitHub's REST payloads ShipBot sends and reads (snake_case on the wire). Only the
// fields ShipBot uses are declared: GitHub adds fields over time and unknown ones are ignored.

/// <summary>An installation access token (<c>POST /app/installations/{id}/access_tokens</c>).</summary>
public sealed record InstallationToken(string Token, DateTimeOffset ExpiresAt);

/// <summary>The app's installation on a repository (<c>GET /repos/{owner}/{repo}/installation</c>).</summary>
public sealed record RepositoryInstallation(long Id);

/// <summary>The body of <c>POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches</c>.</summary>
public sealed record WorkflowDispatchRequest(string Ref, IReadOnlyDictionary<string, string> Inputs, bool? ReturnRunDetails);

/// <summary>The answer to a dispatch with <c>return_run_details</c>: the run it started.</summary>
public sealed record WorkflowDispatchResponse(long WorkflowRunId, string RunUrl, string HtmlUrl);

/// <summary>A workflow run. <see cref="Status"/> is queued, in_progress, completed, …; <see cref="Conclusion"/> is set when completed.</summary>
public sealed record WorkflowRun(
    long Id,
    string? Name,
    string? DisplayTitle,
    string? Status,
    string? Conclusion,
    string HtmlUrl,
    DateTimeOffset CreatedAt,
    string? Event,
    long RunNumber,
    string? HeadBranch);

public sealed record WorkflowRunList(int TotalCount, IReadOnlyList<WorkflowRun> WorkflowRuns);

/// <summary>What ShipBot puts in a deployment's payload: which release it belongs to.</summary>
public sealed record DeploymentPayload(string Release, string Service, string Version, string Source = "shipbot");

/// <summary>The body of <c>POST /repos/{owner}/{repo}/deployments</c>.</summary>
public sealed record CreateDeploymentRequest(
    string Ref,
    string Task,
    bool AutoMerge,
    IReadOnlyList<string> RequiredContexts,
    DeploymentPayload Payload,
    string Environment,
    string Description,
    bool ProductionEnvironment,
    bool TransientEnvironment);

/// <summary>A deployment. <see cref="Payload"/> is an object or a string (GitHub keeps what it was given).</summary>
public sealed record Deployment(long Id, string Environment, string Ref, string Task, JsonElement Payload, string? Description);

/// <summary>The body of <c>POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses</c>.</summary>
public sealed record CreateDeploymentStatusRequest(string State, string Description, string? LogUrl, bool AutoInactive);

public sealed record DeploymentStatus(long Id, string State, string? Description);

/// <summary>GitHub's error body: a message, a documentation link and, for 422, the failed fields.</summary>
public sealed record GitHubError(string? Message, string? DocumentationUrl, JsonElement? Errors);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InstallationToken))]
[JsonSerializable(typeof(RepositoryInstallation))]
[JsonSerializable(typeof(WorkflowDispatchRequest))]
[JsonSerializable(typeof(WorkflowDispatchResponse))]
[JsonSerializable(typeof(WorkflowRun))]
[JsonSerializable(typeof(WorkflowRunList))]
[JsonSerializable(typeof(CreateDeploymentRequest))]
[JsonSerializable(typeof(Deployment))]
[JsonSerializable(typeof(IReadOnlyList<Deployment>))]
[JsonSerializable(typeof(CreateDeploymentStatusRequest))]
[JsonSerializable(typeof(DeploymentStatus))]
[JsonSerializable(typeof(IReadOnlyList<DeploymentStatus>))]
[JsonSerializable(typeof(GitHubError))]
internal sealed partial class GitHubJson : JsonSerializerContext;
