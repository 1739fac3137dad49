//! A terminal that stays responsive: it reads commands from stdin while downloads, a
//! CPU-heavy count and timers run in the background, answers every command at once, and
//! keeps a live status line (jobs running, ticks, bytes downloaded).
//!
//! ```text
//! cargo run --release --example console
//! crunch 20                          # count the primes below 20 million (CPU, ~10 s)
//! fetch http://127.0.0.1:8080/README.md
//! timer 5
//! status
//! quit
//! ```
//!
//! Or as a script: `printf 'crunch 5\ntimer 1\n' | cargo run --example console`. At the
//! end of its input the console waits for the jobs still running, says which, and exits;
//! `quit` (or Ctrl-C) cancels them instead. The exit code is 0 either way.
//!
//! What it teaches:
//!
//! * **One loop waits for two kinds of event.** The next line typed and the next job that
//!   finishes are two branches of one `select!`: neither waits for the other, so a command
//!   is answered while a job runs, and a job's result is shown while nobody types.
//! * **CPU work goes to the blocking pool.** `crunch` runs on `spawn_blocking`: on the
//!   scheduler's threads it would freeze the prompt, the timers and the downloads (on a
//!   current-thread runtime, all of them at once). Such a thread cannot be aborted from
//!   outside, so the count looks at a stop flag between two small steps.
//! * **Cancelling async work is dropping it.** A download or a timer stops when its future
//!   is dropped (the socket is closed, the timer removed): the jobs wait under
//!   `Shutdown::unless_stopping` (from `support/shutdown.rs`, shared with the servers), and
//!   the count sees the same `Shutdown` through `is_stopping`.
//! * **One task owns the screen.** Everybody else sends it lines through a channel; it
//!   prints them and redraws the status line, so two writers never interleave. Its writes
//!   go through `asincrono::io::stdout()` (the blocking pool): a slow terminal or a full
//!   pipe holds up this task only.
//!
//! The downloads are `examples/fetch.rs`'s client, included as a module (as its tests do).
//!
//! Corners cut: the terminal stays in its ordinary line mode, so the terminal itself edits
//! and echoes the line being typed; the status line is redrawn on the line where the cursor
//! is, and a redraw wipes a half-typed command from the screen (not from the input). Real
//! terminal programs put the terminal in raw mode and draw everything themselves (with
//! crates such as `crossterm` or `rustyline`). When stdout is not a terminal (a pipe, a
//! file), there is no redrawing: a plain status line is printed once a second while jobs
//! run. tokio has the same pieces (`io::stdin`, `spawn_blocking`, `JoinSet`, `select!`);
//! its stdin is read on the blocking pool, where asincrono gives it a reader thread of
//! its own (`runtime/io/stdin.rs`).

// The fetch example's `main` and display are not used here, nor the servers' signal loop.
#[allow(dead_code)]
#[path = "fetch.rs"]
mod fetch;
#[allow(dead_code)]
#[path = "support/shutdown.rs"]
mod shutdown;

use asincrono::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use asincrono::signal::unix::{Signal, SignalKind, signal};
use asincrono::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use asincrono::task::{self, JoinError, JoinSet};
use asincrono::time::{self, Instant};
use shutdown::Shutdown;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How often the ticker ticks.
const TICK: Duration = Duration::from_secs(1);

/// How often the status line is redrawn on a terminal.
const REDRAW: Duration = Duration::from_millis(250);

/// Elsewhere, how often a plain status line is printed while jobs run.
const PLAIN_STATUS_EVERY: Duration = Duration::from_secs(1);

/// The time limit of a download, from the host lookup to the last byte.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest `crunch N` (N millions): past it a count would take days.
const MAX_CRUNCH_MILLIONS: u64 = 100_000;

/// Numbers the count checks between two looks at the stop flag: a few milliseconds.
const CRUNCH_STEP: u64 = 4096;

/// The longest timer, in seconds (a day).
const MAX_TIMER_SECONDS: f64 = 86_400.0;

/// The status line is cut to this many characters, so that it fits on one line.
const STATUS_WIDTH: usize = 100;

