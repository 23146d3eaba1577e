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
//!
//! The drummer listens: under a loud, busy soloist the whole kit comes up, the skip notes
//! fill every beat, the comping (snare, or brush accents) gets busier and the bass drum
//! is felt under it; under a soft or resting soloist it thins to the ride's quarters and
//! the backbeat, at a whisper. With nobody to listen to it plays the preset's own way.

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
        match ctx.soloist {
            Some(soloist) => self.follow(ctx, style, soloist.intensity, queue),
            None => self.play_alone(ctx, style, queue),
        }
    }

    /// A bar under the soloist, at `intensity` (0 soft or resting … 1 loud and busy).
    fn follow(
        &mut self,
        ctx: &BarContext,
        style: &DrumStyle,
        intensity: f32,
        queue: &mut EventQueue,
    ) {
        let beats = ctx.beats;
        let brushes = style.kit == DrumKit::Brushes;
        let intensity = intensity.clamp(0.0, 1.0);
        // The touch: a whisper at 0.4 of the written level, digging in at 1.5.
        let touch = 0.4 + 1.1 * intensity;
        let ride = if brushes {
            Stroke::BrushTap
        } else {
            Stroke::Ride
        };
        let soft = if brushes { 0.8 } else { 1.0 } * touch;
        if brushes {
            self.sweeps(ctx, touch, queue);
        }
        let thin = intensity < 0.4;
        let busy = intensity > 0.55;
        for beat in 0..beats {
            let backbeat = beat % 2 == 1;
            let b = beat as f32;
            self.hit(
                ctx,
                queue,
                b,
                ride,
                soft * if backbeat { 0.62 } else { 0.5 },
                0.0,
            );
            if backbeat {
                // The skip note after 2 and 4: the first thing a thinning drummer drops.
                if !thin || self.timing.maybe(0.3) {
                    self.hit(ctx, queue, b + 0.5, ride, soft * 0.4, 0.0);
                }
                self.hit(ctx, queue, b, Stroke::HiHatFoot, 0.5 * touch.min(1.2), 0.0);
            } else if busy && self.timing.maybe(0.5 + 0.5 * intensity) {
                self.hit(ctx, queue, b + 0.5, ride, soft * 0.38, 0.0);
            }
            // The bass drum: feathered, felt more under a soloist who digs in.
            let kick = if busy {
                0.16 + 0.25 * intensity
            } else {
                0.16 * touch
            };
            self.hit(ctx, queue, b, Stroke::Kick, kick, 0.0);
        }
        if busy {
            // Comping with the soloist: snare (or brush) notes on the middle triplet of a
            // beat (a quarter of the swung beat is a third of it at 2:1), and a kick
            // "bomb" now and then on the and of 4.
            let accent = if brushes {
                Stroke::BrushTap
            } else {
                Stroke::Snare
            };
            let notes = 1
                + usize::from(self.timing.maybe(intensity))
                + usize::from(self.timing.maybe(0.5 * intensity));
            for _ in 0..notes {
                let beat = self.timing.pick(beats as usize) as f32;
                let velocity = 0.3 + 0.25 * intensity + 0.1 * self.timing.chance();
                self.hit(ctx, queue, beat + 0.25, accent, velocity, 0.0);
            }
            if beats >= 4 && self.timing.maybe(0.3 * intensity) {
                self.hit(ctx, queue, beats as f32 - 0.5, Stroke::Kick, 0.5, 0.0);
            }
        }
        if ctx.section_ends() && beats >= 2 && !thin {
            self.fill(ctx, style, touch, queue);
        }
    }

    /// The brushes' sweep, its length following the tempo, at `touch`.
    fn sweeps(&mut self, ctx: &BarContext, touch: f32, queue: &mut EventQueue) {
        let tempo = ctx.arrangement.tempo;
        let stroke_beats = if (110.0..=200.0).contains(&tempo) {
            2
        } else {
            1
        };
        let mut beat = 0;
        while beat < ctx.beats {
            let into_backbeat = (beat + stroke_beats) % 2 == 0;
            let length = stroke_beats as f32 * if tempo > 200.0 { 0.6 } else { 0.98 };
            let velocity = if into_backbeat { 0.7 } else { 0.55 };
            self.hit(
                ctx,
                queue,
                beat as f32,
                Stroke::Sweep,
                velocity * touch,
                length,
            );
            beat += stroke_beats;
        }
    }

    /// Setting up the next section at `touch`: an accent on the last beat and its "and",
    /// a kick under it, now and then a note before.
    fn fill(&mut self, ctx: &BarContext, style: &DrumStyle, touch: f32, queue: &mut EventQueue) {
        let brushes = style.kit == DrumKit::Brushes;
        let density = style.density.clamp(0.0, 1.0);
        let last = (ctx.beats - 1) as f32;
        let accent = if brushes {
            Stroke::BrushTap
        } else {
            Stroke::Snare
        };
        self.hit(ctx, queue, last, accent, 0.68 * touch, 0.0);
        self.hit(ctx, queue, last + 0.5, accent, 0.75 * touch, 0.0);
        if self.timing.maybe(0.7) {
            self.hit(ctx, queue, last + 0.5, Stroke::Kick, 0.55 * touch, 0.0);
        }
        if self.timing.maybe(0.4 * density + 0.2) {
            self.hit(ctx, queue, last - 1.0 + 0.5, accent, 0.5 * touch, 0.0);
        }
    }

    /// A bar with nobody to listen to: the preset's own playing.
    fn play_alone(&mut self, ctx: &BarContext, style: &DrumStyle, queue: &mut EventQueue) {
        let beats = ctx.beats;
        let brushes = style.kit == DrumKit::Brushes;
        let density = style.density.clamp(0.0, 1.0);
        let ride = if brushes {
            Stroke::BrushTap
        } else {
            Stroke::Ride
        };
        let soft = if brushes { 0.8 } else { 1.0 };
        if brushes {
            self.sweeps(ctx, 1.0, queue);
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
            self.fill(ctx, style, 1.0, queue);
        }
    }
}
