#!/usr/bin/env bash
# Configures and builds Herald into build/ (RelWithDebInfo, warnings as errors).
# Usage: scripts/build.sh [extra cmake args]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cmake -B build -S . -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j"$(nproc)"
