#!/bin/bash
# Backtest results: --report (HTML opened in headless Chromium: charts drawn, no script
# error, no network), 'qmtl report' from a saved --json run, --equity-csv, --trades-csv.
. "$(dirname "$0")/lib.sh"
P=$E2E_TMP/plugins
mkdir -p "$P"
cp "$QMTL_BUILD/plugins/sma_crossover.so" "$QMTL_BUILD/plugins/state_machine.so" "$P/"
cd "$E2E_TMP" || exit 1
DATA='BTC=gbm:count=6000,interval=60,seed=11'

expect_rc 0 "run with --report, --equity-csv, --trades-csv" "$QMTL" run --offline --plugins "$P" \
    --data "$DATA" --report "$E2E_TMP/out.html" --equity-csv eq.csv --trades-csv trades.csv
check "says where the report is" grep -q "report written to $E2E_TMP/out.html" "$E2E_TMP/err"
check "summary names fills and round trips, shows fees" \
    grep -q "^strategy .* fills  *trips .* fees$" "$E2E_TMP/out"
check "summary has the portfolio total row" grep -q "^TOTAL (portfolio) " "$E2E_TMP/out"
expect_rc 0 "same run, --json" "$QMTL" run --offline --plugins "$P" --data "$DATA" --json
cp "$E2E_TMP/out" run.json

check "the CSVs agree with the --json document" python3 - run.json eq.csv trades.csv <<'PY'
import csv, json, sys
d = json.load(open(sys.argv[1]))
eq = list(csv.DictReader(open(sys.argv[2])))
tr = list(csv.DictReader(open(sys.argv[3])))
for s in d["strategies"]:
    rows = [r for r in eq if r["strategy"] == s["name"]]
    e = s["equity"]
    assert len(rows) == len(e["ts"]) == s["stats"]["bars"] > 5000, (s["name"], len(rows))
    assert [int(r["ts"]) for r in rows] == e["ts"]
    assert all(abs(float(r["equity"]) - v) <= 1e-9 * abs(v) for r, v in zip(rows, e["equity"]))
    t = [r for r in tr if r["strategy"] == s["name"]]
    assert len(t) == s["round_trips"] == len(s["trades"]) == s["stats"]["round_trips"] > 10
    assert all(int(r["bars"]) >= 0 and int(r["exit_ts"]) >= int(r["entry_ts"]) for r in t)
    # flat at the end: the round trips' PnL is the strategy's PnL
    if not e["in_market"][-1]:
        got = sum(float(r["pnl"]) for r in t)
        assert abs(got - s["pnl"]) <= 1e-6 * (1 + abs(s["pnl"])), (got, s["pnl"])
    assert abs(s["stats"]["fees"] - s["fees"]) < 1e-9 and s["fills"] > s["round_trips"]
pf = [r for r in eq if r["strategy"] == "(portfolio)"]
assert len(pf) == len(d["portfolio"]["equity"]["ts"]) > 5000
want = sum(s["final_equity"] for s in d["strategies"])
assert abs(float(pf[-1]["equity"]) - want) <= 1e-6 * want, (pf[-1], want)
PY

expect_rc 0 "qmtl report run.json -o" "$QMTL" report run.json -o "$E2E_TMP/saved.html"
check "report from the saved run has the same sections" python3 - out.html saved.html <<'PY'
import re, sys
a, b = (open(p).read() for p in sys.argv[1:3])
for h in (a, b):
    assert h.count('<svg class="chart"') == 6, h.count('<svg class="chart"')  # 3 x 2
    assert "Monthly returns" in h and "Round trips (" in h and "Comparison" in h
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', h), "external resource"
    assert "<link" not in h
ids = lambda h: re.findall(r'<h2 id="([^"]+)"', h)
assert ids(a) == ids(b), (ids(a), ids(b))
PY
printf '{"strategies": [{"name": "x"}]}' > bad.json
expect_rc 1 "a malformed run document is refused" "$QMTL" report bad.json -o bad.html
check "... naming the field" grep -q "strategies\[0\]" "$E2E_TMP/err"

# The report in a real browser.
if ! command -v chromium > /dev/null; then
    echo "# SKIP browser checks: chromium is not installed (scripts/ensure-deps.sh installs it as root)"
    [ "$T_FAIL" -eq 0 ] || { finish; exit 1; }
    exit 77
fi
CHR=(timeout 120 chromium --headless --disable-gpu --no-sandbox --no-first-run
    --disable-extensions --disable-dev-shm-usage --hide-scrollbars
    --force-device-scale-factor=1 --user-data-dir="$E2E_TMP/chromium" --window-size=1280,2400)
"${CHR[@]}" --enable-logging=stderr --v=0 --dump-dom "file://$E2E_TMP/out.html" \
    > dom.html 2> chromium.log
check "chromium ran the report's script to the end" grep -q 'data-rendered="ok"' dom.html
check "no script error in the page" grep -q '<pre id="qmtl-errors" hidden=""></pre>' dom.html
check "no console error" bash -c "! grep -Ei 'uncaught|CONSOLE.*error' '$E2E_TMP/chromium.log'"
"${CHR[@]}" --screenshot="$E2E_TMP/shot.png" "file://$E2E_TMP/out.html" > /dev/null 2>&1
check "the charts are drawn (coloured pixels inside each chart's box)" python3 - dom.html shot.png <<'PY'
import re, struct, sys, zlib

def png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows

w, h, bpp, rows = png(sys.argv[2])
boxes = [tuple(map(int, b.split(","))) for b in
         re.findall(r'data-box="(-?\d+,-?\d+,\d+,\d+)"', open(sys.argv[1]).read())]
assert len(boxes) == 6, boxes
seen = 0
for bx, by, bw, bh in boxes:
    if by + bh > h or bw < 100:
        continue  # below the screenshot
    coloured = 0
    for y in range(by + 2, by + bh - 2):
        r = rows[y]
        for x in range(bx + 2, min(bx + bw - 2, w)):
            p = r[x * bpp:x * bpp + 3]
            if max(p) - min(p) > 60:  # a saturated colour: a series, not text or grid
                coloured += 1
    assert coloured > bw // 2, ("blank chart", (bx, by, bw, bh), coloured)
    seen += 1
assert seen >= 3, ("charts inside the screenshot", seen, h)
# and the page outside the charts is not all colour (a sanity check of the decoder)
assert sum(1 for x in range(0, w, 7) if max(rows[5][x*bpp:x*bpp+3]) > 240) > w // 14
PY
finish
