#!/bin/bash
# The qmtl command line: help, unknown commands, every subcommand's usage.
. "$(dirname "$0")/lib.sh"

expect_rc 0 "qmtl --help" "$QMTL" --help
for c in project run service config plugin world node-id sdk; do
    check "--help lists '$c'" grep -q "^  $c " "$E2E_TMP/out"
done
for c in project run service config plugin world node-id sdk; do
    expect_rc 0 "qmtl $c --help" "$QMTL" "$c" --help
    check "qmtl $c --help shows usage" grep -q "^usage: qmtl $c" "$E2E_TMP/out"
done
expect_rc 2 "unknown command" "$QMTL" frobnicate
check "unknown command is named" grep -q "unknown command 'frobnicate'" "$E2E_TMP/err"
check "unknown command prints help" grep -q "^usage: qmtl <command>" "$E2E_TMP/err"
expect_rc 2 "no command" "$QMTL"
expect_rc 0 "qmtl --version" "$QMTL" --version
finish
