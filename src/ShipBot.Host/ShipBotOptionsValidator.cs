using Microsoft.Extensions.Options;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;

namespace ShipBot.Host;

/// <summary>Start-up validation with messages that say which key is wrong and why.</summary>
public sealed class ShipBotOptionsValidator : IValidateOptions<ShipBotOptions>
{
    public ValidateOptionsResult Validate(string? name, ShipBotOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.EvaluationInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add("ShipBot:EvaluationInterval must be at least 1 second.");
        }

        if (!string.Equals(options.Health.Source, "Simulated", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"ShipBot:Health:Source '{options.Health.Source}' is not supported yet; use Simulated.");
        }

        if (!string.Equals(options.Deployment.Target, "Simulated", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"ShipBot:Deployment:Target '{options.Deployment.Target}' is not supported yet; use Simulated.");
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

            if (settings.Approvers.Count < settings.RequiredApprovals)
            {
                errors.Add($"{key}: {settings.RequiredApprovals} approvals are required but only {settings.Approvers.Count} approver(s) are configured.");
            }

            if (!string.IsNullOrWhiteSpace(settings.HealthUrl) && !Health.Readiness.HttpReadinessVerifier.IsHttpUrl(settings.HealthUrl, out _))
            {
                errors.Add($"{key}:HealthUrl '{settings.HealthUrl}' is not an absolute http(s) URL.");
            }

            var policy = settings.ToPolicy(service);
            foreach (var problem in policy.Plan.Validate(ReleaseKind.Standard))
            {
                errors.Add($"{key}:Stages: {problem}.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