/// Jobs named on the status line; the others are counted.
const SHOWN_JOBS: usize = 3;

const HELP: &str = "commands:
  crunch N    count the primes below N million, on the blocking pool (CPU-heavy)
  fetch URL   download an http:// URL
  timer S     a timer that rings after S seconds (also: sleep S)
  status      what is running
  help        this list
  quit        cancel what is running and exit (also: exit, Ctrl-C)
at the end of the input (Ctrl-D) the console waits for the jobs, then exits";

#[asincrono::main]
async fn main() -> ExitCode {
    run().await
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/// A command line, understood.
#[derive(Debug, PartialEq)]
pub enum Command {
    Help,
    Status,
    /// Count the primes below this many millions.
    Crunch(u64),
    Fetch(String),
    Timer(Duration),
    Quit,
}

/// The command on `line`; `None` for a blank line; a message saying what is wrong for
/// anything else.
pub fn parse(line: &str) -> Result<Option<Command>, String> {
    let mut words = line.split_whitespace();
    let Some(name) = words.next() else {
        return Ok(None);
    };
    let argument = words.next();
    if let Some(extra) = words.next() {
        return Err(format!("{name}: one argument at most, not {extra:?} too"));
    }
    let command = match (name, argument) {
        ("help" | "?", None) => Command::Help,
        ("status", None) => Command::Status,
        ("quit" | "exit", None) => Command::Quit,
        ("help" | "?" | "status" | "quit" | "exit", Some(extra)) => {
            return Err(format!("{name} takes no argument (got {extra:?})"));
        }
        ("crunch", Some(n)) => Command::Crunch(millions(n)?),
        ("fetch", Some(url)) => {
            fetch::parse_url(url).map_err(|err| format!("fetch: {err}"))?;
            Command::Fetch(url.to_string())
        }
        ("timer" | "sleep", Some(s)) => Command::Timer(timer_length(name, s)?),
        ("crunch" | "fetch" | "timer" | "sleep", None) => {
            return Err(format!("{name} needs an argument (type help)"));
        }
        _ => return Err(format!("unknown command {name:?}: type help for the list")),
    };
    Ok(Some(command))
}

fn millions(n: &str) -> Result<u64, String> {
    n.parse()
        .ok()
        .filter(|n| (1..=MAX_CRUNCH_MILLIONS).contains(n))
        .ok_or(format!(
            "crunch {n:?}: expected a whole number of millions from 1 to {MAX_CRUNCH_MILLIONS}"
        ))
}

fn timer_length(name: &str, s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .filter(|s| (0.0..=MAX_TIMER_SECONDS).contains(s))
        .map(Duration::from_secs_f64)
        .ok_or(format!(
            "{name} {s:?}: expected seconds from 0 to {MAX_TIMER_SECONDS}, as 2 or 0.5"
        ))
}

// ---------------------------------------------------------------------------------------
// The console: the loop, and the jobs it starts
// ---------------------------------------------------------------------------------------

/// Why the loop ended.
enum Ending {
    Quit,
    Interrupted,
    EndOfInput,
}

/// What the loop owns: the jobs, and the means to stop them and to speak.
struct Console {
    status: Arc<Status>,
    screen: Screen,
    /// Each job's task; its output is the job's number and its last words.
    jobs: JoinSet<(u64, String)>,
    /// The job number of each running task, for the one case without an output: a panic.
    numbers: HashMap<task::Id, u64>,
    next_number: u64,
    /// Raised by `quit`: every job sees it and stops.
    stop: Shutdown,
}

// ANCHOR: run
/// The console on this process's stdin and stdout, until `quit`, Ctrl-C or the end of
/// the input.
pub async fn run() -> ExitCode {
    let status = Arc::new(Status::default());
    let (screen, drawing) = Screen::start(status.clone(), std::io::stdout().is_terminal());
    let ticker = asincrono::spawn(count_ticks(status.clone()));
    let mut interrupt = listen_for_ctrl_c(&screen);
    let mut console = Console::new(status, screen);
    console.say("asincrono console: type help for the commands");

    let mut lines = BufReader::new(asincrono::io::stdin()).lines();
    let ending = loop {
        // `next_line` is cancel-safe: when a job finishes first, a half-read line stays
        // in `lines` for the next turn.
        asincrono::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    if let Some(ending) = console.obey(&line) {
                        break ending;
                    }
                }
                Ok(None) => break Ending::EndOfInput,
                // The bad line is consumed: the next one reads normally.
                Err(err) if err.kind() == std::io::ErrorKind::InvalidData => {
                    console.say("that line is not UTF-8 text: ignored");
                }
                Err(err) => {
                    console.say(format!("cannot read the input: {err}"));
                    break Ending::EndOfInput;
                }
            },
            // Disabled for this turn when there are no jobs (`None` does not match).
            Some(done) = console.jobs.join_next() => console.finished(done),
            () = interrupted(&mut interrupt) => break Ending::Interrupted,
        }
    };
    console.wind_up(ending, &mut interrupt).await;
    ticker.abort();
    drop(console); // the screen's last sender: the drawing task ends after the last line
    let _ = drawing.await;
    ExitCode::SUCCESS
}
// ANCHOR_END: run

