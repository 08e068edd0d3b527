#!/usr/bin/env bash
# Runs a Python script with a python3 that has pefile (Debian's python3-pefile, which scripts/install-deps.sh
# installs, is in /usr/bin/python3's path even when another python3 comes first); skips (77) when none has it.
# Usage: with_pefile.sh SCRIPT [ARG]...
for py in python3 /usr/bin/python3; do
  if "$py" -c 'import pefile' 2> /dev/null; then exec "$py" "$@"; fi
done
echo "SKIP: no python3 with pefile (Debian package python3-pefile)"
exit 77
