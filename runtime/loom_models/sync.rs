//! The sync primitives whose correctness hangs on a race: `broadcast`'s lag accounting
//! against a concurrent sender, `RwLock`'s hand-off between readers and writers, and the
//! bounded `mpsc` channel's free slots, which move between an atomic word and its lock.
//!
//! They run the real `sync` code: under `--cfg loom` the `Semaphore`, the `RwLock`'s slot,
//! the broadcast channel and the mpsc channel take their `Mutex` (and the channel its slot
//! word) from `primitives.rs`, so loom chooses the order of every lock acquisition and
//! atomic operation. The tasks are loom threads driven by
//! `loom::future::block_on`, whose waker unparks the loom thread: a wake-up that the code
//! forgets shows as a deadlock.

use super::support::{model, model_with_preemption_bound};
use crate::sync::RwLock;
use crate::sync::broadcast::{self, error::RecvError};
use crate::sync::mpsc;
use loom::future::block_on;
use loom::thread;
use std::sync::Arc;

// ANCHOR: model_broadcast_lag
/// A sender fills a ring of 2 with 3 messages while a receiver waits on another thread.
/// Whatever the order, every message is accounted for exactly once, either received (in
/// order) or counted in a `Lagged`, and then the receiver sees `Closed`; nothing is kept
/// once it has read everything.
/// Would catch: a lag count off by one (positions against the oldest kept), a message
/// counted both as lagged and as received, a send that forgets to wake the waiting
/// receiver (a deadlock), or a message kept after the last reader had it.
#[test]
fn broadcast_every_message_is_received_or_counted_as_lagged_exactly_once() {
    model(|| {
        const SENT: u64 = 3;
        let (tx, mut rx) = broadcast::channel::<u64>(2);
        let observer = tx.clone();
        let sender = thread::spawn(move || {
            for message in 0..SENT {
                tx.send(message).expect("the receiver lives");
            }
        });
        let mut accounted = 0;
        loop {
            match block_on(rx.recv()) {
                Ok(message) => {
                    assert_eq!(message, accounted, "in order, and none twice");
                    accounted += 1;
                }
                Err(RecvError::Lagged(missed)) => {
                    assert!(missed > 0);
                    accounted += missed;
                }
                Err(RecvError::Closed) => unreachable!("a sender is alive"),
            }
            if accounted == SENT {
                break;
            }
        }
        sender.join().unwrap();
        assert_eq!(accounted, SENT, "each message exactly once");
        assert!(observer.is_empty(), "nothing kept that nobody needs");
        drop(observer);
        assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
    });
}
// ANCHOR_END: model_broadcast_lag

// ANCHOR: model_rwlock_handoff
/// A writer, a reader and a second writer contend for one lock. Each writer must find
/// itself the only holder of the value (`Arc::get_mut` panics otherwise), a reader must
/// never see a write half-done, and both writes must land.
/// Would catch: a read guard giving its permit back before it drops its share of the value
/// (a writer let in while the reader still holds it), a writer putting the value back after
/// releasing its permits, or a hand-off that loses a waiter's wake-up (a deadlock).
#[test]
fn rwlock_readers_and_writers_hand_the_value_over_cleanly() {
    model_with_preemption_bound(3, || {
        let lock = Arc::new(RwLock::new((0u32, 0u32)));
        let writer = {
            let lock = lock.clone();
            thread::spawn(move || {
                let mut guard = block_on(lock.write());
                guard.0 += 1;
                guard.1 += 1;
            })
        };
        let reader = {
            let lock = lock.clone();
            thread::spawn(move || {
                let guard = block_on(lock.read());
                assert_eq!(guard.0, guard.1, "a read never sees half a write");
            })
        };
        {
            let mut guard = block_on(lock.write());
            guard.0 += 1;
            guard.1 += 1;
        }
        writer.join().unwrap();
        reader.join().unwrap();
        assert_eq!(*block_on(lock.read()), (2, 2));
    });
}
// ANCHOR_END: model_rwlock_handoff

