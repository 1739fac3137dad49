//! A run's ratio, from its paired rounds, and how far to trust it: a 95% interval.
//!
//! Each round runs both runtimes back to back, on the same machine in the same state. Over
//! a run that state drifts. In 40 alternating pairs of each of eight rows (tcp, udp,
//! yields, timers, channels), the two samples of a round were correlated (0.12 to 0.52),
//! and so were neighbouring rounds (tokio's lag-1 correlation, 0.10 to 0.51). The ratio of
//! the two runtimes' medians throws that pairing away: a slow stretch that happens to fall
//! on one runtime's middle samples moves the ratio. So the ratio is taken **round by
//! round**, asincrono's sample over tokio's in the same round, and the run's ratio is the
//! median of those ([`paired_ratio`]). Drawn nine rounds at a time from those recordings,
//! the paired ratio wandered 9% to 38% less than the ratio of the medians on every row:
//! ±0.027 against ±0.039 for current-thread `tcp_echo`, ±0.058 against ±0.093 for
//! `yield_many`. Nor did it favour asincrono: on six of the eight rows it came out higher
//! than the ratio of the medians, on one lower, on one the same.
//!
//! Had the machine been a little noisier in some rounds and quieter in others, the same
//! code would have given a somewhat different ratio. The **bootstrap** estimates how
//! different, with no model of the noise: draw as many rounds as the run had, at random and
//! with replacement, from the rounds it had; compute the ratio of that imaginary run;
//! repeat a few thousand times. The middle 95% of those ratios is the interval
//! ([`ratio_interval`]). If it contains 1.00, this run cannot tell the two runtimes apart,
//! whatever its ratio says. A round is drawn whole, with both runtimes' samples, as they
//! were measured.
//!
//! The corner cut: the draws are std's SipHash of a counter, with fixed keys, so the same
//! samples always give the same interval. A statistics crate would offer a real
//! random-number generator and better intervals than these plain percentiles
//! (bias-corrected ones, say), and estimators that use the rounds more efficiently still
//! (the Hodges–Lehmann estimator did as well as the median of the ratios, but takes a
//! paragraph to explain); for a row of 7 to 25 rounds, the plain ones say what a reader
//! needs: how wide the noise is.

use crate::report::Summary;
use std::hash::{DefaultHasher, Hash, Hasher};

/// How many imaginary runs are drawn.
const RESAMPLES: usize = 2_000;
/// The share of imaginary ratios left out on each side: 2.5% below, 2.5% above.
const TAIL: f64 = 0.025;
/// Fewer rounds than this say too little about their own noise to give an interval.
const FEWEST_ROUNDS: usize = 5;

// ANCHOR: paired_ratio
/// The run's ratio: the median, over the rounds, of asincrono's sample divided by tokio's
/// sample of the same round (`tokio[i]` and `asincrono[i]` were measured in round `i`).
/// Below 1.0, asincrono needed less. Without a pair to divide (samples of different counts,
/// or one that is not a positive number), the ratio of the two medians; NaN if there is
/// no sample at all.
pub fn paired_ratio(tokio: &[f64], asincrono: &[f64]) -> f64 {
    match round_ratios(tokio, asincrono) {
        Some(ratios) => Summary::from_samples(&ratios).median,
        None => Summary::from_samples(asincrono).median / Summary::from_samples(tokio).median,
    }
}
// ANCHOR_END: paired_ratio

/// Each round's ratio, asincrono's sample over tokio's; `None` unless the rounds pair up:
/// as many samples on each side, at least one, every one a positive number.
fn round_ratios(tokio: &[f64], asincrono: &[f64]) -> Option<Vec<f64>> {
    let usable = |samples: &[f64]| samples.iter().all(|&x| x.is_finite() && x > 0.0);
    let pairable =
        !tokio.is_empty() && asincrono.len() == tokio.len() && usable(tokio) && usable(asincrono);
    pairable.then(|| asincrono.iter().zip(tokio).map(|(a, t)| a / t).collect())
}

