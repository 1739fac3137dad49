#!/usr/bin/env bash
# Soak: the stress tests at full size, again and again, then the whole test suite again and
# again, all in release, stopping at the first failure.
#
# How long, with the defaults, on the 2-core build machine: about 7 minutes, plus about 2 for
# the release build from clean. One stress round at full size takes about 33 s, one round of
# the whole suite about 12 s; STRESS_ROUNDS and SUITE_ROUNDS set the repetitions. (Measured:
# STRESS_ROUNDS=3 SUITE_ROUNDS=2 took 247 s, 124 of them building.)
#
#   scripts/soak.sh                          # defaults: STRESS_ROUNDS=10, SUITE_ROUNDS=5
#   STRESS_ROUNDS=50 SUITE_ROUNDS=20 scripts/soak.sh
#
# Full size is ASINCRONO_STRESS_SCALE=10 (default here; the tests read it and multiply every
# count and their watchdog by it). At that scale, per flavour:
#
#   tests/stress.rs
#     spawns                            1,000,000 tasks, every output once
#     ping-pong wakes                   1,000,000 wakes from 4 foreign threads, one at a time
#     wake flood                        1,000,000 rings from 4 threads, all seen
#     idle then spawn from outside      100,000 rounds
#     panics                            200,000 tasks, 200 of them panic
#     destructors at shutdown           500 runtimes of 500 tasks each
#     resets mid-read                   400 connections (capped: two fds each, one process)
#     timer storm                       1,000,000 sleeps of 0-20 ms, 100,000 cancelled
#     earlier timer from outside        2,000 rounds
#     thread-local drops                2,000 runtimes, each dropped by a thread-local's
#                                       destructor with 8 pending tasks and a listener
#     two block_on threads              20,000 round trips between two threads that each
#                                       enter and leave block_on of one runtime
#   tests/stress_drop.rs                a runtime with 100,000 pending tasks dropped
#   tests/accept_emfile.rs              (not scaled: the same check each round)
#
# Uses cargo-nextest (https://nexte.st) if installed, with the `soak` profile of
# .config/nextest.toml (a per-test slow timeout, fail-fast); otherwise `cargo test`.
# Builds with -j 1: other engineers share this machine.

set -euo pipefail
cd "$(dirname "$0")/.."

STRESS_ROUNDS=${STRESS_ROUNDS:-10}
SUITE_ROUNDS=${SUITE_ROUNDS:-5}
export ASINCRONO_STRESS_SCALE=${ASINCRONO_STRESS_SCALE:-10}
STRESS_TESTS=(--test stress --test stress_drop --test accept_emfile)

if cargo nextest --version >/dev/null 2>&1; then
    run() { cargo nextest run --build-jobs 1 --release -p asincrono -P soak "$@"; }
else
    echo "cargo-nextest not found: using cargo test" >&2
    run() { cargo test -j 1 --release -p asincrono "$@"; }
fi

started=$SECONDS
echo "== build (release)"
cargo test -j 1 --release -p asincrono --no-run

for round in $(seq 1 "$STRESS_ROUNDS"); do
    echo "== stress round $round/$STRESS_ROUNDS (scale $ASINCRONO_STRESS_SCALE, $((SECONDS - started)) s so far)"
    run "${STRESS_TESTS[@]}"
done

# The whole suite at normal size: the stress tests' scale does not apply to it.
unset ASINCRONO_STRESS_SCALE
for round in $(seq 1 "$SUITE_ROUNDS"); do
    echo "== whole suite round $round/$SUITE_ROUNDS ($((SECONDS - started)) s so far)"
    if cargo nextest --version >/dev/null 2>&1; then
        run
    else
        run --tests
    fi
done

echo "== soak clean: $STRESS_ROUNDS stress rounds, $SUITE_ROUNDS suite rounds in $((SECONDS - started)) s"
