using Microsoft.Extensions.Options;

namespace ShipBot.Slack.Tests;

/// <summary>Start-up validation of the Slack section: a missing secret fails start-up with a message that names the setting.</summary>
public sealed class SlackOptionsValidatorTests
{
    private static ValidateOptionsResult Validate(SlackOptions options) => new SlackOptionsValidator().Validate(Options.DefaultName, options);

    private static SlackOptions Complete() => new() { Enabled = true, SigningSecret = "secret", BotToken = "xoxb-1" };

    [Fact]
    public void Validate_EnabledAndComplete_Succeeds()
    {
        Assert.True(Validate(Complete()).Succeeded);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Validate_EnabledWithoutSigningSecret_FailsNamingTheKey(string? secret)
    {
        var options = Complete();
        options.SigningSecret = secret;

        var result = Validate(options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.Contains("Slack:SigningSecret", failure, StringComparison.Ordinal);
        Assert.Contains("Slack__SigningSecret", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Validate_ForcedOnWithoutBotToken_FailsNamingTheKey(string? token)
    {
        var options = Complete();
        options.BotToken = token;

        var result = Validate(options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.Contains("Slack:BotToken", failure, StringComparison.Ordinal);
        Assert.Contains("Slack__BotToken", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_EnabledByBotTokenWithoutSigningSecret_Fails()
    {
        var result = Validate(new SlackOptions { BotToken = "xoxb-1" });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("Slack:SigningSecret", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_EnabledWithNeitherSecret_ReportsBoth()
    {
        var result = Validate(new SlackOptions { Enabled = true });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("Slack:SigningSecret", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Slack:BotToken", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://slack.com/api")]
    [InlineData("https://proxy.example/slack/api")]
    [InlineData("ftp://slack.com/api/")]
    public void Validate_ApiBaseUrlNotAnHttpUrlEndingInSlash_FailsNamingTheKey(string url)
    {
        var options = Complete();
        options.ApiBaseUrl = new Uri(url);

        var result = Validate(options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.Contains("Slack:ApiBaseUrl", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://slack.com/api/")]
    [InlineData("http://localhost:5099/fake-slack/api/")]
    public void Validate_ApiBaseUrlEndingInSlash_Succeeds(string url)
    {
        var options = Complete();
        options.ApiBaseUrl = new Uri(url);

        Assert.True(Validate(options).Succeeded);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3000)]
    [InlineData(5000)]
    public void Validate_AckBudgetOutsideSlacksThreeSeconds_Fails(int milliseconds)
    {
        var options = Complete();
        options.AckBudget = TimeSpan.FromMilliseconds(milliseconds);

        var result = Validate(options);

        Assert.True(result.Failed);
        Assert.Contains("Slack:AckBudget", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CommandWithoutSlash_Fails()
    {
        var options = Complete();
        options.Command = "ship";

        Assert.True(Validate(options).Failed);
    }

    [Fact]
    public void Validate_DisabledWithoutAnything_Succeeds()
    {
        Assert.True(Validate(new SlackOptions()).Succeeded);
    }

    [Fact]
    public void Validate_ExplicitlyDisabledWithATokenButNoSecret_Succeeds()
    {
        var result = Validate(new SlackOptions { Enabled = false, BotToken = "xoxb-1", ApiBaseUrl = new Uri("https://slack.com/api") });

        Assert.True(result.Succeeded);
    }
}
