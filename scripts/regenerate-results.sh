#!/usr/bin/env bash
# Rebuilds everything under results/ from the scenarios, so the README's charts and tables can
# always be traced to a command:
#   results/demo/          `capsim demo` (the Monday surge: CA vs Karpenter vs warm pool)
#   results/<stem>/        `capsim run scenarios/<stem>.yaml` for every other scenario file
#   results/az-outage-compare/  `capsim compare` of the two AZ-outage scenarios
#   results/hpa-vpa-compare/    `capsim compare` of the HPA+VPA conflict and its fix
#   results/rightsizing-rightsize/  `capsim rightsize scenarios/rightsizing.yaml`
#   results/queue-workers-compare/  `capsim compare` of the queue workers on KEDA vs on CPU
# Each directory gets the run's files (summary.json, timeline.csv, pods.csv, nodes.csv, ...),
# its charts (PNG and SVG) and summary.txt, the terminal table the command printed.
# Runs are deterministic (scenario + seed), so regenerating without changes rewrites the same bytes.
#
# Usage: scripts/regenerate-results.sh        (from anywhere; builds the release binary first)
#        CAPSIM_BIN=path/to/capsim scripts/regenerate-results.sh   (use that binary, no build)
# A scenario that fails is reported and skipped; the script then exits 1 and leaves the previous
# results/ in place.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${CAPSIM_BIN:-}" ]; then
    bin="$CAPSIM_BIN"
else
    cargo build --release --quiet
    bin="${CARGO_TARGET_DIR:-target}/release/capsim"
fi

new="results.new"
rm -rf "$new"
mkdir -p "$new"
failed=()

# The terminal table without the "wrote <paths>" line (paths point into the temporary tree).
table() { sed -e '/^wrote /d' -e '${/^$/d}'; }

echo "demo"
mkdir -p "$new/demo"
if "$bin" demo -o "$new/demo" | table > "$new/demo/summary.txt"; then :; else failed+=(demo); fi

for f in scenarios/*.yaml; do
    [ -e "$f" ] || continue
    stem="$(basename "$f" .yaml)"
    echo "$stem"
    mkdir -p "$new/$stem"
    if "$bin" run "$f" -o "$new/$stem" | table > "$new/$stem/summary.txt"; then :; else failed+=("$stem"); fi
done

# The AZ outage during the surge, Cluster Autoscaler vs Karpenter, side by side.
echo "az-outage-compare"
mkdir -p "$new/az-outage-compare"
if "$bin" compare scenarios/az-outage-ca.yaml scenarios/az-outage-karpenter.yaml -o "$new/az-outage-compare" \
    | table > "$new/az-outage-compare/summary.txt"; then :; else failed+=(az-outage-compare); fi

# The HPA+VPA fight and its fix, side by side.
echo "hpa-vpa-compare"
mkdir -p "$new/hpa-vpa-compare"
if "$bin" compare scenarios/hpa-vpa-conflict.yaml scenarios/hpa-vpa-fixed.yaml -o "$new/hpa-vpa-compare" \
    | table > "$new/hpa-vpa-compare/summary.txt"; then :; else failed+=(hpa-vpa-compare); fi

# Queue workers on spot: KEDA on queue length vs an HPA on CPU.
echo "queue-workers-compare"
mkdir -p "$new/queue-workers-compare"
if "$bin" compare scenarios/queue-workers-keda.yaml scenarios/queue-workers-cpu.yaml -o "$new/queue-workers-compare" \
    | table > "$new/queue-workers-compare/summary.txt"; then :; else failed+=(queue-workers-compare); fi

# Rightsizing tried before production: as written vs the VPA recommender's requests.
echo "rightsizing-rightsize"
mkdir -p "$new/rightsizing-rightsize"
if "$bin" rightsize scenarios/rightsizing.yaml -o "$new/rightsizing-rightsize" \
    | table > "$new/rightsizing-rightsize/summary.txt"; then :; else failed+=(rightsizing-rightsize); fi

if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]} (results/ left unchanged; partial output in $new/)" >&2
    exit 1
fi
rm -rf results.old
[ -d results ] && mv results results.old
mv "$new" results
rm -rf results.old
echo "results/ regenerated"
