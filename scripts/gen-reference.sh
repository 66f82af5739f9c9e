#!/bin/bash
# Write the command-line reference (docs/reference.md) from the binary's own --help
# texts, so that the document cannot drift from the code (e2e/t004 compares them).
# Usage: scripts/gen-reference.sh QMTL_BINARY > docs/reference.md
set -eu
Q=$1
cat <<'HDR'
# Command-line reference

Generated from `qmtl --help` and `qmtl <command> --help` by `scripts/gen-reference.sh`;
`make check` fails when this file and the binary disagree. Exit codes shared by every
command: 0 success, 1 failure while doing the work, 2 usage error, 3 not available in
this build (commands document their own additions).

```
HDR
"$Q" --help
echo '```'
for c in $("$Q" --help | awk '/^commands:/{f=1; next} f && /^  [a-z]/{print $1}'); do
    printf '\n## qmtl %s\n\n```\n' "$c"
    "$Q" "$c" --help
    echo '```'
done
