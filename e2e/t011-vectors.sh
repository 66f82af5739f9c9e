#!/usr/bin/env bash
# The golden vectors in tests/data/vectors/ are byte-identical copies of the published set:
# SHA256SUMS records the published files' digests, checked in every clone. A maintainer with
# the published set at hand can also compare byte for byte: QMTL_PUBLISHED_VECTORS=DIR.
. "$(dirname "$0")/lib.sh"
OURS=tests/data/vectors
check "SHA256SUMS lists every vector" \
    test "$(ls "$OURS"/*.json | wc -l)" -eq "$(wc -l < "$OURS/SHA256SUMS")"
while read -r sum n; do
    check "$n: digest of the published vector" \
        test "$(sha256sum "$OURS/$n" 2> /dev/null | cut -d' ' -f1)" = "$sum"
done < "$OURS/SHA256SUMS"
if [ -n "${QMTL_PUBLISHED_VECTORS:-}" ]; then
    for f in "$QMTL_PUBLISHED_VECTORS"/*.json; do
        n=$(basename "$f")
        check "$n: byte-identical to $QMTL_PUBLISHED_VECTORS" cmp -s "$f" "$OURS/$n"
    done
fi
finish
