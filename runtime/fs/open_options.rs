//! `OpenOptions`: how to open a file (read, write, append, create, …), with an async
//! `open`. A thin layer over `std::fs::OpenOptions`, which does the work on the pool.
//!
//! `File::open`, `File::create`, `File::create_new` and `File::options` are shortcuts for
//! these options, so they are written here.
//!
//! The one thing it adds is knowing whether opening may *change* the file system (create
//! or empty a file): such an open is a mandatory job, run even if the runtime shuts down
//! before it starts, like every job that changes something (see the [module doc](super)).

use super::File;
use super::on_pool::on_path;
use crate::blocking::Mandatory;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

impl File {
    /// Opens the file at `path` for reading.
    ///
    /// Errors keep the OS's kind (`NotFound`, `PermissionDenied`, …) and name the path.
    ///
    /// # Cancel safety
    /// Safe: dropping the future at most leaves the open to finish on the pool, and the file
    /// it opened is closed.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens the file at `path` for writing, creating it if it does not exist and emptying
    /// it if it does.
    ///
    /// # Cancel safety
    /// Not safe: once polled, the file is created (or emptied) even if the future is dropped.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Creates a new file at `path` and opens it for reading and writing; `AlreadyExists`
    /// if something is there already (even a dangling symbolic link), so two callers
    /// racing for one name cannot both win.
    ///
    /// # Cancel safety
    /// Not safe: once polled, the file is created even if the future is dropped.
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// Options for opening a file another way (append, create only if new, …): the same as
    /// [`OpenOptions::new`].
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }
}

/// How to open a file: `std::fs::OpenOptions`, with an async `open`.
///
/// ```
/// use asincrono::fs::OpenOptions;
/// use asincrono::io::AsyncWriteExt;
///
/// let path = std::env::temp_dir().join(format!("asincrono-doc-options-{}", std::process::id()));
/// asincrono::block_on(async {
///     for line in ["one\n", "two\n"] {
///         let mut log = OpenOptions::new().append(true).create(true).open(&path).await?;
///         log.write_all(line.as_bytes()).await?;
///         log.flush().await?;
///     }
///     assert_eq!(asincrono::fs::read_to_string(&path).await?, "one\ntwo\n");
///     asincrono::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// The options themselves.
    std: std::fs::OpenOptions,
    /// Whether opening may change the file system (create or truncate): then the job is
    /// mandatory, like every job that changes something.
    changes: bool,
}

impl OpenOptions {
    /// No access at all yet: set at least `read`, `write` or `append`.
    pub fn new() -> OpenOptions {
        OpenOptions {
            std: std::fs::OpenOptions::new(),
            changes: false,
        }
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.std.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.std.write(write);
        self
    }

    /// Open for appending: every write goes to the end of the file.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.std.append(append);
        self
    }

    /// Empty the file when opening it (needs `write`).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.std.truncate(truncate);
        self.changes |= truncate;
        self
    }

    /// Create the file if it does not exist (needs `write` or `append`).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.std.create(create);
        self.changes |= create;
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists (needs `write` or
    /// `append`; `create` and `truncate` are then ignored).
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.std.create_new(create_new);
        self.changes |= create_new;
        self
    }

    /// The permission bits of a file this creates (default `0o666`; the process's umask
    /// still applies).
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.std.mode(mode);
        self
    }

    /// Extra `open(2)` flags (`libc::O_NOFOLLOW`, …), or-ed into the ones the other options
    /// set. The access mode bits (`O_ACCMODE`) are ignored: `read`/`write` decide those.
    ///
    /// A flag may change the file system (`O_TMPFILE` creates a file), so with any custom
    /// flag the open is treated as one that changes something.
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        self.std.custom_flags(flags);
        self.changes |= flags != 0;
        self
    }

    /// Opens the file at `path` with these options.
    ///
    /// Errors keep the OS's kind and name the path: `NotFound` (no such file and no
    /// `create`), `AlreadyExists` (`create_new`), `InvalidInput` (no access mode set, or
    /// `truncate` without `write`), `PermissionDenied`, ….
    ///
    /// # Cancel safety
    /// Safe when the options change nothing (the opened file is closed). Otherwise not: once
    /// polled, the file is created or emptied even if the future is dropped.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let options = self.std.clone();
        let mandatory = if self.changes {
            Mandatory::Yes
        } else {
            Mandatory::No
        };
        let file = on_path(
            "asincrono::fs::OpenOptions::open",
            "open",
            path.as_ref(),
            mandatory,
            move |path| options.open(path),
        )
        .await?;
        Ok(File::from_std(file))
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

/// Options set up by blocking code. What they will do cannot be read back from std's type,
/// so an open with them is treated as one that may change the file system.
impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(std: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions { std, changes: true }
    }
}
