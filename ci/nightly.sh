#!/usr/bin/env bash
# The nightly job, for any CI: a campaign over the four layers for a time
# budget, starting from the corpus the previous night left in the corpus
# cache, then coverage of the grown corpora and the report.
#
#   ci/nightly.sh [BUDGET]        BUDGET defaults to $NIGHTLY_BUDGET or 8h
#
# Environment: CORPUS_CACHE (default .nightly-corpus: the folder a CI caches
# between runs), CAMPAIGN_DIR (default campaigns/nightly-<date>). The campaign
# folder holds the corpus, findings, summary.json, results.sarif, REPORT.md
# and coverage/. Exit status 1 if anything was found.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-${NIGHTLY_BUDGET:-8h}}
cache=${CORPUS_CACHE:-.nightly-corpus}
out=${CAMPAIGN_DIR:-campaigns/nightly-$(date -u +%Y-%m-%d)}
scripts/setup.sh --coverage

mkdir -p "$out/corpus"
if [ -d "$cache" ]; then
  echo "starting from the cached corpus in $cache"
  cp -a "$cache/." "$out/corpus/"
fi
[ -n "${GITHUB_OUTPUT:-}" ] && echo "campaign=$out" >> "$GITHUB_OUTPUT"

status=0
cargo run --quiet --locked -p harness-cli -- campaign --time "$budget" --out "$out" --coverage || status=$?

# Keep the merged corpus for the next night, findings or not.
rm -rf "$cache" && cp -a "$out/corpus" "$cache"
echo "campaign folder: $out (exit $status)"
exit $status
