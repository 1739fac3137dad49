//! The build-your-own stages (`examples/stages/`) and the self-checking examples of the
//! first chapters each end by printing `PASS` or `FAIL`. This test runs each one with
//! `cargo run --example` and fails unless its last line is `PASS`, so a stage that stops
//! working, or a chapter's example that drifts, is caught by `cargo test`.

mod common;

/// The examples that check themselves, in the order the book meets them.
const SELF_CHECKING: [&str; 11] = [
    "first_steps",
    "from_js_promise_all",
    "from_js_lazy",
    "from_js_race",
    "from_js_to_thread",
    "stage1",
    "stage2",
    "stage3",
    "stage4",
    "stage5",
    "stage6",
];

#[test]
fn every_self_checking_example_prints_pass() {
    let mut failures = Vec::new();
    for example in SELF_CHECKING {
        let output = common::cargo()
            .args(["run", "--quiet", "--example", example])
            .output()
            .expect("cargo runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        if stdout.lines().last() != Some("PASS") {
            failures.push(format!(
                "{example}: exit {:?}\n{stdout}{}",
                output.status.code(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_stage_file_is_in_the_list() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/stages");
    for entry in std::fs::read_dir(dir).expect("examples/stages exists") {
        let path = entry.expect("a readable entry").path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        assert!(
            SELF_CHECKING.contains(&stem.as_str()),
            "{} is not run by tests/stages.rs: add it to SELF_CHECKING",
            path.display()
        );
    }
}
