//! The band's beat grid on the engine's clock: the tempo map of a take or a render, built
//! from the bar lines the conductor laid out, so that a tempo that changes at a bar line
//! (a tempo ramp, the player's ↑ ↓) moves the grid with it.
//!
//! Beats are counted from the first bar of the map (0-based, fractional) and stay whole
//! numbers at every bar line, so "the nearest beat" and "the swung eighth after it" mean
//! the same thing in every bar. Where the band stopped and started again the frames in
//! between are a stretch of whole beats of its own that belongs to no bar.

use super::ANTICIPATION_BEATS;
use crate::band::BarLine;

/// A stretch of the map at one tempo: a bar, or the time between two bars that do not
/// meet (the band stopped, or an engine was replaced).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Segment {
    /// Frame of its first beat (fractional, as the conductor places bars).
    start: f64,
    /// Frame where the next segment starts (or would, for the last).
    end: f64,
    samples_per_beat: f64,
    /// Beat number of its first beat since the start of the map (a whole number).
    first_beat: f64,
    /// Whole beats it spans: a bar cut short counts its last beat whole.
    beats: u32,
    /// The bar it is, or `None` between bars.
    bar: Option<BarLine>,
}

impl Segment {
    fn beat_at(&self, frame: f64) -> f64 {
        self.first_beat + (frame - self.start) / self.samples_per_beat
    }

    fn frame_at(&self, beat: f64) -> f64 {
        self.start + (beat - self.first_beat) * self.samples_per_beat
    }
}

/// Where a frame falls in a bar: the bar, the nearest beat and how far from it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BarPlace {
    pub line: BarLine,
    /// Nearest beat of the bar (0-based). A note just before a bar line (within
    /// [`ANTICIPATION_BEATS`]) is on beat 0 of the next bar: the player anticipates the
    /// change, as [`super::bar_and_beat`] says for live onsets.
    pub beat: u32,
    /// Distance from that beat, in beats.
    pub distance: f64,
}

impl BarPlace {
    /// Close enough to its beat to be heard on it.
    pub fn on_beat(&self) -> bool {
        self.distance <= f64::from(ANTICIPATION_BEATS)
    }
}

/// The band's beat grid, with the swung eighth where the engine puts it
/// (`BarContext::time`: at r/(r+1) of the beat for a swing ratio r).
#[derive(Clone, Debug, PartialEq)]
pub struct BeatGrid {
    pub sample_rate: f64,
    /// The band's long:short eighth ratio (2.0 = triplet, 1.0 = straight).
    pub swing_ratio: f64,
    /// In time order, never empty; the first reaches back before its start and the last
    /// on past its end at their own tempo.
    segments: Vec<Segment>,
}

/// Frames of difference between where a bar ends and the next begins that still count
/// as meeting (the conductor adds fractional frames; rounding may leave a hair).
const MEET_FRAMES: f64 = 1.0;

impl BeatGrid {
    /// A constant tempo from `first_beat_frame` (beat 0), in every direction, with no
    /// bars: enough to time notes against, not to place them in a form.
    pub fn constant(sample_rate: f32, bpm: f32, first_beat_frame: u64, swing_ratio: f32) -> Self {
        let samples_per_beat = f64::from(sample_rate) * 60.0 / f64::from(bpm.max(1.0));
        Self {
            sample_rate: f64::from(sample_rate),
            swing_ratio: f64::from(swing_ratio),
            segments: vec![Segment {
                start: first_beat_frame as f64,
                end: f64::INFINITY,
                samples_per_beat,
                first_beat: 0.0,
                beats: u32::MAX,
                bar: None,
            }],
        }
    }

