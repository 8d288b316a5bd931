using System.Collections.Concurrent;
using System.Net;
using ShipBot.IntegrationTests.Slack;
using static ShipBot.IntegrationTests.Slack.SlackScenario;

namespace ShipBot.IntegrationTests.Identity;

/// <summary>
/// Limits after verification: a flood of forged Slack requests from one address spends only that
/// address's failure bucket, so genuine signed requests from the same address are all answered.
/// </summary>
public sealed class ForgedFloodTests
{
    [Fact]
    public async Task SignedRequests_DuringAFloodOfForgedOnesFromTheSameAddress_AllAnswered200()
    {
        await using var s = await SlackScenario.StartAsync();
        await s.CommandOkAsync(Alice, "start demo 1.0.0 flood", $"Started {Release}");
        using var stop = new CancellationTokenSource();
        var forged = new ConcurrentDictionary<HttpStatusCode, int>();
        var flood = Enumerable.Range(0, 6).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < 400 && !stop.IsCancellationRequested; i++)
            {
                var request = s.Slack.SlashCommand(Mallory, "mallory", "halt demo forged", Channel, secret: "not-the-signing-secret");
                var (status, _) = await s.SendAsync(request);
                forged.AddOrUpdate(status, 1, (_, n) => n + 1);
            }
        })).ToArray();

        var signed = new List<HttpStatusCode>();
        for (var i = 0; i < 40; i++)
        {
            var (status, _) = await s.CommandAsync(Bob, $"status {Release}");
            signed.Add(status);
        }

        await stop.CancelAsync();
        await Task.WhenAll(flood);

        Assert.All(signed, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], forged.Keys.Order());
        Assert.True(forged[HttpStatusCode.TooManyRequests] > forged[HttpStatusCode.Unauthorized], $"forged: {string.Join(", ", forged)}");
        Assert.Null((await s.Bot.ReleaseAsync(Release))["haltReason"]?.GetValue<string>());
    }
}