impl Console {
    fn new(status: Arc<Status>, screen: Screen) -> Console {
        Console {
            status,
            screen,
            jobs: JoinSet::new(),
            numbers: HashMap::new(),
            next_number: 1,
            stop: Shutdown::default(),
        }
    }

    fn say(&self, text: impl Into<String>) {
        self.screen.say(text);
    }

    /// Answers one line at once: starts a job and says so, or says why not. `Some` once
    /// the line asks to quit.
    fn obey(&mut self, line: &str) -> Option<Ending> {
        match parse(line) {
            Ok(None) => {}
            Ok(Some(Command::Help)) => self.say(HELP),
            Ok(Some(Command::Status)) => self.say(self.status.report()),
            Ok(Some(Command::Crunch(millions))) => self.crunch(millions),
            Ok(Some(Command::Fetch(url))) => self.fetch(url),
            Ok(Some(Command::Timer(length))) => self.timer(length),
            Ok(Some(Command::Quit)) => return Some(Ending::Quit),
            Err(message) => self.say(message),
        }
        None
    }

    /// Puts a job on the status board, spawns it, and says it started.
    fn start<F>(&mut self, what: String, progress: Progress, job: F)
    where
        F: Future<Output = String> + Send + 'static,
    {
        let number = self.next_number;
        self.next_number += 1;
        let running = Running {
            what: what.clone(),
            started: Instant::now(),
            progress,
        };
        lock(&self.status.running).insert(number, running);
        let task = self.jobs.spawn(async move { (number, job.await) });
        self.numbers.insert(task.id(), number);
        self.say(format!("#{number} {what}: started"));
    }

    // ANCHOR: crunch
    /// Counts the primes below `millions` million on the blocking pool.
    fn crunch(&mut self, millions: u64) {
        let below = millions * 1_000_000;
        let checked = Arc::new(AtomicU64::new(0));
        let progress = Progress::Crunch {
            checked: checked.clone(),
            below,
        };
        let stop = self.stop.clone();
        let job = async move {
            let started = Instant::now();
            let counting = {
                let checked = checked.clone();
                task::spawn_blocking(move || count_primes(below, &checked, &stop))
            };
            match counting.await {
                Ok(Some(count)) => format!("{count} primes, in {}", seconds_since(started)),
                Ok(None) => format!(
                    "cancelled at {}%",
                    percent(checked.load(Ordering::Relaxed), below)
                ),
                Err(err) => format!("failed: {err}"),
            }
        };
        self.start(format!("crunch {millions}"), progress, job);
    }
    // ANCHOR_END: crunch