    /// The grid of the bars the conductor laid out (any order; repeated lines are kept
    /// once). `None` without a bar.
    pub fn from_bar_lines(sample_rate: f64, lines: &[BarLine], swing_ratio: f64) -> Option<Self> {
        let mut lines: Vec<BarLine> = lines.to_vec();
        lines.sort_by(|a, b| a.start.total_cmp(&b.start));
        lines.dedup_by(|b, a| (b.start - a.start).abs() < MEET_FRAMES && a.index == b.index);
        let mut segments = Vec::with_capacity(lines.len() + 1);
        let mut first_beat = 0.0;
        for (i, line) in lines.iter().enumerate() {
            let mut spb = line.samples_per_beat.max(1.0);
            let whole = line.end();
            let (end, beats) = match lines.get(i + 1) {
                // Cut short by a bar that starts before it ends (the form restarted).
                Some(next) if next.start < whole - MEET_FRAMES => {
                    let covered = (next.start - line.start) / spb;
                    (next.start, (covered - 1e-6).ceil().max(1.0) as u32)
                }
                // Less than half a beat between them: not a stop but cycles the machine
                // skipped, which a take's time line keeps as silence. The bar stretches
                // to meet the next, so that the notes in it stay in it.
                Some(next)
                    if next.start - whole > MEET_FRAMES && next.start - whole < spb / 2.0 =>
                {
                    let beats = line.beats.max(1);
                    spb = (next.start - line.start) / f64::from(beats);
                    (next.start, beats)
                }
                _ => (whole, line.beats.max(1)),
            };
            segments.push(Segment {
                start: line.start,
                end,
                samples_per_beat: spb,
                first_beat,
                beats,
                bar: Some(*line),
            });
            first_beat += f64::from(beats);
            if let Some(next) = lines.get(i + 1) {
                let gap = next.start - end;
                if gap > MEET_FRAMES {
                    // Whole beats near the last tempo, so the next bar starts on one.
                    let gap_beats = (gap / spb).round().max(1.0);
                    segments.push(Segment {
                        start: end,
                        end: next.start,
                        samples_per_beat: gap / gap_beats,
                        first_beat,
                        beats: gap_beats as u32,
                        bar: None,
                    });
                    first_beat += gap_beats;
                }
            }
        }
        (!segments.is_empty()).then_some(Self {
            sample_rate,
            swing_ratio,
            segments,
        })
    }

    fn segment_at_frame(&self, frame: f64) -> &Segment {
        let i = self.segments.partition_point(|s| s.start <= frame);
        &self.segments[i.saturating_sub(1)]
    }

    fn segment_at_beat(&self, beat: f64) -> usize {
        let i = self.segments.partition_point(|s| s.first_beat <= beat);
        i.saturating_sub(1)
    }

    /// Beats (fractional) since the first beat of the map; negative before it.
    pub fn beat_at_frame(&self, frame: u64) -> f64 {
        let frame = frame as f64;
        self.segment_at_frame(frame).beat_at(frame)
    }

    /// The frame (fractional) of a beat position as [`BeatGrid::beat_at_frame`] counts.
    pub fn frame_of_beat(&self, beat: f64) -> f64 {
        self.segments[self.segment_at_beat(beat)].frame_at(beat)
    }

    /// Frames per beat at a beat position.
    pub fn samples_per_beat_at(&self, beat: f64) -> f64 {
        self.segments[self.segment_at_beat(beat)].samples_per_beat
    }

    /// Where the swung eighth falls within a beat: r/(r+1).
    pub fn offbeat_fraction(&self) -> f64 {
        let r = self.swing_ratio.max(0.0);
        r / (1.0 + r)
    }

    /// Milliseconds from one beat position to another.
    pub fn ms_between(&self, from_beat: f64, to_beat: f64) -> f64 {
        (self.frame_of_beat(to_beat) - self.frame_of_beat(from_beat)) * 1000.0 / self.sample_rate
    }

