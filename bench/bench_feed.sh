#!/bin/bash
# Data path throughput: CSV parsing, synthetic bars, merged feed + broker marking.
set -u
B=${1:-build}
"$B/bench/bench_feed" "${BENCH_FEED_ROWS:-2000000}"
