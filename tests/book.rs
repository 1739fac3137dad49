//! The book must not drift from the code.
//!
//! The chapters in `docs/src/` quote the runtime only through mdBook includes that name an
//! anchor, `{{#include ../../runtime/task/raw.rs:task_struct}}`, which mdBook replaces with
//! the lines between `// ANCHOR: task_struct` and `// ANCHOR_END: task_struct` in that file.
//! If someone renames a file, deletes an anchor or misspells one, mdBook does not fail: it
//! prints a warning and renders an empty or wrong snippet. This test fails instead, naming
//! the chapter, the line, the path and the anchor.
//!
//! What it checks:
//! - every `{{#include …}}` and `{{#rustdoc_include …}}` in `docs/src/*.md` names a file that
//!   exists (resolved relative to the chapter, as mdBook does) and an anchor that the file
//!   opens with `ANCHOR: name` and then closes with `ANCHOR_END: name`;
//! - includes by line number (`file.rs:10:20`) are refused: they drift silently with every
//!   edit of the file, which is what anchors exist to prevent;
//! - no file the book can quote (the runtime's sources, and anything a chapter includes)
//!   defines an anchor name twice, or opens one without closing it;
//! - every chapter file is listed in `SUMMARY.md`, and every link there leads to a file;
//! - every anchor defined in a file under `runtime/`, `examples/`, `tests/` or `benches/` is
//!   included by some chapter: an anchor nobody quotes is either a quote that went missing
//!   or a leftover (this file's own anchors, test data inside strings, are left out);
//! - no two anchor regions of a file overlap (one opening inside the other and closing after
//!   it: each quote would show a part of the other, cut at a line nobody chose), and no
//!   chapter quotes two regions of which one lies inside the other (it would show the inner
//!   lines twice). A region inside another is fine when different chapters quote them: one
//!   chapter shows a whole function, a later one zooms in on a part of it.
//! - every figure the prose quotes from the code (counts of `unsafe` blocks, loom models and
//!   tests, constants such as the budget of 128) is still the code's: `quoted_figures` lists
//!   each one with the words the prose must contain, built from the code as it is now.
//!
//! It needs only `std`, so it runs with plain `cargo test --test book`; building the book
//! itself (`mdbook build docs`) is a separate, optional step.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

