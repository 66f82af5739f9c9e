#!/bin/bash
# Before/after: the runtime's three headline figures at two commits, measured alternately.
#
# Usage: bash bench/compare.sh BEFORE AFTER [ROUNDS]      (from anywhere in a checkout)
#   BEFORE, AFTER  commits (anything 'git rev-parse' takes; BEFORE is the older one)
#   ROUNDS         rounds of the three measures, each round running both commits (default 5)
#   env COMPARE_DIR      builds and data cache (default build/compare of this checkout)
#       COMPARE_ROWS     CSV rows replayed by 'qmtl run' (default 2000000)
#       COMPARE_UPDATES  ticks of the built-ins bench (default 3000000)
#       COMPARE_LATENCY  ticks of the latency bench (default 1000000)
#       COMPARE_TIMEOUT  seconds allowed to one run before it counts as failed (default 300)
#       COMPARE_JOBS     make -j for the builds (default 2)
#       COMPARE_INSTRUCTIONS=1  also count instructions under valgrind (below)
# BEFORE = AFTER is allowed: the same binaries against themselves show the noise floor.
#
# The measures, for each commit in every round:
#   1. runtime updates/s    bench_runtime builtins N: 18 built-ins on one stream, in process,
#                           node updates per second of a host_feed loop
#   2. tick-to-order p99    bench_runtime latency N: stream -> sma(20) -> crossover -> signal
#                           -> order publisher, clock_gettime around each tick's wave, p99 of
#                           the ticks that produced an order
#   3. ticks/s, qmtl run    'qmtl run --offline' of the rt_bench_chain plugin (the same chain)
#                           over a CSV of N one-second bars: N / wall clock of the whole process,
#                           and N / its CPU time (user + system), which load moves less;
#                           also N / the replay's own time (the summary's "in X s": no
#                           process start, plugin load or preflight)
# The two commits run back to back for each measure, and which one goes first alternates
# from round to round (B A, A B, ...), so that a drift of the machine's load falls on both
# sides alike. The table gives each side's median, the ratio of the medians, the median of
# the per-round ratios (the pairs that ran seconds apart) and every run.
#
# How the two sides are built, and why:
# - Each commit is extracted with 'git archive' into COMPARE_DIR/<sha>/ and built there by its
#   own Makefile (default variant: -O2), only the targets used here. A commit's tree never
#   changes, so the build stays as a cache: the next comparison builds only a new commit.
# - bench_runtime comes from each commit's own bench/bench_runtime.c. It drives the host
#   through internal interfaces (host_init, host_feed, the graph's node counters), which are
#   exactly what issue 12 reshapes: AFTER's source does not compile against BEFORE's headers,
#   and linking it against BEFORE's library would read structs whose layout changed. The
#   timed code is the same in both (a host_feed loop over prices generated beforehand;
#   clock_gettime around one host_feed), the subcommands and output keys are kept stable
#   (see the head of bench_runtime.c), and the script checks that both sides did the same
#   work (equal node updates, equal orders), warning when they did not.
# - qmtl run: each commit's own binary, and ONE plugin file for both, built from BEFORE's
#   tree (a host loads plugins built against an older ABI minor), so the strategy's code is
#   byte-identical on both sides; the events replayed and node computations are checked.
# Every run gets a clean environment (no QMTL_* variables, an empty working directory, so no
# qmtl.yml is picked up) and a timeout.
set -u
ROUNDS=${3:-5}
if [ $# -lt 2 ] || ! [[ $ROUNDS =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: bash bench/compare.sh BEFORE AFTER [ROUNDS]   (ROUNDS a positive integer)" >&2
    exit 2
fi
ROWS=${COMPARE_ROWS:-2000000}
UPD=${COMPARE_UPDATES:-3000000}
LAT=${COMPARE_LATENCY:-1000000}
TO=${COMPARE_TIMEOUT:-300}
JOBS=${COMPARE_JOBS:-2}
for v in ROWS UPD LAT TO JOBS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: $v='${!v}' is not a positive integer" >&2; exit 2; }
done
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(git -C "$HERE" rev-parse --show-toplevel) || exit 2
D=${COMPARE_DIR:-$TOP/build/compare}
mkdir -p "$D" && D=$(cd "$D" && pwd) || exit 2
resolve() {
    git -C "$TOP" rev-parse --verify --quiet "$1^{commit}" ||
        { echo "compare.sh: '$1' is not a commit of $(basename "$TOP")" >&2; return 1; }
}
SHA_B=$(resolve "$1") && SHA_A=$(resolve "$2") || exit 2
START=$(date +%s)
T=$(mktemp -d "${TMPDIR:-/tmp}/qmtl-compare.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/run" "$T/home" "$T/tmp" "$T/plugins"
chmod 700 "$T/plugins"

# Extract and build one commit under $D/<sha> (locked: two comparisons may share the cache).
build() {
    local sha=$1 dir=$D/$1
    (
        flock 9
        if [ ! -e "$dir/.extracted" ]; then
            rm -rf "$dir" && mkdir -p "$dir" &&
                git -C "$TOP" archive "$sha" | tar -x -C "$dir" && touch "$dir/.extracted" ||
                { echo "compare.sh: cannot extract $sha into $dir" >&2; exit 1; }
        fi
        [ -e "$dir/bench/bench_runtime.c" ] ||
            { echo "compare.sh: commit ${sha:0:12} has no bench/bench_runtime.c" >&2; exit 1; }
        echo "building ${sha:0:12} in $dir (log: $dir.build.log)" >&2
        env -u CFLAGS -u VARIANT -u V -u B make -C "$dir" -j"$JOBS" --no-print-directory \
            build/bin/qmtl build/bench/bench_runtime build/fixtures/rt_bench_chain.so \
            > "$dir.build.log" 2>&1 ||
            { tail -n 30 "$dir.build.log" >&2; echo "compare.sh: build of ${sha:0:12} failed" >&2; exit 1; }
    ) 9> "$dir.lock"
}
build "$SHA_B" || exit 1
[ "$SHA_A" = "$SHA_B" ] || build "$SHA_A" || exit 1
cp "$D/$SHA_B/build/fixtures/rt_bench_chain.so" "$T/plugins/" || exit 1

# The CSV of N one-second bars (bench/lib.sh), made once per size and kept in the cache.
csv_of() {
    local f=$D/bars-1s-$1.csv
    if [ ! -s "$f" ]; then
        . "$HERE/lib.sh"
        echo "writing $f" >&2
        bench_csv "$f.tmp" "$1" 1 && mv "$f.tmp" "$f" || return 1
    fi
    echo "$f"
}
CSV=$(csv_of "$ROWS") || exit 1

# One run in a clean environment: time (wall, user, sys) into $1.time, output into $1.out.
TIMEFORMAT='%3R %3U %3S'
timed() {
    local f=$1
    shift
    { time (cd "$T/run" && env -i PATH=/usr/bin:/bin HOME="$T/home" TMPDIR="$T/tmp" \
        XDG_STATE_HOME="$T/home/state" LC_ALL=C timeout "$TO" "$@" > "$f.out" 2> "$f.err"); } \
        2> "$f.time"
}
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
fail() { echo "compare.sh: $1 failed; its output:" >&2; cat "$2.out" "$2.err" >&2; exit 1; }
# record ROUND SIDE KEY VALUE
record() { echo "$1 $2 $3 ${4:--}" >> "$T/results"; }

updates() { # ROUND SIDE(before|after) SHA
    local r=$1 s=$2 dir=$D/$3 f
    f=$T/$r.$s.upd
    timed "$f" "$dir/build/bench/bench_runtime" builtins "$UPD" || fail "bench_runtime builtins ($s)" "$f"
    record "$r" "$s" updates_per_s "$(val node_updates_per_s "$f.out")"
    record "$r" "$s" work_node_updates "$(val node_updates "$f.out")"
}
latency() {
    local r=$1 s=$2 dir=$D/$3 f
    f=$T/$r.$s.lat
    timed "$f" "$dir/build/bench/bench_runtime" latency "$LAT" || fail "bench_runtime latency ($s)" "$f"
    record "$r" "$s" order_p99_us "$(val order_p99_us "$f.out")"
    record "$r" "$s" order_p50_us "$(val order_p50_us "$f.out")"
    record "$r" "$s" work_orders "$(val orders "$f.out")"
}
replay() {
    local r=$1 s=$2 dir=$D/$3 f wall usr sys
    f=$T/$r.$s.run
    timed "$f" "$dir/build/bin/qmtl" run --offline --plugins "$T/plugins" --data "BTC=$CSV" ||
        fail "qmtl run ($s)" "$f"
    read -r wall usr sys < "$f.time"
    record "$r" "$s" run_ticks_per_s "$(awk -v n="$ROWS" -v w="$wall" 'BEGIN { print n / w }')"
    record "$r" "$s" run_ticks_per_cpu_s \
        "$(awk -v n="$ROWS" -v u="$usr" -v y="$sys" 'BEGIN { print n / (u + y) }')"
    # run: E events from S source(s) in X s (R events/s); N nodes, H shared; C node computations
    record "$r" "$s" replay_ticks_per_s \
        "$(awk -v n="$ROWS" '$1 == "run:" && $8 > 0 { print n / $8 }' "$f.out")"
    record "$r" "$s" work_events "$(awk '$1 == "run:" { print $2 }' "$f.out")"
    record "$r" "$s" work_computations "$(awk '$1 == "run:" { print $16 }' "$f.out")"
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg) # after the builds, which load the machine themselves
echo "rounds: $ROUNDS; before ${SHA_B:0:12}, after ${SHA_A:0:12}; load average $LOAD0" >&2
for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then order="before after"; else order="after before"; fi
    for m in updates latency replay; do
        for s in $order; do
            if [ "$s" = before ]; then "$m" "$r" before "$SHA_B"; else "$m" "$r" after "$SHA_A"; fi
        done
    done
    record "$r" - load1 "$(cut -d' ' -f1 /proc/loadavg)"
    echo "round $r of $ROUNDS done ($(($(date +%s) - START)) s, load $(cut -d' ' -f1 /proc/loadavg))" >&2
done

# Instructions (COMPARE_INSTRUCTIONS=1): each workload once per side under valgrind's
# callgrind at a tenth of the sizes, counting every process of the run (qmtl's preflight
# child included). Slow (about 50 times), but the machine's load does not move it.
tenth() { echo $(($1 >= 10 ? $1 / 10 : 1)); }
instructions() { # SIDE SHA
    local s=$1 dir=$D/$2 f n csv
    csv=$(csv_of "$(tenth "$ROWS")") || exit 1
    for w in builtins latency run; do
        f=$T/i.$s.$w
        case $w in
            builtins) set -- "$dir/build/bench/bench_runtime" builtins "$(tenth "$UPD")" ;;
            latency) set -- "$dir/build/bench/bench_runtime" latency "$(tenth "$LAT")" ;;
            run) set -- "$dir/build/bin/qmtl" run --offline --plugins "$T/plugins" --data "BTC=$csv" ;;
        esac
        timed "$f" valgrind --tool=callgrind --trace-children=yes \
            --callgrind-out-file="$T/tmp/callgrind.%p" "$@" || fail "valgrind $w ($s)" "$f"
        n=$(awk '/Collected :/ { n += $NF } END { print n + 0 }' "$f.err")
        [ "$n" -gt 0 ] || fail "valgrind $w ($s): no instruction count" "$f"
        record i "$s" "instr_$w" "$n"
    done
}
if [ "${COMPARE_INSTRUCTIONS:-0}" = 1 ]; then
    echo "instruction counts under valgrind (COMPARE_INSTRUCTIONS=1)" >&2
    instructions before "$SHA_B"
    instructions after "$SHA_A"
