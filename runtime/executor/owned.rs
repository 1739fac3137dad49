//! The list of every live task a scheduler owns.
//!
//! A task waiting for I/O sits in no queue: only the waker inside the reactor points at it.
//! To drop every pending future when the runtime drops (and so close their sockets and break
//! the `task → waker → task` reference cycles), the scheduler must be able to find them all.
//! This list is how. Tasks remove themselves when they complete.

use crate::primitives::Mutex;
use crate::task::TaskRef;
use crate::util::lock;
use slab::Slab;

/// Every task spawned and not yet complete, keyed by slab index.
pub(crate) struct OwnedTasks {
    inner: Mutex<Inner>,
}

struct Inner {
    /// The live tasks; a task knows its own key (set by `bind`).
    tasks: Slab<TaskRef>,
    /// Set at shutdown: from then on `bind` refuses new tasks.
    closed: bool,
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks {
            inner: Mutex::new(Inner {
                tasks: Slab::new(),
                closed: false,
            }),
        }
    }

    /// Adds a new task. Returns `false` once the list is closed (the runtime is shutting
    /// down): the caller must then cancel the task instead of running it.
    pub(crate) fn bind(&self, task: &TaskRef) -> bool {
        let mut inner = lock(&self.inner);
        if inner.closed {
            return false;
        }
        let key = inner.tasks.insert(task.clone());
        // Set under the lock, so `remove` can never see the task before its key is known.
        task.set_owner_key(key);
        true
    }

    /// Forgets a completed task. Keys the list no longer holds are ignored: after
    /// `close_and_take`, tasks still complete and call this.
    pub(crate) fn remove(&self, key: usize) {
        let removed = lock(&self.inner).tasks.try_remove(key);
        // Dropped here, after the lock is released: it may be the last reference to the task.
        drop(removed);
    }

    /// Whether every task in the list has completed (a `LocalSet` awaits that).
    pub(crate) fn is_empty(&self) -> bool {
        lock(&self.inner).tasks.is_empty()
    }

    // ANCHOR: close_and_take
    /// Closes the list and hands out every task in it, so the caller can drop their futures
    /// **after** the lock is released (a future's destructor may wake or spawn tasks, which
    /// takes this lock again: holding it here would deadlock).
    pub(crate) fn close_and_take(&self) -> Vec<TaskRef> {
        let mut inner = lock(&self.inner);
        inner.closed = true;
        inner.tasks.drain().collect()
    }
    // ANCHOR_END: close_and_take
}
