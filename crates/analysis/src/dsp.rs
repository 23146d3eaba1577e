//! Small DSP building blocks for the analysers: power spectra of two real frames from
//! one complex FFT (rustfft), Butterworth sections and a decimator.

use rustfft::num_complex::Complex;
use std::f64::consts::PI;

/// Power spectra (bins `0..=n/2`) of two real frames that went through one complex FFT,
/// the first frame as the real part and the second as the imaginary part. The spectrum
/// of a real frame is conjugate-symmetric, which separates the two:
/// `A[k] = (Z[k] + conj Z[n-k]) / 2` and `B[k] = (Z[k] - conj Z[n-k]) / 2i`.
pub(super) fn two_real_power_spectra(spectrum: &[Complex<f32>], power: &mut [Vec<f32>; 2]) {
    let n = spectrum.len();
    for k in 0..=n / 2 {
        let (z, mirror) = (spectrum[k], spectrum[(n - k) % n]);
        let (ar, ai) = (z.re + mirror.re, z.im - mirror.im);
        let (br, bi) = (z.im + mirror.im, mirror.re - z.re);
        power[0][k] = 0.25 * (ar * ar + ai * ai);
        power[1][k] = 0.25 * (br * br + bi * bi);
    }
}

/// One second-order section (RBJ cookbook), run in f64 so low cutoffs at 48 kHz stay
/// numerically clean.
#[derive(Clone, Copy)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

impl Biquad {
    fn new(high_pass: bool, cutoff_hz: f64, q: f64, sample_rate: f64) -> Self {
        let w = 2.0 * PI * (cutoff_hz / sample_rate).clamp(1e-6, 0.499);
        let (sin, cos) = w.sin_cos();
        let alpha = sin / (2.0 * q);
        let a0 = 1.0 + alpha;
        let b = if high_pass {
            [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0]
        } else {
            [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0]
        };
        Biquad {
            b: b.map(|c| c / a0),
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
        }
    }

    /// Transposed direct form II over the whole buffer, in place, from rest.
    fn run(&self, x: &mut [f64]) {
        let (mut s1, mut s2) = (0.0, 0.0);
        for v in x {
            let input = *v;
            let y = self.b[0] * input + s1;
            s1 = self.b[1] * input - self.a[0] * y + s2;
            s2 = self.b[2] * input - self.a[1] * y;
            *v = y;
        }
    }
}

/// Q of the two sections of a 4th-order Butterworth filter.
const BUTTERWORTH4_Q: [f64; 2] = [0.541_196_100_146_197, 1.306_562_964_876_376_6];

/// Causal band limiting: 4th-order Butterworth high-pass and/or low-pass. Causal, not
/// zero-phase, because onsets are timed on the result: a forward-backward filter's
/// response starts before the sound does.
pub(super) fn band_filter(
    signal: &[f32],
    sample_rate: f32,
    high_pass_hz: Option<f32>,
    low_pass_hz: Option<f32>,
) -> Vec<f32> {
    let sr = f64::from(sample_rate);
    let mut x: Vec<f64> = signal.iter().map(|&v| f64::from(v)).collect();
    for (cutoff, high_pass) in [(high_pass_hz, true), (low_pass_hz, false)] {
        if let Some(hz) = cutoff {
            for q in BUTTERWORTH4_Q {
                Biquad::new(high_pass, f64::from(hz), q, sr).run(&mut x);
            }
        }
    }
    x.into_iter().map(|v| v as f32).collect()
}

