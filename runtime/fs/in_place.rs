//! `fs::read`'s fast path: a small file that the kernel already holds in its caches (every
//! name on its path in the dentry cache, its bytes in the page cache) is read in place, on
//! the task's own thread, with no trip to the blocking pool and back.
//!
//! A scheduler thread must never wait for a disk (see `mod.rs`), and Linux has calls that
//! promise not to:
//! - `openat2` with `RESOLVE_CACHED` (Linux 5.12) opens the file only if every step of the
//!   path can be looked up without reading a directory from disk; otherwise `EAGAIN`.
//!   The first open is `O_PATH`: a handle to look at, not to read, so opening a FIFO this
//!   way makes no one its reader (a reader that came and went would let a waiting writer
//!   through, to fail with `EPIPE`: a flake hunt found exactly that).
//! - `statx` with `AT_STATX_DONT_SYNC` reports the type and size the kernel has at hand,
//!   without asking a network file system's server. Only a regular file goes on, and is
//!   opened a second time, for reading (`O_NONBLOCK` still, in case it was swapped for a
//!   FIFO in between). No second `statx`: whatever was swapped in, the read below cannot
//!   take a stream's bytes, since a positional read of a FIFO, socket or terminal fails
//!   with `ESPIPE` (and of a directory with `EISDIR`), and that failure sends the read to
//!   the pool like any other.
//! - `preadv2` with `RWF_NOWAIT` (Linux 4.14) reads only what is in the page cache, and a
//!   file system that cannot promise that refuses the flag (`EOPNOTSUPP`).
//!
//! Anything short of complete success (`EAGAIN`, an older kernel's `ENOSYS`, a refused
//! flag, a file over [`IN_PLACE_MAX`] bytes, a missing file, any error at all) returns
//! `None`, and the caller goes to the pool as before. The pool repeats the whole read and
//! reports any error the usual way, so the fast path never answers with an error of its own.
//!
//! Why bother: a pool round trip is two thread hand-offs (a condvar wake of a pool thread,
//! then a task wake back), and for a small file those cost far more than the read itself
//! (chapter 7 measures an HTTP server's static file). Corners cut: only the whole-file reads
//! (`read`, `read_to_string`) try it; `File`, metadata and writes always use the pool. tokio
//! has no such path: every `tokio::fs` call is a `spawn_blocking`. io_uring does the same
//! thing inside the kernel: it first tries each read without blocking and hands it to a
//! worker thread only if that would block.

use std::ffi::CString;
use std::fs::File;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The largest file read in place. Even from the page cache, copying bytes takes the
/// scheduler thread's time; a larger file goes to the pool.
pub(crate) const IN_PLACE_MAX: usize = 64 * 1024;

/// The whole of the file at `path`, if the kernel's caches can give it without waiting.
pub(crate) fn read_if_cached(path: &Path) -> Option<Vec<u8>> {
    // Miri cannot make these system calls; under it, every read takes the pool's path.
    if cfg!(miri) {
        return None;
    }
    let probe = open_if_cached(path, libc::O_PATH)?;
    let size = regular_file_size(&probe)?;
    if size > IN_PLACE_MAX {
        return None;
    }
    let file = open_if_cached(path, libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY)?;
    read_all_if_cached(&file, size)
}

/// The kernel's `struct open_how` (linux/openat2.h). libc's version cannot be built field by
/// field (it is `#[non_exhaustive]`), so here is the same layout.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// Opens `path` with `flags` (and `O_CLOEXEC`) if every step of its lookup is in the
/// dentry cache.
fn open_if_cached(path: &Path, flags: libc::c_int) -> Option<File> {
    let path = CString::new(path.as_os_str().as_bytes()).ok()?;
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: libc::RESOLVE_CACHED,
    };
    // SAFETY: `path` is a NUL-terminated string and `how` an `open_how` in the kernel's
    // layout, both alive for the whole call; the size passed is `how`'s own, so the kernel
    // reads nothing beyond it. The call writes to no memory of ours.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            path.as_ptr(),
            &how as *const OpenHow,
            size_of::<OpenHow>(),
        )
    };
    let fd = i32::try_from(fd).ok().filter(|&fd| fd >= 0)?;
    // SAFETY: a non-negative result of `openat2` is a descriptor the kernel has just opened
    // for us, which nothing else owns; the `File` takes it over and closes it once.
    Some(unsafe { File::from_raw_fd(fd) })
}

