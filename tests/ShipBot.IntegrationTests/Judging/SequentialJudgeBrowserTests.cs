using Microsoft.Playwright;
using static ShipBot.IntegrationTests.Console.LifecycleSafetyRegressionTests;

namespace ShipBot.IntegrationTests.Judging;

/// <summary>The judge's chart on the console page, in a real browser (Debian's Chromium driven by Playwright, headless).</summary>
public sealed class SequentialJudgeBrowserTests
{
    private const string ChromiumPath = "/usr/bin/chromium";

    [Fact]
    public async Task ConsolePage_JudgedCanary_ShowsTheEvidenceChartInline()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: the test command installs Debian's chromium package.");
        await using var host = await ShipBotHost.StartAsync(new Dictionary<string, string?>
        {
            ["ShipBot:Services:demo:Stages:0:Bake"] = "00:10:00",
            ["ShipBot:Services:demo:Judge:Kind"] = "Sequential",
        });
        await host.SayAsync("carol", "/ship simulate demo traffic_rpm 600000");
        await ApprovedAsync(host, "demo@1.0.0");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });
        var page = await browser.NewPageAsync();
        page.SetDefaultTimeout(90_000);

        await page.GotoAsync(host.BaseAddress.ToString());

        var card = page.Locator(".card").Filter(new LocatorFilterOptions { Has = page.Locator(".card-title", new PageLocatorOptions { HasTextString = "demo@1.0.0 —" }) }).Last;
        await Assertions.Expect(card).ToContainTextAsync("Sequential judge at Canary 5 %", new LocatorAssertionsToContainTextOptions { Timeout = 90_000 });
        var chart = card.Locator("figure.blk-image img[src^='/charts/']");
        await Assertions.Expect(chart).ToHaveAttributeAsync("alt", new System.Text.RegularExpressions.Regex("^Evidence at Canary 5 %"));
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll(\"figure.blk-image img[src^='/charts/']\")].some(i => i.complete && i.naturalWidth > 0)");
    }
}
