//! `select!`: wait for the first future, drop the others, run one handler.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Waits on several futures and runs the handler of the first one to finish; the others
/// are dropped (cancelled) before that handler runs.
///
/// ```text
/// select! {
///     biased;                                           // optional, first
///     <pattern> = <future> [, if <condition>] => <handler>,
///     …
///     else => <expression>                              // optional, last
/// }
/// ```
///
/// Use it in async code (it contains an `.await`). A `<future>` is anything that implements
/// [`IntoFuture`](std::future::IntoFuture); a `<handler>` is an expression, followed by a
/// comma unless it is a `{ block }` or the last branch.
///
/// # What happens, step by step
///
/// 1. Every `if <condition>` is evaluated, in written order. A branch whose condition is
///    `false` is *disabled*: its future will never be polled.
/// 2. Every `<future>` expression is evaluated, in written order, disabled branches
///    included (as in tokio: only polling is skipped), and each future is pinned inside the
///    `select!`.
/// 3. The enabled branches are polled in turn, each time the `select!` is polled. When a
///    future finishes, its output is tested against the branch's `<pattern>`:
///    * it matches: that branch wins, and nothing else is polled;
///    * it does not match: the output is dropped, the branch is disabled, and the other
///      branches carry on.
/// 4. Every future is dropped: the losers, mid-way through whatever they were doing, and
///    the winner's finished one.
/// 5. The winner's handler runs, with the pattern's bindings in scope. Its value is the
///    value of the whole `select!`.
///
/// If every branch ends up disabled, the `else` expression runs instead; without an `else`,
/// `select!` panics.
///
/// The handlers are ordinary code placed after the polling, not inside a closure: `.await`,
/// `?`, `return`, and `break` or `continue` of a loop around the `select!` all work as they
/// would outside it. All handlers (and `else`) must have the same type.
///
/// # Fairness
///
/// When several branches are ready at once, the one polled first wins. So that a branch
/// which is always ready cannot win every time, `select!` starts its polling at a different
/// branch each time it is polled, chosen by a thread-local counter scrambled to look random (the
/// [`combinators`](crate::combinators) module explains why). Write `biased;` before the
/// branches to poll them in the order written instead: useful to give one branch priority
/// (say, a shutdown signal before new work), or to make a test deterministic. It is then up
/// to you to make sure an early branch that is always ready does not starve the rest.
///
/// # Futures given by reference
///
/// A future created inside the `select!` is dropped when the `select!` ends, and with it
/// the progress it had made. To keep a future across several `select!`s in a loop (a
/// deadline for a whole conversation, say), create it once before the loop and give the
/// `select!` `&mut fut`. That needs `fut: Unpin`: pin it with [`std::pin::pin!`] first
/// (or use a future that is `Unpin` already, like [`Sleep`](crate::time::Sleep)).
///
/// # Examples
///
/// A read that gives up after a while. Nobody writes to `theirs`, so the timer wins, and
/// the read is dropped:
///
/// ```
/// use std::time::Duration;
/// use asincrono::io::AsyncReadExt;
/// use asincrono::net::UnixStream;
/// use asincrono::time::sleep;
///
/// asincrono::block_on(async {
///     let (mut ours, _theirs) = UnixStream::pair()?;
///     let mut buf = [0; 64];
///     let outcome = asincrono::select! {
///         read = ours.read(&mut buf) => format!("read {} bytes", read?),
///         () = sleep(Duration::from_millis(10)) => String::from("timed out"),
///     };
///     assert_eq!(outcome, "timed out");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
///
/// A loop that collects what a peer sends, under one deadline for the whole exchange. The
/// deadline is created once and given as `&mut deadline`, so it keeps counting across
/// iterations; the handlers `break` out of the loop and `return` from the async block, and
/// the read handler uses `chunk`, which the (now dropped) read future had borrowed:
///
/// ```
/// use std::io;
/// use std::pin::pin;
/// use std::time::Duration;
/// use asincrono::io::{AsyncReadExt, AsyncWriteExt};
/// use asincrono::net::UnixStream;
/// use asincrono::time::sleep;
///
/// asincrono::block_on(async {
///     let (mut reader, mut writer) = UnixStream::pair()?;
///     asincrono::spawn(async move {
///         for word in ["one ", "two ", "three"] {
///             writer.write_all(word.as_bytes()).await?;
///         }
///         io::Result::Ok(()) // dropping `writer` here ends the stream
///     });
///
///     let mut deadline = pin!(sleep(Duration::from_secs(60)));
///     let mut received = Vec::new();
///     let mut chunk = [0; 16];
///     loop {
///         asincrono::select! {
///             read = reader.read(&mut chunk) => match read? {
///                 0 => break, // end of stream
///                 n => received.extend_from_slice(&chunk[..n]),
///             },
///             () = &mut deadline => {
///                 return Err(io::Error::new(io::ErrorKind::TimedOut, "the peer is too slow"));
///             }
///         }
///     }
///     assert_eq!(received, b"one two three");
///     Ok(())
/// })
/// .unwrap();
/// ```
///
/// Patterns, preconditions and `else`. An output that does not match its pattern disables
/// the branch, as does a false precondition; when no branch is left, `else` runs:
///
/// ```
/// asincrono::block_on(async {
///     let mut inbox = vec![1, 2];
///     let mut taken = Vec::new();
///     loop {
///         asincrono::select! {
///             Some(n) = async { inbox.pop() } => taken.push(n),
///             else => break,
///         }
///     }
///     assert_eq!(taken, [2, 1]);
///
///     let allowed = false;
///     let value = asincrono::select! {
///         v = async { "never polled" }, if allowed => v,
///         else => "disabled",
///     };
///     assert_eq!(value, "disabled");
/// });
/// ```
///
/// `biased;` polls in written order, so when both are ready the first branch wins:
///
/// ```
/// asincrono::block_on(async {
///     for _ in 0..10 {
///         let winner = asincrono::select! {
///             biased;
///             a = async { "first" } => a,
///             b = async { "second" } => b,
///         };
///         assert_eq!(winner, "first");
///     }
/// });
/// ```
///
/// # Panics
///
/// When every branch is disabled (false preconditions, outputs that did not match their
/// patterns) and there is no `else` branch.
///
/// # Cancel safety
///
/// Dropping a future before it finishes is how async Rust cancels it, and `select!` does it
/// to every losing branch. A future is *cancel-safe* if dropping it mid-way loses nothing:
/// whatever it had already done is either undone or kept somewhere you can still reach, so
/// creating the same future again in the next iteration of a loop carries on where the
/// last one stopped. A future that is not cancel-safe can still be used in a `select!`, if
/// losing its partial work is acceptable, or if you keep it alive across iterations with
/// `&mut fut` (see above) so that it is never dropped half-way.
///
/// A `select!` is cancel-safe exactly when all its futures are; a [`join!`](crate::join)
/// needs more (its row below says why). The futures asincrono offers today:
///
/// | future | cancel-safe | if dropped before it finishes |
/// |---|---|---|
/// | [`AsyncReadExt::read`](crate::io::AsyncReadExt::read) | yes | nothing lost: bytes are taken from the stream only in the poll that returns them |
/// | [`AsyncReadExt::read_exact`](crate::io::AsyncReadExt::read_exact) | **no** | bytes already taken sit at the front of your buffer, but how many is lost with the future |
/// | [`AsyncReadExt::read_to_end`](crate::io::AsyncReadExt::read_to_end) | yes, if you keep the `Vec` | every byte read is already appended to your `Vec`; calling it again continues |
/// | [`AsyncReadExt::read_to_string`](crate::io::AsyncReadExt::read_to_string) | **no** | the bytes read so far wait inside the future (for a UTF-8 check at the end) and are lost |
/// | [`AsyncWriteExt::write`](crate::io::AsyncWriteExt::write) | yes | nothing written: a write happens only in the poll that reports it |
/// | [`AsyncWriteExt::write_all`](crate::io::AsyncWriteExt::write_all) | **no** | some prefix of the data has been written, and how long it is is lost |
/// | [`AsyncWriteExt::flush`](crate::io::AsyncWriteExt::flush) | yes | what was flushed stays flushed; flushing again carries on |
/// | [`AsyncWriteExt::shutdown`](crate::io::AsyncWriteExt::shutdown) | yes | as `flush`; calling it again carries on |
/// | [`AsyncBufReadExt::read_until`](crate::io::AsyncBufReadExt::read_until) | yes, if you keep the `Vec` | every byte consumed is already appended to your `Vec` |
/// | [`AsyncBufReadExt::read_line`](crate::io::AsyncBufReadExt::read_line) | **no** | the part of the line read so far is lost (use `Lines::next_line`) |
/// | [`Lines::next_line`](crate::io::Lines::next_line) | yes | the partial line stays in the `Lines` and starts the next line returned |
/// | [`AsyncSeekExt::seek`](crate::io::AsyncSeekExt::seek) | not guaranteed | the position may or may not have moved; seek to an absolute position to be sure |
/// | [`io::copy`](crate::io::copy) | **no** | a chunk already read but not yet written is lost, and the count with it |
/// | reads and writes through [`BufReader`](crate::io::BufReader), [`BufWriter`](crate::io::BufWriter) | as the method used | the buffered bytes live in the `BufReader`/`BufWriter`, not in the future |
/// | [`TcpListener::accept`](crate::net::TcpListener::accept) | yes | no connection lost: one is taken from the kernel only in the poll that returns it |
/// | [`UnixListener::accept`](crate::net::UnixListener::accept) | yes | as `TcpListener::accept` |
/// | [`TcpStream::connect`](crate::net::TcpStream::connect) | yes | the attempt is abandoned and its socket closed (the server may see a connection that opens and closes at once) |
/// | [`UnixStream::connect`](crate::net::UnixStream::connect) | yes | as `TcpStream::connect` |
/// | [`UdpSocket::recv_from`](crate::net::UdpSocket::recv_from) | yes | no datagram lost: one is taken only in the poll that returns it |
/// | [`UdpSocket::recv`](crate::net::UdpSocket::recv) | yes | as `recv_from` |
/// | [`UdpSocket::send_to`](crate::net::UdpSocket::send_to) | yes | the datagram was sent whole or not at all; if the future did not finish, not at all |
/// | [`UdpSocket::send`](crate::net::UdpSocket::send) | yes | as `send_to` |
/// | [`sleep`](crate::time::sleep), [`sleep_until`](crate::time::sleep_until) | yes | the timer is removed; with `&mut sleep`, the deadline survives for the next `select!` |
/// | [`Interval::tick`](crate::time::Interval::tick) | yes | no tick lost: the interval moves on only in the poll that returns a tick |
/// | [`timeout`](crate::time::timeout), [`timeout_at`](crate::time::timeout_at) | as the future inside | the future inside is dropped where it stands |
/// | [`JoinHandle`](crate::task::JoinHandle), given as `&mut handle` | yes | the task runs on; the same handle can be awaited later |
/// | [`JoinHandle`](crate::task::JoinHandle), given by value | output lost | dropping the handle detaches the task: it runs to the end, but its output is dropped, not delivered |
/// | [`yield_now`](crate::task::yield_now) | yes | nothing to lose |
/// | [`mpsc::Receiver::recv`](crate::sync::mpsc::Receiver::recv), [`UnboundedReceiver::recv`](crate::sync::mpsc::UnboundedReceiver::recv) | yes | a message leaves the queue only in the poll that returns it |
/// | [`mpsc::Sender::send`](crate::sync::mpsc::Sender::send) (bounded) | **no** | the value is dropped unsent (the future owns it); no slot is lost and the other senders keep their places |
/// | `closed()` on a `Sender`, `UnboundedSender` or `oneshot::Sender` | yes | nothing is consumed |
/// | [`oneshot::Receiver`](crate::sync::oneshot::Receiver), given as `&mut rx` | yes | the value stays in the channel for the next poll |
/// | [`oneshot::Receiver`](crate::sync::oneshot::Receiver), given by value | **no** | dropping the receiver closes the channel and drops a value already sent |
/// | [`Mutex::lock`](crate::sync::Mutex::lock), `lock_owned` | yes | only the place in the queue is lost; a lock just handed over passes to the next waiter |
/// | [`Semaphore::acquire`](crate::sync::Semaphore::acquire) and `acquire_many`, `acquire_owned` | yes | only the place in the queue is lost; permits already granted go to the next waiter |
/// | [`Notify::notified`](crate::sync::Notify::notified) | yes | a `notify_one` meant for it passes on to the next waiter (or back to the permit) |
/// | [`fs::read`](crate::fs::read), `read_to_string`, `metadata`, `read_dir`, [`File::open`](crate::fs::File::open) | yes | they only look; the work on the pool is wasted, nothing changes |
/// | [`fs::write`](crate::fs::write), `remove_file`, `create_dir_all`, [`File::create`](crate::fs::File::create) | **no** | the change happens anyway, once started, and its error is lost |
/// | reads from a [`File`](crate::fs::File) or [`Stdin`](crate::io::Stdin) | yes | bytes already read stay in the file's (or the process's) buffer for the next read |
/// | writes to a [`File`](crate::fs::File), [`Stdout`](crate::io::Stdout) | yes | a chunk is taken whole or not at all; an error of a background write is reported by the next operation |
/// | [`File::sync_all`](crate::fs::File::sync_all), `set_len`, seeks on a `File` | **no** | the operation happens anyway; its error goes to the next operation |
/// | [`ReadDir::next_entry`](crate::fs::ReadDir::next_entry) | yes | the batch being read is kept |
/// | [`spawn_blocking`](crate::task::spawn_blocking)'s `JoinHandle` | as `JoinHandle` | dropping it does not stop the closure, which runs to the end |
/// | [`join!`](crate::join) | not in general | every future is dropped, and so are the outputs of those that had already finished |
/// | [`try_join!`](crate::try_join) | not in general | as `join!` |
/// | `select!` | only if all its futures are | every branch's future is dropped; no handler runs |
#[macro_export]
macro_rules! select {
    (biased; $($branches:tt)*) => {
        $crate::__select!(
            @parse true [] [] ($crate::combinators::__private::all_branches_disabled())
            $($branches)*
        )
    };
    ($($branches:tt)*) => {
        $crate::__select!(
            @parse false [] [] ($crate::combinators::__private::all_branches_disabled())
            $($branches)*
        )
    };
}

