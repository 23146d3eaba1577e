//! The engine's journal: everything that sounded, in the order it sounded, for the
//! threads that keep it (a take being recorded, the practice analysis, an offline render
//! writing MIDI). The audio thread pushes into a fixed ring and never waits: what does not
//! fit is counted in [`crate::engine::Telemetry::journal_lost`].

use crate::band::{BarLine, Sound};
use crate::engine::TimedInput;

/// Entries the ring holds between two reads: about a minute of a busy band at 300 BPM,
/// far more than a reader polling a few times a second needs.
pub const JOURNAL_CAPACITY: usize = 16_384;

/// One thing the engine did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum JournalEntry {
    /// The conductor laid out a bar (a beat and a little before it starts).
    Bar(BarLine),
    /// A band sound started at `frame` (muted players' sounds are not heard, so not
    /// journaled; nor are count-in clicks).
    Band { frame: u64, sound: Sound },
    /// The player's input took effect at `input.frame` (the engine's clock then).
    Played(TimedInput),
    /// The driver did not run the engine for `frames` before `frame` (the machine was
    /// late): a take has silence there, and what follows sits that much later.
    Missed { frame: u64, frames: u64 },
    /// A new arrangement (another preset or key) took over at `frame`: the form starts
    /// again from there. Entries before this one belong to the arrangement before.
    Loaded { frame: u64 },
    /// The block of `frames` from `frame` did not fit in the recorded mix's ring (the
    /// writer fell behind): the take has silence there.
    MixGap { frame: u64, frames: u64 },
}

impl JournalEntry {
    /// The engine frame the entry happens at.
    pub fn frame(&self) -> u64 {
        match self {
            JournalEntry::Bar(line) => line.start_frame(),
            JournalEntry::Band { frame, .. } => *frame,
            JournalEntry::Played(input) => input.frame,
            JournalEntry::MixGap { frame, .. } => *frame,
            JournalEntry::Loaded { frame } => *frame,
            JournalEntry::Missed { frame, .. } => *frame,
        }
    }
}
