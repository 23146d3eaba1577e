//! The pianist: sparse modal comping in the low-middle register.
//!
//! René Urtreger said he played least of all on this record, so the pianist mostly
//! lays out: a voicing on the downbeat of a new chord, a Charleston now and then, an
//! anticipation on the "and" of 4 into a chord change. Ballads are sparser and the chords
//! ring longer; faster tunes get shorter stabs. Voicings (So What, quartal or rootless,
//! per the preset) change position when the chord changes or when the pianist feels like
//! it.
//!
//! The pianist listens: under a busy soloist it leaves the space to them (a short, soft
//! voicing where the chord changes, higher, out of the way, and nothing else); when the
//! soloist rests it fills the hole (comping through the bar and answering on the "and"
//! of 4); in between it comps less the harder the soloist plays.

use super::{BarContext, EventQueue, PlayerTiming, Sound};
use crate::preset::{Feel, PianoStyle};
use crate::synth::piano::PianoNote;
use crate::theory::voicing::{Voicing, voice};

/// The pianist sits on the beat, a hair behind the drums (ms).
const PLACE_MS: f32 = 2.0;
/// Lowest note of a voicing: keeps the comping low-middle and dark.
const VOICING_FLOOR: u8 = 50;

/// One chord struck: where, how long, how hard, and how much it is rolled.
#[derive(Clone, Copy, Debug)]
struct Stroke {
    beat: f32,
    beats: f32,
    velocity: f32,
    roll_ms: f32,
}

impl Stroke {
    fn new(beat: f32, beats: f32, velocity: f32, roll_ms: f32) -> Self {
        Self {
            beat,
            beats,
            velocity,
            roll_ms,
        }
    }
}

pub struct Pianist {
    timing: PlayerTiming,
    variant: u32,
    /// The next bar's downbeat was already played as an anticipation.
    anticipated: bool,
}

impl Pianist {
    pub fn new(seed: u64) -> Self {
        Self {
            timing: PlayerTiming::new(seed, 3, PLACE_MS, 3.0),
            variant: 0,
            anticipated: false,
        }
    }

    pub fn reset(&mut self) {
        self.anticipated = false;
    }

    fn chord(
        &mut self,
        ctx: &BarContext,
        queue: &mut EventQueue,
        voicing: &Voicing,
        stroke: Stroke,
    ) {
        let Stroke {
            beat,
            beats,
            velocity,
            roll_ms,
        } = stroke;
        let offset = self.timing.timing_ms();
        let velocity = self.timing.vary(velocity, 0.06).clamp(0.1, 1.0);
        // Comping swings less than the ride: soloists and compers lay the off-beat a little earlier.
        let swing = ctx.swing.min(2.2);
        for (i, &key) in voicing.notes().iter().enumerate() {
            let at = ctx.time(beat, swing, offset + roll_ms * i as f32);
            let top = if i + 1 == voicing.notes().len() {
                0.06
            } else {
                0.0
            };
            queue.push(
                at,
                Sound::Piano(PianoNote {
                    key,
                    velocity: (velocity + top).min(1.0),
                    length: ctx.samples(beats),
                }),
            );
        }
    }

    pub fn plan(&mut self, ctx: &BarContext, style: &PianoStyle, queue: &mut EventQueue) {
        match ctx.soloist {
            None => self.comp(ctx, style, 1.0, queue),
            Some(soloist) if soloist.is_busy() => self.lay_out(ctx, style, queue),
            Some(soloist) if soloist.resting => self.fill(ctx, style, queue),
            Some(soloist) => self.comp(ctx, style, 1.2 - soloist.intensity, queue),
        }
    }

    /// Under a busy soloist: a short, soft voicing where the chord changes, a fifth
    /// higher than usual, and nothing else.
    fn lay_out(&mut self, ctx: &BarContext, style: &PianoStyle, queue: &mut EventQueue) {
        let anticipated = std::mem::replace(&mut self.anticipated, false);
        if ctx.chord_starts() {
            self.variant = self.timing.pick(8) as u32;
        }
        if ctx.chord_starts() && !anticipated && self.timing.maybe(0.7) {
            let high = voice(
                style.voicing,
                &ctx.slot.scale,
                VOICING_FLOOR + 7,
                self.variant,
            );
            self.chord(ctx, queue, &high, Stroke::new(0.0, 0.6, 0.36, 0.0));
        }
    }

