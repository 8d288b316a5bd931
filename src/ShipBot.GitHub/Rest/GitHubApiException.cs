using System.Net;

namespace ShipBot.GitHub.Rest;

/// <summary>
/// GitHub answered with an error. <see cref="IsTransient"/> says whether trying again later can
/// help (a 5xx answer, a rate limit that outlasted ShipBot's patience) or not (a 4xx refusal:
/// bad credentials, missing permission, unknown workflow, invalid input).
/// </summary>
public sealed class GitHubApiException : Exception
{
    public GitHubApiException(string operation, HttpStatusCode status, string message, string? documentationUrl = null, bool rateLimited = false)
        : base($"GitHub {operation}: HTTP {(int)status} {message}")
    {
        Operation = operation;
        Status = status;
        GitHubMessage = message;
        DocumentationUrl = documentationUrl;
        IsRateLimited = rateLimited;
    }

    public string Operation { get; }

    public HttpStatusCode Status { get; }

    /// <summary>GitHub's own message (never contains credentials).</summary>
    public string GitHubMessage { get; }

    public string? DocumentationUrl { get; }

    /// <summary>The request was refused by a rate limit and ShipBot stopped waiting for it.</summary>
    public bool IsRateLimited { get; }

    public bool IsTransient => IsRateLimited || (int)Status >= 500 || Status is HttpStatusCode.RequestTimeout;
}
