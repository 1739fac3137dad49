//! A guided tour: one thread keeps several things going while it waits for the network.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example tour
//! ```
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
//! What to look for in the output (about 8 seconds):
//!
//! * the `sent` lines of the four spawned jobs all come at once, and their `answered`
//!   lines arrive after the slowest single delay, not after the sum of the delays;
//! * the ticker and the prime counter keep printing while requests are in flight: waiting
//!   for a socket or a timer does not block the thread, it only parks that one task;
//! * the closing summary, computed from the timestamps the program recorded, and its last
//!   line, which says how many threads printed the lines above: one.

use asincrono::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use asincrono::net::{TcpListener, TcpStream};
use asincrono::task::{self, JoinHandle};
use asincrono::time::{self, Instant};
use std::collections::HashSet;
use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

// `current_thread`: every task below runs on the thread that runs `main`. That is the point
// of the tour, so it is spelled out rather than left to the default.
#[asincrono::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run_tour().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tour: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run_tour() -> io::Result<()> {
    let log = Log::new();
    print_legend();

    let server_addr = start_slow_server(log.clone()).await?;
    log.say("server", format_args!("listening on {server_addr}"));

    // The two background tasks run until `stop` is raised; their `JoinHandle`s give back
    // what they counted.
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = task::spawn(run_ticker(log.clone(), stop.clone()));
    let prime_counter = task::spawn(count_primes(log.clone(), stop.clone()));

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

    stop.store(true, Ordering::Relaxed);
    let ticks = ticker.await?;
    let primes = prime_counter.await?;
    print_summary(&log, together, one_by_one, &ticks, &primes);
    // Returning drops the runtime, which drops the server task still waiting in `accept`.
    Ok(())
}

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
    println!();
}

// ---------------------------------------------------------------------------------------
// The slow server
// ---------------------------------------------------------------------------------------

/// Binds a listener on a free loopback port and spawns its accept loop.
async fn start_slow_server(log: Log) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    task::spawn(accept_loop(listener, log)); // detached, like the connection tasks below
    Ok(addr)
}

async fn accept_loop(listener: TcpListener, log: Log) {
    loop {
        match listener.accept().await {
            // One task per connection: a slow job must not hold up the next `accept`. The
            // `JoinHandle` is dropped, which detaches the task: it runs on by itself.
            Ok((stream, _peer)) => {
                task::spawn(answer_after_delay(stream, log.clone()));
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

fn parse_request(line: &str) -> Option<(&str, Duration)> {
    let (job, millis) = line.trim_end().split_once(' ')?;
    Some((job, Duration::from_millis(millis.parse().ok()?)))
}

// ---------------------------------------------------------------------------------------
// The clients
// ---------------------------------------------------------------------------------------

/// Spawns one task per job, then waits for them all; returns the wall time it took.
async fn send_all_at_once(server: SocketAddr, log: &Log) -> io::Result<Duration> {
    let started = Instant::now();
    let jobs: Vec<JoinHandle<io::Result<()>>> = SERVER_DELAYS
        .iter()
        .enumerate()
        .map(|(index, &delay)| task::spawn(send_job(server, index + 1, delay, log.clone())))
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
// The ticker and the prime counter
// ---------------------------------------------------------------------------------------

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

async fn run_ticker(log: Log, stop: Arc<AtomicBool>) -> TickerReport {
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

async fn count_primes(log: Log, stop: Arc<AtomicBool>) -> PrimeReport {
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
    log.note(log.threads_verdict());
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
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