/// The crate root, whatever directory the test is run from.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `path` relative to the crate root, for messages.
fn shown(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Removes `.` and `..` components without touching the file system, so that a path to a
/// missing file can still be shown and compared.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The chapter files: every `*.md` in `docs/src`, `SUMMARY.md` included, sorted.
fn markdown_files(src: &Path) -> Vec<PathBuf> {
    let entries =
        fs::read_dir(src).unwrap_or_else(|err| panic!("cannot list {}: {err}", shown(src)));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    files.sort();
    files
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("a readable directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// One `{{#include …}}` (or `{{#rustdoc_include …}}`) found in a chapter.
struct Include {
    /// 1-based line of the chapter where it appears.
    line: usize,
    /// The directive as written, for messages.
    text: String,
    /// The path as written, before resolution.
    path: String,
    /// What follows the first `:`, if anything: an anchor name or a line range.
    selector: Option<String>,
}

/// Finds the include directives in a chapter, as mdBook does. A directive escaped with a
/// backslash (`\{{#include …}}`) is shown literally by mdBook and is skipped here too.
fn includes(markdown: &str) -> Vec<Include> {
    let mut found = Vec::new();
    for (index, line) in markdown.lines().enumerate() {
        let mut rest = line;
        let mut consumed = 0;
        while let Some(start) = rest.find("{{#") {
            let escaped = line[..consumed + start].ends_with('\\');
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else {
                break;
            };
            let body = after[..end].trim();
            let directive = ["include", "rustdoc_include"]
                .into_iter()
                .find_map(|name| body.strip_prefix(name).filter(|args| args.starts_with(' ')));
            if let (false, Some(args)) = (escaped, directive) {
                let args = args.trim();
                let (path, selector) = match args.split_once(':') {
                    Some((path, selector)) => (path, Some(selector.trim().to_string())),
                    None => (args, None),
                };
                found.push(Include {
                    line: index + 1,
                    text: format!("{{{{#{body}}}}}"),
                    path: path.trim().to_string(),
                    selector,
                });
            }
            let skip = start + 3 + end + 2;
            consumed += skip;
            rest = &rest[skip..];
        }
    }
    found
}

/// The anchor name that follows `marker` (`"ANCHOR:"` or `"ANCHOR_END:"`) on `line`, read
/// the way mdBook reads it: optional spaces, then letters, digits, `_` and `-`.
fn anchor_after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let start = line.find(marker)? + marker.len();
    let rest = line[start..].trim_start();
    let len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    (len > 0).then(|| &rest[..len])
}

/// Where each anchor of a file opens and closes (1-based lines), and what is wrong with
/// them: a name opened twice, closed twice, closed before it opens, or never closed.
#[derive(Default)]
struct Anchors {
    opened: BTreeMap<String, usize>,
    closed: BTreeMap<String, usize>,
    problems: Vec<String>,
}

fn anchors(source: &str) -> Anchors {
    let mut anchors = Anchors::default();
    for (index, line) in source.lines().enumerate() {
        let number = index + 1;
        if let Some(name) = anchor_after(line, "ANCHOR:") {
            if let Some(first) = anchors.opened.insert(name.to_string(), number) {
                anchors.problems.push(format!(
                    "anchor `{name}` is defined twice (lines {first} and {number}); mdBook would \
                     quote from the first one only"
                ));
            }
        }
        if let Some(name) = anchor_after(line, "ANCHOR_END:") {
            if let Some(first) = anchors.closed.insert(name.to_string(), number) {
                anchors.problems.push(format!(
                    "anchor `{name}` is closed twice (lines {first} and {number})"
                ));
            }
        }
    }
    for (name, &open) in &anchors.opened {
        match anchors.closed.get(name) {
            None => anchors.problems.push(format!(
                "anchor `{name}` opens at line {open} but has no `ANCHOR_END: {name}`; mdBook \
                 would quote the rest of the file"
            )),
            Some(&close) if close <= open => anchors.problems.push(format!(
                "`ANCHOR_END: {name}` (line {close}) comes before `ANCHOR: {name}` (line {open})"
            )),
            // What it quoted moved away and the markers stayed: mdBook would show an empty
            // snippet, without a warning.
            Some(&close) if close == open + 1 => anchors.problems.push(format!(
                "anchor `{name}` (lines {open}–{close}) is empty: it quotes nothing"
            )),
            Some(_) => {}
        }
    }
    for (name, &close) in &anchors.closed {
        if !anchors.opened.contains_key(name) {
            anchors.problems.push(format!(
                "`ANCHOR_END: {name}` at line {close} closes an anchor that is never opened"
            ));
        }
    }
    anchors
}

/// Whether an include selector is a line range (`10`, `10:20`, `10:`, `:20`) rather than
/// an anchor name.
fn is_line_range(selector: &str) -> bool {
    !selector.is_empty() && selector.chars().all(|c| c.is_ascii_digit() || c == ':')
}

/// The targets of the links in `SUMMARY.md`: `[Title](target)`. Draft chapters, written
/// `[Title]()`, have no file yet and are left out.
fn summary_links(summary: &str) -> Vec<(usize, String)> {
    let mut links = Vec::new();
    for (index, line) in summary.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else {
                break;
            };
            let target = after[..end].trim();
            let target = target.split('#').next().unwrap_or_default();
            if !target.is_empty() {
                links.push((index + 1, target.to_string()));
            }
            rest = &after[end + 1..];
        }
    }
    links
}

