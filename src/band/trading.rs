//! Trading fours (or twos, or eights): the player plays N bars, then a band horn answers
//! for N bars with the player's last phrase developed, then the player again — as Barney
//! Wilen chases Miles on "Au bar du Petit Bac".
//!
//! The horn keeps the call's rhythm and contour and develops it the way a soloist does:
//! sequenced up or down the mode, inverted, displaced by an eighth or a beat, or cut to
//! its first half played twice. Each note is fitted to the mode of the bar it falls on,
//! moved into the horn's register, and phrased like a horn player: legato, the
//! off-beats in a run ghosted, swung a little less than the ride, a little behind the
//! beat. Allocation-free: the call and the answer live in fixed arrays.

use super::{BarContext, EventQueue, PlayerTiming, Sound};
use crate::preset::LeadInstrument;
use crate::theory::{PitchClass, PitchClassSet};

/// Notes of a call kept (and of its answer).
pub const CALL_NOTES: usize = 96;

/// The horn sits this far behind the beat (ms), as a soloist does.
const BEHIND_MS: f32 = 14.0;

/// Soloists swing less than the ride: the horn's eighths at most this ratio.
const HORN_SWING: f32 = 1.7;

/// A note the player played in their turn, from the turn's first beat.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct CallNote {
    beat: f32,
    beats: f32,
    key: u8,
    velocity: f32,
}

/// A note heard, by engine frame (its end unknown while the key is down).
#[derive(Clone, Copy, Debug, Default)]
struct Heard {
    frame: u64,
    end: Option<u64>,
    key: u8,
    velocity: f32,
}

/// A horn note to sound: started by [`Sound::Horn`], ended by [`Sound::HornOff`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HornNote {
    pub key: u8,
    pub velocity: f32,
    pub instrument: LeadInstrument,
}

/// Whose turn it is, for the console.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TradeTurn {
    /// Bars per turn (2, 4 or 8).
    pub bars: u32,
    /// The band's horn plays this turn (false: the player).
    pub horn: bool,
    /// Bars of this turn left, counting the one sounding.
    pub bars_left: u32,
}

/// The development applied to a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Development {
    /// Moved up or down the mode by this many steps.
    Sequence(i32),
    /// Intervals turned upside down around the first note.
    Inversion,
    /// Its first half, twice: the second time a step up the mode.
    Fragment,
}

pub struct Trader {
    /// Bars per turn; 0: not trading.
    bars: u32,
    heard: [Heard; CALL_NOTES],
    heard_count: usize,
    /// Frame and samples per beat of the player's turn's first bar line.
    call_start: Option<(f64, f64)>,
    answer: [CallNote; CALL_NOTES],
    answer_count: usize,
    /// Keys the horn holds, to end them all when trading stops.
    horn: LeadInstrument,
    timing: PlayerTiming,
}

impl Trader {
    pub fn new(seed: u64) -> Trader {
        Trader {
            bars: 0,
            heard: [Heard::default(); CALL_NOTES],
            heard_count: 0,
            call_start: None,
            answer: [CallNote::default(); CALL_NOTES],
            answer_count: 0,
            horn: LeadInstrument::TenorSax,
            timing: PlayerTiming::new(seed, 4, BEHIND_MS, 6.0),
        }
    }

    /// Trade `bars`-bar turns (2, 4 or 8), or stop trading with 0.
    pub fn set_bars(&mut self, bars: u32) {
        self.bars = bars;
        self.call_start = None;
        self.answer_count = 0;
    }

    pub fn bars(&self) -> u32 {
        self.bars
    }

    /// The horn answers a trumpet or piano with a tenor, a tenor with a trumpet.
    pub fn set_player_lead(&mut self, lead: LeadInstrument) {
        self.horn = match lead {
            LeadInstrument::TenorSax => LeadInstrument::OpenTrumpet,
            _ => LeadInstrument::TenorSax,
        };
    }

    pub fn note_on(&mut self, frame: u64, key: u8, velocity: f32) {
        if self.bars == 0 || self.heard_count == CALL_NOTES {
            return;
        }
        self.heard[self.heard_count] = Heard {
            frame,
            end: None,
            key,
            velocity,
        };
        self.heard_count += 1;
    }

