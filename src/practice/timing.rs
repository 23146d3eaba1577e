//! Time and feel: where the player's notes sit against the band's grid (ahead, behind,
//! how steady) and how much they swing their eighths.
//!
//! Pure and deterministic: fed with note-on frames and a [`BeatGrid`], never a clock, so
//! the same report comes out live (UI thread) and offline (rendered takes, tests).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::BeatGrid;

/// A note within this many ms of its grid point counts as "in the pocket" for
/// [`ClassTiming::within_25ms`]: about the smallest onset asynchrony ensemble players
/// hear as "not together".
pub const POCKET_MS: f64 = 25.0;

/// Both downbeats and offbeats must lean the same way by more than this for the player
/// to be rushing or dragging; inside it a lean is within the scatter of a good player
/// and of MIDI input.
pub const LEAN_MS: f64 = 10.0;

/// Downbeats lagging by this much or more while offbeats are within [`LEAN_MS`] is laid
/// back, not dragging: soloists' downbeats lag the drums by about 30 ms at about 150 BPM
/// while their offbeats line up (Nelias et al. 2022, 456 Weimar Jazz Database solos;
/// Friberg & Sundström 2002). That lag is part of swing.
pub const LAID_BACK_MIN_MS: f64 = 10.0;

/// Beyond this a downbeat lag is late, not laid back: past about 45 ms the ear hears
/// the note apart from the beat.
pub const LAID_BACK_MAX_MS: f64 = 45.0;

/// A first eighth of a pair must be within this many beats of a beat.
pub const PAIR_ON_BEAT: f64 = 0.15;

/// The second eighth of a pair must fall in this window after the beat (in beats):
/// wide enough for straight (0.5) to hard-swung (0.8, 4:1) eighths, narrow enough to
/// leave out sixteenths and notes pushed to the next beat.
pub const PAIR_OFFBEAT_WINDOW: (f64, f64) = (0.3, 0.85);

/// The grid point nearest a beat position: the beat itself, its swung eighth, or the
/// next beat.
fn nearest_point(grid: &BeatGrid, beat: f64) -> (f64, GridPlacement) {
    let whole = beat.floor();
    let candidates = [
        (whole, GridPlacement::Downbeat),
        (whole + grid.offbeat_fraction(), GridPlacement::Offbeat),
        (whole + 1.0, GridPlacement::Downbeat),
    ];
    candidates
        .into_iter()
        .min_by(|a, b| (beat - a.0).abs().total_cmp(&(beat - b.0).abs()))
        .unwrap_or((whole, GridPlacement::Downbeat))
}

/// Whether a grid point is on the beat or the swung eighth between beats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridPlacement {
    Downbeat,
    Offbeat,
}

/// One note-on against its nearest grid point.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoteTiming {
    pub frame: u64,
    /// The grid point, in beats as [`BeatGrid::beat_at_frame`] counts them.
    pub grid_beat: f64,
    pub placement: GridPlacement,
    /// Signed distance from the grid point: negative ahead (rushing), positive behind.
    pub offset_ms: f64,
}

/// Offsets of a set of notes, summed up. All zero when `count` is 0 (never NaN).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassTiming {
    pub count: usize,
    /// Mean signed offset: negative rushing, positive dragging.
    pub mean_ms: f64,
    /// Standard deviation of the offsets (population).
    pub spread_ms: f64,
    /// Share (0..1) of notes within ±[`POCKET_MS`] of their grid point.
    pub within_25ms: f64,
}

impl ClassTiming {
    fn of(offsets: impl Iterator<Item = f64> + Clone) -> Self {
        let count = offsets.clone().count();
        if count == 0 {
            return Self::default();
        }
        let n = count as f64;
        let mean = offsets.clone().sum::<f64>() / n;
        let variance = offsets.clone().map(|o| (o - mean).powi(2)).sum::<f64>() / n;
        let within = offsets.filter(|o| o.abs() <= POCKET_MS).count();
        Self {
            count,
            mean_ms: mean,
            spread_ms: variance.sqrt(),
            within_25ms: within as f64 / n,
        }
    }
}

