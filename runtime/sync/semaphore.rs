//! `Semaphore`: a count of permits, handed out oldest request first.

use super::wait_queue::{Ticket, WaitQueue, WakeList, replace_waker};
use crate::primitives::Mutex;
use crate::util::lock;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};

/// A counting semaphore: a pool of permits that tasks acquire and give back.
///
/// Use it to bound how many tasks do something at once (open connections, requests in
/// flight). A permit goes back to the pool when the [`SemaphorePermit`] holding it drops.
///
/// Fair: permits go to waiters in the order they asked. A large [`acquire_many`] at the
/// head of the queue collects permits as they come back, and the small requests queued
/// behind it wait their turn rather than overtaking it (and starving it).
///
/// [`acquire_many`]: Semaphore::acquire_many
///
/// ```
/// use asincrono::sync::Semaphore;
///
/// asincrono::block_on(async {
///     let semaphore = Semaphore::new(2);
///     let first = semaphore.acquire().await.unwrap();
///     let _second = semaphore.acquire().await.unwrap();
///     assert!(semaphore.try_acquire().is_err(), "both permits are out");
///     drop(first);
///     assert_eq!(semaphore.available_permits(), 1);
/// });
/// ```
pub struct Semaphore {
    /// Everything that changes, behind one lock that is held only for a few instructions.
    state: Mutex<Permits>,
}

// ANCHOR: semaphore_state
/// A semaphore's state: the count, the queue, and every rule about them, but no lock.
/// [`Semaphore`] keeps one behind its own mutex; a bounded mpsc channel keeps one inside
/// its channel's mutex, so that a send or a receive takes one lock, not two.
///
/// The invariant that makes it fair: **if any waiter is queued, `available` is zero.**
/// Every change that frees permits ends with [`Permits::hand_out`], which gives them to the
/// queue first, so a newcomer (or `try_acquire`) can never take permits that a waiter is
/// owed.
pub(super) struct Permits {
    /// Permits that nobody holds and nobody has been promised.
    available: usize,
    /// Set by `close`: every later acquire fails.
    closed: bool,
    /// Acquirers still short of permits, oldest first.
    waiting: WaitQueue<Waiter>,
    /// Acquirers that were handed everything they asked for but have not polled since.
    /// Their future collects the permits when it polls, or gives them back if it is dropped.
    granted: BTreeSet<Ticket>,
    /// Acquirers turned away by `close` while holding part of what they asked for, with
    /// how many they hold. Those permits stay out until the acquirer polls (and fails) or is
    /// dropped, as in tokio: a bounded channel counts them as still taken, so that its
    /// closed receiver does not see the channel as idle before the acquirer has let go.
    refused: BTreeMap<Ticket, usize>,
}
// ANCHOR_END: semaphore_state

/// One queued acquirer.
struct Waiter {
    /// Permits it already holds: the head of the queue takes what there is and waits for
    /// the rest, so that requests behind it cannot overtake it.
    held: usize,
    /// Permits it still needs.
    missing: usize,
    /// Its task, to wake once `missing` reaches zero (or the semaphore closes).
    waker: Waker,
}

/// The error of an acquire on a closed [`Semaphore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(
    /// Private, so that only the semaphore makes one.
    (),
);

/// Why a `try_acquire` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are free right now (or other tasks are queued for them).
    NoPermits,
}

