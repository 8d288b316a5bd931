using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;

namespace ShipBot.Testing.Kubernetes;

/// <summary>
/// Stands in for a Gateway API implementation's controller against the emulated API server: for
/// every HTTPRoute whose status does not describe its current generation, it writes, per parent
/// Gateway in <c>spec.parentRefs</c>, the <c>Accepted</c> and <c>ResolvedRefs</c> conditions with
/// that <c>observedGeneration</c> (ResolvedRefs False, reason BackendNotFound, when a backendRef
/// names a Service it does not know). It also keeps the EndpointSlices of the Services
/// (<see cref="SetEndpoints"/>). Every write is checked against the published HTTPRoute schema.
/// </summary>
public sealed class EmulatedGatewayController : IAsyncDisposable
{
    public const string ControllerName = "example.net/emulated-gateway-controller";

    private readonly KubernetesApiEmulator _api;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ConcurrentDictionary<(string Namespace, string Name), bool> _services = new();
    private readonly Task _loop;

    public EmulatedGatewayController(KubernetesApiEmulator api)
    {
        ArgumentNullException.ThrowIfNull(api);
        _api = api;
        _api.Changed += (type, _, _) =>
        {
            if (type == _api.HttpRoutes)
            {
                _wake.Release();
            }
        };
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>While set, the gateway refuses every route with this reason (Accepted False), e.g. NotAllowedByListeners.</summary>
    public string? RefuseReason { get; set; }

    /// <summary>While true, the controller does nothing (it is down): routes keep their old status.</summary>
    public bool Stopped { get; set; }

    public ConcurrentQueue<string> Errors { get; } = new();

    /// <summary>A Service exists with <paramref name="ready"/> ready and <paramref name="notReady"/> not-ready endpoints (one EndpointSlice).</summary>
    public void SetEndpoints(string ns, string service, int ready, int notReady = 0)
    {
        _services[(ns, service)] = true;
        var endpoints = new JsonArray();
        for (var i = 0; i < ready + notReady; i++)
        {
            endpoints.Add(new JsonObject
            {
                ["addresses"] = new JsonArray($"10.1.{Math.Abs(service.GetHashCode(StringComparison.Ordinal)) % 250}.{i + 1}"),
                ["conditions"] = new JsonObject { ["ready"] = i < ready, ["serving"] = i < ready, ["terminating"] = false },
            });
        }

        var name = $"{service}-x7k2p";
        if (_api.Get(_api.EndpointSlices, ns, name) is null)
        {
            _api.Create(_api.EndpointSlices, new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = service } },
                ["addressType"] = "IPv4",
                ["endpoints"] = endpoints,
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "http", ["port"] = 8080, ["protocol"] = "TCP" }),
            });
        }
        else
        {
            _api.Update(_api.EndpointSlices, ns, name, slice =>
            {
                slice["endpoints"] = endpoints;
                return true;
            });
        }

        _wake.Release();
    }

    /// <summary>An HTTPRoute attached to Gateway <paramref name="gateway"/> with one rule sending all traffic to the stable Service and none to the canary.</summary>
    public JsonObject CreateRoute(string ns, string name, string gateway, string stable, string canary, int port = 8080)
    {
        return _api.Create(_api.HttpRoutes, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["spec"] = new JsonObject
            {
                ["parentRefs"] = new JsonArray(new JsonObject { ["name"] = gateway }),
                ["hostnames"] = new JsonArray($"{name}.example.com"),
                ["rules"] = new JsonArray(new JsonObject
                {
                    ["matches"] = new JsonArray(new JsonObject { ["path"] = new JsonObject { ["type"] = "PathPrefix", ["value"] = "/" } }),
                    ["backendRefs"] = new JsonArray(
                        new JsonObject { ["name"] = stable, ["port"] = port, ["weight"] = 100 },
                        new JsonObject { ["name"] = canary, ["port"] = port, ["weight"] = 0 }),
                }),
            },
        });
    }

    /// <summary>Waits until the stored route satisfies <paramref name="condition"/> (a generous deadline; not a timing).</summary>
    public async Task<JsonObject> WaitUntilAsync(string ns, string name, Func<JsonObject, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        JsonObject? route = null;
        while (DateTime.UtcNow < deadline)
        {
            route = _api.Get(_api.HttpRoutes, ns, name);
            if (route is not null && condition(route))
            {
                return route;
            }

            await Task.Delay(10).ConfigureAwait(false);
        }

        throw new TimeoutException($"HTTPRoute {ns}/{name} never reached the condition; last: {route?.ToJsonString()}");
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(TimeSpan.FromMilliseconds(20), _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (Stopped)
            {
                continue;
            }

            foreach (var route in _api.ListAll(_api.HttpRoutes))
            {
                try
                {
                    Reconcile(route);
                }
                catch (Exception ex) when (ex is InvalidOperationException or NullReferenceException or FormatException)
                {
                    Report($"{route["metadata"]?["name"]}: {ex.Message}");
                }
            }
        }
    }

    private void Reconcile(JsonObject route)
    {
        var ns = (string)route["metadata"]!["namespace"]!;
        var name = (string)route["metadata"]!["name"]!;
        var generation = KubernetesApiEmulator.Number(route["metadata"]!["generation"]);
        var version = (string?)route["metadata"]!["resourceVersion"];
        var missing = (route["spec"]?["rules"]?.AsArray() ?? [])
            .SelectMany(r => r?["backendRefs"]?.AsArray() ?? [])
            .Select(b => (string?)b?["name"])
            .FirstOrDefault(b => b is not null && !_services.ContainsKey((ns, b)));
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var parents = new JsonArray();
        foreach (var parent in route["spec"]?["parentRefs"]?.AsArray() ?? [])
        {
            var refused = RefuseReason;
            parents.Add(new JsonObject
            {
                ["parentRef"] = parent!.DeepClone(),
                ["controllerName"] = ControllerName,
                ["conditions"] = new JsonArray(
                    Condition("Accepted", refused is null, refused ?? "Accepted", refused is null ? "Route is accepted" : $"Route is not allowed: {refused}", generation, now),
                    Condition("ResolvedRefs", missing is null, missing is null ? "ResolvedRefs" : "BackendNotFound", missing is null ? "Resolved all the Object references for the Route" : $"Service \"{missing}\" not found", generation, now)),
            });
        }

        var status = new JsonObject { ["parents"] = parents };
        if (JsonNode.DeepEquals(Stripped(route["status"]), Stripped(status)))
        {
            return;
        }

        _api.Update(_api.HttpRoutes, ns, name, latest =>
        {
            if ((string?)latest["metadata"]!["resourceVersion"] != version)
            {
                _wake.Release();
                return false;
            }

            latest["status"] = status;
            return true;
        });
    }

    /// <summary>Status without the transition times, to decide whether anything changed.</summary>
    private static JsonNode? Stripped(JsonNode? status)
    {
        var copy = status?.DeepClone();
        foreach (var condition in copy?["parents"]?.AsArray().SelectMany(p => p?["conditions"]?.AsArray() ?? []) ?? [])
        {
            condition!.AsObject().Remove("lastTransitionTime");
        }

        return copy;
    }

    private static JsonObject Condition(string type, bool ok, string reason, string message, long generation, string now) => new()
    {
        ["type"] = type,
        ["status"] = ok ? "True" : "False",
        ["reason"] = reason,
        ["message"] = message,
        ["observedGeneration"] = generation,
        ["lastTransitionTime"] = now,
    };

    /// <summary>Records an error once (a loop would repeat it every tick).</summary>
    private void Report(string error)
    {
        if (!Errors.Contains(error))
        {
            Errors.Enqueue(error);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopped
        }

        _stop.Dispose();
        _wake.Dispose();
    }
}
