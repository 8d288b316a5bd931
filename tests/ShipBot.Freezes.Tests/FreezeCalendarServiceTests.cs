using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Ports;

namespace ShipBot.Freezes.Tests;

public sealed class FreezeCalendarServiceTests : IDisposable
{
    // Saturday 24 Oct 2026 12:00 UTC: inside the weekend freeze of 23–26 Oct.
    private static readonly DateTimeOffset Saturday = new(2026, 10, 24, 12, 0, 0, TimeSpan.Zero);

    private readonly string _folder = Directory.CreateTempSubdirectory("shipbot-freezes-").FullName;

    private readonly FakeTimeProvider _time = new(Saturday);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string WriteFile(string name, string ics)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, Calendars.Crlf(ics));
        return path;
    }

    private ServiceProvider CreateSut(Dictionary<string, string?> settings, CalendarServer? server = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(_time);
        services.AddShipBotFreezes(configuration);
        if (server is not null)
        {
            services.AddHttpClient(FreezeCalendarService.HttpClientName).ConfigurePrimaryHttpMessageHandler(server.Handler);
        }

        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task ActiveAt_GlobalAndServiceCalendars_ApplyToTheirServices()
    {
        await using var provider = CreateSut(new()
        {
            ["ShipBot:Freezes:Calendars:0:Path"] = WriteFile("company.ics", Calendars.WeekendFreeze),
            ["ShipBot:Services:checkout:Freezes:Calendars:0:Path"] = WriteFile("checkout-holidays.ics", Calendars.Holidays()),
            ["ShipBot:Services:checkout:Freezes:Calendars:0:TimeZone"] = "Europe/Berlin",
        });
        var sut = provider.GetRequiredService<FreezeCalendarService>();
        await sut.RefreshAllAsync();
        IFreezeCalendar calendar = sut;

        Assert.Equal("Weekend freeze", Assert.Single(calendar.ActiveAt("search", Saturday)).Name);
        Assert.Empty(calendar.ActiveAt("search", Saturday.AddDays(3)));
        var christmasEvening = new DateTimeOffset(2026, 12, 25, 20, 0, 0, TimeSpan.Zero);
        Assert.Equal(["Christmas Day", "Weekend freeze"], calendar.ActiveAt("checkout", christmasEvening).Select(w => w.Name));
        Assert.Equal(["Weekend freeze"], calendar.ActiveAt("search", christmasEvening).Select(w => w.Name));

        Assert.Equal("All Saints", calendar.Next("checkout", Saturday.AddDays(3))!.Name);
        Assert.Equal("Weekend freeze (early)", calendar.Next("search", Saturday.AddDays(3))!.Name);
        Assert.Contains(calendar.Between(null, Saturday, Saturday.AddDays(62)), w => w.Service == "checkout");
        Assert.DoesNotContain(calendar.Between("search", Saturday, Saturday.AddDays(62)), w => w.Service == "checkout");
        Assert.Equal(["company", "checkout-holidays"], calendar.Sources.Select(s => s.Name));
        Assert.All(calendar.Sources, s => Assert.True(s.IsLoaded && !s.IsStale));
    }

    [Fact]
    public async Task StateAt_WeekendThatRunsIntoAHoliday_IsFrozenUntilTheEndOfBoth()
    {
        var holiday = Calendars.Single("Team day", "20261026T000000", "20261027T000000", "Europe/Berlin");
        await using var provider = CreateSut(new()
        {
            ["ShipBot:Freezes:Calendars:0:Path"] = WriteFile("company.ics", Calendars.WeekendFreeze),
            ["ShipBot:Services:checkout:Freezes:Calendars:0:Path"] = WriteFile("team.ics", holiday),
        });
        var sut = provider.GetRequiredService<FreezeCalendarService>();
        await sut.RefreshAllAsync();

        var state = sut.StateAt("checkout", Saturday);

        Assert.True(state.IsFrozen);
        Assert.Equal(new DateTimeOffset(2026, 10, 26, 23, 0, 0, TimeSpan.Zero), state.Until);
        Assert.Equal("checkout is in the change freeze 'Weekend freeze' (global) until Tue 27 Oct 2026 00:00 +01:00 Europe/Berlin.", state.Explain());
        Assert.Equal(new DateTimeOffset(2026, 11, 6, 11, 0, 0, TimeSpan.Zero), state.Next!.Start);
    }

    [Fact]
    public async Task Refresh_UrlThatFails_KeepsTheLastGoodCalendarAndSaysSo()
    {
        await using var server = await CalendarServer.StartAsync();
        server.Body = Calendars.Crlf(Calendars.WeekendFreeze);
        await using var provider = CreateSut(new()
        {
            ["ShipBot:Freezes:Calendars:0:Name"] = "company",
            ["ShipBot:Freezes:Calendars:0:Url"] = server.Url.ToString(),
        }, server);
        var sut = provider.GetRequiredService<FreezeCalendarService>();
        await sut.RefreshAllAsync();
        Assert.Single(sut.ActiveAt("checkout", Saturday));
        var loadedAt = _time.GetUtcNow();

        server.Body = null;
        _time.Advance(TimeSpan.FromMinutes(15));
        await sut.RefreshDueAsync();

        var status = Assert.Single(sut.Sources);
        Assert.Equal("Weekend freeze", Assert.Single(sut.ActiveAt("checkout", _time.GetUtcNow())).Name);
        Assert.True(status.IsStale);
        Assert.Equal("HTTP 503 Service Unavailable", status.LastError);
        Assert.Equal(loadedAt, status.LastSuccessAt);
        Assert.Equal(_time.GetUtcNow(), status.LastAttemptAt);
        Assert.EndsWith("using the last good calendar", status.Describe(), StringComparison.Ordinal);
        Assert.Equal($"https://127.0.0.1:{server.Url.Port}/calendars/freeze.ics?…", status.Location);
        Assert.DoesNotContain("s3cret", status.Describe(), StringComparison.Ordinal);

        // A failed read is retried sooner than the refresh interval.
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(1), sut.NextRefreshAt);
    }

    [Fact]
    public async Task Refresh_UrlAnswersSomethingElse_KeepsTheLastGoodCalendarAndRecoversLater()
    {
        await using var server = await CalendarServer.StartAsync();
        server.Body = Calendars.Crlf(Calendars.WeekendFreeze);
        await using var provider = CreateSut(new() { ["ShipBot:Freezes:Calendars:0:Url"] = server.Url.ToString() }, server);
        var sut = provider.GetRequiredService<FreezeCalendarService>();
        await sut.RefreshAllAsync();

        server.Body = "<html>Please sign in</html>";
        await sut.RefreshAllAsync();
        Assert.Equal("not an iCalendar document (it does not begin with BEGIN:VCALENDAR)", sut.Sources[0].LastError);
        Assert.Single(sut.ActiveAt("checkout", Saturday));

        server.Body = Calendars.Crlf(Calendars.Holidays());
        _time.Advance(TimeSpan.FromMinutes(1));
        await sut.RefreshAllAsync();
        Assert.Null(sut.Sources[0].LastError);
        Assert.Empty(sut.ActiveAt("checkout", Saturday));
        Assert.Equal(_time.GetUtcNow(), sut.Sources[0].LastSuccessAt);
    }

    [Fact]
    public async Task Refresh_UnchangedCalendar_IsNotDownloadedAgain()
    {
        await using var server = await CalendarServer.StartAsync();
        server.Body = Calendars.Crlf(Calendars.WeekendFreeze);
        await using var provider = CreateSut(new() { ["ShipBot:Freezes:Calendars:0:Url"] = server.Url.ToString() }, server);
        var sut = provider.GetRequiredService<FreezeCalendarService>();

        await sut.RefreshAllAsync();
        await sut.RefreshAllAsync();

        Assert.Equal(2, server.Requests);
        Assert.Equal(1, server.FullResponses);
        Assert.Null(sut.Sources[0].LastError);
        Assert.Single(sut.ActiveAt("checkout", Saturday));
    }

    [Fact]
    public async Task Refresh_UrlNeverRead_HasNoWindowsAndSaysSo()
    {
        await using var server = await CalendarServer.StartAsync();
        await using var provider = CreateSut(new() { ["ShipBot:Freezes:Calendars:0:Url"] = server.Url.ToString() }, server);
        var sut = provider.GetRequiredService<FreezeCalendarService>();

        await sut.RefreshAllAsync();

        Assert.Empty(sut.ActiveAt("checkout", Saturday));
        Assert.False(sut.Sources[0].IsLoaded);
        Assert.Contains("never loaded", sut.Sources[0].Describe(), StringComparison.Ordinal);
        Assert.Contains("no windows from it are known", sut.Sources[0].Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_RestartWhileTheUrlFails_UsesTheCachedLastGoodCopy()
    {
        await using var server = await CalendarServer.StartAsync();
        server.Body = Calendars.Crlf(Calendars.WeekendFreeze);
        var settings = new Dictionary<string, string?>
        {
            ["ShipBot:Freezes:Calendars:0:Url"] = server.Url.ToString(),
            ["ShipBot:Freezes:CacheDirectory"] = Path.Combine(_folder, "cache"),
        };
        await using (var first = CreateSut(settings, server))
        {
            await first.GetRequiredService<FreezeCalendarService>().RefreshAllAsync();
        }

        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(_folder, "cache")), f => f.Contains("s3cret", StringComparison.Ordinal));
        server.Body = null;
        await using var second = CreateSut(settings, server);
        var sut = second.GetRequiredService<FreezeCalendarService>();
        await sut.RefreshAllAsync();

        Assert.Single(sut.ActiveAt("checkout", Saturday));
        Assert.True(sut.Sources[0].IsLoaded);
        Assert.Equal("HTTP 503 Service Unavailable", sut.Sources[0].LastError);
    }

    [Fact]
    public async Task Refresher_IntervalPassed_ReadsTheChangedFile()
    {
        var path = WriteFile("company.ics", Calendars.Holidays());
        await using var provider = CreateSut(new() { ["ShipBot:Freezes:Calendars:0:Path"] = path });
        var hosted = provider.GetServices<IHostedService>().OfType<FreezeCalendarRefresher>().Single();
        var calendar = provider.GetRequiredService<IFreezeCalendar>();
        await hosted.StartAsync(CancellationToken.None);
        try
        {
            Assert.Empty(calendar.ActiveAt("checkout", Saturday));
            File.WriteAllText(path, Calendars.Crlf(Calendars.WeekendFreeze));

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (calendar.ActiveAt("checkout", Saturday).Count == 0 && DateTime.UtcNow < deadline)
            {
                _time.Advance(TimeSpan.FromMinutes(1));
                await Task.Delay(20);
            }

            Assert.Single(calendar.ActiveAt("checkout", Saturday));
        }
        finally
        {
            await hosted.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Refresh_MissingFile_SaysWhichFile()
    {
        var path = WriteFile("company.ics", Calendars.WeekendFreeze);
        await using var provider = CreateSut(new() { ["ShipBot:Freezes:Calendars:0:Path"] = path });
        var sut = provider.GetRequiredService<FreezeCalendarService>();
        await sut.RefreshAllAsync();
        File.Delete(path);

        await sut.RefreshAllAsync();

        Assert.Contains("company.ics", sut.Sources[0].LastError, StringComparison.Ordinal);
        Assert.Single(sut.ActiveAt("checkout", Saturday));
    }

    [Fact]
    public void Options_BadCalendars_FailStartUpNamingTheKeys()
    {
        using var provider = CreateSut(new()
        {
            ["ShipBot:Freezes:Calendars:0:Url"] = "http://calendar.example.com/freeze.ics",
            ["ShipBot:Freezes:Calendars:1:Path"] = Path.Combine(_folder, "missing.ics"),
            ["ShipBot:Freezes:Calendars:2:Path"] = WriteFile("a.ics", Calendars.WeekendFreeze),
            ["ShipBot:Freezes:Calendars:2:Url"] = "https://calendar.example.com/a.ics",
            ["ShipBot:Services:checkout:Freezes:Calendars:0:Path"] = WriteFile("b.ics", Calendars.WeekendFreeze),
            ["ShipBot:Services:checkout:Freezes:Calendars:0:TimeZone"] = "Mars/Olympus_Mons",
            ["ShipBot:Freezes:RefreshInterval"] = "00:00:01",
        });

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FreezeOptions>>().Value);

        Assert.Contains(e.Failures, f => f.StartsWith("ShipBot:Freezes:Calendars:0:Url 'http://calendar.example.com/freeze.ics' must be an absolute https URL", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("ShipBot:Freezes:Calendars:1:Path '", StringComparison.Ordinal) && f.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("ShipBot:Freezes:Calendars:2: set exactly one of Path", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("ShipBot:Services:checkout:Freezes:Calendars:0:TimeZone 'Mars/Olympus_Mons'", StringComparison.Ordinal));
        Assert.Contains("ShipBot:Freezes:RefreshInterval must be at least 10 seconds.", e.Failures);
    }

    [Theory]
    [InlineData("https://calendar.example.com/a.ics", true)]
    [InlineData("http://127.0.0.1:8080/a.ics", true)]
    [InlineData("http://localhost/a.ics", true)]
    [InlineData("http://[::1]/a.ics", true)]
    [InlineData("http://calendar.example.com/a.ics", false)]
    [InlineData("ftp://calendar.example.com/a.ics", false)]
    public void IsAllowedUrl_HttpsOrLoopback(string url, bool allowed)
    {
        Assert.Equal(allowed, FreezeOptionsValidator.IsAllowedUrl(new Uri(url)));
    }

    [Fact]
    public void Options_SameNameTwiceInOneScope_IsRefused()
    {
        var options = new FreezeOptions
        {
            Calendars = [new() { Path = WriteFile("x.ics", Calendars.WeekendFreeze) }, new() { Name = "X", Path = WriteFile("y.ics", Calendars.WeekendFreeze) }],
        };

        var result = new FreezeOptionsValidator().Validate(null, options);

        Assert.Contains(result.Failures!, f => f.Contains("have the same name", StringComparison.Ordinal));
    }
}
