//! What a plucked bass string and a struck piano string share: a bank of partials set
//! ringing by a short burst of filtered noise (the finger, the hammer), held for the
//! note's length, then damped; and the moment the note has died away.

use super::modal::Partials;
use super::{Lowpass, Noise, SILENCE_CHECK_INTERVAL, SILENCE_ENERGY};

/// One string and the life of the note on it. The instrument fills [`StruckString::partials`]
/// for each note and calls [`StruckString::begin`].
pub struct StruckString<const N: usize> {
    sample_rate: f32,
    pub partials: Partials<N>,
    exciter: Lowpass,
    exciter_left: u32,
    exciter_gain: f32,
    noise: Noise,
    /// How fast the string stops when the note ends (damper, lifted finger).
    release_t60: f32,
    key: u8,
    hold: u32,
    released: bool,
    active: bool,
    since_check: u32,
}

impl<const N: usize> StruckString<N> {
    pub fn new(sample_rate: f32, seed: u64, release_t60: f32) -> Self {
        Self {
            sample_rate,
            partials: Partials::default(),
            exciter: Lowpass::new(1000.0, 0.7, sample_rate),
            exciter_left: 0,
            exciter_gain: 0.0,
            noise: Noise::new(seed),
            release_t60,
            key: 0,
            hold: 0,
            released: true,
            active: false,
            since_check: 0,
        }
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Start the note whose partials were just set: `length` samples until release, and
    /// an exciter burst of `burst_s` seconds of noise low-passed at `cutoff`, at `gain`.
    pub fn begin(&mut self, key: u8, length: u32, cutoff: f32, burst_s: f32, gain: f32) {
        self.exciter.reset();
        self.exciter.cutoff = cutoff;
        self.exciter_left = (burst_s * self.sample_rate) as u32;
        self.exciter_gain = gain;
        self.key = key;
        self.hold = length.max(1);
        self.released = false;
        self.active = true;
        self.since_check = 0;
    }

    pub fn release(&mut self) {
        if !self.released {
            self.released = true;
            self.partials.damp(self.release_t60, self.sample_rate);
        }
    }

    pub fn silence(&mut self) {
        self.active = false;
        self.released = true;
        self.partials.clear();
    }

    pub fn is_active(&self) -> bool {
        self.active
    }

    pub fn is_released(&self) -> bool {
        self.released
    }

    pub fn key(&self) -> u8 {
        self.key
    }

    /// The next sample, or `None` once the note has died away (the voice is then free).
    #[inline]
    pub fn tick(&mut self) -> Option<f32> {
        if !self.released {
            self.hold -= 1;
            if self.hold == 0 {
                self.release();
            }
        }
        // Checked on the string's own sample count, so the moment a note falls silent
        // does not depend on how the host splits its buffers.
        self.since_check += 1;
        if self.since_check >= SILENCE_CHECK_INTERVAL {
            self.since_check = 0;
            // Dead upper partials cost as much as live ones: forget them.
            self.partials.prune(SILENCE_ENERGY * 0.1);
            if self.partials.energy() < SILENCE_ENERGY {
                self.active = false;
                self.released = true;
                return None;
            }
        }
        let mut x = self.partials.tick();
        if self.exciter_left > 0 {
            self.exciter_left -= 1;
            x += self.exciter.filter(self.noise.white()) * self.exciter_gain;
        }
        Some(x)
    }
}
