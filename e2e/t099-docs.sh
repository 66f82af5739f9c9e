#!/bin/bash
# Docs are tests: every runnable block of README.md and docs/*.md runs against this build
# (the markers and the rules are described at the top of e2e/doc_blocks.py).
. "$(dirname "$0")/lib.sh"
command -v python3 > /dev/null || { echo "# python3 missing"; exit 77; }
RUN=(python3 "$(dirname "$0")/doc_blocks.py" --root "$(pwd)" --build "$QMTL_BUILD")

# 1. The runner itself: each kind of failure is caught, each kind of success passes.
mkdir -p "$E2E_TMP/self"
cat > "$E2E_TMP/self/doc.md" <<'EOF'
<!-- runnable -->
```sh
true
```
<!-- runnable -->
```sh
true
false
true
```
<!-- runnable -->
```sh
$ echo one
one
$ echo two
three
```
<!-- runnable -->
```sh
printf 'run: 7 bars in 0.25 s\nlast\n'
```
<!-- output -->
```text
run: 7 bars in ... s
...
```
<!-- runnable -->
```sh
echo actual
```
<!-- output -->
```text
expected
```
<!-- runnable timeout=1 -->
```sh
sleep 30
```
<!-- runnable exit=3 -->
```sh
exit 3
```
<!-- file: sub/hello.txt -->
```text
hello from a file block
```
<!-- runnable -->
```sh
$ cat sub/hello.txt
hello from a file block
```
<!-- runnable service wait="ready on 127.0.0.1:[0-9]+" -->
```sh
bash -c 'echo $$ > svc.pid; trap "exit 0" TERM; echo "ready on 127.0.0.1:8000"; sleep 300 & wait'
```
<!-- runnable service wait="ready" -->
```sh
bash -c 'echo ready; sleep 300'
```
<!-- runnable -->
```sh
sqlite3 left-behind.db 'create table t(x)' 2>/dev/null || : > left-behind.db
```
EOF
"${RUN[@]}" --scratch "$E2E_TMP/self/scratch" "$E2E_TMP/self/doc.md" > "$E2E_TMP/self/out" 2>&1
rc=$?
grep -E '^(ok|not ok) ' "$E2E_TMP/self/out" | sed 's/ (.*//; s/ - .*doc.md/ -/' > "$E2E_TMP/self/got"
cat > "$E2E_TMP/self/want" <<'EOF'
ok 1 -:2
not ok 2 -:6
not ok 3 -:12
ok 4 -:19
not ok 5 -:28
not ok 6 -:36
ok 7 -:40
ok 8 -:48
ok 9 -:53
ok 10 -:57
ok 11 -:61
ok 12 -:53: service still running, stopped by SIGTERM
not ok 13 -:57: service still running, stopped by SIGTERM
not ok 14 -: no database written into the working directory
EOF
if diff -u "$E2E_TMP/self/want" "$E2E_TMP/self/got" > "$E2E_TMP/self/diff"; then
    ok "runner: failing exit, wrong output, timeout, unclean service stop and a left-behind database are caught"
else
    not_ok "runner: results differ from what the self-test document expects"
    sed 's/^/# /' "$E2E_TMP/self/diff" "$E2E_TMP/self/out"
fi
check "runner: a failing document fails the run" [ "$rc" -ne 0 ]
check "runner: a wrong output is shown against the doc" grep -q '^#   --- doc' "$E2E_TMP/self/out"
svc_out=$(cat "$E2E_TMP"/self/scratch/*/blocks/53.out)
check "runner: ports in block text are moved off 8000 ($svc_out)" \
    bash -c "[[ '$svc_out' =~ ^'ready on 127.0.0.1:'[0-9]+$ && '$svc_out' != *:8000 ]]"
pid=$(cat "$E2E_TMP"/self/scratch/*/work/svc.pid 2> /dev/null)
check "runner: a service block is stopped at the end of its document" \
    bash -c "[ -n '$pid' ] && ! kill -0 '$pid' 2> /dev/null"

# 2. The documentation.
"${RUN[@]}" --scratch "$E2E_TMP/docs" README.md docs/*.md > "$E2E_TMP/docs.out" 2>&1
rc=$?
grep -v '^1\.\.' "$E2E_TMP/docs.out" | sed -E "s/^(ok|not ok) [0-9]+ - /\1 docs: /" > "$E2E_TMP/docs.tap"
while IFS= read -r line; do
    case "$line" in
    "ok docs: "*) ok "${line#ok docs: }" ;;
    "not ok docs: "*) not_ok "${line#not ok docs: }" ;;
    *) echo "$line" ;;
    esac
done < "$E2E_TMP/docs.tap"
check "every runnable doc block passed (runner exit $rc)" [ "$rc" -eq 0 ]
finish
