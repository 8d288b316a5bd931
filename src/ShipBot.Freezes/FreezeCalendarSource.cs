using Ical.Net;
using ShipBot.Core.Freezes;

namespace ShipBot.Freezes;

/// <summary>
/// One configured calendar at run time: the last good parsed copy, the windows expanded from it
/// around the moments asked about, and how its reads went. Reads of <see cref="State"/> are
/// lock-free (an immutable snapshot swapped whole); refreshes of one source never overlap.
/// </summary>
internal sealed class FreezeCalendarSource(string key, string? service, FreezeCalendarOptions options)
{
    private readonly Lock _expandGate = new();

    public string Key { get; } = key;

    public string? Service { get; } = service;

    public FreezeCalendarOptions Options { get; } = options;

    public string Name => Options.EffectiveName;

    public SemaphoreSlim RefreshGate { get; } = new(1, 1);

    public SourceState State { get; set; } = SourceState.Empty;

    /// <summary>The ETag and Last-Modified of the last good download, for a conditional request.</summary>
    public (string? ETag, DateTimeOffset? LastModified) Validators { get; set; }

    public DateTimeOffset NextRefreshAt { get; set; } = DateTimeOffset.MinValue;

    public FreezeSourceStatus Status() => new(
        Name,
        Service,
        Options.Location,
        State.LastSuccessAt,
        State.LastAttemptAt,
        State.LastError,
        State.Expansion?.Windows.Count ?? 0);

    /// <summary>
    /// The windows overlapping [<paramref name="from"/>, <paramref name="to"/>), expanding the last
    /// good calendar again when the range is outside what was expanded.
    /// </summary>
    public IEnumerable<FreezeWindow> Between(DateTimeOffset from, DateTimeOffset to, FreezeOptions options)
    {
        var state = State;
        if (state.Calendar is null)
        {
            return [];
        }

        var expansion = state.Expansion;
        if (expansion is null || from < expansion.From || to > expansion.To)
        {
            lock (_expandGate)
            {
                state = State;
                expansion = state.Expansion;
                if (expansion is null || from < expansion.From || to > expansion.To)
                {
                    var start = from < (expansion?.From ?? from) ? from : expansion?.From ?? from;
                    var end = to > (expansion?.To ?? to) ? to : expansion?.To ?? to;
                    if (end - start < options.Horizon)
                    {
                        end = start + options.Horizon;
                    }

                    try
                    {
                        expansion = Expand(state.Calendar!, start, end, options);
                        State = state with { Expansion = expansion };
                    }
                    catch (FormatException)
                    {
                        // The calendar expanded fine when it was loaded; a range it cannot evaluate
                        // (far outside its rules) contributes the windows already known.
                        return expansion?.Windows.Where(w => w.End > from && w.Start < to) ?? [];
                    }
                }
            }
        }

        return expansion.Windows.Where(w => w.End > from && w.Start < to);
    }

    public Expansion Expand(Calendar calendar, DateTimeOffset from, DateTimeOffset to, FreezeOptions options)
    {
        lock (_expandGate)
        {
            // Ical.Net's evaluation caches inside the calendar object: one expansion at a time.
            var windows = IcsFreezeParser.Expand(calendar, Name, Service, Options.TimeZone, from, to, options.MaxWindowLength);
            return new Expansion(from, to, windows);
        }
    }
}

/// <summary>Windows expanded over [<see cref="From"/>, <see cref="To"/>).</summary>
internal sealed record Expansion(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<FreezeWindow> Windows);

/// <summary>A source's last good calendar and the outcome of its reads.</summary>
internal sealed record SourceState(Calendar? Calendar, Expansion? Expansion, DateTimeOffset? LastSuccessAt, DateTimeOffset? LastAttemptAt, string? LastError)
{
    public static SourceState Empty { get; } = new(null, null, null, null, null);
}
