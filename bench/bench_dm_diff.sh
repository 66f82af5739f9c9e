#!/bin/bash
# DAG manager diff benchmarks: first submission, resubmission, tag query (file store).
# Usage: bash bench/bench_dm_diff.sh BUILD_DIR   (normally through 'make bench')
set -u
B=${1:-build}
bin=$B/bench/bench_dm_diff
[ -x "$bin" ] || { echo "bench_dm_diff: $bin not built (run 'make bench')" >&2; exit 1; }
echo "SQLite file store in /tmp (WAL, synchronous=FULL); one thread; medians of 5 runs"
"$bin" 1000 5
"$bin" 10000 3
