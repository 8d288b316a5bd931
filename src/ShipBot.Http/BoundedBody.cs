using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace ShipBot.Http;

/// <summary>A request body read up to a bound: the bytes, or <see cref="TooLarge"/> when it went past it.</summary>
public readonly record struct BoundedBodyResult(byte[]? Body, bool TooLarge)
{
    public static BoundedBodyResult Over { get; } = new(null, true);
}

/// <summary>
/// The one bounded reader for every inbound endpoint (Slack, Teams, Alertmanager, console, API):
/// it stops as soon as a body passes the bound (a declared <c>Content-Length</c> over it is refused
/// before a byte is read), so nothing unbounded is buffered before a signature or token is checked.
/// </summary>
public static class BoundedBody
{
    /// <summary>Reads the whole body, or stops past <paramref name="maxBytes"/>. Cancelled with the request.</summary>
    public static async ValueTask<BoundedBodyResult> ReadAsync(HttpRequest request, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > maxBytes)
        {
            return BoundedBodyResult.Over;
        }

        var reader = request.BodyReader;
        var ct = request.HttpContext.RequestAborted;
        while (true)
        {
            var read = await reader.ReadAsync(ct).ConfigureAwait(false);
            var buffer = read.Buffer;
            if (buffer.Length > maxBytes)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return BoundedBodyResult.Over;
            }

            if (read.IsCompleted || read.IsCanceled)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return new BoundedBodyResult(body, false);
            }

            // Nothing consumed yet: ask for more until the body is complete.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>The 413 answer every endpoint gives for a body past the bound.</summary>
    public static IResult TooLarge(int maxBytes) =>
        Results.Json(new { error = $"The request body is larger than {maxBytes:N0} bytes." }, statusCode: StatusCodes.Status413PayloadTooLarge);
}
