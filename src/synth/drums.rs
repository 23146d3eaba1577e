//! The drum kit: brushes and sticks on a 1950s jazz kit.
//!
//! Each drum is one physical object that keeps ringing when struck again (a ride cymbal
//! struck every beat is one cymbal, not a pile of copies), so the kit is a set of
//! resonators that hits excite: banks of partials for the shells and the cymbal's modes,
//! and shaped noise through fundsp filters for brush wires, snare wires, the cymbal wash
//! and the hi-hat.

use super::modal::{Partials, decay_per_sample};
use super::{
    Bandpass, Highpass, Lowpass, Noise, SILENCE_CHECK_INTERVAL, SILENCE_ENERGY, Smoother, db_gain,
    pan_gains,
};

/// What the drummer strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stroke {
    /// Feathered bass drum (or a louder kick at section ends).
    Kick,
    /// A brush tap on the snare head: the right hand's ride pattern when playing brushes.
    BrushTap,
    /// The left hand's legato sweep across the snare head, lasting `length` samples.
    Sweep,
    /// A stick on the snare (fills, comping accents).
    Snare,
    /// A stick on the ride cymbal.
    Ride,
    /// The hi-hat closed with the foot ("chick").
    HiHatFoot,
}

/// One stroke to play.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DrumHit {
    pub stroke: Stroke,
    /// 0 … 1.
    pub velocity: f32,
    /// Only for sweeps: how long the stroke lasts, in samples.
    pub length: u32,
}

/// A noise source with its own percussive envelope and filter.
struct NoisyPart<F> {
    filter: F,
    level: f32,
    decay: f32,
    attack_left: u32,
    attack_step: f32,
    target: f32,
}

impl<F> NoisyPart<F> {
    fn new(filter: F) -> Self {
        Self {
            filter,
            level: 0.0,
            decay: 0.0,
            attack_left: 0,
            attack_step: 0.0,
            target: 0.0,
        }
    }

    fn strike(&mut self, amplitude: f32, attack_s: f32, t60_s: f32, sample_rate: f32) {
        let attack = ((attack_s * sample_rate) as u32).max(1);
        self.target = self.level.max(amplitude);
        self.attack_left = attack;
        self.attack_step = (self.target - self.level) / attack as f32;
        self.decay = decay_per_sample(t60_s, sample_rate);
    }

    /// Whether the part is silent (its filter can rest).
    #[inline]
    fn is_silent(&self) -> bool {
        self.attack_left == 0 && self.level < 1e-6
    }

    #[inline]
    fn envelope(&mut self) -> f32 {
        if self.attack_left > 0 {
            self.attack_left -= 1;
            self.level += self.attack_step;
        } else {
            self.level *= self.decay;
        }
        self.level
    }
}

/// One sample of a noisy part; nothing is computed while it rests.
#[inline]
fn noisy<F: NoiseFilter>(part: &mut NoisyPart<F>, noise: &mut Noise) -> f32 {
    if part.is_silent() {
        return 0.0;
    }
    let level = part.envelope();
    part.filter.apply(noise.white()) * level
}

/// The filters a noisy part can use.
trait NoiseFilter {
    fn apply(&mut self, x: f32) -> f32;
}

impl NoiseFilter for Bandpass {
    fn apply(&mut self, x: f32) -> f32 {
        self.filter(x)
    }
}

impl NoiseFilter for Highpass {
    fn apply(&mut self, x: f32) -> f32 {
        self.filter(x)
    }
}

/// The drum synthesizer: the whole kit, rendered into the drum bus. (Brushes or sticks,
/// the preset's [`crate::preset::DrumKit`], is the drummer's choice of strokes.)
pub struct DrumSynth {
    sample_rate: f32,
    noise: Noise,
    kick: Ringing<3>,
    kick_click: NoisyPart<Bandpass>,
    snare: Ringing<4>,
    snare_wires: NoisyPart<Bandpass>,
    sweep: Bandpass,
    /// Wire brushes on calfskin or coated heads have little above 7 kHz.
    sweep_top: Lowpass,
    sweep_gain: Smoother,
    sweep_velocity: f32,
    sweep_pos: u32,
    sweep_length: u32,
    sweep_target: f32,
    ride: Ringing<12>,
    ride_wash: NoisyPart<Highpass>,
    ride_ping: NoisyPart<Bandpass>,
    hat: Ringing<6>,
    hat_noise: NoisyPart<Highpass>,
    hits: u64,
}

/// Samples between two updates of a brush stroke's shape.
const SWEEP_CONTROL_INTERVAL: u32 = 16;

