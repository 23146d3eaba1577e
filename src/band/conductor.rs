//! The conductor: tempo, meter and form. It turns the engine's sample clock into bars
//! and beats and asks the players for each bar one beat before it starts.

use super::Arrangement;
use super::ChordSlot;
use crate::preset::TEMPO_RANGE;

/// Where the music is at a sample.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Position {
    /// Bars since the start (0-based), not wrapped by the form.
    pub bar: u64,
    /// Beat within the bar, 0-based, with its fraction.
    pub beat: f32,
    /// Index of the chord slot sounding.
    pub slot: usize,
}

/// A bar as the conductor laid it out: where it starts on the engine's clock and at what
/// tempo. The tempo map of a render or a take is the list of these; the practice analysis
/// and the MIDI files are built on it.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BarLine {
    /// Bars since the start (0-based), not wrapped by the form.
    pub index: u64,
    /// The bar of the form it plays (0-based).
    pub form_bar: u32,
    /// Sample time of beat 1 (fractional, as the players place their notes).
    pub start: f64,
    pub samples_per_beat: f64,
    pub beats: u32,
    /// Tempo in BPM.
    pub tempo: f32,
}

impl BarLine {
    /// The frame of beat 1, rounded as the players round their notes.
    pub fn start_frame(&self) -> u64 {
        self.start.max(0.0).round() as u64
    }

    /// Where the next bar starts if the tempo holds.
    pub fn end(&self) -> f64 {
        self.start + self.samples_per_beat * f64::from(self.beats)
    }
}

/// Everything a player needs to plan one bar.
#[derive(Clone, Copy, Debug)]
pub struct BarContext<'a> {
    /// Bars since the start, not wrapped.
    pub bar: u64,
    /// Sample time of beat 1 (fractional: tempo rarely divides the sample rate).
    pub start: f64,
    pub samples_per_beat: f64,
    pub beats: u32,
    pub swing: f32,
    pub sample_rate: f32,
    pub slot: &'a ChordSlot,
    /// Bar index within the slot.
    pub bar_in_slot: u32,
    /// The slot of the next bar (the same slot unless the chord changes).
    pub next_slot: &'a ChordSlot,
    pub arrangement: &'a Arrangement,
}

impl BarContext<'_> {
    /// This bar on the tempo map.
    pub fn line(&self) -> BarLine {
        BarLine {
            index: self.bar,
            form_bar: (self.bar % u64::from(self.arrangement.form_bars.max(1))) as u32,
            start: self.start,
            samples_per_beat: self.samples_per_beat,
            beats: self.beats,
            tempo: (f64::from(self.sample_rate) * 60.0 / self.samples_per_beat) as f32,
        }
    }

    /// First bar of a chord.
    pub fn chord_starts(&self) -> bool {
        self.bar_in_slot == 0
    }

    /// Last bar before the chord changes (or the form loops).
    pub fn chord_ends(&self) -> bool {
        self.bar_in_slot + 1 == self.slot.bars
    }

    /// Last bar of a section: time for a fill.
    pub fn section_ends(&self) -> bool {
        self.chord_ends() && self.slot.ends_section
    }

    /// Sample time of a musical position in this bar: `beat` counted from 0, where a
    /// fraction of 0.5 is the swung eighth (placed at r/(r+1) of the beat for a swing
    /// ratio r), plus `offset_ms`. Never negative.
    pub fn time(&self, beat: f32, swing: f32, offset_ms: f32) -> u64 {
        let whole = beat.floor();
        let frac = beat - whole;
        let long = swing / (1.0 + swing);
        let swung = if frac <= 0.5 {
            frac * 2.0 * long
        } else {
            long + (frac - 0.5) * 2.0 * (1.0 - long)
        };
        let t = self.start
            + (whole + swung) as f64 * self.samples_per_beat
            + offset_ms as f64 * 0.001 * self.sample_rate as f64;
        t.max(0.0).round() as u64
    }

    /// A length in beats as samples.
    pub fn samples(&self, beats: f32) -> u32 {
        (beats as f64 * self.samples_per_beat).max(1.0) as u32
    }
}

