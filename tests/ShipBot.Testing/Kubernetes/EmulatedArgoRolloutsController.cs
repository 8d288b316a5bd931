using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ShipBot.Testing.Kubernetes;

/// <summary>
/// Stands in for the Argo Rollouts controller (v1.9) against the emulated API server, for canary
/// Rollouts: it keeps one ReplicaSet per pod template (named <c>&lt;rollout&gt;-&lt;hash&gt;</c>, labelled
/// <c>rollouts-pod-template-hash</c>, numbered by the <c>rollout.argoproj.io/revision</c>
/// annotation), restarts the steps on a new template (clearing an abort), runs <c>setWeight</c>
/// steps (the canary ReplicaSet scaled to the weight, traffic weights in
/// <c>status.canary.weights</c> when the Rollout uses trafficRouting) and holds at an indefinite
/// <c>pause: {}</c> with a <c>CanaryPauseStep</c> pause condition until a promote clears it, honours
/// <c>promoteFull</c>, <c>spec.paused</c> and <c>status.abort</c> (weight 0, stable scaled back,
/// phase Degraded with Argo's RolloutAborted message), and computes phase and message as
/// Argo's <c>CalculateRolloutPhase</c> does. Pods become available <see cref="PodStartDelay"/>
/// after a scale-up. Test knobs stand for what the real controller does on its own: a failed
/// step AnalysisRun (<see cref="FailAnalysis"/>) and a progress deadline (<see cref="ExceedProgressDeadline"/>).
/// Every write goes through the emulation, so it is checked against the published schema too.
/// </summary>
public sealed class EmulatedArgoRolloutsController : IAsyncDisposable
{
    private readonly KubernetesApiEmulator _api;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _scaledAt = new();
    private readonly ConcurrentDictionary<(string, string), string> _abortMessages = new();
    private readonly ConcurrentDictionary<(string, string), bool> _deadlineExceeded = new();
    private readonly ConcurrentDictionary<(string, string), string> _analysisFailures = new();
    private readonly Task _loop;

