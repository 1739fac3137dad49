//! Unix signals as streams: [`signal`] returns a [`Signal`] whose [`recv`](Signal::recv)
//! waits for the next delivery of one [`SignalKind`].
//!
//! A `Signal` holds its own duplicate of the self-pipe's reading end, registered with the
//! reactor of the runtime it was created in (see `registry.rs` for the whole path of a
//! signal). It works in that runtime only; in a runtime that has shut down, `recv` returns
//! `None`, as tokio's does.

use super::registry;
use crate::driver::Direction;
use crate::net::registered::Registered;
use mio::unix::pipe::Receiver;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read};
use std::task::{Context, Poll, ready};

/// A kind of signal, by its number: `SignalKind::interrupt()` is `SIGINT`, and so on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// Any signal, by number (`libc::SIGUSR1`, a real-time signal, …). Whether it can be
    /// listened for is checked by [`signal`].
    pub const fn from_raw(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    pub const fn as_raw_value(&self) -> libc::c_int {
        self.0
    }

    /// `SIGALRM`: a timer set with `alarm(2)` ran out.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGCHLD`: a child process stopped or ended.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGHUP`: the terminal went away; daemons often take it to mean "reload".
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGINT`: Ctrl-C in the terminal.
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGIO`: I/O is possible on a descriptor set up for it.
    pub const fn io() -> SignalKind {
        SignalKind(libc::SIGIO)
    }

    /// `SIGPIPE`: a write to a pipe or socket with no reader.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGQUIT`: Ctrl-\ in the terminal.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGTERM`: a polite request to end (what `kill PID` and service managers send).
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGUSR1`: means whatever the program says it means.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`: the same, a second one.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGWINCH`: the terminal window changed size.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<libc::c_int> for SignalKind {
    fn from(signum: libc::c_int) -> SignalKind {
        SignalKind::from_raw(signum)
    }
}

impl From<SignalKind> for libc::c_int {
    fn from(kind: SignalKind) -> libc::c_int {
        kind.as_raw_value()
    }
}

/// A listener for one kind of signal, from [`signal`].
///
/// Every `Signal` of a kind sees every delivery (several listeners do not share them out).
/// Deliveries that arrive while nobody looks are merged: ten `SIGUSR1`s before the next
/// `recv` make one. A delivery after [`signal`] returned is never lost, even if it comes
/// before the first `recv`.
pub struct Signal {
    /// The signal's number.
    signum: libc::c_int,
    /// The delivery count (see `registry.rs`) this listener has reported so far.
    seen: u64,
    /// This listener's duplicate of the self-pipe's reading end, on the reactor.
    pipe: Registered<Receiver>,
}

/// Starts listening for `kind`: installs the process-wide handler the first time (from then
/// on the signal's default action, such as ending the process on `SIGINT`, is gone for good),
/// and registers a way to be woken with the current runtime.
///
/// # Errors
/// Outside a runtime; for a number that is not a signal, or one that cannot or must not be
/// caught (`SIGKILL`, `SIGSTOP`, `SIGILL`, `SIGFPE`, `SIGSEGV`); if the pipe cannot be made.
///
/// ```
/// use asincrono::signal::unix::{SignalKind, signal};
///
/// asincrono::block_on(async {
///     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
///     // std cannot send a signal, so ask libc. SAFETY: `raise` only sends SIGUSR1 to this
// process, whose handler is installed now.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     assert_eq!(usr1.recv().await, Some(()));
/// });
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signum = kind.as_raw_value();
    let read_end = registry::listen(signum)?;
    // Whatever is in the pipe now arrived before this listener: count it for the listeners
    // that already exist, so that it is not later mistaken for one that is ours.
    registry::drain_now(&read_end);
    let seen = registry::count(signum);
    let pipe = Registered::new(read_end, "asincrono::signal::unix::signal")?;
    Ok(Signal { signum, seen, pipe })
}

impl Signal {
    /// Waits for the next delivery. `None` once no more can come: the runtime this listener
    /// was created in has shut down (a delivery counted before that is still reported first).
    ///
    /// Cancel-safe: dropping the future loses nothing; a delivery it would have reported is
    /// reported by the next `recv`.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    // ANCHOR: poll_recv
    /// `recv` as a poll function: `Ready(Some(()))` if the signal was delivered since the
    /// last `Ready`, otherwise `Pending` with `cx`'s waker stored twice, with the signal's
    /// waiters (woken by whichever listener reads the pipe) and on this listener's pipe (woken
    /// by the reactor when a byte arrives).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        loop {
            if registry::check_delivered(self.signum, &mut self.seen, cx.waker()) {
                return Poll::Ready(Some(()));
            }
            // Read the pipe until it is empty. A byte read means some signal arrived: count
            // it (for everyone) and look again. `WouldBlock` leaves the waker on the pipe.
            let read = ready!(self.pipe.poll_io(cx, Direction::Read, |mut read_end| {
                read_end.read(&mut [0u8; 64])
            }));
            match read {
                Ok(_) => registry::broadcast(),
                // The runtime has shut down: nothing will wake this listener again.
                Err(_) => return Poll::Ready(None),
            }
        }
    }
    // ANCHOR_END: poll_recv
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("signum", &self.signum)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}
