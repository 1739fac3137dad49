//! `join!` and `select!`: outputs and order, concurrency, what gets polled and when, what
//! gets dropped and when, patterns, preconditions, `else`, fairness, and handlers that
//! leave the loop or the function around them.

mod common;

use asincrono::io::{AsyncReadExt, AsyncWriteExt};
use asincrono::net::UnixStream;
use asincrono::task::yield_now;
use asincrono::time::{Instant, sleep};
use asincrono::{join, select, try_join};
use common::{DropCounter, on_each_flavour};
use std::future::{Future, pending, ready};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

const FOREVER: Duration = Duration::from_secs(3600);

/// A future that answers `Pending` (waking its task at once) `pending_polls` times, then
/// `Ready(output)`, and counts every poll it gets.
struct CountedPolls<T> {
    pending_polls: usize,
    output: Option<T>,
    polls: Arc<AtomicUsize>,
}

impl<T: Unpin> CountedPolls<T> {
    fn new(pending_polls: usize, output: T) -> (CountedPolls<T>, Arc<AtomicUsize>) {
        let polls = Arc::new(AtomicUsize::new(0));
        let future = CountedPolls {
            pending_polls,
            output: Some(output),
            polls: polls.clone(),
        };
        (future, polls)
    }
}

impl<T: Unpin> Future for CountedPolls<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self.pending_polls == 0 {
            let output = self.output.take();
            return Poll::Ready(output.expect("polled again after it finished"));
        }
        self.pending_polls -= 1;
        // Waker contract: we return Pending and are ready to go on at once, so we wake
        // ourselves now.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Counts the polls of the future it wraps.
struct PollCounter<F> {
    inner: Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}

impl<F: Future> Future for PollCounter<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        // The inner future keeps the waker contract for us: we only pass its answer on.
        self.inner.as_mut().poll(cx)
    }
}

fn polls(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::SeqCst)
}

// ---- join! ----

#[test]
fn join_returns_the_outputs_in_argument_order_for_one_to_eight_futures() {
    on_each_flavour(|| async {
        assert_eq!(join!(), ());
        assert_eq!(join!(async { 1 }), (1,));
        assert_eq!(join!(async { 1 }, ready("two")), (1, "two"));
        let slow_first = async {
            sleep(Duration::from_millis(5)).await;
            'a'
        };
        assert_eq!(
            join!(slow_first, async { 'b' }, async { 'c' },),
            ('a', 'b', 'c')
        );
        assert_eq!(join!(ready(1), ready(2), ready(3), ready(4)), (1, 2, 3, 4));
        assert_eq!(
            join!(ready(1), ready(2), ready(3), ready(4), ready(5)),
            (1, 2, 3, 4, 5)
        );
        assert_eq!(
            join!(ready(1), ready(2), ready(3), ready(4), ready(5), ready(6)),
            (1, 2, 3, 4, 5, 6)
        );
        assert_eq!(
            join!(
                ready(1),
                ready(2),
                ready(3),
                ready(4),
                ready(5),
                ready(6),
                ready(7)
            ),
            (1, 2, 3, 4, 5, 6, 7)
        );
        // Futures finishing in reverse order still come back in argument order.
        let (f1, _) = CountedPolls::new(7, 1);
        let (f2, _) = CountedPolls::new(6, 2);
        let (f3, _) = CountedPolls::new(5, 3);
        let (f4, _) = CountedPolls::new(4, 4);
        let (f5, _) = CountedPolls::new(3, 5);
        let (f6, _) = CountedPolls::new(2, 6);
        let (f7, _) = CountedPolls::new(1, 7);
        let (f8, _) = CountedPolls::new(0, 8);
        assert_eq!(
            join!(f1, f2, f3, f4, f5, f6, f7, f8),
            (1, 2, 3, 4, 5, 6, 7, 8)
        );
    });
}

#[test]
fn join_runs_its_futures_concurrently() {
    // Each side waits for the other: awaiting them one after the other would hang (and the
    // watchdog would fail the test). Only polling both at once lets the handshake finish.
    on_each_flavour(|| async {
        let (mut left, mut right) = UnixStream::pair().expect("socketpair");
        let asker = async {
            left.write_all(b"ping").await.expect("write ping");
            let mut reply = [0; 4];
            left.read_exact(&mut reply).await.expect("read pong");
            reply
        };
        let answerer = async {
            let mut question = [0; 4];
            right.read_exact(&mut question).await.expect("read ping");
            right.write_all(b"pong").await.expect("write pong");
            question
        };
        let (reply, question) = join!(asker, answerer);
        assert_eq!((&reply, &question), (b"pong", b"ping"));
    });
}

