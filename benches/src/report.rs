//! The benchmark report: what asincrono measured next to tokio, in four forms.
//!
//! Each [`Row`] is one workload on one scheduler flavour, measured on both runtimes over
//! several rounds. A row shows each runtime's median, the *ratio* (the median of the
//! rounds' ratios, `ratio.rs`), a 95% interval for it and the spread (fastest to slowest
//! round) of each runtime. The same rows come out as an aligned terminal table
//! ([`table`]), a Markdown report ([`markdown`]), JSON for scripts ([`json`]) and a bar
//! chart of the ratios ([`svg`]); [`write_all`] saves the last three to a directory.
//!
//! # Reading a ratio
//!
//! The ratio is asincrono's sample divided by tokio's in each round, and the median of
//! those; lower is better for every unit (time, memory, CPU). `0.80` means asincrono needed
//! 80 % of what tokio needed; `1.25` means it needed a quarter more. Compare it with its
//! interval: when the interval contains 1.00, this run cannot tell the runtimes apart. The
//! spreads say the same more roughly: when the two runtimes' min–max ranges overlap, the
//! difference may be noise.
//!
//! What a ratio does not mean: it comes from one machine, at one moment, as the median of a
//! few rounds. It says how these two runtimes compared on that run, not how they compare in
//! general, and a ratio close to 1.00 is usually no difference at all.

use asincrono::trace::json_string;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Summary statistics of one runtime's measurements of one workload, in the workload's unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The middle sample; for an even count, the mean of the two middle samples.
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// How many samples were summarised (NaN samples are left out).
    pub samples: usize,
}

impl Summary {
    /// Summarises `samples`, in any order. NaN samples are skipped; when none is left, the
    /// statistics are NaN and `samples` is 0 (this never panics).
    pub fn from_samples(samples: &[f64]) -> Summary {
        let mut sorted: Vec<f64> = samples.iter().copied().filter(|s| !s.is_nan()).collect();
        sorted.sort_by(f64::total_cmp);
        match (sorted.first(), sorted.last()) {
            (Some(&min), Some(&max)) => Summary {
                median: median_of_sorted(&sorted),
                min,
                max,
                samples: sorted.len(),
            },
            _ => Summary {
                median: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
                samples: 0,
            },
        }
    }
}

/// The median of a sorted, non-empty slice.
fn median_of_sorted(sorted: &[f64]) -> f64 {
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

/// One row of the report: a workload on one scheduler flavour, measured on both runtimes.
#[derive(Clone, Debug)]
pub struct Row {
    /// The workload's name, e.g. `spawn_many`.
    pub workload: String,
    /// The scheduler flavour: `current_thread` or `multi_thread`.
    pub flavour: String,
    /// What the values measure.
    pub unit: Unit,
    /// tokio's measurements.
    pub tokio: Summary,
    /// asincrono's measurements.
    pub asincrono: Summary,
    /// asincrono's need over tokio's, round by round, and the median of those
    /// (`ratio.rs`): below 1.0, asincrono needed less (lower is better for all units). NaN
    /// when either runtime has no sample.
    pub ratio: f64,
    /// Each measured round's samples, tokio's then asincrono's, in the order the rounds
    /// ran: what the ratio and its interval were computed from, kept for `report.json`.
    pub rounds: Vec<[f64; 2]>,
    /// The share of the CPUs' time the host took while the row's rounds ran (`steal.rs`);
    /// `None` where the machine does not say.
    pub steal: Option<f64>,
    /// Where the ratio lands in 95% of resamplings of the rounds (`ratio.rs`); `None`
    /// when there were too few rounds to tell.
    pub interval: Option<(f64, f64)>,
    /// A remark shown with the row, e.g. `p99 latency` or why a ratio is what it is.
    pub note: Option<String>,
}

/// What a row's values measure. Lower is better for every unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Wall-clock time in seconds; printed as ns, µs, ms or s.
    Seconds,
    /// Memory in bytes; printed as B, KiB, MiB or GiB.
    Bytes,
    /// CPU time in seconds; printed as milliseconds of CPU.
    CpuSeconds,
}

/// Facts about the run printed in every report.
#[derive(Clone, Debug)]
pub struct RunInfo {
    /// When the run happened, as the caller wants it shown.
    pub date: String,
    /// The machine it ran on (CPU, cores, OS), as the caller wants it shown.
    pub machine: String,
    /// The fewest measured rounds a workload ran per runtime.
    pub rounds: usize,
    /// The most: a short workload runs more rounds (each row's `samples` says how many).
    pub most_rounds: usize,
    /// Whether this was a quick run (smaller workloads, fewer rounds).
    pub quick: bool,
    /// The command that produced the report.
    pub command: String,
}

// ---------------------------------------------------------------------------------------------
// Formatting values

/// A unit's ladder of display units, smallest first: (suffix, size in base units).
struct Ladder {
    steps: &'static [(&'static str, f64)],
    /// A displayed number at or above this moves up to the next step.
    next_step_at: f64,
}

