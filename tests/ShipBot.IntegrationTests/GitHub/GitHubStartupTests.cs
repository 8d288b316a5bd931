using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ShipBot.Core.Ports;

namespace ShipBot.IntegrationTests.GitHub;

/// <summary>
/// The GitHub settings at start-up: a wrong value stops the host naming the key; a complete
/// GitHub Actions target is wired as the service's deployment target.
/// </summary>
public sealed class GitHubStartupTests : IDisposable
{
    private const string Demo = "ShipBot:Services:demo";
    private readonly string _dir = Directory.CreateTempSubdirectory("shipbot-github-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("ShipBot:Services:demo:Deployment:GitHubActions: set Owner and Repo", Demo + ":Deployment:GitHubActions:Workflow", "deploy.yml", "ShipBot:GitHub:Auth:Token", "ghp_x")]
    [InlineData("ShipBot:Services:demo:Deployment:GitHubActions: no GitHub credentials", Demo + ":Deployment:GitHubActions:Workflow", "deploy.yml", Demo + ":GitHub:Owner", "acme", Demo + ":GitHub:Repo", "demo", Demo + ":GitHub:Deployments", "false")]
    [InlineData("ShipBot:Services:demo:Deployment:GitHubActions is missing", Demo + ":Deployment:Target", "GitHubActions")]
    [InlineData("ShipBot:Services:demo:Deployment:GitHubActions:Workflow is empty", Demo + ":Deployment:Target", "GitHubActions", Demo + ":Deployment:GitHubActions:Owner", "acme", Demo + ":Deployment:GitHubActions:Repo", "demo", "ShipBot:GitHub:Auth:Token", "ghp_x")]
    [InlineData("ShipBot:GitHub:Auth:PrivateKey is missing", "ShipBot:GitHub:Auth:AppId", "Iv23li0001")]
    [InlineData("ShipBot:GitHub:ApiUrl", "ShipBot:GitHub:ApiUrl", "http://github.example.com/api/v3/")]
    [InlineData("ShipBot:Services:demo:GitHub: set both Owner and Repo", Demo + ":GitHub:Owner", "acme")]
    [InlineData("ShipBot:Services:demo:GitHub: no GitHub credentials", Demo + ":GitHub:Owner", "acme", Demo + ":GitHub:Repo", "demo")]
    public async Task BadConfiguration_FailsStartupNamingTheKey(string expected, params string[] keyValues)
    {
        var overrides = new Dictionary<string, string?>();
        for (var i = 0; i < keyValues.Length; i += 2)
        {
            overrides[keyValues[i]] = keyValues[i + 1];
        }

        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = await ShipBotHost.StartAsync(overrides);
        });

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GitHubActionsTargetWithAppKeyFile_StartsAndServesTheService()
    {
        var keyPath = Path.Combine(_dir, "app.pem");
        using (var rsa = RSA.Create(2048))
        {
            await File.WriteAllTextAsync(keyPath, rsa.ExportRSAPrivateKeyPem());
        }

        await using var host = await ShipBotHost.StartAsync(new Dictionary<string, string?>
        {
            ["ShipBot:GitHub:Auth:AppId"] = "Iv23li0001",
            ["ShipBot:GitHub:Auth:PrivateKeyPath"] = keyPath,
            ["ShipBot:GitHub:PublicUrl"] = "https://shipbot.example.com/",
            [Demo + ":GitHub:Owner"] = "acme",
            [Demo + ":GitHub:Repo"] = "demo",
            [Demo + ":Deployment:GitHubActions:Workflow"] = "deploy.yml",
        });

        var target = host.Services.GetRequiredService<IDeploymentTarget>();
        Assert.Equal("github-actions", target.NameFor("demo"));
        Assert.Equal("ok", await host.Http.GetStringAsync(new Uri("/healthz", UriKind.Relative)));
    }
}