#[test]
fn join_polls_its_futures_only_when_polled_and_never_after_they_finish() {
    on_each_flavour(|| async {
        let (slow, slow_polls) = CountedPolls::new(3, "slow");
        let (quick, quick_polls) = CountedPolls::new(0, "quick");
        let join_polls = Arc::new(AtomicUsize::new(0));
        let joined = PollCounter {
            inner: Box::pin(async move { join!(slow, quick) }),
            polls: join_polls.clone(),
        };
        assert_eq!(joined.await, ("slow", "quick"));
        assert_eq!(polls(&join_polls), 4, "three Pending answers, then Ready");
        assert_eq!(polls(&slow_polls), 4, "polled once per poll of the join");
        assert_eq!(
            polls(&quick_polls),
            1,
            "finished at once, never polled again"
        );
    });
}

#[test]
fn join_accepts_into_future_and_references_to_futures() {
    on_each_flavour(|| async {
        let mut timer = pin!(sleep(Duration::from_millis(1)));
        let handle = asincrono::spawn(async { 5 });
        let ((), output) = join!(&mut timer, handle);
        assert_eq!(output.expect("no panic"), 5);
        assert!(timer.is_elapsed());
    });
}

// ---- try_join! ----

#[test]
fn try_join_returns_every_value_in_order_when_all_succeed() {
    on_each_flavour(|| async {
        let (late, late_polls) = CountedPolls::new(3, Ok::<_, String>('a'));
        let values = try_join!(late, async { Ok::<_, String>(2) }, ready(Ok("three")));
        assert_eq!(values, Ok(('a', 2, "three")));
        assert_eq!(polls(&late_polls), 4);
        assert_eq!(try_join!(ready(Ok::<_, ()>(1))), Ok((1,)));
    });
}

#[test]
fn try_join_returns_the_first_error_at_once_and_drops_the_other_futures() {
    on_each_flavour(|| async {
        let drops = DropCounter::default();
        let guard = drops.track();
        let (failing, failing_polls) = CountedPolls::new(2, Err::<u8, _>("refused"));
        let outcome = try_join!(
            async move {
                let _guard = guard;
                pending::<()>().await;
                Ok(0u8)
            },
            failing,
        );
        assert_eq!(outcome, Err("refused"));
        assert_eq!(polls(&failing_polls), 3);
        assert_eq!(drops.dropped(), 1, "the unfinished future was cancelled");
    });
}

// ---- select!: dropping ----

#[test]
fn select_drops_the_losers_before_the_handler_runs() {
    on_each_flavour(|| async {
        let drops = DropCounter::default();
        let first_guard = drops.track();
        let second_guard = drops.track();
        let seen_in_handler = select! {
            () = async move { let _guard = first_guard; pending::<()>().await } => {
                unreachable!("never finishes")
            }
            () = async move { let _guard = second_guard; pending::<()>().await } => {
                unreachable!("never finishes")
            }
            () = yield_now() => drops.dropped(),
        };
        assert_eq!(
            seen_in_handler, 2,
            "both losers were gone when the handler ran"
        );
    });
}

#[test]
fn a_handler_may_use_what_the_losing_futures_borrowed() {
    on_each_flavour(|| async {
        let (mut ours, mut theirs) = UnixStream::pair().expect("socketpair");
        let mut buf = [0; 16];
        let mut log = Vec::new();
        let outcome = select! {
            // Nothing arrives: this read loses, and with it its borrows of `ours` and `buf`.
            read = ours.read(&mut buf) => read.map(|n| n.to_string()),
            () = async { log.push("waited") } => {
                log.push("handled");
                ours.write_all(b"hi").await.map(|()| String::from("wrote"))
            }
        };
        assert_eq!(outcome.expect("write"), "wrote");
        assert_eq!(log, ["waited", "handled"]);
        buf[0] = 1; // `buf` is ours again
        assert_eq!(buf[0], 1);
        let mut received = [0; 2];
        theirs.read_exact(&mut received).await.expect("read");
        assert_eq!(&received, b"hi");
    });
}

// ---- select!: patterns, preconditions, else ----

