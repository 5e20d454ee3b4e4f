#!/usr/bin/env bash
# Runs every bundled and bench scenario (no charts) with a capsim binary into OUT, and, given a
# BASELINE directory made the same way by another binary, diffs the two trees. This is how each
# performance change was shown to leave every output byte unchanged (docs/performance.md):
#
#   scripts/check-outputs.sh path/to/old/capsim /tmp/before
#   scripts/check-outputs.sh target/release/capsim /tmp/after /tmp/before   # prints IDENTICAL
#
# Exit status: 0 when the outputs are identical (or no baseline was given), 1 otherwise.
set -uo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CAPSIM_BIN OUT_DIR [BASELINE_DIR]" >&2
    exit 2
fi
bin="$(realpath "$1")"
out="$2"
baseline="${3:-}"
cd "$(dirname "$0")/.."
rm -rf "$out"
mkdir -p "$out"
status=0
for f in scenarios/*.yaml scenarios/bench/*.yaml; do
    case "$f" in *.grid.yaml) continue ;; esac
    stem="$(basename "$f" .yaml)"
    if ! "$bin" run -q --no-charts "$f" -o "$out/$stem" > /dev/null 2> "$out/$stem.log"; then
        echo "FAILED $stem (see $out/$stem.log)"
        status=1
    fi
    rm -f "$out/$stem.log"
done
if [ -n "$baseline" ]; then
    if diff -r -q "$baseline" "$out"; then
        echo IDENTICAL
    else
        echo DIFFERENT
        status=1
    fi
fi
exit $status
