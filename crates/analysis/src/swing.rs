//! Swing ratio from onset times on a known beat grid.
//!
//! Method:
//! 1. Each onset is folded to its offset from the nearest beat of the grid
//!    (`grid_origin_s + k · beat_period_s`).
//! 2. **Constant offset.** Onsets within ±60 ms of a beat (and within a fifth of a beat,
//!    so fast tempi don't mistake a late skip note for the next beat) are on-beat
//!    candidates; their median offset is a first estimate of how far ahead (negative) or
//!    behind the player sits. The on-beat cluster is then re-selected around that offset
//!    with a tolerance of ±min(40 ms, 12 % of a beat) and the offset re-estimated as its
//!    median.
//! 3. **Skip note.** Phases are measured from the offset beat, so a player who is early on
//!    everything does not read as straighter or more swung. Onsets with phase 0.42–0.88
//!    form the off-beat cluster (swing ratios ≈ 0.7 to 7: straight through hard swing,
//!    excluding triplet "let" notes at 1/3); its median phase `p` gives the ratio
//!    `r = p / (1 − p)`, i.e. (skip − beat) / (next beat − skip).
//!
//! Medians make the estimate robust to stray notes. With ±3 ms jitter and a few dozen
//! notes the ratio is within ~0.02 at 2:1; the error grows as `1 / (1 − p)²` with the
//! ratio (±3 ms of skip timing is ±0.1 at 3:1 and 120 BPM).

use super::dsp::median_f64;

/// On-beat candidates may sit this far from the grid.
const MAX_OFFSET_S: f64 = 0.060;
/// The skip-note cluster, as phase from the (offset) beat.
const SKIP_PHASES: (f64, f64) = (0.42, 0.88);

/// What [`swing_ratio_from_onsets`] measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SwingEstimate {
    /// (skip − beat) / (next beat − skip): 1.0 straight, 2.0 triplet feel, 3.0 dotted.
    pub ratio: f64,
    /// Median phase of the skip notes from the offset beat, 0..1 (2:1 is 0.667).
    pub skip_phase: f64,
    /// Median offset of the on-beat notes from the grid in seconds; negative = ahead.
    pub offset_s: f64,
    /// Number of onsets in the on-beat cluster.
    pub on_beat_count: usize,
    /// Number of onsets in the skip-note cluster.
    pub skip_count: usize,
    /// Median absolute deviation of the skip notes from their median, in seconds: how
    /// consistently the skip note is placed.
    pub skip_spread_s: f64,
}

