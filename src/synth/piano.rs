//! Piano: a hammer on two or three slightly detuned strings.
//!
//! Each string is a bank of inharmonic partials (stretched as real piano strings are);
//! the upper partials decay faster than the lower, and the second string is detuned by a
//! fraction of a cent so the pair beats and the sound falls in two stages, loud prompt
//! sound then a long soft aftersound. A low-passed noise burst whose brightness follows
//! velocity is the hammer; a short low partial is the knock of the soundboard.

use super::pool::Voice;
use super::string::StruckString;
use super::{db_gain, midi_hz, pan_gains};

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
    strings: StruckString<PARTIALS>,
    pan: (f32, f32),
}

impl PianoVoice {
    pub fn new(sample_rate: f32, seed: u64) -> Self {
        Self {
            // The damper falls.
            strings: StruckString::new(sample_rate, seed, 0.3),
            pan: (1.0, 1.0),
        }
    }
}

impl Voice for PianoVoice {
    type Params = PianoNote;

    fn start(&mut self, note: PianoNote) {
        let sr = self.strings.sample_rate();
        let key = note.key as f32;
        let f0 = midi_hz(key);
        let velocity = note.velocity.clamp(0.05, 1.0);
        // Stiffer (more inharmonic) and shorter-lived strings as the pitch rises.
        let inharmonicity = 0.000_35 * ((key - 60.0) / 24.0).exp2();
        let t60 = (9.0 * ((48.0 - key) / 30.0).exp2()).clamp(1.5, 14.0);
        let brightness = 0.62 - 0.36 * velocity;
        let detune = 1.0 + 0.000_35 + 0.000_15 * ((note.key as u32 * 7919) % 5) as f32;
        let partials = &mut self.strings.partials;
        partials.clear();
        for k in 1..=PARTIALS_PER_STRING {
            let kf = k as f32;
            let hz = kf * f0 * (1.0 + inharmonicity * kf * kf).sqrt();
            // The hammer strikes about an eighth of the way along the string.
            let shape = (std::f32::consts::PI * kf / 8.3).sin().abs() / kf.powf(1.1);
            let amplitude = shape * (-(kf - 1.0) * brightness).exp();
            let decay = t60 / (1.0 + 0.35 * (kf - 1.0).powf(1.3));
            // Prompt sound (fast) and aftersound (slow): two strings, two decays.
            partials.push(hz, amplitude * 0.6, 0.0, decay * 0.3, sr);
            partials.push(hz * detune, amplitude * 0.4, 0.0, decay, sr);
        }
        // Soundboard knock.
        partials.push(95.0, 0.08 * velocity, 0.0, 0.09, sr);
        // The hammer: brighter the harder it hits.
        self.strings.begin(
            note.key,
            note.length,
            900.0 + 3500.0 * velocity,
            0.005,
            0.12 * velocity,
        );
        // Low notes a little to the left, high to the right, as the player hears it.
        self.pan = pan_gains(((key - 60.0) / 30.0).clamp(-0.6, 0.6));
    }

    fn release(&mut self) {
        self.strings.release();
    }

    fn silence(&mut self) {
        self.strings.silence();
    }

    fn is_active(&self) -> bool {
        self.strings.is_active()
    }

    fn is_released(&self) -> bool {
        self.strings.is_released()
    }

    fn key(&self) -> u8 {
        self.strings.key()
    }

    fn render(&mut self, left: &mut [f32], right: &mut [f32]) {
        let gain = db_gain(-2.0);
        let (gl, gr) = (self.pan.0 * gain, self.pan.1 * gain);
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let Some(x) = self.strings.tick() else {
                return;
            };
            *l += x * gl;
            *r += x * gr;
        }
    }
}