impl Semaphore {
    /// The most permits a semaphore can hold: `usize::MAX >> 3`, as in tokio.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    const_unless_loom! {
        /// A semaphore with `permits` permits. `const`, so it can live in a `static`.
        ///
        /// # Panics
        /// If `permits` exceeds [`MAX_PERMITS`](Semaphore::MAX_PERMITS).
        pub fn new(permits: usize) -> Semaphore {
            assert!(
                permits <= Semaphore::MAX_PERMITS,
                "a Semaphore holds at most Semaphore::MAX_PERMITS permits"
            );
            Semaphore {
                state: Mutex::new(Permits::new(permits)),
            }
        }
    }

    const_unless_loom! {
        /// The same as [`new`](Semaphore::new), under tokio's name for the `const` constructor.
        pub fn const_new(permits: usize) -> Semaphore {
            Semaphore::new(permits)
        }
    }

    /// How many permits are free right now.
    pub fn available_permits(&self) -> usize {
        lock(&self.state).available
    }

    /// Adds `n` permits, handing them to waiting tasks first (oldest first).
    ///
    /// # Panics
    /// If the total would exceed [`MAX_PERMITS`](Semaphore::MAX_PERMITS).
    pub fn add_permits(&self, n: usize) {
        let to_wake = {
            let mut state = lock(&self.state);
            assert!(
                n <= Semaphore::MAX_PERMITS - state.available,
                "a Semaphore holds at most Semaphore::MAX_PERMITS permits"
            );
            state.release(n)
        };
        to_wake.wake_all();
    }

    /// Closes the semaphore: every task waiting in an acquire is woken with an
    /// [`AcquireError`], and every later acquire fails. Permits already held stay valid and
    /// still return to the pool when dropped.
    ///
    /// ```
    /// use asincrono::sync::{Semaphore, TryAcquireError};
    ///
    /// let semaphore = Semaphore::new(1);
    /// semaphore.close();
    /// assert!(semaphore.is_closed());
    /// assert_eq!(semaphore.try_acquire().err(), Some(TryAcquireError::Closed));
    /// ```
    pub fn close(&self) {
        let to_wake = lock(&self.state).close();
        to_wake.wake_all();
    }

    /// Whether [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// Waits for one permit.
    ///
    /// Fails only if the semaphore is closed (before or while waiting).
    ///
    /// # Cancel safety
    /// Dropping the future loses only its place in the queue. Permits it had already been
    /// given (in full, or in part at the head of the queue) go back to the next waiter.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits at once.
    ///
    /// ```
    /// use asincrono::sync::Semaphore;
    ///
    /// asincrono::block_on(async {
    ///     let semaphore = Semaphore::new(5);
    ///     let three = semaphore.acquire_many(3).await.unwrap();
    ///     assert_eq!(three.num_permits(), 3);
    ///     assert_eq!(semaphore.available_permits(), 2);
    /// });
    /// ```
    ///
    /// # Cancel safety
    /// As for [`acquire`](Semaphore::acquire): only the place in the queue is lost.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        let n = n as usize;
        Acquire::new(self, n).await?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits: n,
        })
    }

    /// Waits for one permit, held by a handle that owns a reference to the semaphore (so it
    /// can move into a spawned task).
    ///
    /// ```
    /// use asincrono::sync::Semaphore;
    /// use std::sync::Arc;
    ///
    /// asincrono::block_on(async {
    ///     let semaphore = Arc::new(Semaphore::new(1));
    ///     let permit = semaphore.clone().acquire_owned().await.unwrap();
    ///     let task = asincrono::spawn(async move {
    ///         drop(permit); // released from another task
    ///     });
    ///     task.await.unwrap();
    ///     assert_eq!(semaphore.available_permits(), 1);
    /// });
    /// ```
    ///
    /// # Cancel safety
    /// As for [`acquire`](Semaphore::acquire): only the place in the queue is lost.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Waits for `n` permits, held by an owning handle like [`acquire_owned`]'s.
    ///
    /// [`acquire_owned`]: Semaphore::acquire_owned
    ///
    /// # Cancel safety
    /// As for [`acquire`](Semaphore::acquire): only the place in the queue is lost.
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        let n = n as usize;
        Acquire::new(&self, n).await?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits: n,
        })
    }

    /// Takes up to `n` free permits out of the semaphore for good, without waiting, and
    /// returns how many it took (fewer than `n` if fewer were free). Permits that are held
    /// are not touched: shrink by those with [`SemaphorePermit::forget`].
    pub fn forget_permits(&self, n: usize) -> usize {
        lock(&self.state).forget(n)
    }

    /// [`acquire`](Semaphore::acquire) for a plain thread: parks the thread until a permit
    /// is free.
    ///
    /// # Panics
    /// Inside a runtime: parking a thread there would stall its tasks.
    #[track_caller]
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        super::blocking::block_on("Semaphore::blocking_acquire", self.acquire())
    }

    /// [`acquire_many`](Semaphore::acquire_many) for a plain thread.
    ///
    /// # Panics
    /// Inside a runtime.
    #[track_caller]
    pub fn blocking_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        super::blocking::block_on("Semaphore::blocking_acquire_many", self.acquire_many(n))
    }

    /// [`acquire_owned`](Semaphore::acquire_owned) for a plain thread.
    ///
    /// # Panics
    /// Inside a runtime.
    #[track_caller]
    pub fn blocking_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        super::blocking::block_on("Semaphore::blocking_acquire_owned", self.acquire_owned())
    }

    /// [`acquire_many_owned`](Semaphore::acquire_many_owned) for a plain thread.
    ///
    /// # Panics
    /// Inside a runtime.
    #[track_caller]
    pub fn blocking_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        super::blocking::block_on(
            "Semaphore::blocking_acquire_many_owned",
            self.acquire_many_owned(n),
        )
    }

    /// Takes one permit if one is free and nobody is queued for it; never waits.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is queued for them; never waits.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let n = n as usize;
        self.try_take(n)?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits: n,
        })
    }

    /// [`try_acquire`](Semaphore::try_acquire) with an owning handle.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`try_acquire_many`](Semaphore::try_acquire_many) with an owning handle.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let n = n as usize;
        self.try_take(n)?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits: n,
        })
    }

    /// Takes `n` permits if they are free and nobody is queued for them.
    pub(crate) fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        lock(&self.state).try_take(n)
    }

    /// Gives back `n` permits taken earlier; the queue gets them first. Unlike
    /// [`add_permits`](Semaphore::add_permits) this needs no limit check: the permits came
    /// from here.
    pub(crate) fn release(&self, n: usize) {
        let to_wake = lock(&self.state).release(n);
        to_wake.wake_all();
    }

    /// First poll of a request for `wanted` permits: see [`Permits::start`].
    fn start(&self, wanted: usize, waker: &Waker) -> Progress {
        lock(&self.state).start(wanted, waker)
    }

    /// A later poll of a queued request: see [`Permits::check`]. The stale waker it returns
    /// is dropped by the caller, after the lock.
    fn check(&self, ticket: Ticket, waker: &Waker) -> (Progress, Option<Waker>) {
        lock(&self.state).check(ticket, waker)
    }

    /// A request dropped before it completed: see [`Permits::cancel`].
    fn cancel(&self, ticket: Ticket, wanted: usize) {
        let (to_wake, _removed) = lock(&self.state).cancel(ticket, wanted);
        to_wake.wake_all();
        // `_removed`, the waker of the cancelled request, is dropped here, after the lock.
    }
}

