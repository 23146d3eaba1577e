//! The room, the echo on the lead, and the master limiter.

use super::db_gain;
use fundsp::MAX_BUFFER_SIZE;
use fundsp::buffer::BufferArray;
use fundsp::prelude32::{
    An, AudioNode, AudioUnit, Delay, Lowpole, U1, U2, U4, U8, delay, fdn, lowpole_hz, multijoin,
    multisplit, stacki,
};

/// Delay lengths of the room's feedback delay network (s): mutually prime in samples at
/// common rates, between 30 and 70 ms, like the first reflections of a mid-sized studio.
const ROOM_DELAYS_S: [f32; 8] = [
    0.0297, 0.0371, 0.0411, 0.0437, 0.0533, 0.0571, 0.0613, 0.0673,
];
/// Reverberation time of the room to −60 dB (s).
const ROOM_T60_S: f32 = 2.1;
/// Loop damping: the tail darkens as it decays, as in a real room.
const ROOM_DAMPING_HZ: f32 = 4500.0;

/// An 8-line feedback delay network built from fundsp parts (delay lines, one-pole
/// damping, a Hadamard mix). fundsp's own 32-line `reverb_stereo` costs about eight
/// times as much and took two thirds of the render time; eight lines are dense enough
/// behind a band.
fn room_network() -> An<impl AudioNode<Inputs = U2, Outputs = U2>> {
    let lines = stacki::<U8, _, _>(|i| {
        let length = ROOM_DELAYS_S[i as usize];
        // Each line loses 60 dB over T60 whatever its length.
        let gain = 10f32.powf(-3.0 * length / ROOM_T60_S);
        delay(length) >> (lowpole_hz(ROOM_DAMPING_HZ) * gain)
    });
    multisplit::<U2, U4>() >> fdn::<U8, _>(lines) >> multijoin::<U2, U4>()
}

/// The studio: one reverb shared by every player through send levels.
///
/// The reverb runs on fundsp's SIMD block path, several times cheaper than ticking it
/// sample by sample. Blocks are fixed at [`MAX_BUFFER_SIZE`] frames counted from the
/// engine's start, so the host's buffer size cannot change the result; the cost is a
/// pre-delay of that many frames on the wet signal only (1.3 ms at 48 kHz).
pub struct Room {
    reverb: Box<dyn AudioUnit>,
    input: BufferArray<U2>,
    output: BufferArray<U2>,
    position: usize,
}

impl Room {
    /// Build (and allocate the delay lines of) the room. Call before the stream starts.
    pub fn new(sample_rate: f32) -> Self {
        // A mid-sized studio with a long-ish, dark tail: more felt than heard on the band,
        // and lush on the trumpet.
        let mut reverb: Box<dyn AudioUnit> = Box::new(room_network());
        reverb.set_sample_rate(sample_rate as f64);
        reverb.allocate();
        Self {
            reverb,
            input: BufferArray::new(),
            output: BufferArray::new(),
            position: 0,
        }
    }

    /// The wet signal for one stereo send sample ([`MAX_BUFFER_SIZE`] frames late).
    #[inline]
    pub fn tick(&mut self, left: f32, right: f32) -> (f32, f32) {
        let i = self.position;
        let wet = (self.output.at_f32(0, i), self.output.at_f32(1, i));
        self.input.set_f32(0, i, left);
        self.input.set_f32(1, i, right);
        self.position += 1;
        if self.position == MAX_BUFFER_SIZE {
            self.position = 0;
            self.reverb.process(
                MAX_BUFFER_SIZE,
                &self.input.buffer_ref(),
                &mut self.output.buffer_mut(),
            );
        }
        wet
    }
}

/// A tape-style echo for the lead: one repeat after ~a dotted eighth, darker each time.
pub struct Echo {
    line: An<Delay>,
    tone: An<Lowpole<f32, U1>>,
    feedback: f32,
    last: f32,
}

