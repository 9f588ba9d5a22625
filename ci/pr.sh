#!/usr/bin/env bash
# The pull-request check, for any CI: the tests, every fuzz target built once
# and fuzzed briefly with a fixed seed (a finding fails the run), and the
# loader's coverage from the seed corpora checked against ci/coverage-floor.json.
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

fuzz_target_dir=${SUITE_FUZZ_TARGET_DIR:-targets/target}
echo "== fuzz targets: one build, a short run of each with a fixed seed"
cargo fuzz build -s none --fuzz-dir targets --target-dir "$fuzz_target_dir"
run_briefly() {
  local target=$1 seconds=$2
  local work; work=$(mktemp -d)
  mkdir -p "$work/corpus" "$work/artifacts"
  local dict=()
  [ -f "targets/dictionaries/$target.dict" ] && dict=(-dict="targets/dictionaries/$target.dict")
  echo "-- $target for ${seconds}s"
  cargo fuzz run -s none --fuzz-dir targets --target-dir "$fuzz_target_dir" "$target" "$work/corpus" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -seed=1 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "${dict[@]}" > "$work/log" 2>&1 || true
  grep -E '^(#[0-9]+\s+DONE|stat::|==[0-9]+== ERROR|SUMMARY|thread .* panicked)' -A1 "$work/log" || true
  if [ -n "$(ls -A "$work/artifacts")" ]; then
    echo "finding in $target: $(ls "$work/artifacts"); log: $work/log" >&2
    return 1
  fi
  if ! grep -q '^stat::number_of_executed_units' "$work/log"; then
    echo "$target did not run; log: $work/log" >&2
    tail -n 20 "$work/log" >&2
    return 1
  fi
}
mapfile -t targets < <("$harness" list --campaign)
for target in "${targets[@]}"; do
  if [ "$target" = raw_bytes ]; then run_briefly "$target" 30; else run_briefly "$target" 20; fi
done

echo "== coverage of the seed corpora against ci/coverage-floor.json"
"$harness" coverage --target-dir "$fuzz_target_dir" --floor ci/coverage-floor.json

echo "== ci/pr.sh passed in $((SECONDS - started))s"