const TIME: Ladder = Ladder {
    steps: &[("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0)],
    next_step_at: 1000.0,
};

const MEMORY: Ladder = Ladder {
    steps: &[
        ("B", 1.0),
        ("KiB", 1024.0),
        ("MiB", 1024.0 * 1024.0),
        ("GiB", 1024.0 * 1024.0 * 1024.0),
    ],
    next_step_at: 1024.0,
};

const CPU: Ladder = Ladder {
    steps: &[("ms CPU", 1e-3)],
    next_step_at: f64::INFINITY,
};

fn ladder(unit: Unit) -> &'static Ladder {
    match unit {
        Unit::Seconds => &TIME,
        Unit::Bytes => &MEMORY,
        Unit::CpuSeconds => &CPU,
    }
}

/// A value with a human unit and 3 significant digits, e.g. `1.23 ms`; `n/a` if not finite.
fn format_value(unit: Unit, value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    let ladder = ladder(unit);
    for &(suffix, size) in ladder.steps {
        let number = three_significant_digits(value / size);
        if number
            .parse::<f64>()
            .is_ok_and(|n| n.abs() < ladder.next_step_at)
        {
            return format!("{number} {suffix}");
        }
    }
    let (suffix, size) = ladder.steps[ladder.steps.len() - 1];
    format!("{} {suffix}", three_significant_digits(value / size))
}

/// `x` with 3 significant digits (more for numbers of 1000 and above, which keep no decimals).
pub(crate) fn three_significant_digits(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).max(0) as usize;
    let text = format!("{x:.decimals$}");
    // Rounding can carry into the next power of ten (9.996 → "10.00"): drop a decimal then.
    let carried = text
        .parse::<f64>()
        .is_ok_and(|n| n.abs() >= 10f64.powi(magnitude + 1));
    if carried && decimals > 0 {
        format!("{x:.prec$}", prec = decimals - 1)
    } else {
        text
    }
}

/// A ratio with 2 decimals, or `n/a`.
fn format_ratio(ratio: f64) -> String {
    if ratio.is_finite() {
        format!("{ratio:.2}")
    } else {
        "n/a".to_string()
    }
}

