#!/usr/bin/env bash
# Runs every ShipBot test on a fresh machine: installs what the tests need (Debian's chromium for
# the browser test, redis-server for the Redis store and the crash / replica / outage / Cluster tests,
# redis-sentinel for the Sentinel failover test,
# prometheus for the health-gate and metrics tests (and promtool for the alert rules), haproxy for the HAProxy target and its health source, node and npm for the Teams emulator (Microsoft 365 Agents
# Playground) and the adaptivecards card checker — the tests start their own servers on free
# loopback ports, never the system services), then the whole suite, then prints the totals alone on the last line as
# "N passed, N failed[, N skipped]". Exit status: that of `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-sentinel >/dev/null 2>&1 || need+=(redis-sentinel)
[ -x /usr/bin/prometheus ] || need+=(prometheus)
[ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
# curl and jq: the GitHub ship action's script runs in its tests.
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v jq >/dev/null 2>&1 || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing ${need[*]} (Debian packages) for the tests…"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
set +e
dotnet test ShipBot.sln --logger "trx" --results-directory "$results" "$@"
status=$?
set -e

passed=0 failed=0 total=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters="$(grep -o '<Counters [^>]*' "$trx" | head -n 1)"
  value() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$((total + $(value total)))
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed)))
done
skipped=$((total - passed - failed))
if [ "$total" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "No test ran." >&2
  status=1
fi
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