// ANCHOR: ratio_interval
/// The 95% bootstrap interval of [`paired_ratio`]. `None` for fewer than five rounds (the
/// private `FEWEST_ROUNDS`), or rounds that cannot be paired.
pub fn ratio_interval(tokio: &[f64], asincrono: &[f64]) -> Option<(f64, f64)> {
    let per_round = round_ratios(tokio, asincrono).filter(|r| r.len() >= FEWEST_ROUNDS)?;
    let rounds = per_round.len();
    // A round is drawn whole: drawing its ratio is drawing both its samples.
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .map(|resample| {
            let drawn: Vec<f64> = (0..rounds)
                .map(|i| per_round[draw((resample * rounds + i) as u64, rounds)])
                .collect();
            Summary::from_samples(&drawn).median
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let at = |share: f64| ratios[((RESAMPLES - 1) as f64 * share).round() as usize];
    Some((at(TAIL), at(1.0 - TAIL)))
}
// ANCHOR_END: ratio_interval

/// The `n`th draw of a round, below `rounds`: std's SipHash of `n`. `DefaultHasher::new`
/// always starts from the same keys, so the same samples give the same interval every time,
/// and no random-number generator of our own is needed.
fn draw(n: u64, rounds: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    n.hash(&mut hasher);
    (hasher.finish() % rounds as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_runtimes_give_an_interval_around_one() {
        let samples = [1.0, 1.1, 0.9, 1.05, 0.95, 1.2, 0.8];
        let (low, high) = ratio_interval(&samples, &samples).unwrap();
        // Paired rounds: every round's ratio is 1, in every imaginary run.
        assert_eq!((low, high), (1.0, 1.0));
    }

    #[test]
    fn a_clear_difference_gives_an_interval_that_excludes_one() {
        let tokio = [10.0, 11.0, 9.0, 10.5, 9.5, 12.0, 8.0];
        let asincrono: Vec<f64> = tokio.iter().map(|t| t * 0.5).collect();
        let (low, high) = ratio_interval(&tokio, &asincrono).unwrap();
        assert!(high < 1.0, "{low}..{high}");
        assert!(low <= 0.5 && 0.5 <= high, "{low}..{high}");
    }

    #[test]
    fn noisy_samples_give_a_wide_interval_that_holds_the_ratio() {
        let tokio = [1.0, 1.4, 0.8, 1.2, 0.9, 1.3, 1.1, 0.7, 1.0];
        let asincrono = [1.3, 0.8, 1.1, 0.9, 1.4, 1.0, 0.7, 1.2, 1.0];
        let ratio = paired_ratio(&tokio, &asincrono);
        let (low, high) = ratio_interval(&tokio, &asincrono).unwrap();
        assert!(low < ratio && ratio < high, "{low} < {ratio} < {high}");
        assert!(
            low < 1.0 && 1.0 < high,
            "the noise is wider than any difference"
        );
    }

    #[test]
    fn the_ratio_follows_the_rounds_not_the_medians() {
        // asincrono took 90% of tokio's time in four rounds of five, and hit a slow moment
        // of its own in the third; the machine was slower for both in the last two.
        let tokio = [1.0, 1.0, 1.0, 2.0, 2.0];
        let asincrono = [0.9, 0.9, 1.8, 1.8, 1.8];
        assert_eq!(paired_ratio(&tokio, &asincrono), 0.9);
        // The medians (1.0 and 1.8) would have said asincrono needed 80% more.
        let medians =
            Summary::from_samples(&asincrono).median / Summary::from_samples(&tokio).median;
        assert_eq!(medians, 1.8);
    }

    #[test]
    fn unpaired_samples_fall_back_to_the_ratio_of_the_medians() {
        assert_eq!(paired_ratio(&[2.0, 4.0, 6.0], &[1.0, 2.0]), 1.5 / 4.0);
        assert_eq!(paired_ratio(&[2.0, f64::NAN, 2.0], &[1.0, 1.0, 1.0]), 0.5);
        assert!(paired_ratio(&[], &[]).is_nan());
    }

    #[test]
    fn too_few_or_unusable_samples_give_no_interval() {
        assert_eq!(ratio_interval(&[1.0; 4], &[1.0; 4]), None);
        assert_eq!(ratio_interval(&[1.0; 7], &[1.0; 6]), None);
        let mut with_nan = [1.0; 7];
        with_nan[3] = f64::NAN;
        assert_eq!(ratio_interval(&with_nan, &[1.0; 7]), None);
        assert_eq!(ratio_interval(&[0.0; 7], &[1.0; 7]), None);
    }

    #[test]
    fn the_same_samples_always_give_the_same_interval() {
        let tokio = [1.0, 1.4, 0.8, 1.2, 0.9, 1.3, 1.1];
        let asincrono = [1.3, 0.8, 1.1, 0.9, 1.4, 1.0, 0.7];
        assert_eq!(
            ratio_interval(&tokio, &asincrono),
            ratio_interval(&tokio, &asincrono)
        );
    }
}
