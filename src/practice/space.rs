//! Space: how much silence the player leaves, and how long they play between rests.
//!
//! A note sounds from its note-on to its end as the lead voice holds it (the note-off,
//! or the sustain pedal's release: [`PlayedNote::end`]). Silence is where no note sounds.
//!
//! - A **phrase** is a run of notes with no silence of [`REST_BEATS`] or more inside it,
//!   as the phrase panel cuts them; its length runs from its first note-on to the end of
//!   its last note, in beats of the band's grid (and in bars of the meter). A phrase
//!   counts once a rest of [`REST_BEATS`] has followed it (or another phrase has).
//! - A **bar with a rest** holds, inside its own span, at least one beat (at its tempo)
//!   with no note sounding. The bars judged are those that overlap the stretch from the
//!   first note-on to the end of the last note by more than [`ANTICIPATION_BEATS`] (so a
//!   note pushed just before a bar line does not bring in the bar it leaves), and that
//!   have ended.

use serde::{Deserialize, Serialize};

use super::{ANTICIPATION_BEATS, BeatGrid, PlayedNote, REST_BEATS, Share};

/// Silence this much shorter than a beat still counts as one: note frames are rounded to
/// whole samples.
const BEAT_TOLERANCE: f64 = 1e-3;

/// A length in beats and in bars (beats over the meter's beats per bar).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PhraseLength {
    pub beats: f64,
    pub bars: f64,
}

/// Rests and phrases.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Space {
    /// Of the bars judged, those with a rest of a beat or more.
    pub bars_with_rest: Share,
    /// Every finished phrase, in order.
    pub phrase_lengths: Vec<PhraseLength>,
    /// Their mean (0 without a phrase).
    pub mean_phrase_length: PhraseLength,
}

impl Space {
    /// Judge `notes` (in the order they started) on `grid`, as of engine frame `now`:
    /// notes still sounding end there, and bars not over by then are not judged.
    pub fn measure(notes: &[PlayedNote], grid: &BeatGrid, beats_per_bar: u32, now: u64) -> Self {
        let sounding = sounding_spans(notes, now);
        let (Some(first), Some(last)) = (sounding.first(), sounding.last()) else {
            return Self::default();
        };
        let (span_start, span_end) = (first.0, last.1);
        let beat = |frame: f64| grid.beat_at_frame(frame.round().max(0.0) as u64);
        let rest = |from: f64, to: f64| beat(to) - beat(from) >= REST_BEATS - BEAT_TOLERANCE;

        let mut phrases = join_phrases(&sounding, grid);
        if phrases.last().is_some_and(|p| !rest(p.1, now as f64)) {
            phrases.pop();
        }
        let per_bar = f64::from(beats_per_bar.max(1));
        let phrase_lengths: Vec<PhraseLength> = phrases
            .iter()
            .map(|&(start, end)| {
                let beats = beat(end) - beat(start);
                PhraseLength {
                    beats,
                    bars: beats / per_bar,
                }
            })
            .collect();
        let mean_phrase_length = if phrase_lengths.is_empty() {
            PhraseLength::default()
        } else {
            let n = phrase_lengths.len() as f64;
            PhraseLength {
                beats: phrase_lengths.iter().map(|p| p.beats).sum::<f64>() / n,
                bars: phrase_lengths.iter().map(|p| p.bars).sum::<f64>() / n,
            }
        };

        let anticipation = f64::from(ANTICIPATION_BEATS);
        let mut judged = 0;
        let mut with_rest = 0;
        for bar in grid.bars() {
            let spb = bar.line.samples_per_beat.max(1.0);
            let overlap = bar.end.min(span_end) - bar.start.max(span_start);
            if overlap <= anticipation * spb || bar.end > now as f64 {
                continue;
            }
            judged += 1;
            if longest_silence(&sounding, bar.start, bar.end) >= spb * (1.0 - BEAT_TOLERANCE) {
                with_rest += 1;
            }
        }
        Self {
            bars_with_rest: Share::of(with_rest, judged),
            phrase_lengths,
            mean_phrase_length,
        }
    }
}

/// Every phrase of `notes` as (first note-on, end of its last note) in frames, in order,
/// the last one included though no rest has followed it yet (notes still sounding end at
/// `now`).
pub fn phrase_spans(notes: &[PlayedNote], grid: &BeatGrid, now: u64) -> Vec<(f64, f64)> {
    join_phrases(&sounding_spans(notes, now), grid)
}

/// Sounding spans joined across silences shorter than a rest.
fn join_phrases(sounding: &[(f64, f64)], grid: &BeatGrid) -> Vec<(f64, f64)> {
    let beat = |frame: f64| grid.beat_at_frame(frame.round().max(0.0) as u64);
    let rest = |from: f64, to: f64| beat(to) - beat(from) >= REST_BEATS - BEAT_TOLERANCE;
    let mut phrases: Vec<(f64, f64)> = Vec::new();
    for &(start, end) in sounding {
        match phrases.last_mut() {
            Some(phrase) if !rest(phrase.1, start) => phrase.1 = end,
            _ => phrases.push((start, end)),
        }
    }
    phrases
}

