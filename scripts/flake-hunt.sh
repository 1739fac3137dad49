#!/usr/bin/env bash
# The flake hunt: the whole test suite, run again and again on a machine made busy on
# purpose, with every failing test named, run by run. `bash scripts/flake-hunt.sh [RUNS]`
# (20 runs by default; about 5 minutes each on two cores).
#
# Why: a fresh clone's `cargo test --workspace` once failed on a machine that had just run
# other loopback-heavy work, and the failing test's name was lost (issue 20). A test that
# fails only under load is still a failing test; this script makes the load, keeps it up
# for every run, and writes down what failed.
#
# The load, started before the first run and stopped (by process id) when the script ends:
# - a busy loop pinned to the last core (`taskset`), so the suite has one core less;
# - tens of thousands of loopback sockets in TIME_WAIT (FLAKE_TIME_WAIT, 20000 by default,
#   the kernel holds each for 60 s): a small Python loop connects to a listener of its own
#   and closes first, over and over, keeping that many closed in the last minute. Those
#   sockets hold local ports, which the suite's own `bind("127.0.0.1:0")` and `connect`
#   calls then have fewer of;
# - a low soft limit on open files for the suite, `ulimit -Sn` FLAKE_FD_LIMIT: 512 by
#   default, half the usual Linux default and twice the lowest the suite was seen to pass
#   under (256; at 128 tests that start many children at once run out, see chapter 13).
#   The hard limit is left alone, so the tests that need more descriptors
#   (tests/echo_10k.rs, the benches' scale tests) may raise their own, as they do.
#
# Each run: `cargo test --workspace --no-fail-fast` (the README's command, doc tests
# included), or with FLAKE_RUNNER=nextest `cargo nextest run --workspace --no-fail-fast`
# (a process per test, with the per-test timeouts of .config/nextest.toml; no doc tests).
# The loop is the script's, not nextest's `--stress-count`, so that each run has its own log
# and its own count of sockets in TIME_WAIT. The tests are built once, before the load.
#
# A run still going after FLAKE_RUN_LIMIT (30m) is killed and counts as failed (every test
# has its own watchdog, so that would be a hang in the harness or cargo itself).
#
# Written to target/flake-hunt/: run-N.log (the whole output), run-N.failed (the failing
# tests, one a line; empty when the run passed), run-N.skipped (tests that skipped, see
# tests/common/mod.rs's `skip`), and summary.txt: one line per run, then a table of every
# test that failed, with how many runs it failed in and which. The exit status is 0 only if
# every run passed.
set -uo pipefail # not -e: a failing run is data, the hunt goes on
cd "$(dirname "$0")/.."

runs=${1:-${FLAKE_RUNS:-20}}
time_wait=${FLAKE_TIME_WAIT:-20000}
fd_limit=${FLAKE_FD_LIMIT:-512}
runner=${FLAKE_RUNNER:-cargo}
run_limit=${FLAKE_RUN_LIMIT:-30m} # a run still going after this counts as hung, and is killed
out=target/flake-hunt
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} CARGO_TERM_COLOR=never
case "$runs" in '' | *[!0-9]*) echo "RUNS must be a number, not '$runs'" >&2; exit 2 ;; esac
case "$runner" in
    cargo) suite=(cargo test --workspace --no-fail-fast) ;;
    nextest) suite=(cargo nextest run --workspace --no-fail-fast) ;;
    *) echo "FLAKE_RUNNER is cargo or nextest, not '$runner'" >&2; exit 2 ;;
esac

rm -rf "$out" && mkdir -p "$out"
echo "== building the tests (before the load)"
if [ "$runner" = nextest ]; then
    cargo nextest run --workspace --no-run || exit 1
else
    cargo test --workspace --no-run || exit 1
fi

# ---- the load ----------------------------------------------------------------------------
load_pids=()
stop_load() { for pid in "${load_pids[@]}"; do kill "$pid" 2>/dev/null; done; }
trap stop_load EXIT
trap 'exit 130' INT TERM # through the EXIT trap, so that the load stops too

last_core=$(($(nproc) - 1))
pin=(taskset -c "$last_core")
command -v taskset >/dev/null || pin=()
"${pin[@]}" bash -c 'while :; do :; done' &
load_pids+=($!)

