//! Graceful shutdown, shared by the example servers (`http_server`, `kv_server`,
//! `chat_server` include this file with `#[path]`; it is not an example of its own). The
//! `console` example includes it too, for [`Shutdown`] alone: its `quit` stops the jobs.
//!
//! On the first Ctrl-C (`SIGINT`) or `SIGTERM` a server stops accepting, lets the work in
//! flight finish for at most [`GRACE`], says what it did, and exits 0. A second signal
//! exits at once (status 130, as a shell reports a process ended by Ctrl-C).
//!
//! The pieces:
//!
//! * [`Shutdown`] is what the server's tasks share: a `watch` channel that turns `true` when
//!   shutdown begins, and another that counts the work in flight. Each connection holds an
//!   [`InFlight`] (from [`Shutdown::track`]) for as long as it runs.
//! * Between two requests a connection waits with [`Shutdown::unless_stopping`]: the read
//!   if it finishes, `None` once shutdown has begun. A request already being received or
//!   answered is not interrupted.
//! * [`run_until_signal`] is the server's `main` after binding: it runs the accept loop, waits
//!   for the signal, and drains.
//!
//! tokio has the same building blocks (`signal::ctrl_c`, `watch`, `select!`); `tokio-util`
//! adds a `CancellationToken` and a `TaskTracker`, which is what `Shutdown` is a small
//! version of.

use asincrono::signal::unix::{Signal, SignalKind, signal};
use asincrono::sync::watch;
use asincrono::time;
use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// How long the work in flight may take to finish once shutdown has begun.
pub const GRACE: Duration = Duration::from_secs(5);

/// The exit status after a second signal: 128 + SIGINT, what a shell shows for Ctrl-C.
const EXIT_AT_ONCE: i32 = 130;

/// Shared by a server's tasks: whether shutdown has begun, and how much work is in flight.
#[derive(Clone)]
pub struct Shutdown {
    /// `true` once shutdown has begun.
    stopping: Arc<watch::Sender<bool>>,
    /// How many `InFlight`s are alive.
    in_flight: Arc<watch::Sender<usize>>,
}

/// One piece of work in flight (a connection); dropping it says the work is over.
pub struct InFlight(Arc<watch::Sender<usize>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|count| *count -= 1);
    }
}

impl Default for Shutdown {
    fn default() -> Shutdown {
        Shutdown {
            stopping: Arc::new(watch::Sender::new(false)),
            in_flight: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Shutdown {
    /// Counts one more piece of work in flight, until the returned guard is dropped.
    pub fn track(&self) -> InFlight {
        self.in_flight.send_modify(|count| *count += 1);
        InFlight(self.in_flight.clone())
    }

    /// Begins shutdown: every `stopping`/`unless_stopping` ends.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Whether shutdown has begun.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Resolves once shutdown has begun.
    pub async fn stopping(&self) {
        // Cannot fail: `self` holds the sender.
        let _ = self
            .stopping
            .subscribe()
            .wait_for(|stopping| *stopping)
            .await;
    }

    /// `work`'s output, or `None` if shutdown begins first (or has begun). `work` is polled
    /// first (`biased`), so work that is ready when shutdown begins still counts: bytes a
    /// client sent before the signal are read, not dropped.
    pub async fn unless_stopping<F: Future>(&self, work: F) -> Option<F::Output> {
        asincrono::select! {
            biased;
            output = work => Some(output),
            () = self.stopping() => None,
        }
    }

    /// How many pieces of work are in flight now.
    pub fn in_flight(&self) -> usize {
        *self.in_flight.borrow()
    }

    /// Resolves once nothing is in flight.
    async fn drained(&self) {
        let _ = self
            .in_flight
            .subscribe()
            .wait_for(|count| *count == 0)
            .await;
    }
}

// ANCHOR: run_until_signal
/// Runs `serve` (an accept loop that returns once `shutdown` is stopping) until the first
/// `SIGINT` or `SIGTERM`, then stops, gives the work in flight up to [`GRACE`] to finish, and
/// reports. `name` starts each line printed.
pub async fn run_until_signal<F>(name: &'static str, shutdown: Shutdown, serve: F) -> ExitCode
where
    F: Future<Output = ()> + Send + 'static,
{
    let (mut interrupt, mut terminate) = match listeners() {
        Ok(listeners) => listeners,
        Err(err) => {
            eprintln!("{name}: cannot listen for signals: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut server = asincrono::spawn(serve);
    let which = asincrono::select! {
        which = first_of(&mut interrupt, &mut terminate) => which,
        // The accept loop only ends once shutdown has begun: this is a panic in it.
        ended = &mut server => {
            eprintln!("{name}: the server stopped on its own: {ended:?}");
            return ExitCode::FAILURE;
        }
    };
    // Counted and said before stopping: once stopped, connections start to finish.
    let at_stop = shutdown.in_flight();
    println!(
        "{name}: {which}: no longer accepting; finishing {at_stop} connection(s) \
         (at most {} s; {which} again to quit at once)",
        GRACE.as_secs()
    );
    shutdown.stop();
    // The same listeners, so that a signal arriving from now on is not missed.
    asincrono::spawn(async move {
        let again = first_of(&mut interrupt, &mut terminate).await;
        println!("{name}: {again} again: quitting at once");
        std::process::exit(EXIT_AT_ONCE);
    });
    let _ = server.await; // the accept loop sees `stopping` at once
    match time::timeout(GRACE, shutdown.drained()).await {
        Ok(()) => println!("{name}: all {at_stop} connection(s) finished; bye"),
        Err(_) => println!(
            "{name}: gave up on {} of {at_stop} connection(s) after {} s; bye",
            shutdown.in_flight(),
            GRACE.as_secs()
        ),
    }
    ExitCode::SUCCESS
}
// ANCHOR_END: run_until_signal

/// The two signals that mean "please stop".
fn listeners() -> std::io::Result<(Signal, Signal)> {
    Ok((
        signal(SignalKind::interrupt())?,
        signal(SignalKind::terminate())?,
    ))
}

/// Which of the two comes first, by name.
async fn first_of(interrupt: &mut Signal, terminate: &mut Signal) -> &'static str {
    asincrono::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    }
}

/// What a connection idle between two requests does when shutdown wins the race against its
/// read: `try_read`'s result, taken as a request (or a read error) that arrived meanwhile,
/// or `None` if nothing had (`WouldBlock`) or the client closed (0 bytes).
///
/// [`Shutdown::unless_stopping`] polls the read first, but the read only knows what the
/// reactor has reported: bytes the kernel received just before the signal may not have
/// been, if both events came in the same batch and the signal's was handled first. Closing
/// the connection then would drop a request its client sent before the signal. One direct
/// `try_read` asks the kernel itself.
#[allow(dead_code)] // only the servers that read requests (http_server, kv_server) use it
pub fn arrived_meanwhile(attempt: std::io::Result<usize>) -> Option<std::io::Result<usize>> {
    match attempt {
        Ok(0) => None,
        Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => None,
        other => Some(other),
    }
}
