using Microsoft.Playwright;

namespace ShipBot.IntegrationTests.Browser;

/// <summary>
/// The happy path through the console page in a real browser (Debian's Chromium driven by
/// Playwright, headless), as two people: alice starts and ticks the checklist, bob approves.
/// Set SHIPBOT_SCREENSHOT to a path to keep a screenshot of the finished channel.
/// </summary>
public sealed class ConsoleBrowserTests
{
    private const string ChromiumPath = "/usr/bin/chromium";

    [Fact]
    public async Task ConsolePage_HappyPathWithClicksAsTwoUsers_ReachesOperating()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: the test command installs Debian's chromium package.");
        await using var host = await ShipBotHost.StartAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1100 } });
        page.SetDefaultTimeout(90_000);
        await page.GotoAsync(host.BaseAddress.ToString());

        await page.Locator("#acting-user").SelectOptionAsync("alice");
        await page.Locator("#composer").FillAsync("/ship start demo 1.0.0 faster checkout");
        await page.Locator("#composer").PressAsync("Enter");

        var card = page.Locator(".card").Filter(new LocatorFilterOptions { Has = page.Locator(".card-title", new PageLocatorOptions { HasTextString = "demo@1.0.0 —" }) }).Last;
        await Assertions.Expect(card.Locator(".card-title")).ToContainTextAsync("Draft");

        // alice ticks every pending checklist item with its Confirm button; the card updates live after each click.
        var confirms = card.Locator("button.card-action[data-action-id='check']");
        for (var expected = await confirms.CountAsync(); expected > 0; expected--)
        {
            await confirms.First.ClickAsync();
            await Assertions.Expect(confirms).ToHaveCountAsync(expected - 1);
        }

        await Assertions.Expect(card.Locator(".card-title")).ToContainTextAsync("Awaiting approval");

        // alice may not approve her own release: a private reply says why and the card stays as it was.
        await card.Locator("button.card-action[data-action-id='approve']").ClickAsync();
        await Assertions.Expect(page.GetByText("separation of duties").Last).ToBeVisibleAsync();
        await Assertions.Expect(card.Locator(".card-title")).ToContainTextAsync("Awaiting approval");

        // The page sends the button's basis with the click (and no fresh id per click, so a double click is one click).
        await page.Locator("#acting-user").SelectOptionAsync("bob");
        var click = await page.RunAndWaitForRequestAsync(
            () => card.Locator("button.card-action[data-action-id='approve']").ClickAsync(),
            r => r.Url.EndsWith("/api/console/actions", StringComparison.Ordinal));
        var sent = System.Text.Json.Nodes.JsonNode.Parse(click.PostData!)!;
        Assert.Matches(@"^r\d+\.AwaitingApproval\.-1$", (string?)sent["basis"]);
        Assert.Null(sent["requestId"]);
        await Assertions.Expect(card.Locator(".card-title")).ToContainTextAsync("Canary 5 %", new LocatorAssertionsToContainTextOptions { Timeout = 90_000 });
        await Assertions.Expect(card.Locator("[data-stage='Staging']")).ToHaveAttributeAsync("data-status", "done");
        await Assertions.Expect(card.Locator(".card-title")).ToContainTextAsync("Validating", new LocatorAssertionsToContainTextOptions { Timeout = 120_000 });

        await page.Locator("#acting-user").SelectOptionAsync("alice");
        await card.Locator("button.card-action[data-action-id='check']").ClickAsync();
        await Assertions.Expect(card.Locator(".card-title")).ToContainTextAsync("Operating", new LocatorAssertionsToContainTextOptions { Timeout = 90_000 });
        Assert.Equal("Operating", await host.StateAsync("demo@1.0.0") is "Operating" or "Completed" ? "Operating" : await host.StateAsync("demo@1.0.0"));

        if (Environment.GetEnvironmentVariable("SHIPBOT_SCREENSHOT") is { Length: > 0 } path)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = false });
        }
    }
}
