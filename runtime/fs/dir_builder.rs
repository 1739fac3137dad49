//! `DirBuilder`: creating a directory with options (parents too, permission bits).
//!
//! It keeps the options as plain fields and builds a `std::fs::DirBuilder` inside the job,
//! because std's is not `Clone` and the job must own what it uses. tokio does the same.

use super::on_pool::on_path;
use crate::blocking::Mandatory;
use std::io;
use std::path::Path;

/// Creates directories with options: [`recursive`](DirBuilder::recursive) to create the
/// missing parents too, [`mode`](DirBuilder::mode) for the permission bits (Unix).
///
/// ```
/// use asincrono::fs::DirBuilder;
///
/// let dir = std::env::temp_dir().join(format!("asincrono-doc-dir-builder-{}", std::process::id()));
/// asincrono::block_on(async {
///     DirBuilder::new().recursive(true).create(dir.join("a/b")).await?;
///     assert!(asincrono::fs::metadata(dir.join("a/b")).await?.is_dir());
///     // Not recursive: the directory must not exist yet.
///     let again = DirBuilder::new().create(dir.join("a/b")).await.unwrap_err();
///     assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
///     asincrono::fs::remove_dir_all(&dir).await
/// })
/// .unwrap();
/// ```
#[derive(Clone, Debug, Default)]
pub struct DirBuilder {
    /// Whether to create the missing parents too (and accept a directory that exists).
    recursive: bool,
    /// The permission bits of the new directories (before the umask); `None`: the OS
    /// default, `0o777`.
    mode: Option<u32>,
}

impl DirBuilder {
    /// Options for a single directory whose parent exists, with the default permissions.
    pub fn new() -> DirBuilder {
        DirBuilder::default()
    }

    /// Whether to create the missing parents too. With `true`, a directory that already
    /// exists is not an error.
    pub fn recursive(&mut self, recursive: bool) -> &mut DirBuilder {
        self.recursive = recursive;
        self
    }

    /// The permission bits of each directory created (the process's umask still applies).
    pub fn mode(&mut self, mode: u32) -> &mut DirBuilder {
        self.mode = Some(mode);
        self
    }

    /// Creates the directory at `path` with these options.
    ///
    /// # Cancel safety
    /// Not safe: once polled, the directories are created even if the future is dropped.
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let options = self.clone();
        on_path(
            "asincrono::fs::DirBuilder::create",
            "create directory",
            path.as_ref(),
            Mandatory::Yes,
            move |path| options.to_std().create(path),
        )
        .await
    }

    /// std's builder with the same options.
    fn to_std(&self) -> std::fs::DirBuilder {
        let mut std = std::fs::DirBuilder::new();
        std.recursive(self.recursive);
        if let Some(mode) = self.mode {
            std::os::unix::fs::DirBuilderExt::mode(&mut std, mode);
        }
        std
    }
}
