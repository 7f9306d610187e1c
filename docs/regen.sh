#!/usr/bin/env bash
# Regenerates every figure in docs/ from the code, so they never drift from it.
#
#   docs/regen.sh
#
# It builds the CLI, then:
#   - press-spike-curve.png: `flashcrowd curve --scenario press-spike --png`
#     (no traffic);
#   - overview-shared.png: the README's main job, `flashcrowd run` with its
#     defaults: a real run of about 2.5 minutes against the simulated shared
#     plan on loopback (nothing leaves the machine);
#   - compare-capacity.png: `flashcrowd compare --simulate` at the bare
#     command's scale (press-spike compressed 1,400x, peak 2,500/s, 250 ms
#     windows, 2 s grace): the simulator, no network, a few seconds.
# It prints the main job's verdict and the comparison's, for the README and
# docs/compare.md, and leaves the full outputs in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d "${TMPDIR:-/tmp}/flashcrowd-regen.XXXXXX")
bin="$work/flashcrowd"
go build -o "$bin" ./cmd/flashcrowd
"$bin" version

# Exit 3 means the SLO failed, which is what these examples show; anything
# else non-zero is an error.
ok() { local rc=0; "$@" || rc=$?; [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { echo "regen: $* exited $rc" >&2; exit "$rc"; }; }

# The verdict: the paragraph that starts "The ...".
verdict() { awk '/^The /{p=1} p&&/^$/{exit} p' "$1"; }

"$bin" curve --scenario press-spike --png docs/press-spike-curve.png >/dev/null

echo "== main job (flashcrowd run, ~2.5 min, loopback only)"
ok "$bin" run --out "$work/main" >"$work/main.txt"
verdict "$work/main.txt"
cp "$work/main/overview.png" docs/overview-shared.png

echo "== compare --simulate at the bare command's scale"
ok "$bin" compare --simulate --compress 1400 --peak 2500/s --window 250ms --slo grace=2s \
  --out "$work/compare" --quiet >"$work/compare.txt"
verdict "$work/compare.txt"
cp "$work/compare/compare-capacity.png" docs/compare-capacity.png

echo "outputs kept in $work"
