using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using ShipBot.Host;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Configuration;

/// <summary>
/// ShipBot's own binding of the <c>ShipBot</c> section gives exactly what the framework binder
/// gives (same keys, precedence and conversions), and reports a value that names no target or
/// source as a validation error naming the key.
/// </summary>
public sealed class ShipBotConfigurationTests
{
    private const string Json = """
        {
          "ShipBot": {
            "EvaluationInterval": "00:00:05",
            "Admins": [ "dave", "group:S0ADMINS" ],
            "Users": { "alice": { "Name": "Alice", "Groups": [ "S1" ] } },
            "Health": { "Source": "simulated" },
            "Deployment": { "Target": "SIMULATED", "SimulatedLatency": "00:00:00.050" },
            "Alertmanager": { "BearerToken": "0123456789abcdef0123" },
            "Services": {
              "checkout": {
                "Channel": "payments",
                "Requesters": [ "alice" ], "Approvers": [ "bob", "carol" ], "OnCall": [ "group:SONCALL" ],
                "RequiredApprovals": 2,
                "StagingBake": "00:05:00",
                "Stages": [
                  { "Kind": "Canary", "Percent": 5, "Bake": "00:10:00" },
                  { "Kind": "earlyadopters", "Percent": 25, "Bake": "00:20:00", "NeedsApproval": true },
                  { "Kind": "Full", "Percent": 100, "Bake": "00:10:00" }
                ],
                "Thresholds": { "MaxErrorRateIncrease": 0.02, "LatencyTargetMs": 250, "Actions": { "user_feedback": "Rollback" } },
                "Health": {
                  "Prometheus": { "Url": "http://prometheus:9090/", "Queries": { "error_rate": "sum(rate(x[5m]))" }, "StageQueries": { "Canary": { "cpu": "avg(cpu)" } } },
                  "Probes": { "Instances": [ "http://10.0.0.7:8080", "http://10.0.0.8:8080" ], "Timeout": "00:00:01" },
                  "Checks": [ { "Metric": "queue_depth", "Max": 100, "FromStage": "EarlyAdopters", "Action": "Consult" } ],
                  "MaxInconclusive": 5
                },
                "Deployment": { "Target": "webhook", "Webhook": { "Url": "https://ci.example.com/hooks/shipbot", "MaxRetries": 1 } },
                "SmokeChecks": { "Urls": [ "https://checkout.{{environment}}.example.com/healthz" ], "Timeout": "00:00:03" },
                "OutcomeCheckpoints": [ "1.00:00:00", "7.00:00:00" ],
                "HealthUrl": "https://checkout.example.com/healthz",
                "Runbook": "https://runbooks.example.com/checkout"
              },
              "billing": {
                "Requesters": [ "alice" ], "Approvers": [ "bob" ],
                "Deployment": { "Command": { "Path": "/opt/deploy/set-traffic.sh", "Arguments": [ "--service", "billing" ] } }
              },
              "search": {}
            }
          }
        }
        """;

