//! `cargo run --release -p asincrono-bench [-- --quick] [-- --filter NAME]`
//!
//! Runs every workload on tokio and on asincrono in alternation (after one warm-up round,
//! each round runs both, the first runtime changing every round so that neither always
//! runs on a warmer machine), then prints a table of medians and ratios and writes
//! `target/bench/report.md`, `report.json` and `ratios.svg`.
//!
//! `-- --scale [--quick] [--sizes 1000,10000]` runs the scaling mode instead (`scale.rs`):
//! cost per item at sizes from 10³ to 10⁶, printed as tables and written to
//! `target/bench/scale.md` and `scale.svg`.

use asincrono_bench::ratio::{paired_ratio, ratio_interval};
use asincrono_bench::report::{self, Row, RunInfo, Summary};
use asincrono_bench::rounds::{FEW_ROUNDS, MAX_ROUNDS, ROUNDS, rounds_after};
use asincrono_bench::scale::{self, IDLE_CLIENTS_FLAG, Plan, SCALE_ONCE_FLAG};
use asincrono_bench::scale_report::{self, ScaleRun};
use asincrono_bench::steal;
use asincrono_bench::{
    CHILD_FLAG, FLAVOURS, Flavour, Named, Runtime, Size, WORKLOADS, Workload, child_main,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: asincrono-bench [--quick] [--filter NAME]\n       \
                     asincrono-bench --scale [--quick] [--sizes N,N,...] [--filter NAME]";

struct Options {
    size: Size,
    filter: Option<String>,
    /// `--scale`: the scaling mode, at these sizes (`--sizes`, or the defaults).
    scale: Option<Vec<usize>>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(CHILD_FLAG) {
        return match child_main(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("asincrono-bench child: {message}");
                ExitCode::FAILURE
            }
        };
    }
    if args.first().map(String::as_str) == Some(SCALE_ONCE_FLAG) {
        let outcome = std::env::current_exe()
            .map_err(|err| format!("cannot find this program: {err}"))
            .and_then(|binary| scale::once_main(&args[1..], &binary));
        return match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("asincrono-bench: {message}");
                ExitCode::FAILURE
            }
        };
    }
    if args.first().map(String::as_str) == Some(IDLE_CLIENTS_FLAG) {
        return match scale::idle_clients_main(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("asincrono-bench idle clients: {message}");
                ExitCode::FAILURE
            }
        };
    }
    let options = match parse_options(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("asincrono-bench: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let outcome = match &options.scale {
        Some(sizes) => run_scale(&options, sizes),
        None => run(&options),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("asincrono-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        size: Size::Full,
        filter: None,
        scale: None,
    };
    let (mut scale, mut sizes) = (false, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.size = Size::Quick,
            "--filter" => {
                options.filter = Some(args.next().ok_or("--filter needs a workload name")?.clone())
            }
            "--scale" => scale = true,
            "--sizes" => sizes = Some(parse_sizes(args.next().ok_or("--sizes needs a list")?)?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if scale {
        if let Some(filter) = &options.filter {
            if !scale::SCALED
                .iter()
                .any(|workload| workload.name.contains(filter.as_str()))
            {
                let names: Vec<&str> = scale::SCALED.iter().map(|workload| workload.name).collect();
                return Err(format!(
                    "no scaling workload matches {filter:?}; there are: {}",
                    names.join(", ")
                ));
            }
        }
        let defaults = match options.size {
            Size::Quick => scale::QUICK_SIZES,
            _ => scale::SIZES,
        };
        options.scale = Some(sizes.unwrap_or_else(|| defaults.to_vec()));
    } else if sizes.is_some() {
        return Err("--sizes is for --scale".into());
    }
    if let (Some(filter), None) = (&options.filter, &options.scale) {
        if !WORKLOADS
            .iter()
            .any(|workload| workload.name.contains(filter.as_str()))
        {
            let names: Vec<&str> = WORKLOADS.iter().map(|workload| workload.name).collect();
            return Err(format!(
                "no workload matches {filter:?}; there are: {}",
                names.join(", ")
            ));
        }
    }
    Ok(options)
}

/// `1000,10000`: positive sizes, returned smallest first without repeats.
fn parse_sizes(list: &str) -> Result<Vec<usize>, String> {
    let mut sizes = list
        .split(',')
        .map(|item| match item.trim().parse::<usize>() {
            Ok(size) if size > 0 => Ok(size),
            _ => Err(format!("--sizes: {item:?} is not a positive whole number")),
        })
        .collect::<Result<Vec<usize>, String>>()?;
    sizes.sort_unstable();
    sizes.dedup();
    Ok(sizes)
}

fn run_scale(options: &Options, sizes: &[usize]) -> Result<(), String> {
    let started = std::time::Instant::now();
    let bench_binary =
        std::env::current_exe().map_err(|err| format!("cannot find this program: {err}"))?;
    let fd_limit =
        scale::raise_fd_limit().map_err(|err| format!("cannot read the fd limit: {err}"))?;
    let plan = Plan {
        sizes: sizes.to_vec(),
        quick: options.size == Size::Quick,
        connection_cap: scale::connection_cap(fd_limit, scale::ephemeral_ports()),
        filter: options.filter.clone(),
    };
    eprintln!(
        "open-file limit {fd_limit}, {} ephemeral ports: at most {} idle connections \
         (their client ends in a child process)",
        scale::ephemeral_ports(),
        plan.connection_cap
    );
    let curves = scale::run(&plan, &bench_binary, |step| eprintln!("{step}"))?;
    let mut command = String::from("cargo run --release -p asincrono-bench -- --scale");
    if plan.quick {
        command.push_str(" --quick");
    }
    if let Some(filter) = &plan.filter {
        command.push_str(&format!(" --filter {filter}"));
    }
    if sizes != scale::SIZES && sizes != scale::QUICK_SIZES {
        let listed: Vec<String> = sizes.iter().map(usize::to_string).collect();
        command.push_str(&format!(" --sizes {}", listed.join(",")));
    }
    let run = ScaleRun {
        date: today_utc(),
        machine: machine(),
        command,
        seconds: started.elapsed().as_secs_f64(),
    };
    println!("\n{}", scale_report::table(&curves));
    println!("run time {:.0} s", run.seconds);
    let dir = report_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    for (name, contents) in [
        ("scale.md", scale_report::markdown(&run, &curves)),
        ("scale.svg", scale_report::svg(&run, &curves)),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, contents)
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn run(options: &Options) -> Result<(), String> {
    let selected: Vec<&Workload> = WORKLOADS
        .iter()
        .filter(|workload| {
            options
                .filter
                .as_ref()
                .is_none_or(|filter| workload.name.contains(filter.as_str()))
        })
        .collect();
    let bench_binary =
        std::env::current_exe().map_err(|err| format!("cannot find this program: {err}"))?;
    let total = selected.len() * FLAVOURS.len();
    let mut rows = Vec::new();
    for (index, (workload, flavour)) in selected
        .iter()
        .flat_map(|workload| FLAVOURS.iter().map(move |flavour| (*workload, *flavour)))
        .enumerate()
    {
        eprint!(
            "[{:>2}/{total}] {} on {} ",
            index + 1,
            workload.name,
            flavour.name()
        );
        let measured = measure(workload, flavour, options.size, &bench_binary)?;
        let new_rows = rows_of(workload, flavour, &measured);
        let ratios: Vec<String> = new_rows
            .iter()
            .map(|row| format!("{:.2}", row.ratio))
            .collect();
        eprintln!(" ratio {}", ratios.join(", "));
        rows.extend(new_rows);
    }
    let info = run_info(options);
    println!("\n{}", report::table(&rows));
    let dir = report_dir();
    let written = report::write_all(&dir, &info, &rows).map_err(|err| err.to_string())?;
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The samples of one workload on one flavour: `[runtime][metric][round]`, and the share of
/// the CPUs' time the host took while the measured rounds ran (`steal.rs`).
struct Measured {
    tokio: Vec<Vec<f64>>,
    asincrono: Vec<Vec<f64>>,
    steal: Option<f64>,
}

/// A warm-up round, then measured rounds (as many as `rounds_after` says); each round runs
/// both runtimes, alternating which goes first.
fn measure(
    workload: &Workload,
    flavour: Flavour,
    size: Size,
    bench_binary: &Path,
) -> Result<Measured, String> {
    let metrics = workload.metrics.len();
    let mut measured = Measured {
        tokio: vec![Vec::new(); metrics],
        asincrono: vec![Vec::new(); metrics],
        steal: None,
    };
    // ANCHOR: rounds
    // Thrown away: it pays for caches, page faults, the first connection on a port range.
    let warm_up = Instant::now();
    one_round(workload, flavour, size, bench_binary, 0)?;
    let rounds = rounds_after(warm_up.elapsed(), workload.isolated, size);
    let cpu_before = steal::now();
    for round in 1..=rounds {
        for (runtime, values) in one_round(workload, flavour, size, bench_binary, round)? {
            let samples = match runtime {
                Runtime::Tokio => &mut measured.tokio,
                Runtime::Asincrono => &mut measured.asincrono,
            };
            for (metric, value) in values.into_iter().enumerate().take(metrics) {
                samples[metric].push(value);
            }
        }
        eprint!(".");
        let _ = std::io::stderr().flush();
    }
    // ANCHOR_END: rounds
    measured.steal = steal::share(cpu_before, steal::now());
    Ok(measured)
}

/// Runs `workload` once on each runtime: tokio first in even rounds, asincrono in odd ones.
fn one_round(
    workload: &Workload,
    flavour: Flavour,
    size: Size,
    bench_binary: &Path,
    round: usize,
) -> Result<[(Runtime, Vec<f64>); 2], String> {
    let order = if round % 2 == 0 {
        [Runtime::Tokio, Runtime::Asincrono]
    } else {
        [Runtime::Asincrono, Runtime::Tokio]
    };
    let run = |runtime: Runtime| {
        workload
            .run(runtime, flavour, size, bench_binary)
            .map(|values| (runtime, values))
            .map_err(|err| format!("{} on {}: {err}", workload.name, runtime.name()))
    };
    Ok([run(order[0])?, run(order[1])?])
}

fn rows_of(workload: &Workload, flavour: Flavour, measured: &Measured) -> Vec<Row> {
    workload
        .metrics
        .iter()
        .enumerate()
        .map(|(metric, (suffix, unit))| Row {
            workload: if suffix.is_empty() {
                workload.name.to_string()
            } else {
                format!("{} {suffix}", workload.name)
            },
            flavour: flavour.name().to_string(),
            unit: *unit,
            tokio: Summary::from_samples(&measured.tokio[metric]),
            asincrono: Summary::from_samples(&measured.asincrono[metric]),
            ratio: paired_ratio(&measured.tokio[metric], &measured.asincrono[metric]),
            rounds: measured.tokio[metric]
                .iter()
                .zip(&measured.asincrono[metric])
                .map(|(&tokio, &asincrono)| [tokio, asincrono])
                .collect(),
            interval: ratio_interval(&measured.tokio[metric], &measured.asincrono[metric]),
            steal: measured.steal,
            note: steal::noted(note_for(workload.name, suffix), measured.steal),
        })
        .collect()
}

/// What a reader should know about a row to read its ratio right.
fn note_for(workload: &str, metric: &str) -> Option<String> {
    match (workload, metric) {
        ("idle_cpu", _) => {
            Some("both near zero: compare the absolute values, the ratio is noise".into())
        }
        ("memory_per_idle_task", _) => Some("resident memory per parked task".into()),
        ("tcp_echo", "") => Some("total time for all round trips".into()),
        ("files", _) => Some(format!(
            "files in {}",
            asincrono_bench::files_dir().display()
        )),
        _ => None,
    }
}

fn report_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("bench")
}

/// The workspace root: the bench crate's parent folder.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

fn run_info(options: &Options) -> RunInfo {
    let mut command = String::from("cargo run --release -p asincrono-bench");
    if options.size == Size::Quick {
        command.push_str(" -- --quick");
    }
    if let Some(filter) = &options.filter {
        command.push_str(&format!(" --filter {filter}"));
    }
    RunInfo {
        date: today_utc(),
        machine: machine(),
        rounds: if options.size == Size::Full {
            ROUNDS
        } else {
            FEW_ROUNDS
        },
        most_rounds: if options.size == Size::Full {
            MAX_ROUNDS
        } else {
            FEW_ROUNDS
        },
        quick: options.size == Size::Quick,
        command,
    }
}

/// The CPU model and core count, from `/proc/cpuinfo`.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or("unknown CPU", |(_, model)| model.trim());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!("{cores} cores, {model}")
}

/// Today's date in UTC as YYYY-MM-DD (std has no calendar; this is the usual days-to-date
/// conversion for the proleptic Gregorian calendar).
fn today_utc() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let days = (seconds / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
