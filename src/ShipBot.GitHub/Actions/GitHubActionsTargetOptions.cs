namespace ShipBot.GitHub.Actions;

/// <summary>
/// A service's GitHub Actions deployment target (<c>ShipBot:Services:&lt;name&gt;:Deployment:GitHubActions</c>):
/// every stage change dispatches <see cref="Workflow"/> (<c>workflow_dispatch</c>) with the inputs
/// <c>service</c>, <c>version</c>, <c>environment</c>, <c>percent</c>, <c>release</c>, <c>rollback</c>
/// and <c>dispatch_id</c>, and the stage is done when that run completes successfully.
/// </summary>
public sealed class GitHubActionsTargetOptions
{
    /// <summary>The repository's owner. Default the service's <c>GitHub:Owner</c>.</summary>
    public string? Owner { get; set; }

    /// <summary>The repository. Default the service's <c>GitHub:Repo</c>.</summary>
    public string? Repo { get; set; }

    /// <summary>The workflow's file name (<c>deploy.yml</c>) or numeric id. Required.</summary>
    public string? Workflow { get; set; }

    /// <summary>The branch or tag whose workflow file runs. Default <c>main</c>.</summary>
    public string Ref { get; set; } = "main";

    /// <summary>Credentials for this workflow; default the service's <c>GitHub:Auth</c>, then <c>ShipBot:GitHub:Auth</c>.</summary>
    public GitHubAuthOptions? Auth { get; set; }

    /// <summary>How often the run is checked while it runs (and looked for when GitHub did not say which run it started). Default 15 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long ShipBot follows a run before it counts the stage as failed (the run itself goes on). Default 1 hour.</summary>
    public TimeSpan RunTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long ShipBot looks for the run it dispatched when GitHub did not answer with its id
    /// (older GitHub Enterprise Server). Default 3 minutes.
    /// </summary>
    public TimeSpan FindRunTimeout { get; set; } = TimeSpan.FromMinutes(3);
}
