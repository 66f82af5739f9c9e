# Shared helpers for bench/bench_*.sh and bench/compare.sh (sourced, not run by bench/run.sh).
# bench_csv FILE N [INTERVAL]: N OHLCV bars of a seeded random walk (the same file on every
# machine), timestamps from 1700000040, INTERVAL seconds apart (default 60: one-minute bars).
bench_csv() {
    python3 - "$1" "$2" "${3:-60}" <<'PY'
import math, random, sys
random.seed(1)
p = 100.0
step = int(sys.argv[3])
with open(sys.argv[1], "w") as f:
    f.write("timestamp,open,high,low,close,volume\n")
    for i in range(int(sys.argv[2])):
        q = p * math.exp(random.gauss(0, 0.002))
        f.write("%d,%.4f,%.4f,%.4f,%.4f,%d\n" % (1700000040 + step * i, p, max(p, q), min(p, q), q, 1000))
        p = q
PY
}
