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

# Unknown long options: a usage error with the closest option of that command's usage
# text (so options added later are covered without a list to maintain).
did_you_mean() { # WANTED TYPED COMMAND...
    local want=$1 typed=$2; shift 2
    expect_rc 2 "$* $typed" "$@" "$typed"
    check "'$typed' -> '$want'" grep -q "unknown option '$typed' (did you mean '$want'?)" "$E2E_TMP/err"
}
did_you_mean --offline --ofline "$QMTL" run
did_you_mean --csv-errors --csv-error "$QMTL" run
did_you_mean --gateway-url --gateway-ulr "$QMTL" run --offline
did_you_mean --json --jsno "$QMTL" config validate
did_you_mean --with-sample-data --with-sample "$QMTL" project init --path "$E2E_TMP/p"
did_you_mean --json --jsn "$QMTL" plugin check
did_you_mean --json --jsno "$QMTL" node-id
did_you_mean --cflags --clfags "$QMTL" sdk
did_you_mean --allow-live --alow-live "$QMTL" world
did_you_mean --config --confg "$QMTL" service gateway
did_you_mean --config --cnfig "$QMTL" service dagmanager server
expect_rc 2 "run --ofline given last (no value to take)" "$QMTL" run --offline --ofline
check "it is unknown, not 'needs a value'" grep -q "did you mean '--offline'" "$E2E_TMP/err"
expect_rc 2 "run --config without its value" "$QMTL" run --config
check "--config needs a value" grep -q "option '--config' needs a value" "$E2E_TMP/err"
expect_rc 2 "nothing close" "$QMTL" run --xyzzy
check "no suggestion when nothing is close" bash -c "! grep -q 'did you mean' '$E2E_TMP/err'"
check "points at --help" grep -q "'qmtl run --help' lists the options" "$E2E_TMP/err"
expect_rc 2 "an option of another subcommand" "$QMTL" config show --offline
check "named as not applying here" grep -q "option '--offline' does not apply here" "$E2E_TMP/err"
expect_rc 2 "--opt=value where the command wants two words" "$QMTL" run --config=x.yml
check "says how it is not written" grep -q "option '--config' is not written '--config=x.yml' here" "$E2E_TMP/err"

# qmtl service --help lists the services and their options
expect_rc 0 "qmtl service --help" "$QMTL" service --help
for w in "gateway " "dagmanager server " "--config F "; do
    check "service --help describes '$w'" grep -q "^    $w" "$E2E_TMP/out"
done

# --world-id without a gateway URL is a usage error, not a silent offline run
NOGW=$E2E_TMP/nogw.yml
PLUGDIR=$(cd "$QMTL_BUILD/plugins" && pwd)
printf 'host:\n  plugins_dir: %s\n' "$PLUGDIR" >"$NOGW"
expect_rc 2 "run --world-id without a gateway URL" env -u QMTL__HOST__GATEWAY_URL "$QMTL" run --config "$NOGW" --world-id W1 --data BTC=gbm:count=10
check "names the world and the missing URL" grep -q "world 'W1' needs a gateway URL" "$E2E_TMP/err"
check "nothing ran" bash -c "! grep -q 'events from' '$E2E_TMP/out'"
printf 'host:\n  plugins_dir: %s\n  world_id: W2\n' "$PLUGDIR" >"$NOGW"
expect_rc 2 "host.world_id without a gateway URL" "$QMTL" run --config "$NOGW" --data BTC=gbm:count=10
check "names the configured world" grep -q "world 'W2' needs a gateway URL" "$E2E_TMP/err"
expect_rc 0 "--offline still runs a backtest with host.world_id set" "$QMTL" run --config "$NOGW" --offline --data BTC=gbm:count=10
expect_rc 2 "--world-id with --offline" "$QMTL" run --config "$NOGW" --offline --world-id W1
finish
