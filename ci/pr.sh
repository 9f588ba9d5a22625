#!/usr/bin/env bash
# The pull-request check, for any CI: the tests, every fuzz target built once
# and fuzzed briefly with a fixed seed (a finding fails the run), the seeds
# replayed under the production profile, and the loader's coverage from the
# seed corpora checked against ci/coverage-floor.json.
#
# Builds go to $CARGO_TARGET_DIR and $SUITE_FUZZ_TARGET_DIR when set;
# PR_TESTS_DONE=1 skips the tests when the caller has just run them (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
scripts/setup.sh --coverage

if [ -z "${PR_TESTS_DONE:-}" ]; then
  echo "== cargo test --workspace --locked"
  cargo test --workspace --locked
fi
harness=${CARGO_TARGET_DIR:-target}/debug/harness

fuzz_target_dir=${SUITE_FUZZ_TARGET_DIR:-embedders/reference/fuzz/target}
echo "== fuzz targets: one build, a short run of each with a fixed seed"
cargo fuzz build -s none --fuzz-dir embedders/reference/fuzz --target-dir "$fuzz_target_dir"
# `harness run` is what users run: the target's seeds, dictionary and default
# libFuzzer flags (-entropic=0 for the slower layers), then triage; it exits 1
# on a finding and 2 when it could not fuzz.
run_briefly() {
  local target=$1 seconds=$2
  local work; work=$(mktemp -d)
  echo "-- $target for ${seconds}s"
  if ! "$harness" run "$target" --time "${seconds}s" --seed 1 --out "$work" --target-dir "$fuzz_target_dir"; then
    echo "$target: a finding or a failed run; folder: $work (REPORT.md, findings/, logs/)" >&2
    return 1
  fi
}
mapfile -t targets < <("$harness" list --campaign)
for target in "${targets[@]}"; do
  if [ "$target" = raw_bytes ]; then run_briefly "$target" 30; else run_briefly "$target" 20; fi
done

# The fuzzing above runs under the fuzzing profile; under the production one
# (wasmtime's default features, the optimizer) every seed must replay without
# a finding too: a generator that strays past what the profile enables shows here.
echo "== the seeds under the production profile"
for target in "${targets[@]}"; do
  "$harness" repro --profile production "$target" "embedders/reference/corpus/$target" | tail -n 1
done

echo "== coverage of the seed corpora against ci/coverage-floor.json"
"$harness" coverage --target-dir "$fuzz_target_dir" --floor ci/coverage-floor.json

echo "== ci/pr.sh passed in $((SECONDS - started))s"
