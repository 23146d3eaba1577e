//! Upright bass: a plucked string with body and finger noise.
//!
//! The string is a bank of slightly inharmonic partials whose amplitudes follow the
//! plucking point and whose decay shortens with partial number, so the attack has the
//! bright "pah" of a finger pluck and the tail settles on the round low note. A short
//! low-passed noise burst is the finger leaving the string; the bus body filter is the
//! wooden box.

use super::pool::Voice;
use super::string::StruckString;
use super::{db_gain, midi_hz};

const PARTIALS: usize = 12;

/// A bass note to play.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BassNote {
    /// MIDI note number (E1 = 28 … G3 = 55 on a walking line).
    pub key: u8,
    /// 0 … 1.
    pub velocity: f32,
    /// Samples until the finger stops the string.
    pub length: u32,
}

/// One string being plucked.
pub struct BassVoice {
    string: StruckString<PARTIALS>,
}

impl BassVoice {
    pub fn new(sample_rate: f32, seed: u64) -> Self {
        // The fretting hand lifts: a quick but not clicky stop.
        Self {
            string: StruckString::new(sample_rate, seed, 0.18),
        }
    }
}

impl Voice for BassVoice {
    type Params = BassNote;

    fn start(&mut self, note: BassNote) {
        let sr = self.string.sample_rate();
        let f0 = midi_hz(note.key as f32);
        let velocity = note.velocity.clamp(0.05, 1.0);
        // Lower notes ring longer; gut-era strings on a 1957 upright die fairly quickly.
        let low = ((55.0 - note.key as f32) / 27.0).clamp(0.0, 1.0);
        let t60 = 1.6 + 1.4 * low;
        let brightness = 0.42 - 0.18 * velocity;
        let pluck_point = 0.21;
        let partials = &mut self.string.partials;
        partials.clear();
        for k in 1..=PARTIALS {
            let kf = k as f32;
            let hz = kf * f0 * (1.0 + 0.000_12 * kf * kf).sqrt();
            let shape = (std::f32::consts::PI * kf * pluck_point).sin().abs() / kf.powf(0.8);
            let amplitude = shape * (-(kf - 1.0) * brightness).exp();
            partials.push(hz, amplitude, 0.0, t60 / (1.0 + 0.55 * (kf - 1.0)), sr);
        }
        // The finger leaving the string.
        self.string.begin(
            note.key,
            note.length,
            500.0 + 900.0 * velocity,
            0.006,
            0.5 * velocity,
        );
    }

    fn release(&mut self) {
        self.string.release();
    }

    fn silence(&mut self) {
        self.string.silence();
    }

    fn is_active(&self) -> bool {
        self.string.is_active()
    }

    fn is_released(&self) -> bool {
        self.string.is_released()
    }

    fn key(&self) -> u8 {
        self.string.key()
    }

    fn render(&mut self, left: &mut [f32], right: &mut [f32]) {
        let gain = db_gain(-10.0);
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let Some(x) = self.string.tick() else {
                return;
            };
            *l += x * gain;
            *r += x * gain;
        }
    }
}

/// The instrument's body on the bass bus: a low wooden resonance and the roll-off of a
/// gut string heard through a microphone a little way off.
pub struct BassBody {
    body: fundsp::prelude32::An<fundsp::svf::FixedSvf<f32, fundsp::svf::BellMode<f32>>>,
    top: fundsp::prelude32::An<fundsp::svf::FixedSvf<f32, fundsp::svf::LowpassMode<f32>>>,
}

impl BassBody {
    pub fn new(sample_rate: f32) -> Self {
        let mut body = fundsp::prelude32::bell_hz(105.0, 1.2, 1.8);
        let mut top = fundsp::prelude32::lowpass_hz(2600.0, 0.6);
        body.set_sample_rate(sample_rate as f64);
        top.set_sample_rate(sample_rate as f64);
        Self { body, top }
    }

    /// Filter a mono bass bus in place.
    pub fn process(&mut self, buffer: &mut [f32]) {
        for x in buffer {
            *x = self.top.filter_mono(self.body.filter_mono(*x));
        }
    }
}