    /// The bar a frame is heard in and its nearest beat, or `None` outside every bar
    /// (before the band started, while it was stopped, after it ended).
    pub fn place(&self, frame: u64) -> Option<BarPlace> {
        let beat = self.beat_at_frame(frame);
        let i = self.segment_at_beat(beat);
        let segment = &self.segments[i];
        let next_bar = |from: usize| {
            self.segments[from..]
                .iter()
                .find(|s| s.bar.is_some())
                .filter(|s| s.first_beat > beat)
                .filter(|s| s.first_beat - beat <= f64::from(ANTICIPATION_BEATS))
                .and_then(|s| {
                    Some(BarPlace {
                        line: s.bar?,
                        beat: 0,
                        distance: s.first_beat - beat,
                    })
                })
        };
        let inside = beat >= segment.first_beat
            && beat < segment.first_beat + f64::from(segment.beats)
            && segment.bar.is_some();
        let Some(line) = segment.bar.filter(|_| inside) else {
            // Between bars or before the first: only a note anticipating a bar counts.
            return next_bar(if beat < segment.first_beat { i } else { i + 1 });
        };
        let position = beat - segment.first_beat;
        let nearest = position.round();
        let distance = (position - nearest).abs();
        if nearest >= f64::from(segment.beats) {
            let meets = self.segments.get(i + 1).is_some_and(|s| s.bar.is_some());
            if meets && let Some(place) = next_bar(i + 1) {
                return Some(place);
            }
            let last = segment.beats - 1;
            return Some(BarPlace {
                line,
                beat: last,
                distance: position - f64::from(last),
            });
        }
        Some(BarPlace {
            line,
            beat: nearest as u32,
            distance,
        })
    }

    /// The bars of the map in time order, each with the frames it spans (a bar cut short
    /// by a restart ends where the next begins).
    pub fn bars(&self) -> impl Iterator<Item = GridBar> + '_ {
        self.segments.iter().filter_map(|s| {
            s.bar.map(|line| GridBar {
                line,
                start: s.start,
                end: s.end,
                first_beat: s.first_beat,
            })
        })
    }
}

