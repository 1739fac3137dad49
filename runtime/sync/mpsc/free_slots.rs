//! A bounded channel's free slots as one atomic word, so that a send that finds room, and a
//! receive that frees a slot nobody is waiting for, take no lock.
//!
//! The slots live in one of two places, and the word says which:
//!
//! - **here**, as a plain count, while no sender waits and the channel is open: the common
//!   case, where taking a slot is one compare-and-swap and giving one back another;
//! - **under the channel's state lock**, in its [`Permits`](crate::sync::semaphore::Permits), as
//!   soon as a sender has to wait (or the channel closes). The word then holds only the
//!   `UNDER_LOCK` flag and a count of zero, every lock-free attempt fails, and the caller
//!   takes the lock, where the semaphore's rules (first come, first served; clean-up after
//!   a sender that gives up) hand out each slot that comes back.
//!
//! Only a holder of the channel's state lock moves the slots between the two places, and it
//! moves all of them at once: in when it needs the queue, out again when it leaves the
//! lock with nobody queued. So a slot is never in both places, and a waiting sender is
//! never passed by a lock-free one: while anyone waits, there is nothing here to take.
//!
//! The corner cut: every move is a whole-word swap or store under the lock, so a channel
//! whose senders keep waiting pays for the lock on every receive, as it did before this file
//! existed. tokio's bounded channel keeps its semaphore's count in an atomic word the same
//! way, but its queue of waiters sits beside the count rather than taking it over: a
//! receive there takes the waiters' lock on every release, waiters or not.

// From `primitives.rs`, so that the loom models can run every interleaving of it.
use crate::primitives::atomic::AtomicUsize;
use std::sync::atomic::Ordering;

/// The flag bit: set while the slots are kept under the channel's state lock.
const UNDER_LOCK: usize = 1;

/// How far the count is shifted to leave room for the flag.
const COUNT_SHIFT: u32 = 1;

/// The free slots, or the note that they are under the lock. See the file's opening.
pub(super) struct FreeSlots {
    /// `count << COUNT_SHIFT`, or `UNDER_LOCK` (with a count of zero).
    word: AtomicUsize,
}

impl FreeSlots {
    /// `count` free slots, kept here. (`count` is at most `Semaphore::MAX_PERMITS`, so the
    /// shift cannot overflow.)
    pub(super) fn new(count: usize) -> FreeSlots {
        FreeSlots {
            word: AtomicUsize::new(count << COUNT_SHIFT),
        }
    }

    // ANCHOR: free_slots_take
    /// Takes `n` slots without the lock, if they are here. `false` when there are fewer, or
    /// when they are under the lock: the caller then takes the lock and asks there.
    pub(super) fn try_take(&self, n: usize) -> bool {
        let wanted = n << COUNT_SHIFT;
        // `fetch_update` retries the compare-and-swap when another thread changed the word
        // in between; it gives up (and so do we) as soon as the closure says no.
        self.word
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                (word & UNDER_LOCK == 0 && word >= wanted).then(|| word - wanted)
            })
            .is_ok()
    }
    // ANCHOR_END: free_slots_take

    /// Gives `n` slots back without the lock, if the slots are kept here (nobody waits, the
    /// channel is open). `false` when they are under the lock: the caller must take it, so
    /// that the slots go to the waiting senders.
    pub(super) fn try_give(&self, n: usize) -> bool {
        self.word
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                (word & UNDER_LOCK == 0).then(|| word + (n << COUNT_SHIFT))
            })
            .is_ok()
    }

    /// With the channel's state lock held: takes every slot that is here and sets the flag, so
    /// that from now on every lock-free attempt fails. Returns how many slots it took
    /// (zero if they were under the lock already).
    pub(super) fn move_under_lock(&self) -> usize {
        self.word.swap(UNDER_LOCK, Ordering::AcqRel) >> COUNT_SHIFT
    }

    /// With the channel's state lock held, nobody queued and the channel open: puts `count` free
    /// slots back here and clears the flag. A plain store is enough, because while the flag
    /// is set nobody but a lock holder writes the word (every lock-free attempt fails
    /// without writing).
    pub(super) fn move_out_of_lock(&self, count: usize) {
        self.word.store(count << COUNT_SHIFT, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_here_are_taken_and_given_back_without_the_lock() {
        let free = FreeSlots::new(2);
        assert!(free.try_take(2));
        assert!(!free.try_take(1), "both slots are out");
        assert!(free.try_give(1));
        assert!(free.try_take(1));
    }

    #[test]
    fn slots_under_the_lock_refuse_every_lock_free_attempt() {
        let free = FreeSlots::new(3);
        assert_eq!(free.move_under_lock(), 3);
        assert!(!free.try_take(1), "the slots are under the lock");
        assert!(
            !free.try_give(1),
            "a slot given back must go to the waiters"
        );
        assert_eq!(free.move_under_lock(), 0, "nothing is left here");
        free.move_out_of_lock(4);
        assert!(free.try_take(4));
        assert!(!free.try_take(1));
    }
}
