//! A small PostgreSQL client written on asincrono, speaking the wire protocol by hand: the
//! startup message, a login by trust, cleartext password, MD5 or SCRAM-SHA-256, and the
//! simple query protocol, with every value as text.
//!
//! Run it against a server (the settings come from the flags, else from `PGHOST`,
//! `PGPORT`, `PGUSER`, `PGDATABASE` and `PGPASSWORD`, else from the defaults shown):
//!
//! ```text
//! cargo run --release --example pg_client                        # the demo, below
//! cargo run --release --example pg_client -- -c "SELECT now()"   # one query, as a table
//! cargo run --release --example pg_client -- --host /tmp --port 55432 --user postgres
//! ```
//!
//! The demo runs the same queries twice, each `SELECT pg_sleep(0.05)` plus a number to
//! check: one after another on one connection, then over a few connections at once. While
//! they run, the program carries on (a ticker prints the progress every 100 ms), and it
//! ends with both times and the speed-up:
//!
//! ```text
//! serial: 40 queries, 1 connection, 2.063 s
//! concurrent: 40 queries, 4 connections, 0.523 s
//! rows: 80 checked, all as expected
//! speed-up: 3.94x
//! ```
//!
//! What it teaches:
//!
//! * **Framing.** `pg_client/protocol.rs` turns bytes into messages with plain functions
//!   (`parse_message` and friends), and `pg_client/connection.rs` feeds them from a
//!   `BufReader`: a header, checked, then exactly the body it announces.
//! * **A conversation as a loop over messages.** Login and query are each a `loop` with a
//!   `match` on what the server sent next.
//! * **Waiting without a thread per wait.** A connection runs one query at a time; four
//!   tasks with a connection each keep four queries in flight on one thread, and the
//!   ticker is a fifth task that still runs on time (`run_batch`).
//!
//! Corners cut, compared with `tokio-postgres` or `psql`: no TLS, no extended query
//! protocol (so no parameters: the SQL is sent as written), no `COPY`, text values only,
//! and no connection pool beyond "one task per connection". The hashes are written out
//! in `pg_client/md5.rs` and `pg_client/sha256.rs` so that the example needs nothing but
//! asincrono and std; a real client uses reviewed crates.

#[path = "pg_client/connection.rs"]
pub mod connection;
#[path = "pg_client/md5.rs"]
pub mod md5;
#[path = "pg_client/protocol.rs"]
pub mod protocol;
#[path = "pg_client/scram.rs"]
pub mod scram;
#[path = "pg_client/sha256.rs"]
pub mod sha256;

use asincrono::task::JoinSet;
use asincrono::time::{self, Instant};
use connection::{ClientError, Connection, Login, QueryResult, Target, connect};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Exit codes, one per kind of failure, so a script can tell them apart.
pub const EXIT_QUERY_FAILED: u8 = 1;
/// A bad command line.
pub const EXIT_USAGE: u8 = 2;
/// The server refused the login, or asked for something this client cannot give.
pub const EXIT_LOGIN_REFUSED: u8 = 3;
/// The server could not be reached, went away, or was too slow to answer.
pub const EXIT_CONNECTION: u8 = 4;
/// The server sent something that is not the protocol.
pub const EXIT_PROTOCOL: u8 = 5;

/// How often the ticker reports progress while queries run.
const TICK: Duration = Duration::from_millis(100);

const USAGE: &str = "usage: pg_client [--host H] [--port P] [--user U] [--db D] \
[--connections N] [--queries N] [--sleep SECONDS] [--login-timeout SECONDS] [-c SQL]
  defaults from PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, else 127.0.0.1 5432 $USER $USER";

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the server is.
    pub target: Target,
    /// Who logs in, where.
    pub login: Login,
    /// How many connections the concurrent run uses.
    pub connections: usize,
    /// How many queries each run sends.
    pub queries: usize,
    /// How long each demo query sleeps on the server, in seconds.
    pub sleep: f64,
    /// The limit on connecting plus logging in.
    pub login_timeout: Duration,
    /// `-c SQL`: run this instead of the demo.
    pub command: Option<String>,
}

// One thread is enough, and makes the point: every query in flight is a wait, not a thread.
#[asincrono::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    ExitCode::from(command_line(&args, &|name| std::env::var(name).ok()).await)
}

/// The whole program, from its arguments and a way to read the environment (so a test can
/// hand it either) to its exit code. Errors go to stderr as one line.
pub async fn command_line(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> u8 {
    if args.iter().any(|arg| arg == "-h" || arg == "--help") {
        println!("{USAGE}");
        return 0;
    }
    let config = match parse_config(args, env) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("pg_client: {message}\n{USAGE}");
            return EXIT_USAGE;
        }
    };
    let outcome = match &config.command {
        Some(sql) => run_command(&config, sql).await,
        None => demo(&config).await,
    };
    match outcome {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("pg_client: {err}");
            exit_code(&err)
        }
    }
}