/// The size of `file` if it is a regular file, from the attributes the kernel has at hand.
fn regular_file_size(file: &File) -> Option<usize> {
    let mut attributes = MaybeUninit::<libc::statx>::uninit();
    // SAFETY: `file` is an open descriptor, the empty path with `AT_EMPTY_PATH` names it,
    // and `attributes` is writable memory the size of a `statx`, which is all the kernel
    // writes to.
    let status = unsafe {
        libc::statx(
            file.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_STATX_DONT_SYNC,
            libc::STATX_TYPE | libc::STATX_SIZE,
            attributes.as_mut_ptr(),
        )
    };
    if status != 0 {
        return None;
    }
    // SAFETY: `statx` returned 0, so it has filled in the whole struct.
    let attributes = unsafe { attributes.assume_init() };
    let wanted = libc::STATX_TYPE | libc::STATX_SIZE;
    let is_regular = u32::from(attributes.stx_mode) & libc::S_IFMT == libc::S_IFREG;
    (attributes.stx_mask & wanted == wanted && is_regular)
        .then(|| usize::try_from(attributes.stx_size).ok())
        .flatten()
}

/// Reads `file` to its end with `RWF_NOWAIT`, expecting about `size` bytes; `None` as soon
/// as a read would wait, fails, or the file turns out larger than [`IN_PLACE_MAX`].
///
/// The end is found without a last read that returns 0: a read that leaves room unfilled
/// once `size` bytes are in has met the end. (With `RWF_NOWAIT` a short read may also mean
/// "the rest is not cached", but only past the `size` that `statx` reported: bytes a writer
/// added since. The file as `statx` saw it is a fair answer to a read racing a writer.)
fn read_all_if_cached(file: &File, size: usize) -> Option<Vec<u8>> {
    // One byte more than the size, so that a read which meets the end leaves room unfilled.
    let mut bytes: Vec<u8> = Vec::with_capacity(size + 1);
    loop {
        if bytes.len() == bytes.capacity() {
            bytes.reserve(4096); // the file grew since `statx`
        }
        let spare = bytes.spare_capacity_mut();
        let chunk = libc::iovec {
            iov_base: spare.as_mut_ptr().cast(),
            iov_len: spare.len(),
        };
        let offset = libc::off_t::try_from(bytes.len()).ok()?;
        // SAFETY: `chunk` describes the vector's spare capacity, memory we own and may
        // write, alive for the call; the kernel writes at most `iov_len` bytes there and
        // reads nothing else of ours.
        let read = unsafe { libc::preadv2(file.as_raw_fd(), &chunk, 1, offset, libc::RWF_NOWAIT) };
        let read = usize::try_from(read).ok()?; // negative: EAGAIN, EOPNOTSUPP, ESPIPE, ...
        if read == 0 {
            return Some(bytes);
        }
        // SAFETY: the kernel has just written `read` bytes, at most the spare capacity, at
        // the vector's end, so they are initialised.
        unsafe { bytes.set_len(bytes.len() + read) };
        if bytes.len() > IN_PLACE_MAX {
            return None;
        }
        if read < chunk.iov_len && bytes.len() >= size {
            return Some(bytes); // room left over: the end
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::OpenOptionsExt;

    #[test]
    fn a_small_cached_file_is_read_whole() {
        let path = std::env::temp_dir().join(format!("in-place-{}", std::process::id()));
        let contents: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        std::fs::write(&path, &contents).unwrap();
        let _ = std::fs::read(&path); // in the page cache for sure
        let read = read_if_cached(&path);
        std::fs::remove_file(&path).unwrap();
        // Some file systems refuse the flags (then `None` is right); none may give a wrong answer.
        if let Some(read) = read {
            assert_eq!(read, contents);
        }
    }

    #[test]
    fn a_fifo_swapped_in_after_the_check_gives_up_its_bytes_to_no_one() {
        // The race `read_if_cached` no longer checks for with a second `statx`: the path
        // became a FIFO between the two opens. The positional read fails (`ESPIPE`) and
        // takes nothing, so the bytes stay for the FIFO's real reader.
        let path = std::env::temp_dir().join(format!("in-place-fifo-{}", std::process::id()));
        let name = CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: `name` is a NUL-terminated path, alive for the call.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo");
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .unwrap();
        let mut writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        std::io::Write::write_all(&mut writer, b"for the real reader").unwrap();
        assert_eq!(
            read_all_if_cached(&reader, 0),
            None,
            "a FIFO is not read in place"
        );
        let mut left = String::new();
        drop(writer);
        std::io::Read::read_to_string(&mut &reader, &mut left).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(left, "for the real reader");
    }

    #[test]
    fn what_is_not_a_small_regular_file_is_left_to_the_pool() {
        let dir = std::env::temp_dir();
        assert_eq!(read_if_cached(&dir), None, "a directory");
        assert_eq!(
            read_if_cached(Path::new("/no/such/file")),
            None,
            "a missing file"
        );
        assert_eq!(read_if_cached(Path::new("/dev/zero")), None, "a device");
        assert_eq!(
            read_if_cached(Path::new("bad\0path")),
            None,
            "a NUL in the path"
        );
        let big = dir.join(format!("in-place-big-{}", std::process::id()));
        std::fs::write(&big, vec![7u8; IN_PLACE_MAX + 1]).unwrap();
        let read = read_if_cached(&big);
        std::fs::remove_file(&big).unwrap();
        assert_eq!(read, None, "a file over IN_PLACE_MAX");
    }
}