/// min–max of one summary, naming the unit once when both ends share it: `1.20–1.31 ms`.
fn format_spread(unit: Unit, summary: &Summary) -> String {
    let low = format_value(unit, summary.min);
    let high = format_value(unit, summary.max);
    if low == high {
        return low;
    }
    match (low.split_once(' '), high.split_once(' ')) {
        (Some((low_number, low_unit)), Some((high_number, high_unit))) if low_unit == high_unit => {
            format!("{low_number}–{high_number} {high_unit}")
        }
        _ => format!("{low}–{high}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Table and Markdown

const COLUMNS: usize = 8;

const HEADERS: [&str; COLUMNS] = [
    "workload",
    "flavour",
    "tokio median",
    "asincrono median",
    "ratio",
    "95% interval",
    "spread (tokio / asincrono)",
    "note",
];

/// Which columns hold numbers, aligned to the right.
const RIGHT_ALIGNED: [bool; COLUMNS] = [false, false, true, true, true, true, false, false];

/// The text of each column of a row, before any escaping.
fn cells(row: &Row) -> [String; COLUMNS] {
    let spread = format!(
        "{} / {}",
        format_spread(row.unit, &row.tokio),
        format_spread(row.unit, &row.asincrono)
    );
    [
        row.workload.clone(),
        row.flavour.clone(),
        format_value(row.unit, row.tokio.median),
        format_value(row.unit, row.asincrono.median),
        format_ratio(row.ratio),
        format_interval(row.interval),
        spread,
        row.note.clone().unwrap_or_default(),
    ]
}

/// `0.97–1.08`, or `n/a` when there is no interval.
fn format_interval(interval: Option<(f64, f64)>) -> String {
    interval.map_or("n/a".to_string(), |(low, high)| {
        format!("{}–{}", format_ratio(low), format_ratio(high))
    })
}

/// An aligned plain-text table of the rows, for the terminal, with the columns workload,
/// flavour, tokio median, asincrono median, ratio (asincrono ÷ tokio), spread and note.
pub fn table(rows: &[Row]) -> String {
    let header = HEADERS.map(String::from);
    let body: Vec<[String; COLUMNS]> = rows.iter().map(cells).map(single_line).collect();
    let mut widths = header.clone().map(|cell| cell.chars().count());
    for line in &body {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let rule = widths.map(|width| "-".repeat(width));
    let mut out = String::new();
    for line in [&header, &rule].into_iter().chain(&body) {
        out.push_str(&aligned_line(line, &widths));
        out.push('\n');
    }
    out
}

/// Cells with any line breaks turned into spaces, so that one row stays one line.
fn single_line(cells: [String; COLUMNS]) -> [String; COLUMNS] {
    cells.map(|cell| cell.replace(['\r', '\n'], " "))
}

fn aligned_line(cells: &[String; COLUMNS], widths: &[usize; COLUMNS]) -> String {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .zip(RIGHT_ALIGNED)
        .map(|((cell, &width), right)| {
            if right {
                format!("{cell:>width$}")
            } else {
                format!("{cell:<width$}")
            }
        })
        .collect();
    padded.join("  ").trim_end().to_string()
}

/// A Markdown report: a heading, the facts of the run, the table of [`table`] and what the
/// ratio and the spread mean.
pub fn markdown(info: &RunInfo, rows: &[Row]) -> String {
    let mut out = String::from("# asincrono vs tokio: benchmark report\n\n");
    out.push_str(&markdown_run_info(info));
    out.push('\n');
    if rows.is_empty() {
        out.push_str("No workloads were measured.\n");
        return out;
    }
    out.push_str(&markdown_table(rows));
    out.push('\n');
    out.push_str(&explanation(info));
    out
}

fn markdown_run_info(info: &RunInfo) -> String {
    let mode = if info.quick { "quick run" } else { "full run" };
    format!(
        "- **Date:** {}\n- **Machine:** {}\n- **Rounds:** {} per runtime ({mode})\n- **Command:** {}\n",
        markdown_text(&info.date),
        markdown_text(&info.machine),
        rounds_text(info),
        code_span(&info.command),
    )
}

fn markdown_table(rows: &[Row]) -> String {
    let mut out = markdown_table_line(&HEADERS.map(String::from));
    let alignment = RIGHT_ALIGNED.map(|right| if right { "---:" } else { "---" });
    out.push_str(&format!("| {} |\n", alignment.join(" | ")));
    for row in rows {
        out.push_str(&markdown_table_line(&cells(row)));
    }
    out
}

fn markdown_table_line(cells: &[String; COLUMNS]) -> String {
    let escaped: Vec<String> = cells.iter().map(|cell| markdown_text(cell)).collect();
    format!("| {} |\n", escaped.join(" | "))
}

fn explanation(info: &RunInfo) -> String {
    format!(
        "**Ratio** is asincrono's sample divided by tokio's in the same round, and the median \
         of those over the rounds (so it need not equal the medians' quotient); lower is \
         better for every unit: a ratio ≤ 1.00 means asincrono was as fast or faster (or \
         used as little memory or CPU, or less), above 1.00 it was slower. The **95% \
         interval** is where the ratio lands when the run's rounds are drawn again at random, two thousand times, each round \
         with both runtimes' samples (a bootstrap): when it contains 1.00, this run cannot \
         tell the runtimes apart. The **spread** is the fastest and slowest \
         of the {} rounds of each runtime (more rounds for a shorter workload) and shows how \
         noisy a row is: when the two spreads \
         overlap, the difference is within the noise. These are medians from one machine at \
         one moment, not a general verdict; a note says when the host took 5% or more of \
         the CPU time while a row ran (steal, on a virtual machine).\n",
        rounds_text(info)
    )
}

/// "5", or "7–25" when workloads ran different numbers of rounds.
fn rounds_text(info: &RunInfo) -> String {
    if info.most_rounds > info.rounds {
        format!("{}–{}", info.rounds, info.most_rounds)
    } else {
        info.rounds.to_string()
    }
}

/// Text that Markdown shows as written, on one line, even inside a table cell.
fn markdown_text(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
        .replace('|', "\\|")
        .replace('<', "&lt;")
}

/// `text` as a Markdown code span, fenced with more backticks than it contains in a row.
fn code_span(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ");
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let padding = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{padding}{text}{padding}{fence}")
}

// ---------------------------------------------------------------------------------------------
// JSON

/// The run and every row as JSON (pretty-printed, written by hand): an object with `run`
/// (the [`RunInfo`]) and `rows`, each with its summaries, its unit (`seconds`, `bytes` or
/// `cpu_seconds`: values are in that base unit) and its `ratio`. NaN and infinities are `null`.
pub fn json(info: &RunInfo, rows: &[Row]) -> String {
    let mut out = String::from("{\n  \"run\": {\n");
    let _ = writeln!(out, "    \"date\": {},", json_string(&info.date));
    let _ = writeln!(out, "    \"machine\": {},", json_string(&info.machine));
    let _ = writeln!(out, "    \"rounds\": {},", info.rounds);
    let _ = writeln!(out, "    \"most_rounds\": {},", info.most_rounds);
    let _ = writeln!(out, "    \"quick\": {},", info.quick);
    let _ = writeln!(out, "    \"command\": {}", json_string(&info.command));
    out.push_str("  },\n");
    if rows.is_empty() {
        out.push_str("  \"rows\": []\n}\n");
        return out;
    }
    let objects: Vec<String> = rows.iter().map(json_row).collect();
    let _ = write!(out, "  \"rows\": [\n{}\n  ]\n}}\n", objects.join(",\n"));
    out
}

fn json_row(row: &Row) -> String {
    let note = row.note.as_deref().map_or("null".to_string(), json_string);
    format!(
        "    {{\n      \"workload\": {},\n      \"flavour\": {},\n      \"unit\": \"{}\",\n      \
         \"tokio\": {},\n      \"asincrono\": {},\n      \"ratio\": {},\n      \
         \"ratio_interval\": {},\n      \"rounds\": {},\n      \"steal\": {},\n      \
         \"note\": {}\n    }}",
        json_string(&row.workload),
        json_string(&row.flavour),
        unit_name(row.unit),
        json_summary(&row.tokio),
        json_summary(&row.asincrono),
        json_number(row.ratio),
        row.interval.map_or("null".to_string(), |(low, high)| {
            format!("[{}, {}]", json_number(low), json_number(high))
        }),
        json_rounds(&row.rounds),
        row.steal.map_or("null".to_string(), json_number),
        note,
    )
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Seconds => "seconds",
        Unit::Bytes => "bytes",
        Unit::CpuSeconds => "cpu_seconds",
    }
}

/// The rounds as `[[tokio, asincrono], …]`, for a script that wants to compute its own
/// statistics from the samples.
fn json_rounds(rounds: &[[f64; 2]]) -> String {
    let pairs: Vec<String> = rounds
        .iter()
        .map(|[tokio, asincrono]| format!("[{}, {}]", json_number(*tokio), json_number(*asincrono)))
        .collect();
    format!("[{}]", pairs.join(", "))
}

fn json_summary(summary: &Summary) -> String {
    format!(
        "{{\"median\": {}, \"min\": {}, \"max\": {}, \"samples\": {}}}",
        json_number(summary.median),
        json_number(summary.min),
        json_number(summary.max),
        summary.samples
    )
}

/// A finite number as JSON (Rust's shortest exact decimal); anything else as `null`.
fn json_number(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        "null".to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// SVG
//
// The chart puts ratios on a log2 scale centred at 1.0 rather than a linear one: a ratio is a
// factor, and "twice as fast" (0.5) and "twice as slow" (2.0) should look equally big. On a
// linear scale every speed-up is squeezed into [0, 1) while slow-downs stretch without bound.
// Bars grow from the 1.0 line: to the left when asincrono was faster, to the right when slower.

const CHART_WIDTH: f64 = 560.0; // the plot area, between the labels and the right margin
const VALUE_ROOM: f64 = 56.0; // kept free at each end of the plot for the printed ratios
const ROW_HEIGHT: f64 = 28.0;
const BAR_HEIGHT: f64 = 18.0;
const TOP: f64 = 64.0; // title and subtitle above the first row
const BOTTOM: f64 = 60.0; // tick labels and axis label below the last row
const MARGIN: f64 = 16.0;
const CHAR_WIDTH: f64 = 7.5; // rough width of a 13px sans-serif character
const TITLE_CHAR_WIDTH: f64 = 9.6; // and of a 16px bold one
const SUBTITLE_CHAR_WIDTH: f64 = 6.6; // and of a 12px one
const LONGEST_LABEL: usize = 44; // longer labels are cut with an ellipsis
const FASTER: &str = "#2a9d5c";
const SLOWER: &str = "#d1495b";

/// Where things go on the chart.
struct Layout {
    label_width: f64,
    /// Rough width of the title or the subtitle, whichever is wider.
    heading_width: f64,
    /// The scale reaches ±`extent` powers of two either side of 1.0.
    extent: i32,
    rows: usize,
}

impl Layout {
    fn new(rows: &[Row], headings: &Headings) -> Layout {
        let heading_width = (headings.title.chars().count() as f64 * TITLE_CHAR_WIDTH)
            .max(headings.subtitle.chars().count() as f64 * SUBTITLE_CHAR_WIDTH);
        let longest = rows.iter().map(|row| label(row).chars().count()).max();
        let label_width = (longest.unwrap_or(0) as f64 * CHAR_WIDTH + 12.0).clamp(120.0, 350.0);
        let largest_exponent = rows
            .iter()
            .map(|row| row.ratio)
            .filter(|ratio| ratio.is_finite() && *ratio > 0.0)
            .map(|ratio| ratio.log2().abs().ceil() as i32)
            .max();
        Layout {
            label_width,
            heading_width,
            extent: largest_exponent.unwrap_or(1).max(1),
            rows: rows.len(),
        }
    }

    fn plot_left(&self) -> f64 {
        MARGIN + self.label_width
    }

    fn centre(&self) -> f64 {
        self.plot_left() + CHART_WIDTH / 2.0
    }

    /// The x coordinate of a ratio; 0 goes to the left end of the scale.
    fn x(&self, ratio: f64) -> f64 {
        let half = CHART_WIDTH / 2.0 - VALUE_ROOM;
        let position = (ratio.log2() / f64::from(self.extent)).clamp(-1.0, 1.0);
        self.centre() + position * half
    }

    fn row_top(&self, index: usize) -> f64 {
        TOP + index as f64 * ROW_HEIGHT
    }

    fn plot_bottom(&self) -> f64 {
        self.row_top(self.rows)
    }

    fn width(&self) -> f64 {
        (self.plot_left() + CHART_WIDTH).max(MARGIN + self.heading_width) + MARGIN
    }

    fn height(&self) -> f64 {
        self.plot_bottom() + BOTTOM
    }
}

/// A horizontal bar chart of the ratios, as a standalone SVG document: one bar per row,
/// labelled "workload (flavour)", on a log2 scale centred at 1.0 (left of the line asincrono
/// was faster, right of it slower), each with its ratio printed at the bar's end. Rows without
/// a ratio show `n/a` and no bar.
pub fn svg(info: &RunInfo, rows: &[Row]) -> String {
    let headings = Headings::of(info);
    let layout = Layout::new(rows, &headings);
    let mut out = svg_open(&layout);
    out.push_str(&svg_headings(&headings));
    out.push_str(&svg_grid(&layout));
    for (index, row) in rows.iter().enumerate() {
        out.push_str(&svg_row(&layout, index, row));
    }
    out.push_str(&svg_axis(&layout));
    out.push_str("</svg>\n");
    out
}

fn svg_open(layout: &Layout) -> String {
    let (width, height) = (layout.width(), layout.height());
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"Helvetica, Arial, sans-serif\" \
         font-size=\"13\" style=\"background: #ffffff\">\n"
    )
}

/// The chart's title and the line below it, unescaped.
struct Headings {
    title: String,
    subtitle: String,
}

impl Headings {
    fn of(info: &RunInfo) -> Headings {
        let mode = if info.quick { ", quick run" } else { "" };
        Headings {
            title: format!("asincrono ÷ tokio, {}, {}", info.date, info.machine),
            subtitle: format!(
                "median of {} rounds per runtime{mode}; \
                 bars left of 1× are faster than tokio, right of it slower",
                rounds_text(info)
            ),
        }
    }
}

fn svg_headings(headings: &Headings) -> String {
    format!(
        "<title>{title}</title>\n\
         <text x=\"{MARGIN}\" y=\"26\" font-size=\"16\" font-weight=\"bold\">{title}</text>\n\
         <text x=\"{MARGIN}\" y=\"46\" font-size=\"12\" fill=\"#555555\">{subtitle}</text>\n",
        title = xml_escape(&headings.title),
        subtitle = xml_escape(&headings.subtitle),
    )
}

/// Light vertical lines at powers of two, labelled below the plot.
fn svg_grid(layout: &Layout) -> String {
    let step = (layout.extent + 3) / 4; // at most 4 ticks either side of 1×
    let (top, bottom) = (TOP - 4.0, layout.plot_bottom());
    let mut out = String::new();
    for exponent in (-layout.extent..=layout.extent).filter(|e| e % step == 0 && *e != 0) {
        let x = layout.x(2f64.powi(exponent));
        let _ = writeln!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" stroke=\"#dddddd\"/>"
        );
        out.push_str(&tick_label(x, bottom, exponent));
    }
    out
}

fn tick_label(x: f64, plot_bottom: f64, exponent: i32) -> String {
    let text = match exponent {
        e if e >= -3 => format!("{}×", 2f64.powi(e)),
        e => format!("1/{}×", 2f64.powi(-e)),
    };
    format!(
        "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#666666\">{text}</text>\n",
        plot_bottom + 16.0
    )
}

/// The line at 1× that bars grow from, its tick label and the axis label.
fn svg_axis(layout: &Layout) -> String {
    let centre = layout.centre();
    let bottom = layout.plot_bottom();
    let left = layout.plot_left();
    let right = left + CHART_WIDTH;
    let label_y = bottom + 40.0;
    format!(
        "<line x1=\"{centre:.1}\" y1=\"{:.1}\" x2=\"{centre:.1}\" y2=\"{:.1}\" stroke=\"#333333\" stroke-width=\"1.5\"/>\n\
         <text x=\"{centre:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333333\">1×</text>\n\
         <text x=\"{left:.1}\" y=\"{label_y:.1}\" font-size=\"12\" fill=\"{FASTER}\">← faster</text>\n\
         <text x=\"{centre:.1}\" y=\"{label_y:.1}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n\
         <text x=\"{right:.1}\" y=\"{label_y:.1}\" text-anchor=\"end\" font-size=\"12\" fill=\"{SLOWER}\">slower →</text>\n",
        TOP - 6.0,
        bottom + 2.0,
        bottom + 16.0,
        xml_escape("asincrono ÷ tokio (lower is better)"),
    )
}

/// The label, bar and printed ratio of one row.
fn svg_row(layout: &Layout, index: usize, row: &Row) -> String {
    let top = layout.row_top(index);
    let text_y = top + ROW_HEIGHT / 2.0 + 4.5;
    let mut out = format!(
        "<text x=\"{:.1}\" y=\"{text_y:.1}\" text-anchor=\"end\">{}</text>\n",
        layout.plot_left() - 8.0,
        xml_escape(&shortened(&label(row)))
    );
    let ratio = row.ratio;
    if !(ratio.is_finite() && ratio >= 0.0) {
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{text_y:.1}\" fill=\"#888888\">n/a</text>",
            layout.centre() + 6.0
        );
        return out;
    }
    let (start, end) = (layout.centre(), layout.x(ratio));
    let colour = if ratio <= 1.0 { FASTER } else { SLOWER };
    let _ = writeln!(
        out,
        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BAR_HEIGHT}\" fill=\"{colour}\">\
         <title>{}</title></rect>",
        start.min(end),
        top + (ROW_HEIGHT - BAR_HEIGHT) / 2.0,
        (end - start).abs(),
        xml_escape(&bar_tooltip(row)),
    );
    let (value_x, anchor) = if ratio > 1.0 {
        (end + 6.0, "start")
    } else {
        (end - 6.0, "end")
    };
    let _ = writeln!(
        out,
        "<text x=\"{value_x:.1}\" y=\"{text_y:.1}\" text-anchor=\"{anchor}\" fill=\"{colour}\" \
         font-weight=\"bold\">{}×</text>",
        format_ratio(ratio)
    );
    out
}

