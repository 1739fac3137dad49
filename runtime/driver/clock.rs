//! The clock every timer of a runtime reads, and how a test can stop it.
//!
//! Normally it is `std::time::Instant::now()`. A test can *pause* it
//! ([`time::pause`](crate::time::pause)): time then stands still, and moves only when the
//! test calls [`time::advance`](crate::time::advance) or when the runtime has nothing else
//! to do. In that last case the driver, instead of blocking in `epoll_wait`
//! until the next timer's deadline, sets the clock to that deadline and fires the timer at
//! once (*auto-advance*). A test of a ten-minute timeout so runs in microseconds, and always
//! sees the same order of events.
//!
//! Auto-advance only happens when nothing else can make progress: no task is ready, no I/O
//! event is waiting (the driver looks first, without blocking), and no blocking-pool job is
//! running (its result might be what everyone waits for; each job holds the clock still
//! while it runs). As in tokio, only a current-thread runtime can be paused: with several
//! workers, "nothing else to do" would need every worker to agree.

use crate::util::lock;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// One runtime's clock.
pub(crate) struct Clock {
    /// Fast test for the normal case: the clock is not paused, read the system clock.
    paused: AtomicBool,
    /// While paused: the time it shows.
    frozen_at: Mutex<Option<std::time::Instant>>,
    /// How far ahead of the system clock this clock runs, in nanoseconds: the time that was
    /// advanced while paused, kept after `resume` so that time never runs backwards.
    ahead_by_nanos: AtomicU64,
    /// Blocking jobs in flight; auto-advance waits while any is.
    inhibitors: AtomicUsize,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            paused: AtomicBool::new(false),
            frozen_at: Mutex::new(None),
            ahead_by_nanos: AtomicU64::new(0),
            inhibitors: AtomicUsize::new(0),
        }
    }

    // ANCHOR: clock_now
    /// The time now on this clock.
    pub(crate) fn now(&self) -> std::time::Instant {
        if !self.paused.load(Ordering::Acquire) {
            return self.running_now();
        }
        lock(&self.frozen_at).unwrap_or_else(|| self.running_now())
    }

    /// The time while not paused: the system clock, plus what was advanced while paused.
    fn running_now(&self) -> std::time::Instant {
        let ahead_by = Duration::from_nanos(self.ahead_by_nanos.load(Ordering::Acquire));
        std::time::Instant::now() + ahead_by
    }
    // ANCHOR_END: clock_now

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Stops the clock at the current time.
    pub(crate) fn pause(&self) {
        let mut frozen_at = lock(&self.frozen_at);
        assert!(
            frozen_at.is_none(),
            "time::pause: the clock is already paused"
        );
        *frozen_at = Some(self.running_now());
        self.paused.store(true, Ordering::Release);
    }

    /// Lets the clock run again, from the time it showed: it stays ahead of the system
    /// clock by whatever was advanced while paused, so time never runs backwards.
    pub(crate) fn resume(&self) {
        let mut frozen_at = lock(&self.frozen_at);
        let shown = frozen_at
            .take()
            .expect("time::resume: the clock is not paused");
        let ahead_by = shown.saturating_duration_since(std::time::Instant::now());
        let ahead_by = u64::try_from(ahead_by.as_nanos()).unwrap_or(u64::MAX);
        self.ahead_by_nanos.store(ahead_by, Ordering::Release);
        self.paused.store(false, Ordering::Release);
    }

    /// Moves a paused clock forward by `by`.
    pub(crate) fn advance(&self, by: Duration) {
        let mut frozen_at = lock(&self.frozen_at);
        let now = frozen_at
            .as_mut()
            .expect("time::advance: the clock is not paused");
        *now += by;
    }

    /// Moves a paused clock forward to `deadline` (never backwards).
    pub(crate) fn advance_to(&self, deadline: std::time::Instant) {
        if let Some(now) = lock(&self.frozen_at).as_mut() {
            *now = (*now).max(deadline);
        }
    }

    // ANCHOR: inhibit
    /// Whether the driver may jump to the next deadline: paused, and no blocking job runs.
    pub(crate) fn may_auto_advance(&self) -> bool {
        self.is_paused() && self.inhibitors.load(Ordering::SeqCst) == 0
    }

    /// A blocking job starts: hold the paused clock still until [`Clock::allow`].
    pub(crate) fn inhibit(&self) {
        self.inhibitors.fetch_add(1, Ordering::SeqCst);
    }

    /// A blocking job is done.
    pub(crate) fn allow(&self) {
        self.inhibitors.fetch_sub(1, Ordering::SeqCst);
    }
    // ANCHOR_END: inhibit
}
