using Microsoft.Extensions.Options;

namespace ShipBot.Teams.Tests;

/// <summary>Start-up validation of the Teams section: a missing app id or secret, or an unsafe metadata URL, fails start-up with a message naming the key.</summary>
public sealed class TeamsOptionsValidatorTests
{
    private static ValidateOptionsResult Validate(TeamsOptions options) => new TeamsOptionsValidator().Validate(Options.DefaultName, options);

    private static TeamsOptions Complete() => new() { AppId = "3f2a6c8e-0d4b-4b8e-9a51-7c1f0e2d9b10", AppPassword = "secret" };

    [Fact]
    public void Validate_EnabledAndComplete_Succeeds()
    {
        Assert.True(Validate(Complete()).Succeeded);
    }

    [Fact]
    public void Validate_NotEnabled_SucceedsWithoutAnySetting()
    {
        Assert.True(Validate(new TeamsOptions()).Succeeded);
        Assert.False(new TeamsOptions().IsEnabled);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Validate_EnabledWithoutAppId_FailsNamingTheKey(string? appId)
    {
        var options = Complete();
        options.Enabled = true;
        options.AppId = appId;

        var result = Validate(options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.Contains("Teams:AppId", failure, StringComparison.Ordinal);
        Assert.Contains("Teams__AppId", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Validate_EnabledWithoutAppPassword_FailsNamingTheKey(string? password)
    {
        var options = Complete();
        options.AppPassword = password;

        var result = Validate(options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.Contains("Teams:AppPassword", failure, StringComparison.Ordinal);
        Assert.Contains("Teams__AppPassword", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_EmulatorAllowedWithoutAppPassword_Succeeds()
    {
        var options = Complete();
        options.AppPassword = null;
        options.AllowUnauthenticatedLoopback = true;

        Assert.True(Validate(options).Succeeded);
    }

    [Fact]
    public void Validate_EnabledWithNothing_ReportsBothMissingKeys()
    {
        var result = Validate(new TeamsOptions { Enabled = true });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("Teams:AppId", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Teams:AppPassword", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://login.botframework.com/v1/.well-known/openidconfiguration")]
    [InlineData("http://10.0.0.5/v1/.well-known/openidconfiguration")]
    [InlineData("http://shipbot-keys.internal/openidconfiguration")]
    public void Validate_HttpMetadataUrlNotOnLoopback_FailsNamingTheKey(string url)
    {
        var options = Complete();
        options.OpenIdMetadataUrl = new Uri(url);

        var result = Validate(options);

        Assert.True(result.Failed);
        Assert.Contains("Teams:OpenIdMetadataUrl", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NonHttpSchemeOnLoopback_FailsNamingTheKey()
    {
        var options = Complete();
        options.OpenIdMetadataUrl = new Uri("ftp://127.0.0.1/keys");

        var result = Validate(options);

        Assert.True(result.Failed);
        Assert.Contains("Teams:OpenIdMetadataUrl", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://login.botframework.com/v1/.well-known/openidconfiguration")]
    [InlineData("http://127.0.0.1:5123/botframework/.well-known/openidconfiguration")]
    [InlineData("http://localhost:5123/botframework/.well-known/openidconfiguration")]
    [InlineData("http://[::1]:5123/botframework/.well-known/openidconfiguration")]
    public void Validate_MetadataUrlHttpsOrLoopback_Succeeds(string url)
    {
        var options = Complete();
        options.OpenIdMetadataUrl = new Uri(url);

        Assert.True(Validate(options).Succeeded);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(11)]
    public void Validate_ClockSkewOutOfRange_Fails(int minutes)
    {
        var options = Complete();
        options.ClockSkew = TimeSpan.FromMinutes(minutes);

        var result = Validate(options);

        Assert.True(result.Failed);
        Assert.Contains("Teams:ClockSkew", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void IsEnabled_AppIdSet_TurnsTeamsOn()
    {
        Assert.True(new TeamsOptions { AppId = "x" }.IsEnabled);
        Assert.False(new TeamsOptions { AppId = "x", Enabled = false }.IsEnabled);
    }

    [Fact]
    public void Tenant_MultiTenantBot_IsBotFrameworkCom()
    {
        Assert.Equal("botframework.com", new TeamsOptions().Tenant);
        Assert.Equal("t-1", new TeamsOptions { TenantId = "t-1" }.Tenant);
    }
}
