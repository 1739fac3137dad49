//! A guided tour: one thread keeps several things going while it waits for the network.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example tour
//! ```
//!
//! Add `-- --trace` to record what the runtime did meanwhile (see `asincrono::trace`): the
//! tour then writes `target/tour-trace.json` and, beside it, `target/tour-trace.html`, a
//! page that draws it (open it in any browser, offline), and ends with a text timeline of
//! it, one line per task, time flowing right.
//!
//! The program starts a small TCP server on the loopback interface that answers each
//! request only after a delay (it `sleep`s before replying), then runs four tasks side by
//! side on a single-threaded runtime:
//!
//! * `job-N`: client requests to that server. First all four are spawned at once, then,
//!   for contrast, the same four are awaited one after another.
//! * `ticker`: an `interval` that ticks every 250 ms (a spinner when stdout is a terminal,
//!   and a heartbeat line every second).
//! * `primes`: CPU work, counting primes in small chunks and calling `yield_now` between
//!   chunks so that the other tasks get their turn.
//!
//! Then, in a third part, the work that *would* stop the thread: `files` writes a temp file
//! with `fs::write` and reads it back with `fs::read`, and `blocker` makes a blocking call
//! through `task::spawn_blocking`. Both run on the runtime's blocking pool, the one place
//! where other threads do work for the tasks.
//!
//! What to look for in the output (about 9 seconds):
//!
//! * the `sent` lines of the four spawned jobs all come at once, and their `answered`
//!   lines arrive after the slowest single delay, not after the sum of the delays;
//! * the ticker and the prime counter keep printing while requests are in flight: waiting
//!   for a socket or a timer does not block the thread, it only parks that one task;
//! * in part 3, the `blocker` line counts the ticks and prime chunks this thread got
//!   through while a pool thread sat in a 300 ms blocking call, and the file is written and
//!   read back in that time too (on other pool threads);
//! * the closing summary, computed from the timestamps the program recorded, and its last
//!   line, which says how many threads printed the lines above: one. (The pool threads
//!   did work, but every line about it is printed by a task, after its `.await`.)

use asincrono::fs;
use asincrono::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use asincrono::net::{TcpListener, TcpStream};
use asincrono::task::{self, JoinError, JoinHandle};
use asincrono::time::{self, Instant};
use std::collections::HashSet;
use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Duration;

/// How long the server takes to answer each job (job-1 gets the first delay, and so on).
const SERVER_DELAYS: [Duration; 4] = [
    Duration::from_millis(1000),
    Duration::from_millis(1500),
    Duration::from_millis(2000),
    Duration::from_millis(1500),
];

/// The ticker's period.
const TICK_PERIOD: Duration = Duration::from_millis(250);

/// Numbers the prime counter tests between two `yield_now`s. Small enough that one chunk
/// takes well under a millisecond in a release build, so the other tasks never wait long.
const PRIME_CHUNK: u64 = 50;

/// How often the prime counter reports its progress.
const PRIME_REPORT_EVERY: Duration = Duration::from_secs(2);

/// How long part 3's blocking call holds its thread.
const BLOCKING_CALL: Duration = Duration::from_millis(300);

/// How many bytes part 3 writes to a file and reads back.
const FILE_SIZE: usize = 4 << 20;