    // ANCHOR: fetch
    /// Downloads `url` with the fetch example's client, cancelled by `quit`.
    fn fetch(&mut self, url: String) {
        let board = Arc::new(fetch::Board::new(std::slice::from_ref(&url)));
        let options = fetch::Options {
            timeout: FETCH_TIMEOUT,
            ..fetch::Options::default()
        };
        let what = format!("fetch {}", fetch::clip(&url, 40));
        let (stop, shown) = (self.stop.clone(), board.clone());
        let job = async move {
            // Dropped when `quit` comes first: that closes the socket, mid-read or not.
            // Boxed: the download's future holds its 16 KiB read buffer, and more in a debug
            // build (about 100 KiB); a job that big, moved by value on its way into a task,
            // could overflow a 2 MiB thread stack (a test's).
            let download = Box::pin(fetch::fetch_timed(url, 0, &options, &board));
            let Some(outcome) = stop.unless_stopping(download).await else {
                return format!("cancelled after {}", fetch::human(board.received()));
            };
            match outcome.result {
                Ok(answer) => format!(
                    "{} {}, {} in {}",
                    answer.status,
                    answer.reason,
                    fetch::human(answer.bytes),
                    in_seconds(outcome.took)
                ),
                Err(err) => format!("failed: {err}"),
            }
        };
        self.start(what, Progress::Fetch(shown), job);
    }
    // ANCHOR_END: fetch

    /// A timer that rings after `length`, or is cancelled by `quit`.
    fn timer(&mut self, length: Duration) {
        let stop = self.stop.clone();
        let job = async move {
            let started = Instant::now();
            match stop.unless_stopping(time::sleep(length)).await {
                Some(()) => format!("rang after {}", seconds_since(started)),
                None => format!("cancelled after {}", seconds_since(started)),
            }
        };
        let rings = Progress::Timer {
            rings: Instant::now() + length,
        };
        self.start(format!("timer {} s", length.as_secs_f64()), rings, job);
    }

    /// Takes a finished job off the board and says how it ended.
    fn finished(&mut self, done: Result<(u64, String), JoinError>) {
        let (number, words) = match done {
            Ok(done) => {
                self.numbers.retain(|_, job| *job != done.0);
                done
            }
            Err(err) => match self.numbers.remove(&err.id()) {
                Some(number) => (number, format!("failed: {err}")),
                None => return self.say(format!("a job failed: {err}")),
            },
        };
        let what = self.status.take_off(number);
        self.say(format!("#{number} {what}: {words}"));
    }

    // ANCHOR: wind_up
    /// After the loop: cancels the jobs (`quit`, Ctrl-C) or waits for them (end of input;
    /// a Ctrl-C meanwhile cancels them), says which, and says bye.
    async fn wind_up(&mut self, ending: Ending, interrupt: &mut Option<Signal>) {
        let names = self.status.names();
        if !names.is_empty() {
            match ending {
                Ending::Quit => self.cancel_all(&format!("quit: cancelling {names}")),
                Ending::Interrupted => self.cancel_all(&format!("Ctrl-C: cancelling {names}")),
                Ending::EndOfInput => self.say(format!(
                    "end of input: waiting for {names} (Ctrl-C cancels them)"
                )),
            }
        }
        while !self.jobs.is_empty() {
            asincrono::select! {
                Some(done) = self.jobs.join_next() => self.finished(done),
                () = interrupted(interrupt), if !self.stop.is_stopping() => {
                    self.cancel_all(&format!("Ctrl-C: cancelling {}", self.status.names()));
                }
            }
        }
        self.say("bye");
    }
    // ANCHOR_END: wind_up

    fn cancel_all(&self, message: &str) {
        self.say(message);
        self.stop.stop();
    }
}

/// A listener for Ctrl-C, or `None` (said on the screen) if there cannot be one.
fn listen_for_ctrl_c(screen: &Screen) -> Option<Signal> {
    match signal(SignalKind::interrupt()) {
        Ok(listener) => Some(listener),
        Err(err) => {
            screen.say(format!("Ctrl-C will not be caught: {err}"));
            None
        }
    }
}

/// Resolves at the next Ctrl-C; never, without a listener.
async fn interrupted(listener: &mut Option<Signal>) {
    if let Some(listener) = listener {
        if listener.recv().await.is_some() {
            return;
        }
    }
    std::future::pending().await
}

