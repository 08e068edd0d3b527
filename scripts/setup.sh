#!/usr/bin/env bash
# First of the two quick-start commands: install dependencies, build pemap, and show it on a bundled sample.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build
echo
echo "== build/inspector/pemap info testdata/bin/x86/liba.dll"
build/inspector/pemap info testdata/bin/x86/liba.dll
