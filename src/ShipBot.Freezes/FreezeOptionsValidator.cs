using System.Net;
using Microsoft.Extensions.Options;
using ShipBot.Core.Releases;

namespace ShipBot.Freezes;

/// <summary>Start-up validation of the freeze calendars, each message naming the key to fix.</summary>
public sealed class FreezeOptionsValidator : IValidateOptions<FreezeOptions>
{
    public ValidateOptionsResult Validate(string? name, FreezeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        const string key = FreezeOptions.Section;
        if (options.RefreshInterval < TimeSpan.FromSeconds(10))
        {
            errors.Add($"{key}:RefreshInterval must be at least 10 seconds.");
        }

        if (options.RetryInterval <= TimeSpan.Zero)
        {
            errors.Add($"{key}:RetryInterval must be positive.");
        }

        if (options.Timeout <= TimeSpan.Zero)
        {
            errors.Add($"{key}:Timeout must be positive.");
        }

        if (options.Horizon < TimeSpan.FromDays(1))
        {
            errors.Add($"{key}:Horizon must be at least 1 day.");
        }

        if (options.MaxWindowLength < TimeSpan.FromDays(1))
        {
            errors.Add($"{key}:MaxWindowLength must be at least 1 day.");
        }

        if (options.MaxBytes <= 0)
        {
            errors.Add($"{key}:MaxBytes must be positive.");
        }

        foreach (var service in options.ServiceCalendars.Keys.Where(s => !ReleaseId.IsValidService(s.ToLowerInvariant())))
        {
            errors.Add($"ShipBot:Services:{service}:Freezes: '{service}' is not a valid service name.");
        }

        foreach (var group in options.All().GroupBy(c => (c.Service, Name: c.Calendar.EffectiveName.ToLowerInvariant())).Where(g => g.Count() > 1))
        {
            errors.Add($"{string.Join(" and ", group.Select(g => g.Key))} have the same name '{group.First().Calendar.EffectiveName}': give each calendar its own Name.");
        }

        foreach (var (calendarKey, _, calendar) in options.All())
        {
            ValidateCalendar(calendarKey, calendar, errors);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Whether a URL may be fetched: https anywhere, http only to a loopback address.</summary>
    public static bool IsAllowedUrl(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri)
        {
            return false;
        }

        return url.Scheme == Uri.UriSchemeHttps
            || (url.Scheme == Uri.UriSchemeHttp && (url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip))));
    }

    private static void ValidateCalendar(string key, FreezeCalendarOptions calendar, List<string> errors)
    {
        var hasPath = !string.IsNullOrWhiteSpace(calendar.Path);
        var hasUrl = calendar.Url is not null;
        if (hasPath == hasUrl)
        {
            errors.Add($"{key}: set exactly one of Path (an .ics file) or Url (an https address of an .ics feed).");
        }
        else if (hasPath && !File.Exists(calendar.Path))
        {
            errors.Add($"{key}:Path '{calendar.Path}' does not exist (relative paths are relative to {Directory.GetCurrentDirectory()}).");
        }
        else if (hasUrl && !IsAllowedUrl(calendar.Url!))
        {
            errors.Add($"{key}:Url '{calendar.Location}' must be an absolute https URL (plain http only to a loopback address).");
        }

        if (calendar.TimeZone is { } zone && IcsFreezeParser.ResolveZone(zone) is null)
        {
            errors.Add($"{key}:TimeZone '{zone}' is not a known time zone (use an IANA name such as Europe/Berlin).");
        }

        if (calendar.RefreshInterval is { } interval && interval < TimeSpan.FromSeconds(10))
        {
            errors.Add($"{key}:RefreshInterval must be at least 10 seconds.");
        }
    }
}
