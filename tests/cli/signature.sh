#!/usr/bin/env bash
# Authenticode: testdata programs (a PE32+ and a PE32 one) signed here with a certificate made here
# (openssl, osslsigncode), then `pemap signature` against them:
#   - the signed files: "digest matches", the signature valid, the signer named, exit 0; the digest pemap computes
#     is the one osslsigncode calculates (its own code, not ours);
#   - with --trust-store of the signing certificate: trusted; with another certificate: not trusted, exit 1;
#   - one byte of .text changed after signing: "digest does not match", exit 1;
#   - one byte of the signature's own bytes changed: refused or not verifying, exit 1;
#   - bytes appended after the certificate table: "digest does not match" (they are hashed), exit 1;
#   - an unsigned file: "not signed", exit 0; `info` says whether a signature is present.
# Skips (77) when openssl or osslsigncode is missing (scripts/install-deps.sh installs both).
# Usage: signature.sh PEMAP
set -uo pipefail
pemap=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in openssl osslsigncode; do
  command -v "$tool" > /dev/null || { echo "SKIP: $tool not installed (scripts/install-deps.sh installs it)"; exit 77; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

make_cert() { # make_cert NAME CN
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=$2/O=pemap tests" \
    -keyout "$work/$1.key" -out "$work/$1.pem" > /dev/null 2>&1 || { echo "openssl req failed"; exit 1; }
}
make_cert signer "pemap test signer"
make_cert other "someone else"

for arch in x64 x86; do
  src=$root/testdata/bin/$arch/app.exe
  [ "$arch" = x64 ] && src=$root/testdata/bin/x64/hello.exe
  signed=$work/signed-$arch.exe
  osslsigncode sign -certs "$work/signer.pem" -key "$work/signer.key" -h sha256 -n "pemap test" \
    -in "$src" -out "$signed" > "$work/sign.log" 2>&1 || { cat "$work/sign.log"; bad "$arch: osslsigncode sign"; continue; }

  out=$("$pemap" signature "$signed" 2>&1); rc=$?
  if [ $rc -eq 0 ] && grep -q "Image digest (sha256)  *matches" <<< "$out" &&
     grep -q "Signature  *valid" <<< "$out" && grep -q "Signer  *.*CN=pemap test signer" <<< "$out" &&
     grep -q "Trust  *not checked" <<< "$out"; then ok; else bad "$arch signed (rc $rc): $out"; fi

  # osslsigncode computes the image digest with its own code: the two must agree.
  theirs=$(osslsigncode verify -in "$signed" 2>&1 | sed -n 's/^Calculated message digest *: *//p' | tr -d ' \n' |
           tr 'A-F' 'a-f')
  ours=$("$pemap" signature --json "$signed" | sed -n 's/.*"computed_digest": "\([0-9a-f]*\)".*/\1/p')
  if [ -n "$ours" ] && [ "$ours" = "$theirs" ]; then ok; else bad "$arch: digest pemap '$ours', osslsigncode '$theirs'"; fi

  out=$("$pemap" signature --trust-store "$work/signer.pem" "$signed" 2>&1); rc=$?
  if [ $rc -eq 0 ] && grep -q "Trust  *trusted" <<< "$out"; then ok; else bad "$arch trusted (rc $rc): $out"; fi
  out=$("$pemap" signature --trust-store "$work/other.pem" "$signed" 2>&1); rc=$?
  if [ $rc -eq 1 ] && grep -q "Trust  *not trusted" <<< "$out"; then ok; else bad "$arch untrusted (rc $rc): $out"; fi

  # One byte of the first section's raw data changed after signing.
  altered=$work/altered-$arch.exe
  cp "$signed" "$altered"
  at=$("$pemap" sections --json "$signed" | sed -n 's/.*"PointerToRawData": \([0-9]*\).*/\1/p' | head -1)
  printf '\xcc' | dd of="$altered" bs=1 seek=$((at + 16)) conv=notrunc status=none
  out=$("$pemap" signature "$altered" 2>&1); rc=$?
  if [ $rc -eq 1 ] && grep -q "Image digest (sha256)  *does not match" <<< "$out" &&
     grep -q "warning: .*the image digest does not match" <<< "$out"; then ok; else bad "$arch altered (rc $rc): $out"; fi

  # One byte of the signature's RSA value (the last bytes of the PKCS#7 blob) changed.
  forged=$work/forged-$arch.exe
  cp "$signed" "$forged"
  size=$(stat -c %s "$forged")
  printf '\x00' | dd of="$forged" bs=1 seek=$((size - 40)) conv=notrunc status=none
  out=$("$pemap" signature "$forged" 2>&1); rc=$?
  if [ $rc -eq 1 ] && grep -q "warning: .*Authenticode signature" <<< "$out"; then ok; else bad "$arch forged (rc $rc): $out"; fi

  # Bytes appended after the certificate table are covered by the digest too.
  appended=$work/appended-$arch.exe
  cp "$signed" "$appended"
  printf 'appended' >> "$appended"
  out=$("$pemap" signature "$appended" 2>&1); rc=$?
  if [ $rc -eq 1 ] && grep -q "does not match" <<< "$out" && grep -q "8 bytes follow the table" <<< "$out"; then ok
  else bad "$arch appended (rc $rc): $out"; fi

  out=$("$pemap" info "$signed" 2>&1)
  if grep -q "Authenticode signature  *present" <<< "$out"; then ok; else bad "$arch info: $out"; fi
done

out=$("$pemap" signature "$root/testdata/bin/x64/hello.exe" 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q "not signed" <<< "$out"; then ok; else bad "unsigned (rc $rc): $out"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
