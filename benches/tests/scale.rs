//! The scaling mode end to end: the bench binary runs `--scale` at two tiny sizes and writes
//! its Markdown tables and its SVG chart, and this test reads them back: a line per runtime ×
//! flavour in each workload's table with a cost per size, and a line per curve in the chart,
//! its points left to right. (No timing is asserted, only that the numbers are there.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BENCH: &str = env!("CARGO_BIN_EXE_asincrono-bench");
const WORKLOADS: [&str; 3] = ["spawn_and_await", "timers", "idle_plus_active"];
const CURVES: [(&str, &str); 4] = [
    ("tokio", "current_thread"),
    ("asincrono", "current_thread"),
    ("tokio", "multi_thread"),
    ("asincrono", "multi_thread"),
];

/// Waits for `child` at most `limit`, killing it if it takes longer.
fn output_within(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("wait for the bench").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the bench did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20)); // polling a process's exit
    }
    child.wait_with_output().expect("the bench's output")
}

fn bench(args: &[&str], target_dir: &Path) -> Output {
    let child = Command::new(BENCH)
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the bench binary");
    output_within(child, Duration::from_secs(120))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scale_test_{}_{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn scale_mode_writes_a_table_and_a_chart_of_every_curve() {
    let dir = scratch("run");
    let output = bench(&["--scale", "--quick", "--sizes", "10,100"], &dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the scale run failed: {stderr}");
    let markdown = std::fs::read_to_string(dir.join("bench/scale.md")).expect("scale.md");
    for workload in WORKLOADS {
        let costs = table_of(&markdown, workload);
        assert_eq!(costs.len(), CURVES.len(), "{workload}: {costs:?}");
        for (curve, (runtime, flavour, values)) in CURVES.iter().zip(&costs) {
            assert_eq!((runtime.as_str(), flavour.as_str()), *curve, "{workload}");
            assert_eq!(values.len(), 2, "{workload} {curve:?}: a cost per size");
            assert!(
                values.iter().all(|ns| ns.is_finite() && *ns > 0.0),
                "{workload}: {values:?}"
            );
        }
    }
    let svg = std::fs::read_to_string(dir.join("bench/scale.svg")).expect("scale.svg");
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.ends_with("</svg>\n")
    );
    let lines = polylines(&svg);
    assert_eq!(lines.len(), WORKLOADS.len() * CURVES.len());
    for points in lines {
        assert_eq!(points.len(), 2, "a point per size: {points:?}");
        assert!(
            points[0].0 < points[1].0,
            "the larger size lies to the right: {points:?}"
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("timers: CPU time per timer, ns"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_sizes_are_refused_with_a_reason() {
    let dir = scratch("refused");
    for (args, reason) in [
        (
            &["--scale", "--sizes", "10,zero"][..],
            "\"zero\" is not a positive whole number",
        ),
        (
            &["--scale", "--sizes", "0"][..],
            "\"0\" is not a positive whole number",
        ),
        (&["--sizes", "10"][..], "--sizes is for --scale"),
    ] {
        let output = bench(args, &dir);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
    assert!(!dir.exists(), "nothing is written for a refused command");
}

/// The rows of the Markdown table under `## WORKLOAD: …`: runtime, flavour and the costs.
fn table_of(markdown: &str, workload: &str) -> Vec<(String, String, Vec<f64>)> {
    let heading = format!("## {workload}: ");
    let section = markdown
        .split_once(&heading)
        .unwrap_or_else(|| panic!("no table for {workload}"))
        .1;
    section
        .lines()
        .skip_while(|line| !line.starts_with("| runtime"))
        .skip(2) // the header and the alignment line
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let (names, rest) = cells.split_at(2);
            let costs = rest[..rest.len() - 1]
                .iter()
                .map(|cell| cell.parse::<f64>().unwrap_or(f64::NAN))
                .collect();
            assert!(rest[rest.len() - 1].ends_with('×'), "growth column: {line}");
            (names[0].to_string(), names[1].to_string(), costs)
        })
        .collect()
}

/// Every `<polyline points="x,y x,y …">` of the chart, as coordinates.
fn polylines(svg: &str) -> Vec<Vec<(f64, f64)>> {
    svg.split("<polyline points=\"")
        .skip(1)
        .map(|rest| {
            rest.split('"')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(|pair| {
                    let (x, y) = pair.split_once(',').expect("x,y");
                    (x.parse().expect("x"), y.parse().expect("y"))
                })
                .collect()
        })
        .collect()
}
