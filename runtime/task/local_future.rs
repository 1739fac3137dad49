//! `ThreadBound<F>`: a `!Send` future made fit for the task core, by promising (and checking)
//! that it never leaves the thread it was spawned on.
//!
//! The task core (`raw.rs`) needs `Send` futures: a task is its own waker, and a waker may be
//! used from any thread. A `LocalSet` runs `!Send` futures (holding an `Rc`, a `RefCell`
//! borrowed across an `.await`) on one thread only. Rather than write a second task type for
//! them, with its own state word, join handle, abort and panic handling, the local set wraps
//! each future in this type, which is `Send` because it checks, on every poll and at drop,
//! that it is still on its owner thread. Moving the *wrapper* to another thread is then
//! harmless: nothing touches the future there.
//!
//! The corner it cuts: the future sits in a `Box` of its own (a second allocation per local
//! spawn) so that pinning it needs no `unsafe` projection. tokio's `LocalSet` instead builds
//! its tasks with an unchecked `Send` and relies on its scheduler never to run them elsewhere;
//! here a mistake in the scheduler would be a clear panic, not undefined behaviour.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread::{self, ThreadId};

/// A future that may only be polled and dropped on the thread that created it.
pub(crate) struct ThreadBound<F> {
    /// `None` only after a drop on a foreign thread took the future out to leak it.
    future: Option<Pin<Box<F>>>,
    /// The one thread allowed to touch the future.
    owner: ThreadId,
}

impl<F> ThreadBound<F> {
    /// Binds `future` to the calling thread.
    pub(crate) fn new(future: F) -> ThreadBound<F> {
        ThreadBound {
            future: Some(Box::pin(future)),
            owner: thread::current().id(),
        }
    }

    fn on_owner_thread(&self) -> bool {
        thread::current().id() == self.owner
    }
}

// ANCHOR: thread_bound_send
// SAFETY: `Send` lets the wrapper move to another thread; what must not happen there is any
// use of the `F` inside (it may hold an `Rc` whose count another thread also changes). The
// only ways to reach the `F` are `poll`, which panics before touching it unless it runs on
// `owner`, and `drop`, which off the owner thread leaks the future instead of dropping it.
// So the `F` is only ever used by the thread that created it, which is all `!Send` asks.
unsafe impl<F> Send for ThreadBound<F> {}
// ANCHOR_END: thread_bound_send

impl<F: Future> Future for ThreadBound<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        assert!(
            self.on_owner_thread(),
            "a task of a LocalSet was polled on another thread than its own"
        );
        let future = self.future.as_mut().expect("only a foreign drop takes it");
        future.as_mut().poll(cx)
    }
}

impl<F> Drop for ThreadBound<F> {
    fn drop(&mut self) {
        if !self.on_owner_thread() {
            // Dropping here would run `F`'s destructor on the wrong thread. Leaking is safe,
            // and the local set never gets here: it drops its tasks on its own thread.
            std::mem::forget(self.future.take());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;
    use std::task::Waker;

    #[test]
    fn polls_on_its_own_thread() {
        let shared = Rc::new(5);
        let mut bound = ThreadBound::new(async move { *shared + 1 });
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(Pin::new(&mut bound).poll(&mut cx), Poll::Ready(6));
    }

    #[test]
    fn a_poll_on_another_thread_panics_without_touching_the_future() {
        let mut bound = ThreadBound::new(std::future::ready(1));
        // Lent, not moved: the wrapper comes back to drop here, on its own thread.
        let result = thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut cx = Context::from_waker(Waker::noop());
                    let _ = Pin::new(&mut bound).poll(&mut cx);
                })
                .join()
        });
        assert!(result.is_err(), "the foreign poll must panic");
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(
            Pin::new(&mut bound).poll(&mut cx),
            Poll::Ready(1),
            "untouched"
        );
    }

    #[test]
    // It leaks on purpose: miri skips it, and scripts/asan.sh tells LeakSanitizer to expect
    // it (scripts/lsan-suppressions.txt).
    #[cfg_attr(miri, ignore = "leaks on purpose, which miri's leak check reports")]
    fn a_drop_on_another_thread_leaks_instead_of_running_the_destructor() {
        let counted = Rc::new(());
        let weak = Rc::downgrade(&counted);
        let witness = std::sync::Arc::new(());
        let held = witness.clone();
        let bound = ThreadBound::new(async move {
            let _keep = (counted, held);
        });
        thread::spawn(move || drop(bound)).join().unwrap();
        // The future (and so both values it owns) was leaked, not dropped.
        assert_eq!(std::sync::Arc::strong_count(&witness), 2);
        assert!(weak.upgrade().is_some());
    }
}
