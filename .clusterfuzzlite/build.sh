#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build, run from the project folder with SRC, OUT
# and WORK set (and SANITIZER by the builder). Puts in $OUT, for each layer
# target: the binary, <target>.options (libFuzzer limits, the dictionary, and
# the ASan options wasmtime's signal-based traps need), <target>.dict when the
# target has one, and <target>_seed_corpus.zip from embedders/reference/corpus/<target>/.
#
# SUITE_FUZZ_TARGET_DIR (optional) is the cargo target folder to build in.
: "${OUT:?OUT must be set}" "${SRC:?SRC must be set}" "${WORK:?WORK must be set}"

targets=(raw_bytes invalid_module memory_probe host_calls)
# The libFuzzer flags harness campaigns give each target (`harness list`).
declare -A libfuzzer_defaults=([memory_probe]="entropic = 0" [host_calls]="entropic = 0")
target_dir=${SUITE_FUZZ_TARGET_DIR:-embedders/reference/fuzz/target}

# address needs nightly (the builder's default toolchain); every other build
# (none, coverage) is plain libFuzzer, as wasmtime's own OSS-Fuzz build.
case "${SANITIZER:-none}" in
  address) sanitizer=address ;;
  *) sanitizer=none ;;
esac

cargo fuzz build -s "$sanitizer" --fuzz-dir embedders/reference/fuzz --target-dir "$target_dir"
bin_dir="$target_dir/x86_64-unknown-linux-gnu/release"

for target in "${targets[@]}"; do
  cp "$bin_dir/$target" "$OUT/"
  options="$OUT/$target.options"
  {
    echo "[libfuzzer]"
    echo "timeout = 10"
    echo "rss_limit_mb = 2048"
    [ -n "${libfuzzer_defaults[$target]:-}" ] && echo "${libfuzzer_defaults[$target]}"
    if [ -f "harness/dictionaries/$target.dict" ]; then
      cp "harness/dictionaries/$target.dict" "$OUT/$target.dict"
      echo "dict = $target.dict"
    fi
    echo "[asan]"
    echo "allow_user_segv_handler = 1"
    echo "handle_segv = 1"
    echo "handle_sigill = 0"
    echo "handle_sigfpe = 1"
    echo "detect_leaks = 0"
  } > "$options"
  rm -f "$OUT/${target}_seed_corpus.zip"
  (cd "embedders/reference/corpus/$target" && python3 -m zipfile -c "$OUT/${target}_seed_corpus.zip" ./*)
done
echo "built ${targets[*]} into $OUT"