    pub fn note_off(&mut self, frame: u64, key: u8) {
        if let Some(note) = self.heard[..self.heard_count]
            .iter_mut()
            .rev()
            .find(|n| n.key == key && n.end.is_none())
        {
            note.end = Some(frame);
        }
    }

    /// Whose turn bar `bar` (counted from the start, 0-based) is in.
    pub fn turn_at(&self, bar: u64) -> Option<TradeTurn> {
        (self.bars > 0).then(|| {
            let bars = u64::from(self.bars);
            TradeTurn {
                bars: self.bars,
                horn: (bar / bars) % 2 == 1,
                bars_left: (bars - bar % bars) as u32,
            }
        })
    }

    /// Plan the horn's part of the bar `ctx` (nothing in the player's turns), at `now`
    /// (a beat before it starts).
    pub fn plan(&mut self, ctx: &BarContext, now: u64, queue: &mut EventQueue) {
        if self.bars == 0 {
            return;
        }
        let bars = u64::from(self.bars);
        let horn_turn = (ctx.bar / bars) % 2 == 1;
        let bar_in_turn = (ctx.bar % bars) as u32;
        if !horn_turn {
            if bar_in_turn == 0 {
                // The player's turn begins: listen afresh (notes begun in the beat before
                // it, a pickup, are kept).
                let pickup = (ctx.start - ctx.samples_per_beat).max(0.0) as u64;
                let mut kept = 0;
                for i in 0..self.heard_count {
                    if self.heard[i].frame >= pickup {
                        self.heard[kept] = self.heard[i];
                        kept += 1;
                    }
                }
                self.heard_count = kept;
                self.call_start = Some((ctx.start, ctx.samples_per_beat));
            } else if self.call_start.is_none() {
                // Trading began (or the turns changed length) in the middle of the
                // player's turn: it began that many bars ago.
                let bar = ctx.samples_per_beat * f64::from(ctx.beats);
                let start = ctx.start - f64::from(bar_in_turn) * bar;
                self.call_start = Some((start, ctx.samples_per_beat));
            }
            return;
        }
        if bar_in_turn == 0 {
            self.answer_count = 0;
            if let Some(call_start) = self.call_start.take() {
                self.answer_the_call(call_start, now, ctx.beats);
            }
            self.heard_count = 0;
        }
        let first = (bar_in_turn * ctx.beats) as f32;
        let last = first + ctx.beats as f32;
        let mode = ctx.slot.mode.pitch_classes();
        let swing = ctx.swing.min(HORN_SWING);
        for i in 0..self.answer_count {
            let note = self.answer[i];
            if !(first..last).contains(&note.beat) {
                continue;
            }
            let key = fit_to_mode(note.key, mode);
            let offset = self.timing.timing_ms();
            let on = ctx.time(note.beat - first, swing, offset);
            let off = ctx.time(note.beat - first + note.beats, swing, offset);
            queue.push(
                on,
                Sound::Horn(HornNote {
                    key,
                    velocity: note.velocity,
                    instrument: self.horn,
                }),
            );
            queue.push(off.max(on + 1), Sound::HornOff { key });
        }
    }