/// Where at least one note sounds: the notes' spans merged, in order, as frames.
fn sounding_spans(notes: &[PlayedNote], now: u64) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = notes
        .iter()
        .map(|n| (n.on as f64, n.end(now) as f64))
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The longest stretch of `from..to` in which nothing sounds.
fn longest_silence(sounding: &[(f64, f64)], from: f64, to: f64) -> f64 {
    // Merged spans are ordered by their ends too.
    let first = sounding.partition_point(|s| s.1 <= from);
    let mut cursor = from;
    let mut longest: f64 = 0.0;
    for &(start, end) in &sounding[first..] {
        if start >= to {
            break;
        }
        longest = longest.max(start - cursor);
        cursor = cursor.max(end.min(to));
    }
    longest.max(to - cursor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::band::BarLine;

    const RATE: f64 = 48_000.0;
    /// 120 BPM: half a second a beat.
    const SPB: f64 = 24_000.0;

    fn grid(bars: u64) -> BeatGrid {
        let lines: Vec<BarLine> = (0..bars)
            .map(|i| BarLine {
                key_shift: 0,
                index: i,
                form_bar: i as u32,
                start: i as f64 * 4.0 * SPB,
                samples_per_beat: SPB,
                beats: 4,
                tempo: 120.0,
            })
            .collect();
        BeatGrid::from_bar_lines(RATE, &lines, 2.0).unwrap()
    }

    /// A note from `beat` for `length` beats (beats counted from bar 1).
    fn note(beat: f64, length: f64) -> PlayedNote {
        PlayedNote {
            key: 62,
            velocity: 0.8,
            on: (beat * SPB) as u64,
            off: Some(((beat + length) * SPB) as u64),
        }
    }

    #[test]
    fn phrases_and_bars_with_rest_by_hand() {
        let g = grid(8);
        let notes = [
            // Phrase 1: beats 0 … 6 in quarter notes with a half-beat gap (not a rest).
            note(0.0, 1.0),
            note(1.0, 1.0),
            note(2.0, 1.5),
            note(4.0, 2.0),
            // One beat of rest, beats 6 … 7: phrase 2 runs 7 … 13.
            note(7.0, 3.0),
            note(10.0, 3.0),
            // Three beats of rest, then phrase 3 from 16 (bar 5) to 17.5.
            note(16.0, 1.5),
        ];
        let now = (32.0 * SPB) as u64;
        let space = Space::measure(&notes, &g, 4, now);
        let beats: Vec<f64> = space.phrase_lengths.iter().map(|p| p.beats).collect();
        assert_eq!(beats, [6.0, 6.0, 1.5]);
        assert_eq!(space.phrase_lengths[2].bars, 1.5 / 4.0);
        assert!((space.mean_phrase_length.beats - 4.5).abs() < 1e-9);
        assert!((space.mean_phrase_length.bars - 4.5 / 4.0).abs() < 1e-9);
        // Bars judged: 1 to 5 (beats 0 … 17.5). Bar 1: sounding throughout (the half
        // beat at 3.5 is short). Bar 2 (4 … 8): silent 6 … 7, a beat: rest. Bar 3
        // (8 … 12): sounding. Bar 4 (12 … 16): silent 13 … 16: rest. Bar 5 (16 … 20):
        // silent 17.5 … 20: rest. 3 of 5.
        assert_eq!(space.bars_with_rest, Share::of(3, 5));
    }

    #[test]
    fn a_phrase_still_sounding_or_just_ended_does_not_count_yet() {
        let g = grid(4);
        let held = PlayedNote {
            off: None,
            ..note(0.0, 0.0)
        };
        let space = Space::measure(&[held], &g, 4, (3.0 * SPB) as u64);
        assert!(space.phrase_lengths.is_empty());
        // Let go at beat 3; half a beat later it is not over, a beat later it is.
        let let_go = note(0.0, 3.0);
        assert!(
            Space::measure(&[let_go], &g, 4, (3.5 * SPB) as u64)
                .phrase_lengths
                .is_empty()
        );
        let space = Space::measure(&[let_go], &g, 4, (4.0 * SPB) as u64);
        assert_eq!(space.phrase_lengths[0].beats, 3.0);
        // Bar 1 is over at beat 4: three beats sounding, one silent.
        assert_eq!(space.bars_with_rest, Share::of(1, 1));
    }

    #[test]
    fn a_note_pushed_before_a_bar_line_does_not_judge_the_bar_it_leaves() {
        let g = grid(4);
        // From 0.1 beats before bar 2 to its beat 4, then silence: bar 2 has no rest
        // (quarter notes all through); bar 1 is not judged.
        let notes = [note(3.9, 4.1)];
        let space = Space::measure(&notes, &g, 4, (16.0 * SPB) as u64);
        assert_eq!(space.bars_with_rest, Share::of(0, 1));
        assert_eq!(Space::measure(&[], &g, 4, 0), Space::default());
    }

    #[test]
    fn longest_silence_inside_a_stretch() {
        let sounding = [(0.0, 10.0), (15.0, 20.0), (40.0, 50.0)];
        assert_eq!(longest_silence(&sounding, 5.0, 45.0), 20.0);
        assert_eq!(longest_silence(&sounding, 0.0, 10.0), 0.0);
        assert_eq!(longest_silence(&sounding, 50.0, 60.0), 10.0);
        assert_eq!(longest_silence(&[], 0.0, 7.0), 7.0);
    }
}
