using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ShipBot.Charts.Images;

/// <summary>The public endpoint of <see cref="ChartImageStore"/>.</summary>
public static class ChartImageEndpoints
{
    /// <summary>
    /// Maps <c>GET /charts/{token}.png</c> (and HEAD): the image with its content type, cacheable
    /// until it expires and never longer (<c>Cache-Control: public, max-age=…, immutable</c>); 404
    /// with <c>no-store</c> for a malformed, unknown or expired token. The unguessable token is the
    /// only credential, as for any capability URL that Slack or Teams must fetch without ShipBot's
    /// cookies. Needs <see cref="ChartImageStore"/> in the services.
    /// </summary>
    public static IEndpointConventionBuilder MapChartImages(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // Public (chat services fetch it), so it is in the OpenAPI document like every public endpoint.
        return endpoints.MapMethods(ChartImageStore.PathPrefix + "{token}.png", [HttpMethods.Get, HttpMethods.Head], ServeAsync)
            .WithSummary("A chart image (PNG) behind its unguessable, expiring link; 404 once expired or unknown.")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces(StatusCodes.Status404NotFound);
    }

    private static async Task ServeAsync(HttpContext context, string token, ChartImageStore images, TimeProvider time)
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = "default-src 'none'";
        var image = await images.GetAsync(token, context.RequestAborted).ConfigureAwait(false);
        if (image is null)
        {
            headers.CacheControl = "no-store";
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var remaining = (long)Math.Floor((image.ExpiresAt - time.GetUtcNow()).TotalSeconds);
        headers.CacheControl = $"public, max-age={Math.Max(0, remaining).ToString(CultureInfo.InvariantCulture)}, immutable";
        headers.Expires = image.ExpiresAt.ToString("R", CultureInfo.InvariantCulture);
        context.Response.ContentType = image.ContentType;
        context.Response.ContentLength = image.Content.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(image.Content, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Registers <see cref="ChartImageStore"/> with its options bound from
    /// <paramref name="section"/> (default <c>ShipBot:Charts</c>) and validated at start; it needs
    /// <c>IChatStateStore</c> and <see cref="TimeProvider"/> registered.
    /// </summary>
    public static IServiceCollection AddChartImages(this IServiceCollection services, string section = "ShipBot:Charts")
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<ChartImageOptions>()
            .BindConfiguration(section)
            .Validate(o => o.Ttl > TimeSpan.Zero, $"{section}:Ttl must be positive.")
            .Validate(o => o.MaxBytes > 0, $"{section}:MaxBytes must be positive.")
            .Validate(o => o.PublicBaseUrl is null || (o.PublicBaseUrl.IsAbsoluteUri && o.PublicBaseUrl.Scheme is "https" or "http"), $"{section}:PublicBaseUrl must be an absolute http(s) URL.")
            .ValidateOnStart();
        services.AddSingleton(sp => new ChartImageStore(
            sp.GetRequiredService<ShipBot.Core.Ports.IChatStateStore>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<ChartImageOptions>>().Value));
        return services;
    }
}