// ANCHOR: model_mpsc_slots
/// A sender pushes 3 messages through a channel of one slot while the receiver takes them
/// on another thread, so the sender must wait for the slot twice: the slot moves from the
/// atomic word under the lock and back, while the receiver gives it back lock-free or under
/// the lock, and files its waker or finds the queue full. Whatever the order, the messages
/// arrive in order, the receiver then sees the end, and the slot is back.
/// Would catch: a slot given back to the word while a sender waits under the lock (the
/// sender then sleeps for ever: a deadlock), a slot lost or counted twice in a move, a
/// receiver that files its waker after the push it waits for, or a batch that frees its
/// slots before it hands the messages out.
#[test]
fn mpsc_a_waiting_sender_gets_the_slot_back_and_nothing_is_lost() {
    model_with_preemption_bound(2, || {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let observer = tx.clone();
        let sender = thread::spawn(move || {
            for message in 0..3 {
                block_on(tx.send(message)).expect("the receiver lives");
            }
        });
        for expected in 0..3 {
            assert_eq!(block_on(rx.recv()), Some(expected), "in order, none lost");
        }
        sender.join().unwrap();
        assert_eq!(observer.capacity(), 1, "the slot is back");
        drop(observer);
        assert_eq!(block_on(rx.recv()), None);
    });
}
// ANCHOR_END: model_mpsc_slots

/// A sender sends twice through a channel of one slot, so its second send waits for the
/// slot while the first message holds it; meanwhile the receiver closes the channel, then
/// drains it. The receiver gets exactly the messages whose send succeeded, in order, and
/// then the end.
/// Would catch: a close that leaves a waiting sender asleep (a deadlock), a message
/// accepted in the close's race and never received, or one received although its send
/// failed.
#[test]
fn mpsc_a_close_fails_the_waiting_sender_or_delivers_its_message() {
    model_with_preemption_bound(2, || {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let sender = thread::spawn(move || {
            let sent: Vec<u8> = (0..2)
                .filter(|&message| block_on(tx.send(message)).is_ok())
                .collect();
            sent
        });
        rx.close();
        let mut received = Vec::new();
        while let Some(message) = block_on(rx.recv()) {
            received.push(message);
        }
        assert_eq!(
            received,
            sender.join().unwrap(),
            "exactly what was accepted"
        );
    });
}

/// A channel of two slots, both reserved as permits on another thread: one sends, the
/// other is dropped unused. Meanwhile the receiver closes the channel, keeps a sender of its
/// own alive, and drains. A closed channel with a permit out may still get a message, so
/// the receiver must wait until every slot is back, and the last permit's return must wake
/// it; then it sees the end, although a `Sender` still lives.
/// Would catch: a permit dropped or used without waking a closed receiver that waits for
/// it (`receiver_if_done` forgotten: a deadlock), a receiver that ends while a permit is
/// out (the permit's message lost), or a slot that never comes back.
#[test]
fn mpsc_a_closed_receiver_waits_for_the_last_permit_and_is_woken_by_it() {
    model_with_preemption_bound(2, || {
        let (tx, mut rx) = mpsc::channel::<u8>(2);
        let kept = tx.clone();
        let holder = thread::spawn(move || {
            let Ok(first) = block_on(tx.reserve()) else {
                return false; // closed before the first reservation: nothing to send
            };
            let Ok(second) = block_on(tx.reserve()) else {
                drop(first);
                return false;
            };
            first.send(7);
            drop(second);
            true
        });
        rx.close();
        let mut received = Vec::new();
        while let Some(message) = block_on(rx.recv()) {
            received.push(message);
        }
        let sent = holder.join().unwrap();
        assert_eq!(
            received,
            if sent { vec![7] } else { vec![] },
            "what a permit sent"
        );
        assert_eq!(kept.capacity(), 2, "every slot is back");
        drop(kept);
    });
}
