//! The two system calls std does not offer for a child process, and the only `unsafe` code of
//! [`process`](crate::process): opening a pidfd, and waiting for an exit without reaping it.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// `pidfd_open(2)` (Linux 5.3 and later): a file descriptor that refers to the process `pid`
/// and becomes readable when it exits. Close-on-exec, always.
///
/// The pid must be our unreaped child: until we reap it the kernel cannot give its number to
/// another process, so the fd is sure to be about the right one.
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    // SAFETY: `pidfd_open` takes a pid and a flags word (0: none) and returns a new fd or -1;
    // it reads and writes no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = libc::c_int::try_from(fd).map_err(io::Error::other)?;
    // SAFETY: the kernel has just given us `fd`, open, and nobody else owns it: `OwnedFd`
    // becomes its only owner and closes it once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Blocks until the child `pid` has exited, and leaves it unreaped (`WNOWAIT`): the caller
/// still reaps it with std's `try_wait`, so the pid stays ours until then. For the blocking
/// pool, when there is no pidfd.
pub(crate) fn wait_for_exit_unreaped(pid: u32) -> io::Result<()> {
    let pid = libc::id_t::from(pid);
    loop {
        // SAFETY: all-zeroes is a valid `siginfo_t` (a plain C struct), and the kernel only
        // writes it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid, writable `siginfo_t` that lives across the call; the
        // other arguments are plain integers.
        let result =
            unsafe { libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if result == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        // A signal handler ran meanwhile (ours uses SA_RESTART, others may not): wait again.
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}
