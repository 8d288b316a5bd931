namespace ShipBot.Slack;

/// <summary>
/// The <c>Slack</c> configuration section. Slack is enabled when <see cref="BotToken"/> is set (or
/// <see cref="Enabled"/> is true); then <see cref="SigningSecret"/> and <see cref="BotToken"/> are
/// required and start-up fails without them. Secrets belong in environment variables
/// (<c>Slack__SigningSecret</c>, <c>Slack__BotToken</c>, <c>Slack__AppToken</c>), never in a file.
/// </summary>
public sealed class SlackOptions
{
    public const string Section = "Slack";

    /// <summary>Forces Slack on (start-up then fails if the secrets are missing). Default: on when a bot token is set.</summary>
    public bool? Enabled { get; set; }

    /// <summary>The app's signing secret (Basic Information → App Credentials); verifies every HTTP request.</summary>
    public string? SigningSecret { get; set; }

    /// <summary>The bot token (<c>xoxb-…</c>) for the Web API.</summary>
    public string? BotToken { get; set; }

    /// <summary>An app-level token (<c>xapp-…</c>, scope <c>connections:write</c>): when set, ShipBot also connects over Socket Mode.</summary>
    public string? AppToken { get; set; }

    /// <summary>The Web API base URL. Default <c>https://slack.com/api/</c>; tests and proxies change it.</summary>
    public Uri ApiBaseUrl { get; set; } = new("https://slack.com/api/");

    /// <summary>The slash command ShipBot answers. Default <c>/ship</c>.</summary>
    public string Command { get; set; } = "/ship";

    /// <summary>How far a request's timestamp may be from now, either way. Default 300 s (Slack's recommendation).</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>How long a command may run before Slack gets an interim acknowledgement and the answer follows through <c>response_url</c>. Default 2.5 s (Slack allows 3).</summary>
    public TimeSpan AckBudget { get; set; } = TimeSpan.FromSeconds(2.5);

    /// <summary>How long user-group memberships (for roles given to <c>group:S…</c>) are cached. Default 5 minutes.</summary>
    public TimeSpan GroupCacheTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many times a Web API call is retried after HTTP 429 (waiting Retry-After) or a transient failure. Default 4.</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>The longest Retry-After ShipBot waits before giving up on a call. Default 60 s.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a publish waits for its Slack call before returning (the call continues in the background). Default 2 s.</summary>
    public TimeSpan PublishWait { get; set; } = TimeSpan.FromSeconds(2);

    public bool IsEnabled => Enabled ?? !string.IsNullOrWhiteSpace(BotToken);

    public bool UsesSocketMode => !string.IsNullOrWhiteSpace(AppToken);
}
