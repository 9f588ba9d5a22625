#!/usr/bin/env bash
# A short fuzz session over every layer of a default campaign, on the stable
# toolchain, installing cargo-fuzz if it is missing.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Seeds come from corpus/<target>/, new inputs go to targets/corpus/<target>/,
# findings to targets/artifacts/<target>/. Exit status 1 if any target found
# something; every target runs regardless.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "error: SECONDS_PER_TARGET must be a positive whole number, got '$seconds'" >&2
  exit 2
fi

scripts/setup.sh

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo run --quiet --locked -p harness -- list --campaign)
fi

# One build for every target; cargo-fuzz rebuilds only what changed.
cargo fuzz build -s none --fuzz-dir targets

failed=()
for target in "${targets[@]}"; do
  work=targets/corpus/$target
  mkdir -p "$work" "targets/artifacts/$target"
  flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
         -artifact_prefix="targets/artifacts/$target/")
  dict=targets/dictionaries/$target.dict
  [ -f "$dict" ] && flags+=(-dict="$dict")
  seeds=()
  [ -d "corpus/$target" ] && seeds+=("corpus/$target")
  echo "== fuzzing $target for ${seconds}s"
  if ! cargo fuzz run -s none --fuzz-dir targets "$target" "$work" "${seeds[@]}" -- "${flags[@]}"; then
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "findings in: ${failed[*]} (see targets/artifacts/; replay with: cargo harness repro <target> <file>)" >&2
  exit 1
fi
echo "no findings in: ${targets[*]}"