impl Permits {
    /// `permits` free permits, nobody waiting. `const`, for [`Semaphore::new`].
    pub(super) const fn new(permits: usize) -> Permits {
        Permits {
            available: permits,
            closed: false,
            waiting: WaitQueue::new(),
            granted: BTreeSet::new(),
            refused: BTreeMap::new(),
        }
    }

    /// Permits that are free right now.
    pub(super) fn available(&self) -> usize {
        self.available
    }

    /// Takes `n` permits if they are free. Thanks to the invariant on [`Permits`], free
    /// permits are never owed to a waiter, so this cannot jump the queue.
    pub(super) fn try_take(&mut self, n: usize) -> Result<(), TryAcquireError> {
        if self.closed {
            Err(TryAcquireError::Closed)
        } else if self.available >= n {
            self.available -= n;
            Ok(())
        } else {
            Err(TryAcquireError::NoPermits)
        }
    }

    /// Gives back (or adds) `n` permits; the queue gets them first. Returns the wakers of
    /// the waiters this completed, to wake after the lock.
    pub(super) fn release(&mut self, n: usize) -> WakeList {
        self.available += n;
        self.hand_out()
    }

    /// Closes: every queued waiter is taken out (its next poll finds no entry and reports
    /// the close) and every later request fails. Returns the wakers to wake after the lock.
    pub(super) fn close(&mut self) -> WakeList {
        self.closed = true;
        let mut to_wake = WakeList::new();
        while let Some((ticket, waiter)) = self.waiting.pop_front() {
            // What the head had collected comes back when it polls or is dropped.
            if waiter.held > 0 {
                self.refused.insert(ticket, waiter.held);
            }
            to_wake.push(waiter.waker);
        }
        to_wake
    }

    /// Adds `n` free permits that nobody can be owed, because nobody waits: a bounded
    /// channel moving its free slots in from its atomic word (`mpsc/free_slots.rs`).
    pub(super) fn deposit(&mut self, n: usize) {
        debug_assert!(n == 0 || self.waiting.is_empty(), "a waiter is owed these");
        self.available += n;
    }

