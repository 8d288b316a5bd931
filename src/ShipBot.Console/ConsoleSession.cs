using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using ShipBot.Coordinator;
using ShipBot.Core.Cards;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Identity;

namespace ShipBot.Console;

/// <summary>What <c>GET /api/console/me</c> answers: the mode, who is acting (SignIn), and the antiforgery token to send with POSTs.</summary>
public sealed record ConsoleSessionView(string Mode, ConsoleUserView? User, string? Antiforgery);

/// <summary>One line of the releases page: state, stage progress, health, and where its card is.</summary>
public sealed record ConsoleReleaseView(
    string Name,
    string Service,
    string Version,
    string State,
    bool Active,
    string Stage,
    int StageIndex,
    IReadOnlyList<string> Stages,
    string? Health,
    string? HealthSummary,
    DateTimeOffset UpdatedAt,
    string? CardChannel,
    string? CardMessageId);

/// <summary>
/// The console's session endpoints and who acts: in Demo mode the user the page picked, otherwise
/// the verified caller (signed-in person or API token principal) and nobody else.
/// </summary>
public static class ConsoleSession
{
    /// <summary>How many finished releases per service the releases page shows besides the active ones.</summary>
    public const int RecentPerService = 5;

    /// <summary>Every console API call: reads need a session or <c>releases:read</c>; changes need a session with the antiforgery token, or <c>releases:write</c>.</summary>
    public static RouteGroupBuilder RequireConsoleCaller(this RouteGroupBuilder group) =>
        group.AddEndpointFilter(async (invocation, next) =>
        {
            var read = HttpMethods.IsGet(invocation.HttpContext.Request.Method) || HttpMethods.IsHead(invocation.HttpContext.Request.Method);
            return await CallerEndpoints.CheckAsync(invocation.HttpContext, read ? TokenScopes.ReleasesRead : TokenScopes.ReleasesWrite, antiforgery: !read).ConfigureAwait(false)
                ?? await next(invocation).ConfigureAwait(false);
        });

    /// <summary>The users the page may show: every configured one in Demo mode, else only the caller.</summary>
    public static IReadOnlyList<ConsoleUser> Visible(IReadOnlyList<ConsoleUser> users, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Caller() is { } caller ? [FromActor(caller)] : users;
    }

    /// <summary>
    /// Who acts for this request. Demo: the configured user <paramref name="requested"/> names.
    /// Otherwise the verified caller; naming anyone else is refused (403).
    /// </summary>
    public static ConsoleUser? Acting(IReadOnlyList<ConsoleUser> users, string? requested, HttpContext context, out IResult refusal)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(context);
        refusal = Results.Empty;
        if (context.Caller() is { } caller)
        {
            if (!string.IsNullOrEmpty(requested) && !string.Equals(requested, caller.Id, StringComparison.OrdinalIgnoreCase))
            {
                refusal = Results.Json(new { error = $"You are {caller.Id}; the console acts only as you, never as '{requested}'." }, ShipBotJson.Options, statusCode: StatusCodes.Status403Forbidden);
                return null;
            }

            return FromActor(caller);
        }

        var user = requested is null ? null : users.FirstOrDefault(u => string.Equals(u.Id, requested, StringComparison.OrdinalIgnoreCase));
        if (user is null)
        {
            refusal = ConsoleEndpoints.Error($"Unknown user '{requested}'. Users: {string.Join(", ", users.Select(u => u.Id))}.");
        }

        return user;
    }

    /// <summary><c>GET /me</c>, <c>POST /signout</c> and <c>GET /releases</c> under the console's API group.</summary>
    public static RouteGroupBuilder MapConsoleSession(this RouteGroupBuilder api, IReadOnlyList<ConsoleUser> users)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/me", (HttpContext context, CallerPolicy policy, IAntiforgery antiforgery, IReleaseCommands coordinator) =>
        {
            if (context.Caller() is not { } caller)
            {
                return Results.Json(new ConsoleSessionView("demo", null, null), ShipBotJson.Options);
            }

            var user = FromActor(caller);
            var roles = coordinator.Access.RolesOf(caller).Select(r => AccessPolicy.Describe(r).Replace("-", string.Empty, StringComparison.Ordinal)).ToList();

            // Only a session needs the antiforgery token; a token caller sends no cookies to forge.
            var token = caller.Scopes is null ? antiforgery.GetAndStoreTokens(context).RequestToken : null;
            context.Response.Headers.CacheControl = "no-store";
            return Results.Json(new ConsoleSessionView(policy.Mode == ConsoleMode.SignIn ? "signIn" : "off", new ConsoleUserView(user.Id, user.Name, roles), token), ShipBotJson.Options);
        });

        api.MapPost("/signout", async (HttpContext context) =>
        {
            await context.SignOutAsync(IdentitySchemes.Cookie).ConfigureAwait(false);
            return Results.Json(new { signedOut = true });
        });

        api.MapGet("/releases", async (IReleaseStore store, IReleaseCommands coordinator, ConsoleChannelHub hub, CancellationToken ct) =>
        {
            var releases = new Dictionary<ReleaseId, Release>();
            foreach (var release in await store.ListActiveAsync(ct).ConfigureAwait(false))
            {
                releases[release.Id] = release;
            }

            foreach (var service in coordinator.Access.Services.Keys)
            {
                foreach (var release in (await store.ListByServiceAsync(service, ct).ConfigureAwait(false)).Take(RecentPerService))
                {
                    releases.TryAdd(release.Id, release);
                }
            }

            var views = releases.Values
                .OrderBy(r => r.State.IsTerminal())
                .ThenByDescending(r => r.UpdatedAt)
                .Select(r =>
                {
                    var card = hub.ByKey(ReleaseCards.CardKey(r.Id));
                    return new ConsoleReleaseView(
                        r.Id.ToString(), r.Id.Service, r.Id.Version, r.State.ToString(), !r.State.IsTerminal(), r.Where, r.StageIndex,
                        [.. r.Plan.Stages.Select(s => $"{s.Kind} {s.Percent} %")], r.LastHealth?.Status.ToString(), r.LastHealth?.Summary,
                        r.UpdatedAt, card?.Channel, card?.Id);
                })
                .ToList();
            return Results.Json(views, ShipBotJson.Options);
        });

        return api;
    }

    private static ConsoleUser FromActor(Actor actor) => new(actor.Id, actor.DisplayName, actor.Groups) { Scopes = actor.Scopes };
}
