using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using ShipBot.Coordinator;
using ShipBot.Coordinator.Identity;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Identity;

namespace ShipBot.Console;

public sealed record ConsolePostMessage(string? User, string? Channel, string? Text, string? RequestId);

/// <summary>
/// A button click. <see cref="Basis"/> is the clicked action's <c>basis</c>, sent back as it was on the
/// card: the click acts only while it still holds. Clicks are deduplicated on (message, action, basis,
/// value, input, user); <see cref="RequestId"/> is accepted for compatibility and not needed.
/// </summary>
public sealed record ConsolePostAction(string? User, string? MessageId, string? ActionId, string? Value, string? Input, string? RequestId)
{
    public string? Basis { get; init; }
}

public sealed record ConsoleReply(ReplyVisibility Visibility, string Text, string? MessageId, Core.Cards.Card? Card)
{
    /// <summary>True when the page should show nothing (the card update is the answer).</summary>
    public bool Silent { get; init; }
}

public sealed record ConsoleUserView(string Id, string Name, IReadOnlyList<string> Roles);

/// <summary>
/// The console's HTTP contract (stable; tests and scripts use it):
/// <c>GET /</c> the page; <c>GET /api/console/users</c>, <c>/channels</c>, <c>/messages?channel=</c>,
/// <c>/stream?channel=</c> (server-sent events); <c>POST /api/console/messages</c> and <c>/actions</c>;
/// <c>GET /api/console/me</c>, <c>/releases</c>, <c>POST /api/console/signout</c> and the <c>GET /releases</c> page.
/// In Demo mode anyone on this machine may act as any configured user; in SignIn mode the acting
/// user is the signed-in identity (or an API token's principal), and the body's <c>user</c> may
/// only name that identity.
/// </summary>
public static class ConsoleEndpoints
{
    public const int MaxTextLength = 4000;