    private static IConfigurationRoot Configuration(params (string Key, string? Value)[] overrides)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(Json));
        return new ConfigurationBuilder()
            .AddJsonStream(stream)
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                // A later source wins, whatever the case of its keys.
                ["shipbot:services:CHECKOUT:Channel"] = "releases",
                ["ShipBot:Services:checkout:Stages:2:Bake"] = "00:15:00",
                ["ShipBot:Services:checkout:Deployment:Webhook:Secret"] = "0123456789abcdef0123456789",
                ["ShipBot:Services:billing:OnCall:0"] = "carol",
                ["ShipBot:Services:inventory:Requesters:0"] = "alice",
                ["ShipBot:Services:inventory:Approvers:0"] = "bob",
            })
            .AddInMemoryCollection(overrides.ToDictionary(o => o.Key, o => o.Value))
            .Build();
    }

    private static string Serialized(ShipBotOptions options) => JsonSerializer.Serialize(options, new JsonSerializerOptions { WriteIndented = true });

    [Fact]
    public void Bind_ManySourcesAndShapes_GivesWhatTheFrameworkBinderGives()
    {
        var configuration = Configuration();
        var framework = new ShipBotOptions();
        configuration.GetSection(ShipBotOptions.Section).Bind(framework);

        var sut = new ShipBotOptions();
        ShipBotConfiguration.Bind(configuration, sut);

        var (expected, actual) = (Serialized(framework), Serialized(sut));
        JsonAssert.Preserves(expected, actual);
        JsonAssert.Preserves(actual, expected);
        Assert.Equal(["billing", "checkout", "inventory", "search"], sut.Services.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("releases", sut.Services["checkout"].Channel);
        Assert.Equal(TimeSpan.FromMinutes(15), sut.Services["checkout"].Stages![2].Bake);
        Assert.Empty(sut.ConfigurationErrors);
    }

    [Theory]
    [InlineData("Webhook", DeploymentTargetKind.Webhook)]
    [InlineData("webhook", DeploymentTargetKind.Webhook)]
    [InlineData("COMMAND", DeploymentTargetKind.Command)]
    [InlineData("simulated", DeploymentTargetKind.Simulated)]
    public void Bind_ServiceTargetInAnyCase_IsTheEnum(string value, DeploymentTargetKind expected)
    {
        var sut = new ShipBotOptions();

        ShipBotConfiguration.Bind(Configuration(("ShipBot:Services:checkout:Deployment:Target", value)), sut);

        Assert.Equal(expected, sut.Services["checkout"].Deployment.Target);
        Assert.Empty(sut.ConfigurationErrors);
    }

    [Theory]
    [InlineData("ShipBot:Services:checkout:Deployment:Target", "Kubernetes", "ShipBot:Services:checkout:Deployment:Target 'Kubernetes' is unknown: use Webhook, Command, GitHubActions, ArgoRollouts, GatewayApi, HAProxy or Simulated.")]
    [InlineData("ShipBot:Services:checkout:Deployment:Target", "1", "ShipBot:Services:checkout:Deployment:Target '1' is unknown: use Webhook, Command, GitHubActions, ArgoRollouts, GatewayApi, HAProxy or Simulated.")]
    [InlineData("ShipBot:Deployment:Target", "Helm", "ShipBot:Deployment:Target 'Helm' is unknown: use Webhook, Command, GitHubActions, ArgoRollouts, GatewayApi, HAProxy or Simulated.")]
    [InlineData("ShipBot:Health:Source", "Datadog", "ShipBot:Health:Source 'Datadog' is unknown: use Simulated, or None and give every service its own Health:Prometheus or Health:Probes.")]
    public void Bind_ValueThatNamesNothing_IsAConfigurationErrorNamingTheKeyAndBindingGoesOn(string key, string value, string error)
    {
        var sut = new ShipBotOptions();

        ShipBotConfiguration.Bind(Configuration((key, value)), sut);

        Assert.Equal([error], sut.ConfigurationErrors);
        Assert.Equal(4, sut.Services.Count);
        Assert.Contains(error, new ShipBotOptionsValidator().Validate(null, sut).Failures ?? []);
    }

    [Fact]
    public void Bind_HealthSourceNoneInAnyCase_IsNone()
    {
        var sut = new ShipBotOptions();

        ShipBotConfiguration.Bind(Configuration(("ShipBot:Health:Source", "NONE")), sut);

        Assert.Equal(HealthSourceKind.None, sut.Health.Source);
    }

    [Fact]
    public void Bind_ValueTheBinderCannotConvert_ThrowsNamingTheKey()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ShipBotConfiguration.Bind(Configuration(("ShipBot:Services:billing:RequiredApprovals", "two")), new ShipBotOptions()));

        Assert.Contains("ShipBot:Services:billing:RequiredApprovals", error.Message, StringComparison.Ordinal);
        Assert.True(ConfigurationError.TryDescribe(error, out var line));
        Assert.DoesNotContain('\n', line);
    }
}
