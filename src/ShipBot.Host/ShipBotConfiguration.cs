using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Primitives;

namespace ShipBot.Host;

/// <summary>
/// Binds the <c>ShipBot</c> section into <see cref="ShipBotOptions"/> in time linear in the number of
/// configuration keys. The framework's binder walks a section's children by scanning every key of
/// every provider, once per section: with thousands of services (tens of thousands of keys) that is
/// quadratic, minutes at start-up. Here every provider's keys under <c>ShipBot:Services</c> are read
/// once and grouped by service, and each service is bound by the same framework binder from a
/// configuration of its own keys only. Everything else in the section is bound as before. Keys,
/// precedence (a later source overrides an earlier one) and conversions are the framework's.
/// Option values that must name one of a fixed set (deployment targets, health sources) are
/// checked first, so a bad one is reported by start-up validation naming the key, like every other
/// mistake, instead of failing the binder.
/// </summary>
public static class ShipBotConfiguration
{
    private const string ServicesKey = "Services";
    private static readonly string ServicesPrefix = $"{ShipBotOptions.Section}:{ServicesKey}:";

    /// <summary>Binds <paramref name="configuration"/>'s <c>ShipBot</c> section into <paramref name="options"/>.</summary>
    public static void Bind(IConfiguration configuration, ShipBotOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        var section = configuration.GetSection(ShipBotOptions.Section);
        var hidden = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        CheckName<DeploymentTargetKind>(section, "Deployment:Target", hidden, options.ConfigurationErrors,
            "is unknown: the default target is Simulated; give a service its own Deployment:Webhook, Command, GitHubActions, ArgoRollouts, GatewayApi or HAProxy.");
        CheckName<HealthSourceKind>(section, "Health:Source", hidden, options.ConfigurationErrors,
            "is unknown: use Simulated, or None and give every service its own Health:Prometheus or Health:Probes.");
        new Filtered(section, path => hidden.Contains(path) || path.Equals(ServicesPrefix[..^1], StringComparison.OrdinalIgnoreCase)).Bind(options);

        foreach (var (name, keys) in ServiceKeys(configuration, section))
        {
            var key = ServicesPrefix + name;
            var targetKey = $"{key}:Deployment:Target";
            if (keys.TryGetValue(targetKey, out var target) && target is not null && !IsName<DeploymentTargetKind>(target))
            {
                options.ConfigurationErrors.Add($"{targetKey} '{target}' is unknown: use Webhook, Command, GitHubActions, ArgoRollouts, GatewayApi, HAProxy or Simulated.");
                keys.Remove(targetKey);
            }

            CheckJudgeNames(key, keys, options.ConfigurationErrors);
            var service = options.Services.TryGetValue(name, out var existing) ? existing : new ServiceOptions();
            var own = new ConfigurationRoot([new MemoryConfigurationProvider(new MemoryConfigurationSource { InitialData = keys })]);
            own.GetSection(key).Bind(service);
            options.Services[name] = service;
        }
    }

    /// <summary>A judge's Kind and each metric's Action must name one of their values: a bad one is reported naming its key and left out of binding.</summary>
    private static void CheckJudgeNames(string serviceKey, Dictionary<string, string?> keys, List<string> errors)
    {
        var judge = $"{serviceKey}:Judge:";
        foreach (var (key, value) in keys.Where(k => k.Key.StartsWith(judge, StringComparison.OrdinalIgnoreCase)).ToList())
        {
            var rest = key[judge.Length..];
            if (value is null)
            {
                continue;
            }

            if (rest.Equals("Kind", StringComparison.OrdinalIgnoreCase) && !IsName<Core.Judging.JudgeKind>(value))
            {
                errors.Add($"{key} '{value}' is unknown: use Threshold or Sequential.");
                keys.Remove(key);
            }
            else if (rest.StartsWith("Metrics:", StringComparison.OrdinalIgnoreCase) && rest.EndsWith(":Action", StringComparison.OrdinalIgnoreCase)
                && !IsName<Core.Health.BreachAction>(value))
            {
                errors.Add($"{key} '{value}' is unknown: use Rollback or Consult.");
                keys.Remove(key);
            }
        }
    }

