//! A stretch of a take played back: the band's sounds and the player's input as the
//! journal kept them, played again by the engine's own voices from a bar line, in place
//! of the live band. It is the same accompaniment because it is the same notes: what the
//! players planned from the seed, with the tempo, key and mutes that were in force.
//!
//! Built off the audio thread ([`Playback::new`] allocates); the engine only reads it and
//! hands it back in [`crate::engine::EngineReturn::Playback`] to be dropped elsewhere.

use crate::band::{Arrangement, BarLine, Position, Sound};
use crate::engine::InputEvent;

/// Sounds this much before a bar line belong to it: the drummer plays ahead of the beat
/// and the players plan a bar this far before it starts.
pub const LEAD_IN_S: f64 = 0.05;

/// What a playback plays, its frames relative to beat 1 of its first bar.
#[derive(Clone, Debug)]
pub struct Playback {
    bars: Vec<BarLine>,
    band: Vec<(f64, Sound)>,
    player: Vec<(f64, InputEvent)>,
    /// Length from beat 1 of the first bar to the end of the last.
    length: f64,
    /// Where the engine plays it: beat 1 of the first bar on its clock, and the end.
    start: f64,
    end: u64,
    next_band: usize,
    next_player: usize,
    begun: bool,
    /// Lead keys the playback holds down, and whether its sustain pedal is down: let go
    /// when it ends.
    keys_down: [bool; 128],
    sustain: bool,
}

/// How far a playback has gone, for the console.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PlaybackProgress {
    /// Engine frames where it begins and ends.
    pub from: u64,
    pub to: u64,
    /// The bar sounding, counted from 0 at the first bar played back (0 before it
    /// begins), and how many there are.
    pub bar: u32,
    pub bars: u32,
    /// The take's bar (counted from its start) the playback begins with.
    pub first_bar: u64,
}

impl Playback {
    /// The bars `bars` (in order, contiguous) with the band's sounds and the player's
    /// input (frames on the same axis as the bar lines). Sounds from [`LEAD_IN_S`] before
    /// the first bar line to as long before the end are kept: those that belong to these
    /// bars. `None` without a bar.
    pub fn new(
        bars: Vec<BarLine>,
        band: &[(u64, Sound)],
        player: &[(u64, InputEvent)],
        sample_rate: f32,
    ) -> Option<Playback> {
        let first = *bars.first()?;
        let last = *bars.last()?;
        let origin = first.start;
        let lead_in = LEAD_IN_S * f64::from(sample_rate);
        let window = (origin - lead_in)..(last.end() - lead_in);
        let relative = |frame: u64| {
            let frame = frame as f64;
            window.contains(&frame).then_some(frame - origin)
        };
        let band = band
            .iter()
            .filter_map(|&(frame, sound)| relative(frame).map(|at| (at, sound)))
            .collect();
        let player = player
            .iter()
            .filter_map(|&(frame, event)| relative(frame).map(|at| (at, event)))
            .collect();
        let bars = bars
            .into_iter()
            .map(|line| BarLine {
                start: line.start - origin,
                ..line
            })
            .collect();
        Some(Playback {
            bars,
            band,
            player,
            length: last.end() - origin,
            start: 0.0,
            end: 0,
            next_band: 0,
            next_player: 0,
            begun: false,
            keys_down: [false; 128],
            sustain: false,
        })
    }

    /// Bars played back.
    pub fn bars(&self) -> &[BarLine] {
        &self.bars
    }

    /// Band sounds played back.
    pub fn band_sounds(&self) -> usize {
        self.band.len()
    }

    /// Player input played back, with its frame from beat 1 of the first bar.
    pub fn player(&self) -> &[(f64, InputEvent)] {
        &self.player
    }

    /// From beat 1 of the first bar to the end of the last, in frames.
    pub fn length(&self) -> f64 {
        self.length
    }

    /// Play it with beat 1 of its first bar at `start` on the engine's clock.
    pub(super) fn place(&mut self, start: f64) {
        self.start = start;
        self.end = (start + self.length).round() as u64;
    }

    pub(super) fn start_frame(&self) -> u64 {
        self.start.round().max(0.0) as u64
    }

    pub(super) fn end_frame(&self) -> u64 {
        self.end
    }

    /// End at the first of its bar lines at or after `frame` (its first, if it has not
    /// begun by then), if one comes before its end: the player asked it to stop. Returns
    /// the new end, exact (fractional) when it was cut.
    pub(super) fn cut_at_bar_after(&mut self, frame: u64) -> Option<f64> {
        let cut = self
            .bars
            .iter()
            .map(|line| self.start + line.start)
            .find(|&line| line.round() as u64 >= frame && line.round() as u64 <= self.end)?;
        self.end = cut.round() as u64;
        Some(cut)
    }

    /// End it at `frame` at the latest (the band was stopped or started again).
    pub(super) fn cut_now(&mut self, frame: u64) {
        self.end = self.end.min(frame);
    }

    /// Whether it begins at `now` (its first bar line or an earlier first sound is
    /// reached), marking it begun.
    pub(super) fn begins_at(&mut self, now: u64) -> bool {
        let first = self
            .next_time()
            .map_or(u64::MAX, |t| t.min(self.start_frame()));
        if self.begun || now < first.min(self.start_frame()) {
            return false;
        }
        self.begun = true;
        true
    }

