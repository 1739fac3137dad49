//! `join!` and `try_join!`: wait for every future, hand back all the outputs.

use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Waits for several futures at once and returns all of their outputs, as a tuple in the
/// order the futures were written.
///
/// Use it in async code (it contains an `.await`). Each argument is anything that implements
/// [`IntoFuture`](std::future::IntoFuture). The arguments are evaluated first, in order, and
/// only then polled, all inside the current task: the futures run concurrently, taking turns
/// at their `.await`s, but never in parallel (see the [`combinators`](crate::combinators)
/// module for how, and why that matters). To use more threads, spawn the work and join the
/// [`JoinHandle`](crate::task::JoinHandle)s.
///
/// Each time the `join!` is polled, it polls every future that has not finished yet, once,
/// starting one future further along than last time (so that a future that is always ready
/// cannot make its siblings wait for the cooperative budget). A future that has finished is
/// never polled again; its output waits inside the `join!` until the last one finishes.
///
/// `join!` waits for *all* of its futures, even when some of them return an `Err`. `join!()`
/// with no futures is `()`.
///
/// # Examples
///
/// The outputs come back in the order the futures were written, whichever finishes first:
///
/// ```
/// use std::time::Duration;
/// use asincrono::time::sleep;
///
/// asincrono::block_on(async {
///     let slow = async {
///         sleep(Duration::from_millis(20)).await;
///         "slow"
///     };
///     let fast = async { 42 };
///     let (first, second) = asincrono::join!(slow, fast);
///     assert_eq!((first, second), ("slow", 42));
/// });
/// ```
///
/// Two futures that need each other: awaiting them one after the other would wait for ever
/// (the first waits for a reply the second has not been polled to send), while `join!`
/// polls both:
///
/// ```
/// use asincrono::io::{AsyncReadExt, AsyncWriteExt};
/// use asincrono::net::UnixStream;
///
/// asincrono::block_on(async {
///     let (mut left, mut right) = UnixStream::pair()?;
///     let asker = async {
///         left.write_all(b"ping").await?;
///         let mut reply = [0; 4];
///         left.read_exact(&mut reply).await?;
///         std::io::Result::Ok(reply)
///     };
///     let answerer = async {
///         let mut question = [0; 4];
///         right.read_exact(&mut question).await?;
///         right.write_all(b"pong").await?;
///         std::io::Result::Ok(question)
///     };
///     let (reply, question) = asincrono::join!(asker, answerer);
///     assert_eq!((&reply?, &question?), (b"pong", b"ping"));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
///
/// # Cancel safety
///
/// Dropping an unfinished `join!` (because it lost a [`select!`](crate::select), or ran
/// out of [`timeout`](crate::time::timeout)) drops every future inside it where it stands,
/// *and* the outputs of the futures that had already finished. A finished `read`, say, has
/// taken bytes from its stream, and how many goes with its output. So a `join!` is not
/// cancel-safe in general: only when its futures are, and losing the outputs of the ones
/// that finished early costs nothing.
#[macro_export]
macro_rules! join {
    (biased; $($future:expr),* $(,)?) => {
        $crate::__join!(@number join InOrder [] [] $($future,)*)
    };
    ($($future:expr),* $(,)?) => {
        $crate::__join!(@number join Rotating [] [] $($future,)*)
    };
}

/// Like [`join!`](crate::join), for futures whose outputs are `Result`s: waits until all of
/// them have succeeded and returns `Ok` with the tuple of their values, or returns the
/// first `Err` as soon as one appears, dropping (so cancelling) the futures that have not
/// finished yet.
///
/// All the futures must have the same error type; convert with `map_err`, or wrap a future
/// in an `async` block that uses `?`. "First" means first seen: the futures are polled from
/// a rotating start, so when two fail in the same poll, either error may be returned.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use asincrono::time::sleep;
///
/// asincrono::block_on(async {
///     let both = asincrono::try_join!(
///         async { Ok::<_, String>(1) },
///         async { Ok::<_, String>("one") },
///     );
///     assert_eq!(both, Ok((1, "one")));
///
///     // The error ends the wait at once: the hour-long sleep is dropped, not awaited.
///     let failed = asincrono::try_join!(
///         async {
///             sleep(Duration::from_secs(3600)).await;
///             Ok::<_, String>(1)
///         },
///         async { Err::<u8, _>(String::from("refused")) },
///     );
///     assert_eq!(failed, Err(String::from("refused")));
/// });
/// ```
///
/// # Cancel safety
///
/// As for [`join!`](crate::join): a `try_join!` dropped before it finishes drops all of
/// its futures, and the values of those that had already succeeded, so it is not
/// cancel-safe in general.
#[macro_export]
macro_rules! try_join {
    (biased; $($future:expr),* $(,)?) => {
        $crate::__join!(@number try_join InOrder [] [] $($future,)*)
    };
    ($($future:expr),* $(,)?) => {
        $crate::__join!(@number try_join Rotating [] [] $($future,)*)
    };
}

