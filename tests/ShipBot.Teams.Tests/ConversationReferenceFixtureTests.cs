using System.Text.Json.Nodes;
using ShipBot.Core.Ports;
using ShipBot.InMemory;
using ShipBot.Testing;

namespace ShipBot.Teams.Tests;

/// <summary>
/// A conversation reference exactly as an earlier ShipBot stored it in the chat state store
/// (Fixtures/conversation-reference.json) is read by today's code and stored again without losing
/// or changing a value, so proactive posts keep working across an upgrade and a rollback.
/// </summary>
public sealed class ConversationReferenceFixtureTests
{
    private const string ConversationId = "19:abc@thread.tacv2";

    [Fact]
    public async Task ConversationReference_StoredByAnEarlierVersion_IsReadAndStoredAgainWithEveryValue()
    {
        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "conversation-reference.json")).Trim();
        var before = new InMemoryReleaseStore(TimeProvider.System);
        await ((IChatStateStore)before).SetAsync(TeamsConversations.Key(ConversationId), json, TimeSpan.FromDays(1));

        var reference = await new TeamsConversations(before).GetAsync(ConversationId);
        Assert.NotNull(reference);
        var after = new InMemoryReleaseStore(TimeProvider.System);
        await new TeamsConversations(after).RememberAsync(new JsonObject
        {
            ["serviceUrl"] = reference.ServiceUrl,
            ["conversation"] = new JsonObject { ["id"] = reference.ConversationId, ["tenantId"] = reference.TenantId, ["conversationType"] = reference.ConversationType },
        });

        var written = (await ((IChatStateStore)after).GetAsync(TeamsConversations.Key(ConversationId)))!;
        JsonAssert.Preserves(json, written);
        Assert.Equal(TeamsConversations.SchemaVersion, (int)JsonNode.Parse(written)!["SchemaVersion"]!);
    }

    [Fact]
    public void ConversationReference_StoredByThisVersion_IsReadByTheEarlierVersionsReader()
    {
        var reference = new ConversationReference(ConversationId, "https://smba.trafficmanager.net/emea/", "72f988bf-86f1-41af-91ab-2d7cd011db47", "channel");

        // The earlier version read the stored value with the serializer's defaults: the version is a field it ignores.
        var read = System.Text.Json.JsonSerializer.Deserialize<ConversationReference>(TeamsConversations.Serialize(reference));

        Assert.Equal(reference, read);
    }
}