/// A bar of the map.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridBar {
    pub line: BarLine,
    /// Frames it spans, `start..end` (fractional).
    pub start: f64,
    pub end: f64,
    /// Its first beat as [`BeatGrid::beat_at_frame`] counts.
    pub first_beat: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f64 = 48_000.0;

    fn line(index: u64, start: f64, bpm: f64) -> BarLine {
        BarLine {
            key_shift: 0,
            index,
            form_bar: index as u32 % 8,
            start,
            samples_per_beat: RATE * 60.0 / bpm,
            beats: 4,
            tempo: bpm as f32,
        }
    }

    /// Bars at 100, 100, 120, 120 BPM end to end, as a tempo ramp lays them out.
    fn ramp() -> Vec<BarLine> {
        let mut lines = Vec::new();
        let mut start = 0.0;
        for (i, bpm) in [100.0, 100.0, 120.0, 120.0].into_iter().enumerate() {
            let l = line(i as u64, start, bpm);
            start = l.end();
            lines.push(l);
        }
        lines
    }

    #[test]
    fn a_tempo_change_at_a_bar_line_moves_the_grid() {
        let grid = BeatGrid::from_bar_lines(RATE, &ramp(), 2.0).unwrap();
        // Beat 8 is bar 3's downbeat: 8 beats at 100 BPM = 4.8 s.
        assert!((grid.frame_of_beat(8.0) - 4.8 * RATE).abs() < 1e-6);
        // A beat later at 120 BPM: half a second.
        assert!((grid.frame_of_beat(9.0) - 5.3 * RATE).abs() < 1e-6);
        assert!((grid.beat_at_frame((5.3 * RATE) as u64) - 9.0).abs() < 1e-9);
        assert!((grid.ms_between(8.0, 9.0) - 500.0).abs() < 1e-6);
        assert!((grid.ms_between(7.0, 8.0) - 600.0).abs() < 1e-6);
        // Past the last bar the last tempo holds.
        assert!((grid.frame_of_beat(17.0) - (4.8 + 9.0 * 0.5) * RATE).abs() < 1e-6);
        let place = grid.place((5.3 * RATE) as u64).unwrap();
        assert_eq!((place.line.index, place.beat), (2, 1));
        assert!(grid.place((9.0 * RATE) as u64).is_none());
    }

    #[test]
    fn a_note_just_before_a_bar_line_is_heard_in_the_next_bar() {
        let grid = BeatGrid::from_bar_lines(RATE, &ramp(), 2.0).unwrap();
        // 0.2 beats before bar 3 (at 100 BPM: 120 ms).
        let place = grid.place((4.8 * RATE - 0.12 * RATE) as u64).unwrap();
        assert_eq!((place.line.index, place.beat), (2, 0));
        assert!((place.distance - 0.2).abs() < 1e-6 && place.on_beat());
        // 0.4 beats before it is the last beat of bar 2, off the beat.
        let place = grid.place((4.8 * RATE - 0.24 * RATE) as u64).unwrap();
        assert_eq!((place.line.index, place.beat), (1, 3));
        assert!(!place.on_beat());
        // A pickup just before the first bar belongs to it; earlier, to nothing.
        assert_eq!(grid.place(0).unwrap().beat, 0);
        let late_start = [line(0, RATE, 100.0)];
        let grid = BeatGrid::from_bar_lines(RATE, &late_start, 2.0).unwrap();
        assert_eq!(grid.place((0.9 * RATE) as u64).unwrap().line.index, 0);
        assert!(grid.place((0.5 * RATE) as u64).is_none());
    }

    #[test]
    fn frames_skipped_between_two_bars_stretch_the_first_to_meet_the_next() {
        // 512 frames the machine skipped before bar 2, at 120 BPM (a beat is 24 000).
        let lines = [line(0, 0.0, 120.0), line(1, 4.0 * 24_000.0 + 512.0, 120.0)];
        let grid = BeatGrid::from_bar_lines(RATE, &lines, 2.0).unwrap();
        assert_eq!(grid.bars().count(), 2);
        assert!((grid.beat_at_frame(96_512) - 4.0).abs() < 1e-9);
        // A note just before bar 2, after where bar 1 would have ended on time.
        let place = grid.place(96_261).unwrap();
        assert_eq!((place.line.index, place.beat), (1, 0));
        let place = grid.place(48_256).unwrap();
        assert_eq!((place.line.index, place.beat), (0, 2));
        assert!(place.distance < 1e-9);
    }

    #[test]
    fn a_stop_leaves_a_gap_of_whole_beats_that_belongs_to_no_bar() {
        // Two bars at 120 BPM, stopped, started again from bar 1 at 10 s.
        let lines = [
            line(0, 0.0, 120.0),
            line(1, 2.0 * RATE, 120.0),
            line(0, 10.0 * RATE, 120.0),
        ];
        let grid = BeatGrid::from_bar_lines(RATE, &lines, 2.0).unwrap();
        // 4 s to 10 s is 12 beats at 120 BPM: bar 1 again starts on beat 20.
        assert!((grid.beat_at_frame((10.0 * RATE) as u64) - 20.0).abs() < 1e-9);
        assert!(grid.place((6.0 * RATE) as u64).is_none());
        let place = grid.place((10.5 * RATE) as u64).unwrap();
        assert_eq!((place.line.index, place.beat), (0, 1));
        assert_eq!(grid.bars().count(), 3);
    }

    #[test]
    fn a_bar_cut_short_by_a_restart_ends_where_the_next_begins() {
        let lines = [line(0, 0.0, 120.0), line(0, 1.25 * RATE, 120.0)];
        let grid = BeatGrid::from_bar_lines(RATE, &lines, 2.0).unwrap();
        // 2.5 beats played, counted as 3: the new bar 1 starts on beat 3.
        assert!((grid.beat_at_frame((1.25 * RATE) as u64) - 3.0).abs() < 1e-9);
        let bars: Vec<GridBar> = grid.bars().collect();
        assert_eq!(bars[0].end, 1.25 * RATE);
        assert!(BeatGrid::from_bar_lines(RATE, &[], 2.0).is_none());
    }

    #[test]
    fn the_constant_grid_reaches_every_way() {
        let grid = BeatGrid::constant(48_000.0, 120.0, 48_000, 2.0);
        assert!((grid.beat_at_frame(0) + 2.0).abs() < 1e-9);
        assert!((grid.frame_of_beat(4.0) - 144_000.0).abs() < 1e-9);
        assert!((grid.offbeat_fraction() - 2.0 / 3.0).abs() < 1e-12);
        assert!(grid.place(48_000).is_none());
    }
}
