using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Records;

/// <summary>
/// Release records in git: an <see cref="IReleaseObserver"/> and <see cref="ISignalObserver"/>
/// that queues each milestone and returns at once; one background worker writes the files and
/// commits (one commit per milestone, authored by ShipBot), then pushes when configured. A write
/// or push that fails is retried with a growing delay (<see cref="GitRecordsOptions.RetryDelay"/>
/// doubling up to <see cref="GitRecordsOptions.MaxRetryDelay"/>) and reported through
/// <see cref="IReleaseRecordsStatus"/>; it never reaches the release. At start-up the worker brings
/// <c>STATUS.md</c> and the files of active releases up to date (milestones queued before a
/// restart are not replayed one by one, but their content is there).
/// </summary>
public sealed partial class GitReleaseRecords : BackgroundService, IReleaseObserver, ISignalObserver, IReleaseRecordsStatus
{
    private readonly GitRecordsOptions _options;
    private readonly IReleaseStore _store;
    private readonly AccessPolicy _access;
    private readonly TimeProvider _time;
    private readonly ILogger<GitReleaseRecords> _logger;
    private readonly GitRecordsRepository _repository;
    private readonly Channel<RecordJob> _jobs = Channel.CreateUnbounded<RecordJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly Dictionary<ReleaseId, long> _written = [];
    private int _pending;
    private RecordsStatus _status;

    public GitReleaseRecords(IOptions<GitRecordsOptions> options, IReleaseStore store, AccessPolicy access, TimeProvider time, ILogger<GitReleaseRecords> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        if (!_options.IsEnabled)
        {
            throw new InvalidOperationException("Release records need ShipBot:Records:Repository.");
        }

        _store = store;
        _access = access;
        _time = time;
        _logger = logger;
        _repository = new GitRecordsRepository(_options);
        _status = new RecordsStatus(true, Path.GetFullPath(_options.Repository!), null, null, null, null, 0, false, null);
        Enqueue(new RecordJob(null, null, "ShipBot: records brought up to date"));
    }

    public RecordsStatus Current
    {
        get
        {
            lock (_gate)
            {
                return _status with { Pending = Volatile.Read(ref _pending) };
            }
        }
    }

    public Task OnTransitionAsync(Release previous, Release next, IReadOnlyList<ReleaseEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (RecordMilestones.CommitMessage(next, events) is { } message)
        {
            Enqueue(new RecordJob(next, null, message));
        }

        return Task.CompletedTask;
    }

    public Task OnSignalAsync(Signal signal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signal);
        var what = signal.Open ? "opened" : "recorded";
        var about = signal.Release is null ? string.Empty : $" about {signal.Release}";
        Enqueue(new RecordJob(null, signal, $"Signal {signal.Id} {what}{about}: {signal.Kind.ToString().ToLowerInvariant()}"));
        return Task.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = _options.RetryDelay;
        RecordJob? current = null;
        var unpushed = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (current is null)
                {
                    if (unpushed && !_jobs.Reader.TryPeek(out _))
                    {
                        // Nothing to write: retry the push after the delay, or sooner when a milestone arrives.
                        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                        var arrival = _jobs.Reader.WaitToReadAsync(wake.Token).AsTask();
                        var timer = Task.Delay(delay, _time, wake.Token);
                        await Task.WhenAny(arrival, timer).ConfigureAwait(false);
                        await wake.CancelAsync().ConfigureAwait(false);
                        if (!_jobs.Reader.TryPeek(out _))
                        {
                            unpushed = !TryPush(ref delay);
                            if (unpushed)
                            {
                                delay = Next(delay);
                            }

                            continue;
                        }
                    }

                    current = await _jobs.Reader.ReadAsync(stoppingToken).ConfigureAwait(false);
                }

                if (!await TryWriteAsync(current, delay, stoppingToken).ConfigureAwait(false))
                {
                    await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
                    delay = Next(delay);
                    continue;
                }

