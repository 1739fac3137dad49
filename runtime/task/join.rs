//! `JoinHandle<T>`: the spawner's end of a task, and `JoinError`: why there is no output.
//!
//! **Dropping a `JoinHandle` detaches the task: it keeps running**, and its output is dropped
//! when it finishes. This is tokio's behaviour (and a frequent surprise for people who expect
//! drop to cancel): to stop a task, call [`JoinHandle::abort`].

use super::Id;
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// What an `AbortHandle` needs from a task, whatever the type of its future or output.
pub(crate) trait Abort: Send + Sync {
    /// Asks the task to stop (takes an owned reference: it may have to be queued).
    fn abort(self: Arc<Self>);
    /// Whether the task has completed (output ready, cancelled or panicked).
    fn is_finished(&self) -> bool;
    /// The task's id.
    fn id(&self) -> Id;
}

/// What a `JoinHandle<T>` needs from a task, whatever the type of its future.
pub(crate) trait Join<T>: Abort {
    /// Ready with the result once the task completed; otherwise registers the waker.
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>>;
    /// The handle is going away: nobody will read the output.
    fn drop_join_handle(&self);
    /// The same task, seen only as something to abort (for an `AbortHandle`).
    fn as_abort(self: Arc<Self>) -> Arc<dyn Abort>;
}

/// An owned permission to await a spawned task's output.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked or was aborted.
/// Dropping it **detaches** the task, which goes on running to completion.
///
/// ```
/// let answer = asincrono::block_on(async {
///     let handle = asincrono::spawn(async { 6 * 7 });
///     handle.await.expect("the task does not panic")
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct JoinHandle<T> {
    raw: Arc<dyn Join<T>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(raw: Arc<dyn Join<T>>) -> JoinHandle<T> {
        JoinHandle { raw }
    }

    // ANCHOR: join_handle_abort
    /// Asks the task to stop. A task that is waiting is dropped the next time the scheduler
    /// reaches it; a task being polled right now is dropped once that poll returns. A task
    /// that already finished keeps its output. Awaiting the handle then gives a `JoinError`
    /// for which [`JoinError::is_cancelled`] is true.
    pub fn abort(&self) {
        self.raw.clone().abort();
    }
    // ANCHOR_END: join_handle_abort

    /// Whether the task has finished: returned, panicked or been cancelled.
    pub fn is_finished(&self) -> bool {
        self.raw.is_finished()
    }

    /// The id of the task.
    pub fn id(&self) -> Id {
        self.raw.id()
    }

    /// A handle that can abort the task, and be cloned and kept, without the right to its
    /// output.
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle {
            raw: self.raw.clone().as_abort(),
        }
    }
}

/// Aborts a task without owning its output (see [`JoinHandle::abort_handle`]). Dropping it
/// does nothing to the task.
#[derive(Clone)]
pub struct AbortHandle {
    raw: Arc<dyn Abort>,
}

impl AbortHandle {
    /// Asks the task to stop, as [`JoinHandle::abort`] does.
    pub fn abort(&self) {
        self.raw.clone().abort();
    }

    /// Whether the task has finished: returned, panicked or been cancelled.
    pub fn is_finished(&self) -> bool {
        self.raw.is_finished()
    }

    /// The id of the task.
    pub fn id(&self) -> Id {
        self.raw.id()
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .finish()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    /// Cancel-safety: dropping this future loses nothing; the task runs on, detached.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.raw.poll_join(cx)
    }
}

// ANCHOR: join_handle_drop
impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.raw.drop_join_handle();
    }
}
// ANCHOR_END: join_handle_drop

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .finish()
    }
}

/// Why a task gave no output: it was cancelled, or it panicked.
pub struct JoinError {
    id: Id,
    reason: Reason,
}

enum Reason {
    Cancelled,
    // The payload is `Send` but not `Sync`; the mutex makes `JoinError` `Sync`, so that it
    // converts into `Box<dyn Error + Send + Sync>` like any other error.
    Panic(Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError {
            id,
            reason: Reason::Cancelled,
        }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id,
            reason: Reason::Panic(Mutex::new(payload)),
        }
    }

    /// The task was aborted, or dropped because its runtime shut down.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.reason, Reason::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.reason, Reason::Panic(_))
    }

    /// The panic's payload, to re-raise it with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the task was cancelled rather than panicked (check [`JoinError::is_panic`] first,
    /// or use [`JoinError::try_into_panic`]).
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic().unwrap_or_else(|err| {
            panic!("into_panic called on a JoinError that is not a panic: {err}")
        })
    }

    /// The panic's payload, or the error itself if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.reason {
            Reason::Panic(payload) => Ok(payload.into_inner().unwrap_or_else(|e| e.into_inner())),
            Reason::Cancelled => Err(self),
        }
    }

    /// The id of the task that failed.
    pub fn id(&self) -> Id {
        self.id
    }
}

/// The message of a panic payload, when it is a string (as `panic!("...")` makes it).
fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Reason::Cancelled => write!(f, "task {} was cancelled", self.id),
            Reason::Panic(payload) => {
                let payload = crate::util::lock(payload);
                match panic_message(&**payload) {
                    Some(message) => {
                        write!(f, "task {} panicked with message {message:?}", self.id)
                    }
                    None => write!(f, "task {} panicked", self.id),
                }
            }
        }
    }
}

/// tokio's form, so that logs read the same on both runtimes:
/// `JoinError::Cancelled(Id(7))`, `JoinError::Panic(Id(7), "message", ...)`, or
/// `JoinError::Panic(Id(7), ...)` for a payload that is not a string.
impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Reason::Cancelled => write!(f, "JoinError::Cancelled({:?})", self.id),
            Reason::Panic(payload) => {
                let payload = crate::util::lock(payload);
                match panic_message(&**payload) {
                    Some(message) => {
                        write!(f, "JoinError::Panic({:?}, {message:?}, ...)", self.id)
                    }
                    None => write!(f, "JoinError::Panic({:?}, ...)", self.id),
                }
            }
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err)
    }
}
