//! The drummer: brushes at slow and medium tempos, sticks on the ride when it burns.
//!
//! Brushes: the left hand sweeps the head legato (one stroke a beat at ballad tempos,
//! one every two beats at medium, short straight "line" strokes when fast) swelling into
//! 2 and 4; the right hand taps the ride pattern — quarter notes with the swung skip
//! note after 2 and after 4 — on the other side of the head; the hi-hat foot closes on 2
//! and 4 and the bass drum is feathered on every beat, felt more than heard. Sticks play
//! the same pattern on the ride cymbal ("spang-a-lang") with sparse snare comping. Fills
//! and a kick on the "and" of 4 mark the end of a section. The drummer sits a few
//! milliseconds ahead of the beat.

use super::{BarContext, EventQueue, PlayerTiming, Sound};
use crate::preset::{DrumKit, DrumStyle};
use crate::synth::drums::{DrumHit, Stroke};

/// The drummer plays slightly ahead of the beat (ms).
const AHEAD_MS: f32 = -6.0;

pub struct Drummer {
    timing: PlayerTiming,
}

impl Drummer {
    pub fn new(seed: u64) -> Self {
        Self {
            timing: PlayerTiming::new(seed, 2, AHEAD_MS, 2.0),
        }
    }

    fn hit(
        &mut self,
        ctx: &BarContext,
        queue: &mut EventQueue,
        beat: f32,
        stroke: Stroke,
        velocity: f32,
        length_beats: f32,
    ) {
        let offset = self.timing.timing_ms();
        let velocity = self.timing.vary(velocity, 0.07).clamp(0.03, 1.0);
        queue.push(
            ctx.time(beat, ctx.swing, offset),
            Sound::Drum(DrumHit {
                stroke,
                velocity,
                length: if length_beats > 0.0 {
                    ctx.samples(length_beats)
                } else {
                    0
                },
            }),
        );
    }

    pub fn plan(&mut self, ctx: &BarContext, style: &DrumStyle, queue: &mut EventQueue) {
        let beats = ctx.beats;
        let tempo = ctx.arrangement.tempo;
        let brushes = style.kit == DrumKit::Brushes;
        let density = style.density.clamp(0.0, 1.0);
        let ride = if brushes {
            Stroke::BrushTap
        } else {
            Stroke::Ride
        };
        let soft = if brushes { 0.8 } else { 1.0 };

        if brushes {
            // The sweep: its length follows the tempo.
            let stroke_beats = if (110.0..=200.0).contains(&tempo) {
                2
            } else {
                1
            };
            let mut beat = 0;
            while beat < beats {
                let into_backbeat = (beat + stroke_beats) % 2 == 0;
                let length = stroke_beats as f32 * if tempo > 200.0 { 0.6 } else { 0.98 };
                let velocity = if into_backbeat { 0.7 } else { 0.55 };
                self.hit(ctx, queue, beat as f32, Stroke::Sweep, velocity, length);
                beat += stroke_beats;
            }
        }

        for beat in 0..beats {
            let backbeat = beat % 2 == 1;
            let b = beat as f32;
            // The ride pattern: every beat, the skip note after 2 and 4.
            self.hit(
                ctx,
                queue,
                b,
                ride,
                soft * if backbeat { 0.62 } else { 0.5 },
                0.0,
            );
            if backbeat {
                self.hit(ctx, queue, b + 0.5, ride, soft * 0.4, 0.0);
                self.hit(ctx, queue, b, Stroke::HiHatFoot, 0.5, 0.0);
            } else if self.timing.maybe(0.25 * density) {
                // Now and then a skip after 1 or 3 too: comping on the same swung grid.
                self.hit(ctx, queue, b + 0.5, ride, soft * 0.33, 0.0);
            }
            // Feathered bass drum.
            self.hit(ctx, queue, b, Stroke::Kick, 0.16, 0.0);
        }

        if !brushes && self.timing.maybe(0.45 * density) {
            // A snare "chatter" note on a swung off-beat.
            let beat = self.timing.pick(beats as usize) as f32;
            self.hit(ctx, queue, beat + 0.5, Stroke::Snare, 0.28, 0.0);
        }

        if ctx.section_ends() && beats >= 2 {
            // Set up the next section: an accent on the last beat and the "and" of it,
            // and a kick under the "and".
            let last = (beats - 1) as f32;
            let accent = if brushes {
                Stroke::BrushTap
            } else {
                Stroke::Snare
            };
            self.hit(ctx, queue, last, accent, 0.68, 0.0);
            self.hit(ctx, queue, last + 0.5, accent, 0.75, 0.0);
            if self.timing.maybe(0.7) {
                self.hit(ctx, queue, last + 0.5, Stroke::Kick, 0.55, 0.0);
            }
            if self.timing.maybe(0.4 * density + 0.2) {
                self.hit(ctx, queue, last - 1.0 + 0.5, accent, 0.5, 0.0);
            }
        }
    }
}
