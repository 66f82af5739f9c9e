#!/usr/bin/env bash
# The golden vectors in tests/data/vectors/ are byte-identical copies of the published set.
# The published set lives next to the checkout only on the maintainers' machines
# (../shared/vectors, or QMTL_PUBLISHED_VECTORS); without it this script is skipped.
. "$(dirname "$0")/lib.sh"
PUB=${QMTL_PUBLISHED_VECTORS:-../shared/vectors}
OURS=tests/data/vectors
if [ ! -d "$PUB" ]; then
    echo "# skipped: no published vectors at $PUB (a user's clone has only tests/data/vectors)"
    exit 77
fi
for f in "$PUB"/*.json; do
    n=$(basename "$f")
    check "$n: tests/data copy is byte-identical to the published one" cmp -s "$f" "$OURS/$n"
done
for f in "$OURS"/*.json; do
    n=$(basename "$f")
    check "$n: published too (no private vector)" test -f "$PUB/$n"
done
finish
