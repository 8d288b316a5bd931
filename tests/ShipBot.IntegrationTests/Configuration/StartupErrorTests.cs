using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Configuration;

/// <summary>
/// The real host as a process (<c>dotnet ShipBot.Host.dll</c>) with a wrong setting: it prints one
/// line that names the key, no stack trace, and exits with 1 before listening.
/// </summary>
public sealed class StartupErrorTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("ShipBot:Services:demo:Deployment:Target", "Kubernetes", "ShipBot:Services:demo:Deployment:Target 'Kubernetes' is unknown")]
    [InlineData("ShipBot:Health:Source", "Datadog", "ShipBot:Health:Source 'Datadog' is unknown")]
    [InlineData("ShipBot:Services:demo:RequiredApprovals", "3", "ShipBot:Services:demo: 3 approvals are required")]
    [InlineData("ShipBot:EvaluationInterval", "every minute", "ShipBot:EvaluationInterval")]
    [InlineData("ShipBot:Services:demo:ConsultTimeout", "a quarter of an hour", "ShipBot:Services:demo:ConsultTimeout")]
    [InlineData("Slack:BotToken", "xoxb-without-a-signing-secret", "Slack:SigningSecret is missing")]
    public async Task WrongSetting_PrintsOneLineNamingTheKeyAndExits1(string key, string value, string expected)
    {
        var (exitCode, output) = await ShipBotProcess.RunToExitAsync(new Dictionary<string, string?> { [key] = value }, Deadline);

        Assert.Equal(1, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeveralWrongSettings_AreAllOnTheOneLine()
    {
        var (exitCode, output) = await ShipBotProcess.RunToExitAsync(
            new Dictionary<string, string?>
            {
                ["ShipBot:Deployment:Target"] = "Helm",
                ["ShipBot:Alertmanager:BearerToken"] = "short",
            },
            Deadline);

        Assert.Equal(1, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("ShipBot:Deployment:Target 'Helm' is unknown", line, StringComparison.Ordinal);
        Assert.Contains("ShipBot:Alertmanager:BearerToken is too short", line, StringComparison.Ordinal);
    }
}