    fn at(&self, relative: f64) -> u64 {
        (self.start + relative).round().max(0.0) as u64
    }

    /// The frame of the next sound or input it plays, if any before its end.
    pub(super) fn next_time(&self) -> Option<u64> {
        let band = self.band.get(self.next_band).map(|e| self.at(e.0));
        let player = self.player.get(self.next_player).map(|e| self.at(e.0));
        let next = match (band, player) {
            (Some(b), Some(p)) => b.min(p),
            (b, p) => b.or(p)?,
        };
        (next < self.end).then_some(next)
    }

    /// The next band sound due by `now`.
    pub(super) fn pop_band(&mut self, now: u64) -> Option<Sound> {
        let &(at, sound) = self.band.get(self.next_band)?;
        let at = self.at(at);
        if at > now || at >= self.end {
            return None;
        }
        self.next_band += 1;
        Some(sound)
    }

    /// The next player input due by `now`, noting what it holds down.
    pub(super) fn pop_player(&mut self, now: u64) -> Option<InputEvent> {
        let &(at, event) = self.player.get(self.next_player)?;
        let at = self.at(at);
        if at > now || at >= self.end {
            return None;
        }
        self.next_player += 1;
        match event {
            InputEvent::NoteOn { key, .. } => self.keys_down[usize::from(key.min(127))] = true,
            InputEvent::NoteOff { key } => self.keys_down[usize::from(key.min(127))] = false,
            InputEvent::Sustain(down) => self.sustain = down,
            InputEvent::AllNotesOff | InputEvent::AllSoundOff => {
                self.keys_down = [false; 128];
            }
            _ => {}
        }
        Some(event)
    }

    /// The keys it still holds, and whether its pedal is down, to let go at its end.
    pub(super) fn take_held(&mut self) -> ([bool; 128], bool) {
        (
            std::mem::replace(&mut self.keys_down, [false; 128]),
            std::mem::take(&mut self.sustain),
        )
    }

    /// The bar sounding at `now` (the first before it begins, the last after it ends).
    fn bar_at(&self, now: u64) -> usize {
        let relative = now as f64 - self.start;
        self.bars
            .iter()
            .rposition(|line| line.start <= relative)
            .unwrap_or(0)
    }

    /// Where the music played back is at `now`, as the conductor would say it.
    pub(super) fn position(&self, now: u64, arrangement: &Arrangement) -> Position {
        let index = self.bar_at(now);
        let line = self.bars[index];
        let next_form_bar = self
            .bars
            .get(index + 1)
            .map_or(line.form_bar + 1, |next| next.form_bar);
        let beat = ((now as f64 - self.start - line.start) / line.samples_per_beat) as f32;
        Position {
            bar: line.index,
            beat: beat.clamp(0.0, line.beats as f32 - 1e-3),
            slot: arrangement.slot_index_at(u64::from(line.form_bar)),
            form_bar: line.form_bar,
            next_form_bar: next_form_bar % arrangement.form_bars.max(1),
            key_shift: line.key_shift,
            ramp_passes: 0,
            tempo: line.tempo,
        }
    }

    pub(super) fn progress(&self, now: u64) -> PlaybackProgress {
        let first_bar = self.bars.first().map_or(0, |line| line.index);
        PlaybackProgress {
            from: self.start_frame(),
            to: self.end,
            bar: if self.begun {
                self.bar_at(now) as u32
            } else {
                0
            },
            bars: self.bars.len() as u32,
            first_bar,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(index: u64, start: f64) -> BarLine {
        BarLine {
            index,
            form_bar: index as u32,
            start,
            samples_per_beat: 24_000.0,
            beats: 4,
            tempo: 120.0,
            key_shift: 0,
        }
    }

    fn note(key: u8) -> InputEvent {
        InputEvent::NoteOn { key, velocity: 0.5 }
    }

    #[test]
    fn it_keeps_what_belongs_to_its_bars_and_plays_it_from_where_it_is_placed() {
        let bars = vec![bar(4, 384_000.0), bar(5, 480_000.0)];
        let player = [
            (383_000, note(60)),         // a pickup 21 ms early: belongs to bar 4
            (300_000, note(61)),         // an earlier bar
            (576_000 - 1_000, note(62)), // early on the bar after: not played back
            (500_000, note(63)),
        ];
        let mut playback = Playback::new(bars, &[], &player, 48_000.0).unwrap();
        let keys: Vec<u8> = playback
            .player()
            .iter()
            .map(|(_, e)| match e {
                InputEvent::NoteOn { key, .. } => *key,
                _ => 0,
            })
            .collect();
        assert_eq!(keys, [60, 63]);
        assert_eq!(playback.length(), 192_000.0);
        playback.place(1_000_000.0);
        assert_eq!(playback.next_time(), Some(999_000));
        assert_eq!(playback.pop_player(999_000), Some(note(60)));
        assert_eq!(playback.next_time(), Some(1_116_000));
        assert_eq!(playback.pop_player(1_115_999), None);
        assert_eq!(playback.end_frame(), 1_192_000);
        assert_eq!(playback.cut_at_bar_after(1_000_001), Some(1_096_000.0));
        assert_eq!(playback.end_frame(), 1_096_000);
        assert_eq!(playback.next_time(), None);
        assert!(playback.take_held().0[60]);
    }
}
