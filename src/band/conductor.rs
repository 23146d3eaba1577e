//! The conductor: tempo, meter and form. It turns the engine's sample clock into bars
//! and beats and asks the players for each bar one beat before it starts.

use super::trainer::{PassPoint, TempoRamp, Trainer};
use super::{Arrangement, ChordSlot};
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
    /// The bar of the form sounding (0-based): `bar` wrapped by the form, unless a loop
    /// repeats a stretch of it.
    pub form_bar: u32,
    /// The form bar after it (the loop's first at the loop's end).
    pub next_form_bar: u32,
    /// Semitones above the arrangement's key the band plays in (the key cycle), 0 … 11.
    pub key_shift: u8,
    /// Passes completed since the tempo ramp began counting.
    pub ramp_passes: u32,
    /// The bar's tempo in BPM.
    pub tempo: f32,
}

impl Position {
    /// Beat `beat` of bar `bar` (not wrapped) of `arrangement` played straight through
    /// the form, in its own key and tempo.
    pub fn in_form(arrangement: &Arrangement, bar: u64, beat: f32) -> Position {
        let form_bars = u64::from(arrangement.form_bars.max(1));
        Position {
            bar,
            beat,
            slot: arrangement.slot_index_at(bar),
            form_bar: (bar % form_bars) as u32,
            next_form_bar: ((bar + 1) % form_bars) as u32,
            key_shift: 0,
            ramp_passes: 0,
            tempo: arrangement.tempo,
        }
    }

    /// Where the trainer stood in this bar.
    pub fn pass_point(&self) -> PassPoint {
        PassPoint {
            form_bar: self.form_bar,
            key_shift: self.key_shift,
            ramp_passes: self.ramp_passes,
            starts_pass: false,
        }
    }
}

/// A bar as the conductor laid it out: where it starts on the engine's clock and at what
/// tempo. The tempo map of a render or a take is the list of these; the practice analysis
/// and the MIDI files are built on it.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BarLine {
    /// Bars since the start (0-based), not wrapped by the form.
    pub index: u64,
    /// The bar of the form it plays (0-based): with a loop, a bar of the loop.
    pub form_bar: u32,
    /// Sample time of beat 1 (fractional, as the players place their notes).
    pub start: f64,
    pub samples_per_beat: f64,
    pub beats: u32,
    /// Tempo in BPM.
    pub tempo: f32,
    /// Semitones above the arrangement's key the bar is played in (the key cycle).
    #[serde(default)]
    pub key_shift: u8,
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
    /// The bar of the form played (0-based).
    pub form_bar: u32,
    /// Semitones above the arrangement's key (the key cycle); `slot` and `next_slot` are
    /// already moved there.
    pub key_shift: u8,
    /// Sample time of beat 1 (fractional: tempo rarely divides the sample rate).
    pub start: f64,
    pub samples_per_beat: f64,
    pub beats: u32,
    pub swing: f32,
    pub sample_rate: f32,
    /// The chord slot of this bar, in the key played (a copy: a key cycle moves it).
    pub slot: ChordSlot,
    /// Bar index within the slot.
    pub bar_in_slot: u32,
    /// The slot of the next bar (the same slot unless the chord changes), in its key.
    pub next_slot: ChordSlot,
    /// Whether the bar before went on with this chord (false: it starts here).
    continues_chord: bool,
    /// Whether the next bar goes on with this chord.
    chord_goes_on: bool,
    /// Whether the next bar starts a new pass of the form or of the loop.
    pub pass_ends: bool,
    /// What the band heard of the soloist in the bar before this one is planned; `None`
    /// when it plays on its own (not listening, nothing played yet, a long rest).
    pub soloist: Option<super::Soloist>,
    pub arrangement: &'a Arrangement,
}

