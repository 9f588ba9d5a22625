#!/usr/bin/env bash
# A campaign over every layer, on the stable toolchain, installing cargo-fuzz
# if it is missing. The first run builds the fuzz targets (several minutes).
#
#   scripts/campaign.sh [BUDGET] [harness campaign options...]
#
# BUDGET is split across the four layers (default 4m). The campaign folder
# (corpus, findings, summary.json, results.sarif, REPORT.md) is printed at the
# start; exit status 1 if anything was found.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-4m}
shift || true
scripts/setup.sh
# Extism's targets (and its wasmtime) are built only when asked for.
features=(--no-default-features)
case " $* " in *extism*) features=() ;; esac
exec cargo run --quiet --locked -p harness-cli "${features[@]}" -- campaign --time "$budget" "$@"
