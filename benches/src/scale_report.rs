//! The scaling mode's report: cost per item against the number of items, as tables (terminal
//! and Markdown) and as a line chart (SVG, written by hand, the size on a log axis).
//!
//! A [`Curve`] is one workload on one runtime and flavour, with a [`Point`] per size. The
//! tables give each point's median in nanoseconds and the curve's *growth*: its cost at the
//! largest size divided by its cost at the smallest, 1.00× for a flat line. The chart draws
//! one panel per workload and one line per runtime × flavour; the y axis starts at zero, so
//! a flat line looks flat and a doubling looks like one.

use crate::report::{Summary, three_significant_digits, xml_escape};
use crate::{Flavour, Named, Runtime};
use std::fmt::Write as _;

/// One size of a curve: the cost per item over its runs, in seconds.
#[derive(Clone, Debug)]
pub struct Point {
    /// How many items (tasks, timers, idle connections).
    pub size: usize,
    /// The cost of one item, in seconds, over the runs.
    pub cost: Summary,
}

impl Point {
    /// The point for `size` from the cost per item of each run.
    pub fn of(size: usize, runs: &[f64]) -> Point {
        Point {
            size,
            cost: Summary::from_samples(runs),
        }
    }
}

/// One workload on one runtime and flavour, at every size.
#[derive(Clone, Debug)]
pub struct Curve {
    /// The workload's name.
    pub workload: &'static str,
    /// What one item's cost is (which clock, per what).
    pub measures: &'static str,
    /// Which runtime.
    pub runtime: Runtime,
    /// Which flavour.
    pub flavour: Flavour,
    /// One point per size, smallest first.
    pub points: Vec<Point>,
}

impl Curve {
    /// The median cost at the largest size over the median at the smallest.
    pub fn growth(&self) -> f64 {
        match (self.points.first(), self.points.last()) {
            (Some(first), Some(last)) => last.cost.median / first.cost.median,
            _ => f64::NAN,
        }
    }
}

/// Facts about a scaling run, shown above the tables and in the chart's title.
pub struct ScaleRun {
    /// When (YYYY-MM-DD).
    pub date: String,
    /// On what (cores, CPU).
    pub machine: String,
    /// The command that produced it.
    pub command: String,
    /// How long the whole run took, in seconds.
    pub seconds: f64,
}

/// The workloads in the order their curves come, each once.
fn workloads(curves: &[Curve]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for curve in curves {
        if !names.contains(&curve.workload) {
            names.push(curve.workload);
        }
    }
    names
}

fn curves_of<'a>(curves: &'a [Curve], workload: &str) -> Vec<&'a Curve> {
    curves.iter().filter(|c| c.workload == workload).collect()
}