# Connect, close first (so the TIME_WAIT is on this side, holding an ephemeral port), let
# the listener read the end and close too; 500 at a time whenever `ss` counts fewer than
# the target (the kernel may reuse a TIME_WAIT port for a new connection to the same
# address, so the count of closes alone would overshoot or fall short). Four listeners, so
# the same four-tuple comes round less often.
python3 - "$time_wait" <<'PY' &
import socket, subprocess, sys, time
target = int(sys.argv[1])
listeners = []
for _ in range(4):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listeners.append(listener)
def in_time_wait():
    ss = subprocess.run(["ss", "-Htan", "state", "time-wait"], capture_output=True)
    return ss.stdout.count(b"\n")
while True:
    if in_time_wait() >= target:
        time.sleep(0.5)
        continue
    for turn in range(500):
        listener = listeners[turn % len(listeners)]
        try:
            client = socket.create_connection(listener.getsockname(), timeout=5)
            server, _ = listener.accept()
            client.close()
            server.recv(1)
            server.close()
        except OSError:
            time.sleep(0.1)  # out of ports or descriptors: the load is as high as it goes
PY
load_pids+=($!)

time_wait_now() { ss -Htan state time-wait 2>/dev/null | wc -l; }
echo "== load: a busy loop on core $last_core; filling $time_wait sockets in TIME_WAIT"
for _ in $(seq 60); do
    [ "$(time_wait_now)" -ge "$time_wait" ] && break
    sleep 1
done
echo "   $(time_wait_now) sockets in TIME_WAIT; the suite runs under ulimit -Sn $fd_limit"

# ---- the runs ----------------------------------------------------------------------------
# The failing tests of one run's log: libtest's and the bare harness's "test … FAILED"
# lines (scripts/test-summary.sh), or nextest's FAIL / TIMEOUT / SIG… lines.
failing_tests() {
    if [ "$runner" = nextest ]; then
        awk '$1 ~ /^(FAIL|TIMEOUT|ABORT|SIG[A-Z]+|LEAK-FAIL)$/ && $2 ~ /^\[/ {
                 binary = $(NF - 1); sub(/^[^:]*::/, "", binary); print binary "::" $NF }' "$1" |
            sort -u
    else
        bash scripts/test-summary.sh --failed "$1"
    fi
}

summary="$out/summary.txt"
printf '%-5s %-6s %-8s %-10s %-8s %s\n' run result minutes time_wait skipped failed > "$summary"
for run in $(seq "$runs"); do
    log="$out/run-$run.log"
    at_start=$(time_wait_now)
    started=$(date +%s)
    echo "== run $run of $runs ($at_start sockets in TIME_WAIT)"
    (
        ulimit -Sn "$fd_limit" || exit 1
        export ASINCRONO_SKIP_LOG="$PWD/$out/run-$run.skipped"
        timeout --kill-after=30s "$run_limit" "${suite[@]}"
    ) > "$log" 2>&1
    status=$?
    minutes=$(awk -v s="$(($(date +%s) - started))" 'BEGIN { printf "%.1f", s / 60 }')
    failing_tests "$log" > "$out/run-$run.failed"
    failed=$(wc -l < "$out/run-$run.failed")
    if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
        # 124 and 137: `timeout` stopped it; otherwise cargo failed before any test.
        echo "(the run: exit status $status, no test named)" > "$out/run-$run.failed"
        failed=1
    fi
    result=$([ "$status" = 0 ] && echo pass || echo FAIL)
    skipped=$(cut -f1 "$out/run-$run.skipped" 2>/dev/null | sort -u | wc -l)
    printf '%-5s %-6s %-8s %-10s %-8s %s\n' "$run" "$result" "$minutes" "$at_start" "$skipped" "$failed" |
        tee -a "$summary"
    sed 's/^/      failed: /' "$out/run-$run.failed"
done

# ---- the table ---------------------------------------------------------------------------
{
    echo
    echo "tests that failed (how many runs of $runs, which runs, the test):"
    for run in $(seq "$runs"); do sed "s/\$/\t$run/" "$out/run-$run.failed"; done |
        awk -F '\t' '{ count[$1]++; which[$1] = which[$1] (which[$1] == "" ? "" : ",") $2 }
                     END { for (t in count) { printf "%3d  runs %-10s %s\n", count[t], which[t], t; any = 1 }
                           if (!any) print "  none" }' |
        sort -rn
} | tee -a "$summary"
passed=$(grep -c ' pass ' "$summary")
echo "$passed of $runs runs passed (logs in $out/)" | tee -a "$summary"
[ "$passed" = "$runs" ]
