//! The signal handler itself, and the only `unsafe` code of [`signal`](crate::signal).
//!
//! A signal handler runs on whatever thread the kernel picks, in the middle of whatever that
//! thread was doing (maybe holding the allocator's lock). So it may only call functions that
//! are *async-signal-safe* (POSIX lists them: `write` is one, `malloc` and `Mutex::lock` are
//! not). Ours does two things, both on that list:
//!
//! 1. it stores `true` in the signal's `PENDING` flag (an atomic store: no lock, no memory);
//! 2. it `write`s one byte to the self-pipe, whose reading end the listeners have registered
//!    with their reactors: that byte is what wakes a runtime parked in `epoll_wait`.
//!
//! Everything else (counting deliveries, waking the listeners' tasks) happens later, on a
//! runtime thread, in `registry.rs`. The flag is stored *before* the byte is written, and a
//! reader clears the flags only *after* reading bytes, so a reader that got the byte always
//! sees the flag. If the pipe is full the `write` fails, which is fine: a full pipe means a
//! reader is already due to run, and it will find the flag.
//!
//! The handler is installed once per signal for the life of the process and never removed
//! (tokio does the same). From then on the signal's default action (for SIGINT and SIGTERM,
//! ending the process) no longer happens: the program has said it wants to handle it.
//! tokio installs its handlers through the `signal-hook-registry` crate, which also calls any
//! handler that was installed before; this one replaces it.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// One more than the largest signal number on Linux (`SIGRTMAX` is 64).
pub(crate) const SIGNAL_SLOTS: usize = 65;

/// Set by the handler, one per signal number: "this signal arrived, and nobody has counted it
/// yet". Cleared by `take_pending`.
static PENDING: [AtomicBool; SIGNAL_SLOTS] = [const { AtomicBool::new(false) }; SIGNAL_SLOTS];

/// The writing end of the self-pipe (non-blocking), or -1 before it exists. Set once, before
/// the first handler is installed, and never closed: a handler may run at any moment.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

/// Tells the handler where to write. Called once, before any `install`.
pub(crate) fn set_wake_fd(fd: RawFd) {
    WAKE_FD.store(fd, Ordering::SeqCst);
}

/// Whether `signum` arrived since the last call; clears the flag.
pub(crate) fn take_pending(signum: usize) -> bool {
    PENDING[signum].swap(false, Ordering::SeqCst)
}

// ANCHOR: handler
/// The handler: runs inside whatever code the signal interrupted. Only async-signal-safe
/// steps: an atomic store, a `write`, and saving and restoring `errno` (a `write` that fails
/// sets it, and the interrupted code may be about to read its own `errno`).
extern "C" fn on_signal(signum: libc::c_int) {
    if let Some(flag) = usize::try_from(signum).ok().and_then(|i| PENDING.get(i)) {
        flag.store(true, Ordering::SeqCst);
    }
    // SAFETY: `__errno_location` returns a pointer to this thread's `errno`, valid for the
    // thread's whole life; reading and writing an `int` through it is what C code does.
    let saved_errno = unsafe { *libc::__errno_location() };
    let byte = signum as u8; // any byte will do: the flags say which signal it was
    // SAFETY: `write` is async-signal-safe. The buffer is one byte on our own stack, and the
    // length says one. The fd is the pipe's writing end, which is never closed (see
    // `WAKE_FD`); if it were somehow -1, `write` would just fail with EBADF.
    let _ = unsafe { libc::write(WAKE_FD.load(Ordering::SeqCst), (&raw const byte).cast(), 1) };
    // SAFETY: as above, this thread's `errno`.
    unsafe { *libc::__errno_location() = saved_errno };
}
// ANCHOR_END: handler

/// Installs `on_signal` for `signum`, with `SA_RESTART` (so that a blocking `read` elsewhere
/// in the program is resumed rather than failing with `EINTR`).
pub(crate) fn install(signum: libc::c_int) -> io::Result<()> {
    // SAFETY: `sigaction` is a plain C struct for which all-zeroes is a valid value (no
    // handler, empty mask, no flags); every field we rely on is set below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa_mask` is a valid `sigset_t` inside `action`; `sigemptyset` only writes it.
    unsafe { libc::sigemptyset(&raw mut action.sa_mask) };
    // SAFETY: `action` is fully initialised and lives across the call; the old action is not
    // asked for (null). `on_signal` is an `extern "C" fn(c_int)` that only does
    // async-signal-safe things, which is what a handler installed without `SA_SIGINFO` must be.
    let result = unsafe { libc::sigaction(signum, &action, std::ptr::null_mut()) };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
