#!/usr/bin/env bash
# Second quick-start command, and what CI runs: build with warnings as errors and run the whole suite; build the
# unit, data and process tests again with ASan+UBSan and run them; then build the libFuzzer targets with ASan+UBSan
# and run each for a bounded time on the seeds. A suite that leaves anything in /dev/shm or /tmp fails, like a
# failed test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
status=0

# in_clean_namespace COMMAND...: COMMAND in a mount namespace of its own whose /dev/shm and /tmp start empty, so
# whatever is in them afterwards was left by COMMAND, not by another user of the machine; plain COMMAND when the
# kernel or the container does not allow a namespace (no CAP_SYS_ADMIN).
in_clean_namespace() {
  if unshare --mount --propagation private true 2> /dev/null; then
    local private_tmp rc=0
    private_tmp=$(mktemp -d)
    unshare --mount --propagation private bash -c \
      'mount -t tmpfs pemap-suite-shm /dev/shm && mount --bind "$0" /tmp && exec "$@"' "$private_tmp" "$@" || rc=$?
    rm -rf "$private_tmp"
    return "$rc"
  fi
  "$@"
}

# run_ctest BUILD_DIR LABEL [CTEST_ARGS]...: ctest with a closing line "LABEL: N passed, N failed, N skipped"
# (ctest counts a skipped test as passed and a test that could not start as failed), then what the run left in
# /dev/shm and /tmp. Nonzero when a test failed or something was left. Runs in in_clean_namespace's bash, so it
# is a script of its own (run_ctest_script below), not a function.
run_ctest_script=$(cat << 'SCRIPT'
build=$1 label=$2
shift 2
snapshot() { find /dev/shm /tmp -mindepth 1 -maxdepth 1 2> /dev/null | sort; }
before=$(snapshot)
log="$build/ctest-summary.log"
ctest --test-dir "$build" --output-on-failure "$@" | tee "$log"
rc=${PIPESTATUS[0]}
left=$(comm -13 <(printf '%s\n' "$before") <(snapshot) | grep -v '^$' || true)
total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed.*/\1/p' "$log" | tail -1)
skipped=$(sed -n '/^The following tests did not run:/,/^$/p' "$log" | grep -cE '\((Skipped|Disabled)\)$' || true)
rm -f "$log"
echo "$label: $((${total:-0} - ${failed:-0} - skipped)) passed, ${failed:-0} failed, $skipped skipped"
if [ -n "$left" ]; then
  echo "$label: FAIL: the suite left these behind:"
  sed 's/^/  /' <<< "$left"
  rc=1
fi
exit "$rc"
SCRIPT
)
summaries=()
run_ctest() {
  local out
  out=$(mktemp)
  in_clean_namespace bash -c "$run_ctest_script" run_ctest "$@" | tee "$out" || status=1
  summaries+=("$(sed -n "/^$2: /,\$p" "$out")")
  rm -f "$out"
}

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPEMAP_WERROR=ON -DPEMAP_BUILD_TESTS=ON \
  -DPEMAP_BUILD_BENCHMARKS=ON -DPEMAP_BUILD_INSPECTOR=ON
cmake --build build -j "$jobs"
run_ctest build plain -j "$jobs"

# The unit, data, process and run tests (gtest programs: the parser on synthetic and real images, the loader, the
# child process and its sandbox) again under ASan+UBSan, which stop at the first finding. The CLI scripts are left
# out: they run the same code through pemap, many times over.
sanitized_tests=(pemap_unit_tests pemap_data_tests pemap_process_tests pemap_run_tests)
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPEMAP_SANITIZE=ON -DPEMAP_WERROR=ON \
  -DPEMAP_BUILD_TESTS=ON -DPEMAP_BUILD_BENCHMARKS=OFF -DPEMAP_BUILD_INSPECTOR=ON
cmake --build build-asan -j "$jobs" --target "${sanitized_tests[@]}"
# ASan keeps 0x8fff7000..0x2008fff7000 for itself (the gap between its shadows). The x64 testdata's preferred bases
# (0x140000000, 0x180000000), the bases the child tests force, and the synthetic PE32+ images' lie there, so these
# tests find their base taken and see the image placed bottom-up; they run in the plain build.
asan_reserves_the_base='Graph\.(AppLoadsDepthFirst|EventsStartWith|StrippedFixedDll|DelayImportsAreLeft|TlsCallbacks'\
'|FreeLibraryReleases)[A-Za-z]*/x64|Bound\.KeptOnlyWhileStampAndBaseStillHold/PE32plus_'\
'|ChildTest\.(LoadLibraryInitializesOnlyWhatItLoaded|ExportsThatWalkRelocatedPointers|AnImageDumpIsTheImage)'
run_ctest build-asan sanitized -j "$jobs" -L gtest -E "$asan_reserves_the_base"

# Sanitized fuzzing, PEMAP_FUZZ_SECONDS (default 30, so that CI stays under 30 minutes) for each target: the
# parser, SEC_IMAGE mapping (section, view, every region read back), the whole load as an executable and as a DLL
# with every import missing, and the inspector's text (its fast relocation rows checked against the general table
# writer). Seeds are testdata, its regression inputs, and the corkami corpus.
fuzz_seconds=${PEMAP_FUZZ_SECONDS:-30}
fuzz_targets=(fuzz_parse fuzz_map fuzz_load fuzz_render)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPEMAP_FUZZ=ON \
  -DPEMAP_BUILD_TESTS=OFF -DPEMAP_BUILD_BENCHMARKS=OFF -DPEMAP_BUILD_INSPECTOR=ON -DPEMAP_BUILD_EXAMPLES=OFF \
  -DPEMAP_WERROR=ON
cmake --build build-fuzz -j "$jobs" --target "${fuzz_targets[@]}"
for t in "${fuzz_targets[@]}"; do tests/fuzz/run.sh "build-fuzz/tests/fuzz/$t" "$fuzz_seconds"; done

# ctest's own summaries are far above by now; repeat them, then their sum as the closing line.
printf '%s\n' "${summaries[@]}"
printf '%s\n' "${summaries[@]}" | awk '/^[a-z]+: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ {
  p += $2; f += $4; s += $6 } END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }'
exit "$status"
