namespace ShipBot.Core.Outcomes;

/// <summary>
/// One configured outcome target (<c>ShipBot:Services:&lt;service&gt;:Outcomes:&lt;name&gt;</c>). The
/// key is the target's name, which <c>start … --outcome &lt;name&gt;</c> refers to.
/// </summary>
public sealed class OutcomeTargetOptions
{
    /// <summary>The query against the service's health source (PromQL for Prometheus); its result is compared as it is. Required.</summary>
    public string? Query { get; set; }

    /// <summary>"&gt;=" (default), "&lt;=", "&gt;", "&lt;" (or ≥, ≤, AtLeast, AtMost, Above, Below).</summary>
    public string Comparison { get; set; } = ">=";

    /// <summary>The target value, in the unit of the query's result. Required.</summary>
    public double? Value { get; set; }

    /// <summary>Shown after numbers ("%", "ms"); display only. Default none.</summary>
    public string? Unit { get; set; }

    /// <summary>Whether every release of the service measures it (default true); false: only releases started with <c>--outcome &lt;name&gt;</c>.</summary>
    public bool Always { get; set; } = true;

    /// <summary>The problems of this entry, each naming <paramref name="key"/> (the configuration path of this entry).</summary>
    public IReadOnlyList<string> Validate(string key)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Query))
        {
            errors.Add($"{key}:Query is missing: give the query that measures this target (PromQL for Prometheus).");
        }

        if (!OutcomeTarget.TryParseComparison(Comparison, out _))
        {
            errors.Add($"{key}:Comparison '{Comparison}' is unknown: use >=, <=, > or <.");
        }

        if (Value is not { } value || !double.IsFinite(value))
        {
            errors.Add($"{key}:Value is missing: give the number the measured value is compared with.");
        }

        return errors;
    }

    /// <summary>The target named <paramref name="name"/>; call <see cref="Validate"/> first.</summary>
    public OutcomeTarget ToTarget(string name)
    {
        if (!OutcomeTarget.TryParseComparison(Comparison, out var comparison) || Value is not { } value || string.IsNullOrWhiteSpace(Query))
        {
            throw new InvalidOperationException($"Outcome target '{name}' is not valid: {string.Join(" ", Validate(name))}");
        }

        return new OutcomeTarget(name, Query.Trim(), comparison, value) { Unit = string.IsNullOrWhiteSpace(Unit) ? null : Unit.Trim() };
    }
}

/// <summary>A service's configured outcome targets, and which ones a release measures.</summary>
public sealed class OutcomeTargetCatalog
{
    private readonly Dictionary<string, (OutcomeTarget Target, bool Always)> _targets;

    /// <summary>Builds the catalogue from configured entries (validate them first).</summary>
    public OutcomeTargetCatalog(IReadOnlyDictionary<string, OutcomeTargetOptions> configured)
    {
        ArgumentNullException.ThrowIfNull(configured);
        _targets = configured.ToDictionary(
            kv => kv.Key,
            kv => (kv.Value.ToTarget(kv.Key), kv.Value.Always),
            StringComparer.OrdinalIgnoreCase);
    }

    public static OutcomeTargetCatalog Empty { get; } = new(new Dictionary<string, OutcomeTargetOptions>());

    public IReadOnlyCollection<OutcomeTarget> All => _targets.Values.Select(t => t.Target).OrderBy(t => t.Name, StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>
    /// The targets a release measures: every <c>Always</c> target plus the ones named at start, in
    /// name order, each once. Returns false with an error naming the known targets when a name is unknown.
    /// </summary>
    public bool TryResolve(IReadOnlyList<string> requested, out IReadOnlyList<OutcomeTarget> targets, out string? error)
    {
        ArgumentNullException.ThrowIfNull(requested);
        var unknown = requested.Where(n => !_targets.ContainsKey(n.Trim())).ToList();
        if (unknown.Count > 0)
        {
            targets = [];
            var known = _targets.Count == 0 ? "none is configured" : $"configured: {string.Join(", ", _targets.Keys.Order(StringComparer.OrdinalIgnoreCase))}";
            error = $"Unknown outcome target(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))} ({known}).";
            return false;
        }

        var names = new HashSet<string>(requested.Select(n => n.Trim()), StringComparer.OrdinalIgnoreCase);
        targets = _targets.Values
            .Where(t => t.Always || names.Contains(t.Target.Name))
            .Select(t => t.Target)
            .OrderBy(t => t.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
        error = null;
        return true;
    }
}
