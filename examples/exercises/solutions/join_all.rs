// The reference answer to `examples/exercise_join_all.rs`, shown in the book's solutions page. The
// exercise includes this file in place of its wrong part when it is built with
// `--cfg exercise_solved`, which is how `cargo test --test exercises` checks that the
// answer makes it print PASS. (An included file cannot have a `//!` doc, hence `//`.)

// ANCHOR: answer
use std::future::poll_fn;
use std::task::Poll;

/// Runs every future in `futures` to completion and returns their outputs in input order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    // Box::pin gives each future a fixed address, so the Vec can hold them and poll them
    // without the futures having to be `Unpin`.
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    poll_fn(move |cx| {
        let mut all_done = true;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_some() {
                continue; // finished: a future must not be polled after `Ready`
            }
            match future.as_mut().poll(cx) {
                Poll::Ready(value) => *output = Some(value),
                // Pending: this future has arranged a wake of `cx.waker()`, which is ours.
                Poll::Pending => all_done = false,
            }
        }
        if all_done {
            Poll::Ready(outputs.iter_mut().map(|slot| slot.take().expect("done")).collect())
        } else {
            Poll::Pending
        }
    })
    .await
}
// ANCHOR_END: answer
