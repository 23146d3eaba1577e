//! Pitch estimation with YIN (de Cheveigné & Kawahara 2002).
//!
//! The difference function `d(τ) = Σ (x[j] − x[j+τ])²` over a fixed window, normalised
//! by its cumulative mean (`d'(τ) = d(τ)·τ / Σ_{1..τ} d`), is searched for the *first*
//! dip below an absolute threshold (0.15), followed down to its local minimum and
//! refined by parabolic interpolation. Taking the first dip rather than the deepest one
//! is what avoids octave-down errors; the cumulative-mean normalisation keeps the dip at
//! half the period high (≈ 2·Σ odd-partial power / Σ all, ~0.6 for a bass whose second
//! harmonic is twice the fundamental), which avoids octave-up errors. When no dip is
//! that clean — a decaying, inharmonic note, or the previous note still ringing under
//! it — the threshold is relaxed to 0.1 above the deepest dip rather than jumping to the
//! deepest dip (classic YIN), which would often be a multiple of the period. A segment
//! whose best dip is above 0.5 is reported as unpitched.
//!
//! Low pitch ranges are decimated first (to ≥ 16 × `max_hz` and ≥ 4 kHz, at most 8×),
//! which costs nothing in accuracy and divides the work by up to 64. On synthetic
//! plucked-bass tones (MIDI 28–55, second harmonic twice the fundamental, slight
//! inharmonicity) the error is under 0.1 semitone, also with the previous note ringing
//! under the new one and over a brush-like noise bed.

use std::borrow::Cow;

use super::dsp::decimate;

/// Below this best normalised difference a segment counts as pitched at the first dip.
const YIN_THRESHOLD: f32 = 0.15;
/// How far above the deepest dip an earlier dip may be and still be taken.
const RELAXED_MARGIN: f32 = 0.1;
/// Above this best normalised difference the segment is reported as unpitched.
const UNPITCHED: f32 = 0.5;
/// The attack is skipped by [`note_pitches`]: it is noisy and often sharp.
const ATTACK_SKIP_S: f32 = 0.03;
/// Longest excerpt of a note used by [`note_pitches`].
const NOTE_WINDOW_S: f32 = 0.15;

/// One pitch measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PitchEstimate {
    /// Fundamental frequency in Hz.
    pub hz: f32,
    /// The same as a fractional MIDI note number (A4 = 69 = 440 Hz).
    pub midi: f32,
    /// 1 − the normalised difference at the chosen period: ≈ 1 for a clean periodic tone,
    /// 0.85–0.95 for a decaying, slightly inharmonic one, ≤ 0.5 never (reported as `None`).
    pub clarity: f32,
}

/// Frequency in Hz to a fractional MIDI note number.
pub fn hz_to_midi(hz: f32) -> f32 {
    69.0 + 12.0 * (hz / 440.0).log2()
}

/// Fractional MIDI note number to Hz.
pub fn midi_to_hz(midi: f32) -> f32 {
    440.0 * 2f32.powf((midi - 69.0) / 12.0)
}