impl Echo {
    /// `time_s` between repeats, `feedback` 0 … <1.
    pub fn new(time_s: f32, feedback: f32, sample_rate: f32) -> Self {
        let mut line = delay(time_s);
        line.set_sample_rate(sample_rate as f64);
        let mut tone = lowpole_hz(2800.0);
        tone.set_sample_rate(sample_rate as f64);
        Self {
            line,
            tone,
            feedback,
            last: 0.0,
        }
    }

    /// Next echo sample for an input sample (the repeats only, not the dry signal).
    #[inline]
    pub fn tick(&mut self, x: f32) -> f32 {
        let delayed = self.line.filter_mono(x + self.last * self.feedback);
        self.last = self.tone.filter_mono(delayed);
        self.last
    }
}

/// Master soft limiter with no look-ahead, so it adds no latency to the player's notes:
/// an instant-attack peak follower with a smooth release, then a gentle saturation
/// curve and a hard ceiling. The output never exceeds [`Limiter::CEILING_DBFS`].
pub struct Limiter {
    gain: f32,
    release: f32,
    ceiling: f32,
}

impl Limiter {
    pub const CEILING_DBFS: f32 = -1.2;

    pub fn new(sample_rate: f32) -> Self {
        Self {
            gain: 1.0,
            release: (-1.0 / (0.25 * sample_rate)).exp(),
            ceiling: db_gain(Self::CEILING_DBFS),
        }
    }

    /// Gain reduction in dB at this moment (0 when the limiter is idle).
    pub fn reduction_db(&self) -> f32 {
        -20.0 * self.gain.log10()
    }

    #[inline]
    pub fn tick(&mut self, left: f32, right: f32) -> (f32, f32) {
        // Non-finite input would poison the follower for ever: treat it as silence.
        let (left, right) = if left.is_finite() && right.is_finite() {
            (left, right)
        } else {
            (0.0, 0.0)
        };
        let threshold = self.ceiling * 0.85;
        let peak = left.abs().max(right.abs());
        let wanted = if peak * self.gain > threshold {
            threshold / peak
        } else {
            1.0
        };
        self.gain = if wanted < self.gain {
            wanted
        } else {
            1.0 - (1.0 - self.gain) * self.release
        };
        let shape = |x: f32| {
            let x = x * self.gain;
            // Above the knee, bend smoothly toward the ceiling instead of clipping.
            let knee = threshold;
            let y = if x.abs() <= knee {
                x
            } else {
                let over = (x.abs() - knee) / (self.ceiling - knee);
                x.signum() * (knee + (self.ceiling - knee) * over.tanh())
            };
            y.clamp(-self.ceiling, self.ceiling)
        };
        (shape(left), shape(right))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_never_exceeds_its_ceiling_and_passes_quiet_signals() {
        let mut limiter = Limiter::new(48_000.0);
        let ceiling = db_gain(Limiter::CEILING_DBFS);
        for i in 0..48_000 {
            let x = 4.0 * (i as f32 * 0.05).sin();
            let (l, r) = limiter.tick(x, -x);
            assert!(l.abs() <= ceiling && r.abs() <= ceiling);
        }
        let (l, _) = limiter.tick(f32::NAN, 0.0);
        assert_eq!(l, 0.0);
        let mut limiter = Limiter::new(48_000.0);
        let (l, r) = limiter.tick(0.25, -0.1);
        assert_eq!((l, r), (0.25, -0.1));
    }

    #[test]
    fn echo_repeats_after_its_time() {
        let mut echo = Echo::new(0.01, 0.3, 48_000.0);
        let out: Vec<f32> = (0..1000)
            .map(|i| echo.tick(if i == 0 { 1.0 } else { 0.0 }))
            .collect();
        let first = out.iter().position(|x| x.abs() > 1e-3).unwrap();
        assert!((479..=482).contains(&first), "first repeat at {first}");
    }
}
