//! Sound: the band's instruments, the player's lead voices and the room.
//!
//! Strings (bass, piano) are banks of decaying partials; cymbals, brushes and breath are
//! shaped noise through fundsp filters; the room is fundsp's FDN reverb. Every voice
//! lives in a fixed [`pool::VoicePool`] built before the stream starts, so nothing here
//! allocates once the engine runs.

pub mod bass;
pub mod drums;
pub mod fx;
pub mod lead;
pub mod modal;
pub mod piano;
pub mod pool;
pub mod string;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;

/// How often (in a voice's own samples) a decaying voice checks whether it fell silent.
pub const SILENCE_CHECK_INTERVAL: u32 = 256;
/// Remaining partial energy below which a voice is silent (−90 dB).
pub const SILENCE_ENERGY: f32 = 1e-9;

/// Frequency in Hz of a (possibly fractional) MIDI note number, A4 = 440 Hz.
#[inline]
pub fn midi_hz(note: f32) -> f32 {
    440.0 * ((note - 69.0) / 12.0).exp2()
}

/// Linear gain of a level in decibels.
#[inline]
pub fn db_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// Constant-power pan gains for `pan` in -1 (left) … 1 (right).
#[inline]
pub fn pan_gains(pan: f32) -> (f32, f32) {
    let angle = (pan.clamp(-1.0, 1.0) + 1.0) * std::f32::consts::FRAC_PI_4;
    (angle.cos(), angle.sin())
}

/// Seeded white noise for one voice, so that renders repeat bit for bit.
#[derive(Clone)]
pub struct Noise(Pcg32);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Self(Pcg32::seed_from_u64(seed))
    }

    /// A uniform sample in -1 … 1.
    #[inline]
    pub fn white(&mut self) -> f32 {
        self.0.random::<f32>() * 2.0 - 1.0
    }
}

/// A one-pole smoother for control values (gain, pitch) so that jumps do not click.
#[derive(Clone, Copy, Debug)]
pub struct Smoother {
    value: f32,
    coefficient: f32,
}

impl Smoother {
    pub fn new(value: f32, time_s: f32, sample_rate: f32) -> Self {
        Self {
            value,
            coefficient: (-1.0 / (time_s.max(1e-5) * sample_rate)).exp(),
        }
    }

    /// Move one sample toward `target` and return the smoothed value.
    #[inline]
    pub fn follow(&mut self, target: f32) -> f32 {
        self.value = target + (self.value - target) * self.coefficient;
        self.value
    }

    pub fn reset(&mut self, value: f32) {
        self.value = value;
    }

    pub fn value(&self) -> f32 {
        self.value
    }
}

/// A linear attack / exponential decay-and-release envelope, cheap enough to run per voice.
#[derive(Clone, Copy, Debug)]
pub struct Envelope {
    level: f32,
    attack_step: f32,
    decay: f32,
    sustain: f32,
    release: f32,
    stage: Stage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Idle,
    Attack,
    Decay,
    Release,
}

impl Envelope {
    /// `attack_s` linear rise, then exponential fall toward `sustain` with time constant
    /// `decay_s`; after `release()`, exponential fall with time constant `release_s`.
    pub fn new(
        attack_s: f32,
        decay_s: f32,
        sustain: f32,
        release_s: f32,
        sample_rate: f32,
    ) -> Self {
        let per_sample = |t: f32| (-1.0 / (t.max(1e-5) * sample_rate)).exp();
        Self {
            level: 0.0,
            attack_step: 1.0 / (attack_s.max(1e-5) * sample_rate),
            decay: per_sample(decay_s),
            sustain,
            release: per_sample(release_s),
            stage: Stage::Idle,
        }
    }

    pub fn trigger(&mut self) {
        self.stage = Stage::Attack;
    }

    pub fn release(&mut self) {
        if self.stage != Stage::Idle {
            self.stage = Stage::Release;
        }
    }

    pub fn is_idle(&self) -> bool {
        self.stage == Stage::Idle
    }

    pub fn is_released(&self) -> bool {
        matches!(self.stage, Stage::Release | Stage::Idle)
    }

    pub fn level(&self) -> f32 {
        self.level
    }

