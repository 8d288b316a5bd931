#!/usr/bin/env bash
# ShipBot's benchmarks (not tests), against the service levels of docs/benchmarks.md. Starts a private redis-server on a free loopback port
# with a temporary directory and persistence off, runs the benchmark against it, stops it.
# Every option is passed through, for example:
#   bash bench/run.sh                                   # everything (about 18 minutes on 2 cores)
#   bash bench/run.sh --only transitions,store --seconds 3   # sections: transitions, breakdown, ticks, store, calls, recovery, lag
#   bash bench/run.sh --only recovery --releases 10000
#   bash bench/run.sh --only lag --lag-modes real --runs 1
#   bash bench/run.sh slack                             # Slack acknowledgement under load (about 3.5-4 minutes), then ShipBot against Bolt side by side (about 2 minutes), see docs/benchmarks.md
#   SHIPBOT_BENCH_NO_BOLT=1 bash bench/run.sh slack     # without the Bolt comparison
#   bash bench/run.sh slack --stores memory --rates 500 --slack-seconds 10 --runs 1   # a quick look
# The slack mode starts ShipBot (Release build of src/ShipBot.Host) as a separate process and loads it
# from another process: open loop from ShipBot.Bench, closed loop from wrk (Debian: apt-get install wrk;
# without it, ShipBot.Bench's own closed-loop generator is used).
#   bash bench/run.sh breach                            # breach to rollback + evaluation throughput (about 5.5 minutes; not part of the default run)
#   bash bench/run.sh breach --only pushed,polled       # breach sections: pushed, loaded, polled, evals
#   bash bench/run.sh judge                             # canary judges compared on simulated stages (no Redis), see docs/benchmarks.md
#   bash bench/run.sh soak                              # 1,000 concurrent rollouts, mixed chat traffic, 30 min: memory, ack p99, errors; chart in docs/soak.png
#   bash bench/run.sh soak --minutes 10 --rate 20 --rollouts 1000 --sample-seconds 20   # shorter
#   bash bench/run.sh startup                           # start-up with 1,000 to 10,000 configured services (about 2 minutes)
#   bash bench/run.sh startup --startup-host /path/to/another/build   # start that host build instead (to compare versions)
# The report (Markdown) is printed on stdout and kept in a temporary file whose path is shown at the end.
# Bounded: every run is time-boxed, each child process has a 10-minute limit, and the whole
# benchmark is stopped after BENCH_TIMEOUT (default 45 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

# "judge" as the first argument: the canary judge simulation (no Redis; about 30 minutes on 2 cores
# at 10,000 stages per scenario), e.g. bash bench/run.sh judge --stages 2000 --chart docs/benchmarks-judge.png
if [ "${1:-}" = judge ]; then
  shift
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  dotnet build bench/ShipBot.Bench -c Release --nologo -v quiet >&2
  report="$(mktemp -t shipbot-bench-judge-XXXXXX.md)"
  timeout --signal=TERM --kill-after=30 "${BENCH_TIMEOUT:-90m}" \
    dotnet run -c Release --no-build --project bench/ShipBot.Bench -- judge "$@" | tee "$report"
  echo "Report kept in $report" >&2
  exit 0
fi

mode=()
if [ "${1:-}" = slack ]; then
  shift
  mode=(--mode slack)
  command -v wrk >/dev/null 2>&1 || echo "wrk is not installed (Debian: apt-get install -y wrk): the closed loop uses ShipBot.Bench's own generator" >&2
# "breach" as the first argument selects the breach mode (--only breach); a later --only narrows it.
elif [ "${1:-}" = "breach" ]; then
  shift
  set -- --only breach "$@"
elif [ "${1:-}" = "soak" ]; then
  shift
  mode=(--mode soak --chart "$PWD/docs/soak.png")
  export BENCH_TIMEOUT="${BENCH_TIMEOUT:-90m}"
# "startup" as the first argument: binding and host start-up with 10,000 configured services (about 2 minutes).
elif [ "${1:-}" = "startup" ]; then
  shift
  mode=(--mode startup)
fi

command -v redis-server >/dev/null 2>&1 || { echo "redis-server is not installed (Debian: apt-get install redis-server)" >&2; exit 1; }

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
dir="$(mktemp -d -t shipbot-bench-redis-XXXXXX)"
report="$(mktemp -t shipbot-bench-report-XXXXXX.md)"
redis_pid=""
cleanup() {
  if [ -n "$redis_pid" ] && kill -0 "$redis_pid" 2>/dev/null; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
  --protected-mode no --daemonize no --loglevel warning >"$dir/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 100); do
  if redis-cli -p "$port" ping >/dev/null 2>&1; then break; fi
  kill -0 "$redis_pid" 2>/dev/null || { cat "$dir/redis.log" >&2; echo "redis-server did not start" >&2; exit 1; }
  sleep 0.1
done
redis-cli -p "$port" ping >/dev/null

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build bench/ShipBot.Bench -c Release --nologo -v quiet >&2
cmd=(dotnet run -c Release --no-build --project bench/ShipBot.Bench -- --redis "127.0.0.1:$port" "${mode[@]}" "$@")
echo "Running: ${cmd[*]}" >&2
timeout --signal=TERM --kill-after=30 "${BENCH_TIMEOUT:-45m}" "${cmd[@]}" | tee "$report"
# slack: then ShipBot against a Bolt for JavaScript app that only acknowledges, side by side (bench/bolt, BoltComparison.cs).
if [ "${mode[*]}" = "--mode slack" ] && [ -z "${SHIPBOT_BENCH_NO_BOLT:-}" ]; then
  command -v node >/dev/null 2>&1 || { echo "node is not installed (Debian: apt-get install nodejs npm): the Bolt comparison needs it" >&2; exit 1; }
  bolt=(dotnet run -c Release --no-build --project bench/ShipBot.Bench -- --redis "127.0.0.1:$port" --child bolt "$@")
  echo "Running: ${bolt[*]}" >&2
  timeout --signal=TERM --kill-after=30 "${BENCH_TIMEOUT:-45m}" "${bolt[@]}" | tee -a "$report"
fi
echo "Report kept in $report" >&2
