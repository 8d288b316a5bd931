using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ShipBot.Slack;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Slack;

/// <summary>
/// One test's world: a <see cref="FakeSlack"/> and a real ShipBot host wired to it (the demo
/// service's roles as Slack ids, its channel a Slack channel id). Disposes ShipBot first, then the fake.
/// </summary>
public sealed class SlackScenario : IAsyncDisposable
{
    public const string Channel = "CRELEASES";
    public const string Release = "demo@1.0.0";
    public const string Alice = "UALICE";   // requester
    public const string Bob = "UBOB";       // approver
    public const string Carol = "UCAROL";   // on-call, through the user group SONCALL
    public const string Mallory = "UMALLORY"; // no role
    public const string OnCallMention = "<!subteam^SONCALL>";

    public static readonly string[] BlockingItems =
        ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    private static readonly Dictionary<string, string> Names = new()
    {
        [Alice] = "alice",
        [Bob] = "bob",
        [Carol] = "carol",
        [Mallory] = "mallory",
    };

    private SlackScenario(FakeSlack slack, ShipBotHost bot)
    {
        Slack = slack;
        Bot = bot;
    }

    public FakeSlack Slack { get; }

    public ShipBotHost Bot { get; }

    /// <param name="ackClock">The clock of ShipBot's acknowledgement budget (Slack's inbound handling) when a test moves it itself; default: the host's.</param>
    public static async Task<SlackScenario> StartAsync(bool socketMode = false, IDictionary<string, string?>? extra = null, TimeProvider? ackClock = null)
    {
        var slack = await FakeSlack.StartAsync();
        try
        {
            var settings = Settings(slack, socketMode);
            foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            {
                settings[key] = value;
            }

            var bot = await ShipBotHost.StartAsync(
                settings,
                ackClock is null ? null : services => services.AddSingleton(sp => ActivatorUtilities.CreateInstance<SlackInbound>(sp, ackClock)));
            return new SlackScenario(slack, bot);
        }
        catch
        {
            await slack.DisposeAsync();
            throw;
        }
    }

    public static Dictionary<string, string?> Settings(FakeSlack slack, bool socketMode)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Slack:SigningSecret"] = FakeSlack.SigningSecret,
            ["Slack:BotToken"] = FakeSlack.BotToken,
            ["Slack:ApiBaseUrl"] = slack.ApiBaseUrl.ToString(),
            ["ShipBot:Services:demo:Channel"] = Channel,
            ["ShipBot:Services:demo:Requesters:0"] = Alice,
            ["ShipBot:Services:demo:Approvers:0"] = Bob,
            ["ShipBot:Services:demo:OnCall:0"] = "group:SONCALL",
        };
        if (socketMode)
        {
            settings["Slack:AppToken"] = FakeSlack.AppToken;
        }

        return settings;
    }

    public static string NameOf(string user) => Names.TryGetValue(user, out var name) ? name : user.ToLowerInvariant();

    /// <summary>Sends a signed request to ShipBot.</summary>
    public async Task<(HttpStatusCode Status, string Body)> SendAsync(SignedSlackRequest request, int? retryNum = null)
    {
        using var message = request.ToHttpRequest(retryNum);
        using var response = await Bot.Http.SendAsync(message);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A signed <c>/ship</c> slash command over HTTP; returns the status and the acknowledgement body.</summary>
    public async Task<(HttpStatusCode Status, JsonObject Body)> CommandAsync(string user, string text, Uri? responseUrl = null)
    {
        var (status, body) = await SendAsync(Slack.SlashCommand(user, NameOf(user), text, Channel, responseUrl));
        return (status, body.StartsWith('{') ? JsonNode.Parse(body)!.AsObject() : new JsonObject { ["_raw"] = body });
    }

    /// <summary>A command that must succeed: 200, and the acknowledgement contains <paramref name="expected"/>.</summary>
    public async Task<JsonObject> CommandOkAsync(string user, string text, string expected)
    {
        var (status, body) = await CommandAsync(user, text);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(expected, (string?)body["text"] ?? string.Empty, StringComparison.Ordinal);
        return body;
    }

    /// <summary>A signed click of <paramref name="button"/> on the message at <paramref name="messageTs"/>.</summary>
    public async Task<HttpStatusCode> ClickAsync(string user, JsonObject button, string messageTs, Uri? responseUrl = null)
    {
        var (status, _) = await SendAsync(Slack.BlockAction(user, NameOf(user), button, Channel, messageTs, responseUrl));
        return status;
    }

    /// <summary>The first successful post of <paramref name="release"/>'s release card.</summary>
    public Task<SlackCall> CardPostAsync(string release = Release) =>
        Slack.WaitForCallAsync("chat.postMessage", c => c.Ok && IsCardOf(c, release), $"a chat.postMessage of the {release} card");

    public static bool IsCardOf(SlackCall call, string release) => call.Header?.Contains($"{release} —", StringComparison.Ordinal) == true;

    /// <summary>The first successful post or update of the message at <paramref name="ts"/> after call <paramref name="afterSeq"/> that satisfies <paramref name="match"/>.</summary>
    public Task<SlackCall> CardStateAsync(string ts, Func<SlackCall, bool> match, string what, int afterSeq = -1, TimeSpan? timeout = null) =>
        Slack.WaitForCallAsync(
            c => c.Seq > afterSeq && c.Ok && c.Method is "chat.postMessage" or "chat.update" && c.MessageTs == ts && c.Channel == Channel && match(c),
            what,
            timeout);

    public static JsonObject Button(SlackCall card, string value) =>
        FakeSlack.Buttons(card.Blocks).FirstOrDefault(b => (string?)b["value"] == value)
        ?? throw new InvalidOperationException($"No button with value '{value}' on the card. Buttons: {string.Join(", ", FakeSlack.Buttons(card.Blocks).Select(b => $"{b["action_id"]}={b["value"]}"))}");

    /// <summary>True when the card shows the checklist item as done (✅ on its line).</summary>
    public static bool ShowsItemDone(SlackCall card, string item) =>
        card.AllText.Split('\n').Any(line => line.Contains($"`{item}`", StringComparison.Ordinal) && line.StartsWith('✅'));

    /// <summary>Alice starts demo@1.0.0; returns the card's first post.</summary>
    public async Task<SlackCall> StartAsync()
    {
        await CommandOkAsync(Alice, "start demo 1.0.0 faster checkout", $"Started {Release}");
        return await CardPostAsync();
    }

    /// <summary>Alice ticks every blocking item with one command; returns the card once it offers Approve.</summary>
    public async Task<SlackCall> SettleChecklistAsync(string cardTs)
    {
        await CommandAsync(Alice, $"check {Release} {string.Join(' ', BlockingItems)}");
        return await AwaitingApprovalAsync(cardTs);
    }

    public Task<SlackCall> AwaitingApprovalAsync(string cardTs) =>
        CardStateAsync(cardTs, c => FakeSlack.Buttons(c.Blocks).Any(b => (string?)b["value"] == $"approve {Release}"), "the card offering Approve");

    public async Task<JsonObject> ReleaseAsync(string name = Release) =>
        await Bot.Http.GetFromJsonAsync<JsonObject>($"/api/releases/{name}") ?? throw new InvalidOperationException("no release");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Bot.DisposeAsync();
        }
        finally
        {
            await Slack.DisposeAsync();
        }
    }
}