/// Estimates the pitch of a segment with YIN, searching `min_hz..=max_hz`.
///
/// The segment must hold at least two periods of `min_hz` (more is better: 100–150 ms
/// for a bass note); shorter, silent or unpitched segments give `None`.
pub fn estimate_pitch(
    segment: &[f32],
    sample_rate: f32,
    min_hz: f32,
    max_hz: f32,
) -> Option<PitchEstimate> {
    if !(sample_rate > 0.0 && min_hz > 0.0 && max_hz > min_hz) {
        return None;
    }
    let factor = ((sample_rate / (16.0 * max_hz).max(4000.0)) as usize).clamp(1, 8);
    let x: Cow<[f32]> = if factor > 1 {
        Cow::Owned(decimate(segment, factor))
    } else {
        Cow::Borrowed(segment)
    };
    let rate = sample_rate / factor as f32;
    let tau_min = ((rate / max_hz).floor() as usize).max(2);
    let tau_max = (rate / min_hz).ceil() as usize;
    // One extra lag so a minimum at tau_max can still be interpolated.
    if x.len() < 2 * (tau_max + 1) {
        return None;
    }
    let window = x.len() - tau_max - 1;
    if x.iter().all(|&v| v == 0.0) {
        return None;
    }

    let mut cmnd = vec![1.0f32; tau_max + 2];
    let mut running = 0.0f64;
    let head = &x[..window];
    for (tau, value) in cmnd.iter_mut().enumerate().skip(1) {
        let d: f32 = head
            .iter()
            .zip(&x[tau..tau + window])
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        running += f64::from(d);
        *value = if running > 0.0 {
            (f64::from(d) * tau as f64 / running) as f32
        } else {
            1.0
        };
    }

    // The first dip below the threshold, followed down to its bottom. When nothing is
    // that clean (a decaying, inharmonic note, or the previous note still ringing under
    // it) the threshold is relaxed to just above the deepest dip, so that the first of
    // several near-equal dips (the period, not a multiple of it) still wins.
    let deepest = (tau_min..=tau_max)
        .map(|t| cmnd[t])
        .fold(f32::INFINITY, f32::min);
    let accept = YIN_THRESHOLD.max(deepest + RELAXED_MARGIN);
    let mut tau = (tau_min..=tau_max).find(|&t| cmnd[t] < accept)?;
    while tau < tau_max && cmnd[tau + 1] < cmnd[tau] {
        tau += 1;
    }
    if cmnd[tau] > UNPITCHED {
        return None;
    }
    // Parabola through the three points around the dip.
    let (l, c, r) = (cmnd[tau - 1], cmnd[tau], cmnd[tau + 1]);
    let curvature = l - 2.0 * c + r;
    let shift = if curvature > 0.0 {
        (0.5 * (l - r) / curvature).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    let hz = rate / (tau as f32 + shift);
    Some(PitchEstimate {
        hz,
        midi: hz_to_midi(hz),
        clarity: (1.0 - c).clamp(0.0, 1.0),
    })
}

/// Estimates the pitch of each note of a monophonic line given its onset samples (in
/// time order): note *i* is the audio from `onsets[i]` to `onsets[i + 1]` (or the end).
///
/// The first 30 ms (the attack) are skipped and at most 150 ms are used; when the note
/// is too short for that, the skip shrinks so that two periods of `min_hz` still fit.
/// Notes that remain too short, silent or unpitched give `None`.
pub fn note_pitches(
    signal: &[f32],
    sample_rate: f32,
    onsets: &[usize],
    min_hz: f32,
    max_hz: f32,
) -> Vec<Option<PitchEstimate>> {
    let skip_nominal = (ATTACK_SKIP_S * sample_rate) as usize;
    let window = (NOTE_WINDOW_S * sample_rate) as usize;
    // Two periods at the lowest pitch, plus what decimation's filter consumes.
    let needed = (2.2 * sample_rate / min_hz.max(1.0)) as usize + (0.006 * sample_rate) as usize;
    onsets
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let end = onsets
                .get(i + 1)
                .copied()
                .unwrap_or(signal.len())
                .min(signal.len());
            let length = end.checked_sub(start)?;
            let skip = if length >= skip_nominal + needed {
                skip_nominal
            } else {
                length.saturating_sub(needed).max(length / 8)
            };
            let from = start + skip;
            let to = (from + window).min(end);
            estimate_pitch(&signal[from..to], sample_rate, min_hz, max_hz)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::onset::{Band, OnsetOptions, detect_onsets};
    use super::super::test_signals::{Rng, brush_bed, plucked_bass};
    use super::*;

    const SR: f32 = 48_000.0;

    #[test]
    fn pure_tones_are_exact() {
        for hz in [41.2f32, 98.0, 220.0, 440.0, 1000.0] {
            let x: Vec<f32> = (0..7200)
                .map(|i| (std::f32::consts::TAU * hz * i as f32 / SR).sin())
                .collect();
            let p = estimate_pitch(&x, SR, 30.0, 1500.0).unwrap();
            assert!((p.hz / hz - 1.0).abs() < 0.001, "{hz} Hz read as {p:?}");
            assert!(p.clarity > 0.98);
        }
    }

    #[test]
    fn plucked_bass_midi_28_to_55() {
        // Every note, measured the way a test would: a 150 ms window after a 30 ms skip.
        let mut worst = 0.0f32;
        for midi in 28..=55 {
            let target = midi as f32;
            let note = plucked_bass(midi_to_hz(target), 0.5, SR);
            let p = estimate_pitch(&note[1440..1440 + 7200], SR, 35.0, 250.0)
                .unwrap_or_else(|| panic!("no pitch for MIDI {midi}"));
            let error = p.midi - target;
            assert!(error.abs() < 0.5, "MIDI {midi} read as {p:?}");
            worst = worst.max(error.abs());
        }
        // Stiffness raises the partials, but the fundamental's period still rules: cents.
        assert!(worst < 0.1, "worst error {worst} semitones");
    }

    #[test]
    fn weak_fundamental_is_not_an_octave_up() {
        // Fundamental 8 dB under the second harmonic, late in the decay.
        let note = plucked_bass(midi_to_hz(33.0), 1.0, SR);
        let p = estimate_pitch(&note[24_000..24_000 + 7200], SR, 35.0, 250.0).unwrap();
        assert!((p.midi - 33.0).abs() < 0.5, "{p:?}");
    }

    #[test]
    fn note_pitches_follow_a_walking_line() {
        let line = [38.0f32, 41.0, 45.0, 48.0, 50.0, 43.0, 31.0, 28.0];
        let beat = (0.5 * SR) as usize;
        let mut x = vec![0.0f32; beat * (line.len() + 1)];
        let mut onsets = Vec::new();
        for (i, &m) in line.iter().enumerate() {
            let note = plucked_bass(midi_to_hz(m), 0.7, SR);
            let start = 2400 + i * beat;
            onsets.push(start);
            let end = (start + note.len()).min(x.len());
            // Legato: the previous note still rings under the next attack.
            x[start..end]
                .iter_mut()
                .zip(&note)
                .for_each(|(v, n)| *v += 0.4 * n);
        }
        let pitches = note_pitches(&x, SR, &onsets, 35.0, 250.0);
        for (p, &m) in pitches.iter().zip(&line) {
            let p = p.unwrap();
            assert!((p.midi - m).abs() < 0.5, "expected {m}, got {p:?}");
        }
    }

    #[test]
    fn onsets_then_pitches_over_a_brush_sweep() {
        // The way a render test uses the toolkit: find the notes, then name them. Every
        // note from MIDI 28 to 55 once, in a scrambled order, legato, over brushes.
        let mut rng = Rng::new(12);
        let step = (0.3 * SR) as usize;
        let midis: Vec<f32> = (0..28).map(|i| 28.0 + ((i * 11) % 28) as f32).collect();
        let mut x = brush_bed(step * (midis.len() + 2), SR, 0.5, 0.05, &mut rng);
        for (i, &m) in midis.iter().enumerate() {
            let note = plucked_bass(midi_to_hz(m), 0.35, SR);
            let start = step + i * step;
            x[start..start + note.len()]
                .iter_mut()
                .zip(&note)
                .for_each(|(v, n)| *v += 0.5 * n);
        }
        let onsets: Vec<usize> =
            detect_onsets(&x, SR, &OnsetOptions::with_band(Band::LowPass(300.0)))
                .iter()
                .map(|o| o.sample)
                .filter(|&s| s > step / 2)
                .collect();
        assert_eq!(onsets.len(), midis.len());
        let pitches = note_pitches(&x, SR, &onsets, 35.0, 250.0);
        for (p, &m) in pitches.iter().zip(&midis) {
            let p = p.unwrap_or_else(|| panic!("MIDI {m} unpitched"));
            assert!((p.midi - m).abs() < 0.5, "expected {m}, got {p:?}");
        }
    }

    #[test]
    fn silence_noise_and_short_segments_are_unpitched() {
        assert!(estimate_pitch(&[0.0; 4800], SR, 40.0, 400.0).is_none());
        assert!(estimate_pitch(&[0.1; 100], SR, 40.0, 400.0).is_none());
        let mut rng = Rng::new(11);
        let noise: Vec<f32> = (0..7200).map(|_| rng.signed()).collect();
        assert!(estimate_pitch(&noise, SR, 40.0, 400.0).is_none());
        assert_eq!(note_pitches(&noise, SR, &[7000], 40.0, 400.0), vec![None]);
        assert!((hz_to_midi(midi_to_hz(40.3)) - 40.3).abs() < 1e-4);
    }
}