    public static IEndpointRouteBuilder MapShipBotConsole(this IEndpointRouteBuilder app, IReadOnlyList<ConsoleUser> users)
    {
        ArgumentNullException.ThrowIfNull(app);
        var page = LoadPage();
        app.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8")).RequireSignedInPage();
        var releasesPage = LoadPage("ShipBot.Console.releases.html");
        app.MapGet("/releases", () => Results.Content(releasesPage, "text/html; charset=utf-8")).RequireSignedInPage();

        // Outside Demo mode every call needs a session (with the antiforgery token to change anything) or an API token.
        var api = app.MapGroup("/api/console").RequireConsoleCaller();
        api.MapConsoleSession(users);
        api.MapGet("/users", (IReleaseCommands coordinator, HttpContext context) => ConsoleSession.Visible(users, context).Select(u => new ConsoleUserView(
            u.Id, u.Name, coordinator.Access.RolesOf(ToActor(u)).Select(r => AccessPolicy.Describe(r).Replace("-", string.Empty, StringComparison.Ordinal)).ToList())));
        api.MapGet("/channels", (ConsoleChannelHub hub) => hub.Channels);
        api.MapGet("/messages", (string? channel, string? user, ConsoleChannelHub hub, HttpContext context) =>
            Results.Json(hub.List(string.IsNullOrWhiteSpace(channel) ? "releases" : channel, context.Caller()?.Id ?? user), ShipBotJson.Options));

        api.MapPost("/messages", async (ConsolePostMessage body, ConsoleChannelHub hub, IReleaseCommands coordinator, HttpContext context, CancellationToken ct) =>
        {
            if (ConsoleSession.Acting(users, body.User, context, out var refusal) is not { } user)
            {
                return refusal;
            }

            var channel = string.IsNullOrWhiteSpace(body.Channel) ? "releases" : body.Channel.Trim();
            var text = body.Text?.Trim() ?? string.Empty;
            if (text.Length == 0 || text.Length > MaxTextLength)
            {
                return Error($"Type a message of 1 to {MaxTextLength} characters.");
            }

            hub.Post(channel, user.Id, text, null);
            if (!text.StartsWith("/ship", StringComparison.OrdinalIgnoreCase))
            {
                return Results.Json(new ConsoleReply(ReplyVisibility.InChannel, string.Empty, null, null), ShipBotJson.Options);
            }

            var inbound = new InboundCommand(body.RequestId ?? Guid.NewGuid().ToString("N"), ToActor(user), new Conversation(ConsoleChatNotifier.PlatformName, channel), text);
            var reply = await coordinator.HandleAsync(inbound, ct).ConfigureAwait(false);
            return Results.Json(Deliver(hub, channel, user, reply), ShipBotJson.Options);
        });

        api.MapPost("/actions", async (ConsolePostAction body, ConsoleChannelHub hub, IReleaseCommands coordinator, HttpContext context, CancellationToken ct) =>
        {
            if (ConsoleSession.Acting(users, body.User, context, out var refusal) is not { } user)
            {
                return refusal;
            }

            if (body.MessageId is null || hub.Get(body.MessageId) is not { Card: not null } message)
            {
                return Error($"There is no card with message id '{body.MessageId}'.");
            }

            if (string.IsNullOrWhiteSpace(body.Value) || body.Value.Length > MaxTextLength || (body.Input?.Length ?? 0) > MaxTextLength || (body.Basis?.Length ?? 0) > 200)
            {
                return Error("An action needs a value (the command it runs).");
            }

            var text = string.IsNullOrWhiteSpace(body.Input) ? body.Value : $"{body.Value} {body.Input.Trim()}";

            // A double click is one request: the key is what was clicked, as it was shown, with what was typed (the
            // coordinator adds the sender). A fresh id per click, as the page once sent, would defeat that.
            var requestId = ClickKeys.For(ConsoleChatNotifier.PlatformName, message.Id, body.ActionId ?? string.Empty, body.Basis, body.Value, body.Input);
            var inbound = InboundCommand.Click(requestId, ToActor(user), new Conversation(ConsoleChatNotifier.PlatformName, message.Channel), text, body.Basis);
            var reply = await coordinator.HandleAsync(inbound, ct).ConfigureAwait(false);
            if (reply is { Changed: true, Visibility: ReplyVisibility.Ephemeral })
            {
                // The updated card is the answer to a click that worked; only refusals and no-ops get a private note.
                return Results.Json(new ConsoleReply(reply.Visibility, reply.Text, null, null) { Silent = true }, ShipBotJson.Options);
            }

            return Results.Json(Deliver(hub, message.Channel, user, reply), ShipBotJson.Options);
        });

        api.MapGet("/stream", async (string? channel, HttpContext context, ConsoleChannelHub hub, Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime) =>
        {
            // Ends when the browser goes away or the host stops, so an open tab never delays shutdown.
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
            var ct = linked.Token;
            var viewer = context.Caller()?.Id;
            context.Response.Headers.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers["X-Accel-Buffering"] = "no";
            await context.Response.WriteAsync(": connected\n\n", ct).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
            try
            {
                await foreach (var message in hub.SubscribeAsync(string.IsNullOrWhiteSpace(channel) ? "releases" : channel, ct).ConfigureAwait(false))
                {
                    // A signed-in viewer never receives someone else's private replies.
                    if (viewer is not null && message.VisibleTo is not null && !string.Equals(message.VisibleTo, viewer, StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }

                    var json = JsonSerializer.Serialize(message, ShipBotJson.Options);
                    await context.Response.WriteAsync($"event: message\ndata: {json}\n\n", ct).ConfigureAwait(false);
                    await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The browser went away.
            }
        });

        return app;
    }

    public static Actor ToActor(ConsoleUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new Actor(user.Id, user.Name, user.Groups) { Scopes = user.Scopes };
    }

    private static ConsoleReply Deliver(ConsoleChannelHub hub, string channel, ConsoleUser user, CommandReply reply)
    {
        // The channel keeps a private reply without any token it shows: the answer itself carries it, once.
        var message = reply.Visibility == ReplyVisibility.InChannel
            ? hub.Post(channel, "shipbot", reply.Text, reply.Card)
            : hub.Post(channel, "shipbot", ApiTokenService.ForReplay(reply).Text, reply.Card, visibleTo: user.Id);
        return new ConsoleReply(reply.Visibility, reply.Text, message.Id, reply.Card);
    }

    internal static IResult Error(string message) => Results.Json(new { error = message }, ShipBotJson.Options, statusCode: StatusCodes.Status400BadRequest);

    internal static string LoadPage(string name = "ShipBot.Console.index.html")
    {
        using var stream = typeof(ConsoleEndpoints).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException("The console page is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
