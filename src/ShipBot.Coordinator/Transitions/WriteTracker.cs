using System.Runtime.CompilerServices;

namespace ShipBot.Coordinator.Transitions;

/// <summary>
/// Whether the current command has stored something yet, so a later store failure is not reported
/// as "nothing was changed". Flows with the command's async calls.
/// </summary>
internal static class WriteTracker
{
    private static readonly AsyncLocal<StrongBox<bool>?> Written = new();

    /// <summary>A command starts: nothing written yet.</summary>
    public static void Begin() => Written.Value = new StrongBox<bool>(false);

    /// <summary>Something of the current command is stored.</summary>
    public static void Mark() => Written.Value?.Value = true;

    public static bool HasWritten => Written.Value?.Value == true;
}