    /// <summary>Whether <paramref name="value"/> is one of <typeparamref name="T"/>'s names (any case; numbers are not names).</summary>
    public static bool IsName<T>(string value)
        where T : struct, Enum =>
        Enum.GetNames<T>().Contains(value, StringComparer.OrdinalIgnoreCase);

    private static void CheckName<T>(IConfigurationSection section, string relativeKey, HashSet<string> hidden, List<string> errors, string problem)
        where T : struct, Enum
    {
        var value = section[relativeKey];
        if (value is not null && !IsName<T>(value))
        {
            var path = $"{section.Path}:{relativeKey}";
            errors.Add($"{path} '{value}' {problem}");
            hidden.Add(path);
        }
    }

    /// <summary>Every key under <c>ShipBot:Services</c>, grouped by service, with the value that wins (the last source's).</summary>
    private static Dictionary<string, Dictionary<string, string?>> ServiceKeys(IConfiguration configuration, IConfigurationSection section)
    {
        var services = new Dictionary<string, Dictionary<string, string?>>(StringComparer.OrdinalIgnoreCase);
        void Add(string key, string? value)
        {
            if (!key.StartsWith(ServicesPrefix, StringComparison.OrdinalIgnoreCase) || key.Length == ServicesPrefix.Length)
            {
                return;
            }

            var end = key.IndexOf(':', ServicesPrefix.Length);
            var name = end < 0 ? key[ServicesPrefix.Length..] : key[ServicesPrefix.Length..end];
            if (!services.TryGetValue(name, out var keys))
            {
                services[name] = keys = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            }

            keys[key] = value;
        }

        if (configuration is IConfigurationRoot root)
        {
            foreach (var provider in root.Providers)
            {
                if (provider is ConfigurationProvider readable)
                {
                    foreach (var (key, value) in Data(readable))
                    {
                        Add(key, value);
                    }
                }
                else
                {
                    // A provider that does not expose its keys: walk its tree under ShipBot:Services (correct, just not as fast).
                    Walk(provider, ServicesPrefix[..^1], Add);
                }
            }
        }
        else
        {
            foreach (var (key, value) in section.GetSection(ServicesKey).AsEnumerable())
            {
                Add(key, value);
            }
        }

        return services;
    }

    private static void Walk(IConfigurationProvider provider, string path, Action<string, string?> add)
    {
        foreach (var child in provider.GetChildKeys([], path).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var key = $"{path}:{child}";
            if (provider.TryGet(key, out var value))
            {
                add(key, value);
            }

            Walk(provider, key, add);
        }
    }

    /// <summary>The keys and values a provider holds (its protected <c>Data</c>), read without copying.</summary>
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_Data")]
    private static extern IDictionary<string, string?> Data(ConfigurationProvider provider);

    /// <summary>A view of a section in which some paths (and everything under them) do not exist.</summary>
    private sealed class Filtered(IConfigurationSection inner, Func<string, bool> hidden) : IConfigurationSection
    {
        private static readonly ConfigurationRoot Empty = new([]);

        public string? this[string key]
        {
            get => hidden($"{inner.Path}:{key}") ? null : inner[key];
            set => inner[key] = value;
        }

        public string Key => inner.Key;

        public string Path => inner.Path;

        public string? Value
        {
            get => inner.Value;
            set => inner.Value = value;
        }

        public IConfigurationSection GetSection(string key)
        {
            var child = inner.GetSection(key);
            return hidden(child.Path) ? new ConfigurationSection(Empty, child.Path) : new Filtered(child, hidden);
        }

        public IEnumerable<IConfigurationSection> GetChildren() =>
            inner.GetChildren().Where(c => !hidden(c.Path)).Select(c => (IConfigurationSection)new Filtered(c, hidden));

        public IChangeToken GetReloadToken() => inner.GetReloadToken();
    }
}
