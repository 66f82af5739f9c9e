#!/bin/bash
# make demo: scaffold a strategy project with sample data into BUILD/demo-project,
# build it, run it offline (prints the backtest summary) and say where it is.
# Usage: scripts/demo.sh [BUILD_DIR [PROJECT_DIR]]
#   (the qmtl binary is BUILD_DIR/bin/qmtl, already built; PROJECT_DIR defaults to
#   BUILD_DIR/demo-project and is replaced)
set -eu
B=${1:-build}
QMTL="$(cd "$B/bin" && pwd)/qmtl"
P=${2:-$B/demo-project}
TEMPLATE=${QMTL_DEMO_TEMPLATE:-general}

rm -rf "$P"
"$QMTL" project init --path "$P" --strategy "$TEMPLATE" --with-sample-data
P_ABS=$(cd "$P" && pwd)
echo
echo "== building and running it offline: make -C $P run"
# The project is built as its author would build it: nothing inherited from this make.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u QMTL -u CFLAGS -u LDFLAGS \
    make --no-print-directory -C "$P" run
echo
echo "demo project: $P_ABS"
echo "  cd $P_ABS"
echo "  make test        # its unit tests (Check + the qmtl testkit)"
echo "  \$EDITOR strategy.c && make run"
