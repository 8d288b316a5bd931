using ShipBot.Core.Ports;
using ShipBot.InMemory;
using ShipBot.Testing;

namespace ShipBot.Coordinator.Tests.InMemory;

/// <summary>The shared token store contract (ShipBot.Testing) for the embedded in-memory store (one process: both views are the same store).</summary>
public sealed class InMemoryTokenStoreContractTests : TokenStoreContract
{
    protected override Task<(ITokenStore First, ITokenStore Second)> CreatePairAsync()
    {
        var store = new InMemoryTokenStore();
        return Task.FromResult<(ITokenStore, ITokenStore)>((store, store));
    }
}
