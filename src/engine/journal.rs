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
    /// late): a take has silence there, and what follows sits that much later. A driver
    /// may journal it a few cycles after `frame`, once it is sure: the entries of those
    /// cycles come before it in the journal.
    Missed { frame: u64, frames: u64 },
    /// A new arrangement (another preset or key) took over at `frame`: the form starts
    /// again from there. Entries before this one belong to the arrangement before.
    Loaded { frame: u64 },
    /// The block of `frames` from `frame` did not fit in the recorded mix's ring (the
    /// writer fell behind): the take has silence there.
    MixGap { frame: u64, frames: u64 },
    /// At `frame`, a playback was placed from `from` to `to` (or cut short to end there):
    /// those frames are the take played back, not part of it. Nothing of them is
    /// journaled and the recorded mix leaves them out; the band's next bar starts at `to`.
    Playback { frame: u64, from: u64, to: u64 },
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
            JournalEntry::Playback { frame, .. } => *frame,
        }
    }
}

/// The engine's frames on a take's time line, which leaves out the frames of playbacks
/// ([`JournalEntry::Playback`]): what the band played after one sits right after what it
/// played before.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TakeTime {
    /// Frames of the playbacks before the latest.
    left_out: u64,
    /// The latest playback's frames.
    latest: Option<(u64, u64)>,
}

impl TakeTime {
    /// Follow a journal entry (only playbacks move the time line).
    pub fn follow(&mut self, entry: &JournalEntry) {
        let JournalEntry::Playback { from, to, .. } = *entry else {
            return;
        };
        let to = to.max(from);
        match self.latest {
            // The same playback cut short.
            Some((latest_from, _)) if latest_from == from => {}
            Some((latest_from, latest_to)) => self.left_out += latest_to - latest_from,
            None => {}
        }
        self.latest = Some((from, to));
    }

    /// An engine frame on the take's time line. The band's first sounds after a
    /// playback, a little ahead of its bar line, land just before the splice.
    pub fn take_frame(&self, engine_frame: u64) -> u64 {
        let frame = match self.latest {
            Some((from, to)) if engine_frame >= from => engine_frame.saturating_sub(to - from),
            _ => engine_frame,
        };
        frame.saturating_sub(self.left_out)
    }

    /// A fractional engine frame (a bar line) on the take's time line.
    pub fn take_time(&self, engine_time: f64) -> f64 {
        let frame = engine_time.max(0.0).round() as u64;
        engine_time - (frame - self.take_frame(frame)) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_playback_and_its_cut_are_left_out_of_the_take() {
        let mut time = TakeTime::default();
        assert_eq!(time.take_frame(500), 500);
        time.follow(&JournalEntry::Playback {
            frame: 900,
            from: 1_000,
            to: 5_000,
        });
        assert_eq!(time.take_frame(999), 999);
        assert_eq!(time.take_frame(5_000), 1_000);
        // Cut short: it ends at 3 000.
        time.follow(&JournalEntry::Playback {
            frame: 1_500,
            from: 1_000,
            to: 3_000,
        });
        assert_eq!(time.take_frame(2_990), 990);
        assert_eq!(time.take_frame(3_000), 1_000);
        time.follow(&JournalEntry::Playback {
            frame: 6_000,
            from: 7_000,
            to: 8_000,
        });
        assert_eq!(time.take_frame(6_500), 4_500);
        assert_eq!(time.take_frame(8_000), 5_000);
        assert_eq!(time.take_time(8_000.25), 5_000.25);
    }
}
