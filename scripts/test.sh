#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: dependencies, a
# warnings-as-errors build with every test, the same tests under
# ASan+UBSan, and each libFuzzer target for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
fuzz_seconds=${NTPD_FUZZ_SECONDS:-20}
passed=0

# Runs ctest and adds its test count to `passed` (set -e stops on failure).
run_ctest() {
  local log
  log=$(mktemp)
  ctest "$@" 2>&1 | tee "$log" | grep -vE "^ +(Start|[0-9]+/[0-9]+ Test) .*Passed" || true
  local line
  line=$(grep -E "tests passed, 0 tests failed out of [0-9]+" "$log" || true)
  rm -f "$log"
  [ -n "$line" ] || { echo "ctest reported failures"; exit 1; }
  passed=$((passed + ${line##* }))
}

echo "=== interop peers (chrony, ntpsec) from Debian's packages, extracted, never installed"
scripts/fetch-peers.sh build/peers
export NTPD_INTEROP_PEERS="$PWD/build/peers"

echo "=== build (warnings are errors) and test"
cmake -S . -B build -G Ninja -DNTPD_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
run_ctest --test-dir build --output-on-failure -j "$jobs" --timeout 300

echo "=== ASan+UBSan build and test"
cmake -S . -B build-asan -G Ninja -DNTPD_WERROR=ON -DNTPD_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run_ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 600

echo "=== fuzz targets, ${fuzz_seconds}s each"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DNTPD_FUZZ=ON -DNTPD_TESTS=ON >/dev/null
fuzzers=$(cmake --build build-fuzz --target help | sed -n 's/^\(fuzz_[a-z_]*\):.*/\1/p')
cmake --build build-fuzz -j "$jobs" --target $fuzzers
for f in $fuzzers; do
  mkdir -p "build-fuzz/corpus/$f"
  echo "--- $f"
  seeds=()
  [ -d "tests/fuzz/corpus/$f" ] && seeds+=("tests/fuzz/corpus/$f")
  build-fuzz/bin/$f -max_total_time="$fuzz_seconds" -print_final_stats=1 \
    "build-fuzz/corpus/$f" "${seeds[@]}" >"build-fuzz/$f.log" 2>&1 ||
    { tail -40 "build-fuzz/$f.log"; echo "fuzz target $f failed"; exit 1; }
  grep -E "stat::number_of_executed_units|Done" "build-fuzz/$f.log" | tail -2
  passed=$((passed + 1))
done
echo "all test stages passed (unit, system and simulation tests in two builds, plus fuzz targets)"
echo "$passed passed, 0 failed"
