//! The take in memory: what the engine journaled since the take began (its bar lines,
//! the band's sounds, the player's input), on the take's time line, from which the
//! console's `p` and `P` build a [`Playback`].

use crate::band::{BarLine, Sound};
use crate::engine::journal::{JournalEntry, TakeTime};
use crate::engine::{InputEvent, Playback};
use crate::practice::{BeatGrid, PracticeLog, phrase_spans};

/// Band sounds and player input a tape holds before it forgets its older half: hours of
/// a busy band, a few tens of megabytes.
const TAPE_CAPACITY: usize = 1_000_000;

/// What to play back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaybackScope {
    /// The bars of the player's last phrase.
    LastPhrase,
    /// The whole take, from its first bar.
    WholeTake,
}

/// Why nothing can be played back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NothingToPlay {
    #[error("nothing played in this take yet")]
    NotPlayed,
    #[error("no bar of this take has ended yet")]
    NoBar,
}

/// The stretch of bars a playback takes, before it is built.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TapeStretch {
    /// Indices into the tape's bar lines, first and last included.
    first: usize,
    last: usize,
    /// Frame (on the take's line) where the last bar ends: the stretch is complete once
    /// the journal reaches it.
    pub ends_at: f64,
    /// The tape's take it belongs to.
    generation: u64,
}

impl TapeStretch {
    /// Its first and last bars, counted from the start of the take (0-based).
    pub fn bars(&self, bars: &[BarLine]) -> (u64, u64) {
        let index = |i: usize| bars.get(i).map_or(0, |b| b.index);
        let start = bars.first().map_or(0, |b| b.index);
        (index(self.first) - start, index(self.last) - start)
    }
}

#[derive(Default)]
pub struct Tape {
    time: TakeTime,
    bars: Vec<BarLine>,
    band: Vec<(u64, Sound)>,
    player: Vec<(u64, InputEvent)>,
    notes: PracticeLog,
    /// The newest frame journaled, on the take's line.
    clock: u64,
    /// Takes forgotten so far: a stretch of one is not played on another.
    generation: u64,
}

impl Tape {
    /// Forget everything: a new take, or a new engine's clock.
    pub fn clear(&mut self) {
        *self = Tape {
            generation: self.generation + 1,
            ..Tape::default()
        };
    }

    /// One journal entry, in journal order.
    pub fn record(&mut self, entry: &JournalEntry) {
        self.time.follow(entry);
        let at = |frame: u64| self.time.take_frame(frame);
        match *entry {
            // A new form: the take before it is over.
            JournalEntry::Loaded { .. } => {
                self.clear();
                return;
            }
            JournalEntry::Bar(line) => {
                let line = BarLine {
                    start: self.time.take_time(line.start),
                    ..line
                };
                self.bars.push(line);
                self.notes.record(&JournalEntry::Bar(line));
            }
            JournalEntry::Band { frame, sound } => {
                self.clock = self.clock.max(at(frame));
                self.band.push((at(frame), sound));
            }
            JournalEntry::Played(input) => {
                let frame = at(input.frame);
                self.clock = self.clock.max(frame);
                self.player.push((frame, input.event));
                self.notes
                    .record(&JournalEntry::Played(crate::engine::TimedInput {
                        frame,
                        event: input.event,
                    }));
            }
            JournalEntry::MixGap { .. }
            | JournalEntry::Missed { .. }
            | JournalEntry::Playback { .. } => {}
        }
        if self.band.len() + self.player.len() > TAPE_CAPACITY {
            self.forget_older_half();
        }
    }

    fn forget_older_half(&mut self) {
        let Some(middle) = self.bars.get(self.bars.len() / 2).map(|b| b.start) else {
            return;
        };
        let keep = |frame: u64| frame as f64 >= middle;
        self.bars.retain(|b| b.start >= middle);
        self.band.retain(|e| keep(e.0));
        self.player.retain(|e| keep(e.0));
        let mut notes = PracticeLog::new();
        for line in &self.bars {
            notes.record(&JournalEntry::Bar(*line));
        }
        for &(frame, event) in &self.player {
            notes.record(&JournalEntry::Played(crate::engine::TimedInput {
                frame,
                event,
            }));
        }
        self.notes = notes;
    }

    /// Bar lines kept, on the take's line.
    pub fn bars(&self) -> &[BarLine] {
        &self.bars
    }

