using System.ComponentModel.DataAnnotations;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Settings;

namespace ShipBot.Host;

/// <summary>The <c>ShipBot</c> configuration section (appsettings.json, overridden by environment variables such as <c>ShipBot__Services__demo__RequiredApprovals=2</c>).</summary>
public sealed class ShipBotOptions
{
    public const string Section = "ShipBot";

    /// <summary>How often rolling-out releases are health-checked. Default 30 s; at least 1 s.</summary>
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often flag-cleanup and post-incident reminders repeat. Default 1 day.</summary>
    public TimeSpan ReminderInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Global admins: user ids or group:&lt;id&gt;.</summary>
    public List<string> Admins { get; set; } = [];

    /// <summary>Users the local console lets you act as (id → display name and groups).</summary>
    public Dictionary<string, UserOptions> Users { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    [Required]
    [MinLength(1, ErrorMessage = "Configure at least one service under ShipBot:Services.")]
    public Dictionary<string, ServiceOptions> Services { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public HealthOptions Health { get; set; } = new();

    public DeploymentOptions Deployment { get; set; } = new();

    /// <summary>Redis store settings (key prefix, retries); used when <c>ConnectionStrings:Redis</c> is set.</summary>
    public ShipBot.Redis.RedisStoreOptions Redis { get; set; } = new();

    /// <summary>The Alertmanager webhook receiver (<c>POST /hooks/alertmanager</c>); enabled when credentials are set.</summary>
    public ShipBot.Health.Alertmanager.AlertmanagerOptions Alertmanager { get; set; } = new();

    /// <summary>The Flagger gate (<c>POST /hooks/flagger/{gate}</c>); enabled when its bearer token is set.</summary>
    public FlaggerOptions Flagger { get; set; } = new();

    /// <summary>How often a replica arms the timers of active releases it does not know yet (started elsewhere, or orphaned by a lost replica). Default 10 s.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>GitHub: API URL, app or token credentials, ShipBot's public URL for links from GitHub (docs/github.md).</summary>
    public ShipBot.GitHub.GitHubOptions GitHub { get; set; } = new();
    /// <summary>Problems found while binding (a value that names nothing ShipBot knows), reported by start-up validation with the rest.</summary>
    internal List<string> ConfigurationErrors { get; } = [];
}

/// <summary>Where a service's traffic changes go (<c>ShipBot:Deployment:Target</c>, <c>ShipBot:Services:&lt;name&gt;:Deployment:Target</c>; any case).</summary>
public enum DeploymentTargetKind
{
    /// <summary>The simulated target (demos and tests): every call succeeds after <see cref="DeploymentOptions.SimulatedLatency"/>.</summary>
    Simulated,

    /// <summary>A signed HTTP webhook to the team's CI/CD system (<c>Deployment:Webhook</c>).</summary>
    Webhook,

    /// <summary>A program run once per traffic change (<c>Deployment:Command</c>).</summary>
    Command,

    /// <summary>A GitHub Actions workflow run per stage (<c>Deployment:GitHubActions</c>).</summary>
    GitHubActions,

    /// <summary>An Argo Rollouts Rollout whose canary weight ShipBot sets (<c>Deployment:ArgoRollouts</c>).</summary>
    ArgoRollouts,

    /// <summary>A Gateway API HTTPRoute whose backend weights ShipBot sets (<c>Deployment:GatewayApi</c>).</summary>
    GatewayApi,

    /// <summary>An HAProxy backend whose server weights ShipBot sets over the runtime API (<c>Deployment:HAProxy</c>).</summary>
    HAProxy,
}

/// <summary>The health source of services without their own (<c>ShipBot:Health:Source</c>; any case).</summary>
public enum HealthSourceKind
{
    /// <summary>Simulated metrics, changed with <c>/ship simulate</c> (demos and tests).</summary>
    Simulated,

    /// <summary>None: such a service's health is inconclusive, so it never promotes; start-up refuses it.</summary>
    None,
}

public sealed class UserOptions
{
    public string? Name { get; set; }

    public List<string> Groups { get; set; } = [];
}

public sealed class HealthOptions
{
    /// <summary>
    /// The health source of services that configure none of their own (<c>Health:Prometheus</c>,
    /// <c>Health:Probes</c>): Simulated (default, for demos and tests) or None (such a service's
    /// health is inconclusive, so it never promotes; start-up refuses it).
    /// </summary>
    public HealthSourceKind Source { get; set; } = HealthSourceKind.Simulated;
}

/// <summary>A service's health sources and checks (<c>ShipBot:Services:&lt;name&gt;:Health</c>).</summary>
public sealed class ServiceHealthOptions
{
    public ShipBot.Health.Prometheus.PrometheusOptions? Prometheus { get; set; }

    public ShipBot.Health.Probes.ProbeOptions? Probes { get; set; }

    /// <summary>HAProxy's exporter read through Prometheus (backend and servers default to <c>Deployment:HAProxy</c>'s).</summary>
    public ShipBot.Health.HAProxy.HAProxyHealthOptions? HAProxy { get; set; }

    /// <summary>Inconclusive evaluations in a row that halt a release for a human. Default 3; 0 never halts.</summary>
    public int MaxInconclusive { get; set; } = 3;

    /// <summary>Extra checks (or new limits for a built-in metric): absolute or relative to the baseline, from a stage on.</summary>
    public List<CustomCheckOptions> Checks { get; set; } = [];

    public bool HasSources => Prometheus is not null || Probes is not null || HAProxy is not null;
}

public sealed class CustomCheckOptions
{
    public string Metric { get; set; } = string.Empty;

    public double? Max { get; set; }

    public double? Min { get; set; }

    public double? MaxAboveBaseline { get; set; }

    public double? MaxRatioToBaseline { get; set; }

    public StageKind FromStage { get; set; } = StageKind.Canary;

    public BreachAction Action { get; set; } = BreachAction.Rollback;

    public CustomCheck ToCheck() => new()
    {
        Metric = Metric,
        Max = Max,
        Min = Min,
        MaxAboveBaseline = MaxAboveBaseline,
        MaxRatioToBaseline = MaxRatioToBaseline,
        FromStage = FromStage,
        Action = Action,
    };
}

/// <summary>A service's deployment target (<c>ShipBot:Services:&lt;name&gt;:Deployment</c>).</summary>
public sealed class ServiceDeploymentOptions
{
    /// <summary>Webhook, Command, GitHubActions, ArgoRollouts, GatewayApi, HAProxy or Simulated (any case). Default: the one whose settings are given (a webhook URL, a command path, a workflow, a Rollout, an HTTPRoute, an HAProxy backend), else ShipBot:Deployment:Target.</summary>
    public DeploymentTargetKind? Target { get; set; }

    public ShipBot.Deploy.Webhook.WebhookTargetOptions? Webhook { get; set; }

    public ShipBot.Deploy.Command.CommandTargetOptions? Command { get; set; }

    /// <summary>Each stage runs a GitHub Actions workflow (docs/deployment-targets.md#github-actions).</summary>
    public ShipBot.GitHub.Actions.GitHubActionsTargetOptions? GitHubActions { get; set; }

    public ShipBot.Deploy.ArgoRollouts.ArgoRolloutsTargetOptions? ArgoRollouts { get; set; }

    public ShipBot.Deploy.GatewayApi.GatewayApiTargetOptions? GatewayApi { get; set; }

    public ShipBot.Deploy.HAProxy.HAProxyTargetOptions? HAProxy { get; set; }

    public DeploymentTargetKind EffectiveTarget(DeploymentTargetKind fallback) =>
        Target ?? (Webhook?.Url is not null ? DeploymentTargetKind.Webhook
            : Command?.Path is not null ? DeploymentTargetKind.Command
            : GitHubActions?.Workflow is not null ? DeploymentTargetKind.GitHubActions
            : RouterTargets.Configured(this) ?? fallback);
}

public sealed class DeploymentOptions
{
    /// <summary>The target of services without their own: Simulated (default, and the only one allowed here; a webhook or command target belongs to a service).</summary>
    public DeploymentTargetKind Target { get; set; } = DeploymentTargetKind.Simulated;

    /// <summary>How long each simulated deployment call takes. Default 200 ms.</summary>
    public TimeSpan SimulatedLatency { get; set; } = TimeSpan.FromMilliseconds(200);
}

public sealed class StageOptions
{
    public StageKind Kind { get; set; }

    public int Percent { get; set; }

    public TimeSpan Bake { get; set; }

    public bool NeedsApproval { get; set; }
}

/// <summary>One service: roles, stage plan, thresholds. Defaults are those of docs/release-process.md.</summary>
public sealed class ServiceOptions
{
    public string Channel { get; set; } = "releases";

    public List<string> Requesters { get; set; } = [];

    public List<string> Approvers { get; set; } = [];

    public List<string> OnCall { get; set; } = [];

    [Range(1, 10)]
    public int RequiredApprovals { get; set; } = 1;

    /// <summary>Staging bake time. Default 10 min.</summary>
    public TimeSpan? StagingBake { get; set; }

    /// <summary>Production stages; default canary 5 % 30 min → early adopters 25 % 2 h → GA 50 % 4 h → full 100 %.</summary>
    public List<StageOptions>? Stages { get; set; }

    /// <summary>Post-deployment validation window. Default 1 h.</summary>
    public TimeSpan? ValidationWindow { get; set; }

    public HealthThresholds Thresholds { get; set; } = new();

    public string? HealthUrl { get; set; }

    public string? Runbook { get; set; }

    public ServiceHealthOptions Health { get; set; } = new();

    public ServiceDeploymentOptions Deployment { get; set; } = new();

    /// <summary>The service's GitHub repository: its releases show under the repository's Deployments (docs/github.md).</summary>
    public ShipBot.GitHub.ServiceGitHubOptions? GitHub { get; set; }

    /// <summary>HTTP smoke checks run after the staging deployment (and by webhook and command targets).</summary>
    public ShipBot.Deploy.Smoke.SmokeCheckOptions SmokeChecks { get; set; } = new();

    /// <summary>The Flagger canary whose gates this service's releases answer (docs/deployment-targets.md); none by default.</summary>
    public ServiceFlaggerOptions? Flagger { get; set; }

    public TimeSpan? ConsultTimeout { get; set; }

    public List<TimeSpan>? OutcomeCheckpoints { get; set; }

    /// <summary>Measured outcome targets by name (docs/operate.md); none by default.</summary>
    public Dictionary<string, ShipBot.Core.Outcomes.OutcomeTargetOptions> Outcomes { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public TimeSpan? HotfixMaxBake { get; set; }

    /// <summary>How the partial stages are judged: the threshold rule (default) or the sequential judge (docs/judge.md).</summary>
    public JudgeOptions Judge { get; set; } = new();

    public ServicePolicy ToPolicy(string name)
    {
        var defaults = StagePlan.Default;
        var plan = new StagePlan(
            StagingBake ?? defaults.StagingBake,
            Stages is { Count: > 0 } ? Stages.Select(s => new Stage(s.Kind, s.Percent, s.Bake, s.NeedsApproval)).ToList() : defaults.Stages,
            ValidationWindow ?? defaults.ValidationWindow);
        var policy = new ServicePolicy
        {
            Name = name.ToLowerInvariant(),
            Channel = Channel,
            Requesters = Requesters,
            Approvers = Approvers,
            OnCall = OnCall,
            RequiredApprovals = RequiredApprovals,
            Plan = plan,
            Thresholds = Health.Checks.Count == 0 ? Thresholds : Thresholds with { Checks = [.. Health.Checks.Select(c => c.ToCheck())] },
            MaxInconclusive = Health.MaxInconclusive,
            HealthUrl = HealthUrl,
            Runbook = Runbook,
        };
        return policy with
        {
            ConsultTimeout = ConsultTimeout ?? policy.ConsultTimeout,
            OutcomeCheckpoints = OutcomeCheckpoints is { Count: > 0 } ? OutcomeCheckpoints : policy.OutcomeCheckpoints,
            Outcomes = Outcomes.Count == 0 || Outcomes.Any(o => o.Value.Validate(o.Key).Count > 0) ? policy.Outcomes : new ShipBot.Core.Outcomes.OutcomeTargetCatalog(Outcomes),
            HotfixMaxBake = HotfixMaxBake ?? policy.HotfixMaxBake,
            Judge = Judge.ToSettings(),
        };
    }
}
