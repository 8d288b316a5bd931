using Microsoft.Extensions.Options;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;

namespace ShipBot.Host;

/// <summary>Start-up validation with messages that say which key is wrong and why.</summary>
public sealed partial class ShipBotOptionsValidator : IValidateOptions<ShipBotOptions>
{
    public ValidateOptionsResult Validate(string? name, ShipBotOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>(options.ConfigurationErrors);
        if (options.EvaluationInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add("ShipBot:EvaluationInterval must be at least 1 second.");
        }

        // A value that names no source or target was reported while binding (ShipBotConfiguration).
        var simulatedHealth = options.Health.Source == HealthSourceKind.Simulated;
        if (options.Deployment.Target != DeploymentTargetKind.Simulated)
        {
            errors.Add($"ShipBot:Deployment:Target '{options.Deployment.Target}' is unknown: the default target is Simulated; give a service its own Deployment:Webhook or Deployment:Command.");
        }

        var am = options.Alertmanager;
        if (!string.IsNullOrEmpty(am.Username) != !string.IsNullOrEmpty(am.Password))
        {
            errors.Add("ShipBot:Alertmanager: set both Username and Password for basic auth (or a BearerToken).");
        }

        if (!string.IsNullOrEmpty(am.BearerToken) && am.BearerToken.Length < 16)
        {
            errors.Add("ShipBot:Alertmanager:BearerToken is too short: use at least 16 random characters.");
        }

        errors.AddRange(ShipBot.GitHub.GitHubOptionsValidation.Validate(options.GitHub));
        if (options.Flagger.IsEnabled && options.Flagger.BearerToken!.Length < 16)
        {
            errors.Add("ShipBot:Flagger:BearerToken is too short: use at least 16 random characters.");
        }

        foreach (var shared in options.Services.Where(s => s.Value.Flagger is { Namespace: not null, Canary: not null })
                     .GroupBy(s => $"{s.Value.Flagger!.Namespace}/{s.Value.Flagger.Canary}", StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add($"ShipBot:Services: the Flagger canary {shared.Key} is mapped to several services ({string.Join(", ", shared.Select(s => s.Key))}); map it to one.");
        }

        foreach (var (service, settings) in options.Services)
        {
            var key = $"ShipBot:Services:{service}";
            if (!ReleaseId.IsValidService(service.ToLowerInvariant()))
            {
                errors.Add($"{key}: '{service}' is not a valid service name (letters, digits, '.', '-', '_').");
                continue;
            }

            if (settings.Requesters.Count == 0)
            {
                errors.Add($"{key}:Requesters is empty: nobody could start a release.");
            }

            foreach (var (target, outcome) in settings.Outcomes)
            {
                errors.AddRange(outcome is null ? [$"{key}:Outcomes:{target} is empty: give its Query and Value."] : outcome.Validate($"{key}:Outcomes:{target}"));
            }

            if (settings.Approvers.Count < settings.RequiredApprovals)
            {
                errors.Add($"{key}: {settings.RequiredApprovals} approvals are required but only {settings.Approvers.Count} approver(s) are configured.");
            }

            if (!string.IsNullOrWhiteSpace(settings.HealthUrl) && !Health.Readiness.HttpReadinessVerifier.IsHttpUrl(settings.HealthUrl, out _))
            {
                errors.Add($"{key}:HealthUrl '{settings.HealthUrl}' is not an absolute http(s) URL.");
            }

            ValidateHealth($"{key}:Health", settings.Health, simulatedHealth, errors);
            ValidateHAProxyHealth($"{key}:Health:HAProxy", settings, errors);
            errors.AddRange(settings.Flagger?.Validate($"{key}:Flagger") ?? []);
            ValidateJudge(key, settings, simulatedHealth, errors);
            ValidateDeployment(key, settings, options.Deployment.Target, errors, options.GitHub);
            errors.AddRange(ShipBot.GitHub.GitHubOptionsValidation.ValidateService(key, settings.GitHub, options.GitHub));

            var policy = settings.ToPolicy(service);
            foreach (var problem in policy.Plan.Validate(ReleaseKind.Standard))
            {
                errors.Add($"{key}:Stages: {problem}.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateHealth(string key, ServiceHealthOptions health, bool simulatedFallback, List<string> errors)
    {
        if (!health.HasSources && !simulatedFallback)
        {
            errors.Add($"{key}: no health source (Prometheus or Probes) and ShipBot:Health:Source is None: this service could never be judged healthy.");
        }

        if (health.Prometheus is { } prometheus)
        {
            if (prometheus.Url is null || !IsHttp(prometheus.Url))
            {
                errors.Add($"{key}:Prometheus:Url must be an absolute http(s) URL such as http://prometheus:9090/.");
            }

            if (prometheus.Timeout <= TimeSpan.Zero)
            {
                errors.Add($"{key}:Prometheus:Timeout must be positive.");
            }

            foreach (var stage in prometheus.StageQueries.Keys.Where(k => !Enum.TryParse<StageKind>(k, true, out _)))
            {
                errors.Add($"{key}:Prometheus:StageQueries: '{stage}' is not a stage kind (Canary, EarlyAdopters, GeneralAvailability, Full).");
            }

            foreach (var (metric, query) in prometheus.Queries.Concat(prometheus.StageQueries.Values.SelectMany(q => q)))
            {
                if (query.Contains("{{", StringComparison.Ordinal) && System.Text.RegularExpressions.Regex.Matches(query, @"\{\{(\w+)\}\}").Any(m => m.Groups[1].Value is not ("service" or "version" or "stage" or "percent" or "window" or "selector")))
                {
                    errors.Add($"{key}:Prometheus:Queries:{metric}: unknown placeholder; use {{{{service}}}}, {{{{version}}}}, {{{{stage}}}}, {{{{percent}}}}, {{{{window}}}} or {{{{selector}}}}.");
                }
            }
        }

        if (health.Probes is { } probes)
        {
            if (probes.Instances.Count == 0)
            {
                errors.Add($"{key}:Probes:Instances is empty: list the base URL of every instance.");
            }

            foreach (var instance in probes.Instances.Where(i => !IsHttp(i)))
            {
                errors.Add($"{key}:Probes:Instances: '{instance}' is not an absolute http(s) URL.");
            }

            if (probes.Timeout <= TimeSpan.Zero)
            {
                errors.Add($"{key}:Probes:Timeout must be positive.");
            }
        }

        if (health.MaxInconclusive < 0)
        {
            errors.Add($"{key}:MaxInconclusive must be 0 (never halt) or more.");
        }

        for (var i = 0; i < health.Checks.Count; i++)
        {
            var check = health.Checks[i];
            if (string.IsNullOrWhiteSpace(check.Metric))
            {
                errors.Add($"{key}:Checks:{i}:Metric is empty.");
            }

            if (check.Max is null && check.Min is null && check.MaxAboveBaseline is null && check.MaxRatioToBaseline is null)
            {
                errors.Add($"{key}:Checks:{i} ({check.Metric}) has no limit: set Max, Min, MaxAboveBaseline or MaxRatioToBaseline.");
            }
        }
    }

    private static void ValidateDeployment(string key, ServiceOptions settings, DeploymentTargetKind fallback, List<string> errors, ShipBot.GitHub.GitHubOptions github)
    {
        var deployment = settings.Deployment;
        switch (deployment.EffectiveTarget(fallback))
        {
            case DeploymentTargetKind.Webhook:
                if (deployment.Webhook?.Url is not { } url || !IsHttp(url))
                {
                    errors.Add($"{key}:Deployment:Webhook:Url must be an absolute http(s) URL.");
                }

                if (deployment.Webhook?.Secret is not { Length: >= 16 })
                {
                    errors.Add($"{key}:Deployment:Webhook:Secret must be set (at least 16 characters; through the environment, e.g. ShipBot__Services__<name>__Deployment__Webhook__Secret): every webhook is signed.");
                }

                if (deployment.Webhook is { } w && (w.Timeout <= TimeSpan.Zero || w.MaxRetries < 0 || w.FailuresBeforeBreaking < 1))
                {
                    errors.Add($"{key}:Deployment:Webhook: Timeout must be positive, MaxRetries 0 or more, FailuresBeforeBreaking 1 or more.");
                }

                break;
            case DeploymentTargetKind.Command:
                if (string.IsNullOrWhiteSpace(deployment.Command?.Path))
                {
                    errors.Add($"{key}:Deployment:Command:Path is empty.");
                }
                else if (Path.IsPathRooted(deployment.Command.Path) && !File.Exists(deployment.Command.Path))
                {
                    errors.Add($"{key}:Deployment:Command:Path '{deployment.Command.Path}' does not exist.");
                }

                if (deployment.Command is { Timeout: var t } && t <= TimeSpan.Zero)
                {
                    errors.Add($"{key}:Deployment:Command:Timeout must be positive.");
                }

                break;
            case DeploymentTargetKind.GitHubActions:
                errors.AddRange(ShipBot.GitHub.GitHubOptionsValidation.ValidateActionsTarget(key, deployment.GitHubActions, settings.GitHub, github));
                break;
            case DeploymentTargetKind.ArgoRollouts or DeploymentTargetKind.GatewayApi or DeploymentTargetKind.HAProxy:
                ValidateRouterTarget($"{key}:Deployment", deployment, errors);
                break;
            case DeploymentTargetKind.Simulated:
                break;
            default:
                errors.Add($"{key}:Deployment:Target '{deployment.Target}' is unknown: use Webhook, Command, GitHubActions, ArgoRollouts, GatewayApi, HAProxy or Simulated.");
                break;
        }

        foreach (var url in settings.SmokeChecks.Urls.Where(u => !Uri.TryCreate(u.Replace("{{", string.Empty, StringComparison.Ordinal).Replace("}}", string.Empty, StringComparison.Ordinal), UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")))
        {
            errors.Add($"{key}:SmokeChecks:Urls: '{url}' is not an absolute http(s) URL.");
        }
    }

    private static bool IsHttp(Uri url) => url.IsAbsoluteUri && url.Scheme is "http" or "https";
}
