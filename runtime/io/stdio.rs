//! [`Stdout`] and [`Stderr`]: the process's standard output and error, written on the
//! blocking pool.
//!
//! A write to a terminal or a pipe can block (the terminal is slow, the reader of the pipe
//! is not reading), and fds 1 and 2 are not ours to switch to non-blocking mode: the
//! change would be visible to every other user of the same open file, the parent shell
//! included. So, like a file, they are written by blocking jobs, through the same
//! machinery as [`fs::File`](crate::fs::File)'s write path (`blocking/offload.rs`): a write
//! copies the bytes (up to 1 MiB) into the handle's buffer, starts a job that writes and
//! flushes them, and returns at once; the next operation waits for that job.
//!
//! **Output is complete when `flush` returns** (or, when the handle is dropped, once the
//! job finishes: it is mandatory, so it runs even if the runtime shuts down first; its
//! error is then lost). Each job writes its chunk under `std`'s lock on the stream, so
//! chunks from different handles do not cut into one another, but separate `write` calls
//! from separate handles may alternate.

use crate::blocking::offload::{self, Offloaded};
use crate::executor::context::current_or_error;
use crate::io::AsyncWrite;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Declares one standard stream: the public type, its `AsyncWrite` and `Debug`. Standard
/// output and standard error work the same way and differ only in the `std` stream
/// underneath, so they are written once, here.
macro_rules! standard_stream {
    ($(#[$doc:meta])* $name:ident wraps $std:ty, named $what:literal) => {
        $(#[$doc])*
        pub struct $name {
            /// The stream, its buffer and the write in flight.
            inner: Offloaded<$std>,
        }

        /// Writes return as soon as the bytes are copied; `flush` waits for them to be
        /// written.
        ///
        /// # Cancel safety
        /// `write` and `flush` are cancel-safe: `write` is `Pending` only while it waits for
        /// the previous job, having accepted nothing; dropping `flush` leaves the job running
        /// (its error goes to the next operation).
        impl AsyncWrite for $name {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                src: &[u8],
            ) -> Poll<io::Result<usize>> {
                // A job's write: the whole chunk under `std`'s lock on the stream (so that it
                // goes out in one piece), then `std`'s own buffer flushed. The third argument
                // (bytes read ahead) is always 0: nothing reads from these streams.
                self.get_mut().inner.poll_write(cx, src, || current_or_error($what), |stream, bytes, _| {
                    offload::write_all_and_flush(stream.lock(), bytes)
                })
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().inner.poll_flush(cx)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

standard_stream! {
    /// The process's standard output, for async code; from [`stdout()`].
    ///
    /// ```
    /// use asincrono::io::AsyncWriteExt;
    ///
    /// asincrono::block_on(async {
    ///     let mut out = asincrono::io::stdout();
    ///     out.write_all(b"hello from a blocking-pool thread\n").await?;
    ///     out.flush().await // the line is out only now
    /// })
    /// .unwrap();
    /// ```
    Stdout wraps io::Stdout, named "asincrono::io::Stdout"
}

standard_stream! {
    /// The process's standard error, for async code; from [`stderr()`]. Works like
    /// [`Stdout`].
    Stderr wraps io::Stderr, named "asincrono::io::Stderr"
}

/// A handle to the process's standard output. Each call makes a new handle with its own
/// buffer; all of them write to the same fd 1.
pub fn stdout() -> Stdout {
    Stdout {
        inner: Offloaded::new(io::stdout()),
    }
}

/// A handle to the process's standard error; see [`stdout()`].
pub fn stderr() -> Stderr {
    Stderr {
        inner: Offloaded::new(io::stderr()),
    }
}