    /// The soloist rests: comp through the bar and answer on the "and" of 4, into the
    /// next bar's chord.
    fn fill(&mut self, ctx: &BarContext, style: &PianoStyle, queue: &mut EventQueue) {
        let ballad = matches!(ctx.arrangement.feel, Feel::Ballad | Feel::Rubato);
        let beats = ctx.beats as f32;
        if ctx.chord_starts() || self.timing.maybe(0.3) {
            self.variant = self.timing.pick(8) as u32;
        }
        let here = voice(style.voicing, &ctx.slot.scale, VOICING_FLOOR, self.variant);
        let roll = if ballad { 9.0 } else { 0.0 };
        let held = if ballad { 1.5 } else { 0.9 };
        let anticipated = std::mem::replace(&mut self.anticipated, false);
        if !anticipated {
            self.chord(ctx, queue, &here, Stroke::new(0.0, held, 0.5, roll));
        }
        if beats >= 3.0 && self.timing.maybe(0.75) {
            self.chord(ctx, queue, &here, Stroke::new(1.5, held, 0.46, roll));
        }
        if beats >= 4.0 && self.timing.maybe(0.5) {
            self.chord(ctx, queue, &here, Stroke::new(2.0, 0.8, 0.42, roll));
        }
        if beats >= 2.0 && self.timing.maybe(0.8) {
            // The answer on the "and" of the last beat, into the next bar's chord.
            self.variant = self.timing.pick(8) as u32;
            let next = voice(
                style.voicing,
                &ctx.next_slot.scale,
                VOICING_FLOOR,
                self.variant,
            );
            self.chord(
                ctx,
                queue,
                &next,
                Stroke::new(beats - 0.5, held.max(1.5), 0.52, roll),
            );
            self.anticipated = true;
        }
    }

    /// The preset's comping, `busier` times as dense (1: as written).
    fn comp(&mut self, ctx: &BarContext, style: &PianoStyle, busier: f32, queue: &mut EventQueue) {
        let ballad = matches!(ctx.arrangement.feel, Feel::Ballad | Feel::Rubato);
        let density = (style.density.clamp(0.0, 1.0) * busier).clamp(0.0, 1.0)
            * if ballad { 0.7 } else { 1.0 };
        let beats = ctx.beats as f32;
        if ctx.chord_starts() || self.timing.maybe(0.15) {
            self.variant = self.timing.pick(8) as u32;
        }
        let here = voice(style.voicing, &ctx.slot.scale, VOICING_FLOOR, self.variant);
        let roll = if ballad { 9.0 } else { 0.0 };
        let held = if ballad { beats * 0.9 } else { 1.1 };
        let anticipated = std::mem::replace(&mut self.anticipated, false);

        if ctx.chord_starts() && !anticipated {
            self.chord(
                ctx,
                queue,
                &here,
                Stroke::new(0.0, held.max(1.5), 0.5, roll),
            );
        } else if !anticipated && self.timing.maybe(0.2 + 0.5 * density) {
            match self.timing.pick(4) {
                // Charleston: 1 and the "and" of 2.
                0 if !ballad => {
                    self.chord(ctx, queue, &here, Stroke::new(0.0, 0.8, 0.45, 0.0));
                    self.chord(ctx, queue, &here, Stroke::new(1.5, 0.7, 0.4, 0.0));
                }
                // On the "and" of 2, left hanging.
                1 => self.chord(ctx, queue, &here, Stroke::new(1.5, held, 0.42, roll)),
                // Beat 3 (or 2 in short bars).
                2 => self.chord(
                    ctx,
                    queue,
                    &here,
                    Stroke::new((beats / 2.0).floor(), held, 0.4, roll),
                ),
                _ => self.chord(ctx, queue, &here, Stroke::new(0.0, held, 0.45, roll)),
            }
        }

        if ctx.chord_ends()
            && (ctx.next_slot.start_bar != ctx.slot.start_bar
                || ctx.next_slot.chord != ctx.slot.chord)
            && beats >= 2.0
            && self.timing.maybe(0.25 + 0.4 * density)
        {
            // Anticipate the next chord on the last off-beat of the bar.
            self.variant = self.timing.pick(8) as u32;
            let next = voice(
                style.voicing,
                &ctx.next_slot.scale,
                VOICING_FLOOR,
                self.variant,
            );
            self.chord(
                ctx,
                queue,
                &next,
                Stroke::new(beats - 0.5, held.max(1.5), 0.5, roll),
            );
            self.anticipated = true;
        }
    }
}
