//! The timing wheel: every armed timer of one runtime, filed by how soon it is due.
//!
//! Picture a clock face with 64 slots, one millisecond each: a timer due 5 ms from now goes
//! in the slot five steps ahead of the hand. That face covers 64 ms. A second face, whose
//! slots are 64 ms wide, covers the next 4 s; a third, 4 s slots, the next 4.4 minutes; and
//! so on for six levels (64⁶ ms, about 2.2 years). A timer goes on the lowest level whose
//! turn it falls in:
//!
//! ```text
//!  level 0: 64 slots of 1 ms      [0][1][2][3] … [63]    the hand's current 64 ms
//!  level 1: 64 slots of 64 ms     [0][1][2][3] … [63]    the current 4.1 s
//!  level 2: 64 slots of 4.1 s     …                      the current 4.4 min
//!  level 5: 64 slots of 12 days   …                      the current 2.2 years
//!  far:     one list               beyond that (re-filed when the hand gets there)
//! ```
//!
//! Inserting is arithmetic (which level, which slot) and a push on that slot's list;
//! cancelling unlinks the entry from its list. Both are O(1), where a sorted map pays
//! O(log n) and moves memory about. When the hand reaches a slot on a higher level, its
//! timers **cascade**: each is filed again, now on a lower level, since it is closer. A timer
//! cascades at most once per level, and only if it lives that long: most timers are
//! timeouts that are cancelled first.
//!
//! Two things a wheel gives up, and how this one gets them back:
//! - **Exact deadlines.** A slot is a millisecond wide, but a `Sleep` must not fire before
//!   its deadline, nor a paused test clock jump past it. So each entry keeps its exact
//!   deadline: the current millisecond's slot fires only the entries already due, and the
//!   earliest deadline is read exactly from that slot (see [`TimerWheel::next_deadline`]).
//!   That slot is sorted by deadline at the first look, so the driver's later looks in the
//!   same millisecond take the due entries off its front instead of walking it all again.
//!   (tokio rounds deadlines up to the next millisecond instead, and fires up to 1 ms late.)
//! - **Sorting.** Timers in one slot are not ordered, but for the hand's own slot, as
//!   above: everywhere else the driver fires or cascades a whole slot at once.
//!
//! The corner cut: the entries live in a `Slab` owned by the wheel, so arming a timer may
//! grow it. tokio's wheel (the same six levels of 64 slots, one millisecond wide) links
//! entries that live inside the `Sleep` futures themselves, which allocates nothing but
//! needs `unsafe` pointers between pinned futures.
//!
//! Sources: the idea is Varghese and Lauck's "Hashed and Hierarchical Timing Wheels"
//! (1987); the sizes are tokio's.
//!
//! The wheel is plain data: no lock, no clock. `TimerQueue` (`timer_queue.rs`) puts it
//! behind the runtime's timer lock and hands it the time.

use slab::Slab;
use std::cmp::Reverse;
use std::task::Waker;
use std::time::{Duration, Instant};

/// Bits of a tick that pick the slot on one level: 64 slots.
const SLOT_BITS: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << SLOT_BITS;
/// Levels of the wheel.
const LEVELS: usize = 6;
/// Bits of a tick the whole wheel covers: one turn of the top level is 2^36 ms.
const WHEEL_BITS: u32 = SLOT_BITS * LEVELS as u32;
/// The longest slot list `next_deadline` walks for an exact answer. An idle program's lone
/// timer a second away sits in a 64 ms slot on level 1; reporting the slot's start made the
/// driver wake there only to cascade the timer down, then sleep again: two wake-ups for one
/// timer (tokio's wheel does the same). Walking eight entries is cheaper than one wake-up;
/// a slot with more falls back to its start.
const EXACT_LOOK_LIMIT: usize = 8;