/// Low-passes with a Blackman-windowed sinc and keeps every `factor`-th sample. Only the
/// "valid" part of the convolution is returned (no start-up transient to look like an
/// attack), so the output is about `32 * factor` input samples shorter.
pub(super) fn decimate(signal: &[f32], factor: usize) -> Vec<f32> {
    if factor <= 1 {
        return signal.to_vec();
    }
    let taps = 32 * factor + 1;
    let cutoff = 0.4 / factor as f64; // cycles per input sample, 80 % of the new Nyquist
    let centre = (taps - 1) as f64 / 2.0;
    let mut kernel: Vec<f64> = (0..taps)
        .map(|i| {
            let t = i as f64 - centre;
            let sinc = if t == 0.0 {
                2.0 * cutoff
            } else {
                (2.0 * PI * cutoff * t).sin() / (PI * t)
            };
            let phase = 2.0 * PI * i as f64 / (taps - 1) as f64;
            sinc * (0.42 - 0.5 * phase.cos() + 0.08 * (2.0 * phase).cos())
        })
        .collect();
    let sum: f64 = kernel.iter().sum();
    kernel.iter_mut().for_each(|k| *k /= sum);
    let kernel: Vec<f32> = kernel.into_iter().map(|k| k as f32).collect();
    if signal.len() < taps {
        return Vec::new();
    }
    (0..=signal.len() - taps)
        .step_by(factor)
        .map(|start| {
            signal[start..start + taps]
                .iter()
                .zip(&kernel)
                .map(|(x, k)| x * k)
                .sum()
        })
        .collect()
}

/// Median of a scratch slice (reordered in place); NaN-free input assumed.
pub(super) fn median_in_place(values: &mut [f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mid = values.len() / 2;
    let (_, &mut m, _) = values.select_nth_unstable_by(mid, f32::total_cmp);
    m
}

/// Median of f64 values (copied), mean of the two middle values for even counts.
pub(super) fn median_f64(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_real_frames_split_into_their_own_power_spectra() {
        let n = 64;
        let a: Vec<f32> = (0..n).map(|i| ((i * 7919) % 13) as f32 - 6.0).collect();
        let b: Vec<f32> = (0..n).map(|i| ((i * 104_729) % 11) as f32 - 5.0).collect();
        let mut spectrum: Vec<Complex<f32>> = a
            .iter()
            .zip(&b)
            .map(|(&re, &im)| Complex::new(re, im))
            .collect();
        rustfft::FftPlanner::new()
            .plan_fft_forward(n)
            .process(&mut spectrum);
        let mut power = [vec![0.0; n / 2 + 1], vec![0.0; n / 2 + 1]];
        two_real_power_spectra(&spectrum, &mut power);
        for (frame, power) in [&a, &b].into_iter().zip(&power) {
            for (k, &p) in power.iter().enumerate() {
                let (mut re, mut im) = (0.0f64, 0.0f64);
                for (t, &v) in frame.iter().enumerate() {
                    let angle = -2.0 * PI * (k * t) as f64 / n as f64;
                    re += f64::from(v) * angle.cos();
                    im += f64::from(v) * angle.sin();
                }
                let direct = re * re + im * im;
                assert!(
                    (f64::from(p) - direct).abs() < 1e-3 * direct.max(1.0),
                    "bin {k}: {p} vs {direct}"
                );
            }
        }
    }

    #[test]
    fn butterworth_band_gains() {
        let sr = 48_000.0;
        let tone = |hz: f32| -> Vec<f32> {
            (0..48_000)
                .map(|i| (std::f32::consts::TAU * hz * i as f32 / sr).sin())
                .collect()
        };
        let rms = |x: &[f32]| super::super::rms_dbfs(&x[12_000..36_000]);
        let at_cutoff = band_filter(&tone(1000.0), sr, None, Some(1000.0));
        assert!((rms(&at_cutoff) - (-3.01 - 3.01)).abs() < 0.05);
        let stop = band_filter(&tone(250.0), sr, Some(1000.0), None);
        assert!(rms(&stop) < -45.0);
        let pass = band_filter(&tone(100.0), sr, None, Some(1000.0));
        assert!((rms(&pass) + 3.01).abs() < 0.05);
        // Causal: nothing comes out before the input starts.
        let mut step = vec![0.0f32; 1000];
        step[500..].fill(1.0);
        let out = band_filter(&step, sr, Some(100.0), Some(1000.0));
        assert!(out[..500].iter().all(|&v| v == 0.0) && out[501] != 0.0);
    }

    #[test]
    fn decimate_keeps_passband_and_length() {
        let x: Vec<f32> = (0..8000)
            .map(|i| (std::f32::consts::TAU * 100.0 * i as f32 / 48_000.0).sin())
            .collect();
        let y = decimate(&x, 8);
        assert_eq!(y.len(), (8000 - 257) / 8 + 1);
        let peak = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((peak - 1.0).abs() < 0.01);
    }
}