/// The machinery behind [`select!`](crate::select): parses the branches, then expands.
#[doc(hidden)]
#[macro_export]
macro_rules! __select {
    // Parsing. The state is: `biased` (true or false); the branches parsed so far, each as
    // `{ [_ _] [condition] (pattern) (future) {handler} }`, with one `_` per branch before
    // it and empty brackets if it has no condition; one `_` per branch parsed so far; the
    // `else` expression in parentheses (by default, a panic); and the tokens not parsed yet.
    // The `_`s play the same part as in `__join!`: `(_, _, branch, ..)` picks the third
    // branch out of a tuple, and `["_", "_"].len()` is its index.

    // `else => expression`, which must come last.
    (@parse $biased:tt [$($parsed:tt)*] [$($all:tt)*] $else:tt
        else => $new_else:expr $(,)?) => {
        $crate::__select!(@expand $biased [$($all)*] ($new_else) $($parsed)*)
    };
    // Nothing left to parse.
    (@parse $biased:tt [$($parsed:tt)*] [$($all:tt)*] $else:tt) => {
        $crate::__select!(@expand $biased [$($all)*] $else $($parsed)*)
    };
    // One branch. Its handler is a block with a comma, a block without one, an expression
    // with a comma, or an expression that ends the input. (Rules are tried in order, and
    // a `block` fragment only matches input that starts with `{`.)
    (@parse $biased:tt [$($parsed:tt)*] [$($before:tt)*] $else:tt
        $pat:pat = $future:expr $(, if $cond:expr)? => $handler:block, $($rest:tt)*) => {
        $crate::__select!(
            @parse $biased
            [$($parsed)* { [$($before)*] [$($cond)?] ($pat) ($future) $handler }]
            [$($before)* _] $else $($rest)*
        )
    };
    (@parse $biased:tt [$($parsed:tt)*] [$($before:tt)*] $else:tt
        $pat:pat = $future:expr $(, if $cond:expr)? => $handler:block $($rest:tt)*) => {
        $crate::__select!(
            @parse $biased
            [$($parsed)* { [$($before)*] [$($cond)?] ($pat) ($future) $handler }]
            [$($before)* _] $else $($rest)*
        )
    };
    (@parse $biased:tt [$($parsed:tt)*] [$($before:tt)*] $else:tt
        $pat:pat = $future:expr $(, if $cond:expr)? => $handler:expr, $($rest:tt)*) => {
        $crate::__select!(
            @parse $biased
            [$($parsed)* { [$($before)*] [$($cond)?] ($pat) ($future) { $handler } }]
            [$($before)* _] $else $($rest)*
        )
    };
    (@parse $biased:tt [$($parsed:tt)*] [$($before:tt)*] $else:tt
        $pat:pat = $future:expr $(, if $cond:expr)? => $handler:expr) => {
        $crate::__select!(
            @parse $biased
            [$($parsed)* { [$($before)*] [$($cond)?] ($pat) ($future) { $handler } }]
            [$($before)* _] $else
        )
    };

    // `None`, once per branch (the pattern is only there to repeat over).
    (@none $pat:pat) => {
        ::core::option::Option::None
    };

    // Whether `$output` matches `$pat`, without moving anything out of it. The pattern is
    // tried in an arm whose guard notes that it matched and then answers `false`: inside a
    // guard the pattern's bindings are only references, and an arm whose guard fails
    // binds nothing, so `$output` is untouched afterwards. (The bindings go unused here:
    // the handler makes them again, for real, once this branch has won.)
    (@matches $output:ident, $pat:pat) => {{
        let mut matched = false;
        match $output {
            // `unreachable_patterns`: an output type that is uninhabited (`!`, which is what
            // the output of a future that never finishes can fall back to) matches nothing.
            #[allow(unused_variables, unused_mut, unreachable_patterns)]
            $pat if {
                matched = true;
                false
            } => ::core::unreachable!(),
            #[allow(unreachable_patterns)]
            _ => {}
        }
        matched
    }};

    // ANCHOR: select_expand
    (@expand $biased:tt [$($all:tt)*] ($else:expr) $(
        { [$($before:tt)*] [$($cond:expr)?] ($pat:pat) ($future:expr) $handler:tt }
    )*) => {{
        // The inner block polls; when it ends, every future in it is dropped. Only then do
        // the handlers run, so that they may use whatever the futures had borrowed.
        let outputs = {
            // A branch without `if <condition>` gets `true`, one with it `true && condition`.
            let preconditions = ($( true $(&& $cond)?, )*);
            // The futures, evaluated in order into one tuple in a `let`: a temporary they
            // borrow (`&mut ready(())`) then lives as long as this block does.
            let futures = ($( $future, )*);
            // Each future pinned in this block, moved out of the tuple above (a `_`
            // pattern moves nothing, so each `let` takes just its own).
            let pinned = ($(
                ::core::pin::pin!(::core::future::IntoFuture::into_future({
                    let ($($before,)* future, ..) = futures;
                    future
                })),
            )*);
            // A branch is `Some(its pinned future)` while it is enabled, `None` once it is
            // disabled: one pointer per branch is all the `select!` keeps.
            let mut branches = ($(
                {
                    let ($($before,)* enabled, ..) = preconditions;
                    let ($($before,)* future, ..) = pinned;
                    $crate::combinators::__private::enabled_if(enabled, future)
                },
            )*);
            // `move`: the closure owns the branches, so the `select!` keeps nothing else
            // across its `.await`. Every byte kept there is a byte of the task that awaits
            // it.
            ::core::future::poll_fn(move |cx| {
                // A task that has spent its budget gets `Pending` here, before any branch
                // is polled: otherwise a branch that is always ready (one that ignores the
                // budget) would win every time and the task would never step aside.
                if $crate::combinators::__private::budget_spent(cx) {
                    // Waker contract: `budget_spent` has arranged for the task to be woken.
                    return ::core::task::Poll::Pending;
                }
                let count = <[&str]>::len(&[$(::core::stringify!($all)),*]);
                // Picked afresh on every poll (as tokio does), so that it need not be kept.
                let start = $crate::combinators::__private::first_branch($biased, count);
                // A tuple with one `None` per branch: the outputs when no branch has won.
                let no_outputs = || ($( $crate::__select!(@none $pat), )*);
                let mut any_pending = false;
                for offset in 0..count {
                    let index = (start + offset) % count;
                    $(
                        if index == <[&str]>::len(&[$(::core::stringify!($before)),*]) {
                            let ($($before,)* branch, ..) = &mut branches;
                            // A `let` fed by a `match` with `continue` arms: besides reading
                            // well, this lets the output type of a future that never
                            // finishes (`poll_fn(|_| panic!())`) fall back to `()` instead
                            // of asking for an annotation, as in tokio.
                            // `mut`, for patterns that bind with `ref mut`.
                            #[allow(unused_mut)]
                            let mut output = match $crate::combinators::__private::poll_branch(branch, cx) {
                                $crate::combinators::__private::BranchPoll::Disabled => continue,
                                $crate::combinators::__private::BranchPoll::Pending => {
                                    any_pending = true;
                                    continue;
                                }
                                $crate::combinators::__private::BranchPoll::Ready(output) => output,
                            };
                            if $crate::__select!(@matches output, $pat) {
                                // The winner's output, in its place in a tuple of `None`s.
                                let mut outputs = no_outputs();
                                let ($($before,)* slot, ..) = &mut outputs;
                                *slot = ::core::option::Option::Some(output);
                                return ::core::task::Poll::Ready(outputs);
                            }
                            // The pattern refused the output: it is dropped here, and the
                            // branch stays disabled (`poll_branch` saw to that when the
                            // future finished).
                        }
                    )*
                }
                if any_pending {
                    // Waker contract: each branch that answered `Pending` in the loop above
                    // has, by that answer, stored cx's waker. Whichever of them can make
                    // progress first wakes the task, which polls us again. Disabled
                    // branches owe us nothing: they are never polled again.
                    return ::core::task::Poll::Pending;
                }
                // No branch is left enabled: every output is `None`, and `else` runs.
                ::core::task::Poll::Ready(no_outputs())
            })
            .await
        };
        match outputs {
            $(
                #[allow(unused_mut)]
                ($($before,)* ::core::option::Option::Some(mut output), ..) => match output {
                    #[allow(unreachable_patterns)]
                    $pat => $handler,
                    // Unreachable: the same output matched the same pattern while polling.
                    #[allow(unreachable_patterns)]
                    _ => ::core::unreachable!("a select! output stopped matching its pattern"),
                },
            )*
            _ => $else,
        }
    }};
    // ANCHOR_END: select_expand
}