#[test]
fn a_branch_whose_pattern_does_not_match_is_disabled_and_another_wins() {
    on_each_flavour(|| async {
        let (nothing, nothing_polls) = CountedPolls::new(0, None::<u32>);
        let (later, later_polls) = CountedPolls::new(3, "later");
        let winner = select! {
            biased;
            Some(n) = nothing => format!("got {n}"),
            word = later => word.to_string(),
        };
        assert_eq!(winner, "later");
        assert_eq!(polls(&nothing_polls), 1, "finished once, then disabled");
        assert_eq!(polls(&later_polls), 4);
    });
}

#[test]
fn patterns_may_bind_with_mut_and_ref_and_test_literals() {
    on_each_flavour(|| async {
        let mut text = select! {
            Ok(mut s) = async { Ok::<String, ()>(String::from("a")) } => {
                s.push('b');
                s
            }
        };
        let len = select! {
            Some(ref s) = async { Some(String::from("abc")) } => s.len(),
        };
        let grown = select! {
            Some(ref mut v) = async { Some(vec![1]) } => {
                v.push(2);
                v.len()
            }
        };
        let tag = select! {
            biased;
            (0, _) = async { (1, "one") } => "zero",
            (n @ 1..=9, word) = async { (2, "two") } => if n == 2 { word } else { "?" },
        };
        text.push('c');
        assert_eq!((text.as_str(), len, grown, tag), ("abc", 3, 2, "two"));
    });
}

#[test]
fn a_false_precondition_disables_the_branch_without_polling_its_future() {
    on_each_flavour(|| async {
        let evaluated = AtomicUsize::new(0);
        let (skipped, skipped_polls) = CountedPolls::new(0, "skipped");
        let allowed = false;
        let winner = select! {
            biased;
            word = { evaluated.fetch_add(1, Ordering::SeqCst); skipped }, if allowed => word,
            word = CountedPolls::new(2, "other").0, if !allowed => word,
        };
        assert_eq!(winner, "other");
        assert_eq!(
            polls(&skipped_polls),
            0,
            "a disabled branch is never polled"
        );
        assert_eq!(
            polls(&evaluated),
            1,
            "its future expression is evaluated all the same, as in tokio"
        );
    });
}

#[test]
fn select_evaluates_every_precondition_then_every_future_in_written_order() {
    on_each_flavour(|| async {
        let order = Mutex::new(Vec::new());
        let note = |what: &'static str| order.lock().expect("not poisoned").push(what);
        select! {
            () = { note("future a"); ready(()) }, if { note("condition a"); true } => {}
            () = { note("future b"); ready(()) }, if { note("condition b"); false } => {}
        }
        assert_eq!(
            *order.lock().expect("not poisoned"),
            ["condition a", "condition b", "future a", "future b"]
        );
    });
}

#[test]
fn else_runs_when_every_branch_is_disabled() {
    on_each_flavour(|| async {
        let by_precondition = select! {
            () = ready(()), if false => "ran",
            () = ready(()), if 1 > 2 => "ran",
            else => "else",
        };
        let by_pattern = select! {
            Some(()) = ready(None) => "ran",
            Ok(()) = ready(Err::<(), _>("no")) => "ran",
            else => "else",
        };
        let by_both = select! {
            Some(()) = ready(None) => "ran",
            () = pending(), if false => "ran",
            else => { "else" }
        };
        assert_eq!(
            (by_precondition, by_pattern, by_both),
            ("else", "else", "else")
        );
    });
}

#[test]
fn every_branch_disabled_without_else_panics_with_a_clear_message() {
    on_each_flavour(|| async {
        let task = asincrono::spawn(async {
            let enabled = false;
            select! {
                () = ready(()), if enabled => {}
                Some(()) = ready(None) => {}
            }
        });
        let err = task.await.expect_err("the select! panicked");
        assert!(err.is_panic());
        let message = err.to_string();
        assert!(
            message.contains("select!") && message.contains("no `else` branch"),
            "message: {message}"
        );
    });
}

// ---- select!: fairness ----

#[test]
fn biased_polls_the_branches_in_written_order() {
    on_each_flavour(|| async {
        for _ in 0..100 {
            let polled = Mutex::new(Vec::new());
            let polled_in_order = |branch: usize, ready_now: bool| {
                let polled = &polled;
                std::future::poll_fn(move |_| {
                    polled.lock().expect("not poisoned").push(branch);
                    if ready_now {
                        Poll::Ready(branch)
                    } else {
                        // Waker contract: none is stored, which is only sound because a
                        // later branch is ready in this very poll, so the select! never
                        // waits on this one.
                        Poll::Pending
                    }
                })
            };
            let winner = select! {
                biased;
                n = polled_in_order(0, false) => n,
                n = polled_in_order(1, false) => n,
                n = polled_in_order(2, true) => n,
                n = polled_in_order(3, true) => n,
            };
            assert_eq!(winner, 2);
            assert_eq!(*polled.lock().expect("not poisoned"), [0, 1, 2]);
        }
    });
}

