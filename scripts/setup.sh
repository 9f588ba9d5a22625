#!/usr/bin/env bash
# Installs what fuzzing needs on a machine that has only Rust stable:
# cargo-fuzz (from crates.io). Safe to run again.
set -euo pipefail
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi
