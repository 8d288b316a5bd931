using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ShipBot.Core.Ports;

namespace ShipBot.Freezes;

public static class FreezeServiceCollectionExtensions
{
    /// <summary>
    /// Registers the freeze calendars: <see cref="IFreezeCalendar"/> (always; with no calendar
    /// configured nothing is ever frozen), its options from <c>ShipBot:Freezes</c> and
    /// <c>ShipBot:Services:&lt;name&gt;:Freezes:Calendars</c> validated at start-up, the
    /// <see cref="HttpClient"/> for calendar URLs, and the hosted refresher. Needs a
    /// <see cref="TimeProvider"/> registered.
    /// </summary>
    public static IServiceCollection AddShipBotFreezes(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<FreezeOptions>()
            .Configure(o => Bind(configuration, o))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<FreezeOptions>, FreezeOptionsValidator>();
        services.AddHttpClient(FreezeCalendarService.HttpClientName, (sp, client) =>
        {
            client.Timeout = Timeout.InfiniteTimeSpan; // each read has its own deadline (FreezeOptions.Timeout)
            client.DefaultRequestHeaders.UserAgent.ParseAdd("ShipBot-Freezes/1");
        });
        services.AddSingleton<FreezeCalendarService>();
        services.AddSingleton<IFreezeCalendar>(sp => sp.GetRequiredService<FreezeCalendarService>());
        services.AddHostedService<FreezeCalendarRefresher>();
        return services;
    }

    /// <summary>Binds <c>ShipBot:Freezes</c> and collects every service's <c>Freezes:Calendars</c>.</summary>
    public static void Bind(IConfiguration configuration, FreezeOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        configuration.GetSection(FreezeOptions.Section).Bind(options);
        foreach (var service in configuration.GetSection("ShipBot:Services").GetChildren())
        {
            var calendars = service.GetSection("Freezes:Calendars");
            if (calendars.Exists())
            {
                options.ServiceCalendars[service.Key] = calendars.Get<List<FreezeCalendarOptions>>() ?? [];
            }
        }
    }
}