/// The machinery behind [`join!`](crate::join) and [`try_join!`](crate::try_join): numbers
/// the futures, then expands.
#[doc(hidden)]
#[macro_export]
macro_rules! __join {
    // Numbering. Each future moves to the numbered list together with one `_` for every
    // future before it. That list of `_` is the future's position, in two forms: as a
    // pattern, `(_, _, state, ..)` picks the third element of a tuple; and
    // `["_", "_"].len()`, one string per `_`, is the number 2.
    // `$mode` is `join` or `try_join`; `$order` is `Rotating`, or `InOrder` for `biased;`.
    (@number $mode:ident $order:ident [$($numbered:tt)*] [$($before:tt)*] $future:expr, $($rest:tt)*) => {
        $crate::__join!(
            @number $mode $order [$($numbered)* { [$($before)*] $future }] [$($before)* _] $($rest)*
        )
    };
    // No futures at all: nothing to wait for.
    (@number join $order:ident [] []) => {
        ()
    };
    (@number try_join $order:ident [] []) => {
        ::core::result::Result::Ok(())
    };
    (@number $mode:ident $order:ident [$($numbered:tt)*] [$($all:tt)*]) => {
        $crate::__join!(@$mode $order [$($all)*] $($numbered)*)
    };

    // ANCHOR: join_expand
    (@join $order:ident [$($all:tt)*] $( { [$($before:tt)*] $future:expr } )+) => {{
        // Evaluate every argument, in order, and pin each future in this block, where it
        // stays until the `join!` finishes.
        let mut states = ($(
            $crate::combinators::__private::MaybeDone::Running {
                future: ::core::pin::pin!(::core::future::IntoFuture::into_future($future)),
            },
        )+);
        // Which future is polled first: one further along each poll, or always the first.
        let mut order =
            <$crate::combinators::__private::$order as ::core::default::Default>::default();
        // `move`: the closure owns the states (each holds only a pointer to its pinned
        // future, or an output) and the order, so the `join!` keeps nothing else across
        // its `.await`. Every byte kept there is a byte of the task that awaits it.
        ::core::future::poll_fn(move |cx| {
            // A constant, computed here rather than kept.
            let count = <[&str]>::len(&[$(::core::stringify!($all)),*]);
            let start = order.first(count);
            let mut all_done = true;
            for offset in 0..count {
                let index = (start + offset) % count;
                $(
                    if index == <[&str]>::len(&[$(::core::stringify!($before)),*]) {
                        let ($($before,)* state, ..) = &mut states;
                        if state.poll(cx).is_pending() {
                            all_done = false;
                        }
                    }
                )+
            }
            if !all_done {
                // Waker contract: every future that has not finished answered `Pending` in
                // the loop above, and by that answer promised to have stored cx's waker.
                // When one of them can make progress it wakes the task, which polls us
                // again. (Finished futures owe us nothing: they are never polled again.)
                return ::core::task::Poll::Pending;
            }
            // An output type may be uninhabited (`Infallible`): then this code is never
            // reached, and that is no reason to warn the caller.
            #[allow(unreachable_code)]
            {
                ::core::task::Poll::Ready(($(
                    {
                        let ($($before,)* state, ..) = &mut states;
                        state.take_output()
                    },
                )+))
            }
        })
        .await
    }};
    // ANCHOR_END: join_expand

    // The same as `@join`, with two differences, marked (1) and (2).
    (@try_join $order:ident [$($all:tt)*] $( { [$($before:tt)*] $future:expr } )+) => {{
        let mut states = ($(
            $crate::combinators::__private::MaybeDone::Running {
                future: ::core::pin::pin!(::core::future::IntoFuture::into_future($future)),
            },
        )+);
        let mut order =
            <$crate::combinators::__private::$order as ::core::default::Default>::default();
        ::core::future::poll_fn(move |cx| {
            let count = <[&str]>::len(&[$(::core::stringify!($all)),*]);
            let start = order.first(count);
            let mut all_done = true;
            for offset in 0..count {
                let index = (start + offset) % count;
                $(
                    if index == <[&str]>::len(&[$(::core::stringify!($before)),*]) {
                        let ($($before,)* state, ..) = &mut states;
                        if state.poll(cx).is_pending() {
                            all_done = false;
                        } else if let ::core::option::Option::Some(error) = state.take_error() {
                            // (1) The first error ends the wait. The futures still running
                            // are dropped with this block, as soon as the `.await` returns.
                            return ::core::task::Poll::Ready(::core::result::Result::Err(error));
                        }
                    }
                )+
            }
            if !all_done {
                // Waker contract: as in `@join`, every unfinished future answered `Pending`
                // just now, having stored cx's waker.
                return ::core::task::Poll::Pending;
            }
            // (2) Every future succeeded: hand out the values inside one `Ok`.
            #[allow(unreachable_code)]
            {
                ::core::task::Poll::Ready(::core::result::Result::Ok(($(
                    {
                        let ($($before,)* state, ..) = &mut states;
                        state.take_ok()
                    },
                )+)))
            }
        })
        .await
    }};
}

