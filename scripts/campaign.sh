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
# A first run builds wasmtime twice: for the harness binary and, instrumented,
# for the fuzz targets. Side by side the two builds keep both cores busy
# where one alone waits on a single large crate; the targets' build yields
# (nice) so that the binary's chain of the suite's own crates, which ends
# with it, is not left to run alone at the end.
prebuild=
case " $* " in
  *" --targets"*) ;;
  *)
    nice -n 10 cargo fuzz build -s none --fuzz-dir embedders/reference/fuzz ${SUITE_FUZZ_TARGET_DIR:+--target-dir "$SUITE_FUZZ_TARGET_DIR"} &
    prebuild=$!
    ;;
esac
cargo build --quiet --locked -p harness-cli "${features[@]}"
if [ -n "$prebuild" ]; then wait "$prebuild"; fi
exec cargo run --quiet --locked -p harness-cli "${features[@]}" -- campaign --time "$budget" "$@"
