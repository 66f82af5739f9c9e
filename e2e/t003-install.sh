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

# The testkit is a front-end of the runtime: its archive holds the testkit and the runtime
# (common/, host/, BLAKE3) and nothing of the services or the CLI.
allowed=$(cd "$ROOT" && ls testkit/*.c common/*.c host/*.c host/*/*.c | sed 's|.*/||; s|\.c$|.o|')
foreign=$(ar t "$P/lib/libqmtl_testkit.a" | grep -v '^blake3' | grep -vxF "$allowed")
check "testkit archive: testkit and runtime objects only" test -z "$foreign"
[ -z "$foreign" ] || echo "# not runtime:" $foreign
check "... with the testkit in it" sh -c "ar t '$P/lib/libqmtl_testkit.a' | grep -qx testkit.o"

# A strategy author's test links with the pkg-config flags alone (the same libraries as
# 'qmtl sdk --libs'), none of the services' (SQLite, WebSocket, NATS, OpenSSL).
expect_rc 0 "pkg-config --libs qmtl" env PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --libs qmtl
pc_libs=$(sed 's/^-L[^ ]* //; s/ *$//' "$E2E_TMP/out")
expect_rc 0 "qmtl sdk --libs" "$P/bin/qmtl" sdk --libs
sdk_libs=$(sed 's/^-L[^ ]* //; s/ -fsanitize=.*//; s/ *$//' "$E2E_TMP/out")
check "pkg-config and qmtl sdk name the same libraries" test "$pc_libs" = "$sdk_libs"
check "... none of the services'" sh -c "! echo '$pc_libs' | grep -qE -- '-l(sqlite3|wslay|nats|crypto|event_openssl)( |$)'"
cat > "$E2E_TMP/tk.c" <<'C'
#include <qmtl/testkit.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    struct qmtl_err err;
    struct qmtl_testkit *tk = qmtl_testkit_load(argc > 1 ? argv[1] : "", NULL, &err);
    if (!tk || qmtl_testkit_feed_value(tk, "TEST", 60, 1.5, &err) ||
        qmtl_testkit_finish(tk, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    qmtl_testkit_free(tk);
    puts("testkit ok");
    return 0;
}
C
san=
[ "$QMTL_VARIANT" = asan ] && san="-fsanitize=address,undefined"
tk_flags=$(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --cflags --libs qmtl)
expect_rc 0 "a testkit program builds with the pkg-config flags alone" \
    cc -std=c11 -Wall -Wextra -Werror $san -o "$E2E_TMP/tk" "$E2E_TMP/tk.c" $tk_flags
expect_rc 0 "... and runs the plugin" "$E2E_TMP/tk" "$E2E_TMP/s.so"
check "... to the end" grep -qx "testkit ok" "$E2E_TMP/out"
finish
