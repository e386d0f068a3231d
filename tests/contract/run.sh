#!/usr/bin/env bash
# Runs the provider contract tests: starts Prism mocks of the official provider specs on
# free ports, runs the contract_tests binary against them, and stops the mocks (by PID)
# however the run ends.
#
#   tests/contract/run.sh build/contract_tests [gtest args…]
#
# Needs Prism from tests/node (cd tests/node && npm install). The specs are read from
# $HERALD_PROVIDER_SPECS, by default the provider-specs folder beside the repository's
# parent (…/shared/provider-specs).
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 <contract_tests binary> [gtest args…]" >&2
  exit 2
fi
binary=$(realpath "$1")
shift

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
specs=${HERALD_PROVIDER_SPECS:-$(cd "$root/.." && pwd)/shared/provider-specs}
prism="$root/tests/node/node_modules/.bin/prism"

if [[ ! -x "$prism" ]]; then
  echo "Prism is not installed: cd $root/tests/node && npm install" >&2
  exit 1
fi
if [[ ! -d "$specs" ]]; then
  echo "provider specs not found at $specs (set HERALD_PROVIDER_SPECS)" >&2
  exit 1
fi

logs=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$logs"
}
trap cleanup EXIT INT TERM

# A port nothing listens on right now (the kernel picks it).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts one mock; prints its base URL.
start_mock() {
  local name=$1 spec=$2 port
  port=$(free_port)
  "$prism" mock --host 127.0.0.1 --port "$port" "$spec" >"$logs/$name.log" 2>&1 &
  pids+=($!)
  echo "http://127.0.0.1:$port"
}

# Waits until a mock answers HTTP at all (Twilio's 1.8 MB spec takes seconds to load).
wait_for() {
  local name=$1 url=$2 deadline=$((SECONDS + 90))
  until curl -s -o /dev/null --max-time 2 "$url/"; do
    if ((SECONDS > deadline)); then
      echo "Prism mock '$name' did not start at $url; its log:" >&2
      cat "$logs/$name.log" >&2
      exit 1
    fi
    sleep 0.3
  done
}

# start_mock runs in this shell (not a subshell) so that its PID lands in pids.
start() {
  local var=$1 name=$2 spec=$3
  start_mock "$name" "$spec" >"$logs/$name.url"
  printf -v "$var" '%s' "$(cat "$logs/$name.url")"
}

start HERALD_PRISM_RESEND_URL resend "$specs/resend/resend.yaml"
start HERALD_PRISM_SENDGRID_URL sendgrid "$specs/sendgrid/tsg_mail_v3.json"
start HERALD_PRISM_SENDGRID_SCOPES_URL sendgrid-scopes "$specs/sendgrid/tsg_scopes_v3.json"
start HERALD_PRISM_SENDGRID_WEBHOOKS_URL sendgrid-webhooks "$specs/sendgrid/tsg_webhooks_v3.json"
start HERALD_PRISM_MAILGUN_URL mailgun "$specs/mailgun/mailgun-openapi.prism.json"
start HERALD_PRISM_TWILIO_URL twilio "$specs/twilio/twilio_api_v2010.json"
export HERALD_PRISM_RESEND_URL HERALD_PRISM_SENDGRID_URL HERALD_PRISM_SENDGRID_SCOPES_URL \
  HERALD_PRISM_SENDGRID_WEBHOOKS_URL HERALD_PRISM_MAILGUN_URL HERALD_PRISM_TWILIO_URL

wait_for resend "$HERALD_PRISM_RESEND_URL"
wait_for sendgrid "$HERALD_PRISM_SENDGRID_URL"
wait_for sendgrid-scopes "$HERALD_PRISM_SENDGRID_SCOPES_URL"
wait_for sendgrid-webhooks "$HERALD_PRISM_SENDGRID_WEBHOOKS_URL"
wait_for mailgun "$HERALD_PRISM_MAILGUN_URL"
wait_for twilio "$HERALD_PRISM_TWILIO_URL"

"$binary" "$@"
