using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShipBot.Core.Freezes;
using ShipBot.Core.Ports;

namespace ShipBot.Freezes;

/// <summary>
/// The freeze calendars of every service (<see cref="IFreezeCalendar"/>): reads each configured
/// iCalendar file or URL, keeps the last good copy when a read fails (and says so in
/// <see cref="Sources"/>), and answers from memory. <see cref="FreezeCalendarRefresher"/> calls
/// <see cref="RefreshDueAsync"/> on schedule.
/// </summary>
public sealed partial class FreezeCalendarService : IFreezeCalendar
{
    /// <summary>The name of the <see cref="HttpClient"/> used for calendar URLs.</summary>
    public const string HttpClientName = "ShipBot.Freezes";

    private readonly FreezeOptions _options;
    private readonly IHttpClientFactory _http;
    private readonly TimeProvider _time;
    private readonly ILogger<FreezeCalendarService> _logger;
    private readonly IReadOnlyList<FreezeCalendarSource> _sources;

    public FreezeCalendarService(IOptions<FreezeOptions> options, IHttpClientFactory http, TimeProvider time, ILogger<FreezeCalendarService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _http = http;
        _time = time;
        _logger = logger;
        _sources = _options.All().Select(c => new FreezeCalendarSource(c.Key, c.Service, c.Calendar)).ToList();
    }

    public IReadOnlyList<FreezeSourceStatus> Sources => _sources.Select(s => s.Status()).ToList();

    /// <summary>When the next calendar is due to be read again; null without calendars.</summary>
    public DateTimeOffset? NextRefreshAt => _sources.Count == 0 ? null : _sources.Min(s => s.NextRefreshAt);

    public IReadOnlyList<FreezeWindow> ActiveAt(string service, DateTimeOffset at) =>
        FreezeSchedule.ActiveAt(WindowsFor(service, at, at.AddTicks(1)), service, at);

    public FreezeWindow? Next(string service, DateTimeOffset after)
    {
        // Look ahead in steps so a near window does not cost expanding the whole horizon of every calendar.
        foreach (var span in new[] { TimeSpan.FromDays(35), _options.Horizon })
        {
            var next = FreezeSchedule.Next(WindowsFor(service, after, after + span), service, after);
            if (next is not null)
            {
                return next;
            }
        }

        return null;
    }

    public IReadOnlyList<FreezeWindow> Between(string? service, DateTimeOffset from, DateTimeOffset to) =>
        (service is null ? _sources.SelectMany(s => s.Between(from, to, _options)) : WindowsFor(service, from, to))
            .OrderBy(w => w.Start).ThenBy(w => w.End).ThenBy(w => w.Name, StringComparer.Ordinal)
            .ToList();

    /// <summary>Reads every calendar now (start-up, tests). A failure is recorded in its status, never thrown.</summary>
    public Task RefreshAllAsync(CancellationToken cancellationToken = default) =>
        Task.WhenAll(_sources.Select(s => RefreshAsync(s, cancellationToken)));

    /// <summary>Reads the calendars whose refresh time has come.</summary>
    public Task RefreshDueAsync(CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        return Task.WhenAll(_sources.Where(s => s.NextRefreshAt <= now).Select(s => RefreshAsync(s, cancellationToken)));
    }

    private IEnumerable<FreezeWindow> WindowsFor(string service, DateTimeOffset from, DateTimeOffset to) =>
        _sources.Where(s => s.Service is null || string.Equals(s.Service, service, StringComparison.OrdinalIgnoreCase))
            .SelectMany(s => s.Between(from, to, _options));

