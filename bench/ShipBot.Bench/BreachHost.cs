using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ShipBot.Bench;

/// <summary>
/// Moments observed by the benchmark process, as <see cref="Stopwatch"/> timestamps of this
/// process (one clock for the send, the webhook arrival and the chat message), keyed by
/// "release|what". The first mark of a key wins.
/// </summary>
public sealed class Marks
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _marks = new(StringComparer.Ordinal);

    public void Mark(string key, long timestamp) => Slot(key).TrySetResult(timestamp);

    public bool Has(string key) => _marks.TryGetValue(key, out var slot) && slot.Task.IsCompleted;

    /// <summary>The timestamp of <paramref name="key"/>, or null if it is not marked within <paramref name="timeout"/>.</summary>
    public async Task<long?> WaitAsync(string key, TimeSpan timeout)
    {
        var task = Slot(key).Task;
        if (await Task.WhenAny(task, Task.Delay(timeout)).ConfigureAwait(false) == task)
        {
            return await task.ConfigureAwait(false);
        }

        return null;
    }

    private TaskCompletionSource<long> Slot(string key) =>
        _marks.GetOrAdd(key, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));

    public static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}

/// <summary>
/// A console channel followed over server-sent events (<c>GET /api/console/stream</c>), as the
/// browser does. Marks "release|alert" when the rollback alert (card title "🔴 Rolling back …" or
/// "🔴 Rolled back …") first appears, and "release|rolledback" when it says "Rolled back".
/// </summary>
public sealed partial class ChannelListener : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private Task _reading = Task.CompletedTask;
    private long _messages;

    private ChannelListener(Uri baseAddress)
    {
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    public long Messages => Interlocked.Read(ref _messages);

    public static async Task<ChannelListener> StartAsync(Uri baseAddress, string channel, Marks marks)
    {
        var listener = new ChannelListener(baseAddress);
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        listener._reading = listener.ReadAsync(channel, marks, connected);
        if (await Task.WhenAny(connected.Task, Task.Delay(TimeSpan.FromSeconds(20))).ConfigureAwait(false) != connected.Task)
        {
            throw new TimeoutException("the console event stream did not connect");
        }

        await connected.Task.ConfigureAwait(false);
        return listener;
    }

    private async Task ReadAsync(string channel, Marks marks, TaskCompletionSource connected)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri($"/api/console/stream?channel={channel}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, _stop.Token).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(_stop.Token).ConfigureAwait(false), Encoding.UTF8);
            while (await reader.ReadLineAsync(_stop.Token).ConfigureAwait(false) is { } line)
            {
                var now = Stopwatch.GetTimestamp();
                if (line.StartsWith(": connected", StringComparison.Ordinal))
                {
                    connected.TrySetResult();
                    continue;
                }

                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                Interlocked.Increment(ref _messages);
                using var message = JsonDocument.Parse(line.AsMemory(6));
                if (message.RootElement.TryGetProperty("card", out var card) && card.ValueKind == JsonValueKind.Object
                    && card.TryGetProperty("title", out var title) && RollbackTitle().Match(title.GetString() ?? string.Empty) is { Success: true } m)
                {
                    var release = m.Groups["release"].Value;
                    marks.Mark($"{release}|alert", now);
                    if (m.Groups["what"].Value == "Rolled back")
                    {
                        marks.Mark($"{release}|rolledback", now);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
        {
            connected.TrySetException(ex);
        }
    }

    [GeneratedRegex(@"^🔴 (?<what>Rolling back|Rolled back) (?<release>\S+) ")]
    private static partial Regex RollbackTitle();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _reading.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopped
        }

        _http.Dispose();
        _stop.Dispose();
    }
}
