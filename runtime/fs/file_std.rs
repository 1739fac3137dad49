//! `File` and std's file: wrapping one (`from_std`, `From`), getting it back (`into_std`,
//! `try_into_std`), a second handle to the same open file (`try_clone`), and the raw
//! descriptor (`AsRawFd`, `AsFd`, `FromRawFd`, `From<OwnedFd>`).
//!
//! Getting std's file back keeps the `File`'s buffering rule: bytes read ahead into the
//! buffer and not handed out are given back to the file, by moving the OS position back
//! over them, so that std's file continues where the async reader stopped. tokio does not
//! do this (its position is then past those bytes); it matters only after a read whose
//! future was dropped, the one way bytes are left over.
//!
//! The one `unsafe` here is `FromRawFd::from_raw_fd`, an `unsafe fn` by the trait's
//! definition: it forwards its caller's promise to std's own `from_raw_fd`.

use super::File;
use super::file::{SeekState, step_back};
use crate::blocking::Mandatory;
use crate::blocking::offload::Offloaded;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

impl File {
    /// Wraps a file opened by blocking code. Its position is where the async reads and
    /// writes start.
    pub fn from_std(file: std::fs::File) -> File {
        File {
            inner: Offloaded::new(file),
            seek: SeekState::Idle,
        }
    }

    /// A second `File` on the same open file (`dup(2)`): the two share the position and
    /// the flags, and the new one has the same [`max_buf_size`](File::max_buf_size).
    ///
    /// It does not wait for a write in flight on `self` (tokio's does), so a write through
    /// the clone may land before it: `flush` first when the order matters.
    ///
    /// # Cancel safety
    /// Safe: a descriptor duplicated by a dropped call is closed.
    pub async fn try_clone(&self) -> io::Result<File> {
        let std = self
            .on_handle("asincrono::fs::File::try_clone", Mandatory::No, |file| {
                file.try_clone()
            })
            .await?;
        let mut clone = File::from_std(std);
        clone.set_max_buf_size(self.max_buf_size());
        Ok(clone)
    }

    /// Waits for the operation in flight, then gives back std's file, positioned where the
    /// async reads and writes stopped.
    ///
    /// The error of a write still in flight has nowhere to go (this returns no `Result`,
    /// as in tokio): `flush` first when it matters.
    ///
    /// # Cancel safety
    /// Safe in that nothing is lost, but the `File` is gone with the future.
    pub async fn into_std(mut self) -> std::fs::File {
        // The error, if any, is the one the doc says is lost.
        let _ = poll_fn(|cx| self.inner.poll_finish(cx)).await;
        let mut inner = self.inner;
        loop {
            match inner.try_into_parts() {
                Ok((file, buffer)) => return hand_back(file, buffer.len()),
                // A `metadata` (or similar) job whose future was dropped still holds the
                // file: give back a duplicate, which shares the position; the original
                // descriptor closes when that job ends.
                Err(mut shared) => {
                    if let Ok(duplicate) = shared.handle().try_clone() {
                        return hand_back(duplicate, shared.idle_buffer().len());
                    }
                    // Out of descriptors: wait for the job to let go (it is short).
                    inner = shared;
                    crate::task::yield_now().await;
                }
            }
        }
    }

    /// std's file at once, if no operation is in flight (the one that would hold it) and
    /// no seek was started; otherwise the `File` back, unchanged.
    pub fn try_into_std(self) -> Result<std::fs::File, File> {
        if self.seek != SeekState::Idle {
            return Err(self); // a seek between `start_seek` and `poll_complete` counts as busy
        }
        match self.inner.try_into_parts() {
            Ok((file, buffer)) => Ok(hand_back(file, buffer.len())),
            Err(inner) => Err(File {
                inner,
                seek: SeekState::Idle,
            }),
        }
    }
}

/// std's file, moved back over the `unread` bytes read ahead.
///
/// This `lseek` runs on the calling thread, not the pool: relative to the current position,
/// it only changes a number in the kernel and never waits for the disk or a network server.
/// It fails only on a file that cannot seek (a pipe opened by its path), where those bytes
/// are gone whatever we do, so the error is dropped.
fn hand_back(file: std::fs::File, unread: usize) -> std::fs::File {
    let _ = step_back(&file, unread);
    file
}

impl From<std::fs::File> for File {
    fn from(file: std::fs::File) -> File {
        File::from_std(file)
    }
}

impl From<OwnedFd> for File {
    fn from(fd: OwnedFd) -> File {
        File::from_std(std::fs::File::from(fd))
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.handle().as_raw_fd()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.handle().as_fd()
    }
}

#[allow(unsafe_code)] // the trait's method is `unsafe fn`; see the module doc
impl FromRawFd for File {
    unsafe fn from_raw_fd(fd: RawFd) -> File {
        // SAFETY: our caller promises what std's `from_raw_fd` requires (`fd` is an open
        // descriptor, and nothing else will close or use it as its owner); we pass that same
        // `fd` on and make no other use of it.
        File::from_std(unsafe { std::fs::File::from_raw_fd(fd) })
    }
}