// `current_thread`: every task below runs on the thread that runs `main`. That is the point
// of the tour, so it is spelled out rather than left to the default. (The blocking pool's
// threads are the exception, by design: part 3 hands them the work that would block.)
//
// The runtime is built by hand rather than with `#[asincrono::main]` for `--trace`: the
// trace file is written when the runtime drops, and the timeline is drawn after that.
fn main() -> ExitCode {
    let trace = std::env::args().skip(1).any(|arg| arg == "--trace");
    let mut builder = asincrono::runtime::Builder::new_current_thread();
    if trace {
        builder.trace_to(TRACE_FILE);
    }
    let runtime = match builder.build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("tour: could not build the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run_tour());
    drop(runtime); // writes the trace file, if tracing
    if trace {
        match std::fs::read_to_string(TRACE_FILE) {
            Ok(json) => print_timeline(&json),
            Err(err) => eprintln!("tour: could not read {TRACE_FILE}: {err}"),
        }
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tour: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Where `--trace` writes the trace.
const TRACE_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/tour-trace.json");

// ANCHOR: tour_run
async fn run_tour() -> io::Result<()> {
    let log = Log::new();
    print_legend();

    let server_addr = start_slow_server(log.clone()).await?;
    log.say("server", format_args!("listening on {server_addr}"));

    // The two background tasks run until `stop` is raised; their `JoinHandle`s give back
    // what they counted. Meanwhile they keep their counts in `counts` too, for part 3.
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Counts::default());
    let ticker = task::spawn(run_ticker(log.clone(), stop.clone(), counts.clone()));
    let prime_counter = task::spawn(count_primes(log.clone(), stop.clone(), counts.clone()));
    // Names for the trace (`--trace`); without it, `label` does nothing.
    asincrono::trace::label(ticker.id(), "ticker");
    asincrono::trace::label(prime_counter.id(), "primes");

    log.blank_line();
    log.say(
        "main",
        "Part 1: four jobs, each spawned as its own task, all at once",
    );
    let together = send_all_at_once(server_addr, &log).await?;
    log.say(
        "main",
        format_args!("Part 1 done in {:.2} s", together.as_secs_f64()),
    );

    log.blank_line();
    log.say(
        "main",
        "Part 2: the same four jobs, awaited one after another",
    );
    let one_by_one = send_one_by_one(server_addr, &log).await?;
    log.say(
        "main",
        format_args!("Part 2 done in {:.2} s", one_by_one.as_secs_f64()),
    );

    log.blank_line();
    log.say(
        "main",
        "Part 3: a file and a blocking call, both handed to the blocking pool",
    );
    let started = Instant::now();
    let blocked = use_the_blocking_pool(&log, &counts).await?;
    log.say(
        "main",
        format_args!("Part 3 done in {:.2} s", started.elapsed().as_secs_f64()),
    );

    stop.store(true, Ordering::Relaxed);
    let ticks = ticker.await?;
    let primes = prime_counter.await?;
    print_summary(&log, together, one_by_one, &blocked, &ticks, &primes);
    // Returning drops the runtime, which drops the server task still waiting in `accept`.
    Ok(())
}
// ANCHOR_END: tour_run

fn print_legend() {
    println!("asincrono tour: one thread, several tasks taking turns. [seconds since start]");
    println!("  server  a loopback TCP server that answers each job after a delay");
    println!("  job-N   a client request to that server");
    println!("  main    the tour itself, which sends the jobs");
    println!(
        "  ticker  an interval, every {} ms",
        TICK_PERIOD.as_millis()
    );
    println!("  primes  counts primes, {PRIME_CHUNK} numbers at a time, yield_now() in between");
    println!("  files   fs::write and fs::read of a temp file (the I/O runs on pool threads)");
    println!("  blocker a blocking call, run on a pool thread with task::spawn_blocking");
    println!();
}

// ---------------------------------------------------------------------------------------
// The slow server
// ---------------------------------------------------------------------------------------

/// Binds a listener on a free loopback port and spawns its accept loop.
// ANCHOR: tour_server
async fn start_slow_server(log: Log) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = task::spawn(accept_loop(listener, log)); // dropped: detached, like the
    asincrono::trace::label(server.id(), "server"); //       connection tasks below
    Ok(addr)
}

async fn accept_loop(listener: TcpListener, log: Log) {
    loop {
        match listener.accept().await {
            // One task per connection: a slow job must not hold up the next `accept`. The
            // `JoinHandle` is dropped, which detaches the task: it runs on by itself.
            Ok((stream, _peer)) => {
                let connection = task::spawn(answer_after_delay(stream, log.clone()));
                asincrono::trace::label(connection.id(), "conn");
            }
            // Out of file descriptors, say. Back off instead of retrying at once, which
            // would spin and starve the other tasks of this thread.
            Err(err) => {
                log.say("server", format_args!("accept failed: {err}"));
                time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Reads one request line, `<job name> <delay in ms>`, waits that long, replies
/// `<job name> done`.
async fn answer_after_delay(stream: TcpStream, log: Log) {
    if let Err(err) = try_answer_after_delay(stream).await {
        // Only this connection is lost; the server carries on.
        log.say("server", format_args!("a connection failed: {err}"));
    }
}

async fn try_answer_after_delay(stream: TcpStream) -> io::Result<()> {
    let (read_half, mut write_half) = stream.into_split();
    let mut request = String::new();
    BufReader::new(read_half).read_line(&mut request).await?;
    let (job, delay) = parse_request(&request).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad request {request:?}"),
        )
    })?;
    // The "work" the server does. `sleep` parks only this task: the thread moves on.
    time::sleep(delay).await;
    write_half
        .write_all(format!("{job} done\n").as_bytes())
        .await
}
// ANCHOR_END: tour_server

fn parse_request(line: &str) -> Option<(&str, Duration)> {
    let (job, millis) = line.trim_end().split_once(' ')?;
    Some((job, Duration::from_millis(millis.parse().ok()?)))
}

// ---------------------------------------------------------------------------------------
// The clients
// ---------------------------------------------------------------------------------------

// ANCHOR: tour_jobs
/// Spawns one task per job, then waits for them all; returns the wall time it took.
async fn send_all_at_once(server: SocketAddr, log: &Log) -> io::Result<Duration> {
    let started = Instant::now();
    let jobs: Vec<JoinHandle<io::Result<()>>> = SERVER_DELAYS
        .iter()
        .enumerate()
        .map(|(index, &delay)| {
            let job = task::spawn(send_job(server, index + 1, delay, log.clone()));
            asincrono::trace::label(job.id(), &format!("job-{}", index + 1));
            job
        })
        .collect();
    // Awaiting the handles in order is fine: they all run meanwhile, whoever is awaited.
    for job in jobs {
        job.await??;
    }
    Ok(started.elapsed())
}

/// Sends the jobs from this task, each awaited before the next is sent.
async fn send_one_by_one(server: SocketAddr, log: &Log) -> io::Result<Duration> {
    let started = Instant::now();
    for (index, &delay) in SERVER_DELAYS.iter().enumerate() {
        send_job(server, index + 1, delay, log.clone()).await?;
    }
    Ok(started.elapsed())
}
// ANCHOR_END: tour_jobs

/// One request: connect, send `job-N <delay>`, wait for the reply line.
async fn send_job(server: SocketAddr, number: usize, delay: Duration, log: Log) -> io::Result<()> {
    let job = format!("job-{number}");
    let sent_at = Instant::now();
    let stream = TcpStream::connect(server).await?;
    let (read_half, mut write_half) = stream.into_split();
    write_half
        .write_all(format!("{job} {}\n", delay.as_millis()).as_bytes())
        .await?;
    log.say(
        &job,
        format_args!(
            "sent      (the server will take {:.1} s)",
            delay.as_secs_f64()
        ),
    );

    let mut reply = String::new();
    if BufReader::new(read_half).read_line(&mut reply).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{job}: the server hung up"),
        ));
    }
    let took = sent_at.elapsed().as_secs_f64();
    log.say(
        &job,
        format_args!("answered  after {took:.3} s: {:?}", reply.trim_end()),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Part 3: the blocking pool
// ---------------------------------------------------------------------------------------

/// What this thread got done while a pool thread was stuck in the blocking call.
struct BlockedReport {
    took: Duration,
    ticks: u64,
    prime_chunks: u64,
}

/// Makes the blocking call, with the file round trip running as a task of its own, so that
/// it happens while this task waits for the call; then waits for the round trip too.
async fn use_the_blocking_pool(log: &Log, counts: &Counts) -> io::Result<BlockedReport> {
    let files = task::spawn(use_a_temp_file(log.clone()));
    asincrono::trace::label(files.id(), "files");
    let blocked = blocking_call(log, counts).await?;
    files.await??;
    Ok(blocked)
}

/// The file round trip on a temp file, which is removed afterwards.
async fn use_a_temp_file(log: Log) -> io::Result<()> {
    let path = std::env::temp_dir().join(format!("asincrono-tour-{}.bin", std::process::id()));
    let round_trip = file_round_trip(&path, &log).await;
    // Remove the file whether the round trip worked or not; if it failed before the file
    // existed, there is nothing to remove, and its own error is the one to report.
    match fs::remove_file(&path).await {
        Ok(()) => log.say("files", "removed the file"),
        Err(err) if round_trip.is_err() && err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    round_trip
}

/// Writes `FILE_SIZE` bytes to `path` with `fs::write`, reads them back with `fs::read`.
///
/// `epoll` will not watch a regular file (a file is always "ready", even when reading it
/// waits for the disk), so each of these calls is a job on the blocking pool: this task
/// waits (`Pending`) while a pool thread makes the blocking system calls, and the thread
/// runs the ticker and the prime counter meanwhile.
async fn file_round_trip(path: &Path, log: &Log) -> io::Result<()> {
    // 0, 1, …, 250, 0, 1, …: a period of 251 bytes, a prime, so that no block of the file
    // (they are powers of two) holds the same bytes as another; a block read back from the
    // wrong place would not compare equal.
    let pattern: Vec<u8> = (0..=250).collect();
    let mut contents = pattern.repeat(FILE_SIZE / pattern.len() + 1);
    contents.truncate(FILE_SIZE);
    let mib = contents.len() as f64 / (1 << 20) as f64;

    log.say(
        "files",
        format_args!("writing {mib:.1} MiB to {} with fs::write", path.display()),
    );
    let started = Instant::now();
    fs::write(path, &contents).await?;
    log.say(
        "files",
        format_args!(
            "written in {:.1} ms; reading it back with fs::read",
            millis(started.elapsed())
        ),
    );

    let started = Instant::now();
    let back = fs::read(path).await?;
    if back != contents {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} did not give back the bytes written", path.display()),
        ));
    }
    log.say(
        "files",
        format_args!(
            "read back in {:.1} ms: the same {} bytes",
            millis(started.elapsed()),
            back.len()
        ),
    );
    Ok(())
}

