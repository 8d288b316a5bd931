using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShipBot.Core.Settings;

namespace ShipBot.Slack;

/// <summary>
/// Turns a Slack user into an <see cref="Actor"/>: the user id, the name Slack sent, and the Slack
/// user groups (<c>S…</c>) the role configuration mentions (<c>group:S…</c>) that the user is in.
/// Memberships come from <c>usergroups.users.list</c> and are cached for
/// <see cref="SlackOptions.GroupCacheTtl"/>; when Slack cannot be asked, the last known members are
/// used (and none at first, which denies rather than grants).
/// </summary>
public sealed partial class SlackUserDirectory
{
    private readonly SlackWebApi _api;
    private readonly SlackOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SlackUserDirectory> _logger;
    private readonly IReadOnlyList<string> _groups;
    private readonly ConcurrentDictionary<string, Members> _members = new(StringComparer.Ordinal);

    public SlackUserDirectory(SlackWebApi api, AccessPolicy access, IOptions<SlackOptions> options, TimeProvider time, ILogger<SlackUserDirectory> logger)
    {
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(options);
        _api = api;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _groups = access.Services.Values
            .SelectMany(s => s.Requesters.Concat(s.Approvers).Concat(s.OnCall))
            .Concat(access.Admins)
            .Where(e => e.StartsWith("group:", StringComparison.Ordinal))
            .Select(e => e[6..])
            .Where(g => SubteamId().IsMatch(g))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The user groups (<c>S…</c>) referenced by the role configuration.</summary>
    public IReadOnlyList<string> ConfiguredGroups => _groups;

    public async Task<Actor> ActorAsync(string userId, string? userName, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        var groups = new List<string>();
        foreach (var group in _groups)
        {
            var members = await MembersAsync(group, ct).ConfigureAwait(false);
            if (members.Contains(userId))
            {
                groups.Add(group);
            }
        }

        return new Actor(userId, string.IsNullOrWhiteSpace(userName) ? userId : userName, groups);
    }

    private async Task<HashSet<string>> MembersAsync(string group, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (_members.TryGetValue(group, out var cached) && cached.Fetched + _options.GroupCacheTtl > now)
        {
            return cached.Users;
        }

        try
        {
            var users = await _api.UserGroupMembersAsync(group, ct).ConfigureAwait(false);
            var fresh = new Members(users.ToHashSet(StringComparer.Ordinal), now);
            _members[group] = fresh;
            return fresh.Users;
        }
        catch (Exception ex) when (ex is SlackApiException or HttpRequestException or TaskCanceledException)
        {
            LogGroupUnreadable(group, ex.Message);

            // Ask again after a short pause, not on every request.
            var stale = cached?.Users ?? [];
            _members[group] = new Members(stale, now - _options.GroupCacheTtl + TimeSpan.FromSeconds(30));
            return stale;
        }
    }

    [GeneratedRegex("^S[A-Z0-9]{2,}$")]
    private static partial Regex SubteamId();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the members of Slack user group {Group}: {Reason}")]
    private partial void LogGroupUnreadable(string group, string reason);

    private sealed record Members(HashSet<string> Users, DateTimeOffset Fetched);
}
