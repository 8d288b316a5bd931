#!/usr/bin/env bash
# The ship action's work: start a ShipBot release (POST /api/releases with an Idempotency-Key, so a
# retried or re-run step creates one release) and wait for it (GET /api/releases/{service}@{version}
# ?wait=<state>&timeout=<s>, a long poll, repeated until the state, an end, or the time limit).
# Needs bash, curl and jq (all on GitHub's hosted runners). Settings come from the environment; see
# action.yml. SHIPBOT_POLL_SECONDS (default 50) and SHIPBOT_RETRY_SECONDS (default 2) tune the
# long poll and the backoff.
set -euo pipefail

error() { echo "::error title=ShipBot::$*" >&2; }
die() { error "$@"; exit 1; }

command -v curl >/dev/null || die "curl is not installed on this runner"
command -v jq >/dev/null || die "jq is not installed on this runner"

base="${SHIPBOT_URL:-}"
base="${base%/}"
[[ "$base" =~ ^https?:// ]] || die "url '${SHIPBOT_URL:-}' is not an http(s) URL: give ShipBot's base URL"
[[ -n "${SHIPBOT_TOKEN:-}" ]] || die "token is empty: pass a ShipBot API token (releases:write) from a secret"
echo "::add-mask::${SHIPBOT_TOKEN}"
service="${SHIPBOT_SERVICE:-}"
[[ -n "$service" ]] || die "service is empty"
version="${SHIPBOT_VERSION:-}"
if [[ -z "$version" && "${GITHUB_REF_TYPE:-}" == "tag" ]]; then
  version="${GITHUB_REF_NAME#v}"
fi
[[ -n "$version" ]] || die "version is empty (and this run is not for a tag to take it from)"

order=(Draft AwaitingApproval Staging Canary EarlyAdopters GeneralAvailability Full Validating Operating Completed)
index_of() {
  local i
  for i in "${!order[@]}"; do
    if [[ "${order[$i],,}" == "${1,,}" ]]; then echo "$i"; return; fi
  done
  echo -1
}

wait_for="${SHIPBOT_WAIT_FOR:-Operating}"
if [[ "${wait_for,,}" != "none" ]]; then
  wanted=$(index_of "$wait_for")
  (( wanted >= 2 )) || die "wait-for '$wait_for' is not a state to wait for: use Staging, Canary, EarlyAdopters, GeneralAvailability, Full, Validating, Operating, Completed or none"
  wait_for="${order[$wanted]}"
fi
timeout_minutes="${SHIPBOT_TIMEOUT_MINUTES:-340}"
[[ "$timeout_minutes" =~ ^[0-9]+$ ]] || die "timeout-minutes '$timeout_minutes' is not a whole number"
poll_seconds="${SHIPBOT_POLL_SECONDS:-50}"
retry_seconds="${SHIPBOT_RETRY_SECONDS:-2}"

run_url=""
if [[ -n "${GITHUB_SERVER_URL:-}" && -n "${GITHUB_REPOSITORY:-}" && -n "${GITHUB_RUN_ID:-}" ]]; then
  run_url="${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}"
fi
key="${SHIPBOT_IDEMPOTENCY_KEY:-}"
if [[ -z "$key" ]]; then
  key="github:${GITHUB_REPOSITORY:-local}:${GITHUB_RUN_ID:-$$}:${service}@${version}"
fi

# One item per line (flags may also be comma-separated), trimmed, empty ones dropped.
lines() { printf '%s\n' "$1" | jq -Rn '[inputs | gsub("^\\s+|\\s+$"; "") | select(length > 0)]'; }
changes=$(lines "${SHIPBOT_CHANGES:-}")
flags=$(lines "$(printf '%s' "${SHIPBOT_FLAGS:-}" | tr ',' '\n')")
pull_requests=$(lines "${SHIPBOT_PULL_REQUESTS:-}")
body=$(jq -n \
  --arg service "$service" --arg version "$version" --argjson changes "$changes" --argjson flags "$flags" \
  --arg commit "${SHIPBOT_COMMIT:-}" --argjson pullRequests "$pull_requests" --arg pipelineRun "$run_url" \
  '{service: $service, version: $version, changes: $changes, flags: $flags,
    commit: (if $commit == "" then null else $commit end), pullRequests: $pullRequests,
    pipelineRun: (if $pipelineRun == "" then null else $pipelineRun end)}')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The token goes to curl in a file, never on its command line.
headers="$work/headers"
( umask 077; printf 'Authorization: Bearer %s\nAccept: application/json\n' "$SHIPBOT_TOKEN" > "$headers" )
response="$work/response"

# call METHOD URL MAX_SECONDS [BODY] → prints the HTTP status (000 when there was no answer).
call() {
  local args=(-sS -o "$response" -w '%{http_code}' -X "$1" -H "@$headers" --max-time "$3")
  if [[ $# -ge 4 ]]; then
    args+=(-H "Content-Type: application/json" -H "Idempotency-Key: $key" --data-binary "$4")
  fi
  curl "${args[@]}" "$2" 2>"$work/curl-error" || true
}

# What a refusal says: problem details (RFC 9457) name the field; otherwise the raw answer.
problem() {
  local text
  text=$(jq -r '[.title, .detail, (.errors // {} | to_entries | map("\(.key): \(.value | if type == "array" then join(", ") else tostring end)") | join("; "))]
         | map(select(. != null and . != "")) | join(" — ")' "$response" 2>/dev/null) || text=""
  if [[ -n "$text" ]]; then echo "$text"; else head -c 500 "$response"; fi
}

transient() { [[ "$1" == 000 || "$1" == 408 || "$1" == 429 || "$1" == 5* ]]; }

# Start the release; the same Idempotency-Key on every attempt makes a retry safe.
status=000
for attempt in 1 2 3 4 5; do
  status=$(call POST "$base/api/releases" 30 "$body")
  transient "$status" || break
  if (( attempt < 5 )); then
    echo "ShipBot answered ${status/#000/no answer ($(cat "$work/curl-error"))}; trying again"
    sleep $(( retry_seconds * attempt ))
  fi
done
case "$status" in
  200|201) ;;
  401|403) die "ShipBot refused the token (HTTP $status): $(problem)" ;;
  *) die "ShipBot did not start the release (HTTP $status): $(problem)" ;;
esac

release=$(jq -r '.name // empty' "$response")
release="${release:-$service@$version}"
state=$(jq -r '.state // "unknown"' "$response")
release_url="$base/api/releases/$release"
report() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    { echo "release=$release"; echo "state=$state"; echo "url=$release_url"; } >> "$GITHUB_OUTPUT"
  fi
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    echo "ShipBot release **$release**: $state ($release_url)" >> "$GITHUB_STEP_SUMMARY"
  fi
}
echo "ShipBot release $release: $state"

if [[ "${wait_for,,}" == "none" ]]; then
  report
  exit 0
fi

deadline=$(( $(date +%s) + timeout_minutes * 60 ))
while :; do
  case "$state" in
    Rejected|Aborted|RolledBack)
      report
      die "$release ended $state before reaching $wait_for: $release_url" ;;
  esac
  reached=$(index_of "$state")
  if (( reached >= wanted )); then
    report
    echo "$release reached $state"
    exit 0
  fi

  now=$(date +%s)
  if (( now >= deadline )); then
    report
    die "$release is still $state after $timeout_minutes min of waiting for $wait_for (it goes on in ShipBot): $release_url"
  fi
  left=$(( deadline - now ))
  poll=$(( left < poll_seconds ? left : poll_seconds ))
  status=$(call GET "$release_url?wait=$wait_for&timeout=$poll" $(( poll + 30 )))
  case "$status" in
    200)
      previous="$state"
      state=$(jq -r '.state // "unknown"' "$response")
      if [[ "$state" != "$previous" ]]; then
        echo "$release: $state"
        if [[ "$state" == Paused || "$state" == Halted ]]; then
          echo "::notice title=ShipBot::$release is $state; it waits for a person in chat"
        fi
      fi ;;
    401|403) die "ShipBot refused the token (HTTP $status): $(problem)" ;;
    404) die "ShipBot has no release $release (HTTP 404)" ;;
    *)
      transient "$status" || die "ShipBot answered HTTP $status while waiting: $(problem)"
      echo "ShipBot answered ${status/#000/no answer}; asking again"
      sleep "$retry_seconds" ;;
  esac
done
