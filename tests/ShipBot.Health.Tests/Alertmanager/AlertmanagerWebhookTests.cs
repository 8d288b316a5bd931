using System.Text;
using System.Text.Json.Nodes;
using ShipBot.Health.Alertmanager;

namespace ShipBot.Health.Tests.Alertmanager;

public sealed class AlertmanagerWebhookTests
{
    private const string Token = "am-token-0123456789abcdef";

    // ------------------------------------------------------------------ Parse

    [Fact]
    public void Parse_FiringCriticalPayload_ReadsEveryDocumentedAlertField()
    {
        var alerts = AlertmanagerWebhook.Parse(JsonNode.Parse(AlertmanagerPayloads.FiringCritical));

        var alert = Assert.Single(Assert.IsAssignableFrom<IReadOnlyList<AlertmanagerAlert>>(alerts));
        Assert.True(alert.IsFiring);
        Assert.Equal("firing", alert.Status);
        Assert.Equal("HighErrorRate", alert.Name);
        Assert.Equal("demo", alert.Labels["service"]);
        Assert.Equal("critical", alert.Labels["severity"]);
        Assert.Equal("demo-7d9f8-abcde:8080", alert.Labels["instance"]);
        Assert.Equal("demo error rate above 5 %", alert.Summary);
        Assert.Equal("demo is answering 5xx to 12 % of requests.", alert.Annotations["description"]);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 15, 30, 123, TimeSpan.Zero), alert.StartsAt);
        Assert.Equal("1a30ba71cca2921f", alert.Fingerprint);
        Assert.Equal($"1a30ba71cca2921f:{alert.StartsAt.ToUnixTimeMilliseconds()}", alert.DedupKey);
    }

    [Fact]
    public void Parse_ResolvedPayload_IsNotFiring()
    {
        var alerts = AlertmanagerWebhook.Parse(JsonNode.Parse(AlertmanagerPayloads.Resolved));

        var alert = Assert.Single(alerts!);
        Assert.False(alert.IsFiring);
        Assert.Equal("resolved", alert.Status);
    }

    [Fact]
    public void Parse_ResolvedNotificationOfAFiring_HasTheSameDedupKeyAsTheFiring()
    {
        var firing = Assert.Single(AlertmanagerWebhook.Parse(JsonNode.Parse(AlertmanagerPayloads.FiringCritical))!);
        var resolved = Assert.Single(AlertmanagerWebhook.Parse(JsonNode.Parse(AlertmanagerPayloads.Resolved))!);

        Assert.Equal(firing.DedupKey, resolved.DedupKey);
    }

    [Fact]
    public void Parse_OlderAlertmanagerWithoutFingerprints_ComputesStableDistinctFingerprints()
    {
        var first = AlertmanagerWebhook.Parse(JsonNode.Parse(AlertmanagerPayloads.MixedGroupWithoutFingerprints))!;
        var again = AlertmanagerWebhook.Parse(JsonNode.Parse(AlertmanagerPayloads.MixedGroupWithoutFingerprints))!;

        Assert.Equal(2, first.Count);
        Assert.True(first[0].IsFiring);
        Assert.False(first[1].IsFiring);
        Assert.All(first, a => Assert.Matches("^[0-9a-f]{16}$", a.Fingerprint));
        Assert.NotEqual(first[0].Fingerprint, first[1].Fingerprint);
        Assert.Equal(first.Select(a => a.DedupKey), again.Select(a => a.DedupKey));
    }

    [Fact]
    public void Parse_NanosecondTimestampWithOffset_IsReadToTheMillisecond()
    {
        var alerts = AlertmanagerWebhook.Parse(JsonNode.Parse(AlertmanagerPayloads.MixedGroupWithoutFingerprints))!;

        var expected = new DateTimeOffset(2018, 8, 3, 7, 52, 26, 739, TimeSpan.Zero);
        Assert.Equal(expected.ToUnixTimeMilliseconds(), alerts[0].StartsAt.ToUnixTimeMilliseconds());
    }

    [Fact]
    public void Parse_NoSummaryAnnotation_FallsBackToDescriptionThenEmpty()
    {
        var alerts = AlertmanagerWebhook.Parse(JsonNode.Parse(AlertmanagerPayloads.MixedGroupWithoutFingerprints))!;

        Assert.Equal("checksum mismatch in 3 rows", alerts[0].Summary);
        Assert.Equal(string.Empty, alerts[1].Summary);
    }

    [Fact]
    public void Parse_DifferentGroupKeySameAlert_KeepsTheDedupKey()
    {
        var original = JsonNode.Parse(AlertmanagerPayloads.FiringCritical)!;
        var regrouped = JsonNode.Parse(AlertmanagerPayloads.FiringCritical)!;
        regrouped["groupKey"] = "{}/{severity=\"critical\"}:{service=\"demo\"}";
        regrouped["groupLabels"] = new JsonObject { ["service"] = "demo" };
        regrouped["receiver"] = "shipbot-by-service";

        Assert.Equal(
            Assert.Single(AlertmanagerWebhook.Parse(original)!).DedupKey,
            Assert.Single(AlertmanagerWebhook.Parse(regrouped)!).DedupKey);
    }

    [Fact]
    public void Parse_SameAlertFiringAgainLater_HasANewDedupKey()
    {
        var first = JsonNode.Parse(AlertmanagerPayloads.FiringCritical)!;
        var later = JsonNode.Parse(AlertmanagerPayloads.FiringCritical)!;
        later["alerts"]![0]!["startsAt"] = "2026-03-01T11:00:00Z";

        Assert.NotEqual(
            Assert.Single(AlertmanagerWebhook.Parse(first)!).DedupKey,
            Assert.Single(AlertmanagerWebhook.Parse(later)!).DedupKey);
    }

    [Fact]
    public void Parse_AlertWithoutAlertnameOrStatus_IsAnUnnamedFiringAlert()
    {
        var body = JsonNode.Parse("""{"version":"4","status":"firing","alerts":[{"labels":{"service":"demo"},"annotations":{}}]}""");

        var alert = Assert.Single(AlertmanagerWebhook.Parse(body)!);

        Assert.True(alert.IsFiring);
        Assert.Equal("unnamed alert", alert.Name);
        Assert.Equal(DateTimeOffset.UnixEpoch, alert.StartsAt);
    }

    [Fact]
    public void Parse_NonObjectEntriesInAlerts_AreSkipped()
    {
        var body = JsonNode.Parse("""{"version":"4","alerts":[1,"x",null,{"status":"firing","labels":{"alertname":"A"}}]}""");

        var alert = Assert.Single(AlertmanagerWebhook.Parse(body)!);

        Assert.Equal("A", alert.Name);
    }

    [Fact]
    public void Parse_EmptyAlertsArray_IsAnEmptyList()
    {
        var alerts = AlertmanagerWebhook.Parse(JsonNode.Parse("""{"version":"4","alerts":[]}"""));

        Assert.NotNull(alerts);
        Assert.Empty(alerts);
    }

    [Theory]
    [InlineData("""{"version":"3","alerts":[]}""")]
    [InlineData("""{"version":"5","alerts":[]}""")]
    [InlineData("""{"alerts":[]}""")]
    [InlineData("""{"version":"4"}""")]
    [InlineData("""{"version":"4","alerts":{}}""")]
    [InlineData("""[{"version":"4","alerts":[]}]""")]
    [InlineData("\"version 4\"")]
    public void Parse_NotAVersion4Payload_ReturnsNull(string json)
    {
        Assert.Null(AlertmanagerWebhook.Parse(JsonNode.Parse(json)));
    }

    [Fact]
    public void Parse_Null_ReturnsNull()
    {
        Assert.Null(AlertmanagerWebhook.Parse(null));
    }

    [Fact]
    public void Parse_NumericVersion_ReturnsNullInsteadOfThrowing()
    {
        var body = JsonNode.Parse("""{"version":4,"alerts":[]}""");

        var alerts = AlertmanagerWebhook.Parse(body);

        Assert.Null(alerts);
    }

    [Fact]
    public void Parse_NonStringAlertFields_DoNotThrow()
    {
        var body = JsonNode.Parse("""{"version":"4","alerts":[{"status":1,"labels":{"alertname":"A"},"startsAt":0,"fingerprint":7}]}""");

        var exception = Record.Exception(() => AlertmanagerWebhook.Parse(body));

        Assert.Null(exception);
    }

    // ------------------------------------------------------------------ IsAuthorized

    [Theory]
    [InlineData("Bearer " + Token)]
    [InlineData("bearer " + Token)]
    [InlineData("BEARER  " + Token + " ")]
    public void IsAuthorized_TheBearerToken_IsAccepted(string header)
    {
        Assert.True(AlertmanagerWebhook.IsAuthorized(new AlertmanagerOptions { BearerToken = Token }, header));
    }

    [Theory]
    [InlineData("Bearer am-token-0123456789abcdeF")]
    [InlineData("Bearer " + Token + "x")]
    [InlineData("Bearer am-token-0123456789abcde")]
    [InlineData("Bearer ")]
    [InlineData("Bearer")]
    [InlineData(Token)]
    [InlineData("Token " + Token)]
    public void IsAuthorized_WrongOrMalformedBearer_IsRefused(string header)
    {
        Assert.False(AlertmanagerWebhook.IsAuthorized(new AlertmanagerOptions { BearerToken = Token }, header));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void IsAuthorized_MissingHeader_IsRefused(string? header)
    {
        Assert.False(AlertmanagerWebhook.IsAuthorized(new AlertmanagerOptions { BearerToken = Token, Username = "am", Password = "s3cret" }, header));
    }

    [Fact]
    public void IsAuthorized_BasicCredentials_AreAccepted()
    {
        var options = new AlertmanagerOptions { Username = "alertmanager", Password = "pa:ss word" };

        Assert.True(AlertmanagerWebhook.IsAuthorized(options, Basic("alertmanager", "pa:ss word")));
        Assert.True(AlertmanagerWebhook.IsAuthorized(options, "basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("alertmanager:pa:ss word"))));
    }

    [Theory]
    [InlineData("alertmanager", "wrong")]
    [InlineData("someone", "pa:ss word")]
    [InlineData("alertmanager", "")]
    [InlineData("", "")]
    public void IsAuthorized_WrongBasicCredentials_AreRefused(string user, string password)
    {
        var options = new AlertmanagerOptions { Username = "alertmanager", Password = "pa:ss word" };

        Assert.False(AlertmanagerWebhook.IsAuthorized(options, Basic(user, password)));
    }

    [Fact]
    public void IsAuthorized_BasicThatIsNotBase64_IsRefusedWithoutThrowing()
    {
        var options = new AlertmanagerOptions { Username = "alertmanager", Password = "secret" };

        Assert.False(AlertmanagerWebhook.IsAuthorized(options, "Basic not*base64!"));
    }

    [Fact]
    public void IsAuthorized_BasicWhenOnlyABearerTokenIsConfigured_IsRefused()
    {
        var options = new AlertmanagerOptions { BearerToken = Token };

        Assert.False(AlertmanagerWebhook.IsAuthorized(options, Basic("alertmanager", Token)));
        Assert.False(AlertmanagerWebhook.IsAuthorized(options, Basic(string.Empty, string.Empty)));
    }

    [Fact]
    public void IsAuthorized_BearerWhenOnlyBasicIsConfigured_IsRefused()
    {
        var options = new AlertmanagerOptions { Username = "alertmanager", Password = "secret" };

        Assert.False(AlertmanagerWebhook.IsAuthorized(options, "Bearer secret"));
        Assert.False(AlertmanagerWebhook.IsAuthorized(options, "Bearer "));
    }

    [Fact]
    public void IsAuthorized_BothConfigured_AcceptsEither()
    {
        var options = new AlertmanagerOptions { BearerToken = Token, Username = "alertmanager", Password = "secret" };

        Assert.True(AlertmanagerWebhook.IsAuthorized(options, "Bearer " + Token));
        Assert.True(AlertmanagerWebhook.IsAuthorized(options, Basic("alertmanager", "secret")));
        Assert.False(AlertmanagerWebhook.IsAuthorized(options, Basic("alertmanager", Token)));
    }

    [Fact]
    public void IsAuthorized_NothingConfigured_RefusesEverything()
    {
        var options = new AlertmanagerOptions();

        Assert.False(options.IsEnabled);
        Assert.False(AlertmanagerWebhook.IsAuthorized(options, "Bearer "));
        Assert.False(AlertmanagerWebhook.IsAuthorized(options, "Bearer x"));
        Assert.False(AlertmanagerWebhook.IsAuthorized(options, Basic(string.Empty, string.Empty)));
    }

    [Fact]
    public void IsAuthorized_NullOptions_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => AlertmanagerWebhook.IsAuthorized(null!, "Bearer x"));
    }

    // ------------------------------------------------------------------ options

    [Fact]
    public void Options_Defaults_RollBackOnCriticalByServiceLabel()
    {
        var options = new AlertmanagerOptions();

        Assert.Equal(["critical"], options.EffectiveSeverities);
        Assert.Equal("service", options.ServiceLabel);
        Assert.Equal("severity", options.SeverityLabel);
        Assert.Equal("version", options.VersionLabel);
    }

    [Fact]
    public void Options_ConfiguredSeverities_ReplaceTheDefault()
    {
        var options = new AlertmanagerOptions { Severities = ["page", "critical"] };

        Assert.Equal(["page", "critical"], options.EffectiveSeverities);
    }

    [Theory]
    [InlineData(Token, null, null, true)]
    [InlineData(null, "am", "secret", true)]
    [InlineData(null, "am", null, false)]
    [InlineData(null, null, "secret", false)]
    [InlineData("", "", "", false)]
    public void Options_IsEnabled_OnlyWithCredentials(string? token, string? user, string? password, bool enabled)
    {
        Assert.Equal(enabled, new AlertmanagerOptions { BearerToken = token, Username = user, Password = password }.IsEnabled);
    }

    private static string Basic(string user, string password) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
}
