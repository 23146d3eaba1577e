//! What the analysis reads from the engine's journal: the player's notes, each from the
//! frame it started to the frame it stopped sounding, and the bars they were played
//! over. Fed entry by entry, live (the console) and offline (a render's journal) alike.

use crate::band::BarLine;
use crate::engine::journal::JournalEntry;
use crate::engine::{InputEvent, TimedInput};

/// One note the player played.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlayedNote {
    pub key: u8,
    pub velocity: f32,
    /// Engine frame of the note-on.
    pub on: u64,
    /// When it stopped sounding as the lead voice holds it: the note-off, or with the
    /// sustain pedal down the pedal's release (or the key struck again). `None` while it
    /// sounds.
    pub off: Option<u64>,
}

impl PlayedNote {
    /// The note's end, or `now` while it still sounds.
    pub fn end(&self, now: u64) -> u64 {
        self.off.unwrap_or(now).max(self.on)
    }
}

/// The player's notes and the tempo map, as the journal tells them.
#[derive(Clone, Debug, Default)]
pub struct PracticeLog {
    notes: Vec<PlayedNote>,
    bars: Vec<BarLine>,
    /// For each key, the note of `notes` it sounds, if any.
    sounding: Vec<Option<usize>>,
    /// Keys let go while the pedal was down: they sound until it comes up.
    sustained: Vec<bool>,
    pedal: bool,
    /// The engine's clock as far as the journal has shown it (played and band entries
    /// come in clock order).
    clock: u64,
    /// Added to every frame: an engine that replaced a lost one counts from 0 again, and
    /// its entries go after the old one's.
    offset: u64,
}

impl PracticeLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// The player's notes, in the order they started.
    pub fn notes(&self) -> &[PlayedNote] {
        &self.notes
    }

    /// The bars laid out, in the order the conductor laid them out.
    pub fn bar_lines(&self) -> &[BarLine] {
        &self.bars
    }

    /// The latest engine frame the journal has shown (with the log's own offset).
    pub fn clock(&self) -> u64 {
        self.clock
    }

    /// An engine frame as the log counts it (the same, unless an engine was replaced).
    pub fn log_frame(&self, engine_frame: u64) -> u64 {
        engine_frame + self.offset
    }

    /// Whether nothing was played.
    pub fn is_empty(&self) -> bool {
        self.notes.is_empty()
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// One journal entry, in the order the engine wrote them. Returns whether the log
    /// changed (band notes only move the clock).
    pub fn record(&mut self, entry: &JournalEntry) -> bool {
        // The analysis is on the engine's clock, which a missed cycle does not move (and
        // which a driver journals a few cycles late, behind the clock).
        if matches!(entry, JournalEntry::Missed { .. }) {
            return false;
        }
        let frame = entry.frame();
        // Played and band entries follow the engine's clock; a bar line is laid out a
        // little ahead of it, never behind. Anything behind is a new engine's clock.
        if frame + self.offset < self.clock {
            self.offset = self.clock + 1 - frame.min(self.clock + 1);
        }
        let frame = frame + self.offset;
        match entry {
            JournalEntry::Bar(line) => {
                let mut line = *line;
                line.start += self.offset as f64;
                self.bars.push(line);
                true
            }
            // The analysis is on the engine's clock, which a mix left out of a take does
            // not move; a new arrangement is the console's to follow.
            JournalEntry::Band { .. }
            | JournalEntry::MixGap { .. }
            | JournalEntry::Missed { .. }
            | JournalEntry::Loaded { .. }
            | JournalEntry::Playback { .. } => {
                self.clock = self.clock.max(frame);
                false
            }
            JournalEntry::Played(TimedInput { event, .. }) => {
                self.clock = self.clock.max(frame);
                self.play(frame, *event)
            }
        }
    }

    fn play(&mut self, frame: u64, event: InputEvent) -> bool {
        if self.sounding.is_empty() {
            self.sounding = vec![None; 128];
            self.sustained = vec![false; 128];
        }
        match event {
            InputEvent::NoteOn { key, velocity } => {
                let key = key.min(127);
                self.end(key, frame);
                self.sounding[usize::from(key)] = Some(self.notes.len());
                self.notes.push(PlayedNote {
                    key,
                    velocity,
                    on: frame,
                    off: None,
                });
            }
            InputEvent::NoteOff { key } => {
                let key = key.min(127);
                if self.pedal {
                    self.sustained[usize::from(key)] = self.sounding[usize::from(key)].is_some();
                } else {
                    self.end(key, frame);
                }
            }
            InputEvent::Sustain(down) => {
                self.pedal = down;
                if !down {
                    for key in 0..128u8 {
                        if std::mem::take(&mut self.sustained[usize::from(key)]) {
                            self.end(key, frame);
                        }
                    }
                }
                return false;
            }
            // The lead voice lets every note go on these (a program change too).
            InputEvent::AllNotesOff | InputEvent::AllSoundOff | InputEvent::Program(_) => {
                for key in 0..128u8 {
                    self.end(key, frame);
                }
            }
            InputEvent::PitchBend(_) | InputEvent::Modulation(_) => return false,
        }
        true
    }

    fn end(&mut self, key: u8, frame: u64) {
        self.sustained[usize::from(key)] = false;
        if let Some(i) = self.sounding[usize::from(key)].take() {
            self.notes[i].off = Some(frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn played(frame: u64, event: InputEvent) -> JournalEntry {
        JournalEntry::Played(TimedInput { frame, event })
    }

    fn on(frame: u64, key: u8) -> JournalEntry {
        played(frame, InputEvent::NoteOn { key, velocity: 0.8 })
    }

    fn off(frame: u64, key: u8) -> JournalEntry {
        played(frame, InputEvent::NoteOff { key })
    }

    #[test]
    fn notes_last_from_key_down_to_key_up_or_to_the_pedal_coming_up() {
        let mut log = PracticeLog::new();
        for entry in [
            on(100, 62),
            off(200, 62),
            played(250, InputEvent::Sustain(true)),
            on(300, 65),
            off(400, 65),
            on(450, 69),
            played(500, InputEvent::Sustain(false)),
            on(600, 69),
            on(700, 72),
            played(800, InputEvent::AllNotesOff),
        ] {
            log.record(&entry);
        }
        let spans: Vec<(u8, u64, Option<u64>)> =
            log.notes().iter().map(|n| (n.key, n.on, n.off)).collect();
        assert_eq!(
            spans,
            [
                (62, 100, Some(200)),
                // Let go under the pedal: sounds until it comes up.
                (65, 300, Some(500)),
                // Still held when the pedal came up; struck again at 600.
                (69, 450, Some(600)),
                (69, 600, Some(800)),
                (72, 700, Some(800)),
            ]
        );
        assert_eq!(log.clock(), 800);
    }

    #[test]
    fn a_new_engine_counting_from_zero_goes_after_the_old_one() {
        let mut log = PracticeLog::new();
        log.record(&on(48_000, 62));
        log.record(&off(96_000, 62));
        // The replacement's clock starts again.
        log.record(&on(10, 64));
        log.record(&off(20, 64));
        let notes = log.notes();
        assert!(notes[1].on > notes[0].off.unwrap());
        assert_eq!(notes[1].off.unwrap() - notes[1].on, 10);
        assert_eq!(log.log_frame(20), notes[1].off.unwrap());
    }
}