    /// Takes every free permit out, if nobody waits and it is open: a bounded channel
    /// keeps them in its atomic word while nothing needs the queue.
    pub(super) fn withdraw_if_nobody_waits(&mut self) -> Option<usize> {
        (!self.closed && self.waiting.is_empty()).then(|| std::mem::take(&mut self.available))
    }

    /// Takes up to `n` free permits out for good; returns how many it took.
    pub(super) fn forget(&mut self, n: usize) -> usize {
        let taken = n.min(self.available);
        self.available -= taken;
        taken
    }

    // ANCHOR: acquire_start
    /// First poll of a request for `wanted` permits: take them, or queue for them.
    pub(super) fn start(&mut self, wanted: usize, waker: &Waker) -> Progress {
        if self.closed {
            return Progress::Closed;
        }
        if self.available >= wanted {
            self.available -= wanted;
            return Progress::Acquired;
        }
        // Not enough. It joins the back of the queue, taking what is free now as a down
        // payment: if others are queued, the invariant says nothing is free and it takes 0;
        // if none is, it becomes the head and holds the permits it got until it has all.
        let held = std::mem::take(&mut self.available);
        let ticket = self.waiting.push_back(Waiter {
            held,
            missing: wanted - held,
            waker: waker.clone(),
        });
        Progress::Queued(ticket)
    }
    // ANCHOR_END: acquire_start

    /// A later poll of a queued request: has it been granted, or the semaphore closed?
    /// Returns the stale waker it replaced, to be dropped by the caller after the lock.
    pub(super) fn check(&mut self, ticket: Ticket, waker: &Waker) -> (Progress, Option<Waker>) {
        if self.granted.remove(&ticket) {
            return (Progress::Acquired, None);
        }
        match self.waiting.get_mut(ticket) {
            Some(waiter) => (
                Progress::Queued(ticket),
                replace_waker(&mut waiter.waker, waker),
            ),
            // Only `close` takes a waiter out without granting it. What it held goes back;
            // after a close nobody is queued, so nobody is owed it.
            None => {
                self.available += self.refused.remove(&ticket).unwrap_or(0);
                (Progress::Closed, None)
            }
        }
    }

    // ANCHOR: acquire_cancel
    /// A request for `wanted` permits is dropped while queued (or granted but not yet
    /// collected): give back whatever it held, so that the next waiter gets it. Returns the
    /// wakers to wake, and the cancelled request's own waker, which the caller drops: both
    /// after the lock.
    pub(super) fn cancel(&mut self, ticket: Ticket, wanted: usize) -> (WakeList, Option<Waker>) {
        let (held, removed) = if self.granted.remove(&ticket) {
            (wanted, None)
        } else {
            match self.waiting.remove(ticket) {
                Some(waiter) => (waiter.held, Some(waiter.waker)),
                // Turned away by `close`, perhaps holding a part.
                None => (self.refused.remove(&ticket).unwrap_or(0), None),
            }
        };
        (self.release(held), removed)
    }
    // ANCHOR_END: acquire_cancel

    // ANCHOR: hand_out
    /// Gives free permits to the waiters at the head of the queue, oldest first, until
    /// either the permits or the waiters run out. Restores the invariant: afterwards, a
    /// queued waiter means no free permits. Returns the wakers of the waiters now complete.
    fn hand_out(&mut self) -> WakeList {
        let mut to_wake = WakeList::new();
        while self.available > 0 {
            let Some(head) = self.waiting.front_mut() else {
                break;
            };
            let given = head.missing.min(self.available);
            head.held += given;
            head.missing -= given;
            self.available -= given;
            if head.missing == 0 {
                if let Some((ticket, head)) = self.waiting.pop_front() {
                    self.granted.insert(ticket);
                    to_wake.push(head.waker);
                }
            }
            // Otherwise the head is still short and `available` is zero: the loop ends.
        }
        to_wake
    }
    // ANCHOR_END: hand_out
}

/// What one poll of a request for permits found.
pub(super) enum Progress {
    /// The permits are ours.
    Acquired,
    /// The semaphore is closed.
    Closed,
    /// Queued under this ticket, waiting.
    Queued(Ticket),
}