    /// The bars to play back for `scope`, as of engine frame `now` (the newest the
    /// journal is complete to).
    pub fn stretch(
        &self,
        scope: PlaybackScope,
        now: u64,
        sample_rate: f32,
    ) -> Result<TapeStretch, NothingToPlay> {
        let now = self.time.take_frame(now).max(self.clock);
        let bar_of = |frame: f64| self.bars.iter().rposition(|b| b.start <= frame);
        let stretch = |first: usize, last: usize| TapeStretch {
            first,
            last,
            ends_at: self.bars[last].end(),
            generation: self.generation,
        };
        match scope {
            PlaybackScope::WholeTake => {
                let last = self
                    .bars
                    .iter()
                    .rposition(|b| b.end() <= now as f64)
                    .ok_or(NothingToPlay::NoBar)?;
                Ok(stretch(0, last))
            }
            PlaybackScope::LastPhrase => {
                let grid = BeatGrid::from_bar_lines(f64::from(sample_rate), &self.bars, 1.0)
                    .ok_or(NothingToPlay::NoBar)?;
                let &(start, end) = phrase_spans(self.notes.notes(), &grid, now)
                    .last()
                    .ok_or(NothingToPlay::NotPlayed)?;
                let first = bar_of(start).unwrap_or(0);
                // The bar the phrase's last note ends in (a note let go on a bar line
                // ends the bar before).
                let last = bar_of((end - 1.0).max(start)).unwrap_or(first);
                Ok(stretch(first, last.max(first)))
            }
        }
    }

    /// The playback of a stretch: its bars with the band's sounds and the player's input.
    pub fn playback(&self, stretch: TapeStretch, sample_rate: f32) -> Option<Playback> {
        if stretch.generation != self.generation {
            return None;
        }
        let bars = self.bars.get(stretch.first..=stretch.last)?.to_vec();
        Playback::new(bars, &self.band, &self.player, sample_rate)
    }

    /// Whether the journal has reached `frame` of the take's line.
    pub fn reached(&self, engine_frame: u64, take_frame: f64) -> bool {
        self.time.take_frame(engine_frame).max(self.clock) as f64 >= take_frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::TimedInput;

    const SPB: f64 = 24_000.0;

    fn bar(index: u64) -> JournalEntry {
        JournalEntry::Bar(BarLine {
            index,
            form_bar: index as u32,
            start: index as f64 * 4.0 * SPB,
            samples_per_beat: SPB,
            beats: 4,
            tempo: 120.0,
            key_shift: 0,
        })
    }

    fn played(beat: f64, event: InputEvent) -> JournalEntry {
        JournalEntry::Played(TimedInput {
            frame: (beat * SPB) as u64,
            event,
        })
    }

    fn note(tape: &mut Tape, beat: f64, key: u8) {
        tape.record(&played(beat, InputEvent::NoteOn { key, velocity: 0.5 }));
        tape.record(&played(beat + 0.5, InputEvent::NoteOff { key }));
    }

    #[test]
    fn the_last_phrase_is_the_bars_it_sounds_in() {
        let mut tape = Tape::default();
        for i in 0..8 {
            tape.record(&bar(i));
        }
        // A phrase in bars 2 and 3, a rest, then one in bars 5 and 6.
        for beat in [5.0, 6.0, 7.0, 8.0, 9.0] {
            note(&mut tape, beat, 62);
        }
        for beat in [21.0, 22.0, 23.0, 24.0, 25.0] {
            note(&mut tape, beat, 65);
        }
        let now = (32.0 * SPB) as u64;
        let last = tape
            .stretch(PlaybackScope::LastPhrase, now, 48_000.0)
            .unwrap();
        assert_eq!((last.first, last.last), (5, 6));
        assert_eq!(last.ends_at, 28.0 * SPB);
        let whole = tape
            .stretch(PlaybackScope::WholeTake, now, 48_000.0)
            .unwrap();
        assert_eq!((whole.first, whole.last), (0, 7));
        let playback = tape.playback(last, 48_000.0).unwrap();
        assert_eq!(playback.bars().len(), 2);
        assert_eq!(playback.player().len(), 10);
        assert_eq!(playback.player()[0].0, SPB);
    }

    #[test]
    fn nothing_played_is_said() {
        let mut tape = Tape::default();
        tape.record(&bar(0));
        assert_eq!(
            tape.stretch(PlaybackScope::LastPhrase, 200_000, 48_000.0),
            Err(NothingToPlay::NotPlayed)
        );
        assert_eq!(
            Tape::default().stretch(PlaybackScope::WholeTake, 0, 48_000.0),
            Err(NothingToPlay::NoBar)
        );
    }
}