/// Keeps the time. Tempo changes take effect at the next bar line.
pub struct Conductor {
    sample_rate: f32,
    tempo: f32,
    next_tempo: f32,
    /// The next bar to plan and its start sample.
    next_bar: u64,
    next_bar_start: f64,
    /// Recently planned bars: (bar, start, samples per beat), for position queries.
    recent: [(u64, f64, f64); 4],
}

impl Conductor {
    pub fn new(sample_rate: f32, tempo: f32) -> Self {
        Self {
            sample_rate,
            tempo,
            next_tempo: tempo,
            next_bar: 0,
            next_bar_start: 0.0,
            recent: [(0, 0.0, Self::spb(sample_rate, tempo)); 4],
        }
    }

    fn spb(sample_rate: f32, tempo: f32) -> f64 {
        sample_rate as f64 * 60.0 / tempo as f64
    }

    /// Ask for a new tempo from the next bar line on.
    pub fn set_tempo(&mut self, bpm: f32) {
        self.next_tempo = bpm.clamp(*TEMPO_RANGE.start(), *TEMPO_RANGE.end());
    }

    pub fn tempo(&self) -> f32 {
        self.tempo
    }

    /// The tempo from the next bar line on.
    pub fn next_tempo(&self) -> f32 {
        self.next_tempo
    }

    /// Start the form again from bar 1 at sample `at`.
    pub fn restart(&mut self, at: u64) {
        self.restart_at_bar(at, 0);
    }

    /// Start bar `bar` (counted from the top of the form, may exceed one pass) at sample
    /// `at`: a session that resumes where it was.
    pub fn restart_at_bar(&mut self, at: u64, bar: u64) {
        self.next_bar = bar;
        self.next_bar_start = at as f64;
        self.recent = [(bar, at as f64, Self::spb(self.sample_rate, self.tempo)); 4];
    }

    /// Whether the next bar must be planned before sample `horizon` is rendered: players
    /// plan a bar one beat (and a little) before it starts, so early drum notes and
    /// piano anticipations are never late.
    pub fn needs_planning(&self, horizon: u64) -> bool {
        let lookahead =
            Self::spb(self.sample_rate, self.next_tempo) + 0.05 * self.sample_rate as f64;
        self.next_bar_start - lookahead < horizon as f64
    }

    /// Advance to the next bar and describe it for the players.
    pub fn next_bar<'a>(&mut self, arrangement: &'a Arrangement) -> BarContext<'a> {
        self.tempo = self.next_tempo;
        let samples_per_beat = Self::spb(self.sample_rate, self.tempo);
        let bar = self.next_bar;
        let start = self.next_bar_start;
        let (slot, bar_in_slot) = arrangement.slot_at(bar);
        let (next_slot, _) = arrangement.slot_at(bar + 1);
        self.recent.rotate_left(1);
        self.recent[3] = (bar, start, samples_per_beat);
        self.next_bar += 1;
        self.next_bar_start = start + samples_per_beat * arrangement.beats_per_bar as f64;
        BarContext {
            bar,
            start,
            samples_per_beat,
            beats: arrangement.beats_per_bar,
            swing: arrangement.swing,
            sample_rate: self.sample_rate,
            slot,
            bar_in_slot,
            next_slot,
            arrangement,
        }
    }

    /// The musical position at sample `now` (among the bars already planned).
    pub fn position(&self, now: u64, arrangement: &Arrangement) -> Position {
        let now = now as f64;
        let (bar, start, spb) = self
            .recent
            .iter()
            .rev()
            .find(|(_, start, _)| *start <= now)
            .copied()
            .unwrap_or(self.recent[0]);
        let beat =
            (((now - start) / spb) as f32).clamp(0.0, arrangement.beats_per_bar as f32 - 1e-3);
        Position {
            bar,
            beat,
            slot: arrangement.slot_index_at(bar),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tempo_asked_for_stays_within_the_presets_range() {
        let mut conductor = Conductor::new(48_000.0, 120.0);
        conductor.set_tempo(1_000.0);
        assert_eq!(conductor.next_tempo(), *TEMPO_RANGE.end());
        conductor.set_tempo(1.0);
        assert_eq!(conductor.next_tempo(), *TEMPO_RANGE.start());
        conductor.set_tempo(200.0);
        assert_eq!(conductor.next_tempo(), 200.0);
    }
}
