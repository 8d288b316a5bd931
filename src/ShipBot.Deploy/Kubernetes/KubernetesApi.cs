using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Exceptions;
using k8s.Models;

namespace ShipBot.Deploy.Kubernetes;

/// <summary>
/// How ShipBot reaches a Kubernetes API server: a kubeconfig file (and optionally one of its
/// contexts), else the in-cluster service account when ShipBot runs in a pod, else the usual
/// <c>KUBECONFIG</c> / <c>~/.kube/config</c>.
/// </summary>
public sealed record KubernetesConnection(string? Kubeconfig, string? Context)
{
    /// <summary>"kubeconfig /path (context x)" or "in-cluster service account", for messages.</summary>
    public string Describe() => Kubeconfig is { Length: > 0 }
        ? $"kubeconfig {Kubeconfig}{(Context is { Length: > 0 } ? $" (context {Context})" : string.Empty)}"
        : KubernetesClientConfiguration.IsInCluster() ? "in-cluster service account" : "default kubeconfig";

    public KubernetesClientConfiguration BuildConfiguration()
    {
        if (Kubeconfig is { Length: > 0 })
        {
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(Kubeconfig, Context);
        }

        return KubernetesClientConfiguration.IsInCluster() && Context is not { Length: > 0 }
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile(currentContext: Context);
    }
}

/// <summary>A custom resource kind ShipBot reads and patches.</summary>
public sealed record CustomResourceKind(string Group, string Version, string Plural, string Kind)
{
    /// <summary>Argo Rollouts' <c>Rollout</c> (argoproj.io/v1alpha1).</summary>
    public static CustomResourceKind Rollouts { get; } = new("argoproj.io", "v1alpha1", "rollouts", "Rollout");

    /// <summary>Gateway API's <c>HTTPRoute</c> (gateway.networking.k8s.io/v1).</summary>
    public static CustomResourceKind HttpRoutes { get; } = new("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute");

    public override string ToString() => $"{Plural}.{Group}";
}

/// <summary>The API server refused a request; <see cref="Status"/> and <see cref="Reason"/> come from its Status answer.</summary>
public sealed class KubernetesApiException(HttpStatusCode status, string reason, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>The Status reason: Conflict, NotFound, Forbidden, Invalid, …</summary>
    public string Reason { get; } = reason;

    public bool IsConflict => Status == HttpStatusCode.Conflict;
}

/// <summary>
/// The few Kubernetes API calls the router targets make, through the official client
/// (<c>KubernetesClient</c>): get and patch a namespaced custom resource or its <c>status</c>
/// subresource (JSON merge patch or JSON patch), and list ReplicaSets and EndpointSlices. Errors
/// become <see cref="KubernetesApiException"/> with the server's own message; a 404 on a get is
/// null. Every patch asks for strict field validation, so a field the server does not know is an
/// error instead of being dropped.
/// </summary>
public sealed class KubernetesApi : IDisposable
{
    /// <summary>The field manager ShipBot's patches are recorded under in <c>managedFields</c>.</summary>
    public const string FieldManager = "shipbot";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Lazy<IKubernetes> _client;