/// One branch of a `select!`, pinned where the `select!` put it: `Some` while it may be
/// polled, `None` once it is disabled (a false precondition, or a finished future, which
/// must not be polled again).
pub type Branch<'a, F> = Option<Pin<&'a mut F>>;

/// A new branch: enabled if its precondition held.
pub fn enabled_if<F: Future>(enabled: bool, future: Pin<&mut F>) -> Branch<'_, F> {
    enabled.then_some(future)
}

/// What polling a [`Branch`] gave.
#[derive(Debug)]
pub enum BranchPoll<T> {
    /// The branch is disabled; its future was not polled.
    Disabled,
    /// The future is not finished.
    Pending,
    /// The future finished with this output (and the branch is now disabled).
    Ready(T),
}

/// Polls the branch's future if the branch is enabled; disables the branch when it
/// finishes.
pub fn poll_branch<F: Future>(
    branch: &mut Branch<'_, F>,
    cx: &mut Context<'_>,
) -> BranchPoll<F::Output> {
    let Some(future) = branch else {
        return BranchPoll::Disabled;
    };
    match future.as_mut().poll(cx) {
        Poll::Ready(output) => {
            *branch = None;
            BranchPoll::Ready(output)
        }
        // Waker contract: the future answered `Pending`, so by its own contract it has
        // stored cx's waker; the `select!` relies on that when it answers `Pending`.
        Poll::Pending => BranchPoll::Pending,
    }
}