    public EmulatedArgoRolloutsController(KubernetesApiEmulator api)
    {
        ArgumentNullException.ThrowIfNull(api);
        _api = api;
        _api.Changed += (type, _, _) =>
        {
            if (type == _api.Rollouts)
            {
                _wake.Release();
            }
        };
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>How long new pods take to become available. Default 50 ms.</summary>
    public TimeSpan PodStartDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>While true, the canary ReplicaSet's pods never become available (a crash loop).</summary>
    public bool CanaryPodsCrashLoop { get; set; }

    /// <summary>While true, the controller does nothing (it is down).</summary>
    public bool Stopped { get; set; }

    /// <summary>Errors of the controller's own loop (none expected).</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    /// <summary>A Rollout with a canary strategy: for each weight a <c>setWeight</c> then <c>pause: {}</c>; reconciled until healthy at <paramref name="image"/>.</summary>
    public async Task<JsonObject> CreateRolloutAsync(string ns, string name, string image, int replicas = 4, IReadOnlyList<int>? weights = null, bool trafficRouting = true)
    {
        var steps = new JsonArray();
        foreach (var weight in weights ?? [5, 25, 50])
        {
            steps.Add(new JsonObject { ["setWeight"] = weight });
            steps.Add(new JsonObject { ["pause"] = new JsonObject() });
        }

        var canary = new JsonObject
        {
            ["canaryService"] = $"{name}-canary",
            ["stableService"] = $"{name}-stable",
            ["steps"] = steps,
        };
        if (trafficRouting)
        {
            canary["trafficRouting"] = new JsonObject
            {
                ["plugins"] = new JsonObject { ["argoproj-labs/gatewayAPI"] = new JsonObject { ["httpRoute"] = name, ["namespace"] = ns } },
            };
        }

        _api.Create(_api.Rollouts, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["spec"] = new JsonObject
            {
                ["replicas"] = replicas,
                ["revisionHistoryLimit"] = 5,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } },
                    ["spec"] = new JsonObject
                    {
                        ["containers"] = new JsonArray(new JsonObject
                        {
                            ["name"] = name,
                            ["image"] = image,
                            ["ports"] = new JsonArray(new JsonObject { ["containerPort"] = 8080, ["protocol"] = "TCP" }),
                        }),
                    },
                },
                ["strategy"] = new JsonObject { ["canary"] = canary },
            },
        });
        await WaitUntilAsync(ns, name, r => (string?)r["status"]?["phase"] == "Healthy").ConfigureAwait(false);
        return _api.Get(_api.Rollouts, ns, name)!;
    }

    /// <summary>Waits until the stored Rollout satisfies <paramref name="condition"/> (a generous deadline; not a timing).</summary>
    public async Task<JsonObject> WaitUntilAsync(string ns, string name, Func<JsonObject, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        JsonObject? rollout = null;
        while (DateTime.UtcNow < deadline)
        {
            rollout = _api.Get(_api.Rollouts, ns, name);
            if (rollout is not null && condition(rollout))
            {
                return rollout;
            }

            await Task.Delay(10).ConfigureAwait(false);
        }

        throw new TimeoutException($"Rollout {ns}/{name} never reached the condition; last: {rollout?.ToJsonString()}; controller errors: {string.Join("; ", Errors)}");
    }

    /// <summary>Argo's step AnalysisRun failed: at its next reconcile the controller records the failed run and aborts the Rollout with its message, in one status write, as Argo does.</summary>
    public void FailAnalysis(string ns, string name, string message)
    {
        _analysisFailures[(ns, name)] = message;
        _wake.Release();
    }

    /// <summary>The canary's pods did not become available in time: Argo reports ProgressDeadlineExceeded (Degraded).</summary>
    public void ExceedProgressDeadline(string ns, string name)
    {
        _deadlineExceeded[(ns, name)] = true;
        _wake.Release();
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

            foreach (var rollout in _api.ListAll(_api.Rollouts))
            {
                var ns = (string)rollout["metadata"]!["namespace"]!;
                try
                {
                    Reconcile(ns, rollout);
                }
                catch (Exception ex) when (ex is InvalidOperationException or NullReferenceException or FormatException or KeyNotFoundException)
                {
                    Report($"{ns}/{rollout["metadata"]?["name"]}: {ex.Message}");
                }
            }
        }
    }

    private void Reconcile(string ns, JsonObject read)
    {
        var name = (string)read["metadata"]!["name"]!;
        var uid = (string)read["metadata"]!["uid"]!;
        var readVersion = (string?)read["metadata"]!["resourceVersion"];
        var spec = read["spec"]!.AsObject();
        var status = read["status"]?.DeepClone() as JsonObject ?? [];
        var desired = (int?)spec["replicas"] ?? 1;
        var steps = spec["strategy"]?["canary"]?["steps"]?.AsArray() ?? [];
        var traffic = spec["strategy"]?["canary"]?["trafficRouting"] is not null;
        var hash = Hash(spec["template"]!);
        var now = Timestamp();
        var sets = _api.List(_api.ReplicaSets, ns).Where(rs => rs["metadata"]?["ownerReferences"]?.AsArray().Any(o => (string?)o?["uid"] == uid) == true).ToList();
        var prevControllerPause = (bool?)status["controllerPause"] ?? false;

        if (status["stableRS"] is null)
        {
            EnsureReplicaSet(ns, name, uid, hash, spec["template"]!, sets);
            status["stableRS"] = hash;
            status["currentPodHash"] = hash;
            status["currentStepIndex"] = steps.Count;
        }
        else if ((string?)status["currentPodHash"] != hash)
        {
            // A new pod template: a new revision starts at the first step (straight to the end when it is the stable one again).
            EnsureReplicaSet(ns, name, uid, hash, spec["template"]!, sets);
            status["currentPodHash"] = hash;
            status["currentStepIndex"] = hash == (string?)status["stableRS"] ? steps.Count : 0;
            status.Remove("abort");
            status.Remove("abortedAt");
            status.Remove("pauseConditions");
            status.Remove("promoteFull");
            (status["canary"] as JsonObject)?.Remove("currentStepAnalysisRunStatus");
            status["conditions"] = new JsonArray();
            _abortMessages.TryRemove((ns, name), out _);
            _deadlineExceeded.TryRemove((ns, name), out _);
            _analysisFailures.TryRemove((ns, name), out _);
            prevControllerPause = false;
        }

        if (_analysisFailures.TryGetValue((ns, name), out var analysisMessage) && (string?)status["currentPodHash"] != (string?)status["stableRS"]
            && (string?)status["canary"]?["currentStepAnalysisRunStatus"]?["status"] != "Failed")
        {
            var canaryRun = status["canary"] as JsonObject ?? [];
            canaryRun["currentStepAnalysisRunStatus"] = new JsonObject
            {
                ["name"] = $"{name}-{hash}-{Revision(sets, hash)}-{(int?)status["currentStepIndex"] ?? 0}",
                ["status"] = "Failed",
                ["message"] = analysisMessage,
            };
            status["canary"] = canaryRun;
            status["abort"] = true;
            _abortMessages[(ns, name)] = $"Step-based analysis phase error/failed: {analysisMessage}";
        }

        sets = _api.List(_api.ReplicaSets, ns).Where(rs => rs["metadata"]?["ownerReferences"]?.AsArray().Any(o => (string?)o?["uid"] == uid) == true).ToList();
        var stable = (string)status["stableRS"]!;
        var aborted = (bool?)status["abort"] == true;
        var index = (int?)status["currentStepIndex"] ?? 0;
        var pauses = (status["pauseConditions"] as JsonArray)?.OfType<JsonObject>().Select(p => p.DeepClone().AsObject()).ToList() ?? [];
        var revision = Revision(sets, hash);

        if (aborted)
        {
            pauses.Clear();
            status["abortedAt"] ??= now;
        }
        else if ((bool?)spec["paused"] != true)
        {
            if ((bool?)status["promoteFull"] == true)
            {
                // As Argo: a full promotion skips the remaining steps and clears the pause conditions.
                index = steps.Count;
                pauses.Clear();
            }

            var first = index;
            while (index < steps.Count)
            {
                var step = steps[index]!.AsObject();
                if (step["setWeight"] is { } setWeight)
                {
                    var canaryReplicas = CanaryReplicas(desired, (int)setWeight);
                    Scale(ns, name, hash, canaryReplicas);
                    if (Available(ns, name, hash) < canaryReplicas)
                    {
                        break;
                    }

                    index++;
                }
                else if (step["pause"] is JsonObject)
                {
                    var holding = pauses.Any(p => (string?)p["reason"] == "CanaryPauseStep");
                    if (index == first && prevControllerPause && !holding)
                    {
                        // The pause was promoted (its condition cleared): move on.
                        index++;
                        continue;
                    }

                    if (!holding)
                    {
                        pauses.Add(new JsonObject { ["reason"] = "CanaryPauseStep", ["startTime"] = now });
                    }

                    break;
                }
                else
                {
                    index++;
                }
            }

            if (index >= steps.Count && hash != stable && Available(ns, name, hash) >= desired)
            {
                stable = hash;
                status["stableRS"] = hash;
                status.Remove("promoteFull");
            }
            else if (index >= steps.Count && hash != stable)
            {
                Scale(ns, name, hash, desired);
            }
        }

        // Replica counts: the new revision at its weight, the stable one full (traffic routing) or the rest (basic canary).
        // Traffic moves once a setWeight step is done; the canary is scaled up while the step runs.
        var weight = hash == stable ? 0 : aborted ? 0 : StepWeight(steps, index);
        var scaleWeight = index < steps.Count && !aborted && hash != stable && steps[index]?["setWeight"] is { } running ? Math.Max(weight, (int)running) : weight;
        foreach (var rs in sets)
        {
            var rsHash = (string)rs["metadata"]!["labels"]![PodTemplateHash]!;
            int replicas;
            if (rsHash == stable)
            {
                replicas = hash == stable || traffic || aborted ? desired : desired - Math.Min(desired, CanaryReplicas(desired, scaleWeight));
            }
            else if (rsHash == hash)
            {
                replicas = aborted ? (traffic ? (int?)rs["spec"]?["replicas"] ?? 0 : 0) : index >= steps.Count ? desired : CanaryReplicas(desired, scaleWeight);
            }
            else
            {
                replicas = 0;
            }

            Scale(ns, name, rsHash, replicas);
        }

        sets = _api.List(_api.ReplicaSets, ns).Where(rs => rs["metadata"]?["ownerReferences"]?.AsArray().Any(o => (string?)o?["uid"] == uid) == true).ToList();
        var total = sets.Sum(rs => (int?)rs["status"]?["replicas"] ?? 0);
        var available = sets.Sum(rs => (int?)rs["status"]?["availableReplicas"] ?? 0);
        var updated = sets.Where(rs => (string?)rs["metadata"]!["labels"]![PodTemplateHash] == hash).Sum(rs => (int?)rs["status"]?["replicas"] ?? 0);

        var conditions = new JsonArray();
        if (aborted)
        {
            var message = $"Rollout aborted update to revision {revision}";
            if (_abortMessages.TryGetValue((ns, name), out var why))
            {
                message += $": {why}";
            }

            conditions.Add(Condition("Progressing", "False", "RolloutAborted", message, now));
        }
        else if (_deadlineExceeded.ContainsKey((ns, name)))
        {
            conditions.Add(Condition("Progressing", "False", "ProgressDeadlineExceeded", $"ReplicaSet \"{name}-{hash}\" has timed out progressing.", now));
        }
        else
        {
            conditions.Add(Condition("Progressing", "True", hash == stable ? "NewReplicaSetAvailable" : "ReplicaSetUpdated", hash == stable ? $"ReplicaSet \"{name}-{hash}\" has successfully progressed." : $"ReplicaSet \"{name}-{hash}\" is progressing.", now));
        }

        conditions.Add(Condition("Available", available >= desired ? "True" : "False", "AvailableReason", available >= desired ? "Rollout has minimum availability" : "Rollout does not have minimum availability", now));
        KeepTransitionTimes(conditions, status["conditions"] as JsonArray);

        status["currentStepIndex"] = index;
        status["replicas"] = total;
        status["updatedReplicas"] = updated;
        status["readyReplicas"] = available;
        status["availableReplicas"] = available;
        status["observedGeneration"] = (KubernetesApiEmulator.Number(read["metadata"]!["generation"])).ToString(CultureInfo.InvariantCulture);
        status["selector"] = $"app={name}";
        status["conditions"] = conditions;
        if (pauses.Count > 0)
        {
            status["pauseConditions"] = new JsonArray([.. pauses]);
            status["controllerPause"] = true;
        }
        else
        {
            status.Remove("pauseConditions");
            status.Remove("controllerPause");
        }

        var canaryStatus = status["canary"] as JsonObject ?? [];
        if (traffic)
        {
            canaryStatus["weights"] = new JsonObject
            {
                ["canary"] = new JsonObject { ["podTemplateHash"] = hash, ["serviceName"] = $"{name}-canary", ["weight"] = weight },
                ["stable"] = new JsonObject { ["podTemplateHash"] = stable, ["serviceName"] = $"{name}-stable", ["weight"] = 100 - weight },
            };
        }

        status["canary"] = canaryStatus;
        var (phase, phaseMessage) = Phase(spec, status, conditions, desired, traffic);
        status["phase"] = phase;
        if (phaseMessage.Length > 0)
        {
            status["message"] = phaseMessage;
        }
        else
        {
            status.Remove("message");
        }

        _api.Update(_api.Rollouts, ns, name, latest =>
        {
            // A real controller's write would conflict: reconcile again from what is stored now.
            if ((string?)latest["metadata"]!["resourceVersion"] != readVersion)
            {
                _wake.Release();
                return false;
            }

            latest["status"] = status;
            return true;
        });
    }

    /// <summary>Argo's CalculateRolloutPhase, for canary Rollouts.</summary>
    private static (string Phase, string Message) Phase(JsonObject spec, JsonObject status, JsonArray conditions, int desired, bool traffic)
    {
        foreach (var c in conditions.OfType<JsonObject>())
        {
            if ((string?)c["reason"] is "RolloutAborted" or "ProgressDeadlineExceeded")
            {
                return ("Degraded", $"{c["reason"]}: {c["message"]}");
            }
        }

        if ((bool?)spec["paused"] == true)
        {
            return ("Paused", "manually paused");
        }

        if (status["pauseConditions"] is JsonArray { Count: > 0 } pauses)
        {
            return ("Paused", (string)pauses[0]!["reason"]!);
        }

        var updated = (int)status["updatedReplicas"]!;
        var available = (int)status["availableReplicas"]!;
        if (updated < desired)
        {
            return ("Progressing", "more replicas need to be updated");
        }

        if (available < updated)
        {
            return ("Progressing", "updated replicas are still becoming available");
        }

        if (!traffic && (int)status["replicas"]! > updated)
        {
            return ("Progressing", "old replicas are pending termination");
        }

        return (string?)status["stableRS"] != (string?)status["currentPodHash"]
            ? ("Progressing", "waiting for all steps to complete")
            : ("Healthy", string.Empty);
    }

    private void EnsureReplicaSet(string ns, string name, string uid, string hash, JsonNode template, IReadOnlyList<JsonObject> sets)
    {
        var next = sets.Select(rs => long.Parse((string?)rs["metadata"]?["annotations"]?[RevisionAnnotation] ?? "0", CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max() + 1;
        var existing = sets.FirstOrDefault(rs => (string?)rs["metadata"]!["labels"]![PodTemplateHash] == hash);
        if (existing is not null)
        {
            _api.Update(_api.ReplicaSets, ns, $"{name}-{hash}", rs =>
            {
                rs["metadata"]!["annotations"]![RevisionAnnotation] = next.ToString(CultureInfo.InvariantCulture);
                return true;
            });
            return;
        }

        var podTemplate = template.DeepClone().AsObject();
        podTemplate["metadata"]!["labels"]![PodTemplateHash] = hash;
        _api.Create(_api.ReplicaSets, new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = $"{name}-{hash}",
                ["namespace"] = ns,
                ["labels"] = new JsonObject { ["app"] = name, [PodTemplateHash] = hash },
                ["annotations"] = new JsonObject { [RevisionAnnotation] = next.ToString(CultureInfo.InvariantCulture) },
                ["ownerReferences"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = "argoproj.io/v1alpha1",
                    ["kind"] = "Rollout",
                    ["name"] = name,
                    ["uid"] = uid,
                    ["controller"] = true,
                    ["blockOwnerDeletion"] = true,
                }),
            },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 0,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name, [PodTemplateHash] = hash } },
                ["template"] = podTemplate,
            },
            ["status"] = new JsonObject { ["replicas"] = 0, ["availableReplicas"] = 0, ["readyReplicas"] = 0 },
        });
    }

    /// <summary>Sets a ReplicaSet's replicas; pods become available after <see cref="PodStartDelay"/> (never for a crash-looping canary).</summary>
    private void Scale(string ns, string name, string hash, int replicas)
    {
        var key = $"{ns}/{name}-{hash}";
        var now = DateTimeOffset.UtcNow;
        _api.Update(_api.ReplicaSets, ns, $"{name}-{hash}", rs =>
        {
            var current = (int?)rs["spec"]!["replicas"] ?? 0;
            if (current != replicas)
            {
                rs["spec"]!["replicas"] = replicas;
                _scaledAt[key] = now;
            }

            var status = rs["status"]!.AsObject();
            var available = (int?)status["availableReplicas"] ?? 0;
            var ready = now - _scaledAt.GetValueOrDefault(key) >= PodStartDelay;
            var crashing = CanaryPodsCrashLoop && Rollout(ns, name) is { } r && (string?)r["status"]?["currentPodHash"] == hash && (string?)r["status"]?["stableRS"] != hash;
            var nextAvailable = replicas < available ? replicas : ready && !crashing ? replicas : available;
            status["replicas"] = replicas;
            status["availableReplicas"] = nextAvailable;
            status["readyReplicas"] = nextAvailable;
            if (!ready)
            {
                _wake.Release();
            }

            return true;
        });
    }

    private JsonObject? Rollout(string ns, string name) => _api.Get(_api.Rollouts, ns, name);

    private int Available(string ns, string name, string hash) =>
        (int?)_api.Get(_api.ReplicaSets, ns, $"{name}-{hash}")?["status"]?["availableReplicas"] ?? 0;

    private long Revision(string ns, string name, string? hash) =>
        Revision(_api.List(_api.ReplicaSets, ns).Where(rs => ((string?)rs["metadata"]?["name"])?.StartsWith(name + "-", StringComparison.Ordinal) == true).ToList(), hash);

    private static long Revision(IReadOnlyList<JsonObject> sets, string? hash) =>
        sets.Where(rs => (string?)rs["metadata"]?["labels"]?[PodTemplateHash] == hash)
            .Select(rs => long.Parse((string?)rs["metadata"]?["annotations"]?[RevisionAnnotation] ?? "0", CultureInfo.InvariantCulture))
            .DefaultIfEmpty(0)
            .Max();

    private static int StepWeight(JsonArray steps, int index)
    {
        if (index >= steps.Count)
        {
            return 100;
        }

        for (var i = index - 1; i >= 0; i--)
        {
            if (steps[i]?["setWeight"] is { } w)
            {
                return (int)w;
            }
        }

        return 0;
    }

    private static int CanaryReplicas(int desired, int weight) => (int)Math.Ceiling(desired * weight / 100.0);

    private static JsonObject Condition(string type, string status, string reason, string message, string now) => new()
    {
        ["type"] = type,
        ["status"] = status,
        ["reason"] = reason,
        ["message"] = message,
        ["lastTransitionTime"] = now,
        ["lastUpdateTime"] = now,
    };

    /// <summary>A condition that did not change keeps its times (so status does not churn).</summary>
    private static void KeepTransitionTimes(JsonArray conditions, JsonArray? previous)
    {
        foreach (var c in conditions.OfType<JsonObject>())
        {
            var before = previous?.OfType<JsonObject>().FirstOrDefault(p => (string?)p["type"] == (string?)c["type"]);
            if (before is not null && (string?)before["status"] == (string?)c["status"] && (string?)before["reason"] == (string?)c["reason"] && (string?)before["message"] == (string?)c["message"])
            {
                c["lastTransitionTime"] = before["lastTransitionTime"]?.DeepClone();
                c["lastUpdateTime"] = before["lastUpdateTime"]?.DeepClone();
            }
        }
    }

    private static string Timestamp() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A pod template hash: ten lower-case hex characters of the template's SHA-256.</summary>
    private static string Hash(JsonNode template) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(template))))[..10];

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":{Canonical(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };

    private const string PodTemplateHash = "rollouts-pod-template-hash";
    private const string RevisionAnnotation = "rollout.argoproj.io/revision";

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
