using System.Security.Cryptography;
using ShipBot.GitHub.Actions;

namespace ShipBot.GitHub.Tests;

public sealed class GitHubOptionsValidationTests
{
    private const string Service = "ShipBot:Services:checkout";

    private static readonly string Pem = CreatePem();

    private static GitHubOptions WithApp() => new() { Auth = new GitHubAuthOptions { AppId = "Iv23li0001", PrivateKey = Pem } };

    private static GitHubActionsTargetOptions Target() => new() { Owner = "acme", Repo = "checkout", Workflow = "deploy.yml" };

    [Fact]
    public void Validate_Defaults_NoErrors()
    {
        Assert.Empty(GitHubOptionsValidation.Validate(new GitHubOptions()));
        Assert.Empty(GitHubOptionsValidation.Validate(WithApp()));
    }

    [Fact]
    public void Validate_PrivateKeyWithEscapedLineBreaks_Accepted()
    {
        var options = WithApp();
        options.Auth.PrivateKey = Pem.Replace("\n", "\\n", StringComparison.Ordinal);

        Assert.Empty(GitHubOptionsValidation.Validate(options));
    }

    [Theory]
    [InlineData("http://api.github.example.com/", "ShipBot:GitHub:ApiUrl")]
    [InlineData("ftp://api.github.com/", "ShipBot:GitHub:ApiUrl")]
    public void Validate_InsecureApiUrl_NamesTheKey(string url, string key)
    {
        var options = WithApp();
        options.ApiUrl = new Uri(url);

        Assert.Contains(GitHubOptionsValidation.Validate(options), e => e.StartsWith(key, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_AppWithoutKey_SaysWhereToPutIt()
    {
        var options = new GitHubOptions { Auth = new GitHubAuthOptions { AppId = "Iv23li0001" } };

        var error = Assert.Single(GitHubOptionsValidation.Validate(options));

        Assert.StartsWith("ShipBot:GitHub:Auth:PrivateKey is missing", error, StringComparison.Ordinal);
        Assert.Contains("ShipBot__GitHub__Auth__PrivateKey", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KeyThatIsNotAKey_SaysSoWithoutEchoingIt()
    {
        var options = new GitHubOptions { Auth = new GitHubAuthOptions { AppId = "Iv23li0001", PrivateKey = "s3cr3t-not-a-pem" } };

        var error = Assert.Single(GitHubOptionsValidation.Validate(options));

        Assert.StartsWith("ShipBot:GitHub:Auth:PrivateKey", error, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TokenAndApp_RefusesBoth()
    {
        var options = WithApp();
        options.Auth.Token = "ghp_x";

        Assert.Contains(GitHubOptionsValidation.Validate(options), e => e.Contains("not both", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateActionsTarget_Complete_NoErrors()
    {
        Assert.Empty(GitHubOptionsValidation.ValidateActionsTarget(Service, Target(), null, WithApp()));
    }

    [Fact]
    public void ValidateActionsTarget_RepositoryFromTheServiceLink_NoErrors()
    {
        var target = new GitHubActionsTargetOptions { Workflow = "deploy.yml" };
        var link = new ServiceGitHubOptions { Owner = "acme", Repo = "checkout" };

        Assert.Empty(GitHubOptionsValidation.ValidateActionsTarget(Service, target, link, WithApp()));
    }

    [Fact]
    public void ValidateActionsTarget_NoWorkflow_NamesTheKey()
    {
        var target = Target();
        target.Workflow = " ";

        var error = Assert.Single(GitHubOptionsValidation.ValidateActionsTarget(Service, target, null, WithApp()));

        Assert.StartsWith("ShipBot:Services:checkout:Deployment:GitHubActions:Workflow", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateActionsTarget_NoRepository_NamesTheKeys()
    {
        var target = new GitHubActionsTargetOptions { Workflow = "deploy.yml" };

        var error = Assert.Single(GitHubOptionsValidation.ValidateActionsTarget(Service, target, null, WithApp()));

        Assert.Contains("set Owner and Repo", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateActionsTarget_NoCredentialsAnywhere_SaysWhereToSetThem()
    {
        var error = Assert.Single(GitHubOptionsValidation.ValidateActionsTarget(Service, Target(), null, new GitHubOptions()));

        Assert.Contains("ShipBot:GitHub:Auth", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateActionsTarget_OwnCredentials_Checked()
    {
        var target = Target();
        target.Auth = new GitHubAuthOptions { AppId = "Iv23li0002" };

        var error = Assert.Single(GitHubOptionsValidation.ValidateActionsTarget(Service, target, null, new GitHubOptions()));

        Assert.StartsWith("ShipBot:Services:checkout:Deployment:GitHubActions:Auth:PrivateKey", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-acme", "checkout", "Owner")]
    [InlineData("acme", "check out", "Repo")]
    public void ValidateService_BadNames_NamesTheKey(string owner, string repo, string key)
    {
        var link = new ServiceGitHubOptions { Owner = owner, Repo = repo };

        Assert.Contains(GitHubOptionsValidation.ValidateService(Service, link, WithApp()), e => e.StartsWith($"ShipBot:Services:checkout:GitHub:{key}", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateService_OwnerWithoutRepo_AsksForBoth()
    {
        var link = new ServiceGitHubOptions { Owner = "acme" };

        var error = Assert.Single(GitHubOptionsValidation.ValidateService(Service, link, WithApp()));

        Assert.Contains("both Owner and Repo", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateService_LinkedWithDeploymentsButNoCredentials_Refused()
    {
        var link = new ServiceGitHubOptions { Owner = "acme", Repo = "checkout" };

        Assert.Single(GitHubOptionsValidation.ValidateService(Service, link, new GitHubOptions()));
        link.Deployments = false;
        Assert.Empty(GitHubOptionsValidation.ValidateService(Service, link, new GitHubOptions()));
    }

    private static string CreatePem()
    {
        using var rsa = RSA.Create(2048);
        return rsa.ExportRSAPrivateKeyPem();
    }
}