    public KubernetesApi(KubernetesConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Connection = connection;

        // The configuration (a file read, or the service account token) is built on first use, not at start-up.
        _client = new Lazy<IKubernetes>(() => new k8s.Kubernetes(connection.BuildConfiguration()), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public KubernetesConnection Connection { get; }

    /// <summary>Reads a custom resource; null when it does not exist.</summary>
    public async Task<T?> GetAsync<T>(CustomResourceKind kind, string ns, string name, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(kind);
        try
        {
            var body = await Call(() => _client.Value.CustomObjects.GetNamespacedCustomObjectAsync(kind.Group, kind.Version, ns, kind.Plural, name, cancellationToken)).ConfigureAwait(false);
            return Convert<T>(body);
        }
        catch (KubernetesApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Patches a custom resource (or its status subresource) and returns the stored result. A patch
    /// that carries <c>metadata.resourceVersion</c> is applied only to that version: a newer one
    /// answers 409 Conflict (<see cref="KubernetesApiException.IsConflict"/>).
    /// </summary>
    public async Task<T> PatchAsync<T>(CustomResourceKind kind, string ns, string name, KubernetesPatch patch, bool status, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(patch);
        var body = new V1Patch(patch.Body.ToJsonString(), patch.IsJsonPatch ? V1Patch.PatchType.JsonPatch : V1Patch.PatchType.MergePatch);
        var result = await Call(() => status
            ? _client.Value.CustomObjects.PatchNamespacedCustomObjectStatusAsync(body, kind.Group, kind.Version, ns, kind.Plural, name, fieldManager: FieldManager, fieldValidation: "Strict", cancellationToken: cancellationToken)
            : _client.Value.CustomObjects.PatchNamespacedCustomObjectAsync(body, kind.Group, kind.Version, ns, kind.Plural, name, fieldManager: FieldManager, fieldValidation: "Strict", cancellationToken: cancellationToken)).ConfigureAwait(false);
        return Convert<T>(result) ?? throw new KubernetesApiException(HttpStatusCode.OK, "Empty", $"the API server answered the patch of {kind} {ns}/{name} with no object");
    }

    /// <summary>ReplicaSets in a namespace matching a label selector.</summary>
    public Task<V1ReplicaSetList> ListReplicaSetsAsync(string ns, string labelSelector, CancellationToken cancellationToken = default) =>
        Call(() => _client.Value.AppsV1.ListNamespacedReplicaSetAsync(ns, labelSelector: labelSelector, cancellationToken: cancellationToken));

    /// <summary>EndpointSlices of a Service (label <c>kubernetes.io/service-name</c>).</summary>
    public Task<V1EndpointSliceList> ListEndpointSlicesAsync(string ns, string service, CancellationToken cancellationToken = default) =>
        Call(() => _client.Value.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns, labelSelector: $"kubernetes.io/service-name={service}", cancellationToken: cancellationToken));

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }

    private static T? Convert<T>(object? body)
        where T : class => body switch
        {
            null => null,
            JsonElement element => element.Deserialize<T>(Json),
            _ => JsonSerializer.SerializeToElement(body, Json).Deserialize<T>(Json),
        };

    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (HttpOperationException ex)
        {
            var code = ex.Response?.StatusCode ?? HttpStatusCode.InternalServerError;
            var (reason, message) = StatusOf(ex.Response?.Content);
            throw new KubernetesApiException(code, reason ?? code.ToString(), message ?? $"HTTP {(int)code}", ex);
        }
        catch (KubeConfigException ex)
        {
            throw new KubernetesApiException(HttpStatusCode.Unauthorized, "Configuration", $"Kubernetes credentials: {ex.Message}", ex);
        }
    }

    /// <summary>The reason and message of a Kubernetes Status answer.</summary>
    private static (string? Reason, string? Message) StatusOf(string? content)
    {
        if (string.IsNullOrWhiteSpace(content))
        {
            return (null, null);
        }

        try
        {
            return JsonNode.Parse(content) is JsonObject status
                ? ((string?)status["reason"], (string?)status["message"])
                : (null, Shorten(content));
        }
        catch (JsonException)
        {
            return (null, Shorten(content));
        }
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;
}

/// <summary>
/// A patch body: a JSON merge patch (RFC 7386, <c>application/merge-patch+json</c>) or a JSON
/// patch (RFC 6902, <c>application/json-patch+json</c>).
/// </summary>
public sealed record KubernetesPatch(JsonNode Body, bool IsJsonPatch)
{
    public static KubernetesPatch Merge(JsonObject body) => new(body, false);

    public static KubernetesPatch Operations(JsonArray operations) => new(operations, true);

    /// <summary>One RFC 6902 operation.</summary>
    public static JsonObject Op(string op, string path, JsonNode? value = null)
    {
        var operation = new JsonObject { ["op"] = op, ["path"] = path };
        if (op != "remove")
        {
            operation["value"] = value;
        }

        return operation;
    }

    /// <summary>An RFC 6901 pointer token: '~' → '~0', '/' → '~1'.</summary>
    public static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
}

/// <summary>One API client per distinct connection, shared by every service that uses it.</summary>
public sealed class KubernetesApis : IDisposable
{
    private readonly ConcurrentDictionary<KubernetesConnection, KubernetesApi> _apis = new();

    public KubernetesApi For(KubernetesConnection connection) => _apis.GetOrAdd(connection, c => new KubernetesApi(c));

    public void Dispose()
    {
        foreach (var api in _apis.Values)
        {
            api.Dispose();
        }
    }
}