    /// The envelope's next sample.
    #[inline]
    pub fn tick(&mut self) -> f32 {
        match self.stage {
            Stage::Idle => {}
            Stage::Attack => {
                self.level += self.attack_step;
                if self.level >= 1.0 {
                    self.level = 1.0;
                    self.stage = Stage::Decay;
                }
            }
            Stage::Decay => {
                self.level = self.sustain + (self.level - self.sustain) * self.decay;
            }
            Stage::Release => {
                self.level *= self.release;
                if self.level < 1e-4 {
                    self.level = 0.0;
                    self.stage = Stage::Idle;
                }
            }
        }
        self.level
    }
}

/// A fundsp state-variable filter whose cutoff and Q can move every sample (sweeps,
/// formants, the Harmon "wah"). fundsp recomputes the coefficients only when they change.
pub struct SweptFilter<M: fundsp::svf::SvfMode<f32, Inputs = fundsp::prelude32::U3>> {
    node: fundsp::prelude32::An<fundsp::svf::Svf<f32, M>>,
    pub cutoff: f32,
    pub q: f32,
}

impl<M: fundsp::svf::SvfMode<f32, Inputs = fundsp::prelude32::U3>> SweptFilter<M> {
    fn from_node(
        mut node: fundsp::prelude32::An<fundsp::svf::Svf<f32, M>>,
        cutoff: f32,
        q: f32,
        sample_rate: f32,
    ) -> Self {
        node.set_sample_rate(sample_rate as f64);
        Self { node, cutoff, q }
    }

    #[inline]
    pub fn filter(&mut self, x: f32) -> f32 {
        self.node.tick(&[x, self.cutoff, self.q].into())[0]
    }

    /// Forget the filter's memory (a new note on a reused voice).
    pub fn reset(&mut self) {
        self.node.reset();
    }
}

/// Band-pass: brush sweeps, formants, snare wires.
pub type Bandpass = SweptFilter<fundsp::svf::BandpassMode<f32>>;
/// Low-pass: hammer and finger noise, brightness that follows velocity.
pub type Lowpass = SweptFilter<fundsp::svf::LowpassMode<f32>>;
/// High-pass: cymbal wash, hi-hat, the thin bottom of a Harmon mute.
pub type Highpass = SweptFilter<fundsp::svf::HighpassMode<f32>>;

impl Bandpass {
    pub fn new(cutoff: f32, q: f32, sample_rate: f32) -> Self {
        Self::from_node(fundsp::prelude32::bandpass(), cutoff, q, sample_rate)
    }
}

impl Lowpass {
    pub fn new(cutoff: f32, q: f32, sample_rate: f32) -> Self {
        Self::from_node(fundsp::prelude32::lowpass(), cutoff, q, sample_rate)
    }
}

impl Highpass {
    pub fn new(cutoff: f32, q: f32, sample_rate: f32) -> Self {
        Self::from_node(fundsp::prelude32::highpass(), cutoff, q, sample_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midi_hz_matches_concert_pitch() {
        assert!((midi_hz(69.0) - 440.0).abs() < 1e-3);
        assert!((midi_hz(57.0) - 220.0).abs() < 1e-3);
        assert!((midi_hz(28.0) - 41.203).abs() < 1e-2);
    }

    #[test]
    fn envelope_rises_decays_and_goes_idle() {
        let mut env = Envelope::new(0.001, 0.05, 0.5, 0.01, 48_000.0);
        env.trigger();
        let peak = (0..48).map(|_| env.tick()).fold(0.0f32, f32::max);
        assert!((peak - 1.0).abs() < 1e-6);
        for _ in 0..48_000 {
            env.tick();
        }
        assert!((env.level() - 0.5).abs() < 1e-3);
        env.release();
        for _ in 0..48_000 {
            env.tick();
        }
        assert!(env.is_idle());
    }

    #[test]
    fn pan_is_constant_power() {
        for pan in [-1.0, -0.3, 0.0, 0.5, 1.0] {
            let (l, r) = pan_gains(pan);
            assert!((l * l + r * r - 1.0).abs() < 1e-5);
        }
    }
}