/// `1,000,000`: a size with thousands separators.
fn size_label(size: usize) -> String {
    let digits = size.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn nanoseconds(seconds: f64) -> String {
    match seconds.is_finite() {
        true => three_significant_digits(seconds * 1e9),
        false => "n/a".to_string(),
    }
}

/// The cells of one workload's table: a header line, then a line per curve.
fn table_cells(curves: &[&Curve]) -> Vec<Vec<String>> {
    let sizes = curves.first().map_or(&[][..], |c| &c.points[..]);
    let mut header = vec!["runtime".to_string(), "flavour".to_string()];
    header.extend(sizes.iter().map(|p| size_label(p.size)));
    header.push("growth".to_string());
    let mut lines = vec![header];
    for curve in curves {
        let mut line = vec![
            curve.runtime.name().to_string(),
            curve.flavour.name().to_string(),
        ];
        line.extend(curve.points.iter().map(|p| nanoseconds(p.cost.median)));
        line.push(format!("{:.2}×", curve.growth()));
        lines.push(line);
    }
    lines
}

fn heading(curves: &[&Curve]) -> String {
    let measures = curves.first().map_or("", |c| c.measures);
    format!(
        "{}: {measures}, ns (median of the runs)",
        curves.first().map_or("", |c| c.workload)
    )
}

/// The terminal tables: one per workload, columns aligned, numbers to the right.
pub fn table(curves: &[Curve]) -> String {
    let mut out = String::new();
    for workload in workloads(curves) {
        let of = curves_of(curves, workload);
        let cells = table_cells(&of);
        let columns = cells[0].len();
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                cells
                    .iter()
                    .map(|line| line[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let _ = writeln!(out, "{}", heading(&of));
        for line in &cells {
            let padded: Vec<String> = line
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (cell, &width))| match c < 2 {
                    true => format!("{cell:<width$}"),
                    false => format!("{cell:>width$}"),
                })
                .collect();
            let _ = writeln!(out, "{}", padded.join("  ").trim_end());
        }
        out.push('\n');
    }
    out
}

/// The Markdown report: the facts of the run, then a table per workload.
pub fn markdown(run: &ScaleRun, curves: &[Curve]) -> String {
    let mut out = String::from("# asincrono and tokio: how cost grows\n\n");
    let _ = writeln!(out, "- **Date:** {}", run.date);
    let _ = writeln!(out, "- **Machine:** {}", run.machine);
    let _ = writeln!(out, "- **Command:** `{}`", run.command);
    let _ = writeln!(out, "- **Run time:** {:.0} s\n", run.seconds);
    for workload in workloads(curves) {
        let of = curves_of(curves, workload);
        let cells = table_cells(&of);
        let _ = writeln!(out, "## {}\n", heading(&of));
        let _ = writeln!(out, "| {} |", cells[0].join(" | "));
        let alignment: Vec<&str> = (0..cells[0].len())
            .map(|c| if c < 2 { "---" } else { "---:" })
            .collect();
        let _ = writeln!(out, "| {} |", alignment.join(" | "));
        for line in &cells[1..] {
            let _ = writeln!(out, "| {} |", line.join(" | "));
        }
        out.push('\n');
    }
    out.push_str(
        "**Growth** is the median cost per item at the largest size divided by the one at the \
         smallest: 1.00× is a flat line, a runtime whose cost per item does not depend on how \
         many items there are.\n",
    );
    out
}

// ---------------------------------------------------------------------------------------------
// SVG: a panel per workload, side by side

const PANEL_WIDTH: f64 = 340.0;
const PLOT_LEFT: f64 = 56.0; // inside a panel: room for the y labels
const PLOT_WIDTH: f64 = 260.0;
const PLOT_TOP: f64 = 104.0; // title, legend and panel title above
const PLOT_HEIGHT: f64 = 200.0;
const HEIGHT: f64 = PLOT_TOP + PLOT_HEIGHT + 56.0;
const MARGIN: f64 = 16.0;
/// About this many grid lines above zero (the step is rounded to 1, 2 or 5 × 10ⁿ).
const Y_STEPS: f64 = 5.0;

fn colour(runtime: Runtime) -> &'static str {
    match runtime {
        Runtime::Tokio => "#7b5ea7",
        Runtime::Asincrono => "#2a9d5c",
    }
}

fn dashes(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::CurrentThread => "",
        Flavour::MultiThread => " stroke-dasharray=\"6 4\"",
    }
}

/// Where one panel's points go: x by log10 of the size, y linear from zero.
struct Axes {
    left: f64,
    log_min: f64,
    log_span: f64,
    /// The value between two grid lines, in ns.
    y_step: f64,
    /// The value at the top of the plot, a whole number of steps.
    y_top: f64,
}

impl Axes {
    fn new(panel: usize, curves: &[&Curve]) -> Axes {
        let points = curves.iter().flat_map(|c| &c.points);
        let logs: Vec<f64> = points
            .clone()
            .map(|p| (p.size.max(1) as f64).log10())
            .collect();
        let log_min = logs.iter().copied().fold(f64::INFINITY, f64::min);
        let log_max = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let highest = points
            .map(|p| p.cost.median * 1e9)
            .filter(|ns| ns.is_finite())
            .fold(0.0, f64::max);
        let room = highest * 1.05;
        let y_step = nice_step(room / Y_STEPS);
        Axes {
            left: MARGIN + panel as f64 * PANEL_WIDTH + PLOT_LEFT,
            log_min: if log_min.is_finite() { log_min } else { 0.0 },
            log_span: (log_max - log_min).max(0.0),
            y_step,
            y_top: (room / y_step).ceil().max(1.0) * y_step,
        }
    }

    fn x(&self, size: usize) -> f64 {
        let log = (size.max(1) as f64).log10();
        match self.log_span > 0.0 {
            true => self.left + (log - self.log_min) / self.log_span * PLOT_WIDTH,
            false => self.left + PLOT_WIDTH / 2.0,
        }
    }