#[test]
fn every_include_in_the_book_resolves_to_an_existing_anchor() {
    let src = root().join("docs/src");
    let mut problems = Vec::new();
    let mut quoted_files = BTreeSet::new();
    let mut include_count = 0;

    for chapter in markdown_files(&src) {
        let markdown = fs::read_to_string(&chapter)
            .unwrap_or_else(|err| panic!("cannot read {}: {err}", shown(&chapter)));
        let dir = chapter.parent().expect("a chapter lives in a directory");
        for include in includes(&markdown) {
            include_count += 1;
            let here = format!("{}:{}: {}", shown(&chapter), include.line, include.text);
            let file = normalize(&dir.join(&include.path));
            let Ok(source) = fs::read_to_string(&file) else {
                problems.push(format!(
                    "{here}\n    the file {} (resolved from `{}`) does not exist or cannot be read",
                    shown(&file),
                    include.path
                ));
                continue;
            };
            quoted_files.insert(file.clone());
            let anchor = match include.selector.as_deref() {
                None => {
                    problems.push(format!(
                        "{here}\n    includes all of {} without an anchor; quote code through \
                         `// ANCHOR: name` … `// ANCHOR_END: name` so that the book shows a \
                         chosen part and follows its edits",
                        shown(&file)
                    ));
                    continue;
                }
                Some(selector) if selector.is_empty() || is_line_range(selector) => {
                    problems.push(format!(
                        "{here}\n    selects lines by number (`{selector}`) in {}; line numbers \
                         drift with every edit, so the book quotes through anchors only",
                        shown(&file)
                    ));
                    continue;
                }
                Some(anchor) => anchor,
            };
            let found = anchors(&source);
            match (found.opened.get(anchor), found.closed.get(anchor)) {
                (Some(_), Some(_)) => {}
                (open, close) => {
                    let missing: Vec<String> = [
                        open.is_none().then(|| format!("`ANCHOR: {anchor}`")),
                        close.is_none().then(|| format!("`ANCHOR_END: {anchor}`")),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    problems.push(format!(
                        "{here}\n    anchor `{anchor}`: {} does not contain {}",
                        shown(&file),
                        missing.join(" or ")
                    ));
                }
            }
        }
    }

    // Anchor hygiene in every file the book quotes or may quote.
    let mut candidates = Vec::new();
    rust_files(&root().join("runtime"), &mut candidates);
    candidates.extend(quoted_files);
    candidates.sort();
    candidates.dedup();
    for file in candidates {
        let Ok(source) = fs::read_to_string(&file) else {
            continue;
        };
        for problem in anchors(&source).problems {
            problems.push(format!("{}: {problem}", shown(&file)));
        }
    }

    assert!(
        include_count > 0,
        "no {{{{#include}}}} found in docs/src: is the book where this test looks?"
    );
    assert!(
        problems.is_empty(),
        "the book has drifted from the code ({} problem(s)):\n\n{}\n",
        problems.len(),
        problems.join("\n\n")
    );
}

/// Which chapters quote each anchor: (file, anchor) → chapter file names.
fn quoted_anchors(src: &Path) -> BTreeMap<(PathBuf, String), BTreeSet<String>> {
    let mut quoted: BTreeMap<(PathBuf, String), BTreeSet<String>> = BTreeMap::new();
    for chapter in markdown_files(src) {
        let Ok(markdown) = fs::read_to_string(&chapter) else {
            continue;
        };
        let dir = chapter.parent().expect("a chapter lives in a directory");
        for include in includes(&markdown) {
            let Some(anchor) = include
                .selector
                .filter(|s| !s.is_empty() && !is_line_range(s))
            else {
                continue;
            };
            let file = normalize(&dir.join(&include.path));
            quoted
                .entry((file, anchor))
                .or_default()
                .insert(shown(&chapter));
        }
    }
    quoted
}

/// The files whose anchors the book may quote: the `.rs` files under `runtime/`,
/// `examples/`, `tests/` and `benches/`, except this checker, whose anchors are test data.
fn quotable_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["runtime", "examples", "tests", "benches"] {
        rust_files(&root().join(dir), &mut files);
    }
    let checker = root().join(file!());
    files.retain(|file| *file != checker);
    files.sort();
    files
}

/// An anchor's region: its name and the lines of its `ANCHOR` and `ANCHOR_END`.
struct Region<'a> {
    name: &'a str,
    open: usize,
    close: usize,
}

impl Region<'_> {
    fn lines(&self) -> String {
        format!("`{}` (lines {}–{})", self.name, self.open, self.close)
    }
}

