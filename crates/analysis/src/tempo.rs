//! Tempo from onset times: the beat period the intervals between onsets are whole
//! multiples of.
//!
//! Every interval between two onsets up to four beats apart is taken as a phase on a
//! circle of the candidate period, and the mean of their cosines says how well they fit
//! (1: every interval a whole number of beats; a band's swung eighths, at a third of a
//! beat from the beat, pull it down but the same for every candidate). Walking bass on
//! the beat, ride and hi-hat on the beat and on swung eighths agree best on the beat
//! period; its multiples and fractions are kept out by searching a range narrower than an
//! octave around the tempo expected. The estimate is refined around the best candidate,
//! so over a dozen beats it is good to a fraction of a BPM.
//!
//! Intervals, not phases against one grid: where the recording starts does not matter,
//! and a live recording that lost a few milliseconds to an xrun keeps its tempo after the
//! gap though not its phase — only the few intervals across the gap are off.

/// The tempo found, and how clearly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TempoEstimate {
    pub bpm: f64,
    /// Mean cosine of the intervals' phases on the beat period, −1 … 1 (1: all whole
    /// beats).
    pub coherence: f64,
    /// Onsets the estimate is made from.
    pub onsets: usize,
}

/// The tempo between `min_bpm` and `max_bpm` (keep the range under an octave) that the
/// onsets at `onsets_s` (seconds) line up with best. `None` with fewer than four onsets or
/// an empty range.
pub fn tempo_from_onsets(onsets_s: &[f64], min_bpm: f64, max_bpm: f64) -> Option<TempoEstimate> {
    if onsets_s.len() < 4 || !(min_bpm > 0.0 && max_bpm > min_bpm) {
        return None;
    }
    // Intervals between onsets up to four beats at the slowest tempo apart.
    let reach = 4.0 * 60.0 / min_bpm;
    let mut sorted = onsets_s.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut intervals = Vec::new();
    for (i, &from) in sorted.iter().enumerate() {
        for &to in sorted[i + 1..].iter().take_while(|&&to| to - from <= reach) {
            if to > from {
                intervals.push(to - from);
            }
        }
    }
    if intervals.is_empty() {
        return None;
    }
    let coherence = |bpm: f64| {
        let beat = 60.0 / bpm;
        intervals
            .iter()
            .map(|d| (std::f64::consts::TAU * d / beat).cos())
            .sum::<f64>()
            / intervals.len() as f64
    };
    let best_in = |from: f64, to: f64, step: f64| {
        let steps = ((to - from) / step).ceil() as usize;
        (0..=steps)
            .map(|i| (from + i as f64 * step).min(to))
            .map(|bpm| (bpm, coherence(bpm)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("at least one candidate")
    };
    let (coarse, _) = best_in(min_bpm, max_bpm, 0.1);
    let (bpm, coherence) = best_in(
        (coarse - 0.1).max(min_bpm),
        (coarse + 0.1).min(max_bpm),
        0.005,
    );
    Some(TempoEstimate {
        bpm,
        coherence,
        onsets: onsets_s.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Swung eighths at `bpm` for `beats` beats, from `start` seconds, with a little
    /// scatter: beats and skips at 2/3 of the beat, as a ride cymbal plays them.
    fn ride(bpm: f64, beats: usize, start: f64) -> Vec<f64> {
        let beat = 60.0 / bpm;
        let mut onsets = Vec::new();
        for i in 0..beats {
            let jitter = 0.004 * ((i * 7919 % 13) as f64 / 13.0 - 0.5);
            onsets.push(start + i as f64 * beat + jitter);
            if i % 2 == 1 {
                onsets.push(start + (i as f64 + 2.0 / 3.0) * beat - jitter);
            }
        }
        onsets
    }

    #[test]
    fn finds_the_beat_of_a_swung_ride_pattern_whatever_its_phase() {
        for (bpm, start) in [(66.0, 0.31), (120.0, 0.0), (132.5, 1.7), (276.0, 0.05)] {
            let estimate = tempo_from_onsets(&ride(bpm, 16, start), bpm * 0.8, bpm * 1.25)
                .expect("an estimate");
            assert!(
                (estimate.bpm - bpm).abs() < 0.01 * bpm,
                "{bpm} BPM read as {estimate:?}"
            );
            assert!(estimate.coherence > 0.25, "{estimate:?}");
        }
    }

    #[test]
    fn a_gap_that_shifts_the_phase_does_not_change_the_tempo() {
        // Two seconds of band, 37 ms lost (an xrun), then more of the same band.
        let mut onsets = ride(120.0, 8, 0.0);
        onsets.extend(ride(120.0, 8, 4.037));
        let estimate = tempo_from_onsets(&onsets, 96.0, 150.0).expect("an estimate");
        assert!((estimate.bpm - 120.0).abs() < 1.2, "{estimate:?}");
    }

    #[test]
    fn scattered_onsets_have_no_coherent_beat() {
        // Onsets at golden-ratio steps: no period in the range fits them.
        let onsets: Vec<f64> = (0..40).map(|i| i as f64 * 0.618_034 * 0.37).collect();
        let estimate = tempo_from_onsets(&onsets, 100.0, 140.0).unwrap();
        assert!(estimate.coherence < 0.1, "{estimate:?}");
        assert!(tempo_from_onsets(&onsets[..3], 100.0, 140.0).is_none());
        assert!(tempo_from_onsets(&onsets, 140.0, 100.0).is_none());
    }
}