/// Where the player sits against the beat, in a word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimingVerdict {
    Rushing,
    Dragging,
    #[default]
    OnTime,
    /// Downbeats behind, offbeats on the grid: swing, not a fault.
    LaidBack,
    /// Downbeats behind and offbeats ahead: the eighths are more even than the band's.
    Straighter,
    /// Downbeats ahead and offbeats behind: the eighths are more dotted than the band's.
    SwungHarder,
}

impl TimingVerdict {
    fn judge(overall: &ClassTiming, downbeats: &ClassTiming, offbeats: &ClassTiming) -> Self {
        let lean = |mean: f64| {
            if mean > LEAN_MS {
                Some(Self::Dragging)
            } else if mean < -LEAN_MS {
                Some(Self::Rushing)
            } else {
                None
            }
        };
        if downbeats.count == 0 || offbeats.count == 0 {
            return lean(overall.mean_ms).unwrap_or(Self::OnTime);
        }
        let down = downbeats.mean_ms;
        if (LAID_BACK_MIN_MS..=LAID_BACK_MAX_MS).contains(&down)
            && offbeats.mean_ms.abs() <= LEAN_MS
        {
            return Self::LaidBack;
        }
        // Past what swing explains, late downbeats are late, whatever the offbeats do.
        if down > LAID_BACK_MAX_MS {
            return Self::Dragging;
        }
        // Leaning apart is not a tempo fault but a different swing: the offbeat sits
        // earlier (or later) in the beat than the band's.
        match (lean(down), lean(offbeats.mean_ms)) {
            (Some(a), Some(b)) if a == b => a,
            (Some(Self::Dragging), Some(Self::Rushing)) => Self::Straighter,
            (Some(Self::Rushing), Some(Self::Dragging)) => Self::SwungHarder,
            _ => Self::OnTime,
        }
    }

    fn words(self) -> &'static str {
        match self {
            Self::Rushing => "rushing",
            Self::Dragging => "dragging",
            Self::OnTime => "on time",
            Self::LaidBack => "laid back",
            Self::Straighter => "straighter",
            Self::SwungHarder => "swung harder",
        }
    }
}

impl fmt::Display for TimingVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.words())
    }
}

/// The player's swing beside the band's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Swing {
    /// Median long:short ratio of the player's eighth pairs; `None` under two pairs.
    pub player: Option<f64>,
    /// The band's ratio: where the ride cymbal puts its swung eighth.
    pub ride: f64,
    /// Eighth pairs measured for `player`.
    pub pairs: usize,
}

/// The time and feel of a run of note-ons over a [`BeatGrid`]. Its JSON leaves out the
/// note-by-note offsets (`notes`): the figures are what a take keeps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimingReport {
    /// Every note-on, in time order.
    #[serde(skip)]
    pub notes: Vec<NoteTiming>,
    /// Number of notes.
    pub count: usize,
    /// Mean signed offset over all notes: negative rushing, positive dragging.
    pub mean_ms: f64,
    /// Standard deviation of all offsets.
    pub spread_ms: f64,
    /// Share (0..1) of all notes within ±[`POCKET_MS`].
    pub within_25ms: f64,
    /// Notes nearest a beat.
    pub downbeats: ClassTiming,
    /// Notes nearest a swung eighth.
    pub offbeats: ClassTiming,
    pub verdict: TimingVerdict,
    pub swing: Swing,
}

