using Microsoft.Extensions.Options;

namespace ShipBot.IntegrationTests.Alerting;

/// <summary>
/// Start-up validation of the alerting and deployment configuration: a wrong value stops
/// ShipBotApp.Build / StartAsync with an <see cref="OptionsValidationException"/> naming the key.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AlertmanagerAndTargetsStartupValidationTests : IDisposable
{
    private const string Demo = "ShipBot:Services:demo";
    private readonly string _dir = Directory.CreateTempSubdirectory("shipbot-validation-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("ShipBot:Services:demo:Health:Prometheus:Url must be an absolute http(s) URL", Demo + ":Health:Prometheus:Url", "not a url")]
    [InlineData("ShipBot:Services:demo:Health:Prometheus:Url must be an absolute http(s) URL", Demo + ":Health:Prometheus:Url", "ftp://prometheus:9090/")]
    [InlineData("ShipBot:Services:demo:Health:Prometheus:Url must be an absolute http(s) URL", Demo + ":Health:Prometheus:Url", "/api/v1/query")]
    [InlineData("ShipBot:Services:demo:Health:Prometheus:Timeout must be positive", Demo + ":Health:Prometheus:Url", "http://prometheus:9090/", Demo + ":Health:Prometheus:Timeout", "00:00:00")]
    [InlineData("ShipBot:Services:demo:Health:Probes:Instances is empty", Demo + ":Health:Probes:Path", "/healthz")]
    [InlineData("ShipBot:Services:demo:Health:Probes:Instances: 'gopher://demo-1/'", Demo + ":Health:Probes:Instances:0", "gopher://demo-1/")]
    [InlineData("ShipBot:Services:demo:Deployment:Webhook:Secret must be set", Demo + ":Deployment:Webhook:Url", "https://ci.example.com/hooks/shipbot")]
    [InlineData("ShipBot:Services:demo:Deployment:Webhook:Secret must be set", Demo + ":Deployment:Webhook:Url", "https://ci.example.com/hooks/shipbot", Demo + ":Deployment:Webhook:Secret", "short")]
    [InlineData("ShipBot:Services:demo:Deployment:Webhook:Url must be an absolute http(s) URL", Demo + ":Deployment:Target", "Webhook", Demo + ":Deployment:Webhook:Secret", "0123456789abcdef0123")]
    [InlineData("ShipBot:Services:demo:Deployment:Webhook:Url must be an absolute http(s) URL", Demo + ":Deployment:Webhook:Url", "ftp://ci.example.com/", Demo + ":Deployment:Webhook:Secret", "0123456789abcdef0123")]
    [InlineData("ShipBot:Services:demo:Deployment:Webhook: Timeout must be positive", Demo + ":Deployment:Webhook:Url", "https://ci.example.com/", Demo + ":Deployment:Webhook:Secret", "0123456789abcdef0123", Demo + ":Deployment:Webhook:MaxRetries", "-1")]
    [InlineData("ShipBot:Services:demo:Deployment:Command:Path '/nonexistent/shipbot/deploy.sh' does not exist", Demo + ":Deployment:Command:Path", "/nonexistent/shipbot/deploy.sh")]
    [InlineData("ShipBot:Services:demo:Deployment:Command:Path is empty", Demo + ":Deployment:Target", "Command")]
    [InlineData("ShipBot:Services:demo:Deployment:Target 'Kubernetes' is unknown", Demo + ":Deployment:Target", "Kubernetes")]
    [InlineData("ShipBot:Deployment:Target 'Webhook' is unknown", "ShipBot:Deployment:Target", "Webhook")]
    [InlineData("ShipBot:Services:demo:SmokeChecks:Urls: 'staging.example.com/healthz'", Demo + ":SmokeChecks:Urls:0", "staging.example.com/healthz")]
    [InlineData("ShipBot:Alertmanager:BearerToken is too short", "ShipBot:Alertmanager:BearerToken", "short")]
    [InlineData("ShipBot:Alertmanager: set both Username and Password", "ShipBot:Alertmanager:Username", "alertmanager")]
    [InlineData("ShipBot:Alertmanager: set both Username and Password", "ShipBot:Alertmanager:Password", "secret")]
    [InlineData("ShipBot:Services:demo:Health: no health source", "ShipBot:Health:Source", "None")]
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
    public async Task CommandTimeoutZero_FailsStartupNamingTheKey()
    {
        var script = Script();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = await ShipBotHost.StartAsync(new Dictionary<string, string?>
            {
                [Demo + ":Deployment:Command:Path"] = script,
                [Demo + ":Deployment:Command:Timeout"] = "00:00:00",
            });
        });

        Assert.Contains("ShipBot:Services:demo:Deployment:Command:Timeout must be positive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeveralProblems_AreAllReported()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = await ShipBotHost.StartAsync(new Dictionary<string, string?>
            {
                [Demo + ":Deployment:Webhook:Url"] = "https://ci.example.com/hooks/shipbot",
                [Demo + ":Health:Prometheus:Url"] = "not a url",
                ["ShipBot:Alertmanager:BearerToken"] = "short",
            });
        });

        Assert.Contains("Deployment:Webhook:Secret", error.Message, StringComparison.Ordinal);
        Assert.Contains("Health:Prometheus:Url", error.Message, StringComparison.Ordinal);
        Assert.Contains("ShipBot:Alertmanager:BearerToken", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidWebhookCommandAndAlertmanagerConfiguration_Starts()
    {
        var script = Script();

        await using var host = await ShipBotHost.StartAsync(new Dictionary<string, string?>
        {
            ["ShipBot:Alertmanager:BearerToken"] = AlertmanagerScenario.Token,
            [Demo + ":Deployment:Webhook:Url"] = "https://ci.example.com/hooks/shipbot",
            [Demo + ":Deployment:Webhook:Secret"] = "0123456789abcdef0123",
            [Demo + ":SmokeChecks:Urls:0"] = "https://demo.{{environment}}.example.com/healthz",
            [Demo + ":Health:Prometheus:Url"] = "http://prometheus:9090/",
            ["ShipBot:Services:billing:Requesters:0"] = "alice",
            ["ShipBot:Services:billing:Approvers:0"] = "bob",
            ["ShipBot:Services:billing:Deployment:Command:Path"] = script,
            ["ShipBot:Services:billing:Deployment:Command:Timeout"] = "00:05:00",
        });

        Assert.Equal("ok", await host.Http.GetStringAsync("/healthz"));
    }

    private string Script()
    {
        var path = Path.Combine(_dir, "deploy.sh");
        File.WriteAllText(path, "#!/bin/bash\nexit 0\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