#[test]
fn without_biased_the_first_branch_rotates_so_every_ready_branch_wins_often() {
    on_each_flavour(|| async {
        const ROUNDS: usize = 300;
        let mut wins = [0usize; 3];
        for _ in 0..ROUNDS {
            let winner = select! {
                n = ready(0) => n,
                n = ready(1) => n,
                n = ready(2) => n,
            };
            wins[winner] += 1;
        }
        for (branch, won) in wins.iter().enumerate() {
            assert!(
                *won >= ROUNDS / 3 / 2,
                "branch {branch} won {won} of {ROUNDS} rounds: {wins:?}"
            );
        }
    });
}

#[test]
fn two_alternating_selects_both_rotate() {
    // A counter shared by every select! on the thread gives each of two alternating
    // select!s every other value; the scrambling must still rotate both.
    on_each_flavour(|| async {
        let mut first_wins = [0usize; 2];
        let mut second_wins = [0usize; 2];
        for _ in 0..200 {
            first_wins[select! { n = ready(0) => n, n = ready(1) => n }] += 1;
            second_wins[select! { n = ready(0) => n, n = ready(1) => n }] += 1;
        }
        for wins in [first_wins, second_wins] {
            assert!(wins.iter().all(|&won| won >= 50), "{wins:?}");
        }
    });
}

// ---- select!: in loops, with futures kept across iterations ----

#[test]
fn select_in_a_loop_with_a_pinned_sleep_reused_across_iterations() {
    on_each_flavour(|| async {
        let (mut reader, mut writer) = UnixStream::pair().expect("socketpair");
        const MESSAGES: usize = 50;
        let sender = asincrono::spawn(async move {
            for i in 0..MESSAGES {
                writer.write_all(&[i as u8]).await.expect("write");
                yield_now().await;
            }
            // Dropping `writer` ends the stream.
        });

        let mut deadline = pin!(sleep(FOREVER));
        let first_deadline = deadline.deadline();
        let mut received = Vec::new();
        let mut chunk = [0; 8];
        let mut iterations = 0;
        loop {
            iterations += 1;
            select! {
                read = reader.read(&mut chunk) => match read.expect("read") {
                    0 => break,
                    n => received.extend_from_slice(&chunk[..n]),
                },
                () = &mut deadline => panic!("a one-hour timer fired"),
            }
        }
        sender.await.expect("the sender finished");
        let expected: Vec<u8> = (0..MESSAGES as u8).collect();
        assert_eq!(received, expected, "read is cancel-safe: nothing was lost");
        assert!(iterations > 1);

        // The same timer, never dropped by any of those select!s, still works.
        assert_eq!(deadline.deadline(), first_deadline);
        deadline.as_mut().reset(Instant::now());
        let fired = select! {
            biased;
            () = &mut deadline => true,
            () = pending::<()>() => false,
        };
        assert!(fired);
    });
}

// ---- select!: control flow in handlers ----

async fn first_even(values: &[u32]) -> Option<u32> {
    let mut values = values.iter();
    loop {
        select! {
            next = ready(values.next()) => match next {
                Some(&n) if n % 2 == 0 => return Some(n),
                Some(_) => continue,
                None => break,
            }
        }
    }
    None
}

#[test]
fn handlers_may_break_continue_return_and_await() {
    on_each_flavour(|| async {
        assert_eq!(first_even(&[1, 3, 4, 5, 6]).await, Some(4));
        assert_eq!(first_even(&[1, 3]).await, None);

        let mut total = 0;
        let mut round = 0;
        loop {
            round += 1;
            select! {
                n = ready(round) => {
                    if n % 2 == 1 {
                        continue;
                    }
                    yield_now().await;
                    sleep(Duration::ZERO).await;
                    total += n;
                    if total >= 6 {
                        break;
                    }
                }
            }
        }
        assert_eq!((round, total), (4, 6));

        // Labelled `continue` and `break` reach loops further out.
        let mut visited = Vec::new();
        'rows: for row in 0..3 {
            for column in 0..3 {
                select! {
                    cell = ready((row, column)) => {
                        if column > row {
                            continue 'rows;
                        }
                        visited.push(cell);
                        if cell == (2, 1) {
                            break 'rows;
                        }
                    }
                }
            }
        }
        assert_eq!(visited, [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1)]);
    });
}

