namespace ShipBot.Host;

/// <summary>
/// <c>ShipBot:Flagger</c>: the Flagger gate (<c>POST /hooks/flagger/{gate}</c>). Enabled when
/// <see cref="BearerToken"/> is set; canaries are mapped per service (<see cref="ServiceFlaggerOptions"/>).
/// </summary>
public sealed class FlaggerOptions
{
    /// <summary>The token Flagger's calls carry as <c>Authorization: Bearer …</c> (at least 16 characters). Not set (the default): the gate is off.</summary>
    public string? BearerToken { get; set; }

    /// <summary>Whether the gate is mapped.</summary>
    public bool IsEnabled => !string.IsNullOrEmpty(BearerToken);
}

/// <summary><c>ShipBot:Services:&lt;name&gt;:Flagger</c>: the Flagger canary whose gates this service's releases answer.</summary>
public sealed class ServiceFlaggerOptions
{
    /// <summary>The Canary's namespace. Required.</summary>
    public string? Namespace { get; set; }

    /// <summary>The Canary's name. Required.</summary>
    public string? Canary { get; set; }

    /// <summary>The chat platform of the release card (slack, teams, console). Default: the first configured of slack, teams, console.</summary>
    public string? Platform { get; set; }

    /// <summary>Problems with these settings, each naming its key under <paramref name="key"/>.</summary>
    public IEnumerable<string> Validate(string key)
    {
        if (string.IsNullOrWhiteSpace(Namespace) || string.IsNullOrWhiteSpace(Canary))
        {
            yield return $"{key}: set Namespace and Canary (the Flagger Canary whose gates this service answers).";
        }

        if (Platform is not null && Platform is not ("slack" or "teams" or "console"))
        {
            yield return $"{key}:Platform '{Platform}' is unknown: use slack, teams or console.";
        }
    }
}
