#!/usr/bin/env bash
# One command on a fresh machine: installs what is missing, builds, and starts the demo
# (the sandbox standing in for the providers and for a mail server, the seed's three agents
# and a fourth on its own mail server, a URL to open).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
scripts/build.sh -DHERALD_TESTS=OFF
exec build/herald demo "$@"