impl BarContext<'_> {
    /// This bar on the tempo map.
    pub fn line(&self) -> BarLine {
        BarLine {
            index: self.bar,
            form_bar: self.form_bar,
            start: self.start,
            samples_per_beat: self.samples_per_beat,
            beats: self.beats,
            tempo: (f64::from(self.sample_rate) * 60.0 / self.samples_per_beat) as f32,
            key_shift: self.key_shift,
        }
    }

    /// First bar of a chord (a loop that comes back to the middle of a chord starts it
    /// again there).
    pub fn chord_starts(&self) -> bool {
        !self.continues_chord
    }

    /// Last bar before the chord changes (or the form, or the loop, starts again).
    pub fn chord_ends(&self) -> bool {
        !self.chord_goes_on
    }

    /// Last bar of a section, or of a loop: time for a fill.
    pub fn section_ends(&self) -> bool {
        self.chord_ends() && (self.slot.ends_section || self.pass_ends)
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

/// A bar already planned, for position queries and for the bar after it.
#[derive(Clone, Copy, Debug, Default)]
struct PlannedBar {
    bar: u64,
    start: f64,
    samples_per_beat: f64,
    tempo: f32,
    point: PassPoint,
    next_form_bar: u32,
}

/// Where the next bar to plan comes from.
#[derive(Clone, Copy, Debug)]
enum NextBar {
    /// The bar after the last one planned.
    Follows,
    /// Bar `bar` (counted from the top of the form, may exceed one pass), or the loop's
    /// first if that bar is not in the loop: a start or a restart.
    StartsAt(u64),
    /// The bar after one heard before (an engine that replaces a lost one).
    After(PassPoint),
}

/// Keeps the time, the form and the trainer. Tempo changes take effect at the next bar
/// line; so do a loop's start and end, a ramp's steps and a key cycle's moves.
pub struct Conductor {
    sample_rate: f32,
    tempo: f32,
    next_tempo: f32,
    /// The next bar to plan and its start sample.
    next_bar: u64,
    next_bar_start: f64,
    next_kind: NextBar,
    trainer: Trainer,
    /// The ramp was switched on: its passes count from the next bar.
    ramp_restarts: bool,
    /// Recently planned bars, oldest first: for position queries; the last is the one the
    /// next bar follows.
    recent: [PlannedBar; 4],
}

impl Conductor {
    pub fn new(sample_rate: f32, tempo: f32) -> Self {
        let mut conductor = Self {
            sample_rate,
            tempo,
            next_tempo: tempo,
            next_bar: 0,
            next_bar_start: 0.0,
            next_kind: NextBar::StartsAt(0),
            trainer: Trainer::default(),
            ramp_restarts: false,
            recent: [PlannedBar::default(); 4],
        };
        conductor.restart(0);
        conductor
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

    /// The loop, ramp and key cycle in force.
    pub fn trainer(&self) -> Trainer {
        self.trainer
    }

    /// Loop, ramp and key cycle from the next bar line on. A ramp switched on counts its
    /// passes from there; a key cycle switched off leaves the band in the key it reached.
    pub fn set_trainer(&mut self, trainer: Trainer) {
        let ramp = trainer.ramp.map(|ramp| TempoRamp {
            max: ramp.max.clamp(*TEMPO_RANGE.start(), *TEMPO_RANGE.end()),
            ..ramp
        });
        if ramp.is_some() && ramp != self.trainer.ramp {
            self.ramp_restarts = true;
        }
        self.trainer = Trainer { ramp, ..trainer };
    }

    /// Start the form (or the loop) again from its first bar at sample `at`, in the
    /// arrangement's own key.
    pub fn restart(&mut self, at: u64) {
        self.restart_at_bar(at, 0);
    }

    /// Start bar `bar` (counted from the top of the form, may exceed one pass) at sample
    /// `at`, in the arrangement's own key: a session that resumes where it was.
    pub fn restart_at_bar(&mut self, at: u64, bar: u64) {
        self.begin(at, bar, NextBar::StartsAt(bar));
    }

    /// Play, from sample `at`, the bar after the one heard at `heard` (its form bar, key
    /// and the ramp's passes), counted `bar` from the start: an engine that replaces a
    /// lost one carries on with the loop, the key and the ramp where they were.
    pub fn resume_after(&mut self, at: u64, bar: u64, heard: PassPoint) {
        self.begin(at, bar, NextBar::After(heard));
    }

    fn begin(&mut self, at: u64, bar: u64, kind: NextBar) {
        self.next_bar = bar;
        self.next_bar_start = at as f64;
        self.next_kind = kind;
        self.recent = [PlannedBar {
            bar,
            start: at as f64,
            samples_per_beat: Self::spb(self.sample_rate, self.tempo),
            tempo: self.tempo,
            ..PlannedBar::default()
        }; 4];
    }

    /// Where the next bar to plan starts (fractional, as the players place notes).
    pub fn next_bar_start(&self) -> f64 {
        self.next_bar_start
    }

    /// Hold the next bar back to sample `at` (later than planned): the band pauses from
    /// the end of the last bar planned and goes on from there, in the same form, loop
    /// and key, while a take is played back.
    pub fn delay_next_bar(&mut self, at: f64) {
        self.next_bar_start = at;
    }

    /// Whether the next bar must be planned before sample `horizon` is rendered: players
    /// plan a bar one beat (and a little) before it starts, so early drum notes and
    /// piano anticipations are never late.
    pub fn needs_planning(&self, horizon: u64) -> bool {
        let lookahead =
            Self::spb(self.sample_rate, self.next_tempo) + 0.05 * self.sample_rate as f64;
        self.next_bar_start - lookahead < horizon as f64
    }

    /// The first frame at which [`Conductor::needs_planning`] holds for the frame after
    /// it: where the next bar is planned.
    pub fn plan_time(&self) -> u64 {
        let lookahead =
            Self::spb(self.sample_rate, self.next_tempo) + 0.05 * self.sample_rate as f64;
        (self.next_bar_start - lookahead).floor().max(0.0) as u64
    }

    /// Advance to the next bar and describe it for the players. Allocation-free: in a key
    /// cycle the bar's chord slots are moved to its key here, as copies, rather than kept
    /// as twelve transposed arrangements, since a slot is a few bytes and a bar needs two.
    pub fn next_bar<'a>(&mut self, arrangement: &'a Arrangement) -> BarContext<'a> {
        let form_bars = arrangement.form_bars.max(1);
        let previous = self.recent[3];
        let (mut point, follows) = match self.next_kind {
            NextBar::Follows => (self.trainer.after(previous.point, form_bars), true),
            NextBar::StartsAt(bar) => (
                self.trainer
                    .start_at((bar % u64::from(form_bars)) as u32, form_bars),
                false,
            ),
            NextBar::After(heard) => (self.trainer.after(heard, form_bars), false),
        };
        self.next_kind = NextBar::Follows;
        if std::mem::take(&mut self.ramp_restarts) {
            point.ramp_passes = 0;
        }
        self.next_tempo = self.trainer.tempo_at(point, self.next_tempo);
        self.tempo = self.next_tempo;
        let samples_per_beat = Self::spb(self.sample_rate, self.tempo);
        let bar = self.next_bar;
        let start = self.next_bar_start;
        let (home_slot, bar_in_slot) = arrangement.slot_at(u64::from(point.form_bar));
        let slot = home_slot.transposed(arrangement.key, point.key_shift);
        let next = self.trainer.after(point, form_bars);
        let (home_next, next_in_slot) = arrangement.slot_at(u64::from(next.form_bar));
        let next_slot = home_next.transposed(arrangement.key, next.key_shift);
        // A chord goes on from one bar to the next when the next is the following bar of
        // the same slot, in the same key; a loop back to the middle of a slot, or a new
        // key, plays it afresh.
        let continues_chord = bar_in_slot > 0
            && (!follows
                || (previous.point.form_bar + 1 == point.form_bar
                    && previous.point.key_shift == point.key_shift));
        let chord_goes_on = next_in_slot > 0
            && next.form_bar == point.form_bar + 1
            && next.key_shift == point.key_shift;
        self.recent.rotate_left(1);
        self.recent[3] = PlannedBar {
            bar,
            start,
            samples_per_beat,
            tempo: self.tempo,
            point,
            next_form_bar: next.form_bar,
        };
        self.next_bar += 1;
        self.next_bar_start = start + samples_per_beat * arrangement.beats_per_bar as f64;
        BarContext {
            bar,
            form_bar: point.form_bar,
            key_shift: point.key_shift,
            start,
            samples_per_beat,
            beats: arrangement.beats_per_bar,
            swing: arrangement.swing,
            sample_rate: self.sample_rate,
            slot,
            bar_in_slot,
            next_slot,
            continues_chord,
            chord_goes_on,
            pass_ends: next.starts_pass,
            soloist: None,
            arrangement,
        }
    }

    /// The musical position at sample `now` (among the bars already planned).
    pub fn position(&self, now: u64, arrangement: &Arrangement) -> Position {
        let now = now as f64;
        let planned = self
            .recent
            .iter()
            .rev()
            .find(|planned| planned.start <= now)
            .copied()
            .unwrap_or(self.recent[0]);
        let beat = (((now - planned.start) / planned.samples_per_beat) as f32)
            .clamp(0.0, arrangement.beats_per_bar as f32 - 1e-3);
        Position {
            bar: planned.bar,
            beat,
            slot: arrangement.slot_index_at(u64::from(planned.point.form_bar)),
            form_bar: planned.point.form_bar,
            next_form_bar: planned.next_form_bar,
            key_shift: planned.point.key_shift,
            ramp_passes: planned.point.ramp_passes,
            tempo: planned.tempo,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::band::{FormLoop, KeyCycle};
    use crate::preset;

    fn generique() -> Arrangement {
        Arrangement::new(&preset::find("generique").unwrap(), None).unwrap()
    }

    /// The next `bars` bars a conductor lays out: (form bar, next slot's chord, its
    /// bar line).
    fn lay_out(
        conductor: &mut Conductor,
        arrangement: &Arrangement,
        bars: usize,
    ) -> Vec<(u32, String, BarLine)> {
        (0..bars)
            .map(|_| {
                let ctx = conductor.next_bar(arrangement);
                (ctx.form_bar, ctx.next_slot.chord.to_string(), ctx.line())
            })
            .collect()
    }

    #[test]
    fn a_loop_repeats_its_bars_counting_on_and_shows_its_first_chord_at_its_end() {
        let a = generique();
        let mut conductor = Conductor::new(48_000.0, 120.0);
        conductor.set_trainer(Trainer {
            form_loop: FormLoop::new(6, 9),
            ..Trainer::default()
        });
        conductor.restart(0);
        let bars = lay_out(&mut conductor, &a, 9);
        let form_bars: Vec<u32> = bars.iter().map(|b| b.0).collect();
        assert_eq!(form_bars, [6, 7, 8, 9, 6, 7, 8, 9, 6]);
        let indexes: Vec<u64> = bars.iter().map(|b| b.2.index).collect();
        assert_eq!(
            indexes,
            (0..9).collect::<Vec<_>>(),
            "bars played keep counting"
        );
        // Bars 7-10 (1-based) are two of C7 and two of Dm7: at the loop's end the next
        // chord is C7 again, not the Dm7 of bar 11.
        let next: Vec<&str> = bars.iter().map(|b| b.1.as_str()).collect();
        assert_eq!(next[..5], ["C7", "Dm7", "Dm7", "C7", "C7"]);
        // The loop comes back to the middle of the C7: it starts there again.
        let mut conductor = Conductor::new(48_000.0, 120.0);
        conductor.set_trainer(Trainer {
            form_loop: FormLoop::new(6, 9),
            ..Trainer::default()
        });
        conductor.restart(0);
        let starts: Vec<(bool, bool)> = (0..5)
            .map(|_| {
                let ctx = conductor.next_bar(&a);
                (ctx.chord_starts(), ctx.chord_ends())
            })
            .collect();
        assert_eq!(
            starts,
            [
                (false, false),
                (false, true),
                (true, false),
                (false, true),
                (true, false)
            ]
        );
    }

    #[test]
    fn the_ramp_steps_on_the_bar_line_of_the_pass_and_bar_starts_add_up_at_each_tempo() {
        let a = generique();
        let rate = 48_000.0;
        let mut conductor = Conductor::new(rate, 100.0);
        conductor.set_trainer(Trainer {
            form_loop: FormLoop::new(0, 7),
            ramp: Some(TempoRamp {
                step: 10.0,
                every: 1,
                max: 125.0,
            }),
            ..Trainer::default()
        });
        conductor.restart(0);
        let lines: Vec<BarLine> = lay_out(&mut conductor, &a, 40)
            .into_iter()
            .map(|b| b.2)
            .collect();
        let tempos: Vec<f32> = lines.iter().step_by(8).map(|l| l.tempo).collect();
        // The last step is cut at the ramp's end.
        assert_eq!(tempos, [100.0, 110.0, 120.0, 125.0, 125.0]);
        for pass in lines.chunks(8) {
            assert!(pass.iter().all(|l| l.tempo == pass[0].tempo), "{pass:?}");
        }
        // Each bar starts where the one before ended, at that bar's own tempo.
        let mut start = 0.0f64;
        for line in &lines {
            assert_eq!(line.start, start);
            start += f64::from(rate) * 60.0 / f64::from(line.tempo) * 4.0;
        }
    }

    #[test]
    fn the_key_cycle_moves_the_slots_and_the_bar_lines_at_each_pass() {
        let a = generique();
        let mut conductor = Conductor::new(48_000.0, 120.0);
        conductor.set_trainer(Trainer {
            form_loop: FormLoop::new(4, 7),
            key_cycle: Some(KeyCycle::Fourths),
            ..Trainer::default()
        });
        conductor.restart(0);
        let chords: Vec<(String, u8, bool)> = (0..9)
            .map(|_| {
                let ctx = conductor.next_bar(&a);
                (
                    ctx.slot.chord.to_string(),
                    ctx.line().key_shift,
                    ctx.chord_ends(),
                )
            })
            .collect();
        let names: Vec<&str> = chords.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(
            names,
            ["C7", "C7", "C7", "C7", "F7", "F7", "F7", "F7", "B♭7"]
        );
        assert_eq!(chords[4].1, 5);
        // The same slot in a new key is a change: the players lead into it.
        assert!(chords[3].2 && chords[7].2 && !chords[2].2);
    }

    #[test]
    fn an_engine_resuming_after_a_heard_bar_carries_on_in_its_loop_and_key() {
        let a = generique();
        let trainer = Trainer {
            form_loop: FormLoop::new(4, 7),
            key_cycle: Some(KeyCycle::Semitones),
            ..Trainer::default()
        };
        let mut conductor = Conductor::new(48_000.0, 120.0);
        conductor.set_trainer(trainer);
        conductor.resume_after(
            0,
            30,
            PassPoint {
                form_bar: 7,
                key_shift: 3,
                ramp_passes: 0,
                starts_pass: false,
            },
        );
        let ctx = conductor.next_bar(&a);
        assert_eq!((ctx.bar, ctx.form_bar, ctx.key_shift), (30, 4, 4));
        assert_eq!(ctx.slot.chord.to_string(), "E7");
        let position = conductor.position(0, &a);
        assert_eq!((position.form_bar, position.next_form_bar), (4, 5));
        assert_eq!((position.key_shift, position.tempo), (4, 120.0));
    }

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