/// Names one armed timer: its index among the wheel's entries.
///
/// A `u32`, so that a `Sleep`, which carries one, stays small (four billion timers armed at
/// once would need hundreds of gigabytes first). A key is only used by the `Sleep` that got
/// it, and only while its entry is still there, which `TimerQueue` checks under its lock
/// (`fired_through`): so a key never names an entry that reused its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey(u32);

/// Every armed timer, filed by level and slot.
pub(crate) struct TimerWheel {
    /// Tick 0: ticks are whole milliseconds since this instant.
    epoch: Instant,
    /// The hand: every slot before this tick has been emptied. Moves only forward.
    hand: u64,
    /// The armed timers; `TimerKey` is an index here.
    entries: Slab<Entry>,
    /// The six levels, lowest (1 ms slots) first.
    levels: [Level; LEVELS],
    /// Timers beyond the top level's current turn.
    far: List,
    /// The top-level turn (`hand >> WHEEL_BITS`) `far` was last sorted against.
    far_turn: u64,
    /// `Some(tick)` while the hand is at `tick` and its slot's list is sorted by deadline,
    /// earliest first, so the driver's many looks within that millisecond take only the
    /// due entries off the front and read the next deadline at the head. Unsorted, every
    /// look walked the whole slot to fire a few of its entries (20,000 timers over 10 ms
    /// put 2,000 in a slot, and a worker looks every 61 tasks). `None`, or an older tick:
    /// not sorted.
    hand_slot_sorted_at: Option<u64>,
    /// Scratch room for sorting the hand's slot, kept so that sorting allocates only until
    /// the busiest millisecond has been seen once.
    to_sort: Vec<u32>,
}

/// One level: a list per slot, and which slots are not empty.
struct Level {
    /// Bit `s` set: slot `s` has at least one entry. Finding the next busy slot is then one
    /// `trailing_zeros`, not a walk over 64 slots.
    busy: u64,
    slots: [List; SLOTS],
}

/// A doubly linked list of entries, by index, so any entry can be unlinked in O(1).
#[derive(Clone, Copy, Default)]
struct List {
    head: Option<u32>,
}

/// One armed timer.
struct Entry {
    /// When it is due, exactly.
    deadline: Instant,
    /// The millisecond it is due in: whole milliseconds from `epoch` to `deadline`.
    tick: u64,
    /// The task to wake.
    waker: Waker,
    /// Which list it is on.
    place: Place,
    previous: Option<u32>,
    next: Option<u32>,
}

/// Which list an entry is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Slot { level: usize, slot: usize },
    Far,
}

impl TimerWheel {
    /// An empty wheel whose tick 0 is `epoch`.
    pub(crate) fn new(epoch: Instant) -> TimerWheel {
        TimerWheel {
            epoch,
            hand: 0,
            entries: Slab::new(),
            levels: std::array::from_fn(|_| Level {
                busy: 0,
                slots: [List::default(); SLOTS],
            }),
            far: List::default(),
            far_turn: 0,
            hand_slot_sorted_at: None,
            to_sort: Vec::new(),
        }
    }

    /// How many timers are armed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no timer is armed.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The millisecond `at` falls in (0 for anything before the epoch).
    fn tick_of(&self, at: Instant) -> u64 {
        let millis = at.saturating_duration_since(self.epoch).as_millis();
        u64::try_from(millis).unwrap_or(u64::MAX)
    }

    /// The instant tick `tick` starts at.
    fn start_of(&self, tick: u64) -> Instant {
        let start = self.epoch.checked_add(Duration::from_millis(tick));
        start.unwrap_or_else(|| self.epoch + Duration::from_secs(u32::MAX.into()))
    }

