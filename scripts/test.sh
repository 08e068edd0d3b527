#!/usr/bin/env bash
# Second quick-start command, and what CI runs: build with warnings as errors, run the whole suite,
# then build the libFuzzer targets with ASan+UBSan and run each for a bounded time on the seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPEMAP_WERROR=ON -DPEMAP_BUILD_TESTS=ON \
  -DPEMAP_BUILD_BENCHMARKS=ON -DPEMAP_BUILD_INSPECTOR=ON
cmake --build build -j "$jobs"
ctest_log=$(mktemp)
trap 'rm -f "$ctest_log"' EXIT
ctest --test-dir build --output-on-failure -j "$jobs" | tee "$ctest_log"

# Sanitized fuzzing, PEMAP_FUZZ_SECONDS (default 60) for each target: the parser, SEC_IMAGE mapping (section,
# view, every region read back), the whole load as an executable and as a DLL with every import missing, and the
# inspector's text (its fast relocation rows checked against the general table writer). Seeds are testdata and
# the corkami corpus.
fuzz_seconds=${PEMAP_FUZZ_SECONDS:-60}
fuzz_targets=(fuzz_parse fuzz_map fuzz_load fuzz_render)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPEMAP_FUZZ=ON \
  -DPEMAP_BUILD_TESTS=OFF -DPEMAP_BUILD_BENCHMARKS=OFF -DPEMAP_BUILD_INSPECTOR=ON -DPEMAP_BUILD_EXAMPLES=OFF \
  -DPEMAP_WERROR=ON
cmake --build build-fuzz -j "$jobs" --target "${fuzz_targets[@]}"
for t in "${fuzz_targets[@]}"; do tests/fuzz/run.sh "build-fuzz/tests/fuzz/$t" "$fuzz_seconds"; done

# ctest's own summary is far above by now; repeat it as the closing line.
total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$ctest_log" | tail -1)
failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed.*/\1/p' "$ctest_log" | tail -1)
echo "tests: $((total - failed)) passed, $failed failed"