// ANCHOR: count_primes
/// How many primes are below `below`, by trial division (slow on purpose: it is the CPU
/// work). `checked` says how far it got; `None` if `stop` was raised first.
fn count_primes(below: u64, checked: &AtomicU64, stop: &Shutdown) -> Option<u64> {
    let mut count = 0;
    let mut from = 2;
    while from < below {
        // A blocking-pool thread cannot be aborted from outside: it has to look.
        if stop.is_stopping() {
            return None;
        }
        let to = (from + CRUNCH_STEP).min(below);
        count += (from..to).filter(|&n| is_prime(n)).count() as u64;
        from = to;
        checked.store(from, Ordering::Relaxed);
    }
    Some(count)
}
// ANCHOR_END: count_primes

fn is_prime(n: u64) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

/// Counts the ticks, for the status line: it keeps counting whatever the jobs do.
async fn count_ticks(status: Arc<Status>) {
    let mut ticks = time::interval(TICK);
    ticks.tick().await; // the first tick is at once
    loop {
        ticks.tick().await;
        status.ticks.fetch_add(1, Ordering::Relaxed);
    }
}

/// `1.25 s`
fn in_seconds(length: Duration) -> String {
    format!("{:.2} s", length.as_secs_f64())
}

fn seconds_since(start: Instant) -> String {
    in_seconds(start.elapsed())
}

fn percent(part: u64, whole: u64) -> u64 {
    part * 100 / whole.max(1)
}

// ---------------------------------------------------------------------------------------
// The status board: what runs, read by the status line
// ---------------------------------------------------------------------------------------

/// What the status line shows. Written by the loop (jobs on and off), the ticker and the
/// jobs themselves (their progress); read by the screen task.
#[derive(Default)]
struct Status {
    ticks: AtomicU64,
    /// The jobs running, by number. A `std` mutex: held for a few instructions, never
    /// across an `.await`.
    running: Mutex<BTreeMap<u64, Running>>,
    finished: AtomicU64,
    /// Bytes of the downloads that are over; those running are on their boards.
    downloaded: AtomicU64,
}

/// A job on the board.
struct Running {
    what: String,
    started: Instant,
    progress: Progress,
}

/// How far a job got, shared with it.
enum Progress {
    Crunch { checked: Arc<AtomicU64>, below: u64 },
    Fetch(Arc<fetch::Board>),
    Timer { rings: Instant },
}

impl Progress {
    fn describe(&self) -> String {
        match self {
            Progress::Crunch { checked, below } => {
                format!("{}%", percent(checked.load(Ordering::Relaxed), *below))
            }
            Progress::Fetch(board) => fetch::human(board.received()),
            // Rounded up: "0 s left" would read as rung.
            Progress::Timer { rings } => format!(
                "{:.0} s left",
                rings
                    .saturating_duration_since(Instant::now())
                    .as_secs_f64()
                    .ceil()
            ),
        }
    }
}

impl Status {
    /// Takes job `number` off the board; returns what it was.
    fn take_off(&self, number: u64) -> String {
        let mut running = lock(&self.running);
        let Some(job) = running.remove(&number) else {
            return String::from("(unknown job)");
        };
        // Under the lock, so that the status line never counts these bytes twice.
        if let Progress::Fetch(board) = &job.progress {
            self.downloaded
                .fetch_add(board.received(), Ordering::Relaxed);
        }
        self.finished.fetch_add(1, Ordering::Relaxed);
        job.what
    }

    fn busy(&self) -> bool {
        !lock(&self.running).is_empty()
    }

    /// `2 job(s): #1 crunch 500, #3 timer 10 s`, or empty if none runs.
    fn names(&self) -> String {
        let running = lock(&self.running);
        if running.is_empty() {
            return String::new();
        }
        let names: Vec<_> = running
            .iter()
            .map(|(number, job)| format!("#{number} {}", job.what))
            .collect();
        format!("{} job(s): {}", running.len(), names.join(", "))
    }

