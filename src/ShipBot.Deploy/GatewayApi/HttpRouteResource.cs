using System.Text.Json.Serialization;
using ShipBot.Deploy.Kubernetes;

namespace ShipBot.Deploy.GatewayApi;

// The parts of a Gateway API HTTPRoute (gateway.networking.k8s.io/v1) that ShipBot reads.

public sealed record HttpRoute(ObjectMeta Metadata, HttpRouteSpec? Spec, HttpRouteStatus? Status);

public sealed record HttpRouteSpec(IReadOnlyList<ParentReference>? ParentRefs, IReadOnlyList<HttpRouteRule>? Rules);

/// <summary>A Gateway (or listener) the route attaches to; group and kind default to the Gateway API's Gateway.</summary>
public sealed record ParentReference(string? Group, string? Kind, [property: JsonPropertyName("namespace")] string? Namespace, string Name, string? SectionName, int? Port)
{
    /// <summary>Same parent, with the defaults applied (namespace: the route's).</summary>
    public bool Matches(ParentReference other, string routeNamespace)
    {
        ArgumentNullException.ThrowIfNull(other);
        return (Group ?? "gateway.networking.k8s.io") == (other.Group ?? "gateway.networking.k8s.io")
            && (Kind ?? "Gateway") == (other.Kind ?? "Gateway")
            && (Namespace ?? routeNamespace) == (other.Namespace ?? routeNamespace)
            && Name == other.Name
            && SectionName == other.SectionName
            && Port == other.Port;
    }

    public override string ToString() => $"{Name}{(SectionName is null ? string.Empty : $"/{SectionName}")}";
}

public sealed record HttpRouteRule(string? Name, IReadOnlyList<HttpBackendRef>? BackendRefs);

/// <summary>A backend of a rule; group "" and kind Service by default, weight 1 by default.</summary>
public sealed record HttpBackendRef(string? Group, string? Kind, string Name, [property: JsonPropertyName("namespace")] string? Namespace, int? Port, int? Weight)
{
    public bool IsService(string service, string routeNamespace) =>
        string.IsNullOrEmpty(Group) && (Kind ?? "Service") == "Service" && Name == service && (Namespace ?? routeNamespace) == routeNamespace;
}

public sealed record HttpRouteStatus(IReadOnlyList<RouteParentStatus>? Parents);

public sealed record RouteParentStatus(ParentReference ParentRef, string? ControllerName, IReadOnlyList<ApiCondition>? Conditions);

/// <summary>A metav1.Condition.</summary>
public sealed record ApiCondition(string Type, string Status, long? ObservedGeneration, string? Reason, string? Message, DateTimeOffset? LastTransitionTime);
