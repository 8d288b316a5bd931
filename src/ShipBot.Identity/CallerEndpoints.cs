using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ShipBot.Core.Ports;
using ShipBot.Core.Settings;
using ShipBot.Http;

namespace ShipBot.Identity;

/// <summary>The console mode in force, as the endpoints need it.</summary>
public sealed record CallerPolicy(ConsoleMode Mode)
{
    /// <summary>Demo: the console and the read API need no credentials (loopback only, nothing else configured).</summary>
    public bool IsOpen => Mode == ConsoleMode.Demo;
}

/// <summary>
/// Who may call the console and the release API, as endpoint filters. Outside Demo mode a call
/// needs a session (a signed-in person) or an API token with the scope the endpoint names; a
/// state-changing call with a session also needs the antiforgery token. Verification comes first,
/// then the caller's own rate limit; a failure spends only the source address's failure budget.
/// </summary>
public static partial class CallerEndpoints
{
    /// <summary>The request header that carries the antiforgery token (from <c>GET /api/console/me</c>).</summary>
    public const string AntiforgeryHeader = "X-ShipBot-Antiforgery";

    private const string ActorItem = "shipbot:actor";

    /// <summary>The verified caller of this request (set by <see cref="RequireCaller{TBuilder}"/>), or null in Demo mode.</summary>
    public static Actor? Caller(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items.TryGetValue(ActorItem, out var actor) ? actor as Actor : null;
    }

    /// <summary>
    /// Requires a verified caller: a session, or a token holding <paramref name="scope"/>.
    /// <paramref name="antiforgery"/>: a session must also send <see cref="AntiforgeryHeader"/>.
    /// </summary>
    public static TBuilder RequireCaller<TBuilder>(this TBuilder builder, string scope, bool antiforgery = false)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (invocation, next) =>
            await CheckAsync(invocation.HttpContext, scope, antiforgery).ConfigureAwait(false) ?? await next(invocation).ConfigureAwait(false));

    /// <summary>
    /// For pages: in SignIn mode a browser without a session is sent to the provider's sign-in and
    /// comes back here; with one, the page is served. Open in Demo mode.
    /// </summary>
    public static TBuilder RequireSignedInPage<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (invocation, next) =>
        {
            var context = invocation.HttpContext;
            if (context.RequestServices.GetRequiredService<CallerPolicy>().IsOpen)
            {
                return await next(invocation).ConfigureAwait(false);
            }

            var result = await context.AuthenticateAsync(IdentitySchemes.Cookie).ConfigureAwait(false);
            if (result.Succeeded && ShipBotClaims.ActorOf(result.Principal) is not null)
            {
                return await next(invocation).ConfigureAwait(false);
            }

            var path = context.Request.Path + context.Request.QueryString;
            return Results.Challenge(new AuthenticationProperties { RedirectUri = path }, [IdentitySchemes.OpenIdConnect]);
        });

    /// <summary>Null when the call may go on (and <see cref="Caller"/> is set), else the answer to give.</summary>
    public static async Task<IResult?> CheckAsync(HttpContext context, string scope, bool antiforgery)
    {
        ArgumentNullException.ThrowIfNull(context);
        var services = context.RequestServices;
        var policy = services.GetRequiredService<CallerPolicy>();
        var guard = services.GetRequiredService<InboundGuard>();
        if (policy.IsOpen)
        {
            // The demo console has no identities: its changes are limited by address, its reads not at all.
            return HttpMethods.IsGet(context.Request.Method) || guard.TryAcquire(InboundPrincipal.ConsoleUser, "demo:" + InboundGuard.AddressOf(context), out var demoRetry)
                ? null
                : InboundGuard.TooMany(context, demoRetry);
        }

        var result = await context.AuthenticateAsync(IdentitySchemes.Caller).ConfigureAwait(false);
        var actor = result.Succeeded ? ShipBotClaims.ActorOf(result.Principal) : null;
        var isToken = actor?.Scopes is not null;
        if (actor is null || (!isToken && policy.Mode != ConsoleMode.SignIn))
        {
            var how = policy.Mode == ConsoleMode.SignIn ? "Sign in, or send an API token" : "Send an API token";
            var refusal = Results.Json(new { error = $"{how} (Authorization: Bearer <token>) with the {scope} scope." }, statusCode: StatusCodes.Status401Unauthorized);
            var log = services.GetRequiredService<ILoggerFactory>().CreateLogger("ShipBot.Identity");
            return guard.OnVerificationFailed(context, refusal, () => LogRefused(log, context.Request.Path, result.Failure?.Message ?? "no credentials", InboundGuard.AddressOf(context)));
        }

        if (isToken && !TokenScopes.Allows(actor.Scopes!, scope))
        {
            return Results.Json(new { error = $"This API token lacks the {scope} scope." }, statusCode: StatusCodes.Status403Forbidden);
        }

        // The antiforgery token is bound to the signed-in identity: validate it as that identity.
        context.User = result.Principal!;
        if (!isToken && antiforgery)
        {
            try
            {
                await services.GetRequiredService<IAntiforgery>().ValidateRequestAsync(context).ConfigureAwait(false);
            }
            catch (AntiforgeryValidationException)
            {
                var refusal = Results.Json(new { error = $"Missing or invalid antiforgery token: send the one from GET /api/console/me in the {AntiforgeryHeader} header." }, statusCode: StatusCodes.Status403Forbidden);
                return guard.OnVerificationFailed(context, refusal);
            }
        }

        if (!guard.TryAcquire(isToken ? InboundPrincipal.Token : InboundPrincipal.ConsoleUser, actor.Id, out var retryAfter))
        {
            return InboundGuard.TooMany(context, retryAfter);
        }

        context.Items[ActorItem] = actor;
        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused an unauthenticated request to {Path} from {Remote}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string path, string reason, string remote);
}
