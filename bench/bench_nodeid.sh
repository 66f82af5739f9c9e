#!/bin/bash
# Node identity benchmarks: BLAKE3 throughput, NodeIDs per second, double formatting.
# Usage: bash bench/bench_nodeid.sh BUILD_DIR   (normally through 'make bench')
set -u
B=${1:-build}
bin=$B/bench/bench_nodeid
[ -x "$bin" ] || { echo "bench_nodeid: $bin not built (run 'make bench')" >&2; exit 1; }
simd=""
for f in avx512f avx2 sse4_1; do grep -qw "$f" /proc/cpuinfo && { simd=$f; break; }; done
echo "BLAKE3: official C implementation, best SIMD the CPU offers: ${simd:-portable}; one thread"
echo "medians of 7 batches of ~0.1 s each"
"$bin" 7
