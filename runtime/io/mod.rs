//! Asynchronous byte streams: traits, helpers and buffered adapters.
//!
//! # Poll-based I/O in one paragraph
//!
//! A blocking `read` stops the whole thread until bytes arrive. An async
//! runtime cannot afford that: one thread runs many tasks, so a task that has
//! to wait must step aside. The traits in this module therefore never block.
//! Each one has a `poll_*` method that *tries* the operation once and answers
//! in one of two ways:
//!
//! * `Poll::Ready(result)`: the operation happened (or failed) right now;
//! * `Poll::Pending`: it cannot make progress yet. Before answering this, the
//!   implementation must arrange for `cx.waker()` to be woken once progress is
//!   possible (for a socket, the reactor does that when the OS reports it
//!   readable). The executor then polls the task again.
//!
//! A `Pending` answer also means "nothing happened": no bytes were read or
//! written. The helpers built on top rely on that promise.
//!
//! # The four traits
//!
//! | trait            | required method(s)            | std counterpart |
//! |------------------|-------------------------------|-----------------|
//! | [`AsyncRead`]    | `poll_read` (into a [`ReadBuf`]) | `Read`       |
//! | [`AsyncWrite`]   | `poll_write`                  | `Write`         |
//! | [`AsyncBufRead`] | `poll_fill_buf`, `consume`    | `BufRead`       |
//! | [`AsyncSeek`]    | `start_seek`, `poll_complete` | `Seek`          |
//!
//! The shapes are tokio's, method for method, so an implementation written for tokio
//! compiles here unchanged.
//!
//! Writing `poll_*` loops by hand is tedious, so each trait has an extension
//! trait ([`AsyncReadExt`], [`AsyncWriteExt`], [`AsyncBufReadExt`],
//! [`AsyncSeekExt`]) implemented for every type that has the base trait. Its
//! methods return futures you can `.await`, such as `reader.read(&mut buf)`.
//! Those futures are ordinary named structs with a `poll` method, not
//! `async fn`s: reading one is the best way to see what `.await` drives.
//!
//! # Why `poll_read` takes a `ReadBuf`
//!
//! A [`ReadBuf`] wraps the caller's buffer and tracks how much of it is filled and how
//! much is initialised, so a reader may write into *uninitialised* memory (a `Vec`'s spare
//! capacity) and the caller never has to zero a fresh buffer first; and so one buffer can
//! be filled by several reads in turn. A reader over a plain `&mut [u8]` still fits:
//! [`ReadBuf::initialize_unfilled`] zeroes what was never initialised, once, and hands out
//! a slice. `read_buf.rs` says more, and is the one file here with `unsafe` code.
//!
//! # `Pin` and `Unpin`
//!
//! The methods take `self: Pin<&mut Self>` so that a type which must not move
//! while it is being polled can still implement the traits. Every type that
//! this module implements them for is `Unpin` (moving it is harmless), which
//! lets the code turn `&mut T` into `Pin<&mut T>` with the safe `Pin::new`.
//! For the same reason the helpers here ask for `Unpin` wherever they hold a
//! `&mut` to the stream; in exchange, no file here but `read_buf.rs` contains
//! `unsafe` code (tokio projects pins instead).
//!
//! # Cancel safety
//!
//! Dropping a future before it completes is how async Rust cancels work (a
//! `select` that picked another branch, a timeout). A future is *cancel-safe*
//! if dropping it never loses data: whatever it consumed is still available to
//! the caller. Every future in this module documents what happens when it is
//! dropped half-way; in short:
//!
//! | future                              | if dropped before it finishes          |
//! |-------------------------------------|----------------------------------------|
//! | `read`, `write`, `flush`, `shutdown`| safe: nothing is lost                  |
//! | `Lines::next_line`                  | safe: the partial line stays in `Lines`|
//! | `read_to_end`, `read_until`         | safe: bytes so far are in your `Vec`   |
//! | `read_exact`                        | not safe: how many bytes arrived is lost|
//! | `read_to_string`, `read_line`       | not safe: the bytes read so far are lost|
//! | `write_all`                         | not safe: an unknown prefix was written|
//! | `copy`, `copy_bidirectional`        | not safe: a chunk may be read, unwritten|
//! | `copy_buf`                          | no byte lost, only the count           |
//! | `read_u8` … / `write_u8` …          | not safe, as `read_exact`/`write_all`  |
//! | `fill_buf`                          | safe: looking consumes nothing         |
//! | `seek`                              | the position may or may not have moved |

//!
//! # The standard streams
//!
//! [`stdin()`], [`stdout()`] and [`stderr()`] give async handles to the process's fds 0, 1
//! and 2. They block like files, so they do not go through the reactor either: output is
//! written by jobs on the runtime's blocking pool (`stdio.rs`), input is read by one
//! process-wide thread that no runtime waits for (`stdin.rs` says why).

// The claim above is enforced: the compiler rejects any `unsafe` in here, except in
// `read_buf.rs`, which allows it for itself.
#![deny(unsafe_code)]

mod buf_read;
mod buf_read_ext;
mod buf_reader;
mod buf_stream;
mod buf_writer;
mod chain;
mod copy;
mod copy_bidirectional;
mod copy_buf;
mod duplex;
mod empty;
mod fill_buf;
mod forward;
mod interest;
mod lines;
mod read;
mod read_buf;
mod read_ext;
mod read_int;
mod read_into_vec;
mod read_until;
mod ready;
mod repeat;
mod retry;
mod seek;
mod seek_ext;
mod simplex;
mod sink;
mod split;
mod stdin;
mod stdio;
mod take;
mod write;
mod write_ext;
mod write_int;

#[cfg(test)]
mod test_support;

pub use std::io::{Error, ErrorKind, Result, SeekFrom};

pub use buf_read::AsyncBufRead;
pub use buf_read_ext::{AsyncBufReadExt, ReadLine, ReadUntil};
pub use buf_reader::BufReader;
pub use buf_stream::BufStream;
pub use buf_writer::BufWriter;
pub use chain::Chain;
pub use copy::copy;
pub use copy_bidirectional::copy_bidirectional;
pub use copy_buf::copy_buf;
pub use duplex::{DuplexStream, duplex};
pub use empty::{Empty, empty};
pub use fill_buf::FillBuf;
pub use interest::Interest;
pub use lines::Lines;
pub use read::AsyncRead;
pub(crate) use read::read_into_unfilled;
pub use read_buf::ReadBuf;
pub use read_ext::{AsyncReadExt, Read, ReadExact, ReadToEnd, ReadToString};
pub use read_int::ReadNum;
pub use read_into_vec::ReadIntoVec;
pub use ready::Ready;
pub use repeat::{Repeat, repeat};
pub use seek::AsyncSeek;
pub use seek_ext::{AsyncSeekExt, Rewind, Seek};
pub use simplex::{SimplexStream, simplex};
pub use sink::{Sink, sink};
pub use split::{ReadHalf, WriteHalf, split};
pub use stdin::{Stdin, stdin};
pub use stdio::{Stderr, Stdout, stderr, stdout};
pub use take::Take;
pub use write::AsyncWrite;
pub use write_ext::{AsyncWriteExt, Flush, Shutdown, Write, WriteAll, WriteVectored};
pub use write_int::WriteNum;