    fn y(&self, nanoseconds: f64) -> f64 {
        PLOT_TOP + PLOT_HEIGHT - (nanoseconds / self.y_top).clamp(0.0, 1.0) * PLOT_HEIGHT
    }
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `x` (1 for nothing to show).
fn nice_step(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&step| step >= x)
        .unwrap_or(10.0 * power)
}

/// The chart, a standalone SVG document: a panel per workload, a line per runtime × flavour
/// (colour: runtime; dashed: multi_thread), cost per item in ns against the size on a log axis.
pub fn svg(run: &ScaleRun, curves: &[Curve]) -> String {
    let names = workloads(curves);
    let width = 2.0 * MARGIN + names.len().max(1) as f64 * PANEL_WIDTH;
    let title = format!(
        "Cost per item as the work grows, {}, {}",
        run.date, run.machine
    );
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{HEIGHT:.0}\" \
         viewBox=\"0 0 {width:.0} {HEIGHT:.0}\" font-family=\"Helvetica, Arial, sans-serif\" \
         font-size=\"12\" style=\"background: #ffffff\">\n<title>{t}</title>\n\
         <text x=\"{MARGIN}\" y=\"26\" font-size=\"16\" font-weight=\"bold\">{t}</text>\n",
        t = xml_escape(&title)
    );
    out.push_str(&legend());
    for (panel, workload) in names.iter().enumerate() {
        out.push_str(&svg_panel(panel, &curves_of(curves, workload)));
    }
    out.push_str("</svg>\n");
    out
}

fn legend() -> String {
    let mut out = String::new();
    let mut x = MARGIN;
    for runtime in Runtime::ALL {
        for flavour in Flavour::ALL {
            let _ = writeln!(
                out,
                "<line x1=\"{x:.1}\" y1=\"46\" x2=\"{:.1}\" y2=\"46\" stroke=\"{}\" stroke-width=\"2\"{}/>\
                 <text x=\"{:.1}\" y=\"50\">{} {}</text>",
                x + 28.0,
                colour(*runtime),
                dashes(*flavour),
                x + 34.0,
                runtime.name(),
                flavour.name()
            );
            x += 200.0;
        }
    }
    out
}

fn svg_panel(panel: usize, curves: &[&Curve]) -> String {
    let axes = Axes::new(panel, curves);
    let (left, bottom) = (axes.left, PLOT_TOP + PLOT_HEIGHT);
    let first = curves.first();
    let mut out = format!(
        "<text x=\"{left:.1}\" y=\"{:.1}\" font-size=\"13\" font-weight=\"bold\">{}</text>\n\
         <text x=\"{left:.1}\" y=\"{:.1}\" fill=\"#555555\">{}, ns</text>\n",
        PLOT_TOP - 26.0,
        xml_escape(first.map_or("", |c| c.workload)),
        PLOT_TOP - 10.0,
        xml_escape(first.map_or("", |c| c.measures.split(';').next().unwrap_or(""))),
    );
    let steps = (axes.y_top / axes.y_step).round() as usize;
    for step in 0..=steps {
        let value = axes.y_step * step as f64;
        let y = axes.y(value);
        let _ = writeln!(
            out,
            "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#dddddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#666666\">{}</text>",
            left + PLOT_WIDTH,
            left - 6.0,
            y + 4.0,
            three_significant_digits(value)
        );
    }
    for point in first.map_or(&[][..], |c| &c.points[..]) {
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#666666\">{}</text>",
            axes.x(point.size),
            bottom + 16.0,
            size_label(point.size)
        );
    }
    let axis_label = match first.is_some_and(|c| c.measures.contains("connections")) {
        true => "idle connections (log scale)",
        false => "items (log scale)",
    };
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{axis_label}</text>",
        left + PLOT_WIDTH / 2.0,
        bottom + 36.0
    );
    for curve in curves {
        out.push_str(&svg_line(&axes, curve));
    }
    out
}