fn label(row: &Row) -> String {
    format!("{} ({})", row.workload, row.flavour).replace(['\r', '\n'], " ")
}

fn shortened(text: &str) -> String {
    if text.chars().count() <= LONGEST_LABEL {
        return text.to_string();
    }
    let kept: String = text.chars().take(LONGEST_LABEL - 1).collect();
    format!("{kept}…")
}

/// Shown when hovering a bar: the medians behind the ratio.
fn bar_tooltip(row: &Row) -> String {
    let note = row
        .note
        .as_deref()
        .map_or(String::new(), |note| format!(" ({note})"));
    format!(
        "{}: asincrono {} vs tokio {}{note}",
        label(row),
        format_value(row.unit, row.asincrono.median),
        format_value(row.unit, row.tokio.median),
    )
}

/// Text safe inside XML elements and attribute values.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows no other control characters, not even escaped.
            c if c < ' ' && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Files

/// Creates `dir` (and its parents) and writes `report.md`, `report.json` and `ratios.svg` into
/// it; returns their paths in that order. An error names the path it failed on.
pub fn write_all(dir: &Path, info: &RunInfo, rows: &[Row]) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)
        .map_err(|err| naming_path(err, "cannot create report directory", dir))?;
    let files = [
        ("report.md", markdown(info, rows)),
        ("report.json", json(info, rows)),
        ("ratios.svg", svg(info, rows)),
    ];
    files
        .into_iter()
        .map(|(name, contents)| {
            let path = dir.join(name);
            fs::write(&path, contents).map_err(|err| naming_path(err, "cannot write", &path))?;
            Ok(path)
        })
        .collect()
}