#[test]
fn a_handler_may_use_the_question_mark_operator() {
    async fn read_or_fail() -> Result<u32, String> {
        let value = select! {
            parsed = ready("12".parse::<u32>()) => parsed.map_err(|e| e.to_string())?,
        };
        let failed: Result<u32, String> = async {
            select! {
                parsed = ready("x".parse::<u32>()) => Ok(parsed.map_err(|e| e.to_string())?),
            }
        }
        .await;
        assert!(failed.is_err());
        Ok(value)
    }
    on_each_flavour(|| async {
        assert_eq!(read_or_fail().await, Ok(12));
    });
}

// ---- hygiene ----

#[test]
fn names_used_inside_the_expansions_still_mean_the_callers_variables() {
    on_each_flavour(|| async {
        // Each of these names is also a local variable inside the macros' expansions.
        let (outputs, branches, count, start, preconditions) = (1, 2, 3, 4, true);
        let (output, index, states, matched, cx) = (10, 20, 30, 40, 50);
        let (joined,) = join!(async { outputs + states + cx });
        let selected = select! {
            n = ready(branches), if preconditions => n + count + start + output + index,
            else => matched,
        };
        assert_eq!((joined, selected), (81, 39));
    });
}

// ---- both, in spawned tasks ----

#[test]
fn join_and_select_keep_a_spawned_future_send() {
    on_each_flavour(|| async {
        let task = asincrono::spawn(async {
            let (a, b) = join!(async { 1 }, async {
                yield_now().await;
                2
            });
            let c = select! {
                n = async { 3 } => n,
                () = sleep(FOREVER) => 0,
            };
            a + b + c
        });
        assert_eq!(task.await.expect("no panic"), 6);
    });
}

#[test]
fn biased_join_polls_in_written_order_every_time() {
    on_each_flavour(|| async {
        let order = Mutex::new(Vec::new());
        let step = |name: u8| {
            let order = &order;
            async move {
                for _ in 0..3 {
                    order.lock().unwrap().push(name);
                    yield_now().await;
                }
                name
            }
        };
        let outputs = join!(biased; step(1), step(2), step(3));
        assert_eq!(outputs, (1, 2, 3));
        assert_eq!(*order.lock().unwrap(), [1, 2, 3, 1, 2, 3, 1, 2, 3]);

        let both = try_join!(biased; async { Ok::<_, ()>(1) }, async { Ok(2) });
        assert_eq!(both, Ok((1, 2)));
    });
}

#[test]
#[allow(clippy::unit_cmp)]
fn join_and_try_join_of_no_futures_finish_at_once() {
    asincrono::block_on(async {
        assert_eq!(join!(), ());
        assert_eq!(join!(biased;), ());
        assert_eq!(try_join!(), Ok::<(), ()>(()));
        assert_eq!(try_join!(biased;), Ok::<(), ()>(()));
    });
}

#[test]
#[deny(unreachable_code)]
fn a_join_with_an_uninhabited_output_stays_pending_without_warnings() {
    use std::convert::Infallible;
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    let first = pin!(async { join!(pending::<Infallible>(), async { 1 }) });
    assert!(first.poll(&mut cx).is_pending());
    let last = pin!(async { join!(biased; async { 1 }, pending::<Infallible>()) });
    assert!(last.poll(&mut cx).is_pending());
}

#[test]
fn asincrono_pin_shadows_locals_and_pins_let_bindings() {
    on_each_flavour(|| async {
        let first = CountedPolls::new(1, "first").0;
        let second = async { "second" };
        asincrono::pin!(first, second);
        // `&mut` of a pinned future is a future: polled by reference, kept afterwards.
        assert_eq!((&mut first).await, "first");
        assert_eq!(second.as_mut().await, "second");
        asincrono::pin! {
            let third = async { 3 };
            let fourth = yield_now();
        }
        assert_eq!(join!(&mut third, &mut fourth), (3, ()));
    });
}

#[test]
fn select_keeps_a_borrowed_temporary_alive() {
    asincrono::block_on(async {
        let value = select! {
            n = &mut ready(7) => n,
        };
        assert_eq!(value, 7);
    });
}

