#!/bin/bash
# make install PREFIX=...: binary, SDK headers, testkit library, pkg-config file; a plugin
# builds against the installed header alone and loads.
. "$(dirname "$0")/lib.sh"
ROOT=$(pwd)
P=$E2E_TMP/prefix

expect_rc 0 "make install PREFIX=tmp" make -s -C "$ROOT" install PREFIX="$P" VARIANT="$QMTL_VARIANT"
check "binary installed" test -x "$P/bin/qmtl"
check "qmtl.h installed" test -f "$P/include/qmtl/qmtl.h"
check "testkit.h installed" test -f "$P/include/qmtl/testkit.h"
check "testkit library installed" test -f "$P/lib/libqmtl_testkit.a"
check "pkg-config file installed" test -f "$P/lib/pkgconfig/qmtl.pc"
expect_rc 0 "pkg-config --cflags qmtl" env PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --cflags qmtl
check "cflags point at the prefix" grep -q -- "-I$P/include" "$E2E_TMP/out"

# a plugin built against the installed header only, with the documented flags
cp "$ROOT/tests/fixtures/ok.c" "$E2E_TMP/s.c"
expect_rc 0 "plugin builds against installed header" \
    cc -std=c11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -I"$P/include" -shared \
       -Wl,-z,defs -o "$E2E_TMP/s.so" "$E2E_TMP/s.c"
expect_rc 0 "installed qmtl checks it" "$P/bin/qmtl" plugin check "$E2E_TMP/s.so"
finish
