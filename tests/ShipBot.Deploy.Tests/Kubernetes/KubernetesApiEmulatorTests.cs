using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using ShipBot.Testing;
using ShipBot.Testing.Kubernetes;

namespace ShipBot.Deploy.Tests.Kubernetes;

/// <summary>
/// The emulation keeps the API server's semantics the router tests rely on; these tests pin them
/// with raw HTTP requests, the way a client without ShipBot's code would see them.
/// </summary>
public sealed class KubernetesApiEmulatorTests : IAsyncLifetime
{
    private const string RolloutPath = "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout";
    private KubernetesApiEmulator _kube = null!;
    private EmulatedArgoRolloutsController _argo = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _kube = await KubernetesApiEmulator.StartAsync();
        _kube.Rbac = KubernetesRbac.FromManifest(RepositoryFiles.RouterRbacManifest);
        _argo = new EmulatedArgoRolloutsController(_kube);
        await _argo.CreateRolloutAsync("shop", "checkout", "ghcr.io/acme/checkout:1.4.1");
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, chain, _) =>
            {
                chain!.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(_kube.Certificate);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate!);
            },
        };
        _http = new HttpClient(handler) { BaseAddress = _kube.Server };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", KubernetesApiEmulator.Token);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _argo.DisposeAsync();
        await _kube.DisposeAsync();
    }

    [Fact]
    public async Task Patch_StaleResourceVersion_Answers409ConflictStatus()
    {
        var (status, body) = await PatchAsync(RolloutPath, "application/merge-patch+json", """{"metadata":{"resourceVersion":"1"},"spec":{"paused":true}}""");

        Assert.Equal(409, status);
        Assert.Equal("Status", (string?)body["kind"]);
        Assert.Equal("Conflict", (string?)body["reason"]);
        Assert.Equal("Operation cannot be fulfilled on rollouts.argoproj.io \"checkout\": the object has been modified; please apply your changes to the latest version and try again", (string?)body["message"]);
    }

    [Fact]
    public async Task Patch_JsonPatchWithCurrentVersion_AppliesAndMovesGenerationAndVersion()
    {
        var before = _kube.Get(_kube.Rollouts, "shop", "checkout")!;
        var version = (string)before["metadata"]!["resourceVersion"]!;

        var (status, body) = await PatchAsync(RolloutPath, "application/json-patch+json",
            $$"""[{"op":"test","path":"/spec/template/spec/containers/0/name","value":"checkout"},{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"ghcr.io/acme/checkout:1.4.2"},{"op":"replace","path":"/metadata/resourceVersion","value":"{{version}}"}]""");

        Assert.Equal(200, status);
        Assert.Equal(2, KubernetesApiEmulator.Number(body["metadata"]!["generation"]));
        Assert.NotEqual(version, (string?)body["metadata"]!["resourceVersion"]);
    }

    [Fact]
    public async Task Patch_FailedTestOperation_Answers422()
    {
        var (status, body) = await PatchAsync(RolloutPath, "application/json-patch+json", """[{"op":"test","path":"/spec/template/spec/containers/0/name","value":"cart"}]""");

        Assert.Equal(422, status);
        Assert.Contains("testing value /spec/template/spec/containers/0/name failed", (string?)body["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Patch_StrategicMergeOnACustomResource_Answers415()
    {
        var (status, body) = await PatchAsync(RolloutPath, "application/strategic-merge-patch+json", """{"spec":{"paused":true}}""");

        Assert.Equal(415, status);
        Assert.Equal("UnsupportedMediaType", (string?)body["reason"]);
    }

    [Fact]
    public async Task Patch_ValueAgainstTheCrdSchema_Answers422AndRecordsTheViolation()
    {
        var (status, body) = await PatchAsync(RolloutPath, "application/merge-patch+json", """{"spec":{"strategy":{"canary":{"steps":[{"setWeight":"five"}]}}}}""");

        Assert.Equal(422, status);
        Assert.Equal("Invalid", (string?)body["reason"]);
        Assert.Contains(_kube.Violations, v => v.Contains("/spec/strategy/canary/steps/0/setWeight", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Patch_UnknownField_IsRefusedAsStrictFieldValidationDoes()
    {
        var (status, _) = await PatchAsync(RolloutPath, "application/merge-patch+json", """{"spec":{"pausd":true}}""");

        Assert.Equal(422, status);
        Assert.Contains(_kube.Violations, v => v.Contains("pausd", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Patch_StatusThroughTheMainResource_IsIgnoredAndSpecThroughStatusToo()
    {
        var before = _kube.Get(_kube.Rollouts, "shop", "checkout")!;

        var (main, mainBody) = await PatchAsync(RolloutPath, "application/merge-patch+json", """{"status":{"abort":true}}""");
        var (sub, subBody) = await PatchAsync(RolloutPath + "/status", "application/merge-patch+json", """{"spec":{"paused":true},"status":{"abort":true}}""");

        Assert.Equal(200, main);
        Assert.Null(mainBody["status"]!["abort"]);
        Assert.Equal(before["metadata"]!["resourceVersion"]!.ToJsonString(), mainBody["metadata"]!["resourceVersion"]!.ToJsonString());
        Assert.Equal(200, sub);
        Assert.True((bool)subBody["status"]!["abort"]!);
        Assert.Null(subBody["spec"]!["paused"]);
        Assert.Equal(1, KubernetesApiEmulator.Number(subBody["metadata"]!["generation"]));
    }

    [Fact]
    public async Task Get_MissingObject_Answers404NotFoundStatus()
    {
        using var response = await _http.GetAsync(new Uri("/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/cart", UriKind.Relative));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("rollouts.argoproj.io \"cart\" not found", (string?)body["message"]);
    }

    [Fact]
    public async Task Requests_OutsideTheRoleOrWithoutToken_AreForbiddenOrUnauthorized()
    {
        using var delete = await _http.DeleteAsync(new Uri(RolloutPath, UriKind.Relative));
        using var otherNamespace = await _http.GetAsync(new Uri("/apis/argoproj.io/v1alpha1/namespaces/kube-system/rollouts/checkout", UriKind.Relative));
        using var secrets = await _http.GetAsync(new Uri("/apis/apps/v1/namespaces/shop/replicasets/checkout-abc", UriKind.Relative));
        using var anonymous = new HttpRequestMessage(HttpMethod.Get, new Uri(RolloutPath, UriKind.Relative));
        anonymous.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        using var unauthorized = await _http.SendAsync(anonymous);

        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, otherNamespace.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, secrets.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    [Fact]
    public async Task List_LabelSelector_ReturnsOnlyMatchingObjects()
    {
        var list = await _http.GetStringAsync(new Uri("/apis/apps/v1/namespaces/shop/replicasets?labelSelector=app%3Dcheckout", UriKind.Relative));
        var none = await _http.GetStringAsync(new Uri("/apis/apps/v1/namespaces/shop/replicasets?labelSelector=app%3Dcart", UriKind.Relative));

        Assert.Equal("ReplicaSetList", (string?)JsonNode.Parse(list)!["kind"]);
        Assert.Single(JsonNode.Parse(list)!["items"]!.AsArray());
        Assert.Empty(JsonNode.Parse(none)!["items"]!.AsArray());
    }

    private async Task<(int Status, JsonObject Body)> PatchAsync(string path, string contentType, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, new Uri(path, UriKind.Relative)) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await _http.SendAsync(request);
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }
}
