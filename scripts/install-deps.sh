#!/usr/bin/env bash
# Installs the Debian packages Herald builds and tests with, only those missing.
# Usage: scripts/install-deps.sh [--test]   (--test adds PostgreSQL, Chromium, wrk, Postfix's
# smtp-sink, Node test tools)
set -euo pipefail

build_pkgs=(
  g++ cmake make pkg-config clang-format
  libboost-dev libcurl4-openssl-dev libssl-dev
  libsqlite3-dev sqlite3 libpq-dev libpqxx-dev
  libsodium-dev libgmime-3.0-dev nlohmann-json3-dev rapidjson-dev libsimdjson-dev libkainjow-mustache-dev
  libmimalloc-dev
  libphonenumber-dev libprotobuf-dev libicu-dev
  libcli11-dev libspdlog-dev libfmt-dev tzdata
  libgtest-dev libgmock-dev libbenchmark-dev
)
test_pkgs=(postgresql chromium wrk postfix nodejs npm curl ca-certificates openssl python3 python3-aiosmtpd)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  # Skip npm when node already ships it (NodeSource builds bundle npm).
  if [[ "$p" == npm ]] && command -v npm >/dev/null 2>&1; then continue; fi
  if [[ "$p" == nodejs ]] && command -v node >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # postfix is here only for /usr/sbin/smtp-sink (the benchmark's SMTP server). "No
  # configuration" leaves /etc/postfix/main.cf absent, so neither the init script nor the
  # systemd unit (ConditionPathExists=/etc/postfix/main.cf) starts a Postfix daemon: nothing
  # listens on port 25. (Noninteractive, the default answer would be "Internet Site", which
  # writes main.cf and starts the daemon where services may start.) A postfix installed
  # already is not touched.
  if [[ " ${missing[*]} " == *" postfix "* ]]; then
    echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  fi
  $SUDO apt-get update -qq || true
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

if [[ "${1:-}" == "--test" ]]; then
  # Browser and referee tools for tests live in tests/node (playwright-core, axe-core, provider SDKs).
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if [[ -f "$here/tests/node/package.json" ]]; then
    (cd "$here/tests/node" && { [[ -d node_modules ]] && npm ls --depth=0 >/dev/null 2>&1 || npm install --no-audit --no-fund --loglevel=error; })
  fi
fi