/// Makes a blocking call on the blocking pool; reports how far the ticker and the prime
/// counter got meanwhile (on this thread).
async fn blocking_call(log: &Log, counts: &Counts) -> Result<BlockedReport, JoinError> {
    log.say(
        "blocker",
        format_args!(
            "calling something that blocks for {} ms, with spawn_blocking",
            BLOCKING_CALL.as_millis()
        ),
    );
    let (ticks, prime_chunks) = counts.now();
    let started = Instant::now();
    let call = task::spawn_blocking(|| {
        // Stands for a blocking C library call (a DNS lookup with `getaddrinfo`, a database
        // client, image compression): it holds its thread until it is done, and there is
        // nothing to `.await`. Here on a pool thread that is fine; on the scheduler thread
        // it would stop every task for 300 ms.
        //
        // Nothing is printed in here: this closure runs on a pool thread, and the tour's
        // last line counts the threads that printed.
        thread::sleep(BLOCKING_CALL);
    });
    asincrono::trace::label(call.id(), "blocker");
    call.await?;
    // Back in this task, so back on the scheduler thread: the line is printed from there.
    let took = started.elapsed();
    let (ticks_after, prime_chunks_after) = counts.now();
    let report = BlockedReport {
        took,
        ticks: ticks_after - ticks,
        prime_chunks: prime_chunks_after - prime_chunks,
    };
    log.say(
        "blocker",
        format_args!(
            "returned after {:.3} s; meanwhile this thread ran {} and {}",
            report.took.as_secs_f64(),
            plural(report.ticks, "tick"),
            plural(report.prime_chunks, "prime chunk")
        ),
    );
    Ok(report)
}

