#!/usr/bin/env bash
# Herald's benchmark, one command (issue #4):
#   bench/run.sh [--full] [--recipients N] [--sms-recipients N] [--baseline-messages M]
#                [--providers LIST] [--smtp-connections C] [--keep]
# Builds a Release binary into build-release/, then runs bench/bench.mjs against `herald sandbox`:
# email campaigns via Resend, SendGrid and Mailgun, an SMS campaign via Twilio beside wrk's
# loopback ceiling, the providers' Node SDKs as the baseline, and welcome-email latency; and an
# SMTP campaign to Postfix's smtp-sink beside nodemailer's pooled SMTP transport.
# Prints a table (measured vs target) and writes bench/results/<UTC timestamp>.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

missing=()
command -v node >/dev/null 2>&1 || missing+=("node (Node.js 20)")
command -v wrk >/dev/null 2>&1 || missing+=("wrk")
command -v cmake >/dev/null 2>&1 || missing+=("cmake")
[[ -x /usr/sbin/smtp-sink ]] || command -v smtp-sink >/dev/null 2>&1 || missing+=("smtp-sink (postfix)")
if ((${#missing[@]})); then
  echo "bench/run.sh: not on PATH: ${missing[*]}" >&2
  echo "  install them with: scripts/install-deps.sh --test   (or: apt-get install -y wrk nodejs; postfix as that script does)" >&2
  exit 2
fi
if [[ ! -d tests/node/node_modules/resend || ! -d tests/node/node_modules/twilio || ! -d tests/node/node_modules/nodemailer ]]; then
  echo "bench/run.sh: the providers' Node SDKs or nodemailer are not installed in tests/node/node_modules" >&2
  echo "  install them with: scripts/install-deps.sh --test   (or: cd tests/node && npm install)" >&2
  exit 2
fi

echo "building Release herald into build-release/ …"
cmake -B build-release -S . -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS= >/dev/null
cmake --build build-release -j2 --target herald

HERALD_BIN="$PWD/build-release/herald" exec node bench/bench.mjs "$@"
