//! A TCP echo server: every byte a client sends comes straight back to it.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example echo_server              # listens on 127.0.0.1:7878
//! cargo run --example echo_server 0.0.0.0:9000 # or any address you name
//! ```
//!
//! then, in another terminal, type lines into `nc 127.0.0.1 7878` and see them echoed, or
//! run `cargo run --example echo_client` to open many connections at once. Stop the server
//! with Ctrl-C.
//!
//! What it teaches: the accept loop / task-per-connection shape of a server. The loop only
//! accepts; each connection is served by its own spawned task, so a slow or idle client
//! never holds up the others. The server prints a line when a connection opens and when it
//! closes (with the number of bytes echoed), and one for every error, saying what it means.

use asincrono::io::{AsyncReadExt, AsyncWriteExt};
use asincrono::net::{TcpListener, TcpStream};
use asincrono::{task, time};
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

const DEFAULT_ADDR: &str = "127.0.0.1:7878";

/// How long to wait after a failed `accept` before trying again (see `accept_loop`).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Exit code for a bad command line, as most command-line tools do.
const EXIT_USAGE: u8 = 2;

#[asincrono::main]
async fn main() -> ExitCode {
    let addr = match addr_from_args() {
        Ok(addr) => addr,
        Err(message) => {
            eprintln!("echo_server: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let listener = match TcpListener::bind(addr).await {
        Ok(listener) => listener,
        // Typically "address in use" (another server on that port) or "permission denied"
        // (a port below 1024); the error names the address.
        Err(err) => {
            eprintln!("echo_server: cannot listen: {err}");
            return ExitCode::FAILURE;
        }
    };
    // With port 0 the system picks a free port: show the one it picked.
    let local = listener.local_addr().unwrap_or(addr);
    println!("echo server listening on {local}");
    println!(
        "try it:  nc {} {}   (or: cargo run --example echo_client {local})",
        local.ip(),
        local.port()
    );
    accept_loop(listener).await
}

/// The one optional argument, resolved to a socket address.
fn addr_from_args() -> Result<SocketAddr, String> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| DEFAULT_ADDR.to_string());
    if args.next().is_some() {
        return Err("usage: echo_server [ADDR]   (for example 127.0.0.1:7878)".to_string());
    }
    // Resolving here, once, before the runtime's work starts, is fine even though a host
    // name lookup blocks the thread; it also lets us tell a bad address (exit code 2)
    // from a good one we cannot listen on (exit code 1).
    let resolved = addr
        .to_socket_addrs()
        .map_err(|err| format!("bad address {addr:?}: {err}"))?
        .next();
    resolved.ok_or_else(|| format!("bad address {addr:?}: it resolves to no address"))
}

/// Accepts connections for ever, one task each.
async fn accept_loop(listener: TcpListener) -> ! {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                // The handle is dropped, which detaches the task: the connection is served
                // while this loop goes back to `accept`.
                task::spawn(serve_connection(stream, peer));
            }
            // Most accept errors are about the process, not the client: EMFILE/ENFILE (out
            // of file descriptors) or ENOBUFS/ENOMEM. They persist until some connection
            // closes, and the listener stays readable meanwhile, so accepting again at once
            // would fail again at once: the loop would spin at 100% CPU, and on this
            // cooperative runtime it would also crowd out the connection tasks whose
            // closing would fix the problem. So wait a little, letting them run.
            Err(err) => {
                eprintln!(
                    "accept failed: {err} (retrying in {} ms)",
                    ACCEPT_BACKOFF.as_millis()
                );
                time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Serves one client until it closes the connection, and says how it went.
async fn serve_connection(stream: TcpStream, peer: SocketAddr) {
    println!("{peer}: connected");
    match echo_until_closed(stream).await {
        Ok(bytes) => println!("{peer}: closed after {bytes} bytes echoed"),
        // The client vanished without closing properly (killed, or its network went away):
        // a normal event for a server, only this connection is affected.
        Err(err) if is_disconnect(&err) => println!("{peer}: dropped by the client ({err})"),
        // Anything else is unexpected; still only this connection's problem, so the task
        // reports it and ends, and the server carries on.
        Err(err) => eprintln!("{peer}: error: {err}"),
    }
}

/// Copies what arrives back to the sender until EOF; returns the number of bytes echoed.
/// (`asincrono::io::copy` on the two halves of `into_split` would do the same; the loop is
/// written out to show the steps.)
async fn echo_until_closed(mut stream: TcpStream) -> io::Result<u64> {
    let mut buffer = vec![0u8; 4096];
    let mut echoed = 0u64;
    loop {
        // `read` returns as soon as *some* bytes are there, whatever their number.
        let received = stream.read(&mut buffer).await?;
        if received == 0 {
            // EOF: the client shut down its sending side and will send nothing more.
            return Ok(echoed);
        }
        // `write_all`, not `write`: a single write may accept only part of the bytes.
        stream.write_all(&buffer[..received]).await?;
        echoed += received as u64;
    }
}

fn is_disconnect(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::ConnectionAborted
    )
}
