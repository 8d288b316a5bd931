using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ShipBot.Testing.Kubernetes;

/// <summary>A resource type the emulation serves.</summary>
public sealed record EmulatedResource(string Group, string Version, string Plural, string Kind, bool StatusSubresource, CrdSchema? Schema)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>"rollouts.argoproj.io", as the API server names a resource in its messages.</summary>
    public string Qualified => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
}

/// <summary>One request the emulation answered.</summary>
public sealed record EmulatedRequest(string Method, string Path, string Query, string? ContentType, string Body, int Status, string? Reason);

/// <summary>
/// A Kubernetes API server emulation on Kestrel (HTTPS on loopback, a bearer token, a kubeconfig
/// file for clients), for what ShipBot uses: get, list (with an equality label selector) and patch
/// of namespaced objects and of their <c>status</c> subresource. It keeps the real semantics:
/// JSON merge patch and JSON patch content types (strategic merge and apply patches are refused
/// with 415, as for custom resources), a patch that carries a stale <c>metadata.resourceVersion</c>
/// answers 409 Conflict, a missing object 404, a write to the main resource ignores status changes
/// and a write to <c>/status</c> ignores everything else, <c>metadata.generation</c> moves when the
/// spec changes, a write that changes nothing keeps the resourceVersion, and every error is a
/// <c>Status</c> object. Every object it stores, after a client's patch or a controller's write,
/// is checked against the published CRD schema; a violation answers 422 Invalid and is recorded in
/// <see cref="Violations"/>. With <see cref="Rbac"/> set, requests are authorised like the API
/// server authorises a ServiceAccount (403 Forbidden otherwise).
/// </summary>
public sealed class KubernetesApiEmulator : IAsyncDisposable
{
    public const string Token = "emulated-serviceaccount-token-3f9a1c";

    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly Dictionary<(EmulatedResource Type, string Namespace, string Name), JsonObject> _objects = [];
    private readonly ConcurrentQueue<EmulatedRequest> _requests = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly List<EmulatedResource> _resources;
    private readonly string _directory;
    private long _resourceVersion = 1000;

    private KubernetesApiEmulator(WebApplication app, IReadOnlyList<EmulatedResource> resources, string directory, Uri server, X509Certificate2 certificate)
    {
        _app = app;
        _resources = [.. resources];
        _directory = directory;
        Server = server;
        Certificate = certificate;
        KubeconfigPath = Path.Combine(directory, "kubeconfig");
    }

    /// <summary>Raised after every stored change (object type, namespace, name), outside the store's lock.</summary>
    public event Action<EmulatedResource, string, string>? Changed;

    public Uri Server { get; }

    public X509Certificate2 Certificate { get; }

    /// <summary>A kubeconfig (server, certificate authority, token) for this emulation.</summary>
    public string KubeconfigPath { get; }

    public IReadOnlyCollection<EmulatedRequest> Requests => _requests;

    /// <summary>Every schema violation of a stored (or refused) object, by a client or a controller.</summary>
    public IReadOnlyCollection<string> Violations => _violations;

    /// <summary>When set, requests are authorised as this ServiceAccount against these rules.</summary>
    public KubernetesRbac? Rbac { get; set; }

    public (string Namespace, string Name) ServiceAccount { get; set; } = ("shipbot", "shipbot");

    /// <summary>Runs before a patch is applied (after it was authorised and the object found), e.g. to make a concurrent write.</summary>
    public Func<EmulatedRequest, Task>? BeforePatch { get; set; }

    public EmulatedResource Rollouts => Resource("argoproj.io", "rollouts");

    public EmulatedResource HttpRoutes => Resource("gateway.networking.k8s.io", "httproutes");

    public EmulatedResource ReplicaSets => Resource("apps", "replicasets");

    public EmulatedResource EndpointSlices => Resource("discovery.k8s.io", "endpointslices");

    /// <summary>The test data folder with the published CRDs (copied next to the test assembly).</summary>
    public static string SchemaDirectory => Path.Combine(AppContext.BaseDirectory, "Kubernetes", "Schemas");

