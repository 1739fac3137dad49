//! A client for `echo_server`: many concurrent connections, each checking its echo.
//!
//! Run the server first, then the client:
//!
//! ```text
//! cargo run --example echo_server
//! cargo run --example echo_client [ADDR] [N]   # defaults: 127.0.0.1:7878, 10 connections
//! ```
//!
//! What it teaches: spawning one task per connection and collecting their results through
//! the `JoinHandle`s, and splitting a stream (`into_split`) so that a `BufReader` can read
//! lines from one half while the other half writes.
//!
//! What to look for: one line per connection with the round-trip time of each line it
//! sent (send a line, wait until the same line comes back), then a summary. The N
//! connections are open at the same time, so the total time is close to that of the
//! slowest connection, not the sum. If no server is listening, you get a one-line error
//! and exit code 1; a bad command line gives exit code 2.
//!
//! Try N = 200 too: some connections may then take about a second to connect. Not the
//! runtime's doing: the kernel queues at most 128 connections that the server has not
//! accepted yet (the listen backlog), drops the SYNs beyond that, and the client's kernel
//! sends them again after its one-second retransmission timeout.

use asincrono::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use asincrono::net::TcpStream;
use asincrono::task::{self, JoinHandle};
use asincrono::time::Instant;
use std::fmt;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

const DEFAULT_ADDR: &str = "127.0.0.1:7878";
const DEFAULT_CONNECTIONS: usize = 10;

/// Lines each connection sends, one at a time.
const LINES_PER_CONNECTION: usize = 3;

/// Exit code for a bad command line, as most command-line tools do.
const EXIT_USAGE: u8 = 2;

#[asincrono::main]
async fn main() -> ExitCode {
    let (server, connections) = match settings_from_args() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("echo_client: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match run(server, connections).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("echo_client: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `[ADDR] [N]`, with their defaults.
fn settings_from_args() -> Result<(SocketAddr, usize), String> {
    const USAGE: &str = "usage: echo_client [ADDR] [N]   (for example 127.0.0.1:7878 10)";
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() > 2 {
        return Err(USAGE.to_string());
    }
    let addr = args.first().map_or(DEFAULT_ADDR, String::as_str);
    // A host name lookup blocks the thread; once, at start-up, that is fine.
    let server = addr
        .to_socket_addrs()
        .map_err(|err| format!("bad address {addr:?}: {err}"))?
        .next()
        .ok_or_else(|| format!("bad address {addr:?}: it resolves to no address"))?;
    let connections = match args.get(1) {
        None => DEFAULT_CONNECTIONS,
        Some(n) => match n.parse() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(format!(
                    "bad number of connections {n:?}: expected a whole number above 0\n{USAGE}"
                ));
            }
        },
    };
    Ok((server, connections))
}

async fn run(server: SocketAddr, connections: usize) -> Result<(), String> {
    println!("{connections} connections to {server}, {LINES_PER_CONNECTION} lines each");
    let started = Instant::now();
    // All connections start now and run at the same time; the handles bring back results.
    let handles: Vec<JoinHandle<Result<Report, ConnectionError>>> = (1..=connections)
        .map(|id| task::spawn(run_connection(server, id)))
        .collect();

    let mut reports = Vec::with_capacity(connections);
    let mut first_error = None;
    for handle in handles {
        // A task that panicked gives a `JoinError` rather than taking the program down.
        match handle
            .await
            .map_err(|err| format!("a connection task failed: {err}"))?
        {
            Ok(report) => {
                println!("{report}");
                reports.push(report);
            }
            // Keep going so that every connection's result is seen; report the first error.
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    if let Some(err) = first_error {
        return Err(err.describe(server));
    }
    print_summary(&reports, started.elapsed());
    Ok(())
}

/// How one connection went.
struct Report {
    id: usize,
    connect_time: Duration,
    round_trips: Vec<Duration>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connection {:3}: connected in {:6.3} ms, round trips",
            self.id,
            millis(self.connect_time)
        )?;
        for round_trip in &self.round_trips {
            write!(f, " {:6.3}", millis(*round_trip))?;
        }
        write!(f, " ms")
    }
}

/// Why a connection failed, kept apart from the message so that `run` can explain the
/// most common case (no server) in a single line.
enum ConnectionError {
    Connect(io::Error),
    Exchange {
        id: usize,
        error: io::Error,
    },
    WrongEcho {
        id: usize,
        sent: String,
        received: String,
    },
    MoreThanEchoed {
        id: usize,
        received: String,
    },
}

impl ConnectionError {
    fn describe(&self, server: SocketAddr) -> String {
        match self {
            ConnectionError::Connect(err) if err.kind() == ErrorKind::ConnectionRefused => {
                format!(
                    "connection refused at {server}: is echo_server running? (cargo run --example echo_server)"
                )
            }
            ConnectionError::Connect(err) => format!("cannot connect: {err}"),
            ConnectionError::Exchange { id, error } => format!("connection {id}: {error}"),
            ConnectionError::WrongEcho { id, sent, received } => {
                format!("connection {id}: sent {sent:?} but got back {received:?}")
            }
            ConnectionError::MoreThanEchoed { id, received } => {
                format!("connection {id}: got {received:?} after the last echo")
            }
        }
    }
}

/// Connects, then sends each line and waits for it to come back before sending the next.
async fn run_connection(server: SocketAddr, id: usize) -> Result<Report, ConnectionError> {
    let connecting = Instant::now();
    let stream = TcpStream::connect(server)
        .await
        .map_err(ConnectionError::Connect)?;
    let connect_time = connecting.elapsed();
    let exchange_failed = |error| ConnectionError::Exchange { id, error };
    // Small lines that must go out at once: turn off Nagle's batching.
    stream.set_nodelay(true).map_err(exchange_failed)?;
    let (read_half, mut write_half) = stream.into_split();
    let mut echoes = BufReader::new(read_half);

    let mut round_trips = Vec::with_capacity(LINES_PER_CONNECTION);
    for line_number in 1..=LINES_PER_CONNECTION {
        let sent = format!("connection {id} says hello, line {line_number}\n");
        let sending = Instant::now();
        write_half
            .write_all(sent.as_bytes())
            .await
            .map_err(exchange_failed)?;
        let mut received = String::new();
        echoes
            .read_line(&mut received)
            .await
            .map_err(exchange_failed)?;
        round_trips.push(sending.elapsed());
        // An empty `received` means the server closed the connection early.
        if received != sent {
            return Err(ConnectionError::WrongEcho { id, sent, received });
        }
    }

    // Say we are done (the server sees EOF), then expect the server to close in turn, with
    // nothing extra before it.
    write_half.shutdown().await.map_err(exchange_failed)?;
    let mut extra = String::new();
    if echoes
        .read_line(&mut extra)
        .await
        .map_err(exchange_failed)?
        != 0
    {
        return Err(ConnectionError::MoreThanEchoed {
            id,
            received: extra,
        });
    }
    Ok(Report {
        id,
        connect_time,
        round_trips,
    })
}

fn print_summary(reports: &[Report], total: Duration) {
    let round_trips: Vec<Duration> = reports
        .iter()
        .flat_map(|report| report.round_trips.iter().copied())
        .collect();
    let slowest = round_trips.iter().max().copied().unwrap_or_default();
    let average = round_trips.iter().sum::<Duration>() / round_trips.len().max(1) as u32;
    println!(
        "{} connections, {} lines echoed correctly in {:.3} ms in all; round trip: average {:.3} ms, slowest {:.3} ms",
        reports.len(),
        round_trips.len(),
        millis(total),
        millis(average),
        millis(slowest)
    );
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
