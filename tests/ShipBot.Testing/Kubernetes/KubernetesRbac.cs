using System.Text.Json.Nodes;

namespace ShipBot.Testing.Kubernetes;

/// <summary>
/// Role-based access control as the API server evaluates it, for namespaced Roles and the
/// RoleBindings that grant them to a ServiceAccount: a request is allowed when a RoleBinding in the
/// request's namespace binds the account to a Role (of that namespace) with a rule that matches its
/// API group, resource (with subresource, e.g. <c>rollouts/status</c>), verb and, when the rule
/// lists <c>resourceNames</c>, the object's name. Everything else is forbidden.
/// </summary>
public sealed class KubernetesRbac
{
    private readonly List<(string Namespace, string Name, List<Rule> Rules)> _roles = [];
    private readonly List<(string Namespace, string Role, List<(string Namespace, string Name)> Subjects)> _bindings = [];

    /// <summary>The RBAC objects in a manifest file (Roles and RoleBindings; other kinds are skipped).</summary>
    public static KubernetesRbac FromManifest(string path)
    {
        var rbac = new KubernetesRbac();
        foreach (var doc in YamlJson.ReadFile(path).OfType<JsonObject>())
        {
            var ns = (string?)doc["metadata"]?["namespace"] ?? "default";
            switch ((string?)doc["kind"])
            {
                case "Role":
                    rbac._roles.Add((ns, (string)doc["metadata"]!["name"]!, [.. (doc["rules"]?.AsArray() ?? []).OfType<JsonObject>().Select(Rule.From)]));
                    break;
                case "RoleBinding" when Equals((string?)doc["roleRef"]?["kind"], "Role"):
                    var subjects = (doc["subjects"]?.AsArray() ?? []).OfType<JsonObject>()
                        .Where(s => (string?)s["kind"] == "ServiceAccount")
                        .Select(s => ((string?)s["namespace"] ?? ns, (string)s["name"]!))
                        .ToList();
                    rbac._bindings.Add((ns, (string)doc["roleRef"]!["name"]!, subjects));
                    break;
            }
        }

        return rbac;
    }

    /// <summary>Whether ServiceAccount <paramref name="account"/> may <paramref name="verb"/> the resource in <paramref name="ns"/>.</summary>
    public bool Allows((string Namespace, string Name) account, string ns, string apiGroup, string resource, string verb, string? name)
    {
        foreach (var binding in _bindings.Where(b => b.Namespace == ns && b.Subjects.Contains(account)))
        {
            foreach (var role in _roles.Where(r => r.Namespace == ns && r.Name == binding.Role))
            {
                if (role.Rules.Any(r => r.Matches(apiGroup, resource, verb, name)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private sealed record Rule(IReadOnlyList<string> ApiGroups, IReadOnlyList<string> Resources, IReadOnlyList<string> Verbs, IReadOnlyList<string> ResourceNames)
    {
        public static Rule From(JsonObject rule) => new(List(rule, "apiGroups"), List(rule, "resources"), List(rule, "verbs"), List(rule, "resourceNames"));

        public bool Matches(string apiGroup, string resource, string verb, string? name) =>
            (ApiGroups.Contains("*") || ApiGroups.Contains(apiGroup))
            && (Resources.Contains("*") || Resources.Contains(resource))
            && (Verbs.Contains("*") || Verbs.Contains(verb))
            && (ResourceNames.Count == 0 || (name is not null && ResourceNames.Contains(name)));

        private static List<string> List(JsonObject rule, string key) => [.. (rule[key]?.AsArray() ?? []).Select(v => (string)v!)];
    }
}
