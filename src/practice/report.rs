//! The practice report: time and feel, note choice and space, from the player's notes
//! and the bars they were played over. One function for a live take (the console), an
//! offline render (`render --report`) and a take kept on disk.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use super::{BeatGrid, NoteChoice, PlacedNote, PlayedNote, PracticeLog, Space, TimingReport};
use crate::band::{Arrangement, BarLine};

/// Everything the analysis says about a stretch of playing. Notes played outside every
/// bar (before the band started, while it was stopped or counting in) are left out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PracticeReport {
    pub time: TimingReport,
    pub notes: NoteChoice,
    pub space: Space,
}

impl PracticeReport {
    /// Judge `notes` played over `bars` (the conductor's bar lines, any order) of
    /// `arrangement`, at `sample_rate`, as of engine frame `now` (notes still sounding
    /// end there; phrases and bars not over by then are not judged yet).
    pub fn measure(
        notes: &[PlayedNote],
        bars: &[BarLine],
        arrangement: &Arrangement,
        sample_rate: f64,
        now: u64,
    ) -> Self {
        let swing = f64::from(arrangement.swing);
        let Some(grid) = BeatGrid::from_bar_lines(sample_rate, bars, swing) else {
            let mut report = Self::default();
            report.time.swing.ride = swing;
            return report;
        };
        let mut in_form: Vec<(PlayedNote, PlacedNote)> = notes
            .iter()
            .filter_map(|note| {
                let place = grid.place(note.on)?;
                Some((
                    *note,
                    PlacedNote {
                        key: note.key,
                        place,
                    },
                ))
            })
            .collect();
        in_form.sort_by_key(|(note, _)| note.on);
        let onsets: Vec<u64> = in_form.iter().map(|(note, _)| note.on).collect();
        let placed: Vec<PlacedNote> = in_form.iter().map(|(_, placed)| *placed).collect();
        let played: Vec<PlayedNote> = in_form.iter().map(|(note, _)| *note).collect();
        Self {
            time: TimingReport::measure(&onsets, &grid),
            notes: NoteChoice::measure(&placed, arrangement),
            space: Space::measure(&played, &grid, arrangement.beats_per_bar, now),
        }
    }
}

impl PracticeLog {
    /// The report of everything in the log.
    pub fn report(&self, arrangement: &Arrangement, sample_rate: f64, now: u64) -> PracticeReport {
        PracticeReport::measure(
            self.notes(),
            self.bar_lines(),
            arrangement,
            sample_rate,
            now,
        )
    }

