#!/usr/bin/env bash
# The loom models (runtime/loom_models/): the task state word, the output slot and join
# waker, shutdown against a wake, the Parker, the workers' sleep protocol and the timer
# queue, the blocking pool, the broadcast channel, the RwLock and the mpsc channel's free
# slots, each run through every interleaving of its threads' atomic operations and locks.
#
#   scripts/loom.sh                       # every model
#   scripts/loom.sh tasks::two_wakes      # the models whose name contains the filter
#   LOOM_MAX_PREEMPTIONS=2 scripts/loom.sh   # bound the search (unbounded by default)
#
# How long, on the 2-core build machine: about 45 s to build (release, its own target dir,
# target/loom), then about 6 s for the 17 models, unbounded (53,539 interleavings for the largest).
#
# Reading a failure: loom prints the assertion that failed (or "deadlock" when every
# thread is blocked, which is how a lost wake-up shows, or a leaked `Arc` when a task is
# never freed), then the test's name. Run that one test again with LOOM_LOG=trace and
# LOOM_LOCATION=1 to see, step by step, which thread did what in the failing order; see
# the book's chapter on trusting the runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg loom ${RUSTFLAGS:-}"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/loom}
exec cargo test --release --lib -- --test-threads=1 --nocapture "loom_models::${1:-}"
