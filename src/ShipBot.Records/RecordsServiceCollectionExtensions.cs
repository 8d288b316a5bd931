using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ShipBot.Core.Ports;

namespace ShipBot.Records;

public static class RecordsServiceCollectionExtensions
{
    /// <summary>
    /// Registers release records in git when <c>ShipBot:Records:Repository</c> is set: the options
    /// (validated at start-up, naming the key), <see cref="GitReleaseRecords"/> as an
    /// <see cref="IReleaseObserver"/>, an <see cref="ISignalObserver"/>, the
    /// <see cref="IReleaseRecordsStatus"/> and a hosted worker. Without a repository only a status
    /// that says so is registered. Needs <see cref="IReleaseStore"/>, <see cref="Core.Settings.AccessPolicy"/>
    /// and <see cref="TimeProvider"/>. Returns whether records are enabled.
    /// </summary>
    public static bool AddShipBotRecords(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(GitRecordsOptions.Section);
        services.AddOptions<GitRecordsOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GitRecordsOptions>, GitRecordsOptionsValidator>();
        var settings = section.Get<GitRecordsOptions>() ?? new GitRecordsOptions();
        if (!settings.IsEnabled)
        {
            services.AddSingleton<IReleaseRecordsStatus>(new DisabledRecordsStatus());
            return false;
        }

        services.AddSingleton<GitReleaseRecords>();
        services.AddSingleton<IReleaseObserver>(sp => sp.GetRequiredService<GitReleaseRecords>());
        services.AddSingleton<ISignalObserver>(sp => sp.GetRequiredService<GitReleaseRecords>());
        services.AddSingleton<IReleaseRecordsStatus>(sp => sp.GetRequiredService<GitReleaseRecords>());
        services.AddHostedService(sp => sp.GetRequiredService<GitReleaseRecords>());
        return true;
    }

    private sealed class DisabledRecordsStatus : IReleaseRecordsStatus
    {
        public RecordsStatus Current => RecordsStatus.Disabled;
    }
}
