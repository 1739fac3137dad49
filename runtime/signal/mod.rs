//! Signals: [`ctrl_c`] and, for any Unix signal, [`unix::signal`].
//!
//! A signal interrupts whatever thread the kernel picks, so its handler can do almost
//! nothing: ours sets a flag and writes one byte to a pipe (`handler.rs`). The pipe's reading
//! end is what the runtime can wait for: each listener registers a duplicate of it with its
//! reactor, so a byte wakes it out of `epoll_wait` like any socket would. Whichever listener
//! reads the pipe first counts the delivery for all of them (`registry.rs`), and each
//! listener reports it once (`unix.rs`).
//!
//! ```text
//!  SIGINT ─▶ handler: flag + byte ─▶ pipe ─▶ epoll_wait returns ─▶ a listener reads,
//!            (any thread, any time)                                   counts, wakes the rest
//! ```
//!
//! Corners cut: Unix only (Linux's signal numbers); a handler replaces any handler installed
//! before it instead of calling it too; and each listener costs a file descriptor (tokio's
//! driver registers the pipe once per runtime). Handlers stay installed for the life of the
//! process, as in tokio: once a program has listened for Ctrl-C, Ctrl-C no longer ends it,
//! even after the listener is dropped.

mod handler;
mod registry;
pub mod unix;

use std::io;

/// Waits for the next Ctrl-C (`SIGINT`).
///
/// The handler is installed when the returned future is first polled; a Ctrl-C before that
/// keeps its default effect (ending the process). A program that wants to react to several
/// should keep one [`unix::signal`] listener instead of calling this in a loop, which would
/// miss a Ctrl-C that comes between two calls.
///
/// # Errors
/// Outside a runtime, or if the handler or its pipe cannot be set up; also if the runtime
/// shuts down while waiting.
///
/// ```no_run
/// #[asincrono::main]
/// async fn main() {
///     println!("press Ctrl-C to stop");
///     asincrono::signal::ctrl_c().await.expect("listen for Ctrl-C");
///     println!("stopping");
/// }
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupt = unix::signal(unix::SignalKind::interrupt())?;
    match interrupt.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other(
            "the runtime shut down while waiting for Ctrl-C",
        )),
    }
}
