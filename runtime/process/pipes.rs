//! A child's standard streams as async I/O: [`ChildStdin`] ([`AsyncWrite`]), and
//! [`ChildStdout`] and [`ChildStderr`] ([`AsyncRead`]).
//!
//! A pipe is a file descriptor epoll can watch, like a socket. std hands us blocking ones;
//! each is turned into a mio pipe end, switched to non-blocking mode and registered with the
//! reactor, and from then on reads and writes go through the same retry-until-`WouldBlock`
//! loop as TCP (`net/registered.rs`). The three types are thin wrappers over the two
//! functions at the end of this file. tokio does the same, through its `PollEvented`.
//!
//! End of stream: a read returns 0 once the child (and every process it passed the pipe to)
//! has closed its end. Dropping a `ChildStdin` closes ours, which is how the child learns
//! that its input is over.

use crate::driver::Direction;
use crate::io::{AsyncRead, AsyncWrite, ReadBuf};
use crate::net::registered::Registered;
use mio::unix::pipe::{Receiver, Sender};
use std::fmt;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::process;
use std::task::{Context, Poll};

/// The child's standard input: write to it; drop it to close it.
pub struct ChildStdin(Registered<Sender>);

/// The child's standard output: read from it.
pub struct ChildStdout(Registered<Receiver>);

/// The child's standard error: read from it.
pub struct ChildStderr(Registered<Receiver>);

impl ChildStdin {
    /// Takes over a std `ChildStdin`, registering it with the current runtime.
    ///
    /// # Errors
    /// Outside a runtime, or if it cannot be made non-blocking or registered.
    pub fn from_std(stdin: process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin(register(
            Sender::from(stdin),
            Sender::set_nonblocking,
        )?))
    }
}

impl ChildStdout {
    /// Takes over a std `ChildStdout`, registering it with the current runtime.
    ///
    /// # Errors
    /// Outside a runtime, or if it cannot be made non-blocking or registered.
    pub fn from_std(stdout: process::ChildStdout) -> io::Result<ChildStdout> {
        Ok(ChildStdout(register(
            Receiver::from(stdout),
            Receiver::set_nonblocking,
        )?))
    }
}

impl ChildStderr {
    /// Takes over a std `ChildStderr`, registering it with the current runtime.
    ///
    /// # Errors
    /// Outside a runtime, or if it cannot be made non-blocking or registered.
    pub fn from_std(stderr: process::ChildStderr) -> io::Result<ChildStderr> {
        Ok(ChildStderr(register(
            Receiver::from(stderr),
            Receiver::set_nonblocking,
        )?))
    }
}

/// Switches a pipe end to non-blocking mode (std creates them blocking) and registers it.
fn register<S: mio::event::Source>(
    end: S,
    set_nonblocking: fn(&S, bool) -> io::Result<()>,
) -> io::Result<Registered<S>> {
    set_nonblocking(&end, true)?;
    Registered::new(end, "asincrono::process::Command::spawn")
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        write_pipe(&self.0, cx, buf)
    }
}

impl AsyncRead for ChildStdout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        read_pipe(&self.0, cx, buf)
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        read_pipe(&self.0, cx, buf)
    }
}

// ANCHOR: pipe_io
/// One read from a registered pipe into the unfilled part of `buf`: what both readers do.
fn read_pipe(
    pipe: &Registered<Receiver>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    pipe.poll_read(cx, buf)
}

/// One write to a registered pipe. A child that has closed its input makes this fail with
/// `BrokenPipe` (Rust programs ignore `SIGPIPE`, so it is an error, not a signal).
fn write_pipe(
    pipe: &Registered<Sender>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    pipe.poll_io(cx, Direction::Write, |mut end| end.write(buf))
}
// ANCHOR_END: pipe_io

/// The file descriptor of each pipe end, as std's types give theirs.
macro_rules! pipe_fd {
    ($($name:ident),*) => {$(
        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.0.get_ref().as_raw_fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.0.get_ref().as_fd()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.as_raw_fd()).finish()
            }
        }
    )*};
}

pipe_fd!(ChildStdin, ChildStdout, ChildStderr);
