//! The one piece of plumbing every `fs` call shares: run a blocking `std::fs` call on the
//! runtime's blocking pool and wait for it, with an error that names the operation and the
//! path (or both paths).
//!
//! Corner cut: one pool job per call, even for calls that take microseconds (`metadata` of a
//! cached inode). tokio does the same (its `asyncify`); batching several calls into one job
//! would need the caller to know them in advance, which an `async fn` per call cannot.

use crate::blocking::Mandatory;
use crate::executor::context;
use crate::util::with_context;
use std::io;
use std::path::Path;

/// Runs `job` on the current runtime's blocking pool and waits for it. `what` names the
/// caller in the error returned outside a runtime; a job that panicked or was cancelled
/// becomes an `io::Error` too.
pub(crate) async fn on_pool<T, F>(what: &str, mandatory: Mandatory, job: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let runtime = context::current_or_error(what)?;
    runtime.spawn_blocking(mandatory, job).await?
}

/// [`on_pool`] for an operation on `path`: the job gets its own copy of the path, and an
/// error names `verb` and the path ("open /tmp/x: …").
pub(crate) async fn on_path<T, F>(
    what: &str,
    verb: &'static str,
    path: &Path,
    mandatory: Mandatory,
    op: F,
) -> io::Result<T>
where
    F: FnOnce(&Path) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let path = path.to_path_buf();
    on_pool(what, mandatory, move || {
        op(&path).map_err(|err| with_context(err, verb, path.display()))
    })
    .await
}

/// [`on_pool`] for an operation on two paths (`rename`, `copy`, links): an error names
/// both, joined by `connector` ("rename /tmp/a to /tmp/b: …", "hard link /tmp/a as /tmp/b:
/// …"), since either one may be the cause.
pub(crate) async fn on_paths<T, F>(
    what: &str,
    verb: &'static str,
    from: &Path,
    connector: &'static str,
    to: &Path,
    mandatory: Mandatory,
    op: F,
) -> io::Result<T>
where
    F: FnOnce(&Path, &Path) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let (from, to) = (from.to_path_buf(), to.to_path_buf());
    on_pool(what, mandatory, move || {
        op(&from, &to).map_err(|err| {
            let both = format!("{} {connector} {}", from.display(), to.display());
            with_context(err, verb, both)
        })
    })
    .await
}
