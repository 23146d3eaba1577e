//! The player's lead voices: Harmon-muted trumpet, open trumpet, tenor saxophone and an
//! electric piano.
//!
//! The horns are a band-limited sawtooth (fundsp's wavetable `saw`) shaped by a breath
//! envelope, a brightness filter that opens with loudness (brass gets brighter as it gets
//! louder), formant filters for the bell or the mute, and breath noise. The Harmon mute
//! removes the body of the tone and leaves a narrow, nasal resonance near 1.8 kHz; the
//! mod wheel moves that resonance like a hand over the stem ("wah") and deepens the
//! vibrato. The electric piano is a tine: a bank of partials with a short metallic bell.

use super::modal::Partials;
use super::pool::Voice;
use super::{
    Bandpass, Highpass, Lowpass, Noise, SILENCE_CHECK_INTERVAL, SILENCE_ENERGY, Smoother, db_gain,
    midi_hz,
};
use crate::preset::LeadInstrument;
use fundsp::prelude32::{An, U1, WaveSynth};

/// Notes struck closer together than this are a chord (separate voices); a later note
/// over a held one is a legato line and glides, as a horn player slurs.
pub const CHORD_WINDOW_S: f32 = 0.06;
/// Where a horn note's envelope starts: the "t" of the tongue, heard at once.
/// Each voice's level, so that a line at velocity 100 sounds at about -14 LUFS whatever
/// the voice (3 LU over the band's -16): the filters and formants of each take away or
/// add very different amounts of energy. Measured on an 8-bar legato line
/// (`tests/loudness.rs`).
fn output_trim_db(instrument: LeadInstrument) -> f32 {
    match instrument {
        LeadInstrument::HarmonTrumpet => -1.5,
        LeadInstrument::OpenTrumpet => 8.7,
        LeadInstrument::TenorSax => 6.8,
        LeadInstrument::ElectricPiano => 16.8,
    }
}

const TONGUE_LEVEL: f32 = 0.4;
/// Length and level of the tongue's noise burst at the start of a horn note.
const TONGUE_S: f32 = 0.006;
const TONGUE_NOISE: f32 = 0.35;
/// Samples between two updates of pitch, vibrato and brightness.
const CONTROL_INTERVAL: u32 = 8;
/// Time of the slur between two legato notes.
const GLIDE_S: f32 = 0.045;

/// A lead note to play.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeadNote {
    pub key: u8,
    /// 0 … 1.
    pub velocity: f32,
    pub instrument: LeadInstrument,
}

/// Controls shared by every lead voice: the player's wheels.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LeadControls {
    /// Pitch bend in semitones.
    pub bend: f32,
    /// Mod wheel 0 … 1: vibrato depth, and the Harmon "wah".
    pub modulation: f32,
}

/// One voice of the lead synth's pool, playing one note on the [`LeadInstrument`] of
/// that note.
pub struct LeadSynthVoice {
    sample_rate: f32,
    instrument: LeadInstrument,
    osc: An<WaveSynth<U1>>,
    brightness: Lowpass,
    /// A second, fixed low-pass: horns (and the microphones of 1957) have little above
    /// 9 kHz, and it keeps the wavetable's top octave out of the mix.
    top: Lowpass,
    body_cut: Highpass,
    formant_a: Bandpass,
    formant_b: Bandpass,
    breath: Bandpass,
    noise: Noise,
    tine: Partials<6>,
    pitch: Smoother,
    target_pitch: f32,
    breath_level: Smoother,
    level: f32,
    velocity: f32,
    released: bool,
    active: bool,
    key: u8,
    age: u32,
    vibrato_phase: f32,
    /// Keys this voice slurred away from, oldest first.
    slurred_from: [u8; 8],
    slurred_len: usize,
    /// Samples left of the tongue noise, and its full length.
    tongue_left: u32,
    tongue_length: u32,
    /// Current frequency, updated at the control rate.
    hz: f32,
    controls: LeadControls,
}