// ---------------------------------------------------------------------------------------
// The ticker and the prime counter
// ---------------------------------------------------------------------------------------

/// How far the ticker and the prime counter have got, for any task to read while they run.
/// Each count has one writer; `Relaxed` is enough, since the counts publish nothing else.
#[derive(Default)]
struct Counts {
    ticks: AtomicU64,
    prime_chunks: AtomicU64,
}

impl Counts {
    /// (ticks, prime chunks) so far.
    fn now(&self) -> (u64, u64) {
        (
            self.ticks.load(Ordering::Relaxed),
            self.prime_chunks.load(Ordering::Relaxed),
        )
    }
}

/// What the ticker saw.
struct TickerReport {
    ticks: u64,
    /// How long after its deadline each tick came: how long the thread was busy elsewhere.
    latenesses: Vec<Duration>,
}

impl TickerReport {
    fn worst_lateness(&self) -> Duration {
        self.latenesses.iter().max().copied().unwrap_or_default()
    }

    fn median_lateness(&self) -> Duration {
        let mut sorted = self.latenesses.clone();
        sorted.sort();
        sorted.get(sorted.len() / 2).copied().unwrap_or_default()
    }
}

async fn run_ticker(log: Log, stop: Arc<AtomicBool>, counts: Arc<Counts>) -> TickerReport {
    let mut every_tick = time::interval(TICK_PERIOD);
    let mut report = TickerReport {
        ticks: 0,
        latenesses: Vec::new(),
    };
    let ticks_per_heartbeat = (Duration::from_secs(1).as_millis() / TICK_PERIOD.as_millis()) as u64;
    loop {
        let deadline = every_tick.tick().await;
        if stop.load(Ordering::Relaxed) {
            return report;
        }
        // Tick 0 is the immediate first one, so tick 4 comes at 1 s, tick 8 at 2 s, ...
        let tick = report.ticks;
        report.ticks += 1;
        counts.ticks.store(report.ticks, Ordering::Relaxed);
        report.latenesses.push(deadline.elapsed());
        log.spin(tick);
        if tick > 0 && tick % ticks_per_heartbeat == 0 {
            let worst = millis(report.worst_lateness());
            log.say(
                "ticker",
                format_args!("tick {tick:2} (worst lateness so far {worst:.2} ms)"),
            );
        }
    }
}

