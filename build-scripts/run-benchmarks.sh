#!/usr/bin/env bash
# The benchmark suite in one command, from a clean checkout: installs what it needs, builds
# the programs, runs `pytest benchmarks/` (one line per case as it goes), then writes
# benchmarks/results.md and benchmarks/results.png and prints the tables.
# Takes about 17 minutes on an idle 2-core machine (longer when it is busy).
# Extra arguments go to pytest, e.g.
#   build-scripts/run-benchmarks.sh -k tiny --bench-rounds 1
# Exit status: pytest's (non-zero if any row failed); the report is written either way.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

echo "== installing system packages (clang-19, lld-19, wasi-libc) if missing"
bash build-scripts/install-deps.sh || exit 1
echo "== installing Python packages: pip install -e '.[bench,compiler]'"
python3 -m pip install -q -e ".[bench,compiler]" || exit 1
echo "== building benchmark programs"
bash build-scripts/build-benchmarks.sh || exit 1

echo "== running the suite"
python3 -m pytest benchmarks/ -v -p no:cacheprovider \
  --benchmark-columns=median,min,rounds --benchmark-sort=name \
  --benchmark-json=benchmarks/build/pytest-benchmark.json "$@"
status=$?

echo "== report"
python3 benchmarks/report.py || exit 1
exit $status
