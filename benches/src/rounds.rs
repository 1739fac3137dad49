//! How many measured rounds a workload runs: enough to fill about five seconds of samples.
//!
//! On a shared machine one sample of a 100 ms workload can land 25% off its neighbours: of
//! 56 rounds of `tcp_bulk` on one flavour, medians of 7 gave ratios that differed by ±0.14
//! (one standard deviation), medians of 14 by ±0.04. So a short workload runs more rounds,
//! and a long one no fewer than [`ROUNDS`]. The warm-up round, whose samples are thrown
//! away, is the measure of how long a round takes.
//!
//! The corner cut: a fixed time budget per row, not a stopping rule that runs until the
//! interval (`ratio.rs`) is narrow enough, which would make a run's length depend on how
//! noisy the machine happens to be.

use crate::Size;
use std::time::Duration;

/// The fewest measured rounds after the warm-up, for a workload whose round takes long.
pub const ROUNDS: usize = 7;
/// The most measured rounds, for a workload whose round takes a few milliseconds.
pub const MAX_ROUNDS: usize = 25;
/// About how long a workload's measured rounds should take together.
pub const SAMPLING_TIME: Duration = Duration::from_secs(5);
/// Measured rounds for `--quick`, and for the workloads that start a process per sample.
pub const FEW_ROUNDS: usize = 5;

/// How many measured rounds follow a warm-up round that took `warm_up`: enough to fill
/// [`SAMPLING_TIME`], between [`ROUNDS`] and [`MAX_ROUNDS`], and odd, so that the median is
/// one sample. A run that is not [`Size::Full`], and a workload that starts a process per
/// sample (`isolated`), take [`FEW_ROUNDS`].
pub fn rounds_after(warm_up: Duration, isolated: bool, size: Size) -> usize {
    if size != Size::Full || isolated {
        return FEW_ROUNDS;
    }
    let fitting = SAMPLING_TIME.as_secs_f64() / warm_up.as_secs_f64().max(1e-6);
    (fitting as usize).clamp(ROUNDS, MAX_ROUNDS) | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(warm_up_ms: u64) -> usize {
        rounds_after(Duration::from_millis(warm_up_ms), false, Size::Full)
    }

    #[test]
    fn a_short_workload_runs_the_most_rounds_and_a_long_one_the_fewest() {
        assert_eq!(full(0), MAX_ROUNDS);
        assert_eq!(full(10), MAX_ROUNDS);
        assert_eq!(full(2_000), ROUNDS);
    }

    #[test]
    fn in_between_the_rounds_fill_the_sampling_time_and_are_odd() {
        // 5 s / 250 ms = 20 rounds, made odd: 21. 5 s / 500 ms = 10: 11.
        assert_eq!(full(250), 21);
        assert_eq!(full(500), 11);
        for ms in 1..3_000 {
            let rounds = full(ms);
            assert!(rounds % 2 == 1, "{ms} ms: {rounds}");
            assert!((ROUNDS..=MAX_ROUNDS).contains(&rounds), "{ms} ms: {rounds}");
        }
    }

    #[test]
    fn quick_runs_and_child_processes_take_few_rounds() {
        assert_eq!(rounds_after(Duration::ZERO, false, Size::Quick), FEW_ROUNDS);
        assert_eq!(rounds_after(Duration::ZERO, true, Size::Full), FEW_ROUNDS);
    }
}