    // ANCHOR: place_for
    /// Where a timer due in `tick` goes, with the hand where it is now: the lowest level
    /// on which the tick is still in the hand's current turn. The highest bit in which the
    /// tick and the hand differ says which: bits 0–5 are level 0's slot, bits 6–11 level
    /// 1's, and so on.
    fn place_for(&self, tick: u64) -> Place {
        let tick = tick.max(self.hand); // nothing is filed behind the hand
        if tick >> WHEEL_BITS != self.hand >> WHEEL_BITS {
            return Place::Far;
        }
        let differing = (tick ^ self.hand) | (SLOTS as u64 - 1); // at least level 0
        let highest_bit = u64::BITS - 1 - differing.leading_zeros();
        let level = (highest_bit / SLOT_BITS) as usize;
        let slot = (tick >> (level as u32 * SLOT_BITS)) as usize % SLOTS;
        Place::Slot { level, slot }
    }
    // ANCHOR_END: place_for

    /// Arms a timer; returns its key.
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let tick = self.tick_of(deadline);
        let place = self.place_for(tick);
        let index = self.entries.insert(Entry {
            deadline,
            tick,
            waker,
            place,
            previous: None,
            next: None,
        });
        let index = u32::try_from(index).expect("more than four billion timers armed at once");
        self.link(index, place);
        TimerKey(index)
    }

    /// The waker of an armed timer, to replace.
    pub(crate) fn waker_mut(&mut self, key: TimerKey) -> Option<&mut Waker> {
        self.entries
            .get_mut(key.0 as usize)
            .map(|entry| &mut entry.waker)
    }

    /// Disarms a timer; returns its waker if it was armed.
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<Waker> {
        self.entries.get(key.0 as usize)?;
        self.unlink(key.0); // a sorted list stays sorted
        Some(self.entries.remove(key.0 as usize).waker)
    }

    /// Takes every waker out, for a runtime that is going away.
    pub(crate) fn drain(&mut self) -> Vec<Waker> {
        let wakers = self.entries.drain().map(|entry| entry.waker).collect();
        *self = TimerWheel::new(self.epoch);
        wakers
    }
}

// ---- The lists ----------------------------------------------------------------------------

impl TimerWheel {
    fn list_mut(&mut self, place: Place) -> &mut List {
        match place {
            Place::Slot { level, slot } => &mut self.levels[level].slots[slot],
            Place::Far => &mut self.far,
        }
    }

    /// Pushes entry `index` on the front of the list at `place`.
    fn link(&mut self, index: u32, place: Place) {
        if place == self.hand_slot() && self.hand_slot_is_sorted() {
            // On the front, it keeps the order only if it is due first.
            let head = self.list_mut(place).head;
            let deadline = self.entries[index as usize].deadline;
            if head.is_some_and(|head| self.entries[head as usize].deadline < deadline) {
                self.hand_slot_sorted_at = None;
            }
        }
        if let Place::Slot { level, slot } = place {
            self.levels[level].busy |= 1 << slot;
        }
        let list = self.list_mut(place);
        let old_head = list.head.replace(index);
        if let Some(old_head) = old_head {
            self.entries[old_head as usize].previous = Some(index);
        }
        let entry = &mut self.entries[index as usize];
        (entry.place, entry.previous, entry.next) = (place, None, old_head);
    }

    /// The list of the hand's own millisecond.
    fn hand_slot(&self) -> Place {
        let slot = self.hand as usize % SLOTS;
        Place::Slot { level: 0, slot }
    }

    /// Whether the hand's slot is sorted by deadline, earliest first.
    fn hand_slot_is_sorted(&self) -> bool {
        self.hand_slot_sorted_at == Some(self.hand)
    }

    /// Takes entry `index` off its list (it stays in `entries`).
    fn unlink(&mut self, index: u32) {
        let Entry {
            place,
            previous,
            next,
            ..
        } = self.entries[index as usize];
        match previous {
            Some(previous) => self.entries[previous as usize].next = next,
            None => self.list_mut(place).head = next,
        }
        if let Some(next) = next {
            self.entries[next as usize].previous = previous;
        }
        if let Place::Slot { level, slot } = place
            && self.levels[level].slots[slot].head.is_none()
        {
            self.levels[level].busy &= !(1 << slot);
        }
    }

