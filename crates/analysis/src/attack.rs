//! Locating the first sample of an attack on the waveform, once a detector has said
//! roughly where it is: the timing stage of [`super::onset`].
//!
//! AR-AIC picking, borrowed from seismology (Maeda 1985; Sleeman & van Eck 1999): a linear
//! predictor fitted (Burg) to the audio just before the attack cancels what was already
//! sounding — ringing partials of earlier notes, the colour of a noise bed — so its
//! prediction error stays small until the new sound starts, where it jumps. The jump is
//! the split point that best explains the error as two segments of different variance
//! (Akaike information criterion). No threshold is involved, the waveform's phase does
//! not matter (a 41 Hz note starting at a zero crossing is found at its first sample), and
//! the result is the *start* of the attack, not its peak.

/// Longest predictor: enough poles for a few ringing notes' strongest partials.
const MAX_ORDER: usize = 64;
/// White noise this far below the learning excerpt is added before fitting (see
/// [`predictor`]).
const LOADING_DB: f64 = 40.0;
/// The AIC variance floor, relative to the searched excerpt.
const FLOOR_DB: f64 = -60.0;

/// Index in `x` of the first sample of the attack. `x[..learn]` is known to precede the
/// attack and is what the predictor learns from; the attack is searched in `x[learn..]`,
/// keeping `min_part` samples on either side of the split. `None` if `x` is too short.
pub(super) fn locate_attack(x: &[f64], learn: usize, min_part: usize) -> Option<(usize, f64)> {
    let learn = learn.min(x.len());
    let a = predictor(&x[..learn]);
    // Only audio the predictor did not learn from is searched: on the excerpt it was
    // fitted to its error is a little smaller, which would read as a change where the
    // excerpt ends.
    let from = learn.max(a.len() - 1);
    if x.len() < from + 2 * min_part + 2 {
        return None;
    }
    let residual: Vec<f64> = (from..x.len())
        .map(|n| a.iter().enumerate().map(|(k, c)| c * x[n - k]).sum())
        .collect();
    let (k, contrast) = aic_pick(&residual, min_part);
    Some((from + k, contrast))
}

/// The prediction-error filter `[1, a1, …, ap]` for `x` (just `[1]` when `x` is too short
/// to learn from, which leaves plain AIC on the waveform).
///
/// White noise 40 dB down is added to `x` first ("diagonal loading"): without it the
/// predictor exploits bands that happen to be empty, and an oversampled excerpt (a few
/// partials below 3 kHz at 48 kHz) becomes "predictable" as a smooth curve — and so does
/// the new note, which then leaves no trace in the error. The noise is deterministic.
fn predictor(x: &[f64]) -> Vec<f64> {
    let order = (x.len() / 4).min(MAX_ORDER);
    if order < 2 {
        return vec![1.0];
    }
    let rms = (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt();
    // Uniform noise in ±√3·level has RMS `level`.
    let level = rms * 10f64.powf(-LOADING_DB / 20.0) * 3f64.sqrt();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let loaded: Vec<f64> = x
        .iter()
        .map(|v| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            v + level * ((state >> 11) as f64 / (1u64 << 52) as f64 - 1.0)
        })
        .collect();
    burg(&loaded, order)
}

/// Burg's method: the prediction-error filter of order `order` (or less, if the error
/// vanishes first, as on digital silence). Burg rather than the autocorrelation method
/// because it resolves close partials from a few tens of milliseconds of audio.
fn burg(x: &[f64], order: usize) -> Vec<f64> {
    let n = x.len();
    let energy: f64 = x.iter().map(|v| v * v).sum();
    let mut forward = x.to_vec();
    let mut backward = x.to_vec();
    let mut a = vec![1.0];
    for m in 0..order.min(n.saturating_sub(1)) {
        let (mut num, mut den) = (0.0, 0.0);
        for i in m + 1..n {
            num += forward[i] * backward[i - 1];
            den += forward[i] * forward[i] + backward[i - 1] * backward[i - 1];
        }
        if den <= energy * 1e-15 || den == 0.0 {
            break;
        }
        let k = -2.0 * num / den;
        let previous = a.clone();
        a.push(0.0);
        for i in 1..=m + 1 {
            a[i] += k * previous[m + 1 - i];
        }
        // Descending, so backward[i − 1] still holds the previous order's error.
        for i in (m + 1..n).rev() {
            let f = forward[i];
            forward[i] = f + k * backward[i - 1];
            backward[i] = backward[i - 1] + k * f;
        }
    }
    a
}

