using System.Text;
using Microsoft.AspNetCore.Http;

namespace ShipBot.Http.Tests;

public sealed class BoundedBodyTests
{
    private static HttpRequest Request(byte[] body, long? declared)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = declared;
        return context.Request;
    }

    [Fact]
    public async Task ReadAsync_WithinTheBound_WholeBody()
    {
        var body = Encoding.UTF8.GetBytes(new string('a', 1000));

        var read = await BoundedBody.ReadAsync(Request(body, body.Length), 1000);

        Assert.False(read.TooLarge);
        Assert.Equal(body, read.Body);
    }

    [Fact]
    public async Task ReadAsync_DeclaredLengthOverTheBound_TooLargeWithoutReading()
    {
        var stream = new MemoryStream(new byte[10]);
        var context = new DefaultHttpContext();
        context.Request.Body = stream;
        context.Request.ContentLength = 5000;

        var read = await BoundedBody.ReadAsync(context.Request, 4096);

        Assert.True(read.TooLarge);
        Assert.Equal(0, stream.Position);
    }

    [Fact]
    public async Task ReadAsync_UndeclaredBodyPastTheBound_TooLarge()
    {
        var read = await BoundedBody.ReadAsync(Request(new byte[70_000], null), 65_536);

        Assert.True(read.TooLarge);
        Assert.Null(read.Body);
    }

    [Fact]
    public async Task ReadAsync_EmptyBody_Empty()
    {
        var read = await BoundedBody.ReadAsync(Request([], 0), 10);

        Assert.Equal(Array.Empty<byte>(), read.Body);
    }
}