    private async Task RefreshAsync(FreezeCalendarSource source, CancellationToken cancellationToken)
    {
        await source.RefreshGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var attempt = _time.GetUtcNow();
            if (source.State.Calendar is null)
            {
                TryLoadCache(source);
            }

            try
            {
                var text = source.Options.Url is { } url
                    ? await DownloadAsync(source, url, cancellationToken).ConfigureAwait(false)
                    : await ReadFileAsync(source.Options.Path!, cancellationToken).ConfigureAwait(false);
                if (text is null)
                {
                    // 304 Not Modified: the copy we have is current.
                    source.State = source.State with { LastSuccessAt = attempt, LastAttemptAt = attempt, LastError = null };
                }
                else
                {
                    var calendar = IcsFreezeParser.Load(text);
                    var expansion = source.Expand(calendar, attempt - _options.MaxWindowLength, attempt + _options.Horizon, _options);
                    source.State = new SourceState(calendar, expansion, attempt, attempt, null);
                    SaveCache(source, text);
                }

                source.NextRefreshAt = attempt + (source.Options.RefreshInterval ?? _options.RefreshInterval);
                LogRefreshed(_logger, source.Name, source.Status().WindowCount);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or UnauthorizedAccessException or FormatException or CalendarReadException
                or TaskCanceledException { CancellationToken.IsCancellationRequested: false })
            {
                var error = Describe(e);
                source.State = source.State with { LastAttemptAt = attempt, LastError = error };
                var interval = source.Options.RefreshInterval ?? _options.RefreshInterval;
                source.NextRefreshAt = attempt + (_options.RetryInterval < interval ? _options.RetryInterval : interval);
                LogRefreshFailed(_logger, source.Name, source.Options.Location, error, source.State.Calendar is not null);
            }
        }
        finally
        {
            source.RefreshGate.Release();
        }
    }

    private async Task<string?> DownloadAsync(FreezeCalendarSource source, Uri url, CancellationToken cancellationToken)
    {
        var client = _http.CreateClient(HttpClientName);
        using var deadline = new CancellationTokenSource(_options.Timeout, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/calendar"));
        if (source.State.Calendar is not null)
        {
            if (source.Validators.ETag is { } etag && EntityTagHeaderValue.TryParse(etag, out var tag))
            {
                request.Headers.IfNoneMatch.Add(tag);
            }
            else if (source.Validators.LastModified is { } modified)
            {
                request.Headers.IfModifiedSince = modified;
            }
        }

        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotModified && source.State.Calendar is not null)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new CalendarReadException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd());
            }

            if (response.Content.Headers.ContentLength > _options.MaxBytes)
            {
                throw new CalendarReadException($"the calendar is larger than {_options.MaxBytes} bytes");
            }

            var text = await ReadLimitedAsync(await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false), timeout.Token).ConfigureAwait(false);
            source.Validators = (response.Headers.ETag?.ToString(), response.Content.Headers.LastModified);
            return text;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CalendarReadException($"no answer within {_options.Timeout.TotalSeconds:0.#} s");
        }
    }

    private async Task<string> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        if (info.Exists && info.Length > _options.MaxBytes)
        {
            throw new CalendarReadException($"{path} is larger than {_options.MaxBytes} bytes");
        }

        return await File.ReadAllTextAsync(path, Encoding.UTF8, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> ReadLimitedAsync(Stream stream, CancellationToken cancellationToken)
    {
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > _options.MaxBytes)
                {
                    throw new CalendarReadException($"the calendar is larger than {_options.MaxBytes} bytes");
                }

                buffer.Write(chunk, 0, read);
            }

            return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
    }

    private string? CachePath(FreezeCalendarSource source)
    {
        if (string.IsNullOrWhiteSpace(_options.CacheDirectory) || source.Options.Url is null)
        {
            return null;
        }

        // The file name must not reveal the URL (its query may be a secret): a hash of the source.
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{source.Key}|{source.Options.Url}")))[..32];
        return Path.Combine(_options.CacheDirectory, $"{id}.ics");
    }

    private void TryLoadCache(FreezeCalendarSource source)
    {
        if (CachePath(source) is not { } path || !File.Exists(path))
        {
            return;
        }

        try
        {
            var calendar = IcsFreezeParser.Load(File.ReadAllText(path, Encoding.UTF8));
            var now = _time.GetUtcNow();
            var expansion = source.Expand(calendar, now - _options.MaxWindowLength, now + _options.Horizon, _options);
            var saved = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
            source.State = new SourceState(calendar, expansion, saved, null, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            LogCacheFailed(_logger, source.Name, e.Message);
        }
    }

    private void SaveCache(FreezeCalendarSource source, string text)
    {
        if (CachePath(source) is not { } path)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, text, Encoding.UTF8);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogCacheFailed(_logger, source.Name, e.Message);
        }
    }

    private static string Describe(Exception e) => e switch
    {
        CalendarReadException or FormatException => e.Message,
        HttpRequestException h => h.StatusCode is { } code ? $"HTTP {(int)code}" : $"cannot connect: {h.HttpRequestError}",
        FileNotFoundException f => $"{f.FileName ?? "the file"} does not exist",
        TaskCanceledException => "the read timed out",
        _ => e.Message,
    };

    [LoggerMessage(Level = LogLevel.Debug, Message = "Freeze calendar {Name} read: {Windows} window(s) known")]
    private static partial void LogRefreshed(ILogger logger, string name, int windows);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Freeze calendar {Name} ({Location}) could not be read: {Error}; using the last good copy: {HasLastGood}")]
    private static partial void LogRefreshFailed(ILogger logger, string name, string location, string error, bool hasLastGood);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Freeze calendar {Name}: the cached copy could not be used: {Error}")]
    private static partial void LogCacheFailed(ILogger logger, string name, string error);
}

/// <summary>A calendar could not be read (an HTTP status, a size limit, a timeout).</summary>
internal sealed class CalendarReadException(string message) : Exception(message);
