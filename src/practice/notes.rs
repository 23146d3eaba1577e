//! Note choice: how the player's notes sat in the harmony. Each note is judged against
//! the chord and mode of the bar it is heard in (a note anticipating a bar line belongs
//! to the next bar, as in the phrase panel).

use serde::{Deserialize, Serialize};

use super::{BarPlace, classify, is_strong_beat};
use crate::band::{Arrangement, BarLine, ChordSlot};
use crate::theory::{NoteRole, PitchClass};

/// `count` of `total`, and their ratio (0 when `total` is 0, never NaN).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub count: usize,
    pub total: usize,
    /// `count / total`, 0 … 1.
    pub share: f64,
}

impl Share {
    pub fn of(count: usize, total: usize) -> Self {
        Self {
            count,
            total,
            share: if total == 0 {
                0.0
            } else {
                count as f64 / total as f64
            },
        }
    }
}

/// The chord and mode a bar of the journal was played over: its bar of the form (a loop
/// repeats a stretch of it, so not its index wrapped by the form).
pub fn slot_of_bar(arrangement: &Arrangement, line: &BarLine) -> ChordSlot {
    // A key cycle moves the bar's chord from the arrangement's key.
    arrangement
        .slot_at(u64::from(line.form_bar))
        .0
        .transposed(arrangement.key, line.key_shift)
}

/// A note placed in the form: the key and where it is heard.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlacedNote {
    pub key: u8,
    pub place: BarPlace,
}

/// How the notes sat in the harmony.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NoteChoice {
    /// Notes judged.
    pub count: usize,
    /// Notes in the mode (or in the chord) of the bar they are heard in.
    pub in_mode: Share,
    /// Of the notes on a strong beat (within a quarter beat of beat 1, or of the middle
    /// beat of an even meter: 1 and 3 in 4/4), those that are chord tones.
    pub chord_tones_on_strong_beats: Share,
    /// Notes that are the mode's characteristic tone (B over Dm7 in D Dorian, B♭ over C7
    /// in C Mixolydian), chord tone or not, of all notes.
    pub characteristic_tone: Share,
    /// Of the notes outside the mode, those whose next note is a half step away and in
    /// the mode of its own bar.
    pub outside_resolved: Share,
}

impl NoteChoice {
    /// Judge notes in the order they were played.
    pub fn measure(notes: &[PlacedNote], arrangement: &Arrangement) -> Self {
        let judged: Vec<(u8, NoteRole, bool, bool)> = notes
            .iter()
            .map(|note| {
                let slot = slot_of_bar(arrangement, &note.place.line);
                let (role, _) = classify(&slot, note.key);
                let strong =
                    note.place.on_beat() && is_strong_beat(note.place.beat, note.place.line.beats);
                let characteristic = PitchClass::from_midi(note.key).semitones()
                    == slot.scale.characteristic().semitones();
                (note.key, role, strong, characteristic)
            })
            .collect();
        let count = judged.len();
        let inside = |role: NoteRole| role != NoteRole::Outside;
        let in_mode = judged.iter().filter(|n| inside(n.1)).count();
        let strong: Vec<_> = judged.iter().filter(|n| n.2).collect();
        let strong_chord_tones = strong.iter().filter(|n| n.1 == NoteRole::ChordTone).count();
        let characteristic = judged.iter().filter(|n| n.3).count();
        let outside = judged.iter().filter(|n| !inside(n.1)).count();
        let resolved = judged
            .windows(2)
            .filter(|pair| {
                let (from, to) = (pair[0], pair[1]);
                !inside(from.1) && inside(to.1) && from.0.abs_diff(to.0) == 1
            })
            .count();
        Self {
            count,
            in_mode: Share::of(in_mode, count),
            chord_tones_on_strong_beats: Share::of(strong_chord_tones, strong.len()),
            characteristic_tone: Share::of(characteristic, count),
            outside_resolved: Share::of(resolved, outside),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset;

    fn generique() -> Arrangement {
        Arrangement::new(&preset::find("generique").unwrap(), None).unwrap()
    }

    /// A note on `beat` (`distance` beats off it) of form bar `form_bar`.
    fn note(key: u8, form_bar: u32, beat: u32, distance: f64) -> PlacedNote {
        PlacedNote {
            key,
            place: BarPlace {
                line: BarLine {
                    key_shift: 0,
                    index: u64::from(form_bar),
                    form_bar,
                    start: 0.0,
                    samples_per_beat: 43_636.4,
                    beats: 4,
                    tempo: 66.0,
                },
                beat,
                distance,
            },
        }
    }

    #[test]
    fn shares_by_hand_over_dm7_and_c7() {
        let a = generique();
        // Bar 1 (Dm7, D Dorian): D on 1, E off the beat, B♭ (outside) on 3 resolving
        // down to A, C♯ (outside) then D♯ (outside, a whole step: not resolved).
        // Bar 5 (C7, C Mixolydian): B♭ on 1 (chord tone and the characteristic tone),
        // B (outside) resolving up to C on 3.
        let notes = [
            note(62, 0, 0, 0.0),
            note(64, 0, 1, 0.33),
            note(70, 0, 2, 0.02),
            note(69, 0, 3, 0.0),
            note(61, 0, 3, 0.33),
            note(63, 1, 0, 0.4),
            note(70, 4, 0, 0.0),
            note(71, 4, 1, 0.0),
            note(72, 4, 2, 0.1),
        ];
        let choice = NoteChoice::measure(&notes, &a);
        assert_eq!(choice.count, 9);
        // Outside: B♭ and C♯ and D♯ over Dm7, B over C7: 4 of 9; 5 in the mode.
        assert_eq!(choice.in_mode, Share::of(5, 9));
        // On strong beats: D (bar 1, 1), B♭ (bar 1, 3), B♭ (bar 5, 1), C (bar 5, 3); the
        // D♯ is 0.4 beats off beat 1. Chord tones among them: D, B♭ over C7, C: 3 of 4.
        assert_eq!(choice.chord_tones_on_strong_beats, Share::of(3, 4));
        // B♭ over C7 is Mixolydian's characteristic tone; there is no B over Dm7.
        assert_eq!(choice.characteristic_tone, Share::of(1, 9));
        // B♭ → A and B → C resolve; C♯ → D♯ and D♯ → B♭ (over C7, in the mode, but a
        // seventh away) do not.
        assert_eq!(choice.outside_resolved, Share::of(2, 4));
        assert!((choice.outside_resolved.share - 0.5).abs() < 1e-12);
    }

    #[test]
    fn nothing_played_is_all_zero() {
        let choice = NoteChoice::measure(&[], &generique());
        assert_eq!(choice, NoteChoice::default());
        assert_eq!(choice.in_mode.share, 0.0);
    }
}