/// The regions of `anchors` that overlap, and those that nest while one chapter quotes
/// both; `chapters` tells which chapters quote an anchor of this file.
fn region_problems(anchors: &Anchors, chapters: &dyn Fn(&str) -> BTreeSet<String>) -> Vec<String> {
    let regions: Vec<Region> = anchors
        .opened
        .iter()
        .filter_map(|(name, &open)| {
            let close = *anchors.closed.get(name).filter(|&&close| close > open)?;
            Some(Region { name, open, close })
        })
        .collect();
    let mut problems = Vec::new();
    for outer in &regions {
        for inner in regions
            .iter()
            .filter(|r| outer.open < r.open && r.open < outer.close)
        {
            if inner.close > outer.close {
                problems.push(format!(
                    "anchors {} and {} overlap: the second opens inside the first and closes \
                     after it, so each quote shows part of the other",
                    outer.lines(),
                    inner.lines()
                ));
                continue;
            }
            let both: Vec<String> = chapters(outer.name)
                .intersection(&chapters(inner.name))
                .cloned()
                .collect();
            if !both.is_empty() {
                problems.push(format!(
                    "anchor {} lies inside {}, and {} quotes both: it shows lines {}–{} twice",
                    inner.lines(),
                    outer.lines(),
                    both.join(" and "),
                    inner.open,
                    inner.close
                ));
            }
        }
    }
    problems
}

#[test]
fn every_anchor_is_quoted_and_no_two_regions_a_chapter_quotes_overlap() {
    let quoted = quoted_anchors(&root().join("docs/src"));
    let mut problems = Vec::new();
    for file in quotable_files() {
        let Ok(source) = fs::read_to_string(&file) else {
            continue;
        };
        let found = anchors(&source);
        for (name, line) in &found.opened {
            if !quoted.contains_key(&(file.clone(), name.clone())) {
                problems.push(format!(
                    "{}:{line}: anchor `{name}` is included by no chapter: quote it where the \
                     prose discusses that code, or remove it",
                    shown(&file)
                ));
            }
        }
        let chapters = |name: &str| {
            quoted
                .get(&(file.clone(), name.to_string()))
                .cloned()
                .unwrap_or_default()
        };
        for problem in region_problems(&found, &chapters) {
            problems.push(format!("{}: {problem}", shown(&file)));
        }
    }
    assert!(
        problems.is_empty(),
        "anchors the book does not use well ({} problem(s)):\n\n{}\n",
        problems.len(),
        problems.join("\n\n")
    );
}

