#!/usr/bin/env bash
# Installs every Debian package pemap needs to build, test, fuzz and benchmark (Debian bookworm, as root).
# Does nothing when they are all present, so the test command can call it on every run.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  liblief-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
  clang lld llvm libclang-rt-14-dev          # libFuzzer + ASan/UBSan runtimes, llvm-readobj
  clang-format                                # the `format` test
  gcc-mingw-w64-i686 gcc-mingw-w64-x86-64     # testdata/build.sh (x86 and x64 GNU builds)
  g++-mingw-w64-x86-64                        # libstdc++-6.dll, the large DLL the benchmark reads
  python3
  jq                                          # the README's --jsonl example, which tests/cli/walkthroughs.sh runs
  libseccomp-dev                              # the sandbox of run, call and instances
  pev python3-pefile time                     # bench/peers.sh: readpe and pefile as peers, GNU time for peak RSS
  ipxe shim-unsigned grub-efi-amd64-bin       # EFI images (tests/cli/foreign_pefile.py): pemap reads, never runs them
  libmono-corlib4.5-dll                       # a .NET assembly for the same test
  libwine                                     # Wine's PE builds of Windows' DLLs: the default system directory
  libssl-dev                                  # OpenSSL: digests, imphash and Authenticode
  openssl osslsigncode                        # a test certificate and signed test files (tests/cli/signature.sh)
  libxml2-dev                                 # libxml2: application manifests
  libcapstone-dev                             # Capstone: pemap disasm, relocs --disasm
  llvm-14-dev                                 # LLVM's demangler for Microsoft's C++ names: --demangle
  libiberty-dev                               # GCC's demangler for Itanium C++ names, bounded: --demangle
  python3-setuptools-whl                      # MSVC-built launchers (Rich header, CheckSum) for fingerprints_pefile
  chromium python3-pil                        # the pictures' pages opened in a real browser, and their screenshots read
  libfuzzy-dev libtlsh-dev                    # ssdeep and TLSH similarity hashes: pemap hashes
  ssdeep tlsh-tools                           # their command-line tools, the oracles of tests/cli/fuzzy_hashes.sh
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or with sudo)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
