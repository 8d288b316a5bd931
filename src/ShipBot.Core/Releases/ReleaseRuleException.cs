namespace ShipBot.Core.Releases;

/// <summary>
/// A command that the release's rules refuse: an illegal transition (the message names the
/// current state), a missing role, a floor item that cannot be waived. The message is meant for
/// the person who asked and never contains a secret.
/// </summary>
public sealed class ReleaseRuleException(string message) : Exception(message)
{
    /// <summary>Why the command was refused: the rules of the release (the default), a missing role or separation of duties, or no such release.</summary>
    public RefusalKind Kind { get; init; } = RefusalKind.Rule;
}

/// <summary>Why a command was refused, for surfaces that answer with a status code (the pipeline API: 409, 403, 404).</summary>
public enum RefusalKind
{
    /// <summary>The release's rules or state refuse it.</summary>
    Rule,

    /// <summary>The actor lacks the role, or requested the release and may not decide on it.</summary>
    Forbidden,

    /// <summary>There is no such release (or service).</summary>
    NotFound,

    /// <summary>The state store could not be reached; try again.</summary>
    Unavailable,
}