/// Estimates the swing ratio of onsets against a beat grid; see the module docs for the
/// method. Returns `None` when the period is not positive or either cluster is empty.
pub fn swing_ratio_from_onsets(
    onset_times_s: &[f64],
    beat_period_s: f64,
    grid_origin_s: f64,
) -> Option<SwingEstimate> {
    if !(beat_period_s > 0.0 && beat_period_s.is_finite() && grid_origin_s.is_finite()) {
        return None;
    }
    let period = beat_period_s;
    let times: Vec<f64> = onset_times_s
        .iter()
        .copied()
        .filter(|t| t.is_finite())
        .collect();
    // Signed offset from the nearest beat of a grid shifted by `shift`, in seconds.
    let offset_from = |t: f64, shift: f64| {
        let phase = ((t - grid_origin_s - shift) / period).rem_euclid(1.0);
        let signed = if phase >= 0.5 { phase - 1.0 } else { phase };
        signed * period
    };

    let coarse_window = MAX_OFFSET_S.min(0.2 * period);
    let candidates: Vec<f64> = times
        .iter()
        .map(|&t| offset_from(t, 0.0))
        .filter(|o| o.abs() <= coarse_window)
        .collect();
    let coarse = median_f64(&candidates)?;

    let tolerance = 0.040f64.min(0.12 * period);
    let on_beat: Vec<f64> = times
        .iter()
        .map(|&t| offset_from(t, coarse))
        .filter(|o| o.abs() <= tolerance)
        .collect();
    let offset_s = coarse + median_f64(&on_beat)?;

    let skip_phases: Vec<f64> = times
        .iter()
        .map(|&t| ((t - grid_origin_s - offset_s) / period).rem_euclid(1.0))
        .filter(|p| (SKIP_PHASES.0..=SKIP_PHASES.1).contains(p))
        .collect();
    let skip_phase = median_f64(&skip_phases)?;
    let deviations: Vec<f64> = skip_phases
        .iter()
        .map(|p| (p - skip_phase).abs() * period)
        .collect();
    Some(SwingEstimate {
        ratio: skip_phase / (1.0 - skip_phase),
        skip_phase,
        offset_s,
        on_beat_count: on_beat.len(),
        skip_count: skip_phases.len(),
        skip_spread_s: median_f64(&deviations).unwrap_or(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_signals::Rng;
    use super::*;

    /// A ride pattern: a note on every beat, a skip note after beats 2 and 4, played
    /// `offset_s` off the grid with uniform ±`jitter_s` timing noise.
    fn ride(
        ratio: f64,
        period: f64,
        bars: usize,
        offset_s: f64,
        jitter_s: f64,
        rng: &mut Rng,
    ) -> Vec<f64> {
        let origin = 1.0;
        let skip = period * ratio / (1.0 + ratio);
        let mut times = Vec::new();
        for beat in 0..bars * 4 {
            let t = origin + beat as f64 * period + offset_s;
            times.push(t + jitter_s * f64::from(rng.signed()));
            if beat % 2 == 1 {
                times.push(t + skip + jitter_s * f64::from(rng.signed()));
            }
        }
        times
    }

    #[test]
    fn swung_grids_with_offset_and_jitter() {
        let mut rng = Rng::new(21);
        for bpm in [90.0, 140.0, 200.0] {
            let period = 60.0 / bpm;
            for ratio in [1.0, 1.5, 2.0, 3.0] {
                let times = ride(ratio, period, 16, -0.010, 0.003, &mut rng);
                let s = swing_ratio_from_onsets(&times, period, 1.0).unwrap();
                assert!(
                    (s.ratio - ratio).abs() < 0.1,
                    "{bpm} BPM, ratio {ratio}: {s:?}"
                );
                assert!((s.offset_s + 0.010).abs() < 0.002, "{s:?}");
                assert_eq!((s.on_beat_count, s.skip_count), (64, 32), "{s:?}");
                assert!(s.skip_spread_s < 0.003);
            }
        }
    }

    #[test]
    fn offset_up_to_60_ms_either_way() {
        let mut rng = Rng::new(22);
        for offset in [-0.055, -0.03, 0.0, 0.03, 0.055] {
            let times = ride(2.0, 0.5, 8, offset, 0.002, &mut rng);
            let s = swing_ratio_from_onsets(&times, 0.5, 1.0).unwrap();
            assert!((s.ratio - 2.0).abs() < 0.05, "offset {offset}: {s:?}");
            assert!((s.offset_s - offset).abs() < 0.002, "{s:?}");
        }
    }

    #[test]
    fn stray_notes_do_not_move_the_estimate() {
        let mut rng = Rng::new(23);
        let mut times = ride(2.0, 0.5, 16, -0.01, 0.003, &mut rng);
        // A few triplet "let" notes and fills at odd places.
        times.extend([1.17, 3.16, 5.3, 7.08, 9.25]);
        let s = swing_ratio_from_onsets(&times, 0.5, 1.0).unwrap();
        assert!((s.ratio - 2.0).abs() < 0.1, "{s:?}");
    }

    #[test]
    fn missing_clusters_give_none() {
        assert!(swing_ratio_from_onsets(&[], 0.5, 0.0).is_none());
        // Quarter notes only: no skip note to measure.
        assert!(swing_ratio_from_onsets(&[0.0, 0.5, 1.0, 1.5], 0.5, 0.0).is_none());
        assert!(swing_ratio_from_onsets(&[0.0, 0.33], 0.0, 0.0).is_none());
    }
}
