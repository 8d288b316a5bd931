using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ShipBot.Coordinator.Identity;
using ShipBot.Http;

namespace ShipBot.Identity;

public static partial class ShipBotIdentityServiceCollectionExtensions
{
    /// <summary>Name of the session cookie (HttpOnly, SameSite=Lax, Secure under HTTPS).</summary>
    public const string SessionCookie = "shipbot.session";

    /// <summary>Name of the antiforgery cookie (HttpOnly, SameSite=Strict, Secure under HTTPS).</summary>
    public const string AntiforgeryCookie = "shipbot.antiforgery";

    /// <summary>
    /// Authentication for the console and the API: API tokens always, the session cookie, and in
    /// <see cref="ConsoleMode.SignIn"/> OpenID Connect (authorization code with PKCE). The host
    /// registers <see cref="ApiTokenService"/> and <see cref="SignedInActorMapper"/>.
    /// </summary>
    public static IServiceCollection AddShipBotIdentity(this IServiceCollection services, ConsoleMode mode, SignInOptions signIn)
    {
        ArgumentNullException.ThrowIfNull(signIn);
        services.AddSingleton(new CallerPolicy(mode));
        services.AddInboundGuard();
        var auth = services.AddAuthentication();
        auth.AddPolicyScheme(IdentitySchemes.Caller, null, o => o.ForwardDefaultSelector = context =>
            context.Request.Headers.Authorization.Count > 0 ? IdentitySchemes.Token : IdentitySchemes.Cookie);
        auth.AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(IdentitySchemes.Token, null);
        auth.AddCookie(IdentitySchemes.Cookie, o =>
        {
            o.Cookie.Name = SessionCookie;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = signIn.SessionLifetime;
            o.SlidingExpiration = false;

            // API callers get status codes, never a redirect to a login page.
            o.Events.OnRedirectToLogin = context => SetStatus(context, StatusCodes.Status401Unauthorized);
            o.Events.OnRedirectToAccessDenied = context => SetStatus(context, StatusCodes.Status403Forbidden);
        });
        services.AddAntiforgery(o =>
        {
            o.HeaderName = CallerEndpoints.AntiforgeryHeader;
            o.Cookie.Name = AntiforgeryCookie;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });

        if (mode == ConsoleMode.SignIn)
        {
            auth.AddOpenIdConnect(IdentitySchemes.OpenIdConnect, o => ConfigureOpenIdConnect(o, signIn));
        }

        return services;
    }

    /// <summary>Whether a URL's host is this machine (where plain HTTP is acceptable).</summary>
    public static bool IsLoopback(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    private static void ConfigureOpenIdConnect(OpenIdConnectOptions o, SignInOptions signIn)
    {
        o.Authority = signIn.Authority!.AbsoluteUri;
        o.RequireHttpsMetadata = !IsLoopback(signIn.Authority);
        o.ClientId = signIn.ClientId;
        o.ClientSecret = string.IsNullOrEmpty(signIn.ClientSecret) ? null : signIn.ClientSecret;
        o.ResponseType = "code";
        o.UsePkce = true;

        // The code comes back on a top-level GET, so the correlation and nonce cookies can be
        // SameSite=Lax (form_post would need SameSite=None).
        o.ResponseMode = "query";
        o.CorrelationCookie.SameSite = SameSiteMode.Lax;
        o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.NonceCookie.SameSite = SameSiteMode.Lax;
        o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.CallbackPath = signIn.CallbackPath;
        o.SignInScheme = IdentitySchemes.Cookie;
        o.Scope.Clear();
        foreach (var scope in signIn.EffectiveScopes)
        {
            o.Scope.Add(scope);
        }

        o.MapInboundClaims = false;
        o.GetClaimsFromUserInfoEndpoint = true;
        o.ClaimActions.MapUniqueJsonKey("email_verified", "email_verified");
        o.ClaimActions.MapJsonKey(signIn.GroupsClaim, signIn.GroupsClaim);
        o.SaveTokens = false;
        o.Events.OnTicketReceived = context =>
        {
            // Keep only who the person is to ShipBot; the provider's tokens and other claims are not stored.
            var mapper = context.HttpContext.RequestServices.GetRequiredService<SignedInActorMapper>();
            if (context.Principal is null || mapper.Map(context.Principal) is not { } actor)
            {
                context.Fail("The provider's answer carries no subject (sub).");
                return Task.CompletedTask;
            }

            context.Principal = ShipBotClaims.Principal(actor, IdentitySchemes.Cookie, context.Principal.FindFirst("sub")?.Value);
            var log = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ShipBot.Identity");
            LogSignedIn(log, actor.Id, actor.Groups.Count);
            return Task.CompletedTask;
        };
        o.Events.OnRemoteFailure = async context =>
        {
            context.HandleResponse();
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("Sign-in failed. Go back to / to try again; the server log has the reason.").ConfigureAwait(false);
            var log = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ShipBot.Identity");
            LogSignInFailed(log, context.Failure?.Message ?? "unknown");
        };
    }

    private static Task SetStatus(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Console sign-in: {Actor} ({Groups} groups)")]
    private static partial void LogSignedIn(ILogger logger, string actor, int groups);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console sign-in failed: {Reason}")]
    private static partial void LogSignInFailed(ILogger logger, string reason);
}