#[test]
fn every_chapter_is_in_the_summary_and_every_summary_link_exists() {
    let src = root().join("docs/src");
    let summary_path = src.join("SUMMARY.md");
    let summary = fs::read_to_string(&summary_path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", shown(&summary_path)));
    let mut problems = Vec::new();

    let mut linked = BTreeSet::new();
    for (line, target) in summary_links(&summary) {
        let file = normalize(&src.join(&target));
        if !file.is_file() {
            problems.push(format!(
                "{}:{line}: the link `{target}` leads to {}, which does not exist",
                shown(&summary_path),
                shown(&file)
            ));
        }
        linked.insert(file);
    }

    for chapter in markdown_files(&src) {
        if chapter != summary_path && !linked.contains(&normalize(&chapter)) {
            problems.push(format!(
                "{} is not listed in {}: mdBook would leave it out of the book",
                shown(&chapter),
                shown(&summary_path)
            ));
        }
    }

    assert!(
        problems.is_empty(),
        "SUMMARY.md and the chapters disagree:\n\n{}\n",
        problems.join("\n")
    );
}

/// The checker itself, on small inputs, so that a bug in it cannot make the book tests
/// pass vacuously.
#[test]
fn the_checker_reads_includes_and_anchors_like_mdbook() {
    let chapter = "text {{#include ../../a.rs:one}} more {{#rustdoc_include b.rs}}\n\
                   \\{{#include escaped.rs:x}}\n\
                   {{#include c.rs:10:20}}\n";
    let found = includes(chapter);
    let seen: Vec<(usize, &str, Option<&str>)> = found
        .iter()
        .map(|i| (i.line, i.path.as_str(), i.selector.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (1, "../../a.rs", Some("one")),
            (1, "b.rs", None),
            (3, "c.rs", Some("10:20")),
        ]
    );
    assert!(is_line_range("10:20") && is_line_range("10") && !is_line_range("poll_io"));

    let source = "// ANCHOR: a\n// ANCHOR: b-2\n// ANCHOR_END: b-2\n// ANCHOR_END: a\n\
                  // ANCHOR: a\n// ANCHOR: open\n// ANCHOR_END: stray\n";
    let found = anchors(source);
    assert_eq!(found.opened.get("b-2"), Some(&2));
    assert_eq!(found.closed.get("a"), Some(&4));
    let problems = found.problems.join("\n");
    assert!(problems.contains("`a` is defined twice"), "{problems}");
    assert!(problems.contains("`open` opens at line 6"), "{problems}");
    assert!(problems.contains("`ANCHOR_END: stray`"), "{problems}");
    assert!(
        problems.contains("`b-2` (lines 2–3) is empty"),
        "{problems}"
    );

    let regions = anchors(
        "// ANCHOR: outer\n// ANCHOR: inner\n// ANCHOR_END: inner\n// ANCHOR: late\n\
         // ANCHOR_END: outer\n// ANCHOR_END: late\n",
    );
    let quoting = |name: &str| match name {
        "outer" | "inner" => BTreeSet::from(["02.md".to_string()]),
        _ => BTreeSet::from(["08.md".to_string()]),
    };
    let problems = region_problems(&regions, &quoting);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0]
            .starts_with("anchor `inner` (lines 2–3) lies inside `outer` (lines 1–5), and 02.md"),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("`outer` (lines 1–5) and `late` (lines 4–6) overlap"),
        "{problems:?}"
    );
    let elsewhere = |name: &str| BTreeSet::from([format!("{name}.md")]);
    assert_eq!(
        region_problems(&regions, &elsewhere).len(),
        1,
        "nesting across chapters is fine"
    );

    assert_eq!(
        summary_links("- [One](01-one.md)\n- [Draft]()\n- [Two](./02-two.md#part)\n"),
        [(1, "01-one.md".to_string()), (3, "./02-two.md".to_string())]
    );
    assert_eq!(
        normalize(Path::new("/x/docs/src/../../runtime/./a.rs")),
        Path::new("/x/runtime/a.rs")
    );
}

/// Reads a file of the crate, for the figure checks.
fn read(relative: &str) -> String {
    fs::read_to_string(root().join(relative))
        .unwrap_or_else(|err| panic!("cannot read {relative}: {err}"))
}

