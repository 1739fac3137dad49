//! 10,000 concurrent loopback echo connections on one current-thread runtime.
//!
//! Both ends in one process would need 20,000 file descriptors, the limit on these machines,
//! so the clients live in a child process: this same test binary, started again with
//! `--client ADDR`. The parent runs the server and checks that all 10,000 connections were
//! open at the same moment and that every one echoed correctly. (`harness = false` in
//! Cargo.toml: this file has its own `main`.)

#[path = "common/bare.rs"]
mod bare;

use asincrono::io::{AsyncReadExt, AsyncWriteExt};
use asincrono::net::{TcpListener, TcpStream};
use asincrono::runtime::{Builder, Runtime};
use asincrono::time::timeout;
use bare::BareTest;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 10_000;
/// Connections opened at once by the client, so the listen backlog never overflows (an
/// overflow is not an error, but costs a one-second SYN retransmit).
const CONNECT_WAVE: usize = 500;
/// The whole exchange must finish within this, or the test fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(120);

fn main() -> ExitCode {
    raise_fd_limit();
    let args: Vec<String> = std::env::args().collect();
    if let Some(addr) = args
        .iter()
        .position(|arg| arg == "--client")
        .and_then(|at| args.get(at + 1))
    {
        return run_clients(addr);
    }
    // The libtest command line (filters, `--list` for nextest) is handled by `bare`.
    bare::main(&[BareTest {
        name: "echo_10k_connections",
        run: run_server_and_clients,
    }])
}

/// Lifts the soft file-descriptor limit to the hard one (the child inherits it), so the test
/// does not depend on the shell's `ulimit -n`.
fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` and `setrlimit` read or write one `rlimit` through a pointer to a
    // live, correctly typed local.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn current_thread_runtime() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build the runtime")
}

/// Open connections now, and the most seen at once.
#[derive(Default)]
struct Gauge {
    open: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    fn opened(&self) {
        let now = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }
    fn closed(&self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The parent: echo server on a current-thread runtime, clients in a child process.
fn run_server_and_clients() -> Result<String, String> {
    let runtime = current_thread_runtime();
    let listener = runtime
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .map_err(|err| err.to_string())?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    let started = Instant::now();
    let mut child = Command::new(std::env::current_exe().map_err(|err| err.to_string())?)
        .arg("--client")
        .arg(addr.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("start the client process: {err}"))?;

    let gauge = Arc::new(Gauge::default());
    let served = runtime.block_on(timeout(DEADLINE, serve(listener, gauge.clone())));
    let output = match served {
        Ok(_) => child.wait_with_output().map_err(|err| err.to_string())?,
        Err(_) => {
            let _ = child.kill();
            let output = child.wait_with_output().map_err(|err| err.to_string())?;
            return Err(format!(
                "not every connection finished within {DEADLINE:?}; client said:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    };
    let served = served
        .expect("checked above")
        .map_err(|err| format!("server: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "client process failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let peak = gauge.peak.load(Ordering::SeqCst);
    if served != CONNECTIONS || peak != CONNECTIONS {
        return Err(format!(
            "served {served} connections, at most {peak} at once; expected {CONNECTIONS} of each"
        ));
    }
    Ok(format!(
        "{served} connections, all {peak} open at once, in {:.1?}; client: {}",
        started.elapsed(),
        String::from_utf8_lossy(&output.stdout).trim()
    ))
}

/// Accepts `CONNECTIONS` connections, echoes each until its client closes, and returns how
/// many echoed correctly.
///
/// No connection echoes before all are accepted. A client's `connect` returns once the
/// kernel has finished the handshake, before this server accepts, so the client may start
/// its exchanges while the last connections still wait in the backlog; echoing at once
/// would let early clients finish and close before late ones are accepted, and the peak
/// would fall short of `CONNECTIONS` on a slow machine (seen once in CI's run at 9,928).
async fn serve(listener: TcpListener, gauge: Arc<Gauge>) -> std::io::Result<usize> {
    let (all_accepted, accepted) = asincrono::sync::watch::channel(false);
    let mut echoes = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let (stream, _) = listener.accept().await?;
        gauge.opened();
        let gauge = gauge.clone();
        let mut accepted = accepted.clone();
        echoes.push(asincrono::spawn(async move {
            let _ = accepted.wait_for(|all| *all).await;
            let echoed = echo_until_closed(stream).await;
            gauge.closed();
            echoed
        }));
    }
    all_accepted.send_replace(true);
    let mut served = 0;
    for echo in echoes {
        echo.await.map_err(std::io::Error::other)??;
        served += 1;
    }
    Ok(served)
}

async fn echo_until_closed(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = [0u8; 256];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

/// The child: open every connection first, then make each one echo a line, then close.
fn run_clients(addr: &str) -> ExitCode {
    let runtime = current_thread_runtime();
    let result = runtime.block_on(async {
        let mut streams = Vec::with_capacity(CONNECTIONS);
        while streams.len() < CONNECTIONS {
            let wave: Vec<_> = (0..CONNECT_WAVE.min(CONNECTIONS - streams.len()))
                .map(|_| asincrono::spawn(TcpStream::connect(addr.to_owned())))
                .collect();
            for connect in wave {
                streams.push(connect.await.map_err(std::io::Error::other)??);
            }
        }
        let started = Instant::now();
        let exchanges: Vec<_> = streams
            .into_iter()
            .enumerate()
            .map(|(i, stream)| asincrono::spawn(exchange(i, stream)))
            .collect();
        for exchange in exchanges {
            exchange.await.map_err(std::io::Error::other)??;
        }
        std::io::Result::Ok(started.elapsed())
    });
    match result {
        Ok(elapsed) => {
            println!("{CONNECTIONS} echoes checked in {elapsed:.1?}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("client: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn exchange(index: usize, mut stream: TcpStream) -> std::io::Result<()> {
    let line = format!("hello from connection {index}\n");
    stream.write_all(line.as_bytes()).await?;
    let mut echoed = vec![0u8; line.len()];
    stream.read_exact(&mut echoed).await?;
    if echoed != line.as_bytes() {
        return Err(std::io::Error::other(format!(
            "connection {index}: wrong echo {echoed:?}"
        )));
    }
    Ok(())
}
