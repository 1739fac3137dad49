#!/usr/bin/env bash
# Miri, the interpreter that checks Rust's rules as it runs, over the tests that reach the
# runtime's `unsafe` code (runtime/task/raw.rs, and runtime/io/read_buf.rs): a use after free,
# a read of uninitialised memory, an `Arc` count lost or
# gained by the lent waker (a leak, at the end of the run), a pinned future moved, a data
# race between threads, or any other undefined behaviour fails the run.
#
#   scripts/miri.sh         # the task, sync and ReadBuf unit tests, then tests/task.rs
#   scripts/miri.sh --all   # every unit test instead of only task:: and sync::, then the same
#
# How long, on the 2-core build machine, from an empty target/miri: the default about
# 1 minute (10 s for the 48 unit tests, 35 s for tests/task.rs, the rest building); --all
# about 10 minutes (one timer-queue unit test takes 5 of them, one that splits a stream
# across two threads 2). The first run on a machine also builds miri's std: 25 s more.
# Miri runs code some 100 times slower than a debug build.
#
# Needs a nightly toolchain with miri: rustup toolchain install nightly --component miri
# (rust-src comes with it). Builds go to target/miri, with -j 1.
#
# What runs, and with which flags:
#   - the unit tests of runtime/io/read_buf.rs, which go through every `unsafe` block of
#     `ReadBuf` (uninitialised memory handed out, assumed initialised, appended to a `Vec`'s
#     spare capacity; a reader that swaps the buffer); and of the readers built on it
#     (io::read_ext, io::take: `read_to_end` into spare capacity, reads through a window).
#   - the unit tests of runtime/task/ (the state word, the budget, and raw.rs's tests, which
#     run a task by hand: a lent waker kept and woken from another thread, self-wakes, a
#     future that borrows itself polled on two threads, abort, panics, wakes from three
#     threads at once) and of runtime/sync/ (the waiter lists). Miri's defaults: isolation
#     from the host on, leak check on.
#   - tests/task.rs on real runtimes, with the same defaults: both executors, and the
#     reactor through miri's epoll and eventfd shims. 18 of its 24 tests: skipped are the
#     three that use sockets in ways miri does not emulate (a UDP socket; reads and writes
#     on a Unix socket pair, which fail with ENOTSOCK), and the three that spawn or wake
#     thousands of times, which miri cannot finish within their 20 s watchdog.
#   - with --all, every unit test, with -Zmiri-disable-isolation (the fs tests open real
#     files). The stdin tests run apart, with -Zmiri-ignore-leaks as well: their reader
#     threads are never joined, and miri fails a run that ends with threads still running.
#
# Reading a failure: miri stops at the first problem with "error: Undefined Behavior: ..."
# (or "error: memory leaked: ..."), points at the line, and prints the stack of the
# offending thread; for a use after free it also says where the memory was allocated and
# freed. "unsupported operation" means miri cannot emulate a system call, not a bug.

set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo +nightly miri --version >/dev/null 2>&1; then
    echo "miri is not installed: rustup toolchain install nightly --component miri" >&2
    exit 1
fi

started=$SECONDS
miri=(cargo +nightly miri test -j 1 -p asincrono)
case "${1:-}" in
    "") "${miri[@]}" --lib -- task:: sync:: io::read_buf io::read_ext io::take ;;
    --all)
        MIRIFLAGS="-Zmiri-disable-isolation" "${miri[@]}" --lib -- --skip io::stdin
        MIRIFLAGS="-Zmiri-disable-isolation -Zmiri-ignore-leaks" "${miri[@]}" --lib -- io::stdin
        ;;
    *) echo "usage: scripts/miri.sh [--all]" >&2; exit 2 ;;
esac
"${miri[@]}" --test task -- \
    --skip a_yielding_task_lets_the_driver_run_before_it_runs_again \
    --skip dropping_the_join_handle_detaches_the_task_which_keeps_running \
    --skip dropping_the_runtime_closes_the_sockets_its_tasks_held \
    --skip many_tasks_spawned_from_inside_and_outside_all_run_exactly_once \
    --skip the_main_future_and_the_tasks_all_make_progress \
    --skip wakes_and_spawns_from_other_threads_are_never_lost_as_the_runtime_parks
echo "miri: no undefined behaviour and no leak found, in $((SECONDS - started)) s"