    /// Detaches the whole list at `place` and returns its first entry: the rest follow by
    /// `next`. Walked with `next` read before each entry is linked elsewhere, it empties a
    /// slot with no allocation, on the driver's path at every expiry.
    fn detach_list(&mut self, place: Place) -> Option<u32> {
        if let Place::Slot { level, slot } = place {
            self.levels[level].busy &= !(1 << slot);
        }
        self.list_mut(place).head.take()
    }
}

// ---- Finding and firing what is due -------------------------------------------------------

impl TimerWheel {
    // ANCHOR: next_busy_slot
    /// The earliest slot with timers in it, and the tick it starts at. Every timer on a
    /// lower level is due before any on a higher one (it is in the hand's current turn of
    /// that lower level), so the first level with a busy slot has the answer; on it, the
    /// first busy slot at or after the hand's position.
    fn next_busy_slot(&self) -> Option<(Place, u64)> {
        self.levels.iter().enumerate().find_map(|(level, slots)| {
            let shift = level as u32 * SLOT_BITS;
            let hand_position = (self.hand >> shift) as usize % SLOTS;
            let ahead = slots.busy >> hand_position; // slots behind the hand are empty
            if ahead == 0 {
                return None;
            }
            let slot = hand_position + ahead.trailing_zeros() as usize;
            let turn_start = self.hand & !((1u64 << (shift + SLOT_BITS)) - 1);
            let start = (turn_start | (slot as u64) << shift).max(self.hand);
            Some((Place::Slot { level, slot }, start))
        })
    }
    // ANCHOR_END: next_busy_slot