impl LeadSynthVoice {
    pub fn new(sample_rate: f32, seed: u64) -> Self {
        let sr = sample_rate;
        let mut osc = fundsp::prelude32::saw();
        osc.set_sample_rate(sr as f64);
        Self {
            sample_rate,
            instrument: LeadInstrument::HarmonTrumpet,
            osc,
            brightness: Lowpass::new(2000.0, 0.7, sr),
            top: Lowpass::new(9000.0, 0.6, sr),
            body_cut: Highpass::new(700.0, 0.7, sr),
            formant_a: Bandpass::new(1800.0, 5.0, sr),
            formant_b: Bandpass::new(3900.0, 3.0, sr),
            breath: Bandpass::new(2800.0, 1.0, sr),
            noise: Noise::new(seed),
            tine: Partials::default(),
            pitch: Smoother::new(60.0, GLIDE_S / 3.0, sr),
            target_pitch: 60.0,
            breath_level: Smoother::new(0.0, 0.012, sr),
            level: 0.0,
            velocity: 0.0,
            released: true,
            active: false,
            key: 0,
            age: 0,
            vibrato_phase: 0.0,
            hz: 261.6,
            slurred_from: [0; 8],
            slurred_len: 0,
            tongue_left: 0,
            tongue_length: 1,
            controls: LeadControls::default(),
        }
    }

    /// Set the player's wheels for this voice.
    pub fn set_controls(&mut self, controls: LeadControls) {
        self.controls = controls;
    }

    /// Whether the voice sounds and its key is still down.
    pub fn is_active_held(&self) -> bool {
        self.active && !self.released
    }

    /// Samples since this note started (or last glided), for legato detection.
    pub fn age(&self) -> u32 {
        self.age
    }

    /// Whether this voice is a horn (which slurs) rather than a keyboard.
    pub fn glides(&self) -> bool {
        self.instrument != LeadInstrument::ElectricPiano
    }

    /// Slur to a new key without re-attacking: a horn player's legato. The key left
    /// behind is remembered, to return to if it is still held when the new one is let go.
    pub fn glide_to(&mut self, key: u8, velocity: f32) {
        if self.slurred_len == self.slurred_from.len() {
            self.slurred_from.rotate_left(1);
            self.slurred_len -= 1;
        }
        self.slurred_from[self.slurred_len] = self.key;
        self.slurred_len += 1;
        self.slide(key, velocity);
    }

    /// The key being let go was slurred to from others: slur back to the most recent one
    /// still held (`held`), as a player lifting a finger in a trill. Returns false, and
    /// changes nothing, when no earlier key is held.
    pub fn fall_back(&mut self, held: impl Fn(u8) -> bool) -> bool {
        while self.slurred_len > 0 {
            self.slurred_len -= 1;
            let key = self.slurred_from[self.slurred_len];
            if held(key) {
                self.slide(key, self.velocity);
                return true;
            }
        }
        false
    }

    fn slide(&mut self, key: u8, velocity: f32) {
        self.key = key;
        self.target_pitch = key as f32;
        self.velocity = self.velocity.max(velocity * 0.9);
        self.age = 0;
    }

    fn start_tine(&mut self, key: u8, velocity: f32) {
        let sr = self.sample_rate;
        let f0 = midi_hz(key as f32);
        let t60 = (4.0 * ((60.0 - key as f32) / 36.0).exp2()).clamp(1.0, 8.0);
        self.tine.clear();
        self.tine.push(f0, 1.0, 0.0, t60, sr);
        self.tine
            .push(2.0 * f0, 0.18 * velocity, 0.0, t60 * 0.4, sr);
        self.tine
            .push(3.0 * f0, 0.06 * velocity, 0.0, t60 * 0.25, sr);
        // The tine's bell: inharmonic, bright with velocity, gone in a tenth of a second.
        // Cosine phase: the hammer's strike is heard from the first sample.
        let strike = std::f32::consts::FRAC_PI_2;
        self.tine
            .push(5.8 * f0, 0.25 * velocity * velocity, strike, 0.12, sr);
        self.tine
            .push(9.2 * f0, 0.12 * velocity * velocity, strike, 0.06, sr);
        self.tine.push(0.5 * f0, 0.04, 0.0, t60 * 0.5, sr);
    }

