#!/bin/bash
# qmtl node-id reproduces every NodeID vector from the command line, plus its error cases.
# Needs: QMTL (the binary), python3 (to pick the vectors apart).
set -u
: "${QMTL:?QMTL must point at the qmtl binary}"
VEC=tests/data/vectors/nodeid.json
[ -f "$VEC" ] || { echo "# $VEC not found"; exit 77; }
command -v python3 >/dev/null || { echo "# python3 not found"; exit 77; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1)); }
check() { if [ "$1" = "$2" ]; then ok "$3"; else notok "$3"; echo "#   got:  $1"; echo "#   want: $2"; fi; }

# one file per vector: node.json, canonical, node_id; plus all nodes as one array
python3 - "$VEC" "$T" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
out = sys.argv[2]
names = []
for v in d["vectors"]:
    name = v["name"]
    names.append(name)
    with open(f"{out}/{name}.json", "w", encoding="utf-8") as f:
        json.dump(v["node"], f, ensure_ascii=False, indent=1)
    with open(f"{out}/{name}.canonical", "w", encoding="utf-8") as f:
        f.write(v["canonical"])
    with open(f"{out}/{name}.id", "w") as f:
        f.write(v["node_id"])
with open(f"{out}/all.json", "w", encoding="utf-8") as f:
    json.dump([v["node"] for v in d["vectors"]], f, ensure_ascii=False)
with open(f"{out}/all.crc", "w") as f:
    f.write(str(d["crc32"]["crc32"]))
with open(f"{out}/names", "w") as f:
    f.write("\n".join(names) + "\n")
PY
[ -s "$T/names" ] || { echo "not ok 1 - could not read the vectors"; exit 1; }

# field of a --json output
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]], end="")' "$1"; }

while read -r name; do
    out=$("$QMTL" node-id --json "$T/$name.json") || { notok "$name: exit status $?"; continue; }
    check "$(printf '%s' "$out" | jget canonical)" "$(cat "$T/$name.canonical")" "$name: canonical form"
    check "$(printf '%s' "$out" | jget node_id)" "$(cat "$T/$name.id")" "$name: node id"
    # text output, read from stdin
    txt=$("$QMTL" node-id - < "$T/$name.json")
    check "$(printf '%s\n' "$txt" | sed -n 's/^node_id: *//p')" "$(cat "$T/$name.id")" "$name: text output from stdin"
done < "$T/names"

# the array: every id in order and the CRC-32
out=$("$QMTL" node-id --json "$T/all.json")
check "$(printf '%s' "$out" | jget crc32)" "$(cat "$T/all.crc")" "array: crc32"
ids=$(printf '%s' "$out" | python3 -c 'import json,sys; print(",".join(x["node_id"] for x in json.load(sys.stdin)["nodes"]))')
want=$(python3 -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["crc32"]["node_ids"]))' "$VEC")
check "$ids" "$want" "array: node ids in order"
check "$("$QMTL" node-id "$T/all.json" | sed -n 's/^crc32: *//p')" "$(cat "$T/all.crc")" "array: crc32 in text output"
check "$(echo '[]' | "$QMTL" node-id --json | jget crc32)" "0" "empty array: crc32 0"

# errors: exit status and a message naming the problem
err_case() { # desc want_rc want_substring cmd...
    local desc=$1 want_rc=$2 want_msg=$3; shift 3
    "$@" > "$T/out" 2> "$T/err"; local rc=$?
    if [ "$rc" = "$want_rc" ] && grep -qF -- "$want_msg" "$T/err" && [ ! -s "$T/out" ]; then
        ok "$desc"
    else
        notok "$desc"; echo "#   rc=$rc (want $want_rc), stderr: $(cat "$T/err")"
    fi
}
printf '{"node_type": "A",\n  "interval": 60,\n  "params": {"a": }\n}\n' > "$T/bad.json"
err_case "syntax error names file, line and column" 1 "bad.json:3:" "$QMTL" node-id "$T/bad.json"
echo '{"interval": 60}' > "$T/nonode.json"
err_case "missing node_type is named" 1 "field 'node_type': missing" "$QMTL" node-id "$T/nonode.json"
echo '[{"node_type": "A"}, {"node_type": "B", "interval": "1m"}]' > "$T/badint.json"
err_case "bad interval is named with its node index" 1 "node 1: field 'interval'" "$QMTL" node-id --json "$T/badint.json"
echo '{"node_type": "A", "schema_compat_id": "x", "schema_id": "y"}' > "$T/schema.json"
err_case "schema_compat_id/schema_id mismatch" 1 "must match" "$QMTL" node-id "$T/schema.json"
echo '{"node_type": "A", "params": {"x": NaN}}' > "$T/nan.json"
err_case "NaN is refused" 1 "invalid JSON" "$QMTL" node-id "$T/nan.json"
echo '"just a string"' > "$T/str.json"
err_case "non-node JSON is refused" 1 "expected a node object or an array" "$QMTL" node-id "$T/str.json"
err_case "missing file" 1 "cannot open" "$QMTL" node-id "$T/does-not-exist.json"
err_case "unknown option is a usage error" 2 "unknown option" "$QMTL" node-id --frobnicate
err_case "two files is a usage error" 2 "too many arguments" "$QMTL" node-id "$T/str.json" "$T/str.json"
if "$QMTL" node-id --help | grep -q 'Exit status'; then ok "--help documents exit codes"; else notok "--help documents exit codes"; fi

echo "1..$n"
[ "$fails" -eq 0 ]
