//! How far one run's ratio can be trusted: a 95% interval for it, from the run's own rounds.
//!
//! A ratio is the median of asincrono's samples over the median of tokio's. Had the machine
//! been a little noisier in some rounds and quieter in others, the same code would have
//! given a somewhat different ratio. The **bootstrap** estimates how different, with no
//! model of the noise: draw as many rounds as the run had, at random and with replacement,
//! from the rounds it had; compute the ratio of that imaginary run; repeat a few thousand
//! times. The middle 95% of those ratios is the interval. If it contains 1.00, this run
//! cannot tell the two runtimes apart, whatever its ratio says.
//!
//! A round is drawn whole, with both runtimes' samples: the two ran back to back, on the
//! same machine in the same state, so they stay paired, as they were measured.
//!
//! The corner cut: the draws are std's SipHash of a counter, with fixed keys, so the same
//! samples always give the same interval. A statistics crate would offer a real
//! random-number generator and better intervals than these plain percentiles
//! (bias-corrected ones, say); for a row of 7 to 25 rounds, the plain ones say what a reader
//! needs: how wide the noise is.

use crate::report::Summary;
use std::hash::{DefaultHasher, Hash, Hasher};

/// How many imaginary runs are drawn.
const RESAMPLES: usize = 2_000;
/// The share of imaginary ratios left out on each side: 2.5% below, 2.5% above.
const TAIL: f64 = 0.025;
/// Fewer rounds than this say too little about their own noise to give an interval.
const FEWEST_ROUNDS: usize = 5;

// ANCHOR: ratio_interval
/// The 95% bootstrap interval of `median(asincrono) / median(tokio)`, where `tokio[i]` and
/// `asincrono[i]` were measured in round `i`. `None` for fewer than five rounds (the
/// private `FEWEST_ROUNDS`), samples of different counts, or a sample that is not a
/// positive number.
pub fn ratio_interval(tokio: &[f64], asincrono: &[f64]) -> Option<(f64, f64)> {
    let rounds = tokio.len();
    let usable = |samples: &[f64]| samples.iter().all(|&x| x.is_finite() && x > 0.0);
    if rounds < FEWEST_ROUNDS || asincrono.len() != rounds || !usable(tokio) || !usable(asincrono) {
        return None;
    }
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .map(|resample| {
            let picked: Vec<usize> = (0..rounds)
                .map(|i| draw((resample * rounds + i) as u64, rounds))
                .collect();
            let median_of = |samples: &[f64]| {
                let drawn: Vec<f64> = picked.iter().map(|&i| samples[i]).collect();
                Summary::from_samples(&drawn).median
            };
            median_of(asincrono) / median_of(tokio)
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
        // Paired rounds: every imaginary run has the same median on both sides.
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
        let ratio = Summary::from_samples(&asincrono).median / Summary::from_samples(&tokio).median;
        let (low, high) = ratio_interval(&tokio, &asincrono).unwrap();
        assert!(low < ratio && ratio < high, "{low} < {ratio} < {high}");
        assert!(
            low < 1.0 && 1.0 < high,
            "the noise is wider than any difference"
        );
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
