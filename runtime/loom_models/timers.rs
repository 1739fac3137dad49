//! The timer queue: a timer cancelled (its `Sleep` dropped) while the driver fires it.

use super::support::{Tracked, model};
use crate::driver::{Registered, TimerQueue};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

/// A waker that counts its wakes.
struct CountingWaker {
    wakes: Arc<AtomicUsize>,
    _token: super::support::DropToken,
}

impl Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
}

/// A due timer is cancelled on one thread while the driver expires it on another. The
/// waker fires at most once, the queue is left empty, and the waker is dropped (loom fails
/// a model that leaks it).
/// Would catch: `expire` waking under the lock while `cancel` holds the waker too (two
/// owners), or a cancel that leaves its entry behind.
#[test]
fn a_timer_cancelled_while_it_fires_wakes_at_most_once() {
    model(|| {
        let tracked = Tracked::default();
        let wakes = Arc::new(AtomicUsize::new(0));
        let waker = Waker::from(std::sync::Arc::new(CountingWaker {
            wakes: wakes.clone(),
            _token: tracked.token(),
        }));
        let timers = std::sync::Arc::new(TimerQueue::new());
        let mut key = None;
        let due = Instant::now() - Duration::from_millis(1);
        let registered = timers.register(&mut key, due, &waker).unwrap();
        assert!(
            matches!(registered, Registered::Armed { .. }),
            "nothing fired yet"
        );
        drop(waker);

        let driver = {
            let timers = timers.clone();
            thread::spawn(move || {
                let mut expired = Vec::new();
                timers.expire(Instant::now(), &mut expired);
                expired.into_iter().for_each(Waker::wake);
            })
        };
        let cancelled = timers.cancel(key.unwrap(), due); // what dropping the `Sleep` does
        driver.join().unwrap();

        let fired = wakes.load(SeqCst);
        assert!(fired <= 1, "woken {fired} times");
        assert_eq!(
            fired == 1,
            cancelled.is_none(),
            "fired exactly when not cancelled"
        );
        assert_eq!(timers.len(), 0, "nothing left in the queue");
        drop(cancelled);
        assert_eq!(tracked.drops(), 1, "the waker is dropped");
    });
}