/// What the prime counter got done.
struct PrimeReport {
    chunks: u64,
    primes: u64,
    /// Every number below this one was tested.
    tested_below: u64,
}

async fn count_primes(log: Log, stop: Arc<AtomicBool>, counts: Arc<Counts>) -> PrimeReport {
    let mut report = PrimeReport {
        chunks: 0,
        primes: 0,
        tested_below: 2,
    };
    let mut last_progress = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let chunk = report.tested_below..report.tested_below + PRIME_CHUNK;
        report.primes += chunk.filter(|&n| is_prime(n)).count() as u64;
        report.tested_below += PRIME_CHUNK;
        report.chunks += 1;
        counts.prime_chunks.store(report.chunks, Ordering::Relaxed);
        if last_progress.elapsed() >= PRIME_REPORT_EVERY {
            last_progress = Instant::now();
            log.say(
                "primes",
                format_args!(
                    "{} chunks so far: {} primes below {}",
                    report.chunks, report.primes, report.tested_below
                ),
            );
        }
        // Without this the loop would never return `Pending`, and nothing else on this
        // thread (timers, sockets, other tasks) would run until it finished.
        task::yield_now().await;
    }
    report
}

/// Trial division: slow on purpose, that is the CPU work.
fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    (2..)
        .take_while(|divisor| divisor * divisor <= n)
        .all(|divisor| n % divisor != 0)
}

// ---------------------------------------------------------------------------------------
// The summary
// ---------------------------------------------------------------------------------------

