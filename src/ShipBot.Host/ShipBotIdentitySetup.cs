using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using ShipBot.Coordinator.Identity;
using ShipBot.Core.Ports;
using ShipBot.Core.Settings;
using ShipBot.Http;
using ShipBot.Identity;
using ShipBot.InMemory;
using ShipBot.Redis;
using StackExchange.Redis;

namespace ShipBot.Host;

/// <summary>What start-up knows before the options are validated: whether a chat platform is on, where Kestrel listens, the console mode in force.</summary>
public sealed record IdentityStartupFacts(bool ChatPlatformOn, IReadOnlyList<string> Addresses, ConsoleMode Mode, bool ModeIsExplicit);

/// <summary>
/// Identity on every surface, composed: console mode, sign-in, API tokens and their store, the
/// limits after identity, data protection keys (in Redis when configured, so every replica reads
/// every session and antiforgery token), HTTPS from a configured certificate with HSTS, and
/// forwarded headers from trusted proxies.
/// </summary>
public static partial class ShipBotIdentitySetup
{
    /// <summary>Registers everything; returns the console mode in force.</summary>
    public static ConsoleMode AddShipBotIdentityAndLimits(this WebApplicationBuilder builder, bool chatPlatformOn, string? redis)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var services = builder.Services;
        var console = configuration.GetSection(ConsoleOptions.Section).Get<ConsoleOptions>() ?? new ConsoleOptions();
        var mode = console.Effective(chatPlatformOn);
        services.AddSingleton(new IdentityStartupFacts(chatPlatformOn, ListeningAddresses.From(configuration), mode, console.Mode is not null));
        services.AddOptions<ConsoleOptions>().BindConfiguration(ConsoleOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConsoleOptions>, IdentityOptionsValidator>();
        services.AddOptions<InboundLimitOptions>().BindConfiguration(InboundLimitOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<InboundLimitOptions>, IdentityOptionsValidator>();
        services.AddOptions<HttpsSettings>().BindConfiguration(HttpsSettings.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HttpsSettings>, IdentityOptionsValidator>();
        services.AddOptions<ForwardedHeadersSettings>().BindConfiguration(ForwardedHeadersSettings.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ForwardedHeadersSettings>, IdentityOptionsValidator>();

        if (string.IsNullOrWhiteSpace(redis))
        {
            services.AddSingleton<ITokenStore, InMemoryTokenStore>();
        }
        else
        {
            services.AddSingleton<ITokenStore>(sp => new RedisTokenStore(
                sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<IOptions<ShipBotOptions>>().Value.Redis, sp.GetRequiredService<TimeProvider>()));

            // Sessions and antiforgery tokens are sealed with these keys: every replica must share them.
            services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((o, sp) => o.XmlRepository = new RedisXmlRepository(
                () => sp.GetRequiredService<IConnectionMultiplexer>().GetDatabase(),
                new RedisKeys(sp.GetRequiredService<IOptions<ShipBotOptions>>().Value.Redis.KeyPrefix).DataProtectionKeys));
        }

        services.AddDataProtection().SetApplicationName("ShipBot");
        services.AddSingleton<ApiTokenService>();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ShipBotOptions>>().Value;
            var users = options.Users.Select(u => new KnownUser(u.Key, u.Value.Name, u.Value.Groups)).ToList();
            return new SignedInActorMapper(users, SignedInActorMapper.NamedIds(sp.GetRequiredService<AccessPolicy>()), console.SignIn.GroupsClaim);
        });
        services.AddShipBotIdentity(mode, console.SignIn);

        // Endpoints that bind JSON (console, API) get the same bound from Kestrel: 413 as the body is read, before any filter runs.
        var limits = configuration.GetSection(InboundLimitOptions.Section).Get<InboundLimitOptions>() ?? new InboundLimitOptions();
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = Math.Max(1024, limits.MaxBodyBytes));

        var https = configuration.GetSection(HttpsSettings.Section).Get<HttpsSettings>() ?? new HttpsSettings();
        if (https.IsEnabled)
        {
            builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(h => h.ServerCertificate = LoadCertificate(https)));
            services.AddHsts(o => o.MaxAge = https.HstsMaxAge);
        }