    /// Brass gets brighter as it gets louder; the Harmon's nasal peak follows the wheel.
    fn set_brightness(&mut self, envelope: f32) {
        let hz = self.hz;
        let loud = envelope * (0.4 + 0.6 * self.velocity);
        match self.instrument {
            LeadInstrument::HarmonTrumpet => {
                let wah = self.controls.modulation;
                self.brightness.cutoff = (hz * (3.0 + 14.0 * loud)).min(9000.0);
                self.formant_a.cutoff = 1500.0 + 1100.0 * wah;
                self.formant_a.q = 6.0 - 2.5 * wah;
            }
            LeadInstrument::OpenTrumpet => {
                self.brightness.cutoff = (hz * (2.0 + 12.0 * loud * loud)).min(10_000.0);
            }
            LeadInstrument::TenorSax => {
                self.brightness.cutoff = (hz * (2.5 + 8.0 * loud)).min(6000.0);
            }
            LeadInstrument::ElectricPiano => {}
        }
    }

    #[inline]
    fn horn_sample(&mut self, hz: f32) -> f32 {
        let mut tongue = 0.0;
        if self.tongue_left > 0 {
            // The tongue's release of air: a short burst of noise that makes the note
            // speak in the first samples, before the lips or reed have settled.
            self.tongue_left -= 1;
            // Never near zero, so the note is above the noise floor from its first sample.
            let white = self.noise.white();
            let burst = white.signum() * (0.5 + 0.5 * white.abs());
            tongue = burst * TONGUE_NOISE * self.tongue_left as f32 / self.tongue_length as f32;
        }
        self.horn_tone(hz) + tongue
    }

    #[inline]
    fn horn_tone(&mut self, hz: f32) -> f32 {
        let raw = self.top.filter(self.osc.tick(&[hz].into())[0]);
        let breath = self.breath.filter(self.noise.white());
        match self.instrument {
            LeadInstrument::HarmonTrumpet => {
                // The mute takes away the body; what is left is a narrow nasal peak that the
                // hand over the stem moves (mod wheel), plus the buzz near 4 kHz.
                let bright = self.brightness.filter(raw);
                let thin = self.body_cut.filter(bright);
                let nasal = self.formant_a.filter(thin) * 2.6
                    + self.formant_b.filter(thin) * 0.9
                    + thin * 0.25;
                nasal * 0.9 + breath * 0.05
            }
            LeadInstrument::OpenTrumpet => {
                let bright = self.brightness.filter(raw);
                bright * 0.7 + self.formant_a.filter(bright) * 0.8 + breath * 0.03
            }
            LeadInstrument::TenorSax => {
                let bright = self.brightness.filter(raw);
                bright * 0.6
                    + self.formant_a.filter(bright) * 0.7
                    + self.formant_b.filter(bright) * 0.35
                    + breath * 0.08
            }
            LeadInstrument::ElectricPiano => 0.0,
        }
    }
}

impl Voice for LeadSynthVoice {
    type Params = LeadNote;