/// A bank of modes that stops computing once it has rung out, until struck again.
struct Ringing<const N: usize> {
    bank: Partials<N>,
    resting: bool,
    since_check: u32,
}

impl<const N: usize> Ringing<N> {
    fn new(bank: Partials<N>) -> Self {
        Self {
            bank,
            resting: true,
            since_check: 0,
        }
    }

    fn excite(&mut self, k: usize, amplitude: f32, phase: f32) {
        self.bank.excite(k, amplitude, phase);
        self.resting = false;
    }

    #[inline]
    fn tick(&mut self) -> f32 {
        if self.resting {
            return 0.0;
        }
        // On the bank's own sample count, so resting never depends on buffer splits.
        self.since_check += 1;
        if self.since_check >= SILENCE_CHECK_INTERVAL {
            self.since_check = 0;
            if self.bank.energy() < SILENCE_ENERGY * 1e-2 {
                self.resting = true;
                return 0.0;
            }
        }
        self.bank.tick()
    }
}

/// Modes of an 18–20" ride cymbal (Hz) and their relative levels: inharmonic, dense
/// above 2 kHz, which is what makes it shimmer rather than ring.
const RIDE_MODES: [(f32, f32); 12] = [
    (341.0, 0.25),
    (477.0, 0.35),
    (672.0, 0.45),
    (891.0, 0.55),
    (1187.0, 0.6),
    (1524.0, 0.6),
    (1967.0, 0.55),
    (2541.0, 0.5),
    (3197.0, 0.45),
    (4089.0, 0.4),
    (5237.0, 0.3),
    (6771.0, 0.25),
];

const HAT_MODES: [f32; 6] = [1453.0, 2217.0, 3391.0, 4677.0, 6121.0, 7943.0];
const SNARE_MODES: [(f32, f32); 4] = [(186.0, 1.0), (311.0, 0.6), (447.0, 0.35), (603.0, 0.2)];
const KICK_MODES: [(f32, f32); 3] = [(57.0, 1.0), (93.0, 0.45), (141.0, 0.2)];

impl DrumSynth {
    pub fn new(sample_rate: f32, seed: u64) -> Self {
        let sr = sample_rate;
        let mut kick = Partials::default();
        for (hz, _) in KICK_MODES {
            kick.push(hz, 0.0, 0.0, 0.5, sr);
        }
        let mut snare = Partials::default();
        for (hz, _) in SNARE_MODES {
            snare.push(hz, 0.0, 0.0, 0.25, sr);
        }
        let mut ride = Partials::default();
        for (k, (hz, _)) in RIDE_MODES.iter().enumerate() {
            // Higher modes die sooner; the low ones carry the long "wash".
            let t60 = 4.5 / (1.0 + 0.18 * k as f32);
            ride.push(*hz, 0.0, 0.0, t60, sr);
        }
        let mut hat = Partials::default();
        for hz in HAT_MODES {
            hat.push(hz, 0.0, 0.0, 0.12, sr);
        }
        Self {
            sample_rate,
            noise: Noise::new(seed),
            kick: Ringing::new(kick),
            kick_click: NoisyPart::new(Bandpass::new(1400.0, 0.7, sr)),
            snare: Ringing::new(snare),
            snare_wires: NoisyPart::new(Bandpass::new(3800.0, 0.6, sr)),
            sweep: Bandpass::new(2400.0, 0.5, sr),
            sweep_top: Lowpass::new(6500.0, 0.5, sr),
            sweep_gain: Smoother::new(0.0, 0.012, sr),
            sweep_velocity: 0.0,
            sweep_pos: 0,
            sweep_length: 0,
            sweep_target: 0.0,
            ride: Ringing::new(ride),
            ride_wash: NoisyPart::new(Highpass::new(5200.0, 0.6, sr)),
            ride_ping: NoisyPart::new(Bandpass::new(6000.0, 1.2, sr)),
            hat: Ringing::new(hat),
            hat_noise: NoisyPart::new(Highpass::new(6500.0, 0.8, sr)),
            hits: 0,
        }
    }

