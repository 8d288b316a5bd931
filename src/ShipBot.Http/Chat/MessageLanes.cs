using System.Collections.Concurrent;

namespace ShipBot.Http.Chat;

/// <summary>
/// One lane per chat message, for notifiers of platforms with rate limits: the updates of one
/// message are delivered in order, one at a time; an update still waiting when a newer one arrives
/// is dropped (the newer one carries the whole state); different messages do not wait for each
/// other. A lane never dies: a delivery that throws is reported and the lane goes on.
/// </summary>
public sealed class MessageLanes<T>(Func<string, T, Task> deliver, Action<string, Exception> onFailure, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Lane> _lanes = new(StringComparer.Ordinal);

    /// <summary>
    /// Queues <paramref name="item"/> as the next state of message <paramref name="key"/> and waits
    /// until it is delivered, superseded, or <paramref name="wait"/> has passed (delivery goes on in
    /// the background then). True when this very item was delivered within the wait.
    /// </summary>
    public async Task<bool> PublishAsync(string key, T item, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var pending = new Pending(item);
        while (true)
        {
            var lane = _lanes.GetOrAdd(key, k => new Lane(k));
            lock (lane)
            {
                if (lane.Closed)
                {
                    continue;
                }

                lane.Next?.Done.TrySetResult(false);
                lane.Next = pending;
                if (!lane.Running)
                {
                    lane.Running = true;
                    _ = Task.Run(() => RunAsync(lane), CancellationToken.None);
                }
            }

            break;
        }

        var finished = await Task.WhenAny(pending.Done.Task, Task.Delay(wait, time, cancellationToken)).ConfigureAwait(false);
        return finished == pending.Done.Task && pending.Done.Task.Result;
    }

    private async Task RunAsync(Lane lane)
    {
        while (true)
        {
            Pending? item;
            lock (lane)
            {
                item = lane.Next;
                lane.Next = null;
                if (item is null)
                {
                    lane.Running = false;
                    lane.Closed = true;
                    _lanes.TryRemove(new KeyValuePair<string, Lane>(lane.Key, lane));
                    return;
                }
            }

            try
            {
                await deliver(lane.Key, item.Item).ConfigureAwait(false);
                item.Done.TrySetResult(true);
            }
            catch (Exception ex)
            {
                // Whatever went wrong, the lane must go on: a lane that died would silence this message for good.
                onFailure(lane.Key, ex);
                item.Done.TrySetResult(false);
            }
        }
    }

    private sealed class Pending(T item)
    {
        public T Item { get; } = item;

        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Lane(string key)
    {
        public string Key { get; } = key;

        public Pending? Next { get; set; }

        public bool Running { get; set; }

        public bool Closed { get; set; }
    }
}
