#!/usr/bin/env bash
# Installs what fuzzing needs on a machine that has only Rust stable:
# cargo-fuzz (from crates.io), and with --coverage the LLVM coverage tools
# of rustc's LLVM major version (Debian's llvm-N) and rustfilt. Safe to run again.
#
#   scripts/setup.sh [--coverage]
set -euo pipefail
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi
if [ "${1:-}" = --coverage ]; then
  major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
  if [ ! -x "/usr/lib/llvm-$major/bin/llvm-cov" ] || ! command -v rustfilt >/dev/null; then
    echo "installing llvm-$major (llvm-cov, llvm-profdata) and rustfilt from Debian's packages" >&2
    sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q "llvm-$major" >/dev/null
    # rustfilt demangles Rust names in the reports; llvm-cxxfilt is the fallback.
    $sudo apt-get install -y -q rustfilt >/dev/null 2>&1 || echo "rustfilt not available: reports use llvm-cxxfilt-$major" >&2
  fi
fi
