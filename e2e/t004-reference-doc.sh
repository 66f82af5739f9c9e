#!/bin/bash
# docs/reference.md is exactly what the binary's --help texts say.
. "$(dirname "$0")/lib.sh"
expect_rc 0 "reference regenerates" scripts/gen-reference.sh "$QMTL"
cp "$E2E_TMP/out" "$E2E_TMP/reference.md"
if diff -u docs/reference.md "$E2E_TMP/reference.md" > "$E2E_TMP/diff"; then
    ok "docs/reference.md matches the --help texts"
else
    not_ok "docs/reference.md is stale: run scripts/gen-reference.sh build/bin/qmtl > docs/reference.md"
    sed 's/^/# /' "$E2E_TMP/diff" | head -40
fi
finish