/// Where an [`Acquire`] stands.
enum Stage {
    /// Not polled yet: holds nothing, queued nowhere.
    Unpolled,
    /// In the queue (or granted and not yet told) under this ticket.
    Queued(Ticket),
    /// The permits are ours, but the task's budget ran out: hand them over on the next poll
    /// (or give them back if dropped first).
    Held,
    /// Completed: the permits belong to whoever took the output.
    Done,
}

/// The future behind every acquire (and so behind `Mutex::lock` and a bounded `send`):
/// completes once `wanted` permits are ours. It does not build a permit handle; the
/// caller does, so that the same future serves borrowed and owned permits and the mutex.
///
/// Dropping it before completion gives back whatever it was given (see `Drop`).
pub(crate) struct Acquire<'a> {
    /// The semaphore asked.
    semaphore: &'a Semaphore,
    /// How many permits it asks for.
    wanted: usize,
    /// Where the request stands.
    stage: Stage,
}

impl<'a> Acquire<'a> {
    /// A request for `wanted` permits of `semaphore`; nothing happens until it is polled.
    pub(crate) fn new(semaphore: &'a Semaphore, wanted: usize) -> Acquire<'a> {
        Acquire {
            semaphore,
            wanted,
            stage: Stage::Unpolled,
        }
    }
}

impl Future for Acquire<'_> {
    type Output = Result<(), AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // The queue first, the budget second (as tokio): a task out of budget still takes
        // its place in line, so a later task cannot overtake it while it yields.
        let (progress, _stale_waker) = match this.stage {
            Stage::Unpolled => (this.semaphore.start(this.wanted, cx.waker()), None),
            Stage::Queued(ticket) => this.semaphore.check(ticket, cx.waker()),
            Stage::Held => (Progress::Acquired, None),
            Stage::Done => panic!("an acquire future was polled after it completed"),
        };
        match progress {
            Progress::Acquired => {
                this.stage = Stage::Held;
                ready!(crate::task::poll_proceed(cx));
                this.stage = Stage::Done;
                Poll::Ready(Ok(()))
            }
            Progress::Closed => {
                this.stage = Stage::Done;
                Poll::Ready(Err(AcquireError(())))
            }
            Progress::Queued(ticket) => {
                this.stage = Stage::Queued(ticket);
                // Waker contract: our waker sits in the queue entry under `ticket`. Whoever
                // gives the last missing permit (`hand_out`, from a release, `add_permits`
                // or a cancelled waiter) or closes the semaphore takes it out and wakes it,
                // after letting go of the lock.
                Poll::Pending
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        match self.stage {
            Stage::Queued(ticket) => self.semaphore.cancel(ticket, self.wanted),
            Stage::Held => self.semaphore.release(self.wanted),
            Stage::Unpolled | Stage::Done => {}
        }
    }
}

/// Permits borrowed from a [`Semaphore`]; dropping it gives them back.
#[must_use = "the permits go back as soon as this is dropped"]
pub struct SemaphorePermit<'a> {
    /// Where the permits go back to.
    semaphore: &'a Semaphore,
    /// How many permits it holds (zero once forgotten).
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good: they are not given back on drop.
    ///
    /// ```
    /// use asincrono::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(3);
    /// semaphore.try_acquire_many(2).unwrap().forget();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits it holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &Semaphore {
        self.semaphore
    }

    /// Takes `other`'s permits into this handle, so that they go back together.
    ///
    /// # Panics
    /// If `other` holds permits of another semaphore.
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            std::ptr::eq(self.semaphore, other.semaphore),
            "cannot merge permits of different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Moves `n` of this handle's permits into a new handle; `None` (and nothing moved)
    /// if it holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(SemaphorePermit {
            semaphore: self.semaphore,
            permits: n,
        })
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.semaphore.release(self.permits);
        }
    }
}

