//! A tiny stand-in for the libtest harness, for the test files that set `harness = false`
//! because they need a process of their own (they count its file descriptors, or lower its
//! descriptor limit, which would disturb tests running on other threads).
//!
//! It understands just enough of libtest's command line for `cargo test` and
//! `cargo nextest` to drive it: name filters, `--exact`, `--ignored`/`--include-ignored`,
//! and `--list --format terse` (how nextest asks for the list of tests). Tests run one after
//! the other on the main thread, and each says what it measured on success.
#![allow(dead_code)]

use std::process::ExitCode;

/// One test: its name, and a function returning a summary on success or what went wrong.
pub struct BareTest {
    pub name: &'static str,
    pub run: fn() -> Result<String, String>,
}

/// libtest options that take a value (skipped along with it when looking for filters).
const OPTIONS_WITH_A_VALUE: [&str; 7] = [
    "--format",
    "--test-threads",
    "--skip",
    "--color",
    "--logfile",
    "--shuffle-seed",
    "-Z",
];

/// Parses the command line, then lists or runs the selected tests, printing in libtest's
/// format.
pub fn main(tests: &[BareTest]) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |flag: &str| args.iter().any(|arg| arg == flag);
    let mut filters = Vec::new();
    let mut skips = Vec::new();
    let mut arg_iter = args.iter();
    while let Some(arg) = arg_iter.next() {
        if arg == "--skip" {
            skips.extend(arg_iter.next());
        } else if OPTIONS_WITH_A_VALUE.contains(&arg.as_str()) {
            arg_iter.next();
        } else if !arg.starts_with('-') {
            filters.push(arg.as_str());
        }
    }
    let exact = has("--exact");
    let matches = |name: &str, pattern: &str| {
        if exact {
            name == pattern
        } else {
            name.contains(pattern)
        }
    };
    // None of these tests is `#[ignore]`d: asking for only the ignored ones selects none.
    let ignored_only = has("--ignored");
    let selected: Vec<&BareTest> = tests
        .iter()
        .filter(|_| !ignored_only)
        .filter(|test| filters.is_empty() || filters.iter().any(|f| matches(test.name, f)))
        .filter(|test| !skips.iter().any(|skip| test.name.contains(skip.as_str())))
        .collect();
    let filtered_out = tests.len() - selected.len();

    if has("--list") {
        for test in &selected {
            println!("{}: test", test.name);
        }
        return ExitCode::SUCCESS;
    }

    println!("\nrunning {} tests", selected.len());
    let mut failed = Vec::new();
    for test in &selected {
        match (test.run)() {
            Ok(summary) => println!("test {} ... ok ({summary})", test.name),
            Err(problem) => {
                println!("test {} ... FAILED\n{problem}", test.name);
                failed.push(test.name);
            }
        }
    }
    let passed = selected.len() - failed.len();
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {passed} passed; {} failed; 0 ignored; 0 measured; \
         {filtered_out} filtered out",
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs `check`, turning a panic (an `assert!` in it) into an `Err` with its message, so a
/// bare test can use the usual assertions.
pub fn catching(check: impl FnOnce() -> String) -> Result<String, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".to_owned())
    })
}
