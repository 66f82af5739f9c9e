#!/bin/bash
# The rooms' layering at #include level (docs/architecture.md, "Modules"): common/ includes
# nothing above it; host/, gateway/ and dagmanager/ never include each other, the CLI or
# the testkit; the testkit sees the runtime only, through host/embed.h; sdk/include/ is
# headers only; one HTTP client.
. "$(dirname "$0")/lib.sh"

# forbidden ROOM PATTERN: every #include "X/..." in ROOM's sources whose X matches
forbidden() {
    grep -HnE "^[[:space:]]*#[[:space:]]*include[[:space:]]+\"($2)/" \
        $(find "$1" -name '*.[ch]' 2>/dev/null) /dev/null
}
layer() {
    local room=$1 banned=$2 hits
    hits=$(forbidden "$room" "$banned")
    if [ -z "$hits" ]; then ok "$room/ includes nothing of $banned"; else
        not_ok "$room/ includes $banned"; echo "$hits" | sed 's/^/# /'; fi
}
layer common "host|gateway|dagmanager|cli|testkit"
layer host "gateway|dagmanager|cli|testkit"
layer gateway "host|dagmanager|cli|testkit"
layer dagmanager "host|gateway|cli|testkit"
layer testkit "gateway|dagmanager|cli"
# ... and of the runtime, only its front door host/embed.h (plus common/ headers)
hits=$(grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' $(find testkit -name '*.[ch]') /dev/null |
    while IFS= read -r line; do
        inc=$(printf '%s\n' "$line" | sed -E 's/.*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/')
        [ "$inc" = host/embed.h ] || [ -f "common/$inc" ] || [ -f "testkit/$inc" ] ||
            printf '%s\n' "$line"
    done)
if [ -z "$hits" ] && grep -q '#include "host/embed.h"' testkit/*.c; then
    ok "testkit/ uses the runtime through host/embed.h only"
else
    not_ok "testkit/ includes more of the runtime than host/embed.h"; echo "$hits" | sed 's/^/# /'
fi
# the rooms themselves hold what they say: code only the CLI uses is not in common/ or host/
for f in common/world_client.c common/config_check.c host/scaffold.c host/sample_data.c; do
    check "$f lives under cli/" test ! -e "$f"
done
# one HTTP client in the tree (docs/architecture.md, "one way to do a thing"): only
# common/http_client.c makes outgoing evhttp requests
clients=$(grep -lE 'evhttp_make_request|evhttp_connection_base_new' \
    $(find common host gateway dagmanager cli testkit -name '*.[ch]') /dev/null)
check "one HTTP client: common/http_client.c (found: $(echo $clients))" \
    test "$clients" = common/http_client.c
check "sdk/include/ holds headers only" \
    test -z "$(find sdk/include -type f ! -name '*.h')"
check "no source outside sdk/include under sdk/" \
    test -z "$(find sdk -type f ! -path 'sdk/include/*')"
finish