                current = null;
                Interlocked.Decrement(ref _pending);
                delay = _options.RetryDelay;
                if (_options.Push)
                {
                    unpushed = !TryPush(ref delay);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }
    }

    private void Enqueue(RecordJob job)
    {
        if (Interlocked.Increment(ref _pending) > _options.MaxPending)
        {
            Interlocked.Decrement(ref _pending);
            LogDropped(_logger, job.Message);
            return;
        }

        _jobs.Writer.TryWrite(job);
    }

    private async Task<bool> TryWriteAsync(RecordJob job, TimeSpan retryIn, CancellationToken cancellationToken)
    {
        if (job.Release is { } release && _written.TryGetValue(release.Id, out var written) && written > release.Revision)
        {
            // A late repeat of an older transition: a newer one is already written.
            return true;
        }

        try
        {
            var files = await FilesOfAsync(job, cancellationToken).ConfigureAwait(false);
            var commit = _repository.Commit(files, job.Message, _time.GetUtcNow());
            if (job.Release is { } done)
            {
                _written[done.Id] = done.Revision;
            }

            lock (_gate)
            {
                _status = commit is null
                    ? _status with { LastError = null, LastErrorAt = null, NextRetryAt = null }
                    : _status with
                    {
                        LastCommitAt = _time.GetUtcNow(),
                        LastCommit = GitRecordsRepository.Describe(commit),
                        LastError = null,
                        LastErrorAt = null,
                        NextRetryAt = null,
                        Unpushed = _options.Push,
                    };
            }

            if (commit is not null)
            {
                LogCommitted(_logger, commit.Sha[..7], commit.MessageShort);
            }

            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Whatever goes wrong here stays here: the release already moved on.
            Fail(e is RecordsWriteException or StoreUnavailableException ? e.Message : $"{e.GetType().Name}: {e.Message}", retryIn);
            return false;
        }
    }

    private bool TryPush(ref TimeSpan delay)
    {
        try
        {
            _repository.Push(_time.GetUtcNow());
            lock (_gate)
            {
                _status = _status with { Unpushed = false, LastError = null, LastErrorAt = null, NextRetryAt = null };
            }

            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Fail(e is RecordsWriteException ? e.Message : $"push failed: {e.GetType().Name}: {e.Message}", delay);
            return false;
        }
    }

    private void Fail(string error, TimeSpan delay)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            _status = _status with { LastError = error, LastErrorAt = now, NextRetryAt = now + delay };
        }

        LogFailed(_logger, error, delay);
    }

    private TimeSpan Next(TimeSpan delay) => delay * 2 < _options.MaxRetryDelay ? delay * 2 : _options.MaxRetryDelay;

    private async Task<IReadOnlyDictionary<string, string>> FilesOfAsync(RecordJob job, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        if (job.Signal is { } signal)
        {
            files[RecordDocuments.SignalPath(signal)] = RecordDocuments.SignalMarkdown(signal);
            return files;
        }

        var active = (await _store.ListActiveAsync(cancellationToken).ConfigureAwait(false)).ToList();
        if (job.Release is { } release)
        {
            files[RecordDocuments.ReleasePath(release)] = RecordDocuments.ReleaseMarkdown(release, PolicyOf(release));

            // STATUS.md shows this release as it was at this milestone (the store may be further on
            // already), so each commit reads as the moment it records; other releases as they are now.
            active.RemoveAll(r => r.Id == release.Id);
            if (!release.State.IsTerminal())
            {
                active.Add(release);
            }
        }
        else
        {
            foreach (var r in active)
            {
                files[RecordDocuments.ReleasePath(r)] = RecordDocuments.ReleaseMarkdown(r, PolicyOf(r));
            }
        }

        files[RecordDocuments.StatusPath] = RecordDocuments.StatusMarkdown(active, _time.GetUtcNow());
        return files;
    }

    private ServicePolicy PolicyOf(Release release) =>
        _access.Services.TryGetValue(release.Id.Service, out var policy) ? policy : new ServicePolicy { Name = release.Id.Service, Plan = release.Plan };

    [LoggerMessage(Level = LogLevel.Information, Message = "Release records: committed {Commit} {Subject}")]
    private static partial void LogCommitted(ILogger logger, string commit, string subject);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Release records: {Error}; retrying in {Delay}")]
    private static partial void LogFailed(ILogger logger, string error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Release records: too many milestones waiting; dropped \"{Message}\" (the next one written carries its content)")]
    private static partial void LogDropped(ILogger logger, string message);
}

/// <summary>One milestone to write: a release snapshot, a signal, or (both null) the start-up catch-up.</summary>
internal sealed record RecordJob(Release? Release, Signal? Signal, string Message);