#[test]
fn select_returns_pending_once_the_task_has_spent_its_budget() {
    // A budget-spending operation that is always ready, beside a plain ready future. Once
    // the task's budget is gone, `select!` must step aside instead of letting the plain
    // future win forever.
    asincrono::block_on(async {
        let (tx, mut rx) = asincrono::sync::mpsc::unbounded_channel::<u32>();
        let mut ready_selects = 0;
        loop {
            tx.send(1).expect("the receiver is here");
            let poll = std::future::poll_fn(|cx| {
                let select = pin!(async {
                    select! {
                        biased;
                        Some(n) = rx.recv() => n,
                        n = ready(2) => n,
                    }
                });
                Poll::Ready(select.poll(cx))
            })
            .await;
            if poll.is_pending() {
                break;
            }
            ready_selects += 1;
            assert!(
                ready_selects < 10_000,
                "select! never yielded to the scheduler"
            );
        }
        assert!(ready_selects > 0);
    });
}

#[test]
fn a_disabled_branch_whose_future_never_finishes_needs_no_type_annotation() {
    asincrono::block_on(async {
        // The output type of this future is never fixed by anything: it falls back to `()`.
        let never = std::future::poll_fn(|_| panic!("a disabled branch is never polled"));
        let value = select! {
            _ = never, if false => unreachable!(),
            n = ready(3) => n,
        };
        assert_eq!(value, 3);
    });
}

/// What a `join!` or `select!` keeps across its `.await` is part of every task that awaits
/// it. Each future costs its own size plus one pointer (its `Pin<&mut F>`), and each
/// `join!` output its own slot; nothing else is kept but a `u32` for a fair `join!`'s
/// rotation. These are upper bounds on a 64-bit target, so that the macros cannot grow
/// unnoticed (tokio, which reaches its futures through one pointer and `unsafe`, keeps 8
/// bytes less per future after the first; chapter 12 says why asincrono does not).
#[test]
#[cfg(target_pointer_width = "64")]
fn join_and_select_keep_one_pointer_per_future_and_little_else() {
    use std::mem::size_of_val;
    let one = async { join!(ready(0i32)) };
    let two = async { join!(ready(0i32), ready(0i32)) };
    assert!(size_of_val(&one) <= 40, "{}", size_of_val(&one));
    assert!(size_of_val(&two) <= 64, "{}", size_of_val(&two));
    let one = async { join!(biased; ready(0i32)) };
    let two = async { join!(biased; ready(0i32), ready(0i32)) };
    assert!(size_of_val(&one) <= 32, "{}", size_of_val(&one));
    assert!(size_of_val(&two) <= 56, "{}", size_of_val(&two));

    let one = async {
        select! { _ = ready(0i32) => {} }
    };
    let two = async {
        select! { _ = ready(0i32) => {}, _ = ready(0i32) => {} }
    };
    let three = async {
        select! { _ = ready(0i32) => {}, _ = ready(0i32) => {}, _ = ready(0i32) => {} }
    };
    assert!(size_of_val(&one) <= 24, "{}", size_of_val(&one));
    assert!(size_of_val(&two) <= 40, "{}", size_of_val(&two));
    assert!(size_of_val(&three) <= 56, "{}", size_of_val(&three));
}

#[test]
fn consume_budget_yields_once_the_task_has_spent_its_budget_and_unconstrained_never() {
    use asincrono::task::coop::{consume_budget, unconstrained};
    on_each_flavour(|| async {
        // Count how many units one poll of the task may spend before it is made to yield.
        let spent_in_one_poll = std::future::poll_fn(|cx| {
            let mut spent = 0;
            loop {
                match pin!(consume_budget()).poll(cx) {
                    Poll::Ready(()) => spent += 1,
                    Poll::Pending => return Poll::Ready(spent),
                }
                assert!(spent < 10_000, "consume_budget never yielded");
            }
        })
        .await;
        assert_eq!(spent_in_one_poll, 128);
        yield_now().await; // a fresh budget
        let unlimited = std::future::poll_fn(|cx| {
            let mut spent = 0;
            let mut inner = pin!(unconstrained(std::future::poll_fn(|cx| {
                for _ in 0..1_000 {
                    if pin!(consume_budget()).poll(cx).is_pending() {
                        return Poll::Ready(false);
                    }
                    spent += 1;
                }
                Poll::Ready(true)
            })));
            inner.as_mut().poll(cx)
        })
        .await;
        assert!(unlimited);
    });
}
