using ShipBot.Coordinator.Identity;
using ShipBot.Core.Commands;
using ShipBot.Core.Ports;
using ShipBot.Core.Settings;
using ShipBot.Redis;
using StackExchange.Redis;

namespace ShipBot.Host;

/// <summary>
/// API tokens from the host's command line, for admins without chat:
/// <c>dotnet run --project src/ShipBot.Host -- tokens create &lt;name&gt; &lt;scope&gt;…</c>,
/// <c>tokens revoke &lt;name&gt;</c>, <c>tokens list</c>. It uses the same configuration as the
/// host (appsettings.json, environment, <c>--key=value</c> arguments) and needs Redis, where the
/// running replicas read tokens from. Whoever can run it with the host's configuration holds the
/// store's credentials and so acts as an admin. A new token is printed once, on stdout.
/// </summary>
public static class TokenCommandLine
{
    private const string Usage = "usage: tokens create <name> <scope>… | tokens revoke <name> | tokens list   (scopes: releases:read, releases:write, admin)";

    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? errors = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        output ??= System.Console.Out;
        errors ??= System.Console.Error;
        var words = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
        var parsed = TokenCommand.Parse(words);
        if (!parsed.Success || parsed.Command is not TokenCommand command)
        {
            await errors.WriteLineAsync($"{parsed.Error} {Usage}").ConfigureAwait(false);
            return 2;
        }

        var configuration = new ConfigurationBuilder()
            .SetBasePath(File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json")) ? Directory.GetCurrentDirectory() : AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToArray())
            .Build();
        var redis = configuration.GetConnectionString("Redis");
        if (string.IsNullOrWhiteSpace(redis))
        {
            await errors.WriteLineAsync("ConnectionStrings:Redis is not set: without Redis the running ShipBot keeps tokens in its own memory, which this command cannot reach. Create them from chat (/ship token create …), or configure Redis.").ConfigureAwait(false);
            return 2;
        }

        var options = configuration.GetSection("ShipBot:Redis").Get<RedisStoreOptions>() ?? new RedisStoreOptions();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis).ConfigureAwait(false);
        var store = new RedisTokenStore(connection, options, TimeProvider.System);
        var operatorId = $"cli:{Environment.UserName}";
        var admin = new Actor(operatorId, operatorId, []);
        var tokens = new ApiTokenService(store, new AccessPolicy(new Dictionary<string, ServicePolicy>(), [operatorId]), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<ApiTokenService>.Instance);
        try
        {
            switch (command.Action)
            {
                case TokenAction.Create:
                    var issued = await tokens.CreateAsync(command.Name!, command.Scopes, admin.Id).ConfigureAwait(false);
                    if (issued is null)
                    {
                        await errors.WriteLineAsync($"There is already a token named {command.Name}: revoke it first.").ConfigureAwait(false);
                        return 1;
                    }

                    await errors.WriteLineAsync($"Token {issued.Stored.Name} ({string.Join(", ", issued.Stored.Scopes)}) acts as token:{issued.Stored.Name}. It is printed once, below; store it as a secret now.").ConfigureAwait(false);
                    await output.WriteLineAsync(issued.Value).ConfigureAwait(false);
                    return 0;
                case TokenAction.Revoke:
                    var removed = await tokens.RevokeAsync(command.Name!, admin.Id).ConfigureAwait(false);
                    await errors.WriteLineAsync(removed is null ? $"There is no token named {command.Name}." : $"Token {removed.Name} is revoked.").ConfigureAwait(false);
                    return removed is null ? 1 : 0;
                default:
                    foreach (var token in await tokens.ListAsync().ConfigureAwait(false))
                    {
                        await output.WriteLineAsync($"{token.Name}\t{string.Join(',', token.Scopes)}\t{token.CreatedBy}\t{token.CreatedAt:O}").ConfigureAwait(false);
                    }

                    return 0;
            }
        }
        catch (StoreUnavailableException ex)
        {
            await errors.WriteLineAsync($"Redis is unavailable ({ex.Message}); nothing was changed.").ConfigureAwait(false);
            return 1;
        }
    }
}