    // ANCHOR: next_deadline
    /// The earliest deadline, or an instant before it: the driver may wake then and find
    /// nothing due, but never later. Exact when the earliest timers are in the hand's own
    /// millisecond, the only case where "before it" could mean "now" and make the driver
    /// spin. Exact too when the earliest busy slot holds only a few timers
    /// ([`EXACT_LOOK_LIMIT`]): a short walk then spares the driver a wake-up at the slot's
    /// start just to cascade. Otherwise the start of that slot, without a walk over its list.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        match self.next_busy_slot() {
            Some((place @ Place::Slot { level: 0, .. }, start)) if start == self.hand => {
                self.earliest_on(place)
            }
            Some((place, start)) => self
                .earliest_of_a_few(place)
                .or_else(|| Some(self.start_of(start))),
            None => self.earliest_on(Place::Far),
        }
    }
    // ANCHOR_END: next_deadline

    /// The earliest exact deadline on the list at `place`, if it has at most
    /// [`EXACT_LOOK_LIMIT`] entries; `None` for a longer list (or an empty one).
    fn earliest_of_a_few(&self, place: Place) -> Option<Instant> {
        self.earliest_within(place, EXACT_LOOK_LIMIT).flatten()
    }

    /// The earliest exact deadline on one list.
    fn earliest_on(&self, place: Place) -> Option<Instant> {
        if place == self.hand_slot() && self.hand_slot_is_sorted() {
            let head = self.levels[0].slots[self.hand as usize % SLOTS].head?;
            return Some(self.entries[head as usize].deadline);
        }
        self.earliest_within(place, usize::MAX).flatten()
    }

    /// Walks the list at `place` for its earliest exact deadline, looking at `limit` entries
    /// at most: `Some(earliest)` if the list ended within them (`Some(None)` when empty),
    /// `None` if it is longer.
    fn earliest_within(&self, place: Place, limit: usize) -> Option<Option<Instant>> {
        let mut next = match place {
            Place::Slot { level, slot } => self.levels[level].slots[slot].head,
            Place::Far => self.far.head,
        };
        let mut earliest = None::<Instant>;
        for _ in 0..limit {
            let Some(index) = next else {
                return Some(earliest);
            };
            let entry = &self.entries[index as usize];
            earliest = Some(earliest.map_or(entry.deadline, |e| e.min(entry.deadline)));
            next = entry.next;
        }
        next.is_none().then_some(earliest)
    }

    // ANCHOR: expire
    /// Moves the wakers of every timer due at `now` into `expired`, and the hand up to it.
    pub(crate) fn expire(&mut self, now: Instant, expired: &mut Vec<Waker>) {
        let now_tick = self.tick_of(now);
        loop {
            match self.next_busy_slot() {
                Some((place, start)) if start <= now_tick => {
                    self.hand = start;
                    let all_fired = self.fire_or_cascade(place, now, expired);
                    if !all_fired {
                        break; // the rest are due later in this millisecond
                    }
                }
                _ => {
                    // Nothing busy before `now_tick`: the hand may jump there.
                    self.hand = self.hand.max(now_tick);
                    if !self.refile_far_if_turned() {
                        break;
                    }
                }
            }
        }
    }
    // ANCHOR_END: expire

    /// Empties the slot at `place`, which the hand has reached. On a higher level: files
    /// every entry again, lower down. On level 0 (the hand's own millisecond): sorts it if
    /// it is not sorted yet, then fires the entries due at `now` off its front. Returns
    /// false if some level-0 entry is not due yet.
    fn fire_or_cascade(&mut self, place: Place, now: Instant, expired: &mut Vec<Waker>) -> bool {
        if !matches!(place, Place::Slot { level: 0, .. }) {
            let mut next = self.detach_list(place);
            while let Some(index) = next {
                next = self.entries[index as usize].next;
                let place = self.place_for(self.entries[index as usize].tick);
                self.link(index, place);
            }
            return true;
        }
        if !self.hand_slot_is_sorted() {
            self.sort_hand_slot(place);
        }
        // Sorted, earliest first: what is due is at the front.
        while let Some(head) = self.list_mut(place).head {
            if self.entries[head as usize].deadline > now {
                return false;
            }
            self.unlink(head);
            expired.push(self.entries.remove(head as usize).waker);
        }
        true
    }

    // ANCHOR: sort_hand_slot
    /// Sorts the list of the hand's slot by deadline, earliest first: once per millisecond
    /// that has timers, O(k log k) for its k entries, where walking all of them at every
    /// look cost O(k) each time.
    fn sort_hand_slot(&mut self, place: Place) {
        let mut to_sort = std::mem::take(&mut self.to_sort);
        let mut next = self.detach_list(place);
        while let Some(index) = next {
            next = self.entries[index as usize].next;
            to_sort.push(index);
        }
        // Latest first, since `link` pushes each on the front.
        to_sort.sort_unstable_by_key(|&index| Reverse(self.entries[index as usize].deadline));
        self.hand_slot_sorted_at = Some(self.hand);
        for index in to_sort.drain(..) {
            self.link(index, place);
        }
        self.to_sort = to_sort;
    }
    // ANCHOR_END: sort_hand_slot

    /// When the hand has entered a new turn of the top level, files the far timers again
    /// (some may now fit on the wheel); returns whether any did.
    fn refile_far_if_turned(&mut self) -> bool {
        let turn = self.hand >> WHEEL_BITS;
        if turn == self.far_turn {
            return false;
        }
        self.far_turn = turn;
        let mut moved = false;
        let mut next = self.detach_list(Place::Far);
        while let Some(index) = next {
            next = self.entries[index as usize].next;
            let place = self.place_for(self.entries[index as usize].tick);
            moved |= place != Place::Far;
            self.link(index, place);
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    /// Expires at `now`; returns how many fired.
    fn fire(wheel: &mut TimerWheel, now: Instant) -> usize {
        let mut expired = Vec::new();
        wheel.expire(now, &mut expired);
        expired.len()
    }

    #[test]
    fn a_timer_goes_on_the_lowest_level_whose_turn_it_is_in() {
        let wheel = TimerWheel::new(Instant::now());
        let slot = |level, slot| Place::Slot { level, slot };
        assert_eq!(wheel.place_for(0), slot(0, 0));
        assert_eq!(wheel.place_for(63), slot(0, 63));
        assert_eq!(wheel.place_for(64), slot(1, 1));
        assert_eq!(wheel.place_for(64 * 64 - 1), slot(1, 63));
        assert_eq!(wheel.place_for(64 * 64), slot(2, 1));
        assert_eq!(wheel.place_for((1 << WHEEL_BITS) - 1), slot(5, 63));
        assert_eq!(wheel.place_for(1 << WHEEL_BITS), Place::Far);
    }

    #[test]
    fn timers_fire_at_their_deadline_never_before_whatever_level_they_start_on() {
        let epoch = Instant::now();
        let mut wheel = TimerWheel::new(epoch);
        // A spread over every level but the top, with sub-millisecond parts.
        let offsets = [
            0, 1, 5, 63, 64, 65, 1_000, 4_095, 4_096, 70_000, 300_000, 5_000_000,
        ];
        for millis in offsets {
            let deadline = epoch + ms(millis) + Duration::from_micros(300);
            wheel.insert(deadline, Waker::noop().clone());
        }
        let mut fired = 0;
        for millis in offsets {
            let deadline = epoch + ms(millis) + Duration::from_micros(300);
            assert_eq!(fire(&mut wheel, deadline - Duration::from_micros(1)), 0);
            assert_eq!(
                wheel.next_deadline(),
                Some(deadline),
                "exact, once it is near"
            );
            fired += fire(&mut wheel, deadline);
        }
        assert_eq!(fired, offsets.len());
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn the_next_deadline_is_never_later_than_the_earliest_timer() {
        let epoch = Instant::now();
        let mut wheel = TimerWheel::new(epoch);
        assert_eq!(wheel.next_deadline(), None);
        let deadline = epoch + ms(10_000) + Duration::from_micros(700);
        wheel.insert(deadline, Waker::noop().clone());
        let mut now = epoch;
        // The driver's loop: wake at what `next_deadline` says, expire, ask again.
        let mut wakes = 0;
        while !wheel.is_empty() {
            let next = wheel.next_deadline().unwrap();
            assert!(
                next <= deadline && next > now,
                "{next:?} moves towards the deadline"
            );
            now = next;
            fire(&mut wheel, now);
            wakes += 1;
        }
        assert_eq!(now, deadline, "fired exactly at its deadline");
        assert_eq!(
            wakes, 1,
            "a lone timer is known exactly: one wake, at its deadline"
        );
    }

    #[test]
    fn a_crowded_slot_is_reported_by_its_start_and_still_fires_on_time() {
        let epoch = Instant::now();
        let mut wheel = TimerWheel::new(epoch);
        // More timers than `next_deadline` walks, all in one 64 ms slot of level 1.
        let deadline = |i: u64| epoch + ms(1_000 + i) + Duration::from_micros(700);
        for i in 0..=EXACT_LOOK_LIMIT as u64 {
            wheel.insert(deadline(i), Waker::noop().clone());
        }
        let slot_start = epoch + ms(960); // 1,000 ms falls in level 1's slot 15, from 960 ms
        assert_eq!(
            wheel.next_deadline(),
            Some(slot_start),
            "no walk: the slot's start"
        );
        assert_eq!(fire(&mut wheel, slot_start), 0, "cascaded, none due yet");
        assert_eq!(
            wheel.next_deadline(),
            Some(deadline(0)),
            "after the cascade, exact"
        );
        assert_eq!(
            fire(&mut wheel, deadline(EXACT_LOOK_LIMIT as u64)),
            EXACT_LOOK_LIMIT + 1
        );
        assert!(wheel.is_empty());
    }

    #[test]
    fn the_hands_slot_is_sorted_once_and_stays_exact_as_timers_come_and_go() {
        let epoch = Instant::now();
        let mut wheel = TimerWheel::new(epoch);
        let at = |micros| epoch + ms(5) + Duration::from_micros(micros);
        let keys: Vec<_> = [500, 100, 700, 300]
            .into_iter()
            .map(|micros| wheel.insert(at(micros), Waker::noop().clone()))
            .collect();
        assert_eq!(fire(&mut wheel, at(50)), 0);
        assert!(wheel.hand_slot_is_sorted(), "the first look sorts the slot");
        assert_eq!(wheel.next_deadline(), Some(at(100)));
        wheel.remove(keys[1]); // the earliest goes: the answer moves on
        assert_eq!(wheel.next_deadline(), Some(at(300)));
        wheel.insert(at(200), Waker::noop().clone()); // earlier than the head: stays sorted
        assert!(wheel.hand_slot_is_sorted());
        assert_eq!(wheel.next_deadline(), Some(at(200)));
        wheel.insert(at(600), Waker::noop().clone()); // not the earliest: sorted again later
        assert!(!wheel.hand_slot_is_sorted());
        assert_eq!(wheel.next_deadline(), Some(at(200)));
        assert_eq!(fire(&mut wheel, at(250)), 1);
        assert_eq!(wheel.next_deadline(), Some(at(300)));
        assert_eq!(fire(&mut wheel, at(299)), 0, "never early");
        assert_eq!(fire(&mut wheel, at(600)), 3);
        assert_eq!(wheel.next_deadline(), Some(at(700)));
        assert_eq!(fire(&mut wheel, at(999)), 1);
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn a_removed_timer_never_fires_and_frees_its_slot() {
        let epoch = Instant::now();
        let mut wheel = TimerWheel::new(epoch);
        let keys: Vec<_> = (0..1_000)
            .map(|i| wheel.insert(epoch + ms(i % 200), Waker::noop().clone()))
            .collect();
        for key in keys.iter().step_by(2) {
            assert!(wheel.remove(*key).is_some());
            assert!(
                wheel.remove(*key).is_none(),
                "a second remove finds nothing"
            );
        }
        assert_eq!(fire(&mut wheel, epoch + ms(1_000)), 500);
        assert!(wheel.levels.iter().all(|level| level.busy == 0));
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn a_timer_beyond_the_wheel_waits_on_the_far_list_and_still_fires() {
        let epoch = Instant::now();
        let mut wheel = TimerWheel::new(epoch);
        let far = epoch + ms(1 << WHEEL_BITS) + ms(5);
        wheel.insert(far, Waker::noop().clone());
        assert_eq!(wheel.next_deadline(), Some(far));
        assert_eq!(fire(&mut wheel, epoch + ms(1 << 35)), 0);
        assert_eq!(fire(&mut wheel, far), 1);
        // A deadline no clock can reach is armed, and simply never fires.
        let never = epoch + Duration::from_secs(u64::MAX / 4);
        wheel.insert(never, Waker::noop().clone());
        assert_eq!(fire(&mut wheel, far + ms(1)), 0);
        assert_eq!(wheel.len(), 1);
    }

    #[test]
    fn timers_filed_while_the_hand_moves_fire_in_order_of_deadline() {
        // A deterministic shuffle of deadlines, inserted as the hand goes, checked against
        // a plain sorted list.
        let epoch = Instant::now();
        let mut wheel = TimerWheel::new(epoch);
        let mut pending: Vec<Instant> = Vec::new();
        let mut seed = 0x5eed_u64;
        let mut now = epoch;
        for _ in 0..2_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let offset = Duration::from_micros((seed >> 33) % 20_000_000);
            if seed % 3 == 0 {
                now += Duration::from_micros((seed >> 40) % 50_000);
                let due = pending.iter().filter(|&&d| d <= now).count();
                assert_eq!(fire(&mut wheel, now), due);
                pending.retain(|&d| d > now);
            }
            pending.push(now + offset);
            wheel.insert(now + offset, Waker::noop().clone());
        }
        let earliest = *pending.iter().min().unwrap();
        assert!(
            wheel.next_deadline().unwrap() <= earliest,
            "never later than the earliest"
        );
        let last = *pending.iter().max().unwrap();
        assert_eq!(fire(&mut wheel, last), pending.len());
    }
}
