#!/usr/bin/env bash
# Router benchmark (not a test): ShipBot drives a real HAProxy (Debian's haproxy package) with one
# backend per service; measures promotion decision → HAProxy reports the new weights, and breach
# (a firing Alertmanager alert) → traffic back on stable. Options: --services N (20), --rounds N (3).
# Bounded: the run stops after BENCH_TIMEOUT (default 20 minutes). See docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/sbin/haproxy ] || { echo "haproxy is not installed (Debian: apt-get install haproxy)" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build bench/ShipBot.Bench -c Release --nologo -v quiet >&2
timeout --signal=TERM --kill-after=30 "${BENCH_TIMEOUT:-20m}" \
  dotnet run -c Release --no-build --project bench/ShipBot.Bench -- routers "$@"