    /// A phase for a re-strike that varies from hit to hit but repeats from render to render.
    fn strike_phase(&mut self, k: usize) -> f32 {
        self.hits = self.hits.wrapping_add(1);
        let mixed = (self.hits.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as u32
            ^ (k as u32 * 2_654_435_761);
        (mixed % 6283) as f32 / 1000.0
    }

    /// Strike. Takes effect from the next rendered sample.
    pub fn hit(&mut self, hit: DrumHit) {
        let sr = self.sample_rate;
        let v = hit.velocity.clamp(0.0, 1.0);
        match hit.stroke {
            Stroke::Kick => {
                // Sine phase: the head starts from rest, so no click.
                for (k, (_, level)) in KICK_MODES.iter().enumerate() {
                    self.kick.excite(k, level * v, 0.0);
                }
                self.kick_click.strike(0.25 * v, 0.0005, 0.02, sr);
            }
            Stroke::BrushTap => {
                for (k, (_, level)) in SNARE_MODES.iter().enumerate() {
                    let phase = self.strike_phase(k);
                    self.snare.excite(k, 0.12 * level * v, phase);
                }
                self.snare_wires.filter.cutoff = 3200.0 + 1200.0 * v;
                self.snare_wires.filter.q = 0.55;
                self.snare_wires.strike(0.9 * v, 0.0008, 0.14, sr);
            }
            Stroke::Snare => {
                for (k, (_, level)) in SNARE_MODES.iter().enumerate() {
                    let phase = self.strike_phase(k);
                    self.snare.excite(k, 0.5 * level * v, phase);
                }
                self.snare_wires.filter.cutoff = 4200.0;
                self.snare_wires.filter.q = 0.5;
                self.snare_wires.strike(1.1 * v, 0.0005, 0.22, sr);
            }
            Stroke::Sweep => {
                self.sweep_velocity = v;
                self.sweep_pos = 0;
                self.sweep_length = hit.length.max(1);
            }
            Stroke::Ride => {
                for (k, (_, level)) in RIDE_MODES.iter().enumerate() {
                    let phase = self.strike_phase(k);
                    self.ride.excite(k, 0.05 * level * v, phase);
                }
                self.ride_wash.strike(0.10 * v, 0.001, 1.6, sr);
                self.ride_ping.strike(0.35 * v, 0.0003, 0.05, sr);
            }
            Stroke::HiHatFoot => {
                for k in 0..HAT_MODES.len() {
                    let phase = self.strike_phase(k);
                    self.hat.excite(k, 0.03 * v, phase);
                }
                self.hat_noise.strike(0.35 * v, 0.002, 0.09, sr);
            }
        }
    }

    /// Stop everything at once (all-sound-off).
    pub fn silence(&mut self) {
        *self = Self::new(self.sample_rate, self.hits);
    }

    /// Add the kit into the drum bus.
    pub fn render(&mut self, left: &mut [f32], right: &mut [f32]) {
        let gain = db_gain(5.0);
        let kick_pan = pan_gains(0.0);
        let snare_pan = pan_gains(-0.12);
        let ride_pan = pan_gains(0.45);
        let hat_pan = pan_gains(-0.45);
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let kick = self.kick.tick() + noisy(&mut self.kick_click, &mut self.noise);
            let snare = self.snare.tick() + noisy(&mut self.snare_wires, &mut self.noise);
            let sweep = self.render_sweep();
            let ride = self.ride.tick()
                + noisy(&mut self.ride_wash, &mut self.noise)
                + noisy(&mut self.ride_ping, &mut self.noise);
            let hat = self.hat.tick() + noisy(&mut self.hat_noise, &mut self.noise);
            *l += gain
                * (kick * kick_pan.0
                    + (snare + sweep) * snare_pan.0
                    + ride * ride_pan.0
                    + hat * hat_pan.0);
            *r += gain
                * (kick * kick_pan.1
                    + (snare + sweep) * snare_pan.1
                    + ride * ride_pan.1
                    + hat * hat_pan.1);
        }
    }

    /// The brush drawn across the head: a bed of wire noise that swells through the
    /// stroke and never quite stops while the drummer keeps sweeping.
    #[inline]
    fn render_sweep(&mut self) -> f32 {
        // The stroke's shape is computed at a control rate; the smoother interpolates.
        if self.sweep_pos % SWEEP_CONTROL_INTERVAL == 0 {
            self.sweep_target = if self.sweep_pos < self.sweep_length {
                let t = self.sweep_pos as f32 / self.sweep_length as f32;
                // Swells into the end of the stroke (the push toward 2 and 4).
                let swell = (std::f32::consts::PI * t.powf(0.8)).sin();
                self.sweep.cutoff = 1800.0 + 1400.0 * t;
                self.sweep_velocity * (0.25 + 0.75 * swell)
            } else {
                self.sweep_velocity * 0.2
            };
        }
        self.sweep_pos = self.sweep_pos.saturating_add(1);
        let gain = self.sweep_gain.follow(self.sweep_target);
        if gain < 1e-5 {
            return 0.0;
        }
        let swish = self.sweep.filter(self.noise.white());
        self.sweep_top.filter(swish) * gain * 0.26
    }
}
