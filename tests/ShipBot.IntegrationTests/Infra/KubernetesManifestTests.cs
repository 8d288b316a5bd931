using k8s;
using k8s.Models;

namespace ShipBot.IntegrationTests.Infra;

/// <summary>
/// The Kubernetes manifests (infra/k8s) load through the Kubernetes client's model types in strict
/// mode, so a misspelt or misplaced field fails here; and they say what running ShipBot safely
/// needs: 2 replicas, a disruption budget, probes, requests and limits, a non-root read-only
/// container, a network policy and every credential from the Secret. (No Kubernetes API server
/// runs here: the model types are the API's published schema.)
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly string[] Files = ["infra/k8s/shipbot.yaml", "infra/k8s/shipbot-secrets.yaml"];

    [Fact]
    public async Task Manifests_LoadedStrictly_EveryObjectIsAKnownModelType()
    {
        foreach (var file in Files)
        {
            var objects = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(Repository.PathOf(file)), strict: true);
            Assert.NotEmpty(objects);
            Assert.All(objects, o => Assert.IsAssignableFrom<IKubernetesObject<V1ObjectMeta>>(o));
        }
    }

    [Fact]
    public void StrictLoading_MisspeltField_Fails()
    {
        const string Misspelt = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: shipbot }
            spec:
              replica: 2
              selector: { matchLabels: { app: shipbot } }
              template: { metadata: { labels: { app: shipbot } }, spec: { containers: [ { name: shipbot, image: shipbot } ] } }
            """;

        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(Misspelt, strict: true));
    }

    [Fact]
    public async Task Deployment_RunsTwoHardenedReplicasWithProbesAndResources()
    {
        var objects = await LoadAsync();
        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        Assert.Equal(2, deployment.Spec.Replicas);
        var pod = deployment.Spec.Template.Spec;
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.NotEqual(0, pod.SecurityContext.RunAsUser);
        Assert.False(pod.AutomountServiceAccountToken);

        var container = Assert.Single(pod.Containers);
        Assert.Equal("/readyz", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/healthz", container.LivenessProbe.HttpGet.Path);
        Assert.NotNull(container.StartupProbe);
        Assert.True(container.Resources.Requests.ContainsKey("cpu") && container.Resources.Requests.ContainsKey("memory"));
        Assert.True(container.Resources.Limits.ContainsKey("memory"));
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.True(container.SecurityContext.RunAsNonRoot);
        Assert.Contains("ALL", container.SecurityContext.Capabilities.Drop);
        Assert.Contains(container.Ports, p => p.Name == "metrics" && p.ContainerPort == 9464);

        var config = Assert.Single(objects.OfType<V1ConfigMap>());
        Assert.Equal("http://0.0.0.0:9464", config.Data["Management__Urls"]);
    }

    [Fact]
    public async Task Credentials_AllFromTheSecret_AndTheSecretHasEveryKey()
    {
        var objects = await LoadAsync();
        var container = objects.OfType<V1Deployment>().Single().Spec.Template.Spec.Containers.Single();
        var secret = objects.OfType<V1Secret>().Single();
        var config = objects.OfType<V1ConfigMap>().Single();

        string[] credentials = ["ConnectionStrings__Redis", "Slack__SigningSecret", "Slack__BotToken", "Slack__AppToken", "Teams__AppPassword", "ShipBot__Alertmanager__BearerToken"];
        foreach (var name in credentials)
        {
            var env = Assert.Single(container.Env, e => e.Name == name);
            Assert.Null(env.Value);
            Assert.Equal(secret.Metadata.Name, env.ValueFrom.SecretKeyRef.Name);
            Assert.Contains(env.ValueFrom.SecretKeyRef.Key, secret.StringData.Keys);
        }

        Assert.All(container.Env.Where(e => e.Value is not null), e => Assert.DoesNotMatch("(?i)token|secret|password", e.Name));
        Assert.All(config.Data.Keys, k => Assert.DoesNotMatch("(?i)token|secret|password|ConnectionStrings", k));
        Assert.All(secret.StringData.Values, v => Assert.Contains("REPLACE_ME", v, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DisruptionBudgetAndNetworkPolicy_KeepOneReplicaAndFenceTheManagementPort()
    {
        var objects = await LoadAsync();
        var labels = objects.OfType<V1Deployment>().Single().Spec.Template.Metadata.Labels;

        var budget = Assert.Single(objects.OfType<V1PodDisruptionBudget>());
        Assert.Equal("1", budget.Spec.MinAvailable.Value);
        Assert.All(budget.Spec.Selector.MatchLabels, l => Assert.Equal(labels[l.Key], l.Value));

        var policy = Assert.Single(objects.OfType<V1NetworkPolicy>());
        Assert.Equal(["Ingress", "Egress"], policy.Spec.PolicyTypes);
        var management = Assert.Single(policy.Spec.Ingress, r => r.Ports.Any(p => p.Port.Value == "9464"));
        Assert.NotNull(Assert.Single(management.FromProperty).NamespaceSelector);
        Assert.DoesNotContain(policy.Spec.Ingress.Where(r => r.FromProperty is null), r => r.Ports.Any(p => p.Port.Value == "9464"));
    }

    [Fact]
    public async Task Dockerfile_HasAHealthcheckOnHealthzAndExposesTheManagementPort()
    {
        var dockerfile = await File.ReadAllTextAsync(Repository.PathOf("Dockerfile"));

        Assert.Matches(@"(?m)^HEALTHCHECK .*", dockerfile);
        Assert.Contains("/healthz", dockerfile, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^EXPOSE 8080 9464", dockerfile);
        Assert.Contains("Management__Urls=http://0.0.0.0:9464", dockerfile, StringComparison.Ordinal);
    }

    private static async Task<IReadOnlyList<object>> LoadAsync()
    {
        var objects = new List<object>();
        foreach (var file in Files)
        {
            objects.AddRange(KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(Repository.PathOf(file)), strict: true));
        }

        return objects;
    }
}
