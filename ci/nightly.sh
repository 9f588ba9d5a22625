#!/usr/bin/env bash
# The nightly job, for any CI: a campaign over the four layers under each
# profile (fuzzing, then production), each starting from the corpus the
# previous night left for it in the corpus cache, then coverage of the grown
# corpora and the report.
#
#   ci/nightly.sh [BUDGET]        BUDGET per profile; defaults to $NIGHTLY_BUDGET or 4h
#
# Environment: CORPUS_CACHE (default .nightly-corpus: the folder a CI caches
# between runs; one subfolder per profile), CAMPAIGN_DIR (default
# campaigns/nightly-<date>; one subfolder per profile). Each profile's folder
# holds the corpus, findings, summary.json, results.sarif, REPORT.md and
# coverage/. Exit status 1 if anything was found under either profile.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-${NIGHTLY_BUDGET:-4h}}
cache=${CORPUS_CACHE:-.nightly-corpus}
out=${CAMPAIGN_DIR:-campaigns/nightly-$(date -u +%Y-%m-%d)}
scripts/setup.sh --coverage
[ -n "${GITHUB_OUTPUT:-}" ] && echo "campaign=$out" >> "$GITHUB_OUTPUT"

status=0
for profile in fuzzing production; do
  mkdir -p "$out/$profile/corpus"
  if [ -d "$cache/$profile" ]; then
    echo "starting the $profile campaign from the cached corpus in $cache/$profile"
    cp -a "$cache/$profile/." "$out/$profile/corpus/"
  fi
  cargo run --quiet --locked -p harness-cli -- campaign --profile "$profile" --time "$budget" \
    --out "$out/$profile" --coverage || status=1
  # Keep the merged corpus for the next night, findings or not.
  rm -rf "${cache:?}/$profile" && mkdir -p "$cache" && cp -a "$out/$profile/corpus" "$cache/$profile"
done
echo "campaign folders: $out/fuzzing $out/production (exit $status)"
exit $status
