#!/usr/bin/env bash
# Coverage reports of the seed corpora (or of --corpus DIR), installing the
# LLVM tools if missing. The first run builds the coverage targets (minutes).
#
#   scripts/coverage.sh [harness coverage options...]
#
# Writes coverage/<target>/ and coverage/combined/ (html/, lcov.info) and
# coverage/coverage.json, and prints the loader's coverage per target and file.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --coverage
exec cargo run --quiet --locked -p harness-cli -- coverage "$@"