fn naming_path(err: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(err.kind(), format!("{what} {}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(median: f64, min: f64, max: f64) -> Summary {
        Summary {
            median,
            min,
            max,
            samples: 5,
        }
    }

    fn row(workload: &str, tokio_median: f64, asincrono_median: f64) -> Row {
        Row {
            workload: workload.to_string(),
            flavour: "current_thread".to_string(),
            unit: Unit::Seconds,
            tokio: summary(tokio_median, tokio_median * 0.9, tokio_median * 1.1),
            asincrono: summary(asincrono_median, asincrono_median, asincrono_median * 1.2),
            ratio: asincrono_median / tokio_median,
            rounds: Vec::new(),
            steal: None,
            interval: None,
            note: None,
        }
    }

    fn info() -> RunInfo {
        RunInfo {
            date: "2025-06-01".to_string(),
            machine: "2-core VM".to_string(),
            rounds: 5,
            most_rounds: 5,
            quick: false,
            command: "cargo run --release -p asincrono-bench".to_string(),
        }
    }

    #[test]
    fn median_of_an_odd_count_is_the_middle_sample() {
        let s = Summary::from_samples(&[5.0, 1.0, 3.0]);
        assert_eq!(s, summary_of(3.0, 1.0, 5.0, 3));
    }

    #[test]
    fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let s = Summary::from_samples(&[4.0, 1.0, 10.0, 2.0]);
        assert_eq!(s, summary_of(3.0, 1.0, 10.0, 4));
    }

    fn summary_of(median: f64, min: f64, max: f64, samples: usize) -> Summary {
        Summary {
            median,
            min,
            max,
            samples,
        }
    }

    #[test]
    fn no_samples_give_nans_instead_of_a_panic() {
        for samples in [&[][..], &[f64::NAN][..]] {
            let s = Summary::from_samples(samples);
            assert!(s.median.is_nan() && s.min.is_nan() && s.max.is_nan());
            assert_eq!(s.samples, 0);
        }
        assert_eq!(Summary::from_samples(&[2.0, f64::NAN]).samples, 1);
    }

    #[test]
    fn a_ratio_prints_with_two_decimals_and_a_missing_one_as_n_a() {
        assert_eq!(format_ratio(f64::NAN), "n/a");
        assert_eq!(format_ratio(0.876), "0.88");
    }

    #[test]
    fn seconds_use_ns_to_s_with_three_significant_digits() {
        let cases = [
            (999e-9, "999 ns"),
            (999.6e-9, "1.00 µs"),
            (1e-6, "1.00 µs"),
            (9.996e-6, "10.0 µs"),
            (12.34e-6, "12.3 µs"),
            (999e-6, "999 µs"),
            (1e-3, "1.00 ms"),
            (0.999, "999 ms"),
            (1.0, "1.00 s"),
            (123.4, "123 s"),
            (4321.0, "4321 s"),
            (0.5e-9, "0.500 ns"),
        ];
        for (value, expected) in cases {
            assert_eq!(format_value(Unit::Seconds, value), expected, "{value}");
        }
    }

    #[test]
    fn bytes_use_binary_prefixes() {
        let cases = [
            (0.0, "0 B"),
            (500.0, "500 B"),
            (1023.0, "1023 B"),
            (1024.0, "1.00 KiB"),
            (1536.0, "1.50 KiB"),
            (1024.0 * 1023.0, "1023 KiB"),
            (1024.0 * 1024.0 - 1.0, "1.00 MiB"),
            (3.5 * 1024.0 * 1024.0, "3.50 MiB"),
        ];
        for (value, expected) in cases {
            assert_eq!(format_value(Unit::Bytes, value), expected, "{value}");
        }
    }

    #[test]
    fn cpu_seconds_are_milliseconds_of_cpu() {
        assert_eq!(format_value(Unit::CpuSeconds, 0.0005), "0.500 ms CPU");
        assert_eq!(format_value(Unit::CpuSeconds, 0.0123456), "12.3 ms CPU");
        assert_eq!(format_value(Unit::CpuSeconds, 2.0), "2000 ms CPU");
        assert_eq!(format_value(Unit::CpuSeconds, f64::NAN), "n/a");
    }

    #[test]
    fn spread_names_a_shared_unit_once() {
        assert_eq!(
            format_spread(Unit::Seconds, &summary(0.0, 1.2e-3, 1.31e-3)),
            "1.20–1.31 ms"
        );
        assert_eq!(
            format_spread(Unit::Seconds, &summary(0.0, 900e-6, 1.1e-3)),
            "900 µs–1.10 ms"
        );
        assert_eq!(
            format_spread(Unit::CpuSeconds, &summary(0.0, 0.001, 0.002)),
            "1.00–2.00 ms CPU"
        );
        assert_eq!(
            format_spread(Unit::Bytes, &summary(0.0, 64.0, 64.0)),
            "64.0 B"
        );
    }

    #[test]
    fn table_aligns_columns() {
        let mut slow = row("a_much_longer_workload_name", 1e-3, 2e-3);
        slow.note = Some("p99 latency".to_string());
        let text = table(&[row("spawn", 2e-6, 1e-6), slow]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("workload"));
        // Right-aligned: every line's ratio cell ends where the header's "ratio" ends.
        let ratio_end = char_index(lines[0], "ratio") + "ratio".len();
        assert_eq!(char_index(lines[2], " 0.50  ") + 5, ratio_end);
        assert_eq!(char_index(lines[3], " 2.00  ") + 5, ratio_end);
        assert!(lines[3].ends_with("p99 latency"));
        assert!(lines[1].chars().all(|c| c == '-' || c == ' '));
    }

    fn char_index(line: &str, needle: &str) -> usize {
        line[..line.find(needle).unwrap()].chars().count()
    }

    #[test]
    fn markdown_has_run_info_table_and_explanation() {
        let mut noted = row("spawn_many", 2e-3, 1e-3);
        noted.note = Some("a|b".to_string());
        noted.interval = Some((0.4, 0.63));
        let text = markdown(&info(), &[noted]);
        assert!(text.starts_with("# "));
        assert!(text.contains("- **Machine:** 2-core VM\n"));
        assert!(text.contains("- **Rounds:** 5 per runtime (full run)\n"));
        assert!(text.contains("`cargo run --release -p asincrono-bench`"));
        assert!(text.contains(
            "| workload | flavour | tokio median | asincrono median | ratio | 95% interval | \
             spread (tokio / asincrono) | note |\n\
             | --- | --- | ---: | ---: | ---: | ---: | --- | --- |\n"
        ));
        assert!(text.contains(
            "| spawn_many | current_thread | 2.00 ms | 1.00 ms | 0.50 | 0.40–0.63 | \
             1.80–2.20 ms / 1.00–1.20 ms | a\\|b |\n"
        ));
        assert!(text.contains("≤ 1.00 means asincrono was as fast or faster"));
        assert!(text.contains("within the noise"));
    }

    #[test]
    fn code_span_outfences_backticks() {
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x`"), "`` `x` ``");
    }

    #[test]
    fn json_of_one_row_is_exactly_as_expected() {
        let mut one = row("spawn_many", 0.5, 0.25);
        one.tokio = Summary::from_samples(&[0.5, 0.25, 1.0]);
        one.asincrono = Summary::from_samples(&[0.25]);
        one.note = Some("p99 latency".to_string());
        one.interval = Some((0.25, 1.5));
        one.rounds = vec![[0.5, 0.25], [f64::NAN, 0.5]];
        one.steal = Some(0.125);
        let expected = r#"{
  "run": {
    "date": "2025-06-01",
    "machine": "2-core VM",
    "rounds": 5,
    "most_rounds": 5,
    "quick": false,
    "command": "cargo run --release -p asincrono-bench"
  },
  "rows": [
    {
      "workload": "spawn_many",
      "flavour": "current_thread",
      "unit": "seconds",
      "tokio": {"median": 0.5, "min": 0.25, "max": 1, "samples": 3},
      "asincrono": {"median": 0.25, "min": 0.25, "max": 0.25, "samples": 1},
      "ratio": 0.5,
      "ratio_interval": [0.25, 1.5],
      "rounds": [[0.5, 0.25], [null, 0.5]],
      "steal": 0.125,
      "note": "p99 latency"
    }
  ]
}
"#;
        assert_eq!(json(&info(), &[one]), expected);
    }

    #[test]
    fn json_escapes_strings_and_writes_nan_as_null() {
        let mut odd = row("say \"hi\"\\ then\nbye\u{1}", 1.0, f64::NAN);
        odd.asincrono = Summary::from_samples(&[]);
        let text = json(&info(), &[odd]);
        assert!(text.contains(r#""workload": "say \"hi\"\\ then\nbye\u0001","#));
        assert!(
            text.contains(
                r#""asincrono": {"median": null, "min": null, "max": null, "samples": 0}"#
            )
        );
        assert!(text.contains("\"ratio\": null,"));
        assert!(text.contains("\"note\": null"));
        assert!(!text.contains("NaN") && !text.contains("inf"));
    }

    #[test]
    fn json_is_balanced_outside_strings() {
        let mut tricky = row("{[\"\\", 1.0, 0.5);
        tricky.note = Some("]}\n".to_string());
        let rows = [tricky, row("b", 1.0, 2.0)];
        assert!(balanced_json(&json(&info(), &rows)));
        assert!(balanced_json(&json(&info(), &[])));
        assert!(!balanced_json("{\"a\": [1}"));
    }

    /// Brackets and braces nest properly outside strings, and strings hold no raw control
    /// characters: a cheap stand-in for a JSON parser.
    fn balanced_json(text: &str) -> bool {
        let (mut open, mut in_string, mut escaped) = (Vec::new(), false, false);
        for c in text.chars() {
            if in_string {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_string = false,
                    c if c < ' ' => return false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_string = true,
                '{' | '[' => open.push(c),
                '}' if open.pop() != Some('{') => return false,
                ']' if open.pop() != Some('[') => return false,
                _ => {}
            }
        }
        open.is_empty() && !in_string
    }

    #[test]
    fn svg_has_a_bar_per_row_and_the_axis_line() {
        let rows = [row("a", 1.0, 0.5), row("b", 1.0, 1.0), row("c", 1.0, 3.0)];
        let text = svg(&info(), &rows);
        assert!(text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""));
        assert!(text.contains(" viewBox=\"0 0 "));
        assert_eq!(text.matches("<rect").count(), rows.len());
        assert_eq!(
            text.matches("stroke-width=\"1.5\"").count(),
            1,
            "the 1× axis line"
        );
        assert!(text.contains("asincrono ÷ tokio (lower is better)"));
        assert!(text.contains("2025-06-01, 2-core VM"));
        assert!(text.contains(&format!("fill=\"{FASTER}\" font-weight=\"bold\">0.50×")));
        assert!(text.contains(&format!("fill=\"{SLOWER}\" font-weight=\"bold\">3.00×")));
        assert!(tags_are_closed(&text));
    }

    #[test]
    fn svg_bars_grow_from_the_one_line_on_a_log_scale() {
        let rows = [row("half", 1.0, 0.5), row("double", 1.0, 2.0)];
        let layout = Layout::new(&rows, &Headings::of(&info()));
        let (centre, half, double) = (layout.centre(), layout.x(0.5), layout.x(2.0));
        assert!(half < centre && centre < double);
        assert!((centre - half - (double - centre)).abs() < 1e-9);
    }

    #[test]
    fn svg_escapes_labels_and_shows_missing_ratios_as_na() {
        let mut missing = row("<b>&co", 1.0, 1.0);
        missing.asincrono = Summary::from_samples(&[]);
        missing.ratio = f64::NAN;
        let text = svg(&info(), &[missing]);
        assert!(text.contains("&lt;b&gt;&amp;co (current_thread)"));
        assert!(!text.contains("<b>"));
        assert_eq!(text.matches("<rect").count(), 0);
        assert!(text.contains(">n/a</text>"));
        assert!(tags_are_closed(&text));
    }

    #[test]
    fn svg_puts_a_zero_ratio_at_the_left_end() {
        let rows = [row("no_cpu", 1.0, 0.0), row("b", 1.0, 4.0)];
        let layout = Layout::new(&rows, &Headings::of(&info()));
        assert_eq!(layout.x(0.0), layout.x(0.25));
        let text = svg(&info(), &rows);
        assert_eq!(text.matches("<rect").count(), 2);
        assert!(text.contains(">0.00×</text>"));
    }

    #[test]
    fn an_empty_report_is_still_well_formed() {
        assert_eq!(table(&[]).lines().count(), 2);
        assert!(markdown(&info(), &[]).contains("No workloads were measured."));
        assert!(json(&info(), &[]).contains("\"rows\": []"));
        let text = svg(&info(), &[]);
        assert!(tags_are_closed(&text) && !text.contains("<rect"));
    }

    /// Every opening tag is closed by the matching closing tag or is self-closing, and the
    /// text between tags holds no stray `<` or unescaped `&`.
    fn tags_are_closed(text: &str) -> bool {
        let mut open: Vec<&str> = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find('<') {
            if !entities_are_valid(&rest[..start]) {
                return false;
            }
            let Some(length) = rest[start..].find('>') else {
                return false;
            };
            let tag = &rest[start + 1..start + length];
            let name = tag.trim_start_matches('/').split([' ', '\n', '/']).next();
            match (tag.starts_with('/'), tag.ends_with('/'), name) {
                (true, _, name) if open.pop() != name => return false,
                (false, false, Some(name)) => open.push(name),
                _ => {}
            }
            rest = &rest[start + length + 1..];
        }
        open.is_empty()
    }

    fn entities_are_valid(text: &str) -> bool {
        text.split('&').skip(1).all(|after| {
            ["amp;", "lt;", "gt;", "quot;", "apos;"]
                .iter()
                .any(|entity| after.starts_with(entity))
        })
    }

    #[test]
    fn write_all_writes_three_files() {
        let dir = scratch_dir("written").join("nested");
        let paths = write_all(&dir, &info(), &[row("a", 1.0, 0.5)]).unwrap();
        let names: Vec<&str> = paths
            .iter()
            .map(|path| path.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["report.md", "report.json", "ratios.svg"]);
        for path in &paths {
            assert!(fs::metadata(path).unwrap().len() > 0, "{}", path.display());
        }
        fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn write_all_names_the_directory_it_cannot_create() {
        let base = scratch_dir("blocked");
        fs::create_dir_all(&base).unwrap();
        let file = base.join("a_file");
        fs::write(&file, "not a directory").unwrap();
        let dir = file.join("report");
        let err = write_all(&dir, &info(), &[]).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("cannot create report directory"),
            "{message}"
        );
        assert!(message.contains(&dir.display().to_string()), "{message}");
        fs::remove_dir_all(base).unwrap();
    }

    fn scratch_dir(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("report_test_{}_{name}", std::process::id()))
    }
}
