//! Piano: a hammer on two or three slightly detuned strings.
//!
//! Each string is a bank of inharmonic partials (stretched as real piano strings are);
//! the upper partials decay faster than the lower, and the second string is detuned by a
//! fraction of a cent so the pair beats and the sound falls in two stages, loud prompt
//! sound then a long soft aftersound. A low-passed noise burst whose brightness follows
//! velocity is the hammer; a short low partial is the knock of the soundboard.

use super::modal::Partials;
use super::pool::Voice;
use super::{Lowpass, Noise, SILENCE_CHECK_INTERVAL, SILENCE_ENERGY, db_gain, midi_hz, pan_gains};

const PARTIALS_PER_STRING: usize = 10;
const PARTIALS: usize = 2 * PARTIALS_PER_STRING + 1;

/// A piano note to play.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PianoNote {
    pub key: u8,
    /// 0 … 1.
    pub velocity: f32,
    /// Samples until the key is let go.
    pub length: u32,
}

/// One key of the piano.
pub struct PianoVoice {
    sample_rate: f32,
    strings: Partials<PARTIALS>,
    hammer: Lowpass,
    hammer_left: u32,
    hammer_gain: f32,
    noise: Noise,
    pan: (f32, f32),
    key: u8,
    hold: u32,
    released: bool,
    active: bool,
    since_check: u32,
}

impl PianoVoice {
    pub fn new(sample_rate: f32, seed: u64) -> Self {
        Self {
            sample_rate,
            strings: Partials::default(),
            hammer: Lowpass::new(2000.0, 0.7, sample_rate),
            hammer_left: 0,
            hammer_gain: 0.0,
            noise: Noise::new(seed),
            pan: (1.0, 1.0),
            key: 0,
            hold: 0,
            released: true,
            active: false,
            since_check: 0,
        }
    }
}

impl Voice for PianoVoice {
    type Params = PianoNote;

    fn start(&mut self, note: PianoNote) {
        let sr = self.sample_rate;
        let key = note.key as f32;
        let f0 = midi_hz(key);
        let velocity = note.velocity.clamp(0.05, 1.0);
        // Stiffer (more inharmonic) and shorter-lived strings as the pitch rises.
        let inharmonicity = 0.000_35 * ((key - 60.0) / 24.0).exp2();
        let t60 = (9.0 * ((48.0 - key) / 30.0).exp2()).clamp(1.5, 14.0);
        let brightness = 0.62 - 0.36 * velocity;
        let detune = 1.0 + 0.000_35 + 0.000_15 * ((note.key as u32 * 7919) % 5) as f32;
        self.strings.clear();
        for k in 1..=PARTIALS_PER_STRING {
            let kf = k as f32;
            let hz = kf * f0 * (1.0 + inharmonicity * kf * kf).sqrt();
            // The hammer strikes about an eighth of the way along the string.
            let shape = (std::f32::consts::PI * kf / 8.3).sin().abs() / kf.powf(1.1);
            let amplitude = shape * (-(kf - 1.0) * brightness).exp();
            let decay = t60 / (1.0 + 0.35 * (kf - 1.0).powf(1.3));
            // Prompt sound (fast) and aftersound (slow): two strings, two decays.
            self.strings.push(hz, amplitude * 0.6, 0.0, decay * 0.3, sr);
            self.strings
                .push(hz * detune, amplitude * 0.4, 0.0, decay, sr);
        }
        // Soundboard knock.
        self.strings.push(95.0, 0.08 * velocity, 0.0, 0.09, sr);
        self.hammer.reset();
        self.hammer.cutoff = 900.0 + 3500.0 * velocity;
        self.hammer_left = (0.005 * sr) as u32;
        self.hammer_gain = 0.12 * velocity;
        // Low notes a little to the left, high to the right, as the player hears it.
        self.pan = pan_gains(((key - 60.0) / 30.0).clamp(-0.6, 0.6));
        self.key = note.key;
        self.hold = note.length.max(1);
        self.released = false;
        self.active = true;
        self.since_check = 0;
    }

    fn release(&mut self) {
        if !self.released {
            self.released = true;
            self.strings.damp(0.3, self.sample_rate);
        }
    }

    fn silence(&mut self) {
        self.active = false;
        self.released = true;
        self.strings.clear();
    }

    fn is_active(&self) -> bool {
        self.active
    }

    fn is_released(&self) -> bool {
        self.released
    }

    fn key(&self) -> u8 {
        self.key
    }

    fn render(&mut self, left: &mut [f32], right: &mut [f32]) {
        let gain = db_gain(-2.0);
        let (gl, gr) = (self.pan.0 * gain, self.pan.1 * gain);
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            if !self.released {
                self.hold -= 1;
                if self.hold == 0 {
                    self.release();
                }
            }
            // On the voice's own sample count: independent of the host's buffer splits.
            self.since_check += 1;
            if self.since_check >= SILENCE_CHECK_INTERVAL {
                self.since_check = 0;
                self.strings.prune(SILENCE_ENERGY * 0.1);
                if self.strings.energy() < SILENCE_ENERGY {
                    self.active = false;
                    self.released = true;
                    return;
                }
            }
            let mut x = self.strings.tick();
            if self.hammer_left > 0 {
                self.hammer_left -= 1;
                x += self.hammer.filter(self.noise.white()) * self.hammer_gain;
            }
            *l += x * gl;
            *r += x * gr;
        }
    }
}
