//! Signal levels in dBFS: 0 dBFS is a sample of magnitude 1.0.
//!
//! RMS follows the plain convention (a full-scale sine reads −3.01 dBFS RMS, no +3 dB
//! "AES" correction). Silence and empty slices read `f32::NEG_INFINITY`.

/// Converts a linear magnitude to dBFS; zero (or less) is `NEG_INFINITY`.
pub fn amp_to_dbfs(amplitude: f32) -> f32 {
    if amplitude > 0.0 {
        20.0 * amplitude.log10()
    } else {
        f32::NEG_INFINITY
    }
}

/// Converts dBFS to a linear magnitude.
pub fn dbfs_to_amp(dbfs: f32) -> f32 {
    10f32.powf(dbfs / 20.0)
}

/// Sample peak in dBFS (no inter-sample peak estimation, so it may read up to ~3 dB low
/// on content near Nyquist). NaNs are ignored: check [`is_finite_all`] first.
pub fn peak_dbfs(signal: &[f32]) -> f32 {
    amp_to_dbfs(signal.iter().fold(0.0f32, |m, &x| m.max(x.abs())))
}

/// RMS level in dBFS over the whole slice, accumulated in f64 so minutes of audio stay
/// exact to well under 0.01 dB.
pub fn rms_dbfs(signal: &[f32]) -> f32 {
    if signal.is_empty() {
        return f32::NEG_INFINITY;
    }
    let energy: f64 = signal.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    amp_to_dbfs((energy / signal.len() as f64).sqrt() as f32)
}

/// Index of the first sample whose magnitude is strictly above `threshold_dbfs`.
///
/// For latency measurement: send an event at a known sample, render, and subtract. It is
/// exact to the sample for a sound that starts with a step; a sound that fades in is found
/// where it crosses the threshold, so pick the threshold just above the noise floor.
pub fn first_sample_above(signal: &[f32], threshold_dbfs: f32) -> Option<usize> {
    let threshold = dbfs_to_amp(threshold_dbfs);
    signal.iter().position(|&x| x.abs() > threshold)
}

/// True when no sample is NaN or infinite: the first check on any render.
pub fn is_finite_all(signal: &[f32]) -> bool {
    signal.iter().all(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sine_levels() {
        let sine: Vec<f32> = (0..48_000)
            .map(|i| 0.5 * (std::f32::consts::TAU * 1000.0 * i as f32 / 48_000.0).sin())
            .collect();
        assert!((peak_dbfs(&sine) - (-6.0206)).abs() < 0.01);
        assert!((rms_dbfs(&sine) - (-9.0309)).abs() < 0.01);
        assert!((rms_dbfs(&[1.0, -1.0]) - 0.0).abs() < 1e-6);
    }

    #[test]
    fn silence_and_empty_are_minus_infinity() {
        assert_eq!(peak_dbfs(&[]), f32::NEG_INFINITY);
        assert_eq!(rms_dbfs(&[]), f32::NEG_INFINITY);
        assert_eq!(peak_dbfs(&[0.0; 64]), f32::NEG_INFINITY);
        assert_eq!(rms_dbfs(&[0.0; 64]), f32::NEG_INFINITY);
    }

    #[test]
    fn first_sample_above_finds_the_step() {
        let mut x = vec![1e-4f32; 1000];
        x[700] = -0.2;
        x[900] = 0.9;
        assert_eq!(first_sample_above(&x, -60.0), Some(700));
        assert_eq!(first_sample_above(&x, -3.0), Some(900));
        assert_eq!(first_sample_above(&x, 0.0), None);
    }

    #[test]
    fn finiteness_and_conversions() {
        assert!(is_finite_all(&[0.0, 1.0, -1.0]));
        assert!(!is_finite_all(&[0.0, f32::NAN]));
        assert!(!is_finite_all(&[f32::INFINITY]));
        assert!((dbfs_to_amp(amp_to_dbfs(0.123)) - 0.123).abs() < 1e-6);
        assert!((dbfs_to_amp(-20.0) - 0.1).abs() < 1e-7);
    }
}
