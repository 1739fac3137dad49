#!/usr/bin/env bash
# valgrind memcheck over release builds of the examples and of the stress tests: reads of
# uninitialised or freed memory, invalid frees, and heap blocks lost for good ("definitely
# lost") when a program ends. It sees what ASan (scripts/asan.sh) cannot: the standard
# library's own accesses, and optimised code, since it needs no recompiling.
#
#   scripts/valgrind.sh
#
# How long, on the 2-core build machine: about 2.5 minutes from an empty target/valgrind
# (60 to 75 s building, then 70 to 80 s under valgrind, 25 to 45 s of it the stress
# tests); about 80 s once built. Programs run 10 to 50 times slower under valgrind, one
# thread at a time.
#
# What runs, each under its own valgrind:
#   - the examples that end by themselves: tour, timers, parallel_work, copy_with_progress;
#   - example servers driven by a client, then stopped with SIGTERM: echo_server with
#     echo_client (also under valgrind), http_server with fetch (also under valgrind), and
#     kv_server with redis-benchmark when that is installed. A server stopped by a signal
#     still gets the full check: whatever it holds at that moment is reachable, not lost;
#   - the test binaries of tests/stress.rs (at the default scale) and tests/stress_drop.rs.
# Not run: chat_server (its clients are people; tests/chat.rs drives it under ASan), and
# the exercise_* examples, which exit 1 until the reader has solved them.
#
# Only definite leaks count as errors (--errors-for-leak-kinds=definite), and only they are
# listed. "Possibly lost" and "still reachable" blocks are the stacks and thread-locals of
# threads still alive at exit (blocking-pool threads that have not retired yet, std's
# statics): memory in use, not lost.
#
# Reading a failure: each check prints "ok" or "FAILED" and its log's path, under
# target/valgrind/logs/. In a log, each error is a title ("Invalid read of size 8", "Use of
# uninitialised value", "Conditional jump or move depends on uninitialised value(s)",
# "N bytes in M blocks are definitely lost") with the stack where it happened, and for a
# freed block where it was allocated and freed; frames in runtime/ are the ones to read. The
# line "ERROR SUMMARY: N errors" closes every log. A test binary that fails its own
# assertions (its output is in the .out file) fails the check too.

set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/valgrind}
# Line tables in the release build, so that valgrind's stacks name files and lines.
export CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
logs=$CARGO_TARGET_DIR/logs
examples=$CARGO_TARGET_DIR/release/examples
mkdir -p "$logs"
# --fair-sched=yes: valgrind runs one thread at a time, and by default hands the CPU on
# unfairly. A thread that spins (a multi-thread runtime's `block_on` looping on `yield_now`,
# as tests/stress.rs does while it waits for every task to park) can then keep the workers
# from ever running: the destructors test hung past its 20 s watchdog in 3 runs out of 3,
# and passed in 0.75 s with fair scheduling. (Natively, even pinned to one core, it takes
# 0.2 s.)
memcheck=(valgrind --fair-sched=yes --error-exitcode=1 --leak-check=full
    --errors-for-leak-kinds=definite --show-leak-kinds=definite)

started=$SECONDS
echo "== build (release, with line tables)"
cargo build -j 1 --release -p asincrono --examples
test_binary() {  # the executable of one test target, as cargo reports it
    cargo test -j 1 --release -p asincrono --test "$1" --no-run --message-format=json |
        grep -o '"executable":"[^"]*"' | cut -d'"' -f4
}
stress=$(test_binary stress)
stress_drop=$(test_binary stress_drop)
built=$SECONDS

failures=0
# verdict NAME STATUS START: the program's exit status (143 is our SIGTERM) and its log.
verdict() {
    local name=$1 status=$2 log=$logs/$1.log
    if { [ "$status" = 0 ] || [ "$status" = 143 ]; } && grep -q "ERROR SUMMARY: 0 errors" "$log"; then
        echo "ok      $name ($((SECONDS - $3)) s)"
    else
        echo "FAILED  $name (status $status): $log, output in $logs/$name.out"
        grep -E "ERROR SUMMARY|definitely lost in" "$log" | head -n 5
        failures=$((failures + 1))
    fi
}
# check NAME COMMAND...: runs COMMAND under valgrind, which must end by itself.
check() {
    local name=$1 status=0 start=$SECONDS
    shift
    timeout 600 "${memcheck[@]}" --log-file="$logs/$name.log" "$@" >"$logs/$name.out" 2>&1 \
        </dev/null || status=$?
    verdict "$name" "$status" "$start"
}
# cpu_ticks PID: the CPU time a process has used, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo gone
}
# serve NAME SERVER-ARGS... -- CLIENT...: starts the server under valgrind, waits (a minute
# at most) for it to print its address, runs the client with ADDR in its arguments replaced
# by that address, then stops the server with SIGTERM (not SIGINT, which the background
# jobs of a script ignore) once it has used no CPU for half a second. Stopped while still
# busy with the client's last connections, kv_server was once reported to have "definitely
# lost" an io::Error it was handing on at that instant; letting it go idle first, the
# report never came back. (Likely cause: memcheck looks for pointers in the general-purpose
# registers only, and a 16-byte `io::Result` is often moved through an SSE register.)
serve() {
    local name=$1 server=() addr="" status=0 start=$SECONDS
    shift
    while [ "$1" != -- ]; do server+=("$1"); shift; done
    shift
    "${memcheck[@]}" --log-file="$logs/$name.log" "${server[@]}" >"$logs/$name.out" 2>&1 </dev/null &
    local pid=$!
    for _ in $(seq 600); do
        addr=$(sed -n 's/.* listening on \([0-9.:]*\).*/\1/p' "$logs/$name.out" | head -n 1)
        [ -n "$addr" ] || ! kill -0 "$pid" 2>/dev/null && break
        sleep 0.1
    done
    if [ -n "$addr" ]; then
        "${@//ADDR/$addr}" || { echo "FAILED  the client of $name"; failures=$((failures + 1)); }
    fi
    local before after=$(cpu_ticks "$pid")
    for _ in $(seq 60); do
        before=$after
        sleep 0.5
        after=$(cpu_ticks "$pid")
        [ "$after" != "$before" ] || break
    done
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || status=$?
    [ -n "$addr" ] || status="no address printed"
    verdict "$name" "$status" "$start"
}

echo "== examples that end by themselves"
for example in tour timers parallel_work copy_with_progress; do
    check "$example" "$examples/$example"
done

echo "== example servers, each with a client"
serve echo_server "$examples/echo_server" 127.0.0.1:0 -- \
    check echo_client "$examples/echo_client" ADDR 50
serve http_server "$examples/http_server" --addr 127.0.0.1:0 --root . -- \
    check fetch "$examples/fetch" --concurrency 4 http://ADDR/README.md http://ADDR/Cargo.toml \
    http://ADDR/stats http://ADDR/slow http://ADDR/runtime/lib.rs
if command -v redis-benchmark >/dev/null; then
    serve kv_server "$examples/kv_server" --addr 127.0.0.1:0 -- \
        bash -c 'addr=$1; redis-benchmark -h "${addr%:*}" -p "${addr##*:}" -q -n 2000 -c 20 \
            -P 4 -t set,get,incr >/dev/null' - ADDR
else
    echo "skipped kv_server: redis-benchmark is not installed (apt-get install redis-tools)"
fi

echo "== stress tests (default scale)"
check stress "$stress" --test-threads=1
check stress_drop "$stress_drop"

echo "valgrind: $failures failed; $((built - started)) s building, $((SECONDS - built)) s checking"
[ "$failures" = 0 ]