    /// Build the answer from the notes heard since `call_start` (frame, samples per
    /// beat) up to `now`.
    fn answer_the_call(&mut self, (start, spb): (f64, f64), now: u64, beats_per_bar: u32) {
        let turn_beats = (self.bars * beats_per_bar) as f32;
        let mut call = [CallNote::default(); CALL_NOTES];
        let mut count = 0;
        for heard in &self.heard[..self.heard_count] {
            let beat = ((heard.frame as f64 - start) / spb) as f32;
            if beat < -1.0 || beat >= turn_beats {
                continue;
            }
            let end = heard.end.unwrap_or(now);
            call[count] = CallNote {
                // An eighth-note grid: the horn places its notes on its own swing.
                beat: (beat * 2.0).round().max(0.0) / 2.0,
                beats: ((end as f64 - heard.frame as f64) / spb) as f32,
                key: heard.key,
                velocity: heard.velocity,
            };
            count += 1;
        }
        if count == 0 {
            return;
        }
        let call = &call[..count];
        let development = match self.timing.pick(4) {
            0 => Development::Sequence(if self.timing.maybe(0.5) { 1 } else { -1 }),
            1 => Development::Sequence(if self.timing.maybe(0.5) { 2 } else { -2 }),
            2 => Development::Inversion,
            _ => Development::Fragment,
        };
        // Displaced by an eighth or a beat, now and then.
        let shift = match self.timing.pick(4) {
            0 => 0.5,
            1 => 1.0,
            _ => 0.0,
        };
        let first_key = i32::from(call[0].key);
        let mut answer = [CallNote::default(); CALL_NOTES];
        let mut n = 0;
        let mut push = |note: CallNote, answer: &mut [CallNote; CALL_NOTES]| {
            if n < CALL_NOTES && note.beat < turn_beats - 0.5 {
                answer[n] = note;
                n += 1;
            }
        };
        match development {
            Development::Sequence(steps) => {
                for &note in call {
                    let key = (i32::from(note.key) + 2 * steps).clamp(0, 127) as u8;
                    push(
                        CallNote {
                            key,
                            beat: note.beat + shift,
                            ..note
                        },
                        &mut answer,
                    );
                }
            }
            Development::Inversion => {
                for &note in call {
                    let key = (2 * first_key - i32::from(note.key)).clamp(0, 127) as u8;
                    push(
                        CallNote {
                            key,
                            beat: note.beat + shift,
                            ..note
                        },
                        &mut answer,
                    );
                }
            }
            Development::Fragment => {
                let half = turn_beats / 2.0;
                for &note in call.iter().filter(|n| n.beat < half) {
                    push(
                        CallNote {
                            beat: note.beat + shift,
                            ..note
                        },
                        &mut answer,
                    );
                }
                for &note in call.iter().filter(|n| n.beat < half) {
                    let key = (i32::from(note.key) + 2).clamp(0, 127) as u8;
                    push(
                        CallNote {
                            key,
                            beat: note.beat + half + shift,
                            ..note
                        },
                        &mut answer,
                    );
                }
            }
        }
        let answer = &mut answer[..n];
        answer.sort_by(|a, b| a.beat.total_cmp(&b.beat));
        // The horn's register: the answer's middle near the middle of the horn.
        let middle = match self.horn {
            LeadInstrument::TenorSax => 60,
            _ => 69,
        };
        let mean = answer.iter().map(|a| i32::from(a.key)).sum::<i32>() / n.max(1) as i32;
        let octaves = ((middle - mean) as f32 / 12.0).round() as i32 * 12;
        for i in 0..n {
            // Legato: each note to the next, a breath before it.
            let next = answer.get(i + 1).map_or(f32::MAX, |b| b.beat);
            let note = &mut answer[i];
            note.key = (i32::from(note.key) + octaves).clamp(36, 96) as u8;
            // Every note ends half a beat before the turn does: the player's turn begins
            // in silence.
            let room = (next.min(turn_beats - 0.5) - note.beat) * 0.95;
            note.beats = note.beats.max(0.25).min(room).max(0.1);
            // Off-beats inside a run are ghosted, as a horn player swallows them.
            let offbeat = note.beat.fract() != 0.0;
            let in_run = next - note.beat <= 0.5;
            note.velocity = if offbeat && in_run && self.timing.maybe(0.5) {
                note.velocity * 0.55
            } else {
                note.velocity.max(0.45)
            };
        }
        self.answer[..n].copy_from_slice(answer);
        self.answer_count = n;
    }
}

/// `key` moved to the nearest tone of `mode` (down on a tie: toward the mode's lower
/// neighbour, as a resolution falls).
fn fit_to_mode(key: u8, mode: PitchClassSet) -> u8 {
    for distance in 0..7i32 {
        for step in [-distance, distance] {
            let candidate = i32::from(key) + step;
            if (0..=127).contains(&candidate)
                && mode.contains(PitchClass::from_midi(candidate as u8))
            {
                return candidate as u8;
            }
        }
    }
    key
}