fi

subject() { git -C "$TOP" log -1 --format='%h %ad %s' --date=format:'%Y-%m-%d %H:%M' "$1" | cut -c1-100; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "machine:  $(uname -srm), $(nproc) cores, $cpu, $(cc --version | head -n 1), -O2"
echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC'), $(($(date +%s) - START)) s in all"
echo "before:   $(subject "$SHA_B")"
echo "after:    $(subject "$SHA_A")"
echo "load:     $LOAD0 at the start (1, 5, 15 min); $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "sizes:    builtins $UPD ticks, latency $LAT ticks, qmtl run $ROWS CSV rows; $ROUNDS rounds"
echo
python3 - "$T/results" "$ROWS" "$(tenth "$UPD")" "$(tenth "$LAT")" "$(tenth "$ROWS")" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
nrows = int(sys.argv[2])
def num(v):
    try:
        return float(v)
    except ValueError:
        return None
def runs(key, side):
    return [num(v) for r, s, k, v in rows if k == key and s == side and num(v) is not None]
def paired(key):
    by = {}
    for r, s, k, v in rows:
        if k == key and num(v) is not None:
            by.setdefault(r, {})[s] = num(v)
    return [p["after"] / p["before"] for p in by.values() if p.get("before") and "after" in p]
MEASURES = [  # key, label, scale, format, better
    ("updates_per_s", "runtime updates/s (bench_runtime builtins, in process)", 1e6, "%.2fM", "higher"),
    ("order_p99_us", "tick-to-order p99, us (bench_runtime latency)", 1, "%.3f", "lower"),
    ("order_p50_us", "tick-to-order p50, us (same runs)", 1, "%.3f", "lower"),
    ("run_ticks_per_s", "ticks/s through qmtl run --offline, wall clock", 1e6, "%.2fM", "higher"),
    ("run_ticks_per_cpu_s", "ticks per CPU-second, same runs (user + sys)", 1e6, "%.2fM", "higher"),
    ("replay_ticks_per_s", "ticks/s of the replay alone, same runs (the run's own 'in X s')",
     1e6, "%.2fM", "higher"),
]
print("| measure | before (median) | after (median) | after/before "
      "| per-round after/before (median) | better | runs before / after |")
print("|---|---:|---:|---:|---:|---|---|")
for key, label, scale, fmt, better in MEASURES:
    b, a = runs(key, "before"), runs(key, "after")
    if not b or not a:
        print("| %s | - | - | - | - | %s | missing |" % (label, better))
        continue
    mb, ma = statistics.median(b), statistics.median(a)
    ratio = "%.3f" % (ma / mb) if mb else "-"
    pr = paired(key)
    pmed = "%.3f" % statistics.median(pr) if pr else "-"
    each = lambda xs: " ".join(fmt % (x / scale) for x in xs)
    print("| %s | %s | %s | %s | %s | %s | %s / %s |" % (label, fmt % (mb / scale), fmt % (ma / scale),
          ratio, pmed, better, each(b), each(a)))
icount = [("instr_builtins", "bench_runtime builtins %s" % sys.argv[3]),
          ("instr_latency", "bench_runtime latency %s" % sys.argv[4]),
          ("instr_run", "qmtl run --offline, chain, %s CSV rows" % sys.argv[5])]
if any(runs(k, "before") for k, _ in icount):
    print()
    print("| instructions (valgrind callgrind, whole process) | before | after | after/before |")
    print("|---|---:|---:|---:|")
    for key, label in icount:
        b, a = runs(key, "before"), runs(key, "after")
        if b and a:
            print("| %s | %.1fM | %.1fM | %.3f |" % (label, b[0] / 1e6, a[0] / 1e6, a[0] / b[0]))
print()
print("load average (1 min) after each round: " + " ".join(v for r, s, k, v in rows if k == "load1"))
# Same work on both sides? (Otherwise the ratios compare different things.)
notes = []
WORK = [("work_node_updates", "node updates (builtins)"), ("work_orders", "orders (latency)"),
        ("work_events", "events replayed by qmtl run"),
        ("work_computations", "node computations (qmtl run)")]
for key, what in WORK:
    vals = {s: sorted(set(v for r, s2, k, v in rows if k == key and s2 == s))
            for s in ("before", "after")}
    if vals["before"] == vals["after"] and len(vals["before"]) == 1 and vals["before"][0] != "-":
        notes.append("%s %s" % (what, vals["before"][0]))
    else:
        notes.append("WARNING: %s differ: before %s, after %s" % (what, vals["before"], vals["after"]))
ev = set(v for r, s, k, v in rows if k == "work_events")
if ev != {str(nrows)}:
    notes.append("WARNING: qmtl run replayed %s events of %d rows" % (sorted(ev), nrows))
print("same work on both sides: " + "; ".join(notes))
PY