thread_local! {
    /// How many polls of fair (not `biased;`) `select!`s with two or more branches have
    /// started on this thread. Only ever read and bumped by `first_branch`.
    static SELECT_POLLS: Cell<u64> = const { Cell::new(0) };
}

/// The branch a `select!` of `count` branches polls first, on this poll: 0 when `biased`,
/// otherwise one that changes from one poll of a `select!` to the next. (Choosing once per
/// `select!` would do as well, but the choice would then have to be kept across the
/// `.await`, in every task that awaits a `select!`.)
///
/// A plain counter modulo `count` would be a poor choice: a loop that runs two `select!`s
/// of two branches each, one after the other, would show each of them every other value of
/// the counter, so each would always start at the same branch. Multiplying the counter by
/// 2⁶⁴ divided by the golden ratio ("Fibonacci hashing") spreads consecutive values, and
/// every k-th value for any k, evenly over the whole `u64` range; the top bits then pick a
/// branch, each with an equal share.
pub fn first_branch(biased: bool, count: usize) -> usize {
    if biased || count < 2 {
        return 0;
    }
    let turn = SELECT_POLLS.with(|started| {
        let turn = started.get();
        started.set(turn.wrapping_add(1));
        turn
    });
    let spread = turn.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    // `spread` is below 2³², so `spread * count` fits, and shifting it back down gives a
    // number below `count`.
    ((spread * count as u64) >> 32) as usize
}

/// Whether the task polling this `select!` has spent its cooperative budget. If it has, the
/// task's waker has been scheduled (after the driver has had its turn, as for
/// [`yield_now`](crate::task::yield_now)), so the caller may answer `Pending`.
pub fn budget_spent(cx: &mut Context<'_>) -> bool {
    if crate::task::has_budget_left() {
        return false;
    }
    crate::task::defer::wake_after_driver(cx.waker());
    true
}

/// The `else` of a `select!` written without one.
#[track_caller]
#[cold]
pub fn all_branches_disabled() -> ! {
    panic!(
        "select!: every branch is disabled (its `if` precondition was false, or its future \
         finished with an output that did not match its pattern) and there is no `else` branch"
    )
}