/// The exit code for each kind of failure.
pub fn exit_code(err: &ClientError) -> u8 {
    match err {
        ClientError::Query(_) | ClientError::InvalidInput(_) => EXIT_QUERY_FAILED,
        ClientError::LoginRefused(_) | ClientError::Auth(_) => EXIT_LOGIN_REFUSED,
        ClientError::Connect { .. }
        | ClientError::Closed(_)
        | ClientError::Io(..)
        | ClientError::TimedOut(_) => EXIT_CONNECTION,
        ClientError::Protocol(..) | ClientError::Unexpected(..) => EXIT_PROTOCOL,
    }
}

/// Reads the flags, falling back on the environment and then on libpq's defaults.
pub fn parse_config(
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, String> {
    let mut flags = std::collections::HashMap::new();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let name = match flag.as_str() {
            "--host" | "--port" | "--user" | "--db" | "--connections" | "--queries" | "--sleep"
            | "--login-timeout" | "-c" => flag.as_str(),
            other => return Err(format!("unknown argument {other:?}")),
        };
        let value = args.next().ok_or(format!("{name} needs a value"))?;
        flags.insert(name, value.clone());
    }
    let setting = |flag: &str, var: &str| flags.get(flag).cloned().or_else(|| env(var));
    let host = setting("--host", "PGHOST").unwrap_or_else(|| "127.0.0.1".into());
    let port = number(setting("--port", "PGPORT"), "port", 5432u16)?;
    let user = setting("--user", "PGUSER")
        .or_else(|| env("USER"))
        .unwrap_or_else(|| "postgres".into());
    let database = setting("--db", "PGDATABASE").unwrap_or_else(|| user.clone());
    let connections = number(
        flags.get("--connections").cloned(),
        "connection count",
        4usize,
    )?;
    let queries = number(flags.get("--queries").cloned(), "query count", 40usize)?;
    let sleep = number(flags.get("--sleep").cloned(), "sleep", 0.05f64)?;
    let login_timeout = number(
        flags.get("--login-timeout").cloned(),
        "login timeout",
        10.0f64,
    )?;
    if !(1..=64).contains(&connections) || !(1..=100_000).contains(&queries) {
        return Err("--connections takes 1 to 64, --queries 1 to 100000".into());
    }
    if !(0.0..=10.0).contains(&sleep) || !(0.001..=3600.0).contains(&login_timeout) {
        return Err("--sleep takes 0 to 10 seconds, --login-timeout 0.001 to 3600".into());
    }
    Ok(Config {
        target: Target::new(&host, port),
        login: Login {
            user,
            database,
            password: env("PGPASSWORD"),
        },
        connections,
        queries,
        sleep,
        login_timeout: Duration::from_secs_f64(login_timeout),
        command: flags.get("-c").cloned(),
    })
}

/// A flag's value as a number, or its default when it is absent.
fn number<T: std::str::FromStr>(
    value: Option<String>,
    what: &str,
    default: T,
) -> Result<T, String> {
    match value {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| format!("bad {what}: {text:?}")),
    }
}

/// `-c SQL`: one query, its results printed as tables.
async fn run_command(config: &Config, sql: &str) -> Result<(), ClientError> {
    let mut connection = connect(&config.target, &config.login, config.login_timeout).await?;
    let results = connection.simple_query(sql).await?;
    for result in &results {
        print!("{}", format_table(result));
    }
    connection.close().await;
    Ok(())
}

/// A result as `psql` would show it: a header, a rule, the rows, and the tag.
pub fn format_table(result: &QueryResult) -> String {
    if result.columns.is_empty() {
        return format!("{}\n", result.tag);
    }
    let cell = |value: &Option<String>| value.clone().unwrap_or_else(|| "NULL".into());
    let mut widths: Vec<usize> = result
        .columns
        .iter()
        .map(|c| c.name.chars().count())
        .collect();
    for row in &result.rows {
        for (width, value) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell(value).chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(text, width)| format!("{text:width$}"))
            .collect();
        format!(" {}\n", padded.join(" | ").trim_end())
    };
    let mut out = line(result.columns.iter().map(|c| c.name.clone()).collect());
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
    out += &format!("{}\n", rule.join("+"));
    for row in &result.rows {
        out += &line(row.iter().map(cell).collect());
    }
    out + &format!("({})\n", result.tag)
}