    /// The report of the notes that started within `frames` (a phrase).
    pub fn report_between(
        &self,
        frames: RangeInclusive<u64>,
        arrangement: &Arrangement,
        sample_rate: f64,
        now: u64,
    ) -> PracticeReport {
        let notes: Vec<PlayedNote> = self
            .notes()
            .iter()
            .filter(|n| frames.contains(&n.on))
            .copied()
            .collect();
        PracticeReport::measure(&notes, self.bar_lines(), arrangement, sample_rate, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::journal::JournalEntry;
    use crate::engine::{InputEvent, TimedInput};
    use crate::preset;
    use crate::theory::NoteRole;

    const RATE: f64 = 48_000.0;

    fn generique() -> Arrangement {
        Arrangement::new(&preset::find("generique").unwrap(), None).unwrap()
    }

    /// Bars end to end from frame `start`, `bpm` each, as the conductor lays them out.
    fn bars(start: f64, tempos: &[f64]) -> Vec<BarLine> {
        let mut at = start;
        tempos
            .iter()
            .enumerate()
            .map(|(i, &bpm)| {
                let line = BarLine {
                    key_shift: 0,
                    index: i as u64,
                    form_bar: i as u32 % 24,
                    start: at,
                    samples_per_beat: RATE * 60.0 / bpm,
                    beats: 4,
                    tempo: bpm as f32,
                };
                at = line.end();
                line
            })
            .collect()
    }

    /// The frame of beat `beat` (0-based from bar 1), an eighth (`half`) placed where
    /// the band swings it, moved by `offset_ms`: as `BarContext::time` places it.
    fn frame(grid: &BeatGrid, beat: u32, half: bool, offset_ms: f64) -> u64 {
        let fraction = if half { grid.offbeat_fraction() } else { 0.0 };
        let t = grid.frame_of_beat(f64::from(beat) + fraction) + offset_ms * RATE / 1000.0;
        t.round() as u64
    }

    fn log_of(lines: &[BarLine], notes: &[(u8, u64, u64)]) -> PracticeLog {
        let mut entries: Vec<JournalEntry> = lines.iter().map(|l| JournalEntry::Bar(*l)).collect();
        for &(key, on, off) in notes {
            entries.push(JournalEntry::Played(TimedInput {
                frame: on,
                event: InputEvent::NoteOn { key, velocity: 0.8 },
            }));
            entries.push(JournalEntry::Played(TimedInput {
                frame: off,
                event: InputEvent::NoteOff { key },
            }));
        }
        let mut log = PracticeLog::new();
        for entry in &entries {
            log.record(entry);
        }
        log
    }

    #[test]
    fn late_eighths_over_a_tempo_ramp_read_late_by_the_same_ms() {
        let a = generique();
        // Two bars at 66 BPM, two at 80: the ramp moves the grid at the bar line.
        let lines = bars(0.0, &[66.0, 66.0, 80.0, 80.0]);
        let grid = BeatGrid::from_bar_lines(RATE, &lines, f64::from(a.swing)).unwrap();
        let notes: Vec<(u8, u64, u64)> = (0..16)
            .flat_map(|beat| {
                let down = frame(&grid, beat, false, 20.0);
                let up = frame(&grid, beat, true, 20.0);
                [
                    (62, down, up - 100),
                    (65, up, frame(&grid, beat + 1, false, 0.0)),
                ]
            })
            .collect();
        let log = log_of(&lines, &notes);
        let report = log.report(&a, RATE, (lines[3].end() + 2.0 * RATE) as u64);
        assert_eq!(report.time.count, 32);
        assert!((report.time.mean_ms - 20.0).abs() < 0.1, "{}", report.time);
        assert!(report.time.spread_ms < 0.1, "{}", report.time);
        let ratio = report.time.swing.player.unwrap();
        assert!((ratio - 2.5).abs() < 0.05, "{ratio}");
        // D and F over Dm7: all in the mode, D on every downbeat.
        assert_eq!(report.notes.in_mode.share, 1.0);
        assert_eq!(report.notes.chord_tones_on_strong_beats.total, 8);
        // Eighths legato to the end: one phrase of 16 beats less 20 ms at 66 BPM.
        assert_eq!(report.space.phrase_lengths.len(), 1);
        let beats = report.space.phrase_lengths[0].beats;
        assert!(
            (beats - (16.0 - 0.02 * 66.0 / 60.0)).abs() < 0.01,
            "{beats}"
        );
        assert_eq!(report.space.bars_with_rest.count, 0);
        assert_eq!(report.space.bars_with_rest.total, 4);
    }

    #[test]
    fn notes_outside_every_bar_are_left_out() {
        let a = generique();
        // The band starts at 2 s; a note at 0.5 s (before it) and one in bar 1.
        let lines = bars(2.0 * RATE, &[66.0]);
        let log = log_of(&lines, &[(62, 24_000, 30_000), (62, 96_000, 100_000)]);
        let report = log.report(&a, RATE, 400_000);
        assert_eq!(report.time.count, 1);
        assert_eq!(report.notes.count, 1);
        assert_eq!(report.time.mean_ms, 0.0);
    }

    #[test]
    fn a_phrase_is_judged_on_its_own() {
        let a = generique();
        let lines = bars(0.0, &[66.0; 8]);
        let grid = BeatGrid::from_bar_lines(RATE, &lines, 2.5).unwrap();
        // B natural over Dm7 in bar 1, then B over C7 in bar 5 (outside there).
        let log = log_of(
            &lines,
            &[
                (71, frame(&grid, 0, false, 0.0), frame(&grid, 1, false, 0.0)),
                (
                    71,
                    frame(&grid, 16, false, 0.0),
                    frame(&grid, 17, false, 0.0),
                ),
            ],
        );
        let now = lines[7].end() as u64;
        let whole = log.report(&a, RATE, now);
        assert_eq!(whole.notes.in_mode.count, 1);
        assert_eq!(whole.notes.characteristic_tone.count, 1);
        assert_eq!(whole.space.phrase_lengths.len(), 2);
        let second = log.report_between(frame(&grid, 15, false, 0.0)..=now, &a, RATE, now);
        assert_eq!(second.notes.count, 1);
        assert_eq!(second.notes.in_mode, super::super::Share::of(0, 1));
        assert_eq!(
            crate::practice::classify(&a.slots[1], 71).0,
            NoteRole::Outside
        );
    }

    #[test]
    fn the_report_reads_back_from_its_json() {
        let a = generique();
        let lines = bars(0.0, &[66.0; 4]);
        let log = log_of(&lines, &[(62, 1_000, 20_000), (70, 50_000, 60_000)]);
        let report = log.report(&a, RATE, 500_000);
        let json = serde_json::to_string_pretty(&report).unwrap();
        let back: PracticeReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back.notes, report.notes);
        assert_eq!(back.space, report.space);
        assert_eq!(
            TimingReport {
                notes: report.time.notes.clone(),
                ..back.time
            },
            report.time
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        for path in [
            "/time/mean_ms",
            "/time/spread_ms",
            "/time/within_25ms",
            "/time/downbeats/mean_ms",
            "/time/offbeats/within_25ms",
            "/time/verdict",
            "/time/swing/player",
            "/time/swing/ride",
            "/notes/in_mode/share",
            "/notes/chord_tones_on_strong_beats/share",
            "/notes/characteristic_tone/share",
            "/notes/outside_resolved/share",
            "/space/bars_with_rest/share",
            "/space/phrase_lengths",
            "/space/mean_phrase_length/beats",
        ] {
            assert!(value.pointer(path).is_some(), "no {path} in {json}");
        }
        // Nothing to judge without a bar: zeros and the band's swing.
        let empty = PracticeLog::new().report(&a, RATE, 0);
        assert_eq!(empty.time.swing.ride, 2.5);
        assert_eq!(empty.notes.count, 0);
    }
}