    /// `tick 12 · 2 running: #1 crunch 41%, #2 fetch 12.0 KiB · 3 finished · 1.2 MiB downloaded`
    fn line(&self) -> String {
        let running = lock(&self.running);
        let live: u64 = running.values().map(Running::bytes).sum();
        let mut line = format!(
            "tick {} · {} running",
            self.ticks.load(Ordering::Relaxed),
            running.len()
        );
        for (i, (number, job)) in running.iter().enumerate() {
            if i == SHOWN_JOBS {
                line.push_str(&format!(", +{} more", running.len() - SHOWN_JOBS));
                break;
            }
            let separator = if i == 0 { ": " } else { ", " };
            let kind = job.what.split(' ').next().unwrap_or("");
            line.push_str(&format!(
                "{separator}#{number} {kind} {}",
                job.progress.describe()
            ));
        }
        line.push_str(&format!(
            " · {} finished · {} downloaded",
            self.finished.load(Ordering::Relaxed),
            fetch::human(self.downloaded.load(Ordering::Relaxed) + live)
        ));
        fetch::clip(&line, STATUS_WIDTH)
    }

    /// The answer to `status`: the totals, then a line per job.
    fn report(&self) -> String {
        let mut report = format!("status: {}", self.line());
        for (number, job) in lock(&self.running).iter() {
            report.push_str(&format!(
                "\n  #{number} {}: {}, for {}",
                job.what,
                job.progress.describe(),
                seconds_since(job.started)
            ));
        }
        report
    }
}

impl Running {
    fn bytes(&self) -> u64 {
        match &self.progress {
            Progress::Fetch(board) => board.received(),
            _ => 0,
        }
    }
}

/// Locks `mutex`, also after a panic elsewhere poisoned it (the board is always whole).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------------------
// The screen: one task writes everything
// ---------------------------------------------------------------------------------------

/// Where the other tasks send what they have to say. Cloning it is cheap; once every
/// clone is dropped, the drawing task prints what is left and ends.
#[derive(Clone)]
struct Screen(UnboundedSender<String>);

impl Screen {
    /// Starts the drawing task; `terminal`: redraw a status line in place.
    fn start(status: Arc<Status>, terminal: bool) -> (Screen, task::JoinHandle<()>) {
        let (sender, said) = unbounded_channel();
        let drawing = asincrono::spawn(draw(said, status, terminal));
        (Screen(sender), drawing)
    }

    /// Shows `text` (one line or several). Never waits.
    fn say(&self, text: impl Into<String>) {
        // Fails only once the drawing task is gone, at the very end: nothing to show then.
        let _ = self.0.send(text.into());
    }
}

// ANCHOR: draw
/// The drawing task. On a terminal, the status line is the last line on the screen: each
/// message first erases it (`\r`, then `ESC[2K`, "erase the line"), then draws it again
/// below the message. Elsewhere, messages are plain lines, and while jobs run a plain
/// status line is added once a second.
async fn draw(mut said: UnboundedReceiver<String>, status: Arc<Status>, terminal: bool) {
    const ERASE: &str = "\r\x1b[2K";
    let mut out = asincrono::io::stdout();
    let mut redraw = time::interval(if terminal { REDRAW } else { PLAIN_STATUS_EVERY });
    redraw.tick().await; // the first tick is at once
    loop {
        let text = asincrono::select! {
            message = said.recv() => match message {
                Some(text) if terminal => format!("{ERASE}{text}\n{}", status.line()),
                Some(text) => format!("{text}\n"),
                None => break,
            },
            _ = redraw.tick() => {
                if terminal {
                    format!("{ERASE}{}", status.line())
                } else if status.busy() {
                    format!("[{}]\n", status.line())
                } else {
                    continue;
                }
            }
        };
        // Nobody to tell if stdout is gone; the commands still work.
        let _ = out.write_all(text.as_bytes()).await;
        let _ = out.flush().await;
    }
    if terminal {
        let _ = out.write_all(ERASE.as_bytes()).await;
    }
    let _ = out.flush().await;
}
// ANCHOR_END: draw
