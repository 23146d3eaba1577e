//! Upright bass: a plucked string with body and finger noise.
//!
//! The string is a bank of slightly inharmonic partials whose amplitudes follow the
//! plucking point and whose decay shortens with partial number, so the attack has the
//! bright "pah" of a finger pluck and the tail settles on the round low note. A short
//! low-passed noise burst is the finger leaving the string; the bus body filter is the
//! wooden box.

use super::modal::Partials;
use super::pool::Voice;
use super::{Lowpass, Noise, SILENCE_CHECK_INTERVAL, SILENCE_ENERGY, db_gain, midi_hz};

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
    sample_rate: f32,
    string: Partials<PARTIALS>,
    finger: Lowpass,
    finger_left: u32,
    finger_gain: f32,
    noise: Noise,
    key: u8,
    hold: u32,
    released: bool,
    active: bool,
    since_check: u32,
}

impl BassVoice {
    pub fn new(sample_rate: f32, seed: u64) -> Self {
        Self {
            sample_rate,
            string: Partials::default(),
            finger: Lowpass::new(900.0, 0.7, sample_rate),
            finger_left: 0,
            finger_gain: 0.0,
            noise: Noise::new(seed),
            key: 0,
            hold: 0,
            released: true,
            active: false,
            since_check: 0,
        }
    }
}

impl Voice for BassVoice {
    type Params = BassNote;

    fn start(&mut self, note: BassNote) {
        let sr = self.sample_rate;
        let f0 = midi_hz(note.key as f32);
        let velocity = note.velocity.clamp(0.05, 1.0);
        // Lower notes ring longer; gut-era strings on a 1957 upright die fairly quickly.
        let low = ((55.0 - note.key as f32) / 27.0).clamp(0.0, 1.0);
        let t60 = 1.6 + 1.4 * low;
        let brightness = 0.42 - 0.18 * velocity;
        let pluck_point = 0.21;
        self.string.clear();
        for k in 1..=PARTIALS {
            let kf = k as f32;
            let hz = kf * f0 * (1.0 + 0.000_12 * kf * kf).sqrt();
            let shape = (std::f32::consts::PI * kf * pluck_point).sin().abs() / kf.powf(0.8);
            let amplitude = shape * (-(kf - 1.0) * brightness).exp();
            self.string
                .push(hz, amplitude, 0.0, t60 / (1.0 + 0.55 * (kf - 1.0)), sr);
        }
        self.finger.reset();
        self.finger.cutoff = 500.0 + 900.0 * velocity;
        self.finger_left = (0.006 * sr) as u32;
        self.finger_gain = 0.5 * velocity;
        self.key = note.key;
        self.hold = note.length.max(1);
        self.released = false;
        self.active = true;
        self.since_check = 0;
    }

    fn release(&mut self) {
        if !self.released {
            self.released = true;
            // The fretting hand lifts: a quick but not clicky stop.
            self.string.damp(0.18, self.sample_rate);
        }
    }

    fn silence(&mut self) {
        self.active = false;
        self.released = true;
        self.string.clear();
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
        let gain = db_gain(-10.0);
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            if !self.released {
                self.hold -= 1;
                if self.hold == 0 {
                    self.release();
                }
            }
            // Checked on the voice's own sample count, so the moment a voice falls
            // silent does not depend on how the host splits its buffers.
            self.since_check += 1;
            if self.since_check >= SILENCE_CHECK_INTERVAL {
                self.since_check = 0;
                self.string.prune(SILENCE_ENERGY * 0.1);
                if self.released && self.string.energy() < SILENCE_ENERGY {
                    self.active = false;
                    return;
                }
            }
            let mut x = self.string.tick();
            if self.finger_left > 0 {
                self.finger_left -= 1;
                x += self.finger.filter(self.noise.white()) * self.finger_gain;
            }
            let y = x * gain;
            *l += y;
            *r += y;
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