fn svg_line(axes: &Axes, curve: &Curve) -> String {
    let shown: Vec<(f64, f64)> = curve
        .points
        .iter()
        .filter(|p| p.cost.median.is_finite())
        .map(|p| (axes.x(p.size), axes.y(p.cost.median * 1e9)))
        .collect();
    let coordinates: Vec<String> = shown
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let stroke = colour(curve.runtime);
    let mut out = format!(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"2\"{}>\
         <title>{} {}</title></polyline>\n",
        coordinates.join(" "),
        dashes(curve.flavour),
        curve.runtime.name(),
        curve.flavour.name()
    );
    for (x, y) in shown {
        let _ = writeln!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"{stroke}\"/>"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(runtime: Runtime, flavour: Flavour, costs: &[(usize, f64)]) -> Curve {
        Curve {
            workload: "spawn_and_await",
            measures: "wall time per task",
            runtime,
            flavour,
            points: costs
                .iter()
                .map(|&(size, cost)| Point::of(size, &[cost]))
                .collect(),
        }
    }

    fn run() -> ScaleRun {
        ScaleRun {
            date: "2026-12-02".into(),
            machine: "2 cores".into(),
            command: "cargo run --release -p asincrono-bench -- --scale".into(),
            seconds: 12.3,
        }
    }

    #[test]
    fn growth_is_the_last_cost_over_the_first() {
        let rising = curve(
            Runtime::Asincrono,
            Flavour::CurrentThread,
            &[(1_000, 1e-7), (1_000_000, 3e-7)],
        );
        assert!((rising.growth() - 3.0).abs() < 1e-9);
        assert!(
            curve(Runtime::Tokio, Flavour::MultiThread, &[])
                .growth()
                .is_nan()
        );
    }

    #[test]
    fn sizes_get_thousands_separators() {
        assert_eq!(size_label(7), "7");
        assert_eq!(size_label(1_000), "1,000");
        assert_eq!(size_label(19_000), "19,000");
        assert_eq!(size_label(1_000_000), "1,000,000");
    }

    #[test]
    fn the_table_has_a_line_per_curve_with_nanoseconds_and_growth() {
        let curves = [
            curve(
                Runtime::Tokio,
                Flavour::CurrentThread,
                &[(1_000, 2e-7), (10_000, 2e-7)],
            ),
            curve(
                Runtime::Asincrono,
                Flavour::CurrentThread,
                &[(1_000, 1e-7), (10_000, 1.5e-7)],
            ),
        ];
        let text = table(&curves);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("spawn_and_await: wall time per task, ns"));
        assert!(lines[1].contains("1,000") && lines[1].ends_with("growth"));
        assert!(
            lines[2].starts_with("tokio") && lines[2].ends_with("200   1.00×"),
            "{}",
            lines[2]
        );
        assert!(lines[3].ends_with("100     150   1.50×"), "{}", lines[3]);
        let md = markdown(&run(), &curves);
        assert!(md.contains(
            "| runtime | flavour | 1,000 | 10,000 | growth |\n| --- | --- | ---: | ---: | ---: |\n"
        ));
        assert!(md.contains("| asincrono | current_thread | 100 | 150 | 1.50× |\n"));
        assert!(md.contains("- **Run time:** 12 s"));
    }

    #[test]
    fn the_chart_puts_sizes_on_a_log_axis_and_costs_from_zero() {
        let rising = curve(
            Runtime::Asincrono,
            Flavour::MultiThread,
            &[(1_000, 1e-7), (10_000, 2e-7), (1_000_000, 4e-7)],
        );
        let axes = Axes::new(0, &[&rising]);
        let (x3, x4, x6) = (axes.x(1_000), axes.x(10_000), axes.x(1_000_000));
        assert!(
            ((x4 - x3) * 3.0 - (x6 - x3)).abs() < 1e-9,
            "one decade, one third of the width"
        );
        assert_eq!(axes.y(0.0), PLOT_TOP + PLOT_HEIGHT);
        assert_eq!((axes.y_step, axes.y_top), (100.0, 500.0));
        let text = svg(&run(), &[rising]);
        assert_eq!(text.matches("<polyline").count(), 1);
        assert_eq!(text.matches("<circle").count(), 3);
        assert!(text.contains("stroke-dasharray=\"6 4\""));
        assert!(text.contains(">1,000,000</text>"));
    }

    #[test]
    fn nice_steps_are_one_two_or_five() {
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(120.0), 200.0);
        assert_eq!(nice_step(f64::NAN), 1.0);
    }

    #[test]
    fn a_curve_with_a_missing_point_still_draws() {
        let mut gap = curve(
            Runtime::Tokio,
            Flavour::CurrentThread,
            &[(1_000, 1e-7), (10_000, 1e-7)],
        );
        gap.points[1].cost = Summary::from_samples(&[]);
        let text = svg(&run(), &[gap]);
        assert_eq!(text.matches("<circle").count(), 1);
        assert!(table(&[]).is_empty());
    }
}