        var forwarded = configuration.GetSection(ForwardedHeadersSettings.Section).Get<ForwardedHeadersSettings>() ?? new ForwardedHeadersSettings();
        if (forwarded.IsEnabled)
        {
            services.Configure<ForwardedHeadersOptions>(o =>
            {
                o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
                o.KnownProxies.Clear();
                o.KnownIPNetworks.Clear();
                foreach (var proxy in forwarded.KnownProxies)
                {
                    o.KnownProxies.Add(IPAddress.Parse(proxy));
                }

                foreach (var network in forwarded.KnownNetworks)
                {
                    o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
                }
            });
        }

        return mode;
    }

    /// <summary>The middleware, in order: forwarded headers, HSTS, authentication (it answers the OpenID Connect callback).</summary>
    public static void UseShipBotIdentity(this WebApplication app, ILogger startup)
    {
        ArgumentNullException.ThrowIfNull(app);
        var facts = app.Services.GetRequiredService<IdentityStartupFacts>();
        if (app.Services.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value.IsEnabled)
        {
            app.UseForwardedHeaders();
        }

        if (app.Services.GetRequiredService<IOptions<HttpsSettings>>().Value.IsEnabled)
        {
            app.UseHsts();
        }

        app.UseAuthentication();
        switch (facts.Mode)
        {
            case ConsoleMode.Demo:
                LogDemo(startup);
                break;
            case ConsoleMode.SignIn:
                LogSignIn(startup, app.Services.GetRequiredService<IOptions<ConsoleOptions>>().Value.SignIn.Authority?.GetLeftPart(UriPartial.Authority) ?? "?");
                break;
            default:
                LogOff(startup, facts.ModeIsExplicit ? "ShipBot:Console:Mode is Off" : "Slack or Teams is on and no sign-in is configured (ShipBot:Console:SignIn)");
                break;
        }
    }

    /// <summary>The configured certificate (PKCS#12, or PEM certificate and key).</summary>
    public static X509Certificate2 LoadCertificate(HttpsSettings https)
    {
        ArgumentNullException.ThrowIfNull(https);
        var path = https.CertificatePath!;
        if (!string.IsNullOrWhiteSpace(https.KeyPath))
        {
            return string.IsNullOrEmpty(https.CertificatePassword)
                ? X509Certificate2.CreateFromPemFile(path, https.KeyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(path, https.CertificatePassword, https.KeyPath);
        }

        return X509CertificateLoader.LoadPkcs12FromFile(path, https.CertificatePassword);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console in Demo mode on loopback: anyone on this machine may act as any configured user, and the release API is open. Configure ShipBot:Console:SignIn for people, or set ShipBot:Console:Mode to Off.")]
    private static partial void LogDemo(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Console sign-in through the OpenID Connect provider at {Authority}")]
    private static partial void LogSignIn(ILogger logger, string authority);

    [LoggerMessage(Level = LogLevel.Information, Message = "Console off: {Why}. The release API answers API tokens only.")]
    private static partial void LogOff(ILogger logger, string why);
}

/// <summary>Start-up validation of the identity settings, each message naming its key.</summary>
public sealed class IdentityOptionsValidator(IdentityStartupFacts facts) :
    IValidateOptions<ConsoleOptions>, IValidateOptions<InboundLimitOptions>, IValidateOptions<HttpsSettings>, IValidateOptions<ForwardedHeadersSettings>
{
    public ValidateOptionsResult Validate(string? name, ConsoleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var mode = options.Effective(facts.ChatPlatformOn);
        var demoNote = options.Mode is null ? "Demo (the default when nothing else is configured)" : "Demo";
        if (mode == ConsoleMode.Demo)
        {
            if (facts.ChatPlatformOn)
            {
                errors.Add($"ShipBot:Console:Mode is {demoNote}, but Slack or Teams is configured, and in Demo mode anyone who reaches the console acts as anyone: set ShipBot:Console:Mode to SignIn (with ShipBot:Console:SignIn) or Off.");
            }
            else if (options.SignIn.IsConfigured)
            {
                errors.Add("ShipBot:Console:Mode is Demo, but ShipBot:Console:SignIn is configured: set ShipBot:Console:Mode to SignIn.");
            }
            else if (facts.Addresses.FirstOrDefault(a => !ListeningAddresses.IsLoopback(a)) is { } open)
            {
                errors.Add($"ShipBot:Console:Mode is {demoNote}, but ShipBot listens on {open}, which is not loopback, and in Demo mode anyone who reaches the console acts as anyone: listen on 127.0.0.1 only, or set ShipBot:Console:Mode to SignIn (with ShipBot:Console:SignIn) or Off.");
            }
        }

        if (mode == ConsoleMode.SignIn)
        {
            var signIn = options.SignIn;
            if (!signIn.IsConfigured)
            {
                errors.Add("ShipBot:Console:Mode is SignIn, but ShipBot:Console:SignIn:Authority and ShipBot:Console:SignIn:ClientId are not both set.");
            }
            else if (!signIn.Authority!.IsAbsoluteUri || !(signIn.Authority.Scheme == "https" || (signIn.Authority.Scheme == "http" && ShipBotIdentityServiceCollectionExtensions.IsLoopback(signIn.Authority))))
            {
                errors.Add($"ShipBot:Console:SignIn:Authority '{signIn.Authority}' must be an absolute https URL (http only on loopback).");
            }

            if (signIn.SessionLifetime <= TimeSpan.Zero)
            {
                errors.Add("ShipBot:Console:SignIn:SessionLifetime must be positive.");
            }

            if (!signIn.CallbackPath.StartsWith('/'))
            {
                errors.Add("ShipBot:Console:SignIn:CallbackPath must start with '/'.");
            }

            if (!signIn.EffectiveScopes.Contains("openid"))
            {
                errors.Add("ShipBot:Console:SignIn:Scopes must include openid.");
            }
        }

        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, InboundLimitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Result([.. options.Validate()]);
    }

    public ValidateOptionsResult Validate(string? name, HttpsSettings options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.IsEnabled)
        {
            if (!File.Exists(options.CertificatePath))
            {
                errors.Add($"ShipBot:Https:CertificatePath '{options.CertificatePath}' does not exist.");
            }
            else if (!string.IsNullOrWhiteSpace(options.KeyPath) && !File.Exists(options.KeyPath))
            {
                errors.Add($"ShipBot:Https:KeyPath '{options.KeyPath}' does not exist.");
            }
            else
            {
                try
                {
                    using var certificate = ShipBotIdentitySetup.LoadCertificate(options);
                    if (!certificate.HasPrivateKey)
                    {
                        errors.Add("ShipBot:Https:CertificatePath has no private key: use a PKCS#12 file with its key, or set ShipBot:Https:KeyPath.");
                    }
                }
                catch (System.Security.Cryptography.CryptographicException ex)
                {
                    errors.Add($"ShipBot:Https:CertificatePath could not be read ({ex.Message}): check the file, ShipBot:Https:KeyPath and ShipBot:Https:CertificatePassword.");
                }
            }

            if (!facts.Addresses.Any(ListeningAddresses.IsHttps))
            {
                errors.Add($"ShipBot:Https:CertificatePath is set, but no address in Urls is https:// (listening on {string.Join(", ", facts.Addresses)}).");
            }
        }

        if (options.HstsMaxAge < TimeSpan.Zero)
        {
            errors.Add("ShipBot:Https:HstsMaxAge must not be negative.");
        }

        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, ForwardedHeadersSettings options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        errors.AddRange(options.KnownProxies.Where(p => !IPAddress.TryParse(p, out _)).Select(p => $"ShipBot:ForwardedHeaders:KnownProxies: '{p}' is not an IP address."));
        errors.AddRange(options.KnownNetworks.Where(n => !System.Net.IPNetwork.TryParse(n, out _)).Select(n => $"ShipBot:ForwardedHeaders:KnownNetworks: '{n}' is not a network in CIDR notation (10.0.0.0/8)."));
        return Result(errors);
    }

    private static ValidateOptionsResult Result(List<string> errors) => errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
}
