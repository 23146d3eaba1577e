//! Synthetic test material with known ground truth: noise bursts (brush taps), decaying
//! harmonic tones (piano-ish), plucked-bass-like tones and a swelling brush-sweep bed.

/// xorshift64*: deterministic and dependency-free, good enough for test noise.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub(super) fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [-1, 1).
    pub(super) fn signed(&mut self) -> f32 {
        2.0 * self.uniform() - 1.0
    }
}

/// Adds a white-noise burst with an instant attack at `start` and exponential decay.
pub(super) fn add_noise_burst(
    out: &mut [f32],
    start: usize,
    amp: f32,
    decay_s: f32,
    sr: f32,
    rng: &mut Rng,
) {
    let len = ((7.0 * decay_s * sr) as usize).min(out.len().saturating_sub(start));
    let step = (-1.0 / (decay_s * sr)).exp();
    let mut gain = amp;
    for (i, v) in out[start..start + len].iter_mut().enumerate() {
        *v += gain * rng.signed() * fade_out(i, len, sr);
        gain *= step;
    }
}

/// Starting phases of the partials of a synthetic tone.
#[derive(Clone, Copy)]
pub(super) enum Phases {
    /// All partials start at a zero crossing together, as a struck or plucked string's
    /// modes do: the attack is an impulse-like corner at the start.
    Sine,
    /// Schroeder phases (π·k²/n): the energy is spread evenly over the period, as in a
    /// tone whose partials are unrelated in phase.
    Schroeder,
}

/// Adds a decaying tone: partial k (1-based) at `k·hz·sqrt(1 + b·k²)` with amplitude
/// `amps[k-1]`, a linear attack of `attack_s`, and decay `decay_s / (1 + 0.3(k−1))` so the
/// upper partials die first, as on a plucked or struck string.
#[allow(clippy::too_many_arguments)]
pub(super) fn add_harmonic_tone(
    out: &mut [f32],
    start: usize,
    hz: f32,
    amps: &[f32],
    decay_s: f32,
    attack_s: f32,
    inharmonicity: f32,
    phases: Phases,
    sr: f32,
) {
    let len = ((decay_s.min(0.5) * 7.0 * sr) as usize).min(out.len().saturating_sub(start));
    let attack = (attack_s * sr).max(1.0);
    for (k, &a) in amps.iter().enumerate() {
        let k1 = (k + 1) as f64;
        let f = k1 * f64::from(hz) * (1.0 + f64::from(inharmonicity) * k1 * k1).sqrt();
        if f >= 0.45 * f64::from(sr) || a == 0.0 {
            continue;
        }
        // A rotating phasor instead of sin() per sample: exact enough over a few seconds.
        let w = std::f64::consts::TAU * f / f64::from(sr);
        let (rot_im, rot_re) = w.sin_cos();
        let phase = match phases {
            Phases::Sine => 0.0,
            Phases::Schroeder => std::f64::consts::PI * k1 * k1 / amps.len() as f64,
        };
        let (mut im, mut re) = phase.sin_cos();
        let decay = (-(1.0 + 0.3 * (k1 - 1.0)) / (f64::from(decay_s) * f64::from(sr))).exp();
        let mut gain = f64::from(a);
        for (i, v) in out[start..start + len].iter_mut().enumerate() {
            let ramp = (i as f32 / attack).min(1.0);
            *v += (gain * im) as f32 * ramp * fade_out(i, len, sr);
            (re, im) = (re * rot_re - im * rot_im, re * rot_im + im * rot_re);
            gain *= decay;
        }
    }
}

/// A 20 ms release at the end of a sound, so that cutting it off is not a click (which
/// is, rightly, an onset).
fn fade_out(i: usize, len: usize, sr: f32) -> f32 {
    ((len - i) as f32 / (0.02 * sr)).min(1.0)
}

/// A plucked upright-bass-like note of `dur_s`, peak 1: second harmonic stronger than the
/// fundamental, twelve partials, slight stiffness inharmonicity, 1 ms attack.
pub(super) fn plucked_bass(hz: f32, dur_s: f32, sr: f32) -> Vec<f32> {
    const AMPS: [f32; 12] = [
        0.5, 1.0, 0.6, 0.45, 0.3, 0.22, 0.15, 0.1, 0.07, 0.05, 0.035, 0.025,
    ];
    let mut x = vec![0.0f32; (dur_s * sr) as usize];
    add_harmonic_tone(&mut x, 0, hz, &AMPS, 0.8, 0.001, 2e-4, Phases::Sine, sr);
    let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    x.iter_mut().for_each(|v| *v /= peak);
    x
}

/// A brush-sweep-like bed: band-limited noise (≈ 600 Hz – 8 kHz) whose RMS swells from
/// a quarter of `rms_peak` to `rms_peak` and back once per `beat_s`.
pub(super) fn brush_bed(
    len: usize,
    sr: f32,
    beat_s: f32,
    rms_peak: f32,
    rng: &mut Rng,
) -> Vec<f32> {
    let coefficient = |hz: f32| 1.0 - (-std::f32::consts::TAU * hz / sr).exp();
    let (c_hi, c_lo) = (coefficient(8000.0), coefficient(600.0));
    let (mut hi, mut lo) = (0.0f32, 0.0f32);
    let mut x: Vec<f32> = (0..len)
        .map(|_| {
            let n = rng.signed();
            hi += c_hi * (n - hi);
            lo += c_lo * (n - lo);
            hi - lo
        })
        .collect();
    let rms = (x.iter().map(|v| v * v).sum::<f32>() / len.max(1) as f32).sqrt();
    for (i, v) in x.iter_mut().enumerate() {
        let swell = (std::f32::consts::PI * i as f32 / (beat_s * sr))
            .sin()
            .powi(2);
        *v *= rms_peak * (0.25 + 0.75 * swell) / rms;
    }
    x
}
