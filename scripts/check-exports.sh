#!/bin/sh
# Every plugin exports exactly one dynamic symbol of its own: the descriptor.
# Usage: scripts/check-exports.sh PLUGIN.so...
set -u
rc=0
for so in "$@"; do
    syms=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^_' | sort)
    if [ "$syms" != "qmtl_plugin_descriptor" ]; then
        echo "exports: $so exports [$(echo $syms)], expected exactly qmtl_plugin_descriptor" >&2
        rc=1
    fi
done
[ $rc -eq 0 ] && echo "  exports: $# plugins export only qmtl_plugin_descriptor"
exit $rc
