using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using ShipBot.Console;
using ShipBot.Coordinator;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Host;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Browser;

/// <summary>
/// Console sign-in end to end through a real OpenID provider (npm oidc-provider on loopback, its
/// own login and consent pages), with Playwright driving Debian's Chromium: an approver signed in
/// through the provider approves with a click; a second identity without the role is refused and
/// told which role it needs.
/// </summary>
public sealed class SignInBrowserTests
{
    private const string ChromiumPath = "/usr/bin/chromium";

    [Fact]
    public async Task SignIn_ThroughARealProvider_ApproverApprovesWithAClickAndAnIdentityWithoutTheRoleIsRefused()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: the test command installs Debian's chromium package.");
        var providerPort = RedisServer.FreePort();
        var shipBotPort = RedisServer.FreePort();
        var settings = ShipBotHost.FastSettings();
        settings["ShipBot:Console:Mode"] = "SignIn";
        settings["ShipBot:Console:SignIn:Authority"] = $"http://127.0.0.1:{providerPort}/";
        settings["ShipBot:Console:SignIn:ClientId"] = OidcProvider.ClientId;
        settings["ShipBot:Console:SignIn:Scopes:0"] = "openid";
        settings["ShipBot:Console:SignIn:Scopes:1"] = "profile";
        settings["ShipBot:Console:SignIn:Scopes:2"] = "email";
        settings["ShipBot:Console:SignIn:Scopes:3"] = "groups";
        settings["ShipBot:Services:demo:Approvers:0"] = "group:release-approvers";
        await using var app = ShipBotApp.Build(["--urls", $"http://127.0.0.1:{shipBotPort}"], b => b.Configuration.AddInMemoryCollection(settings));
        await app.StartAsync();
        var shipBot = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        await using var provider = await OidcProvider.StartAsync(providerPort, new Uri(shipBot, "/signin-oidc"),
        [
            new OidcAccount("u-bob", "Bob Approver", "bob@example.com", true, "release-approvers"),
            new OidcAccount("u-mallory", "Mallory", "mallory@example.com", true),
        ]);

        // alice (requester) prepares a release awaiting approval; the card is in the console's channel.
        var coordinator = app.Services.GetRequiredService<ReleaseCoordinator>();
        var alice = new Actor("alice", "alice", []);
        var channel = new Conversation(ConsoleChatNotifier.PlatformName, "releases");
        await coordinator.HandleAsync(new InboundCommand("e2e-start", alice, channel, "/ship start demo 1.0.0 signed-in approval"));
        await coordinator.HandleAsync(new InboundCommand("e2e-check", alice, channel, "/ship check demo@1.0.0 qa rollback flags migrations dashboards env db errors health deploydoc rollbacktest https ratelimit"));
        var store = app.Services.GetRequiredService<IReleaseStore>();
        Assert.Equal(ReleaseState.AwaitingApproval, (await store.GetAsync(new ReleaseId("demo", "1.0.0")))?.State);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });

        // Mallory signs in and clicks Approve: refused, with the role she would need.
        await using (var mallory = await browser.NewContextAsync())
        {
            var page = await SignInAsync(mallory, shipBot, "u-mallory", provider);
            await Assertions.Expect(page.Locator("#signed-in-name")).ToContainTextAsync("Mallory");
            await Assertions.Expect(page.Locator("#acting-section")).ToBeHiddenAsync();
            var card = Card(page);
            await card.Locator("button.card-action[data-action-id='approve']").ClickAsync();
            await Assertions.Expect(page.GetByText("needs the approver role").Last).ToBeVisibleAsync();
            await Assertions.Expect(card.Locator(".card-title")).ToContainTextAsync("Awaiting approval");
        }

        // Bob signs in through the provider; his groups claim makes him an approver; he approves with a click.
        await using var bob = await browser.NewContextAsync();
        var bobPage = await SignInAsync(bob, shipBot, "u-bob", provider);
        await Assertions.Expect(bobPage.Locator("#signed-in-name")).ToContainTextAsync("Bob Approver (approver)");
        var session = (await bob.CookiesAsync([shipBot.ToString()])).Single(c => c.Name == "shipbot.session");
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, session.SameSite);
        var bobCard = Card(bobPage);
        await bobCard.Locator("button.card-action[data-action-id='approve']").ClickAsync();
        await Assertions.Expect(bobCard.Locator(".card-title")).Not.ToContainTextAsync("Awaiting approval", new LocatorAssertionsToContainTextOptions { Timeout = 20_000 });

        var release = await store.GetAsync(new ReleaseId("demo", "1.0.0"));
        Assert.Equal(["bob@example.com"], release!.Approvals.Select(a => a.By.Id));
        var audit = await store.GetAuditAsync(release.Id);
        Assert.Contains(audit, a => a.Actor == "mallory@example.com" && a.Action.Contains("refused", StringComparison.Ordinal));

        // The releases page lists it, with a link to its card.
        await bobPage.GotoAsync(new Uri(shipBot, "/releases").ToString());
        var row = bobPage.Locator("tr[data-release='demo@1.0.0']");
        await Assertions.Expect(row).ToBeVisibleAsync();
        await Assertions.Expect(row.Locator("a")).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex("^/\\?channel=releases#m\\d+$"));
        await app.StopAsync();
    }

    private static ILocator Card(IPage page) =>
        page.Locator(".card").Filter(new LocatorFilterOptions { Has = page.Locator(".card-title", new PageLocatorOptions { HasTextString = "demo@1.0.0 —" }) }).Last;

    /// <summary>Opens ShipBot, is sent to the provider's login page, signs in as <paramref name="subject"/> (any password), consents, and lands back on the console.</summary>
    private static async Task<IPage> SignInAsync(IBrowserContext context, Uri shipBot, string subject, OidcProvider provider)
    {
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        await page.GotoAsync(shipBot.ToString());
        try
        {
            await page.WaitForURLAsync(url => url.StartsWith(provider.Issuer.ToString().TrimEnd('/'), StringComparison.Ordinal));
            await page.Locator("input[name='login']").FillAsync(subject);
            await page.Locator("input[name='password']").FillAsync("any password will do");
            await page.Locator("button[type='submit']").ClickAsync();

            // The login page is itself at /interaction/…: wait until it has gone, so the consent check below
            // never sees the login page still loaded and clicks its button a second time.
            await page.Locator("input[name='login']").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });
            var consent = page.Locator("button[type='submit']");
            await page.WaitForURLAsync(url => url.StartsWith(shipBot.ToString(), StringComparison.Ordinal) || url.Contains("/interaction/", StringComparison.Ordinal));
            if (page.Url.Contains("/interaction/", StringComparison.Ordinal))
            {
                await consent.ClickAsync();
            }

            await page.WaitForURLAsync(url => url.StartsWith(shipBot.ToString(), StringComparison.Ordinal) && !url.Contains("signin-oidc", StringComparison.Ordinal));
            await Assertions.Expect(page.Locator("#signed-in")).ToBeVisibleAsync();
            return page;
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
        {
            throw new InvalidOperationException($"Sign-in as {subject} did not complete; the page is at {page.Url}:\n{await page.ContentAsync()}\nProvider output:\n{provider.Output}", ex);
        }
    }
}