// ANCHOR: demo
/// The demo: the same queries one after another, then over several connections at once.
async fn demo(config: &Config) -> Result<(), ClientError> {
    // The connections open concurrently too: each login is a few round trips of waiting.
    let mut opening = JoinSet::new();
    for _ in 0..config.connections {
        let (target, login, limit) = (
            config.target.clone(),
            config.login.clone(),
            config.login_timeout,
        );
        opening.spawn(async move { connect(&target, &login, limit).await });
    }
    let mut connections = Vec::new();
    while let Some(opened) = opening.join_next().await {
        connections.push(opened.expect("a connect task does not panic")?);
    }
    let version = connections[0]
        .parameter("server_version")
        .unwrap_or("?")
        .to_string();
    println!(
        "connected to {} as {} (PostgreSQL {version}), database {}",
        config.target, config.login.user, config.login.database
    );

    let queries: Arc<Vec<String>> = Arc::new(
        (0..config.queries)
            .map(|n| {
                format!(
                    "SELECT {n} AS n, {n} * {n} AS square, pg_sleep({})",
                    config.sleep
                )
            })
            .collect(),
    );
    let spare = connections.split_off(1);
    let (mut connections, serial) = run_batch("serial", connections, &queries).await?;
    connections.extend(spare);
    let (connections, concurrent) = run_batch("concurrent", connections, &queries).await?;

    let checked = check_rows(&serial.rows)? + check_rows(&concurrent.rows)?;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    for (label, batch) in [("serial", &serial), ("concurrent", &concurrent)] {
        println!(
            "{label}: {} queries, {} connection{}, {:.3} s",
            batch.rows.len(),
            batch.connections,
            plural(batch.connections),
            batch.elapsed.as_secs_f64()
        );
    }
    println!("rows: {checked} checked, all as expected");
    let speed_up = serial.elapsed.as_secs_f64() / concurrent.elapsed.as_secs_f64();
    println!("speed-up: {speed_up:.2}x");
    for connection in connections {
        connection.close().await;
    }
    Ok(())
}
// ANCHOR_END: demo

/// What a batch of queries returned, and how long it took.
struct Batch {
    /// Each query's number and its single row.
    rows: Vec<(usize, Vec<Option<String>>)>,
    /// How many connections shared the work.
    connections: usize,
    elapsed: Duration,
}

// ANCHOR: run_batch
/// Runs every query in `queries` over `connections`, one task per connection, each task
/// taking the next query number from a shared counter until none are left. The calling
/// task meanwhile prints the progress on every tick: the program carries on while the
/// queries wait on the server. Returns the connections for reuse, and the rows.
async fn run_batch(
    label: &str,
    connections: Vec<Connection>,
    queries: &Arc<Vec<String>>,
) -> Result<(Vec<Connection>, Batch), ClientError> {
    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let count = connections.len();
    let mut workers = JoinSet::new();
    for connection in connections {
        let (queries, next, done) = (queries.clone(), next.clone(), done.clone());
        workers.spawn(work_through(connection, queries, next, done));
    }
    let mut ticker = time::interval(TICK);
    ticker.tick().await; // the first tick is immediate
    let (mut returned, mut rows) = (Vec::new(), Vec::new());
    loop {
        asincrono::select! {
            finished = workers.join_next() => match finished {
                // An error drops `workers`, which aborts the other tasks.
                Some(joined) => {
                    let (connection, mut answered) = joined.expect("a query task does not panic")?;
                    returned.push(connection);
                    rows.append(&mut answered);
                }
                None => break,
            },
            _ = ticker.tick() => {
                let elapsed = start.elapsed().as_secs_f64();
                let done = done.load(Ordering::Relaxed);
                println!("  {label}: {done}/{} queries done after {elapsed:.2} s", queries.len());
            }
        }
    }
    let elapsed = start.elapsed();
    Ok((
        returned,
        Batch {
            rows,
            connections: count,
            elapsed,
        },
    ))
}

/// One connection's share of a batch: query after query until the counter runs out.
async fn work_through(
    mut connection: Connection,
    queries: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    done: Arc<AtomicUsize>,
) -> Result<(Connection, Vec<(usize, Vec<Option<String>>)>), ClientError> {
    let mut rows = Vec::new();
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let Some(sql) = queries.get(n) else {
            return Ok((connection, rows));
        };
        let mut results = connection.simple_query(sql).await?;
        let row = results.pop().and_then(|mut result| result.rows.pop());
        rows.push((n, row.unwrap_or_default()));
        done.fetch_add(1, Ordering::Relaxed);
    }
}
// ANCHOR_END: run_batch

/// Checks that every query came back exactly once with its own `n` and `n * n`.
fn check_rows(rows: &[(usize, Vec<Option<String>>)]) -> Result<usize, ClientError> {
    let mut seen = vec![false; rows.len()];
    for (n, row) in rows {
        let (expected_n, expected_square) = (n.to_string(), (n * n).to_string());
        let good = matches!(row.as_slice(), [Some(got_n), Some(square), Some(_)]
            if *got_n == expected_n && *square == expected_square);
        if !good || seen.get(*n) != Some(&false) {
            let what = format!("the row {row:?} for query {n}");
            return Err(ClientError::Unexpected(connection::Stage::Query, what));
        }
        seen[*n] = true;
    }
    Ok(rows.len())
}