/// The order of a `join!` without `biased;`: each poll starts one future further along than
/// the one before, so that a future that is always ready cannot make the others wait.
#[derive(Debug, Default)]
pub struct Rotating {
    /// The future the next poll starts at. A `u32` (tokio's size too): a `join!` of more
    /// than four billion futures would not compile anyway.
    next: u32,
}

impl Rotating {
    /// The future this poll starts at, out of `count`; moves the start along for the next.
    pub fn first(&mut self, count: usize) -> usize {
        let first = self.next as usize;
        self.next = if first + 1 >= count { 0 } else { self.next + 1 };
        first
    }
}

/// The order of a `join!` with `biased;`: always the written order. It takes no space.
#[derive(Debug, Default)]
pub struct InOrder;

impl InOrder {
    /// Always the first future.
    pub fn first(&mut self, _count: usize) -> usize {
        0
    }
}

// By hand: a derived `Debug` would ask `F` and its output to be `Debug`, which a `join!`
// of ordinary futures cannot promise.
impl<F: Future> std::fmt::Debug for MaybeDone<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self {
            MaybeDone::Running { .. } => "Running",
            MaybeDone::Done(_) => "Done",
            MaybeDone::Taken => "Taken",
        };
        f.write_str(state)
    }
}

/// One future of a `join!`: running, then finished with its output, then emptied.
pub enum MaybeDone<'a, F: Future> {
    /// Not finished: polled every time the `join!` is polled.
    Running {
        /// The future, pinned in the `join!`'s block. A named field rather than a tuple
        /// variant on purpose: `pin!(…)` written inside a braced struct expression in a
        /// `let` lives as long as that `let`'s block (temporary lifetime extension), which
        /// Rust 1.85, the oldest version this crate supports, does not do for the argument
        /// of a call like `Running(pin!(…))`.
        future: Pin<&'a mut F>,
    },
    /// Finished. The output waits here until every other future has finished too.
    Done(F::Output),
    /// The output has been handed out.
    Taken,
}

impl<F: Future> MaybeDone<'_, F> {
    /// Polls the future unless it has already finished; `Ready` once it has.
    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let MaybeDone::Running { future } = self else {
            // Done (or Taken): a finished future must not be polled again (many panic if
            // they are), so we only report that this one is done.
            return Poll::Ready(());
        };
        match future.as_mut().poll(cx) {
            Poll::Ready(output) => {
                *self = MaybeDone::Done(output);
                Poll::Ready(())
            }
            // Waker contract: the future answered `Pending`, so by its own contract it has
            // stored cx's waker; we pass its answer on unchanged.
            Poll::Pending => Poll::Pending,
        }
    }

    /// Moves the output out, leaving `Taken`.
    ///
    /// # Panics
    /// If the future has not finished or its output was already taken. `join!` calls this
    /// once per future, after every `poll` has returned `Ready`, so neither can happen.
    pub fn take_output(&mut self) -> F::Output {
        match mem::replace(self, MaybeDone::Taken) {
            MaybeDone::Done(output) => output,
            MaybeDone::Running { .. } | MaybeDone::Taken => {
                unreachable!("join! took an output that was not there (a bug in asincrono)")
            }
        }
    }
}

impl<F, T, E> MaybeDone<'_, F>
where
    F: Future<Output = Result<T, E>>,
{
    /// If the future finished with an error, moves the error out (leaving `Taken`);
    /// otherwise changes nothing. For `try_join!`, after each poll.
    pub fn take_error(&mut self) -> Option<E> {
        match mem::replace(self, MaybeDone::Taken) {
            MaybeDone::Done(Err(error)) => Some(error),
            unchanged => {
                *self = unchanged;
                None
            }
        }
    }

    /// Moves the success value out, leaving `Taken`.
    ///
    /// # Panics
    /// As [`take_output`](MaybeDone::take_output), or if the output is an error. `try_join!`
    /// takes every error out in the poll it appears in, so none is left by then.
    pub fn take_ok(&mut self) -> T {
        match self.take_output() {
            Ok(value) => value,
            Err(_) => unreachable!("try_join! found an error it should have returned already"),
        }
    }
}
