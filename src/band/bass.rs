//! The bassist: walking lines, pedal points and ostinatos.
//!
//! A walking bar is chosen as a small melody between two targets: this bar's downbeat
//! (decided a bar earlier) and the next bar's. Beat 1 is a chord tone (the root when the
//! chord changes), beat 3 a chord tone, beat 4 a chromatic or scale approach to the next
//! downbeat, beat 2 a passing tone between. The contour turns at the edges of the range
//! and no two bars in a row are the same.
//!
//! The bassist listens too, but keeps the time: under a soft or resting soloist a walking
//! bassist drops to two (half notes on 1 and 3, now and then a pickup into the next bar)
//! below [`TWO_FEEL_BELOW_BPM`], and walks in four again as soon as the soloist digs in.

use super::arrangement::BassPlan;
use super::{BarContext, EventQueue, PlayerTiming, Sound};
use crate::synth::bass::BassNote;
use crate::theory::{PitchClass, PitchClassSet};

/// The walking range, E1 … G3.
pub const LOWEST: u8 = 28;
pub const HIGHEST: u8 = 55;

/// The bassist sits a little behind the beat (ms).
const BEHIND_MS: f32 = 7.0;

/// Above this tempo the bass walks in four whatever the soloist does (half notes would
/// lose the time's drive).
pub const TWO_FEEL_BELOW_BPM: f32 = 200.0;

/// Soloist intensity under which a walking bassist plays in two.
const TWO_FEEL_INTENSITY: f32 = 0.4;

pub struct Bassist {
    timing: PlayerTiming,
    /// The note already chosen for the next downbeat.
    next_downbeat: Option<u8>,
    last_bar: [u8; 8],
    direction: i32,
}

/// The note of pitch class `pc` nearest to `near` inside the walking range.
pub fn nearest(pc: PitchClass, near: i32) -> u8 {
    let mut best = LOWEST;
    let mut best_distance = i32::MAX;
    for note in LOWEST..=HIGHEST {
        if PitchClass::from_midi(note) == pc {
            let d = (note as i32 - near).abs();
            if d < best_distance {
                best = note;
                best_distance = d;
            }
        }
    }
    best
}

/// The nearest tone of `set` strictly above (`dir` > 0) or below `from`, within range.
fn step_in(set: PitchClassSet, from: u8, dir: i32) -> Option<u8> {
    let mut note = from as i32;
    for _ in 0..12 {
        note += dir.signum();
        if !(LOWEST as i32..=HIGHEST as i32).contains(&note) {
            return None;
        }
        if set.contains(PitchClass::from_midi(note as u8)) {
            return Some(note as u8);
        }
    }
    None
}

impl Bassist {
    pub fn new(seed: u64) -> Self {
        Self {
            timing: PlayerTiming::new(seed, 1, BEHIND_MS, 2.0),
            next_downbeat: None,
            last_bar: [0; 8],
            direction: 1,
        }
    }

    /// Forget the line (a new arrangement or a restart).
    pub fn reset(&mut self) {
        self.next_downbeat = None;
        self.last_bar = [0; 8];
    }

    pub fn plan(&mut self, ctx: &BarContext, plan: &BassPlan, queue: &mut EventQueue) {
        match plan {
            BassPlan::Walking => {
                let in_two = ctx
                    .soloist
                    .is_some_and(|s| s.intensity < TWO_FEEL_INTENSITY)
                    && ctx.arrangement.tempo < TWO_FEEL_BELOW_BPM
                    && ctx.beats == 4;
                self.walk(ctx, in_two, queue)
            }
            BassPlan::Pedal => self.pedal(ctx, queue),
            BassPlan::Ostinato { steps, bars } => self.ostinato(ctx, steps, *bars, queue),
        }
    }