fn print_summary(
    log: &Log,
    together: Duration,
    one_by_one: Duration,
    blocked: &BlockedReport,
    ticks: &TickerReport,
    primes: &PrimeReport,
) {
    let jobs = SERVER_DELAYS.len();
    let delays_sum: Duration = SERVER_DELAYS.iter().sum();
    let slowest = SERVER_DELAYS
        .iter()
        .max()
        .expect("SERVER_DELAYS is not empty");
    // The verdicts come from the measurements too: if the jobs had not overlapped, the
    // first part would have taken about as long as the second.
    let overlapped = together < (*slowest + delays_sum) / 2;
    let verdict = if overlapped {
        "they overlapped"
    } else {
        "they did NOT overlap"
    };
    log.blank_line();
    log.say("main", "What overlapped with what:");
    log.note(format_args!(
        "{jobs} jobs needing {:.1} s of server time in all, spawned together, took {:.2} s:",
        delays_sum.as_secs_f64(),
        together.as_secs_f64()
    ));
    log.note(format_args!(
        "  about as long as the slowest one alone ({:.1} s), not the sum: {verdict}.",
        slowest.as_secs_f64()
    ));
    log.note(format_args!(
        "Awaited one after another, the same {jobs} jobs took {:.2} s: the sum of their delays.",
        one_by_one.as_secs_f64()
    ));
    log.note(format_args!(
        "Meanwhile the ticker ticked {} times, typically {:.2} ms late (at worst {:.2} ms),",
        ticks.ticks,
        millis(ticks.median_lateness()),
        millis(ticks.worst_lateness())
    ));
    log.note(format_args!(
        "  and the prime counter ran {} chunks ({} primes below {}).",
        primes.chunks, primes.primes, primes.tested_below
    ));
    log.note(format_args!(
        "While a pool thread sat {:.2} s in a blocking call, this one ran {} and {}.",
        blocked.took.as_secs_f64(),
        plural(blocked.ticks, "tick"),
        plural(blocked.prime_chunks, "prime chunk")
    ));
    log.note(log.threads_verdict());
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `1 tick`, `2 ticks`.
fn plural(count: u64, thing: &str) -> String {
    let s = if count == 1 { "" } else { "s" };
    format!("{count} {thing}{s}")
}

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

/// Prints timestamped lines, draws the spinner, and remembers which threads printed.
#[derive(Clone)]
struct Log {
    start: Instant,
    /// Draw a spinner on the last line: only on a terminal, where it can be redrawn in place.
    live_spinner: bool,
    threads: Arc<Mutex<HashSet<ThreadId>>>,
    lines: Arc<AtomicUsize>,
}

impl Log {
    fn new() -> Log {
        Log {
            start: Instant::now(),
            live_spinner: io::stdout().is_terminal(),
            threads: Arc::default(),
            lines: Arc::default(),
        }
    }

    /// `[ 1.234s] who     what`
    fn say(&self, who: &str, what: impl Display) {
        let secs = self.start.elapsed().as_secs_f64();
        self.print(format_args!("[{secs:6.3}s] {who:<7} {what}"));
    }

    /// An untimed line of the summary.
    fn note(&self, what: impl Display) {
        self.print(format_args!("          {what}"));
    }

    fn blank_line(&self) {
        self.print("");
    }

    fn print(&self, line: impl Display) {
        self.note_thread();
        self.lines.fetch_add(1, Ordering::Relaxed);
        // On a terminal, first erase the spinner's line; the next tick draws it again.
        let erase_spinner = if self.live_spinner { "\r\x1b[2K" } else { "" };
        println!("{erase_spinner}{line}");
    }

    /// Redraws the spinner in place (terminal only; piped output gets the heartbeat lines).
    fn spin(&self, tick: u64) {
        if !self.live_spinner {
            return;
        }
        self.note_thread();
        let frame = ['|', '/', '-', '\\'][(tick % 4) as usize];
        let secs = self.start.elapsed().as_secs_f64();
        print!("\r\x1b[2K[{secs:6.3}s] ticker  {frame} tick {tick}");
        // A failed flush only loses a spinner frame.
        let _ = io::stdout().flush();
    }

    fn note_thread(&self) {
        // Held for one insert, never across an `.await`, so a `std` mutex is right here.
        self.threads
            .lock()
            .expect("no thread panics while holding this lock")
            .insert(thread::current().id());
    }

    /// Which thread(s) printed everything so far.
    fn threads_verdict(&self) -> String {
        let threads = self
            .threads
            .lock()
            .expect("no thread panics while holding this lock")
            .len();
        let lines = self.lines.load(Ordering::Relaxed) + 1; // counting the verdict itself
        let current = thread::current();
        match threads {
            1 => format!(
                "All {lines} lines were printed by one thread, {:?} ({:?}), taking turns.",
                current.name().unwrap_or("unnamed"),
                current.id()
            ),
            _ => format!("These {lines} lines were printed by {threads} different threads."),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The text timeline (`--trace`)
// ---------------------------------------------------------------------------------------

/// Columns of the timeline.
const TIMELINE_WIDTH: usize = 72;

/// One line of the timeline: a task, or a thread's parked time.
struct Row {
    name: String,
    /// Polls (or parks) as (start, end) in µs.
    spans: Vec<(f64, f64)>,
    /// When the task was spawned, if it is a task.
    spawned: Option<f64>,
    /// Whether this row is a thread's parked time rather than a task.
    parked: bool,
}

/// Draws the trace as text: per task, `█` where it was being polled during that column,
/// `·` where it was alive but waiting; per thread, `░` where it was parked. Reads the file
/// line by line: the runtime writes one event per line, so no JSON parser is needed.
fn print_timeline(json: &str) {
    let mut rows: Vec<(String, Row)> = Vec::new(); // keyed by task id or thread, in first-seen order
    let mut thread_names = Vec::new();
    let mut open: Vec<(String, f64)> = Vec::new(); // spans begun and not ended, by key
    let mut end = 0.0f64;
    for line in json.lines() {
        let Some(phase) = field(line, "ph") else {
            continue;
        };
        let tid = field(line, "tid").unwrap_or("0");
        if phase == "M" {
            if field(line, "name") == Some("thread_name") {
                let name = line
                    .rsplit_once("\"name\":\"")
                    .map_or("?", |(_, rest)| rest.split('"').next().unwrap_or("?"));
                thread_names.push((tid.to_owned(), name.to_owned()));
            }
            continue;
        }
        let ts: f64 = field(line, "ts")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0.0);
        end = end.max(ts);
        let name = field(line, "name").unwrap_or("");
        let key = match (field(line, "task"), name) {
            (Some(task), _) => format!("task {task}"),
            (None, "park (driver)" | "park (condvar)") => format!("thread {tid}"),
            _ => continue,
        };
        let row = match rows.iter().position(|(k, _)| *k == key) {
            Some(index) => &mut rows[index].1,
            None => {
                let parked = key.starts_with("thread");
                let label = if parked {
                    let thread = thread_names.iter().find(|(t, _)| t == tid);
                    format!("parked: {}", thread.map_or(tid, |(_, name)| name.as_str()))
                } else {
                    // "poll ticker (task 2)"; a spawn event renames the row just below.
                    name.trim_start_matches("poll ").to_owned()
                };
                rows.push((
                    key.clone(),
                    Row {
                        name: label,
                        spans: Vec::new(),
                        spawned: None,
                        parked,
                    },
                ));
                &mut rows.last_mut().unwrap().1
            }
        };
        match (phase, name) {
            ("i", "spawn") => {
                row.spawned = Some(ts);
                // The spawn event's args name the task as the file does: "job-1 (task 9)".
                if let Some(named) = line.split("\"name\":\"").nth(2) {
                    row.name = named.split('"').next().unwrap_or("").to_owned();
                }
                if field(line, "blocking") == Some("true") && row.name.starts_with("task ") {
                    row.name = format!("pool job ({})", row.name); // an fs operation
                }
            }
            ("B", _) => open.push((key, ts)),
            ("E", _) => {
                if let Some(index) = open.iter().rposition(|(k, _)| *k == key) {
                    let (_, start) = open.remove(index);
                    row.spans.push((start, ts));
                }
            }
            _ => {}
        }
    }
    if end <= 0.0 {
        return;
    }
    let column = end / TIMELINE_WIDTH as f64;
    let name_width = rows
        .iter()
        .map(|(_, row)| row.name.chars().count())
        .max()
        .unwrap_or(4)
        .min(28);
    println!();
    println!(
        "Timeline from the trace ({:.1} s, one column = {:.0} ms; █ being polled, · waiting, ░ parked):",
        end / 1e6,
        column / 1e3
    );
    for (_, row) in &rows {
        let last = row.spans.iter().map(|&(_, e)| e).fold(0.0, f64::max);
        let mut cells = vec![' '; TIMELINE_WIDTH];
        if let Some(spawned) = row.spawned {
            let (from, to) = (cell(spawned, column), cell(last, column));
            cells[from..=to].iter_mut().for_each(|c| *c = '·');
        }
        let mark = if row.parked { '░' } else { '█' };
        for &(start, stop) in &row.spans {
            cells[cell(start, column)..=cell(stop, column)]
                .iter_mut()
                .for_each(|c| *c = mark);
        }
        let name: String = row.name.chars().take(name_width).collect();
        println!(
            "  {name:<name_width$} |{}|",
            cells.into_iter().collect::<String>()
        );
    }
    println!(
        "  (the trace itself: {TRACE_FILE}; drawn in {}, to open in a browser)",
        TRACE_FILE.replace(".json", ".html")
    );
}

/// The column a time (µs) falls in.
fn cell(at: f64, column: f64) -> usize {
    ((at / column) as usize).min(TIMELINE_WIDTH - 1)
}

/// The value of the first `"key":` on a line of the trace, without quotes.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &line[start..];
    match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next(),
        None => rest.split([',', '}']).next(),
    }
}