/// Maeda's AIC change point: the split `k` minimising
/// `k·ln var(x[..k]) + (n−k)·ln var(x[k..])`, i.e. the most likely place where the signal
/// switches from one variance to another. Returns the first sample of the second part
/// and the contrast: how many dB louder the second part is than the first.
fn aic_pick(x: &[f64], min_part: usize) -> (usize, f64) {
    let n = x.len();
    let mut s1 = Vec::with_capacity(n + 1);
    let mut s2 = Vec::with_capacity(n + 1);
    let (mut a, mut b) = (0.0f64, 0.0f64);
    s1.push(0.0);
    s2.push(0.0);
    for &v in x {
        a += v;
        b += v * v;
        s1.push(a);
        s2.push(b);
    }
    let variance = |from: usize, to: usize| {
        let count = (to - from) as f64;
        let mean = (s1[to] - s1[from]) / count;
        ((s2[to] - s2[from]) / count - mean * mean).max(0.0)
    };
    // The floor keeps ln() finite over digital silence, and makes the picker blind to
    // what no listener would call the start of the sound: the far tail of a filter's
    // response, dither, a previous note dying away.
    let floor = variance(0, n) * 10f64.powf(FLOOR_DB / 10.0) + 1e-30;
    let mut best = (f64::INFINITY, min_part);
    for k in min_part..=n - min_part {
        let aic = k as f64 * (variance(0, k) + floor).ln()
            + (n - k) as f64 * (variance(k, n) + floor).ln();
        if aic < best.0 {
            best = (aic, k);
        }
    }
    let k = best.1;
    let contrast = 10.0 * ((variance(k, n) + floor) / (variance(0, k) + floor)).log10();
    (k, contrast)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aic_finds_a_variance_step_in_noise() {
        let mut state = 1u64;
        let mut noise = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let x: Vec<f64> = (0..2000)
            .map(|i| if i < 1234 { 0.01 } else { 1.0 } * noise())
            .collect();
        let (k, contrast) = aic_pick(&x, 8);
        assert!(
            k.abs_diff(1234) <= 2 && (contrast - 40.0).abs() < 1.0,
            "{k} {contrast}"
        );
    }

    #[test]
    fn burg_recovers_an_ar2_process() {
        // x[n] = 1.8 x[n−1] − 0.9 x[n−2] + e[n]: the filter is [1, −1.8, 0.9].
        let mut state = 7u64;
        let mut x = vec![0.0f64; 8000];
        for n in 2..x.len() {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let e = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            x[n] = 1.8 * x[n - 1] - 0.9 * x[n - 2] + e;
        }
        let a = burg(&x, 2);
        assert!(
            (a[1] + 1.8).abs() < 0.02 && (a[2] - 0.9).abs() < 0.02,
            "{a:?}"
        );
    }

    #[test]
    fn a_new_tone_under_a_ringing_one_is_found_at_its_first_sample() {
        // 440 Hz rings throughout; 660 Hz starts at sample 3000, softer, at a zero
        // crossing. The waveform's variance barely changes; the prediction error jumps.
        let tau = std::f64::consts::TAU;
        let x: Vec<f64> = (0..4000)
            .map(|n| {
                let t = n as f64 / 48_000.0;
                let new = if n >= 3000 {
                    0.3 * (tau * 660.0 * (n - 3000) as f64 / 48_000.0).sin()
                } else {
                    0.0
                };
                (tau * 440.0 * t).sin() + new
            })
            .collect();
        let (found, _) = locate_attack(&x, 2400, 12).unwrap();
        assert!(found.abs_diff(3000) <= 12, "found {found}");
    }
}
