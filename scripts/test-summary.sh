#!/usr/bin/env bash
# The totals of a `cargo test --workspace` log, with every test that did not simply pass
# named: `bash scripts/test-summary.sh LOG [SKIP_LOG]`. Used by .ci/run (its closing line)
# and scripts/flake-hunt.sh (the failing tests of each run).
#
# LOG is cargo test's output (stdout and stderr). SKIP_LOG is the file the tests' helper
# `common::skip` appends to when ASINCRONO_SKIP_LOG names it (tests/common/mod.rs): one
# `binary::test<TAB>reason` line per skipped test. libtest counts a skipped test as passed
# (it returned early), so the skipped ones are taken off the passed count here. Ignored
# tests (`#[ignore = "reason"]`) are named with the reason libtest prints.
#
# Prints `ignored: …`, `skipped: …` and `failed: …` lines, then
# `tests: N passed, M failed, K skipped, I ignored`. With `--failed` first, prints only the
# failing tests' names, one a line (`binary::test`, or `binary` alone when a test binary
# crashed or could not be built, so no test in it reported).
set -euo pipefail

only_failed=false
if [ "${1:-}" = "--failed" ]; then only_failed=true; shift; fi
log=${1:?usage: test-summary.sh [--failed] LOG [SKIP_LOG]}
skip_log=${2:-/dev/null}
[ -e "$skip_log" ] || skip_log=/dev/null

# The binary each result line belongs to comes from the line cargo prints before running it:
# "Running tests/kv.rs (target/debug/deps/kv-0123abcd)", "Running unittests runtime/lib.rs
# (…/asincrono-…)", or "Doc-tests asincrono".
awk -v only_failed="$only_failed" -v skip_log="$skip_log" '
    function binary_of(path,    name) {
        name = path; sub(/.*\//, "", name); sub(/\)$/, "", name); sub(/-[0-9a-f]+$/, "", name)
        return name
    }
    BEGIN {
        while ((getline line < skip_log) > 0) {
            split(line, field, "\t")
            if (!(field[1] in skip_seen)) {
                skip_seen[field[1]] = 1; skipped[++skip_count] = field[1] " (" field[2] ")"
            }
        }
    }
    # A binary that printed no "test result:" line crashed (a signal, an abort) or hung.
    function close_binary() { if (binary != "" && !has_result) crashed[++crash_count] = binary }
    /^ *Running / { close_binary(); binary = binary_of($NF); has_result = 0; next }
    /^ *Doc-tests / { close_binary(); binary = "doctest " $2; has_result = 0; next }
    /^test .* \.\.\. FAILED$/ {
        name = $0; sub(/^test /, "", name); sub(/ \.\.\. FAILED$/, "", name)
        failed[++fail_count] = binary "::" name; next
    }
    /^test .* \.\.\. ignored/ {
        name = $0; sub(/^test /, "", name); reason = name
        sub(/ \.\.\. ignored.*/, "", name); sub(/.* \.\.\. ignored,? ?/, "", reason)
        ignored[++ignore_count] = binary "::" name (reason == "" ? "" : " (" reason ")"); next
    }
    /^test result:/ {
        has_result = 1
        for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) passed += $i }
        next
    }
    /^error: could not compile/ { crashed[++crash_count] = "build" }
    END {
        close_binary()
        for (i = 1; i <= crash_count; i++)
            failed[++fail_count] = crashed[i] " (no test result: it crashed, hung or did not build)"
        if (only_failed == "true") { for (i = 1; i <= fail_count; i++) print failed[i]; exit }
        for (i = 1; i <= ignore_count; i++) print "ignored: " ignored[i]
        for (i = 1; i <= skip_count; i++) print "skipped: " skipped[i]
        for (i = 1; i <= fail_count; i++) print "failed: " failed[i]
        printf "tests: %d passed, %d failed, %d skipped, %d ignored\n",
            passed - skip_count, fail_count, skip_count, ignore_count
    }' "$log"
