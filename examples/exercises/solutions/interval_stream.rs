// The reference answer to `examples/exercise_interval_stream.rs`, shown in the book's solutions page. The
// exercise includes this file in place of its wrong part when it is built with
// `--cfg exercise_solved`, which is how `cargo test --test exercises` checks that the
// answer makes it print PASS. (An included file cannot have a `//!` doc, hence `//`.)

// ANCHOR: answer
impl Stream for Ticks {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        // `Ticks` is `Unpin` (an `Interval` is), so the pin can be taken off.
        // Pending from poll_tick means its timer holds our waker: the contract is kept.
        self.get_mut().interval.poll_tick(cx).map(Some)
    }
}
// ANCHOR_END: answer