/// `source` without its comments: the part of each line before `//`.
fn code(source: &str) -> String {
    source
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first number written after `marker` on a line of `relative` (`const X: u32 =` gives
/// X's value; a line with the marker and no number after it is passed over).
fn number_after(relative: &str, marker: &str) -> usize {
    let source = read(relative);
    let number = |line: &str| -> Option<usize> {
        let after = &line[line.find(marker)? + marker.len()..];
        let digits: String = after
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    source
        .lines()
        .find_map(number)
        .unwrap_or_else(|| panic!("{relative} no longer has a number after `{marker}`"))
}

/// A small number as the prose writes it.
fn word(n: usize) -> String {
    const WORDS: [&str; 13] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    WORDS.get(n).map_or(n.to_string(), |w| w.to_string())
}

/// Every figure the prose quotes from the code: the file that quotes it, and the words it
/// must contain, built from the figure as the code has it now. When the code changes, the
/// words no longer match and the test names the file to fix.
fn quoted_figures() -> Vec<(&'static str, String)> {
    let hunt_runs = number_after("scripts/flake-hunt.sh", "FLAKE_RUNS:-");
    let hunt_fd_limit = number_after("scripts/flake-hunt.sh", "FLAKE_FD_LIMIT:-");
    let raw = code(&read("runtime/task/raw.rs"));
    let blocks = word(raw.matches("unsafe {").count());
    let unsafe_fns = word(raw.matches("unsafe fn ").count());
    let mut models = Vec::new();
    rust_files(&root().join("runtime/loom_models"), &mut models);
    let models: usize = models
        .iter()
        .map(|file| fs::read_to_string(file).unwrap_or_default())
        .map(|source| source.matches("#[test]").count())
        .sum();
    let task = read("tests/task.rs");
    let task_tests = task.matches("#[test]").count() + task.matches("#[asincrono::test").count();
    let miri = read("scripts/miri.sh");
    let skipped = miri
        .lines()
        .filter(|line| line.trim_start().starts_with("--skip"))
        .count();
    let budget = number_after("runtime/task/coop.rs", "const BUDGET_PER_POLL: u32 =");
    let event = number_after("runtime/executor/mod.rs", "const EVENT_INTERVAL: u32 =");
    let tick = number_after("runtime/task/local_set.rs", "const TASKS_PER_TICK: usize =");
    let keep_alive = number_after("runtime/blocking/pool.rs", "const KEEP_ALIVE: Duration =");
    let cap = number_after("runtime/runtime/builder.rs", "max_blocking_threads:");
    let target = number_after("runtime/executor/tuning.rs", "const TARGET: Duration =");
    let stage6 = "examples/stages/stage6.rs";
    let stage_budget = number_after(stage6, "const BUDGET: u32 =");
    let stage_event = number_after(stage6, "const EVENT_INTERVAL: u32 =");
    let stage6_runtime_lines = read(stage6)
        .lines()
        .take_while(|line| !line.starts_with("/// An echo over loopback"))
        .count();
    let stage6_rounded = (stage6_runtime_lines + 5) / 10 * 10;
    // `50_000` in the code, `50,000` in the prose.
    let parser_cases = read("tests/parsers_fuzz.rs")
        .lines()
        .find_map(|line| line.strip_prefix("const CASES: usize = "))
        .expect("tests/parsers_fuzz.rs no longer has `const CASES: usize =`")
        .trim_end_matches(';')
        .replace('_', ",");
    let checks = read("docs/src/exercise-checks.md");
    let rows: Vec<&str> = checks
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| chapter"))
        .collect();
    let kind_count = |kind: &str| {
        rows.iter()
            .filter(|row| row.split('|').nth(3).map(str::trim) == Some(kind))
            .count()
    };
    let (predicted, unchecked) = (kind_count("predict"), kind_count("none"));
    vec![
        (
            "docs/src/exercise-checks.md",
            format!(
                "Of the {} rows, {} have a command that says pass or fail, {predicted} more a \
                 command that prints the figure you predicted, and {unchecked} have none.",
                rows.len(),
                rows.len() - predicted - unchecked
            ),
        ),
        (
            "docs/src/build-your-own.md",
            format!("in about {stage6_rounded} lines before its self-check"),
        ),
        // The stage's constants and the runtime's are the same, as the prose says.
        (
            "docs/src/build-your-own.md",
            format!("the same size, {budget}; its event interval is the same {event};"),
        ),
        (
            "docs/src/build-your-own.md",
            format!("the same size, {stage_budget}; its event interval is the same {stage_event};"),
        ),
        (
            "docs/src/01-futures-and-polling.md",
            format!("first of the {blocks} in the task's file"),
        ),
        (
            "docs/src/02-wakers-and-the-task-queue.md",
            format!("{blocks} `unsafe` blocks in `raw.rs`"),
        ),
        (
            "docs/src/02-wakers-and-the-task-queue.md",
            format!("{unsafe_fns} `unsafe fn`s"),
        ),
        (
            "README.md",
            format!("{blocks} `unsafe` blocks and {unsafe_fns} `unsafe fn`s"),
        ),
        ("README.md", format!("the loom models: {models} races")),
        (
            "docs/src/13-trusting-the-runtime.md",
            format!("all {models} models"),
        ),
        (
            "docs/src/13-trusting-the-runtime.md",
            format!(
                "{} of the {task_tests} tests in `tests/task.rs`",
                task_tests - skipped
            ),
        ),
        (
            "docs/src/13-trusting-the-runtime.md",
            format!("RUNS times ({hunt_runs} by default)"),
        ),
        (
            "docs/src/13-trusting-the-runtime.md",
            format!("`ulimit -Sn {hunt_fd_limit}` (`FLAKE_FD_LIMIT`)"),
        ),
        (
            "docs/src/13-trusting-the-runtime.md",
            format!("{parser_cases} inputs per parser"),
        ),
        ("docs/src/14-glossary.md", format!("({budget} here, as in")),
        (
            "docs/src/03-the-executor.md",
            format!("starts with {budget} units"),
        ),
        (
            "docs/src/03-the-executor.md",
            format!("After at most {event} polls"),
        ),
        (
            "docs/src/03-the-executor.md",
            format!("After {tick} tasks the set"),
        ),
        (
            "docs/src/12-how-asincrono-differs-from-tokio.md",
            format!("every {event} tasks"),
        ),
        (
            "docs/src/12-how-asincrono-differs-from-tokio.md",
            format!("budget of {budget}"),
        ),
        (
            "docs/src/12-how-asincrono-differs-from-tokio.md",
            format!("every {target} µs"),
        ),
        (
            "docs/src/12-how-asincrono-differs-from-tokio.md",
            format!("idle threads for {keep_alive} seconds and caps at {cap}"),
        ),
        (
            "docs/src/07-the-blocking-pool.md",
            format!("`KEEP_ALIVE` ({keep_alive} seconds"),
        ),
        (
            "docs/src/07-the-blocking-pool.md",
            format!("{cap} by default"),
        ),
    ]
}

#[test]
fn the_figures_the_prose_quotes_match_the_code() {
    let problems: Vec<String> = quoted_figures()
        .into_iter()
        .filter(|(file, words)| {
            // Line breaks in the prose are spaces to a reader, and so to this check.
            let text = read(file).replace('\n', " ");
            !text.contains(&words.replace('\n', " "))
        })
        .map(|(file, words)| {
            format!("{file} should say \"{words}\": that is what the code says now")
        })
        .collect();
    assert!(
        problems.is_empty(),
        "the prose quotes figures the code no longer has (or reworded them):\n\n{}\n",
        problems.join("\n")
    );
}

/// The links of `markdown` outside code (fenced blocks and backticks): each `](target)`.
fn links(markdown: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_fence = false;
    for (number, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        // Odd-numbered pieces between backticks are inline code.
        for prose in line.split('`').step_by(2) {
            let mut rest = prose;
            while let Some(start) = rest.find("](") {
                let after = &rest[start + 2..];
                let Some(end) = after.find(')') else { break };
                found.push((number + 1, after[..end].to_string()));
                rest = &after[end..];
            }
        }
    }
    found
}

/// The `#fragment`s mdBook gives the headings of `markdown`: lower case, spaces as `-`,
/// letters, digits, `-` and `_` kept, everything else dropped.
fn heading_ids(markdown: &str) -> BTreeSet<String> {
    let mut in_fence = false;
    let mut ids = BTreeSet::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if in_fence || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let id: String = title
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        ids.insert(id);
    }
    ids
}

#[test]
fn every_relative_link_and_anchor_in_the_book_resolves() {
    let src = root().join("docs/src");
    let mut problems = Vec::new();
    let mut checked = 0;
    for chapter in markdown_files(&src) {
        let markdown = fs::read_to_string(&chapter).expect("a readable chapter");
        for (line, target) in links(&markdown) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue; // the web is not checked here: CI must not depend on it
            }
            checked += 1;
            let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let file = match path {
                "" => chapter.clone(),
                path => normalize(&chapter.parent().expect("a folder").join(path)),
            };
            if !file.exists() {
                problems.push(format!(
                    "{}:{line}: `{target}`: no such file",
                    shown(&chapter)
                ));
                continue;
            }
            if fragment.is_empty() {
                continue; // a chapter, or an image (not text: only its existence matters)
            }
            let linked = fs::read_to_string(&file).unwrap_or_default();
            if !heading_ids(&linked).contains(fragment) {
                problems.push(format!(
                    "{}:{line}: `{target}`: {} has no heading with the id `{fragment}`",
                    shown(&chapter),
                    shown(&file)
                ));
            }
        }
    }
    assert!(
        checked > 0,
        "no relative link found in the book: is the parser broken?"
    );
    assert!(
        problems.is_empty(),
        "broken links in the book:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_link_checker_reads_links_and_heading_ids_like_mdbook() {
    let markdown = "# The `Waker`, again!\n[a](x.md#y) `[not](code.md)` [b](#the-waker-again)\n\
                    ```\n[fenced](no.md)\n```\n## Stage 4: several threads\n";
    let found: Vec<String> = links(markdown).into_iter().map(|(_, t)| t).collect();
    assert_eq!(found, ["x.md#y", "#the-waker-again"]);
    let ids = heading_ids(markdown);
    assert!(ids.contains("the-waker-again"), "{ids:?}");
    assert!(ids.contains("stage-4-several-threads"), "{ids:?}");
}

#[test]
fn every_reference_answer_is_in_the_exercise_table_and_every_one_named_there_exists() {
    let table = read("docs/src/exercise-checks.md");
    let named: BTreeSet<String> = table
        .lines()
        .filter(|line| line.starts_with("| "))
        .filter_map(|line| line.trim_end_matches('|').rsplit('|').next())
        .filter_map(|cell| cell.trim().strip_prefix('`')?.strip_suffix("_…`"))
        .map(str::to_string)
        .collect();
    let answers = read("tests/exercise_answers.rs");
    let tests: BTreeSet<String> = answers
        .lines()
        .filter_map(|line| line.strip_prefix("fn "))
        .filter_map(|rest| {
            let name = &rest[..rest.find('(')?];
            // `ch10_2_what_it_checks` → `ch10_2`; `files_2_…` → `files_2`.
            let mut parts = name.splitn(3, '_');
            Some(format!("{}_{}", parts.next()?, parts.next()?))
        })
        .filter(|prefix| prefix.starts_with("ch") || prefix.starts_with("files"))
        .collect();
    assert!(
        !named.is_empty(),
        "the table names no reference answer: was it reformatted?"
    );
    let unnamed: Vec<_> = tests.difference(&named).collect();
    let missing: Vec<_> = named.difference(&tests).collect();
    assert!(
        unnamed.is_empty() && missing.is_empty(),
        "docs/src/exercise-checks.md and tests/exercise_answers.rs disagree.\n\
         tests the table does not name: {unnamed:?}\nnamed in the table, no such test: {missing:?}"
    );
}

/// The paths cargo gives the loom models: `loom_models::FILE::TEST`.
fn loom_model_paths() -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&root().join("runtime/loom_models"), &mut files);
    let mut paths = Vec::new();
    for file in files {
        let module = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let source = fs::read_to_string(&file).unwrap_or_default();
        let mut after_test = false;
        for line in source.lines().map(str::trim) {
            if line == "#[test]" {
                after_test = true;
            } else if let Some(rest) = line.strip_prefix("fn ").filter(|_| after_test) {
                let name = &rest[..rest.find('(').unwrap_or(rest.len())];
                paths.push(format!("loom_models::{module}::{name}"));
                after_test = false;
            }
        }
    }
    paths
}

#[test]
fn every_loom_filter_the_book_quotes_selects_a_model() {
    // scripts/loom.sh runs `cargo test … "loom_models::$1"`: cargo keeps the tests whose
    // path contains that, so `scripts/loom.sh the_join_handle` would select none (the
    // path is `loom_models::tasks::the_join_handle_…`) and pass, checking nothing.
    let paths = loom_model_paths();
    assert!(
        !paths.is_empty(),
        "no loom model found: was runtime/loom_models moved?"
    );
    let mut texts = markdown_files(&root().join("docs/src"));
    texts.push(root().join("README.md"));
    let mut problems = Vec::new();
    for file in texts {
        let text = fs::read_to_string(&file).unwrap_or_default();
        for (at, _) in text.match_indices("scripts/loom.sh ") {
            let rest = &text[at + "scripts/loom.sh ".len()..];
            let filter: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            if filter.is_empty() || filter.chars().next().is_some_and(|c| c.is_uppercase()) {
                continue; // no filter, or a placeholder such as NAME
            }
            let selector = format!("loom_models::{filter}");
            if !paths.iter().any(|path| path.contains(&selector)) {
                problems.push(format!(
                    "{}: `scripts/loom.sh {filter}` selects no model",
                    shown(&file)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
