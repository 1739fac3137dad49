#!/usr/bin/env bash
# Runs the cargo-fuzz targets for SECONDS each (default 600, the issue's ten minutes), two
# at a time and niced (the machine is shared), then prints each target's count of inputs
# run (libFuzzer's `stat::number_of_executed_units`) and whether it found a crash.
#
#   bash fuzz/run.sh [SECONDS]                       # every target
#   TARGETS="http_head pg_message" bash fuzz/run.sh 60
#
# Needs nightly and cargo-fuzz (see README.md). The corpus grows in fuzz/corpus/TARGET
# (not committed), starting from the committed seeds in fuzz/seeds/TARGET; a crash is
# saved in fuzz/artifacts/TARGET and the run's log is fuzz/logs/TARGET.log.
set -uo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
read -r -a targets <<< "${TARGETS:-http_head resp_frame fetch_response pg_message}"

# Long enough for inputs past each parser's own limits: an HTTP request head's 8 KiB,
# RESP's 64 KiB lines, fetch's 64 KiB response head.
max_len() {
    case "$1" in
        http_head) echo 20000 ;;
        *) echo 140000 ;;
    esac
}

run() {
    local target=$1
    mkdir -p "corpus/$target" logs
    nice -n 10 cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -max_len="$(max_len "$target")" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 > "logs/$target.log" 2>&1
}

cargo +nightly fuzz build || exit 1
failed=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
    pids=()
    for target in "${targets[@]:i:2}"; do
        run "$target" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || failed=1
    done
done
for target in "${targets[@]}"; do
    log="logs/$target.log"
    units=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    if grep -q -E '^==[0-9]+== ERROR|panicked at|deadly signal|Test unit written' "$log"; then
        echo "$target: CRASH after ${units:-?} inputs, see fuzz/logs/$target.log"
        failed=1
    else
        echo "$target: ${units:-?} inputs in ${seconds} s, no crash"
    fi
done
exit "$failed"
