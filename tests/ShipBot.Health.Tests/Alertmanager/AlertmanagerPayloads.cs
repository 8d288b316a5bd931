namespace ShipBot.Health.Tests.Alertmanager;

/// <summary>
/// Webhook notifications in Alertmanager's documented format (prometheus.io/docs/alerting/latest/configuration/#webhook_config,
/// version "4"): the shape Alertmanager's Go encoder writes, including RFC 3339 timestamps with
/// nanoseconds and a zero <c>endsAt</c> for a firing alert.
/// </summary>
internal static class AlertmanagerPayloads
{
    /// <summary>One firing critical alert about the demo service.</summary>
    public const string FiringCritical = """
        {
          "receiver": "shipbot",
          "status": "firing",
          "alerts": [
            {
              "status": "firing",
              "labels": {
                "alertname": "HighErrorRate",
                "instance": "demo-7d9f8-abcde:8080",
                "job": "demo",
                "service": "demo",
                "severity": "critical"
              },
              "annotations": {
                "description": "demo is answering 5xx to 12 % of requests.",
                "summary": "demo error rate above 5 %"
              },
              "startsAt": "2026-03-01T10:15:30.123Z",
              "endsAt": "0001-01-01T00:00:00Z",
              "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=job%3Ademo%3Aerror_rate+%3E+0.05\u0026g0.tab=1",
              "fingerprint": "1a30ba71cca2921f"
            }
          ],
          "groupLabels": {
            "alertname": "HighErrorRate"
          },
          "commonLabels": {
            "alertname": "HighErrorRate",
            "instance": "demo-7d9f8-abcde:8080",
            "job": "demo",
            "service": "demo",
            "severity": "critical"
          },
          "commonAnnotations": {
            "description": "demo is answering 5xx to 12 % of requests.",
            "summary": "demo error rate above 5 %"
          },
          "externalURL": "http://alertmanager.example.org:9093",
          "version": "4",
          "groupKey": "{}/{severity=\"critical\"}:{alertname=\"HighErrorRate\"}",
          "truncatedAlerts": 0
        }
        """;

    /// <summary>The same alert, resolved (Alertmanager sends this when send_resolved is true).</summary>
    public const string Resolved = """
        {
          "receiver": "shipbot",
          "status": "resolved",
          "alerts": [
            {
              "status": "resolved",
              "labels": {
                "alertname": "HighErrorRate",
                "service": "demo",
                "severity": "critical"
              },
              "annotations": {
                "summary": "demo error rate above 5 %"
              },
              "startsAt": "2026-03-01T10:15:30.123Z",
              "endsAt": "2026-03-01T10:25:30.123Z",
              "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=job%3Ademo%3Aerror_rate+%3E+0.05\u0026g0.tab=1",
              "fingerprint": "1a30ba71cca2921f"
            }
          ],
          "groupLabels": { "alertname": "HighErrorRate" },
          "commonLabels": { "alertname": "HighErrorRate", "service": "demo", "severity": "critical" },
          "commonAnnotations": { "summary": "demo error rate above 5 %" },
          "externalURL": "http://alertmanager.example.org:9093",
          "version": "4",
          "groupKey": "{}/{severity=\"critical\"}:{alertname=\"HighErrorRate\"}",
          "truncatedAlerts": 0
        }
        """;

    /// <summary>
    /// A group of two alerts, one firing and one resolved, from an Alertmanager older than 0.19
    /// (no fingerprint, no truncatedAlerts) with nanosecond timestamps and a +02:00 offset.
    /// </summary>
    public const string MixedGroupWithoutFingerprints = """
        {
          "receiver": "webhook",
          "status": "firing",
          "alerts": [
            {
              "status": "firing",
              "labels": {
                "alertname": "DataIntegrity",
                "dc": "eu-west-1",
                "instance": "localhost:9090",
                "job": "prometheus24",
                "service": "ledger",
                "severity": "critical"
              },
              "annotations": {
                "description": "checksum mismatch in 3 rows"
              },
              "startsAt": "2018-08-03T09:52:26.739266876+02:00",
              "endsAt": "0001-01-01T00:00:00Z",
              "generatorURL": "http://example.com:9090/graph?g0.expr=go_memstats_alloc_bytes+%3E+0\u0026g0.tab=1"
            },
            {
              "status": "resolved",
              "labels": {
                "alertname": "DataIntegrity",
                "dc": "eu-west-1",
                "instance": "localhost:9091",
                "job": "prometheus24",
                "service": "ledger",
                "severity": "critical"
              },
              "annotations": {},
              "startsAt": "2018-08-03T09:40:26.739266876+02:00",
              "endsAt": "2018-08-03T09:50:26.739266876+02:00",
              "generatorURL": "http://example.com:9090/graph?g0.expr=go_memstats_alloc_bytes+%3E+0\u0026g0.tab=1"
            }
          ],
          "groupLabels": {
            "alertname": "DataIntegrity",
            "job": "prometheus24"
          },
          "commonLabels": {
            "alertname": "DataIntegrity",
            "dc": "eu-west-1",
            "job": "prometheus24",
            "service": "ledger",
            "severity": "critical"
          },
          "commonAnnotations": {},
          "externalURL": "http://example.com:9093",
          "version": "4",
          "groupKey": "{}:{alertname=\"DataIntegrity\", job=\"prometheus24\"}"
        }
        """;
}
