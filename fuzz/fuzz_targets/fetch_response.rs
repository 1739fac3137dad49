//! The cargo-fuzz target for one parser: `checks::check_fetch` (tests/parsers/checks.rs, shared
//! with the stable mutation test) on each input libFuzzer makes. See fuzz/README.md.
#![no_main]

// The checks include the examples' files themselves; each target uses one check.
#[allow(dead_code)]
#[path = "../../tests/parsers/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    checks::check_fetch(input);
});