    fn start(&mut self, note: LeadNote) {
        let velocity = note.velocity.clamp(0.02, 1.0);
        self.instrument = note.instrument;
        self.key = note.key;
        self.slurred_len = 0;
        self.velocity = velocity;
        self.target_pitch = note.key as f32;
        self.pitch.reset(note.key as f32);
        self.released = false;
        self.active = true;
        self.age = 0;
        self.vibrato_phase = 0.0;
        // A tongued attack: the note speaks at once and swells from there. Starting from
        // silence would add milliseconds of latency under the player's fingers.
        self.level = TONGUE_LEVEL;
        self.tongue_length = ((TONGUE_S * self.sample_rate) as u32).max(1);
        self.tongue_left = self.tongue_length;
        self.breath_level.reset(0.5);
        self.brightness.reset();
        self.top.reset();
        self.body_cut.reset();
        self.formant_a.reset();
        self.formant_b.reset();
        self.breath.reset();
        let (fa, qa, fb, qb) = match note.instrument {
            LeadInstrument::HarmonTrumpet => (1800.0, 5.0, 3900.0, 3.0),
            LeadInstrument::OpenTrumpet => (1250.0, 1.6, 2600.0, 1.5),
            LeadInstrument::TenorSax => (520.0, 1.8, 1650.0, 2.5),
            LeadInstrument::ElectricPiano => (1000.0, 1.0, 2000.0, 1.0),
        };
        self.formant_a.cutoff = fa;
        self.formant_a.q = qa;
        self.formant_b.cutoff = fb;
        self.formant_b.q = qb;
        if note.instrument == LeadInstrument::ElectricPiano {
            self.start_tine(note.key, velocity);
        }
    }

    fn release(&mut self) {
        if !self.released {
            self.released = true;
            if self.instrument == LeadInstrument::ElectricPiano {
                self.tine.damp(0.35, self.sample_rate);
            }
        }
    }

    fn silence(&mut self) {
        self.active = false;
        self.released = true;
        self.tine.clear();
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
        let sr = self.sample_rate;
        let gain = db_gain(-19.0 + output_trim_db(self.instrument));
        if self.instrument == LeadInstrument::ElectricPiano {
            let amp = 0.45 * (0.3 + 0.7 * self.velocity);
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                self.age = self.age.saturating_add(1);
                if self.released
                    && self.age % SILENCE_CHECK_INTERVAL == 0
                    && self.tine.energy() < SILENCE_ENERGY
                {
                    self.active = false;
                    return;
                }
                let y = self.tine.tick() * amp * gain;
                *l += y;
                *r += y;
            }
            return;
        }
        // Breath: a fast swell to full, a slight sag, a short fade when the breath stops.
        let attack = 1.0 / (0.012 * sr);
        let release = (-1.0 / (0.05 * sr)).exp();
        let vibrato_rate = std::f32::consts::TAU * 5.4 / sr;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            if self.released {
                self.level *= release;
                if self.level < 1e-4 {
                    self.active = false;
                    return;
                }
            } else if self.level < 1.0 {
                self.level = (self.level + attack).min(1.0);
            }
            let sag = self
                .breath_level
                .follow(if self.released { 0.0 } else { 0.85 });
            let envelope = self.level * (0.15 + sag);
            let pitch = self.pitch.follow(self.target_pitch);
            // Pitch, vibrato and brightness move at a control rate (every few samples, on
            // the voice's own count); per sample they would cost an exp, a sin and a tan.
            if self.age % CONTROL_INTERVAL == 0 {
                // Vibrato arrives late in a long note, as players do it, and the wheel adds more.
                let late = ((self.age as f32 / sr - 0.35) * 2.0).clamp(0.0, 1.0);
                let depth = 0.12 * late + 0.35 * self.controls.modulation;
                self.vibrato_phase += vibrato_rate * CONTROL_INTERVAL as f32;
                if self.vibrato_phase > std::f32::consts::TAU {
                    self.vibrato_phase -= std::f32::consts::TAU;
                }
                self.hz = midi_hz(pitch + self.controls.bend + depth * self.vibrato_phase.sin());
                self.set_brightness(envelope);
            }
            let hz = self.hz;
            let y = self.horn_sample(hz) * envelope * (0.3 + 0.7 * self.velocity) * gain;
            *l += y;
            *r += y;
            self.age = self.age.saturating_add(1);
        }
    }
}