/// Permits of an `Arc<Semaphore>`, held by a handle that keeps the semaphore alive (so it
/// can move into a spawned task). Dropping it gives the permits back.
#[must_use = "the permits go back as soon as this is dropped"]
pub struct OwnedSemaphorePermit {
    /// Where the permits go back to.
    semaphore: Arc<Semaphore>,
    /// How many permits it holds (zero once forgotten).
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good: they are not given back on drop.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits it holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }

    /// Takes `other`'s permits into this handle, so that they go back together.
    ///
    /// # Panics
    /// If `other` holds permits of another semaphore.
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            Arc::ptr_eq(&self.semaphore, &other.semaphore),
            "cannot merge permits of different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Moves `n` of this handle's permits into a new handle; `None` (and nothing moved)
    /// if it holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(OwnedSemaphorePermit {
            semaphore: self.semaphore.clone(),
            permits: n,
        })
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.semaphore.release(self.permits);
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Semaphore")
            .field("available_permits", &state.available)
            .field("closed", &state.closed)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the semaphore is closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("the semaphore is closed"),
            TryAcquireError::NoPermits => f.write_str("no permits are free"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::{CountingWaker, poll_once};

    #[test]
    fn a_returned_permit_wakes_exactly_the_oldest_waiter() {
        let semaphore = Semaphore::new(1);
        let held = semaphore.try_acquire().unwrap();
        let (first, first_waker) = CountingWaker::new();
        let (second, second_waker) = CountingWaker::new();
        let mut first_acquire = Box::pin(semaphore.acquire());
        let mut second_acquire = Box::pin(semaphore.acquire());
        assert!(poll_once(first_acquire.as_mut(), &first_waker).is_pending());
        assert!(poll_once(second_acquire.as_mut(), &second_waker).is_pending());

        drop(held);
        assert_eq!((first.wakes(), second.wakes()), (1, 0));
        assert_eq!(semaphore.available_permits(), 0, "handed over, not freed");
        assert!(poll_once(first_acquire.as_mut(), &first_waker).is_ready());
    }

    #[test]
    fn a_large_request_at_the_head_is_not_overtaken_by_small_ones() {
        let semaphore = Semaphore::new(1);
        let held = semaphore.try_acquire().unwrap();
        let (big, big_waker) = CountingWaker::new();
        let (small, small_waker) = CountingWaker::new();
        let mut big_acquire = Box::pin(semaphore.acquire_many(3));
        let mut small_acquire = Box::pin(semaphore.acquire());
        assert!(poll_once(big_acquire.as_mut(), &big_waker).is_pending());
        assert!(poll_once(small_acquire.as_mut(), &small_waker).is_pending());

        semaphore.add_permits(2); // enough for the small one, not for the big one
        assert_eq!((big.wakes(), small.wakes()), (0, 0));
        assert_eq!(semaphore.available_permits(), 0, "the head collects them");
        assert_eq!(
            semaphore.try_acquire().err(),
            Some(TryAcquireError::NoPermits)
        );

        drop(held);
        assert_eq!((big.wakes(), small.wakes()), (1, 0));
        let Poll::Ready(Ok(three)) = poll_once(big_acquire.as_mut(), &big_waker) else {
            panic!("the big request completes first");
        };
        assert_eq!(three.num_permits(), 3);
        drop(three);
        assert_eq!(small.wakes(), 1);
        let Poll::Ready(Ok(_one)) = poll_once(small_acquire.as_mut(), &small_waker) else {
            panic!("then the small one");
        };
        assert_eq!(semaphore.available_permits(), 2);
    }

    #[test]
    fn a_dropped_waiter_passes_its_partial_grant_to_the_next() {
        let semaphore = Semaphore::new(2);
        let _held = semaphore.try_acquire().unwrap();
        let (_, big_waker) = CountingWaker::new();
        let (small, small_waker) = CountingWaker::new();
        let mut big_acquire = Box::pin(semaphore.acquire_many(2));
        let mut small_acquire = Box::pin(semaphore.acquire());
        assert!(poll_once(big_acquire.as_mut(), &big_waker).is_pending()); // holds 1 of 2
        assert!(poll_once(small_acquire.as_mut(), &small_waker).is_pending());

        drop(big_acquire);
        assert_eq!(small.wakes(), 1);
        assert!(poll_once(small_acquire.as_mut(), &small_waker).is_ready());
    }

    #[test]
    fn a_granted_but_unpolled_waiter_gives_its_permits_back_when_dropped() {
        let semaphore = Semaphore::new(1);
        let held = semaphore.try_acquire().unwrap();
        let (granted, waker) = CountingWaker::new();
        let mut acquire = Box::pin(semaphore.acquire());
        assert!(poll_once(acquire.as_mut(), &waker).is_pending());
        drop(held);
        assert_eq!(granted.wakes(), 1);
        assert_eq!(semaphore.available_permits(), 0);
        drop(acquire);
        assert_eq!(semaphore.available_permits(), 1);
    }

    #[test]
    fn close_wakes_every_waiter_with_an_error() {
        let semaphore = Semaphore::new(0);
        let counters: Vec<_> = (0..3).map(|_| CountingWaker::new()).collect();
        let mut acquires: Vec<_> = (0..3).map(|_| Box::pin(semaphore.acquire())).collect();
        for (acquire, (_, waker)) in acquires.iter_mut().zip(&counters) {
            assert!(poll_once(acquire.as_mut(), waker).is_pending());
        }
        semaphore.close();
        for (acquire, (counter, waker)) in acquires.iter_mut().zip(&counters) {
            assert_eq!(counter.wakes(), 1);
            assert!(matches!(
                poll_once(acquire.as_mut(), waker),
                Poll::Ready(Err(AcquireError(())))
            ));
        }
    }

    #[test]
    fn the_head_turned_away_by_close_returns_its_partial_grant_when_it_polls_or_drops() {
        let semaphore = Semaphore::new(2);
        let (_, waker) = CountingWaker::new();
        let mut polled = Box::pin(semaphore.acquire_many(3));
        assert!(poll_once(polled.as_mut(), &waker).is_pending());
        assert_eq!(semaphore.available_permits(), 0);
        semaphore.close();
        assert_eq!(semaphore.available_permits(), 0, "still held by the head");
        assert!(poll_once(polled.as_mut(), &waker).is_ready());
        assert_eq!(semaphore.available_permits(), 2);

        let semaphore = Semaphore::new(1);
        let mut dropped = Box::pin(semaphore.acquire_many(2));
        assert!(poll_once(dropped.as_mut(), &waker).is_pending());
        semaphore.close();
        drop(dropped);
        assert_eq!(semaphore.available_permits(), 1);
    }

    #[test]
    fn forget_permits_takes_only_what_is_free() {
        let semaphore = Semaphore::new(3);
        let _held = semaphore.try_acquire().unwrap();
        assert_eq!(semaphore.forget_permits(5), 2);
        assert_eq!(semaphore.available_permits(), 0);
    }

    #[test]
    fn split_and_merge_move_permits_between_handles() {
        let semaphore = Semaphore::new(4);
        let mut three = semaphore.try_acquire_many(3).unwrap();
        let one = three.split(1).unwrap();
        assert!(three.split(3).is_none(), "only two left to split off");
        assert_eq!((three.num_permits(), one.num_permits()), (2, 1));
        drop(one);
        assert_eq!(semaphore.available_permits(), 2);
        let other = semaphore.try_acquire().unwrap();
        three.merge(other);
        assert_eq!(three.num_permits(), 3);
        drop(three);
        assert_eq!(semaphore.available_permits(), 4);
    }

    #[test]
    #[should_panic(expected = "different semaphores")]
    fn merging_permits_of_two_semaphores_panics() {
        let (first, second) = (Semaphore::new(1), Semaphore::new(1));
        let mut permit = first.try_acquire().unwrap();
        permit.merge(second.try_acquire().unwrap());
    }

    #[test]
    fn blocking_acquire_waits_for_a_permit_from_another_thread() {
        let semaphore = Arc::new(Semaphore::new(0));
        let adder = semaphore.clone();
        let thread = std::thread::spawn(move || adder.add_permits(2));
        let two = semaphore.blocking_acquire_many(2).unwrap();
        thread.join().unwrap();
        assert_eq!(two.num_permits(), 2);
        semaphore.close();
        assert!(semaphore.clone().blocking_acquire_owned().is_err());
    }

    #[test]
    fn a_forgotten_permit_stays_out() {
        let semaphore = Semaphore::new(2);
        semaphore.try_acquire().unwrap().forget();
        assert_eq!(semaphore.available_permits(), 1);
    }

    #[test]
    #[should_panic(expected = "MAX_PERMITS")]
    fn adding_beyond_the_maximum_panics() {
        Semaphore::new(Semaphore::MAX_PERMITS).add_permits(1);
    }
}
