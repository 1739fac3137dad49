//! The process-wide half of signals: the self-pipe, which signals have a handler, and for
//! each signal how many deliveries have been counted and who is waiting for the next one.
//!
//! Signals belong to the process, not to a runtime, so this state is in statics that outlive
//! every runtime: a runtime dropped and built again finds the handlers and the pipe where it
//! left them. What belongs to a runtime is only each listener's registration of the pipe's
//! reading end with that runtime's reactor (in `unix.rs`).
//!
//! ```text
//!  kernel ─▶ on_signal: PENDING[sig] = true; write(pipe, 1 byte)          (handler.rs)
//!               │ the byte makes the pipe readable: every listener's reactor wakes it
//!               ▼
//!  a listener's poll_recv reads the pipe, then `broadcast()`:              (this file)
//!      for each signal whose PENDING flag it takes: count += 1, wake every waiter
//!               ▼
//!  every listener compares the count with the one it saw last: bigger means "delivered"
//! ```
//!
//! Several listeners of one signal all see a delivery, because a delivery is a count that
//! each compares with its own, not a message that the first reader takes away. Deliveries
//! that arrive faster than a listener looks are merged into one, as in tokio (and as the
//! kernel itself merges a signal that arrives while it is already pending).
//!
//! tokio keeps the same shape (a handler that sets a flag and writes to a pipe, a `watch`
//! channel per signal), with one difference: each runtime's driver registers the pipe once
//! and broadcasts from its own loop, where asincrono gives each listener its own duplicate of
//! the reading end (one file descriptor per `Signal`) and lets whichever listener runs first
//! broadcast, so that the driver needs no signal code at all.

use super::handler::{self, SIGNAL_SLOTS};
use crate::util::lock;
use mio::unix::pipe::{self, Receiver, Sender};
use std::io::{self, Read};
use std::mem::take;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Mutex;
use std::task::Waker;

/// What is known about one signal number.
struct Slot {
    /// Whether our handler is installed for it (set once, never cleared).
    installed: Mutex<bool>,
    /// Deliveries counted so far, and the listeners waiting for the next one.
    deliveries: Mutex<Deliveries>,
}

#[derive(Default)]
struct Deliveries {
    /// How many times the signal has been counted as delivered since the process started.
    count: u64,
    /// Listeners waiting for `count` to grow; all woken (and forgotten) when it does.
    waiters: Vec<Waker>,
}

static SLOTS: [Slot; SIGNAL_SLOTS] = [const {
    Slot {
        installed: Mutex::new(false),
        deliveries: Mutex::new(Deliveries {
            count: 0,
            waiters: Vec::new(),
        }),
    }
}; SIGNAL_SLOTS];

/// The self-pipe: created on the first `signal()`, then kept for the life of the process
/// (the handler may write to it at any moment).
struct SelfPipe {
    /// Never read here: kept so that its fd, which the handler writes to, stays open.
    _sender: Sender,
    /// The original reading end; each listener gets a duplicate of it.
    receiver: Receiver,
}

static PIPE: Mutex<Option<&'static SelfPipe>> = Mutex::new(None);

/// Signals that cannot be caught (`SIGKILL`, `SIGSTOP`), or that mean the program itself
/// went wrong, where carrying on after a handler returns would run on broken state. tokio
/// refuses the same list.
const FORBIDDEN: [libc::c_int; 5] = [
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGSEGV,
];

/// Makes sure the handler for `signum` is installed and returns a new duplicate of the pipe's
/// reading end, for a listener to register with its reactor.
pub(crate) fn listen(signum: libc::c_int) -> io::Result<Receiver> {
    let index = slot_index(signum)?;
    let pipe = self_pipe()?;
    {
        let mut installed = lock(&SLOTS[index].installed);
        if !*installed {
            handler::install(signum)?;
            *installed = true;
        }
    }
    // `dup` with close-on-exec; the duplicate shares the original's non-blocking mode.
    let read_end: OwnedFd = pipe.receiver.as_fd().try_clone_to_owned()?;
    Ok(Receiver::from(read_end))
}

/// The slot of `signum`, or the error that says why it cannot be listened for.
fn slot_index(signum: libc::c_int) -> io::Result<usize> {
    if FORBIDDEN.contains(&signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "signal {signum} cannot be listened for (SIGKILL, SIGSTOP, SIGILL, SIGFPE and SIGSEGV are refused)"
            ),
        ));
    }
    match usize::try_from(signum) {
        Ok(index @ 1..SIGNAL_SLOTS) => Ok(index),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{signum} is not a signal number (they go from 1 to {})",
                SIGNAL_SLOTS - 1
            ),
        )),
    }
}

/// The pipe, created on first use (and again on a later call if creating it failed).
fn self_pipe() -> io::Result<&'static SelfPipe> {
    let mut slot = lock(&PIPE);
    if let Some(pipe) = *slot {
        return Ok(pipe);
    }
    // Both ends non-blocking and close-on-exec: a handler must never block in `write`, and a
    // child process has no business with our pipe.
    let (sender, receiver) = pipe::new()?;
    handler::set_wake_fd(sender.as_raw_fd());
    // Leaked on purpose: it must outlive every handler call, that is, the process.
    let pipe: &'static SelfPipe = Box::leak(Box::new(SelfPipe {
        _sender: sender,
        receiver,
    }));
    *slot = Some(pipe);
    Ok(pipe)
}

/// Reads whatever bytes wait in the pipe through `read_end` without waiting, then counts
/// every pending signal: used when a listener starts, so that an old byte is not taken later
/// for a delivery the new listener should see.
pub(crate) fn drain_now(mut read_end: &Receiver) {
    let mut bytes = [0u8; 64];
    // Stops at `WouldBlock` (empty) or any error; the pipe is never closed, so no EOF.
    while matches!(read_end.read(&mut bytes), Ok(n) if n > 0) {}
    broadcast();
}

// ANCHOR: broadcast
/// Counts one delivery for every signal whose flag the handler has set since the last call,
/// and wakes its listeners. Called after reading bytes from the pipe: the handler sets the
/// flag before it writes the byte, so every byte read has its flag set by now.
pub(crate) fn broadcast() {
    for (signum, slot) in SLOTS.iter().enumerate().skip(1) {
        if !handler::take_pending(signum) {
            continue;
        }
        let waiters = {
            let mut deliveries = lock(&slot.deliveries);
            deliveries.count += 1;
            take(&mut deliveries.waiters)
        };
        // Woken after the lock is released: a waker may run arbitrary code.
        waiters.into_iter().for_each(Waker::wake);
    }
}
// ANCHOR_END: broadcast

/// How many deliveries of `signum` have been counted so far.
pub(crate) fn count(signum: libc::c_int) -> u64 {
    slot_index(signum).map_or(0, |index| lock(&SLOTS[index].deliveries).count)
}

/// Whether `signum` was delivered since the listener saw `seen` (then `seen` is moved up);
/// if not, `waker` is stored, to be woken by the next `broadcast` that counts it.
pub(crate) fn check_delivered(signum: libc::c_int, seen: &mut u64, waker: &Waker) -> bool {
    let Ok(index) = slot_index(signum) else {
        return false;
    };
    let mut deliveries = lock(&SLOTS[index].deliveries);
    if deliveries.count != *seen {
        *seen = deliveries.count;
        return true;
    }
    // Waker contract: we report "not yet", so the waker must be where `broadcast` looks, and
    // it is stored under the lock `broadcast` takes to count: no delivery can slip between.
    if !deliveries.waiters.iter().any(|w| w.will_wake(waker)) {
        deliveries.waiters.push(waker.clone());
    }
    false
}