impl TimingReport {
    /// Judge note-on frames (any order) against the grid.
    pub fn measure(onsets: &[u64], grid: &BeatGrid) -> Self {
        let mut frames = onsets.to_vec();
        frames.sort_unstable();
        let notes: Vec<NoteTiming> = frames
            .iter()
            .map(|&frame| {
                let beat = grid.beat_at_frame(frame);
                let (grid_beat, placement) = nearest_point(grid, beat);
                NoteTiming {
                    frame,
                    grid_beat,
                    placement,
                    offset_ms: grid.ms_between(grid_beat, beat),
                }
            })
            .collect();
        let of = |placement: Option<GridPlacement>| {
            ClassTiming::of(
                notes
                    .iter()
                    .filter(move |n| placement.is_none_or(|p| n.placement == p))
                    .map(|n| n.offset_ms),
            )
        };
        let overall = of(None);
        let downbeats = of(Some(GridPlacement::Downbeat));
        let offbeats = of(Some(GridPlacement::Offbeat));
        let pairs = eighth_pair_ratios(&frames, grid);
        Self {
            count: overall.count,
            mean_ms: overall.mean_ms,
            spread_ms: overall.spread_ms,
            within_25ms: overall.within_25ms,
            verdict: TimingVerdict::judge(&overall, &downbeats, &offbeats),
            downbeats,
            offbeats,
            swing: Swing {
                player: median(&pairs).filter(|_| pairs.len() >= 2),
                ride: grid.swing_ratio,
                pairs: pairs.len(),
            },
            notes,
        }
    }
}

/// Long:short ratios of consecutive onsets that make an eighth pair: the first near a
/// beat, the second in the off-beat window after that beat. The short eighth ends where
/// the next note starts if that is near the next beat; otherwise on the next beat moved
/// as far as the first note was from its own, so a player steadily late or early swings
/// as they play. Measured in frames, so a tempo map keeps it right.
fn eighth_pair_ratios(sorted_frames: &[u64], grid: &BeatGrid) -> Vec<f64> {
    (0..sorted_frames.len().saturating_sub(1))
        .filter_map(|i| {
            let (first, second) = (sorted_frames[i], sorted_frames[i + 1]);
            let beat = grid.beat_at_frame(first).round();
            let after = grid.beat_at_frame(second) - beat;
            let near_beat = (grid.beat_at_frame(first) - beat).abs() <= PAIR_ON_BEAT;
            let (lo, hi) = PAIR_OFFBEAT_WINDOW;
            if !near_beat || !(lo..=hi).contains(&after) {
                return None;
            }
            let next_beat = sorted_frames
                .get(i + 2)
                .filter(|&&next| (grid.beat_at_frame(next) - (beat + 1.0)).abs() <= PAIR_ON_BEAT)
                .map_or_else(
                    || grid.frame_of_beat(beat + 1.0) + first as f64 - grid.frame_of_beat(beat),
                    |&next| next as f64,
                );
            let long = second as f64 - first as f64;
            let short = next_beat - second as f64;
            (long > 0.0 && short > 0.0).then(|| long / short)
        })
        .collect()
}

fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

impl TimingReport {
    /// The player's figures without the ride's: `+12 ms (dragging) ±18 · swing 1.9:1`.
    pub fn figures(&self) -> impl fmt::Display + '_ {
        Figures(self)
    }
}

struct Figures<'a>(&'a TimingReport);

impl fmt::Display for Figures<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = self.0;
        // Rounded to integers first so that -0.4 shows as "+0", not "-0".
        let mean = report.mean_ms.round() as i64;
        let spread = report.spread_ms.round() as i64;
        write!(f, "{mean:+} ms ({}) ±{spread} · swing ", report.verdict)?;
        match report.swing.player {
            Some(ratio) => write!(f, "{ratio:.1}:1"),
            None => f.write_str("–"),
        }
    }
}

