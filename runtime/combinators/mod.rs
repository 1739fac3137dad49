//! [`join!`](crate::join) and [`select!`](crate::select): one future that polls several.
//!
//! # Concurrency inside one task
//!
//! [`spawn`](crate::spawn) runs futures concurrently by making each one a separate task that
//! the scheduler polls on its own. `join!` and `select!` get concurrency without new tasks:
//! each builds *one* future that holds several, and every time the task polls that one
//! future, it polls the futures inside it in turn. They all run in the same task, on the same
//! thread, taking turns at the points where they return `Pending`. That is concurrency
//! without parallelism: a future that blocks the thread (a long computation, a blocking
//! syscall) stalls its siblings too. Spawn the work and join the `JoinHandle`s if you need
//! it to run in parallel.
//!
//! * `join!(a, b, c)` finishes when **all** of its futures have finished, and hands back
//!   their outputs as a tuple, in the order they were written. [`try_join!`](crate::try_join)
//!   does the same for futures that return `Result`s, but stops at the first `Err`.
//! * `select! { x = a => .., y = b => .. }` finishes when the **first** of its futures
//!   finishes (and its output matches the branch's pattern): it runs that branch's handler
//!   and drops every other future.
//!
//! # One waker for all of them
//!
//! The task has a single [`Waker`](std::task::Waker). The combinator passes the same
//! `Context` to every future it polls, so each inner future that answers `Pending` stores
//! that one waker. Whichever of them becomes ready wakes the whole task; the task polls the
//! combinator, and the combinator polls *all* the unfinished futures again, because it cannot
//! tell which one woke it. That wasted polling is the price of simplicity, and it is cheap: a
//! future that is not ready answers `Pending` at once. (`FuturesUnordered` in the `futures`
//! crate instead gives every inner future its own waker, so that it only re-polls the ones
//! that were woken; it is worth it for thousands of futures, not for the handful a macro
//! lists.)
//!
//! Both macros start each round of polling at a different future: `join!` moves its starting
//! point one future along on every poll, and `select!` picks its first branch from a
//! thread-local counter, scrambled so that it looks random (tokio draws a random number
//! instead). Without that rotation, a future that is always ready would be polled first
//! every time and could hog the task's cooperative budget, or, in a `select!` in a loop,
//! win every round so that the branches after it never get a turn. `biased;` at the start of
//! a `select!` turns rotation off and polls in the order the branches are written.
//!
//! # Why the futures must be pinned
//!
//! `Future::poll` takes `self: Pin<&mut Self>`. An `async` block may keep references to its
//! own local variables across an `.await`, so once it has been polled it must never move in
//! memory again: `Pin` is that promise. The macros pin each future with [`std::pin::pin!`]
//! inside the block they expand to. Across the `.await` in that block, the pinned futures
//! are part of the enclosing `async` code's state, which is itself pinned (in its task, or
//! by `block_on`), so nothing ever moves and no `Box` is needed. (tokio stores the futures together in one tuple and pins
//! them with the `unsafe` `Pin::new_unchecked`; pinning each one with `pin!` needs no
//! `unsafe`, which this module forbids below.)
//!
//! You may also give a branch `&mut fut`: a reference to a future that lives outside the
//! macro. A `&mut F` is a future whenever `F` is `Unpin` (as
//! [`Sleep`](crate::time::Sleep) is, or any `Pin<&mut F>` made with `pin!`). The macro then
//! polls, and afterwards drops, only the reference: the future itself survives, keeps its
//! progress, and can be polled again by the next `select!` in a loop.
//!
//! # Dropping the losers is cancelling them
//!
//! In async Rust, you cancel a future by dropping it: nothing runs any more of its code, and
//! its destructor releases what it held (a `Sleep` leaves the timer queue, an `accept`
//! stops waiting on the listener). When one `select!` branch wins, the futures of all the
//! other branches are dropped, half-way through whatever they were doing. That is the whole
//! of `select!`'s cancellation, and why it matters which futures are *cancel-safe*: a
//! future that had already taken bytes from a socket into its own state loses them when it
//! is dropped (the [`select!`](crate::select) documentation has a table for every future in
//! asincrono).
//!
//! The losers are dropped **before** the winner's handler runs. A handler may therefore use
//! whatever the losing futures had borrowed: if one branch reads from a stream and another
//! is a timeout, the timeout's handler can write to that same stream.
//!
//! # What the macros expand to
//!
//! `join!(a, b)` is close to this hand-written code:
//!
//! ```
//! use std::future::{Future, poll_fn};
//! use std::pin::pin;
//! use std::task::Poll;
//!
//! # asincrono::block_on(async {
//! let a = async { 1 };
//! let b = async { "two" };
//!
//! // Pin each future where it stands: from here on they never move.
//! let mut a = pin!(a);
//! let mut b = pin!(b);
//! // Each output waits here until the other future has finished too.
//! let mut a_output = None;
//! let mut b_output = None;
//! let (one, two) = poll_fn(|cx| {
//!     // A future that has finished is never polled again.
//!     if a_output.is_none() {
//!         if let Poll::Ready(output) = a.as_mut().poll(cx) {
//!             a_output = Some(output);
//!         }
//!     }
//!     if b_output.is_none() {
//!         if let Poll::Ready(output) = b.as_mut().poll(cx) {
//!             b_output = Some(output);
//!         }
//!     }
//!     if a_output.is_none() || b_output.is_none() {
//!         // Waker contract: each unfinished future has just answered Pending, and so
//!         // has stored cx's waker; when one of them wakes the task, we are polled again.
//!         return Poll::Pending;
//!     }
//!     Poll::Ready((a_output.take().expect("a finished"), b_output.take().expect("b finished")))
//! })
//! .await;
//! assert_eq!((one, two), (1, "two"));
//! # });
//! ```
//!
//! The real expansion keeps each future's pointer and its output together in a
//! `MaybeDone` (running, done with its output, or output taken), moves those into the
//! closure, and rotates the first future it polls (`biased;` does not). `select!` expands to two nested blocks:
//!
//! ```text
//! {
//!     let outputs = {
//!         // Evaluate the `if` preconditions, then the futures; pin each future.
//!         // Poll the enabled branches (rotating the start) until one finishes with an
//!         // output that matches its pattern, or until every branch is disabled; the
//!         // poll that ends it returns the winner's output: `(None, Some(output), None)`.
//!     }; // <- every future, winner and losers, is dropped here
//!     match outputs {
//!         (Some(output), ..) => match output { pattern0 => handler0 },
//!         (_, Some(output), ..) => match output { pattern1 => handler1 },
//!         _ => else_branch, // or a panic if there is none
//!     }
//! }
//! ```
//!
//! The handlers are plain code in a `match`, outside any closure and any loop of the
//! macro's own, so `.await`, `?`, `return`, and `break` or `continue` of *your* loop all mean
//! what they would mean without the macro.
//!
//! # Corners cut, and what tokio does instead
//!
//! * **Patterns are tested without a procedural macro.** `select!` must know whether an
//!   output matches its branch's pattern before it stops polling, yet the pattern's
//!   bindings belong to the handler, which runs later. tokio's procedural macro makes a copy
//!   of the pattern with every `ref` and `mut` removed and matches that copy against a
//!   *reference* to the output. A `macro_rules!` macro cannot take a pattern apart, so
//!   asincrono tests the pattern as written, in a `match` arm whose guard notes "it
//!   matched" and then answers `false`: inside a guard the bindings are only references,
//!   and an arm whose guard fails moves nothing out of the value (the `@matches` rule of
//!   `__select!` in `select.rs`). The cost is that each winning output is matched twice.
//! * **Branches and futures are numbered by recursion.** The macros number their futures by
//!   calling themselves once per future, and each call counts against the compiler's
//!   `recursion_limit` (128 by default): 64 branches or futures compile, as in tokio, but
//!   around a hundred do not.
//! * **One pointer per future.** Whatever a `join!` or `select!` keeps across its `.await`
//!   becomes part of the task that awaits it, so the macros keep little: each future where
//!   it was pinned, one `Pin<&mut F>` to it, a slot for each `join!` output, and a `u32`
//!   for a fair `join!`'s rotation (`select!` picks its first branch afresh on each poll,
//!   so it keeps nothing for that). tokio keeps its futures in one tuple behind one
//!   pointer and reaches each one with the `unsafe` `Pin::new_unchecked`; asincrono pins
//!   each future with `pin!` and pays 8 bytes per future for it (the tokio tests
//!   `join_size` and `struct_size_*` measure exactly that; chapter 12 of the book says why
//!   asincrono keeps the difference).
//! * **A finished `join!` future stays where it is** (not polled, just kept) until the whole
//!   `join!` finishes; tokio drops it as soon as it has finished. A finished `async` block
//!   has already dropped everything it held, so this is rarely visible.
//! * **Rotation is pseudo-random, not random**: a thread-local counter scrambled by a
//!   multiplication. It is reproducible, which is handy in tests, and it still gives every
//!   branch its turn, even to a `select!` that runs only every other time the counter moves.

// Everything here is built from `pin!`, `poll_fn` and plain enums: no `unsafe` is needed,
// and the compiler holds us to that.
#![forbid(unsafe_code)]

mod join;
mod pin;
mod select;

pub use crate::{join, pin, select, try_join};

/// Items the macros' expansions name through `$crate::combinators::__private::…`. Not part
/// of the API: they are public only because code expanded in another crate must reach them.
#[doc(hidden)]
pub mod __private {
    pub use super::join::{InOrder, MaybeDone, Rotating};
    pub use super::select::{
        Branch, BranchPoll, all_branches_disabled, budget_spent, enabled_if, first_branch,
        poll_branch,
    };
}
