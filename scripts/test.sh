#!/usr/bin/env bash
# One command on a fresh machine: installs what is missing, builds, and runs every test:
#   1. the normal build's unit, integration and end-to-end tests (ctest);
#   2. the same tests under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. provider requests validated by Prism against the providers' official OpenAPI specs;
#   4. the providers' official Node SDKs against the sandbox;
#   5. the dashboard in headless Chromium (playwright-core), with axe-core accessibility scans;
#   6. clang-format on every C++ file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
step() { printf '\n==== %s ====\n' "$*"; }

step "install dependencies"
scripts/install-deps.sh --test

step "build (RelWithDebInfo, -Werror)"
scripts/build.sh
step "tests"
(cd build && ctest --output-on-failure --timeout 600)

step "build (ASan + UBSan)"
cmake -B build-asan -S . -DCMAKE_BUILD_TYPE=Debug -DHERALD_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
step "tests under sanitizers"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure --timeout 900)

if [[ -x tests/contract/run.sh ]]; then
  step "provider contracts (Prism, official OpenAPI specs)"
  tests/contract/run.sh "$root/build/contract_tests"
fi

if compgen -G "tests/node/*.test.mjs" >/dev/null; then
  step "official provider SDKs against the sandbox"
  HERALD_BIN="$root/build/herald" node --test tests/node/*.test.mjs
fi

if compgen -G "tests/browser/*.test.mjs" >/dev/null; then
  step "dashboard in a real browser (Chromium + playwright-core + axe-core)"
  HERALD_BIN="$root/build/herald" node --test tests/browser/*.test.mjs
fi

step "clang-format"
files=$(git ls-files '*.cpp' '*.h')
if ! clang-format --dry-run --Werror $files; then
  echo "clang-format: run 'clang-format -i' on the files above"; exit 1
fi
echo; echo "all tests passed"
