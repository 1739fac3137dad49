//! Several child processes at once, their output streamed line by line, while the program
//! carries on: a ticker keeps ticking the whole time.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example processes
//! ```
//!
//! Each command runs in a task of its own that reads the child's stdout through
//! `asincrono::process` (a pipe on the reactor, like a socket) and hands each line to `main`
//! through a channel. `main` prints the lines as they come, with the time and the command's
//! name, between the ticks of a 250 ms ticker: nothing here waits for a child to finish
//! before doing something else. One command fails on purpose (exit code 3) and one does not
//! exist, to show how each is reported. At the end, a table of exit statuses and times.
//!
//! The blocking way, `std::process::Command::output()` one after another, would take the sum
//! of the children's times (about 3.6 s here) and show nothing until each had finished; this
//! takes as long as the slowest (about 1.5 s).

use asincrono::io::{AsyncBufReadExt, BufReader};
use asincrono::process::Command;
use asincrono::sync::mpsc;
use asincrono::time::{self, Instant};
use std::process::{ExitCode, ExitStatus, Stdio};
use std::time::Duration;

/// What each child runs (`sh -c SCRIPT`), by name.
const COMMANDS: [(&str, &str); 4] = [
    (
        "count",
        "for i in 1 2 3 4 5; do echo \"counted $i\"; sleep 0.3; done",
    ),
    (
        "letters",
        "for c in a b c; do echo \"letter $c\"; sleep 0.4; done",
    ),
    ("failing", "echo 'about to fail'; sleep 0.5; exit 3"),
    ("listing", "ls / | head -n 4"),
];

/// How often the ticker ticks.
const TICK: Duration = Duration::from_millis(250);

/// What a child's task tells `main`.
enum Report {
    Line(&'static str, String),
    Done(&'static str, std::io::Result<ExitStatus>, Duration),
}

#[asincrono::main]
async fn main() -> ExitCode {
    let started = Instant::now();
    let (reports, mut inbox) = mpsc::unbounded_channel();
    for (name, script) in COMMANDS {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        asincrono::spawn(run(name, command, reports.clone()));
    }
    // The error branch: a program that does not exist fails at `spawn`, by name.
    let missing = Command::new("no-such-program").arg("--help").spawn();
    if let Err(err) = missing {
        println!("{:>6} ms  spawn failed: {err}", 0);
    }
    drop(reports); // `inbox` ends once every task has dropped its sender

    let mut ticker = time::interval(TICK);
    let mut ticks = 0;
    let mut results = Vec::new();
    let ms = || started.elapsed().as_millis();
    loop {
        asincrono::select! {
            _ = ticker.tick() => {
                ticks += 1;
                println!("{:>6} ms  tick {ticks} ({} of {} done)", ms(), results.len(), COMMANDS.len());
            }
            report = inbox.recv() => match report {
                Some(Report::Line(name, line)) => println!("{:>6} ms  [{name}] {line}", ms()),
                Some(Report::Done(name, status, took)) => results.push((name, status, took)),
                None => break, // every child has finished
            },
        }
    }

    println!("\n{:<8} {:>8}  status", "command", "time");
    for (name, status, took) in &results {
        let status = match status {
            Ok(status) => status.to_string(),
            Err(err) => format!("error: {err}"),
        };
        println!("{name:<8} {:>5} ms  {status}", took.as_millis());
    }
    println!(
        "\nall in {} ms, with {ticks} ticks on time meanwhile",
        started.elapsed().as_millis()
    );
    ExitCode::SUCCESS
}

/// Runs one command, sending each line of its stdout to `main`, then its exit status.
async fn run(name: &'static str, mut command: Command, reports: mpsc::UnboundedSender<Report>) {
    let started = Instant::now();
    let status = async {
        let mut child = command.stdout(Stdio::piped()).spawn()?;
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        while let Some(line) = lines.next_line().await? {
            // Fails only if `main` is gone, and then nobody is listening anyway.
            let _ = reports.send(Report::Line(name, line));
        }
        child.wait().await
    }
    .await;
    let _ = reports.send(Report::Done(name, status, started.elapsed()));
}