/// One console line: `time +12 ms (dragging) ±18 · swing 1.9:1 (ride 2.5:1)`.
impl fmt::Display for TimingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "time {} (ride {:.1}:1)", self.figures(), self.swing.ride)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f32 = 48_000.0;
    const START: u64 = 48_000;

    fn grid(bpm: f32, swing: f32) -> BeatGrid {
        BeatGrid::constant(RATE, bpm, START, swing)
    }

    /// The frame of a position as the engine places it (`BarContext::time`): `beat`
    /// counted from beat 1 of bar 1, a fraction of 0.5 swung, plus `offset_ms`.
    fn engine_frame(g: &BeatGrid, beat: f32, offset_ms: f32) -> u64 {
        let whole = beat.floor();
        let frac = beat - whole;
        let swing = g.swing_ratio as f32;
        let long = swing / (1.0 + swing);
        let swung = if frac <= 0.5 {
            frac * 2.0 * long
        } else {
            long + (frac - 0.5) * 2.0 * (1.0 - long)
        };
        let t = START as f64
            + (whole + swung) as f64 * g.samples_per_beat_at(0.0)
            + offset_ms as f64 * 0.001 * RATE as f64;
        t.max(0.0).round() as u64
    }

    /// Eighth notes over `bars` bars, every note moved by `down_ms` (on the beat) or
    /// `off_ms` (on the swung eighth).
    fn eighths(g: &BeatGrid, bars: u32, down_ms: f32, off_ms: f32) -> Vec<u64> {
        (0..bars * 4 * 2)
            .map(|i| {
                let beat = i as f32 * 0.5;
                let ms = if i % 2 == 0 { down_ms } else { off_ms };
                engine_frame(g, beat, ms)
            })
            .collect()
    }

    #[test]
    fn late_swung_eighths_read_dragging() {
        let g = grid(150.0, 2.0);
        let report = TimingReport::measure(&eighths(&g, 4, 20.0, 20.0), &g);
        assert_eq!(report.count, 32);
        assert!((report.mean_ms - 20.0).abs() <= 3.0, "{report}");
        assert!(report.spread_ms <= 3.0, "{report}");
        assert_eq!((report.downbeats.count, report.offbeats.count), (16, 16));
        assert_eq!(report.verdict, TimingVerdict::Dragging);
    }

    #[test]
    fn early_swung_eighths_read_rushing() {
        let g = grid(150.0, 2.0);
        let report = TimingReport::measure(&eighths(&g, 4, -15.0, -15.0), &g);
        assert!((report.mean_ms + 15.0).abs() <= 3.0, "{report}");
        assert!(report.spread_ms <= 3.0, "{report}");
        assert_eq!(report.verdict, TimingVerdict::Rushing);
    }

    #[test]
    fn the_player_swing_ratio_is_measured_from_eighth_pairs() {
        let g = grid(150.0, 2.0);
        let report = TimingReport::measure(&eighths(&g, 2, 0.0, 0.0), &g);
        let ratio = report.swing.player.expect("measured");
        assert!((ratio - 2.0).abs() <= 0.2, "{report}");
        assert_eq!(report.swing.pairs, 8);

        // Straight eighths played over a swinging band.
        let straight = grid(150.0, 1.0);
        let frames = eighths(&straight, 2, 0.0, 0.0);
        let report = TimingReport::measure(&frames, &g);
        let ratio = report.swing.player.expect("measured");
        assert!((ratio - 1.0).abs() <= 0.1, "{report}");

        // A single pair is not enough to say.
        let report = TimingReport::measure(&frames[..2], &g);
        assert_eq!((report.swing.pairs, report.swing.player), (1, None));
    }

    #[test]
    fn late_downbeats_over_exact_offbeats_read_laid_back() {
        let g = grid(150.0, 2.0);
        let report = TimingReport::measure(&eighths(&g, 4, 30.0, 0.0), &g);
        assert!((report.downbeats.mean_ms - 30.0).abs() <= 1.0);
        assert!(report.offbeats.mean_ms.abs() <= 1.0);
        assert_eq!(report.verdict, TimingVerdict::LaidBack, "{report}");
        // The same lag on every note is dragging.
        let report = TimingReport::measure(&eighths(&g, 4, 30.0, 30.0), &g);
        assert_eq!(report.verdict, TimingVerdict::Dragging);
        // So are downbeats later than swing explains, over exact offbeats.
        let report = TimingReport::measure(&eighths(&g, 4, 60.0, 0.0), &g);
        assert_eq!(report.verdict, TimingVerdict::Dragging, "{report}");
    }

    #[test]
    fn downbeats_and_offbeats_leaning_apart_read_as_a_different_swing() {
        let g = grid(150.0, 2.5);
        let report = TimingReport::measure(&eighths(&g, 4, 20.0, -30.0), &g);
        assert_eq!(report.verdict, TimingVerdict::Straighter, "{report}");
        let report = TimingReport::measure(&eighths(&g, 4, -20.0, 30.0), &g);
        assert_eq!(report.verdict, TimingVerdict::SwungHarder, "{report}");
    }

    #[test]
    fn within_25ms_shares_by_hand() {
        let g = grid(150.0, 2.0);
        // Downbeats 0, +30, -10 ms; offbeats +26, -20 ms. In the pocket: 0, -10 (2 of
        // 3 downbeats), -20 (1 of 2 offbeats): 3 of 5 overall.
        let frames = [
            engine_frame(&g, 0.0, 0.0),
            engine_frame(&g, 1.0, 30.0),
            engine_frame(&g, 2.0, -10.0),
            engine_frame(&g, 0.5, 26.0),
            engine_frame(&g, 2.5, -20.0),
        ];
        let report = TimingReport::measure(&frames, &g);
        assert_eq!((report.downbeats.count, report.offbeats.count), (3, 2));
        assert!((report.within_25ms - 0.6).abs() < 1e-9);
        assert!((report.downbeats.within_25ms - 2.0 / 3.0).abs() < 1e-9);
        assert!((report.offbeats.within_25ms - 0.5).abs() < 1e-9);
        assert!((report.downbeats.mean_ms - 20.0 / 3.0).abs() < 0.1);
        assert!((report.offbeats.mean_ms - 3.0).abs() < 0.1);
        assert_eq!(report.notes[1].placement, GridPlacement::Offbeat);
    }

    #[test]
    fn the_console_line() {
        let report = TimingReport {
            notes: Vec::new(),
            count: 12,
            mean_ms: 12.4,
            spread_ms: 17.6,
            within_25ms: 0.5,
            downbeats: ClassTiming::default(),
            offbeats: ClassTiming::default(),
            verdict: TimingVerdict::Dragging,
            swing: Swing {
                player: Some(1.94),
                ride: 2.5,
                pairs: 4,
            },
        };
        assert_eq!(
            report.to_string(),
            "time +12 ms (dragging) ±18 · swing 1.9:1 (ride 2.5:1)"
        );
        let report = TimingReport {
            mean_ms: -0.4,
            spread_ms: 3.2,
            verdict: TimingVerdict::LaidBack,
            swing: Swing {
                player: None,
                ride: 1.0,
                pairs: 0,
            },
            ..report
        };
        assert_eq!(
            report.to_string(),
            "time +0 ms (laid back) ±3 · swing – (ride 1.0:1)"
        );
    }

    #[test]
    fn no_notes_no_nan() {
        let g = grid(120.0, 2.0);
        let report = TimingReport::measure(&[], &g);
        assert_eq!(report.count, 0);
        assert_eq!(report.verdict, TimingVerdict::OnTime);
        assert_eq!(report.swing.player, None);
        let json = serde_json::to_value(&report).expect("serialisable");
        assert_eq!(json["count"], 0);
        assert_eq!(json["mean_ms"], 0.0);
        assert_eq!(json["downbeats"]["spread_ms"], 0.0);
        assert_eq!(json["offbeats"]["within_25ms"], 0.0);
        assert_eq!(json["verdict"], "on_time");
        assert!(json["swing"]["player"].is_null());
        assert_eq!(json["swing"]["ride"], 2.0);
        assert!(json.get("notes").is_none(), "{json}");
        let back: TimingReport = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, report);
        assert_eq!(
            report.to_string(),
            "time +0 ms (on time) ±0 · swing – (ride 2.0:1)"
        );
    }
}
