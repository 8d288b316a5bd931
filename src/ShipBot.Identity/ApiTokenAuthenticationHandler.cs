using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShipBot.Coordinator.Identity;
using ShipBot.Core.Ports;

namespace ShipBot.Identity;

/// <summary>
/// Authenticates <c>Authorization: Bearer shipbot_…</c> against the token store on every request
/// (no cache: a revoked token fails on the next request, on every replica). The token never
/// appears in a log line or an answer.
/// </summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiTokenService tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = (string?)Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("Only Bearer API tokens are accepted here.");
        }

        Core.Settings.Actor? actor;
        try
        {
            actor = await tokens.AuthenticateAsync(header[7..].Trim(), Context.RequestAborted).ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            return AuthenticateResult.Fail("The token store is unavailable.");
        }

        return actor is null
            ? AuthenticateResult.Fail("Unknown, revoked or malformed API token.")
            : AuthenticateResult.Success(new AuthenticationTicket(ShipBotClaims.Principal(actor, IdentitySchemes.Token), IdentitySchemes.Token));
    }
}
