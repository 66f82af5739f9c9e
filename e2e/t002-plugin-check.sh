#!/bin/bash
# qmtl plugin check on every loader fixture: the expected line and exit code.
. "$(dirname "$0")/lib.sh"
F=$QMTL_BUILD/fixtures

expect_rc 0 "ok.so is loadable" "$QMTL" plugin check "$F/ok.so"
check "reports name" grep -q "^name: *ok$" "$E2E_TMP/out"
check "reports version" grep -q "^version: *1.2.3$" "$E2E_TMP/out"
check "reports ABI" grep -q "^abi: *1.2 (host 1.2)$" "$E2E_TMP/out"
check "reports callbacks" grep -q "^callbacks: *setup, on_start$" "$E2E_TMP/out"
check "lists its nodes" grep -q "^nodes: *1$" "$E2E_TMP/out"
check "prints the stream's NodeID" grep -qE "id: blake3:[0-9a-f]{64}$" "$E2E_TMP/out"
expect_rc 0 "--json" "$QMTL" plugin check --json "$F/ok.so"
check "--json is JSON with ok=true" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["name"]=="ok"' "$E2E_TMP/out"
expect_rc 0 "a plugin built against the 1.0 header is loadable" "$QMTL" plugin check "$F/legacy.so"
check "legacy: reports ABI 1.0 on a 1.2 host" grep -q "^abi: *1.0 (host 1.2)$" "$E2E_TMP/out"
check "legacy: its four nodes" grep -q "^nodes: *4$" "$E2E_TMP/out"
expect_rc 0 "a plugin built against the 1.1 header is loadable" "$QMTL" plugin check "$F/legacy11.so"
check "legacy11: reports ABI 1.1 on a 1.2 host" grep -q "^abi: *1.1 (host 1.2)$" "$E2E_TMP/out"

refuse() { # fixture expected-substring
    expect_rc 1 "$1 is refused" "$QMTL" plugin check "$F/$1.so"
    check "$1: one line naming the problem" grep -qF -- "$2" "$E2E_TMP/err"
    check "$1: exactly one line" test "$(wc -l < "$E2E_TMP/err")" -eq 1
}
refuse no_descriptor "plugin '$F/no_descriptor.so': no descriptor: symbol 'qmtl_plugin_descriptor' not found"
refuse wrong_magic "plugin '$F/wrong_magic.so': bad descriptor magic 0xdeadbeef"
refuse newer_minor "plugin '$F/newer_minor.so': ABI 1.3 is newer than the host's 1.2"
refuse other_major "plugin '$F/other_major.so': ABI 2.0, host supports 1.x"
refuse short_size "plugin '$F/short_size.so': descriptor size 16 is smaller than the ABI 1.0 layout"
refuse missing_setup "plugin 'missing_setup' ($F/missing_setup.so): missing required callback 'setup'"
refuse bad_name "plugin '$F/bad_name.so': descriptor name is missing or invalid"
refuse not_elf "plugin '$F/not_elf.so': not an ELF file"
refuse truncated "plugin '$F/truncated.so': truncated file (600 bytes"
refuse unresolved "undefined symbol: qmtl_fixture_missing_symbol"
refuse foreign_machine "plugin '$F/foreign_machine.so': built for another machine (ELF machine 40"
refuse elf32 "plugin '$F/elf32.so': built for another machine (ELF class 1"
refuse ctor_exit_bad_magic "plugin '$F/ctor_exit_bad_magic.so': bad descriptor magic 0xdeadbeef"
refuse ctor_exit "plugin '$F/ctor_exit.so': refused by preflight: exited with status 3 while loading"
refuse setup_segv "plugin 'setup_segv' ($F/setup_segv.so): refused by preflight: crashed with signal 11"
refuse tag_cycle "plugin 'tag_cycle' ($F/tag_cycle.so): graph: cycle through node 'tq'"
QMTL__HOST__PREFLIGHT_TIMEOUT_S=0.5 refuse setup_loop \
    "plugin 'setup_loop' ($F/setup_loop.so): refused by preflight: setup() did not finish within 0.5 s (killed)"
refuse setup_fails "plugin 'setup_fails' ($F/setup_fails.so): setup failed with QMTL_EINVAL (invalid argument): parameter 'window' is required"
expect_rc 0 "--json with nodes" "$QMTL" plugin check --json "$F/ok.so"
check "--json nodes carry NodeIDs" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["nodes"])==1 and d["nodes"][0]["id"].startswith("blake3:")' "$E2E_TMP/out"
for so in "$QMTL_BUILD"/plugins/*.so; do
    expect_rc 0 "in-tree plugin $(basename "$so") passes plugin check" "$QMTL" plugin check "$so"
done
expect_rc 1 "missing file" "$QMTL" plugin check "$F/nope.so"
check "missing file: named" grep -qF "plugin '$F/nope.so': cannot open: No such file or directory" "$E2E_TMP/err"
expect_rc 2 "no path is a usage error" "$QMTL" plugin check
expect_rc 2 "unknown subcommand" "$QMTL" plugin frob
finish