    /// <summary>Starts the emulation with Argo Rollouts' Rollout and Gateway API's HTTPRoute (their published schemas), ReplicaSets and EndpointSlices.</summary>
    public static async Task<KubernetesApiEmulator> StartAsync()
    {
        var resources = new List<EmulatedResource>
        {
            new("argoproj.io", "v1alpha1", "rollouts", "Rollout", true, CrdSchema.Load(Path.Combine(SchemaDirectory, "argo-rollouts-v1.9.1-rollout-crd.yaml"), "v1alpha1")),
            new("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute", true, CrdSchema.Load(Path.Combine(SchemaDirectory, "gateway-api-v1.6.1-httproutes-crd.yaml"), "v1")),
            new("apps", "v1", "replicasets", "ReplicaSet", true, null),
            new("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", false, null),
        };
        var certificate = CreateCertificate();
        var directory = Directory.CreateTempSubdirectory("shipbot-kube-").FullName;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(certificate)));
        var app = builder.Build();
        KubernetesApiEmulator? emulator = null;
        app.Run(context => emulator!.HandleAsync(context));
        await app.StartAsync().ConfigureAwait(false);
        var port = new Uri(app.Urls.First()).Port;
        emulator = new KubernetesApiEmulator(app, resources, directory, new Uri($"https://127.0.0.1:{port}"), certificate);
        await File.WriteAllTextAsync(emulator.KubeconfigPath, emulator.Kubeconfig()).ConfigureAwait(false);
        return emulator;
    }

    public EmulatedResource Resource(string group, string plural) =>
        _resources.Single(r => r.Group == group && r.Plural == plural);

    /// <summary>Creates an object (as <c>kubectl create</c> would): uid, resourceVersion, generation 1; it must satisfy its schema.</summary>
    public JsonObject Create(EmulatedResource type, JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(obj);
        var stored = obj.DeepClone().AsObject();
        stored["apiVersion"] = type.ApiVersion;
        stored["kind"] = type.Kind;
        var metadata = stored["metadata"]!.AsObject();
        var ns = (string)metadata["namespace"]!;
        var name = (string)metadata["name"]!;
        Action<EmulatedResource, string, string>? notify;
        lock (_gate)
        {
            if (_objects.ContainsKey((type, ns, name)))
            {
                throw new InvalidOperationException($"{type.Qualified} {ns}/{name} exists");
            }

            metadata["uid"] = Guid.NewGuid().ToString();
            metadata["generation"] = 1L;
            metadata["creationTimestamp"] = "2026-01-01T00:00:00Z";
            metadata["resourceVersion"] = NextVersion();
            var errors = type.Schema?.Validate(stored) ?? [];
            if (errors.Count > 0)
            {
                throw new InvalidOperationException($"{type.Kind} {ns}/{name} does not satisfy its schema:\n{string.Join("\n", errors)}");
            }

            _objects[(type, ns, name)] = stored;
            notify = Changed;
        }

        notify?.Invoke(type, ns, name);
        return stored.DeepClone().AsObject();
    }

    public JsonObject? Get(EmulatedResource type, string ns, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue((type, ns, name), out var obj) ? obj.DeepClone().AsObject() : null;
        }
    }

    public IReadOnlyList<JsonObject> List(EmulatedResource type, string ns)
    {
        lock (_gate)
        {
            return [.. _objects.Where(o => o.Key.Type == type && o.Key.Namespace == ns).Select(o => o.Value.DeepClone().AsObject())];
        }
    }

    /// <summary>Every object of a type, in every namespace.</summary>
    public IReadOnlyList<JsonObject> ListAll(EmulatedResource type)
    {
        lock (_gate)
        {
            return [.. _objects.Where(o => o.Key.Type == type).Select(o => o.Value.DeepClone().AsObject())];
        }
    }

    /// <summary>
    /// A write by a controller (Argo's, the gateway's) or a test: <paramref name="mutate"/> changes a
    /// copy and returns whether it changed anything. The same rules as a client's patch apply
    /// (schema, generation, resourceVersion); a schema violation is recorded and throws.
    /// </summary>
    public bool Update(EmulatedResource type, string ns, string name, Func<JsonObject, bool> mutate)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(mutate);
        Action<EmulatedResource, string, string>? notify;
        lock (_gate)
        {
            if (!_objects.TryGetValue((type, ns, name), out var current))
            {
                return false;
            }

            var next = current.DeepClone().AsObject();
            if (!mutate(next) || JsonNode.DeepEquals(next, current))
            {
                return false;
            }

            var errors = type.Schema?.Validate(next) ?? [];
            if (errors.Count > 0)
            {
                foreach (var error in errors)
                {
                    _violations.Enqueue($"controller write of {type.Kind} {ns}/{name}: {error}");
                }

                throw new InvalidOperationException($"controller write of {type.Kind} {ns}/{name} breaks its schema:\n{string.Join("\n", errors)}");
            }

            Store(type, ns, name, current, next);
            notify = Changed;
        }

        notify?.Invoke(type, ns, name);
        return true;
    }

    /// <summary>Deletes an object (for 404 tests).</summary>
    public bool Delete(EmulatedResource type, string ns, string name)
    {
        lock (_gate)
        {
            return _objects.Remove((type, ns, name));
        }
    }

    private void Store(EmulatedResource type, string ns, string name, JsonObject current, JsonObject next)
    {
        if (!JsonNode.DeepEquals(WithoutMetadataAndStatus(next), WithoutMetadataAndStatus(current)))
        {
            next["metadata"]!["generation"] = Number(current["metadata"]?["generation"]) + 1;
        }

        next["metadata"]!["resourceVersion"] = NextVersion();
        _objects[(type, ns, name)] = next;
    }

    /// <summary>An integer however it is held (parsed JSON, or a value set in code as int or long).</summary>
    public static long Number(JsonNode? node) => node is null ? 0 : long.Parse(node.ToJsonString(), CultureInfo.InvariantCulture);

    private static JsonObject WithoutMetadataAndStatus(JsonObject obj)
    {
        var copy = obj.DeepClone().AsObject();
        copy.Remove("metadata");
        copy.Remove("status");
        return copy;
    }

    private string NextVersion() => Interlocked.Increment(ref _resourceVersion).ToString(CultureInfo.InvariantCulture);

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await new StreamReader(request.Body, Encoding.UTF8).ReadToEndAsync().ConfigureAwait(false);
        var contentType = request.ContentType;
        var (status, answer) = await AnswerAsync(request.Method, request.Path.Value ?? "/", request.Query, request.Headers.Authorization.ToString(), contentType, body).ConfigureAwait(false);
        _requests.Enqueue(new EmulatedRequest(request.Method, request.Path.Value ?? "/", request.QueryString.Value ?? string.Empty, contentType, body, status, (string?)answer["reason"]));
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.ToJsonString()).ConfigureAwait(false);
    }

    private async Task<(int Status, JsonObject Body)> AnswerAsync(string method, string path, IQueryCollection query, string authorization, string? contentType, string body)
    {
        if (authorization != $"Bearer {Token}")
        {
            return Failure(401, "Unauthorized", "Unauthorized");
        }

        // /apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}[/status]]
        var parts = path.Trim('/').Split('/');
        if (parts.Length < 6 || parts[0] != "apis" || parts[3] != "namespaces")
        {
            return Failure(404, "NotFound", $"the server could not find the requested resource ({method} {path})");
        }

        var type = _resources.FirstOrDefault(r => r.Group == parts[1] && r.Version == parts[2] && r.Plural == parts[5]);
        if (type is null)
        {
            return Failure(404, "NotFound", "the server could not find the requested resource");
        }

        var ns = parts[4];
        var name = parts.Length > 6 ? parts[6] : null;
        var subresource = parts.Length > 7 ? parts[7] : null;
        if (parts.Length > 8 || (subresource is not null && (subresource != "status" || !type.StatusSubresource)))
        {
            return Failure(404, "NotFound", "the server could not find the requested resource");
        }

        var verb = (method, name) switch
        {
            ("GET", null) => "list",
            ("GET", _) => "get",
            ("PATCH", not null) => "patch",
            ("PUT", not null) => "update",
            ("POST", null) => "create",
            ("DELETE", not null) => "delete",
            _ => null,
        };
        if (verb is null)
        {
            return Failure(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource");
        }

        var resource = subresource is null ? type.Plural : $"{type.Plural}/{subresource}";
        if (Rbac is { } rbac && !rbac.Allows(ServiceAccount, ns, type.Group, resource, verb, name))
        {
            var what = name is null ? type.Qualified : $"{type.Qualified} \"{name}\"";
            return Failure(403, "Forbidden", $"{what} is forbidden: User \"system:serviceaccount:{ServiceAccount.Namespace}:{ServiceAccount.Name}\" cannot {verb} resource \"{resource}\" in API group \"{type.Group}\" in the namespace \"{ns}\"");
        }

        switch (verb)
        {
            case "list":
                var selector = ParseSelector(query["labelSelector"].ToString());
                var items = List(type, ns).Where(o => selector.All(s => (string?)o["metadata"]?["labels"]?[s.Key] == s.Value)).Select(WithoutTypeMeta).ToArray();
                return (200, new JsonObject
                {
                    ["apiVersion"] = type.ApiVersion,
                    ["kind"] = type.Kind + "List",
                    ["metadata"] = new JsonObject { ["resourceVersion"] = Interlocked.Read(ref _resourceVersion).ToString(CultureInfo.InvariantCulture) },
                    ["items"] = new JsonArray(items),
                });
            case "get":
                return Get(type, ns, name!) is { } found ? (200, found) : NotFound(type, name!);
            case "patch":
                return await PatchAsync(type, ns, name!, subresource == "status", contentType, body, query["fieldValidation"].ToString(), path).ConfigureAwait(false);
            default:
                return Failure(405, "MethodNotAllowed", $"the emulation does not implement {verb}: ShipBot never calls it");
        }
    }

    private async Task<(int Status, JsonObject Body)> PatchAsync(EmulatedResource type, string ns, string name, bool status, string? contentType, string body, string fieldValidation, string path)
    {
        var mediaType = contentType?.Split(';')[0].Trim();
        var isJsonPatch = mediaType == "application/json-patch+json";
        if (mediaType is not ("application/merge-patch+json" or "application/json-patch+json"))
        {
            var supported = type.Schema is null ? "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json" : "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";
            return Failure(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: {supported}");
        }

        if (fieldValidation is not ("" or "Strict" or "Warn" or "Ignore"))
        {
            return Failure(400, "BadRequest", $"fieldValidation {fieldValidation} is invalid");
        }

        JsonNode? patch;
        try
        {
            patch = JsonNode.Parse(body);
        }
        catch (JsonException ex)
        {
            return Failure(400, "BadRequest", $"error decoding patch: {ex.Message}");
        }

        if (Get(type, ns, name) is null)
        {
            return NotFound(type, name);
        }

        if (BeforePatch is { } hook)
        {
            await hook(new EmulatedRequest("PATCH", path, string.Empty, contentType, body, 0, null)).ConfigureAwait(false);
        }

        Action<EmulatedResource, string, string>? notify;
        JsonObject stored;
        lock (_gate)
        {
            if (!_objects.TryGetValue((type, ns, name), out var current))
            {
                return NotFound(type, name);
            }

            JsonObject patched;
            try
            {
                patched = (isJsonPatch ? JsonPatches.Apply(current, patch) : JsonPatches.Merge(current, patch)) as JsonObject
                    ?? throw new PatchException(422, "the patch does not leave an object");
            }
            catch (PatchException ex)
            {
                return Failure(ex.Status, ex.Status == 422 ? "Invalid" : "BadRequest", ex.Message);
            }

            // A resourceVersion in the patched object is a precondition: it must be the stored one.
            var currentVersion = (string?)current["metadata"]!["resourceVersion"];
            var wanted = patched["metadata"]?["resourceVersion"];
            if (wanted is not null && (string?)wanted != currentVersion)
            {
                return Failure(409, "Conflict", $"Operation cannot be fulfilled on {type.Qualified} \"{name}\": the object has been modified; please apply your changes to the latest version and try again", type, name);
            }

            JsonObject next;
            if (status)
            {
                next = current.DeepClone().AsObject();
                next["status"] = patched["status"]?.DeepClone();
            }
            else
            {
                next = patched;
                if ((string?)next["metadata"]?["name"] != name || (string?)next["metadata"]?["namespace"] != ns || (string?)next["metadata"]?["uid"] != (string?)current["metadata"]!["uid"])
                {
                    return Failure(422, "Invalid", $"{type.Kind} \"{name}\" is invalid: metadata: name, namespace and uid are immutable");
                }

                if (type.StatusSubresource)
                {
                    next["status"] = current["status"]?.DeepClone();
                }

                next["metadata"]!["generation"] = current["metadata"]!["generation"]?.DeepClone();
                next["metadata"]!["creationTimestamp"] = current["metadata"]!["creationTimestamp"]?.DeepClone();
            }

            if (next["status"] is null)
            {
                next.Remove("status");
            }

            next["apiVersion"] = type.ApiVersion;
            next["kind"] = type.Kind;
            next["metadata"]!["resourceVersion"] = currentVersion;
            var errors = type.Schema?.Validate(next) ?? [];
            if (errors.Count > 0)
            {
                foreach (var error in errors)
                {
                    _violations.Enqueue($"PATCH {path} ({mediaType}): {error}");
                }

                return Failure(422, "Invalid", $"{type.Kind}.{type.Group} \"{name}\" is invalid: {string.Join("; ", errors)}", type, name);
            }

            if (JsonNode.DeepEquals(next, current))
            {
                return (200, current.DeepClone().AsObject());
            }

            Store(type, ns, name, current, next);
            stored = next.DeepClone().AsObject();
            notify = Changed;
        }

        notify?.Invoke(type, ns, name);
        return (200, stored);
    }

    private static Dictionary<string, string> ParseSelector(string selector) =>
        selector.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => s.Split('=', 2))
            .ToDictionary(s => s[0].TrimEnd('!', '=').Trim(), s => s.Length > 1 ? s[1].TrimStart('=').Trim() : string.Empty);

    private static JsonObject WithoutTypeMeta(JsonObject obj)
    {
        obj.Remove("apiVersion");
        obj.Remove("kind");
        return obj;
    }

    private static (int, JsonObject) NotFound(EmulatedResource type, string name) =>
        Failure(404, "NotFound", $"{type.Qualified} \"{name}\" not found", type, name);

    private static (int, JsonObject) Failure(int code, string reason, string message, EmulatedResource? type = null, string? name = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        };
        if (type is not null)
        {
            status["details"] = new JsonObject { ["name"] = name, ["group"] = type.Group, ["kind"] = type.Plural };
        }

        return (code, status);
    }

    private string Kubeconfig()
    {
        var ca = Convert.ToBase64String(Encoding.ASCII.GetBytes(Certificate.ExportCertificatePem()));
        return $"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: emulated
                cluster:
                  server: {Server.AbsoluteUri.TrimEnd('/')}
                  certificate-authority-data: {ca}
            users:
              - name: shipbot
                user:
                  token: {Token}
            contexts:
              - name: emulated
                context:
                  cluster: emulated
                  user: shipbot
            current-context: emulated
            """;
    }

    /// <summary>A self-signed certificate for 127.0.0.1 (the kubeconfig's certificate authority), made fresh per run.</summary>
    private static X509Certificate2 CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=emulated-kube-apiserver", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyCertSign, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        Certificate.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}