    fn play(
        &mut self,
        ctx: &BarContext,
        queue: &mut EventQueue,
        beat: f32,
        key: u8,
        beats: f32,
        velocity: f32,
    ) {
        let offset = self.timing.timing_ms();
        let velocity = self.timing.vary(velocity, 0.06).clamp(0.1, 1.0);
        queue.push(
            ctx.time(beat, ctx.swing, offset),
            Sound::Bass(BassNote {
                key: key.clamp(LOWEST, HIGHEST),
                velocity,
                length: ctx.samples(beats),
            }),
        );
    }

    fn choose_downbeat(&mut self, ctx: &BarContext, from: u8) -> u8 {
        if ctx.chord_ends() {
            // The next chord's root, reached in the direction of travel.
            let root = ctx.next_slot.chord.root_pc();
            return nearest(root, from as i32 + self.direction * 4);
        }
        let tones = ctx.slot.scale.chord_tones();
        let root = ctx.slot.chord.root_pc();
        let fifth = root.transpose(7);
        let mut candidates = [root; 4];
        let mut n = 0;
        for pc in tones.iter() {
            if n < 4 && PitchClass::from_midi(from) != pc {
                candidates[n] = pc;
                n += 1;
            }
        }
        // Favour the root and fifth, which keep the time grounded.
        let pc = if self.timing.maybe(0.45) {
            if self.timing.maybe(0.6) && tones.contains(fifth) {
                fifth
            } else {
                root
            }
        } else {
            candidates[self.timing.pick(n.max(1))]
        };
        nearest(
            pc,
            from as i32 + self.direction * (3 + self.timing.pick(5) as i32),
        )
    }

    fn walk(&mut self, ctx: &BarContext, in_two: bool, queue: &mut EventQueue) {
        let scale = &ctx.slot.scale;
        let tones = scale.chord_tones();
        let mode = ctx.slot.mode.pitch_classes();
        let root = ctx.slot.chord.root_pc();
        let first = match self.next_downbeat.take() {
            Some(note) if ctx.chord_starts() => nearest(root, note as i32),
            Some(note) => note,
            None => nearest(root, 40),
        };
        // Turn around near the edges of the range.
        if first >= HIGHEST - 6 {
            self.direction = -1;
        } else if first <= LOWEST + 5 {
            self.direction = 1;
        } else if self.timing.maybe(0.35) {
            self.direction = -self.direction;
        }
        let beats = ctx.beats.clamp(1, 8) as usize;
        let mut line = [first; 8];
        let mut next = first;
        for attempt in 0..6 {
            next = self.choose_downbeat(ctx, first);
            // Usually from the side the line comes from; sometimes from beyond (an
            // enclosure-like turn back onto the target).
            let mut approach_side = if next > first { -1 } else { 1 };
            if self.timing.maybe(0.3) {
                approach_side = -approach_side;
            }
            // The approach: a half step (in or out of the mode) or the scale tone next door.
            let approach = if self.timing.maybe(0.32) {
                (next as i32 + approach_side) as u8
            } else {
                step_in(mode, next, approach_side).unwrap_or((next as i32 - approach_side) as u8)
            };
            line[0] = first;
            if beats >= 2 {
                line[beats - 1] = approach;
            }
            if beats >= 3 {
                // The middle beat (beat 3 in 4/4): a chord tone on the way to the approach.
                let middle = beats / 2;
                let goal = (first as i32 + approach as i32) / 2
                    + self.direction * self.timing.pick(3) as i32;
                let mut best = first;
                let mut best_d = i32::MAX;
                for pc in tones.iter() {
                    let note = nearest(pc, goal);
                    let d = (note as i32 - goal).abs();
                    if note != approach && note != first && d < best_d {
                        best = note;
                        best_d = d;
                    }
                }
                line[middle] = best;
                // Passing tones fill the rest: scale steps from the previous note toward the next.
                for i in 1..beats - 1 {
                    if i == middle {
                        continue;
                    }
                    let prev = line[i - 1];
                    let target = if i < middle {
                        line[middle]
                    } else {
                        line[beats - 1]
                    };
                    let dir = if target > prev {
                        1
                    } else if target < prev {
                        -1
                    } else {
                        self.direction
                    };
                    // A passing tone, or now and then a chord tone on the way (arpeggio).
                    let arpeggio = if self.timing.maybe(0.3) {
                        step_in(tones, prev, dir).filter(|&n| {
                            n != target
                                && (n as i32 - target as i32).signum()
                                    == (prev as i32 - target as i32).signum()
                        })
                    } else {
                        None
                    };
                    let mut note =
                        arpeggio.unwrap_or_else(|| step_in(mode, prev, dir).unwrap_or(prev));
                    if note == target || note == prev {
                        note = step_in(mode, prev, -dir).unwrap_or(prev);
                    }
                    line[i] = note;
                }
            }
            let repeats_last_bar = line[..beats] == self.last_bar[..beats];
            if !repeats_last_bar || attempt == 5 {
                break;
            }
            self.direction = -self.direction;
        }
        self.last_bar[..beats].copy_from_slice(&line[..beats]);
        self.next_downbeat = Some(next);
        if in_two {
            // Half notes on 1 and 3 (the bar's chord tones), and now and then the
            // approach note as a pickup on the "and" of 4.
            let pickup = self.timing.maybe(0.35);
            self.play(ctx, queue, 0.0, line[0], 1.9, 0.76);
            let middle = beats / 2;
            let third = if pickup { 1.4 } else { 1.9 };
            self.play(ctx, queue, middle as f32, line[middle], third, 0.72);
            if pickup {
                self.play(ctx, queue, beats as f32 - 0.5, line[beats - 1], 0.45, 0.66);
            }
            return;
        }
        let accent = [0.78, 0.7, 0.74, 0.7, 0.74, 0.7, 0.74, 0.7];
        for (i, &note) in line[..beats].iter().enumerate() {
            self.play(ctx, queue, i as f32, note, 0.9, accent[i]);
        }
    }

