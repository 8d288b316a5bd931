namespace ShipBot.Core.Releases;

/// <summary>
/// A command that the release's rules refuse: an illegal transition (the message names the
/// current state), a missing role, a floor item that cannot be waived. The message is meant for
/// the person who asked and never contains a secret.
/// </summary>
public sealed class ReleaseRuleException(string message) : Exception(message);
