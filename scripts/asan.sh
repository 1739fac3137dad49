#!/usr/bin/env bash
# AddressSanitizer over asincrono's tests: use after free, double free, out-of-bounds reads
# and writes, use of a stack frame after it returned, and (LeakSanitizer, at each test
# binary's exit) heap blocks nobody points to any more. In this runtime the likely culprits
# are the `unsafe` pieces of runtime/task/raw.rs: a waker lent without a reference count
# that outlives its task would be a use after free; a count taken and never given back, a
# leaked task; an output taken from the stage twice, a double free.
#
#   scripts/asan.sh           # the package's unit, integration and doc tests, and compat/hyper's unit tests
#   scripts/asan.sh --lib     # the unit tests only (what CI runs)
#   scripts/asan.sh --lib task::    # further arguments go to `cargo test`
#
# How long, on the 2-core build machine, from an empty target/asan: --lib about 15 s
# (10 s of it building), the whole suite about 95 s (65 s of it building; tests/stress.rs
# is the slowest binary to run, 7 to 13 s). Run again, nothing rebuilds.
#
# Stable Rust is enough: RUSTC_BOOTSTRAP=1 unlocks `-Zsanitizer`. `--target` (the host's)
# keeps the flag away from build scripts and proc-macros (asincrono-macros), which run inside the
# compiler and cannot load the sanitizer runtime. The standard library is the prebuilt,
# uninstrumented one: ASan still sees every allocation (it replaces malloc), but checks
# only the accesses made by code compiled here. Builds go to target/asan, with -j 1.
#
# No test is skipped: every one passes under ASan, including those that count file
# descriptors (stress_drop), count allocations with their own global allocator
# (allocations: it wraps the system allocator, which ASan replaces underneath), or start
# their own binary again (echo_10k, and accept_emfile under `ulimit -n 256`), whose children
# are instrumented too.
#
# Reading a failure: the test binary stops at the first error and prints a report starting
# "ERROR: AddressSanitizer: heap-use-after-free" (or another kind), the access's stack, then
# where the block was allocated and where it was freed; the topmost frames in runtime/ are
# the ones to read. "ERROR: LeakSanitizer: detected memory leaks" comes at a binary's exit,
# one "Direct leak" per lost block with the stack that allocated it ("Indirect" ones hang off
# a direct one). Either makes cargo report the binary as failed. Frames shown as bare
# addresses mean llvm-symbolizer is missing: install llvm, or set ASAN_SYMBOLIZER_PATH.

set -euo pipefail
cd "$(dirname "$0")/.."

lib_only=false
if [ "${1:-}" = --lib ]; then
    lib_only=true
    shift
fi

# `-Cforce-frame-pointers` lets ASan's fast unwinder give whole stacks for every malloc.
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Zsanitizer=address -Cforce-frame-pointers=yes"
export RUSTDOCFLAGS="$RUSTFLAGS"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/asan}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}
# One leak is on purpose: a `LocalSet` future dropped on a foreign thread is leaked rather
# than destroyed there, and a unit test checks exactly that. The file names that test.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=0}

started=$SECONDS
host=$(rustc -vV | sed -n 's/^host: //p')
test=(cargo test -j 1 --target "$host" -p asincrono)
if $lib_only; then
    "${test[@]}" --lib "$@"
else
    # cargo runs doc tests apart from the other kinds: two runs.
    "${test[@]}" --lib --tests "$@"
    "${test[@]}" --doc "$@"
    # The hyper adapter's four `unsafe` blocks (compat/hyper/src/io.rs), through its own tests.
    cargo test -j 1 --target "$host" -p asincrono-hyper --lib "$@"
fi
echo "asan: no error and no leak found, in $((SECONDS - started)) s"