    fn pedal(&mut self, ctx: &BarContext, queue: &mut EventQueue) {
        let root = nearest(ctx.slot.chord.root_pc(), 33);
        let beats = ctx.beats as f32;
        // A drone: the root held through the bar, now and then answered by the fifth below.
        if ctx.bar_in_slot % 2 == 0 || self.timing.maybe(0.5) {
            self.play(ctx, queue, 0.0, root, beats * 0.97, 0.75);
        }
        if ctx.beats >= 4 && self.timing.maybe(0.2) {
            let fifth = nearest(ctx.slot.chord.root_pc().transpose(7), root as i32 - 5);
            if ctx
                .slot
                .scale
                .chord_tones()
                .contains(PitchClass::from_midi(fifth))
            {
                self.play(ctx, queue, beats / 2.0, fifth, beats / 2.0 * 0.95, 0.55);
            }
        }
        self.next_downbeat = Some(root);
    }

    fn ostinato(
        &mut self,
        ctx: &BarContext,
        steps: &[(i8, f32)],
        bars: u32,
        queue: &mut EventQueue,
    ) {
        let root = nearest(ctx.slot.chord.root_pc(), 38) as i32;
        let beats_per_bar = ctx.beats as f32;
        let bar_of_figure = (ctx.bar % u64::from(bars.max(1))) as f32;
        let window = (
            bar_of_figure * beats_per_bar,
            (bar_of_figure + 1.0) * beats_per_bar,
        );
        let mut at = 0.0;
        for &(interval, beats) in steps {
            if at >= window.0 - 1e-3 && at < window.1 - 1e-3 {
                let key = (root + interval as i32).clamp(LOWEST as i32, HIGHEST as i32) as u8;
                let accent = if (at - window.0).fract() == 0.0 {
                    0.78
                } else {
                    0.66
                };
                self.play(ctx, queue, at - window.0, key, beats * 0.85, accent);
            }
            at += beats;
        }
        self.next_downbeat = Some(root as u8);
    }
}
