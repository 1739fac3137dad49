//! The runnable exercises and their answers must not drift apart.
//!
//! Every `examples/exercise_*.rs` is shipped failing on purpose (see
//! `examples/exercises/README.md`), and its reference answer lives in
//! `docs/src/solutions.md`. This test runs none of them: it only checks that each exercise
//! file has a section headed with its name (`## `exercise_join_all``) in the solutions, that
//! each such section names an exercise that still exists, and that the README lists every
//! exercise. It also builds each exercise twice and runs it: as shipped it must fail, and
//! with its reference answer swapped in (`--cfg exercise_solved` makes the file include
//! `examples/exercises/solutions/NAME.rs`, which the solutions page quotes) it must print
//! `PASS`. So the answers in the book are compiled and run by `cargo test`.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

/// The crate root, whatever directory the test is run from.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The names (file stems) of the exercise programs: `examples/exercise_*.rs`.
fn exercises() -> BTreeSet<String> {
    let dir = root().join("examples");
    fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .filter_map(|path| Some(path.file_stem()?.to_str()?.to_string()))
        .filter(|stem| stem.starts_with("exercise_"))
        .collect()
}

/// The exercise names that head a section of `solutions.md`: lines ``## `exercise_…` ``.
fn solution_sections(solutions: &str) -> BTreeSet<String> {
    solutions
        .lines()
        .filter_map(|line| line.strip_prefix("## `"))
        .filter_map(|rest| rest.strip_suffix('`'))
        .filter(|name| name.starts_with("exercise_"))
        .map(str::to_string)
        .collect()
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    fs::read_to_string(&path).unwrap_or_else(|err| panic!("cannot read {relative}: {err}"))
}

#[test]
fn there_are_exercises_to_check() {
    assert!(
        !exercises().is_empty(),
        "no examples/exercise_*.rs found: was the folder moved?"
    );
}

#[test]
fn every_exercise_has_a_solution_section_and_every_section_an_exercise() {
    let exercises = exercises();
    let sections = solution_sections(&read("docs/src/solutions.md"));
    let missing: Vec<_> = exercises.difference(&sections).collect();
    let orphaned: Vec<_> = sections.difference(&exercises).collect();
    assert!(
        missing.is_empty() && orphaned.is_empty(),
        "docs/src/solutions.md and examples/exercise_*.rs disagree.\n\
         exercises without a `## `name`` section: {missing:?}\n\
         sections without an exercise file: {orphaned:?}"
    );
}

#[test]
fn every_solution_section_has_code() {
    let solutions = read("docs/src/solutions.md");
    for name in solution_sections(&solutions) {
        let heading = format!("## `{name}`");
        let start = solutions
            .find(&heading)
            .expect("the heading was found above");
        let rest = &solutions[start + heading.len()..];
        let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
        assert!(
            section.contains("```rust"),
            "the solution section for {name} has no Rust code block"
        );
    }
}

#[test]
fn the_readme_lists_every_exercise() {
    let readme = read("examples/exercises/README.md");
    for name in exercises() {
        assert!(
            readme.contains(&format!("{name}.rs")),
            "examples/exercises/README.md does not mention {name}.rs"
        );
    }
}

/// Builds `example` with `rustc_args` for its own crate only (`cargo rustc`, so the library
/// is not rebuilt), runs it, and gives its exit code and output.
fn build_and_run(example: &str, rustc_args: &[&str]) -> (Option<i32>, String) {
    let build = common::cargo()
        .args(["rustc", "--quiet", "--example", example])
        .args(["--message-format", "json-render-diagnostics", "--"])
        .args(rustc_args)
        .output()
        .expect("cargo runs");
    let messages = String::from_utf8_lossy(&build.stdout);
    assert!(
        build.status.success(),
        "{example} {rustc_args:?} does not build:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    // The artifact message of the example names its executable.
    let marker = "\"executable\":\"";
    let executable = messages
        .lines()
        .filter(|line| line.contains(&format!("\"name\":\"{example}\"")))
        .find_map(|line| {
            let start = line.find(marker)? + marker.len();
            Some(line[start..start + line[start..].find('"')?].to_string())
        })
        .unwrap_or_else(|| panic!("cargo named no executable for {example}"));
    // Each check inside runs under a timeout of about a second, so this cannot hang.
    let run = std::process::Command::new(&executable)
        .output()
        .unwrap_or_else(|err| panic!("cannot run {executable}: {err}"));
    (
        run.status.code(),
        String::from_utf8_lossy(&run.stdout).into_owned(),
    )
}

#[test]
fn every_exercise_fails_as_shipped_and_passes_with_its_reference_answer() {
    let mut problems = Vec::new();
    for name in exercises() {
        let (code, output) = build_and_run(&name, &[]);
        if code != Some(1) || output.lines().last() == Some("PASS") {
            problems.push(format!(
                "{name} as shipped should fail (exit 1), got {code:?}:\n{output}"
            ));
        }
        let (code, output) = build_and_run(&name, &["--cfg", "exercise_solved"]);
        if code != Some(0) || output.lines().last() != Some("PASS") {
            problems.push(format!(
                "{name} with its answer should pass, got {code:?}:\n{output}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
