//! What the player's notes are over the band: each note's role against the chord and
//! mode sounding when it started, and phrases (notes between rests) judged as a teacher
//! would: how much of it was inside the mode, whether it landed on a chord tone on a
//! strong beat, and how much space the player left before it.
//!
//! The practice report ([`PracticeReport`]) judges a whole take or a phrase: time and feel
//! against the band's grid ([`timing`]), note choice ([`notes`]) and space ([`space`]),
//! from the player's notes and the bar lines of the engine's journal ([`PracticeLog`]) on
//! a tempo map ([`grid`]). The same function serves the console, `render --report` and
//! takes.
//!
//! Pure and deterministic: fed with the engine's [`NoteOnset`]s and the held-key state
//! of each telemetry snapshot, or with its journal, never a clock. UI thread (or tests,
//! or an offline render).

pub mod grid;
pub mod log;
pub mod notes;
pub mod phrase;
pub mod report;
pub mod space;
pub mod timing;

pub use grid::{BarPlace, BeatGrid, GridBar};
pub use log::{PlayedNote, PracticeLog};
pub use notes::{NoteChoice, PlacedNote, Share, slot_of_bar};
pub use phrase::{Landing, Phrase, PhraseNote, PhraseTracker, REST_BEATS};
pub use report::PracticeReport;
pub use space::{PhraseLength, Space, phrase_spans};
pub use timing::{
    ClassTiming, GridPlacement, LAID_BACK_MAX_MS, LAID_BACK_MIN_MS, LEAN_MS, NoteTiming,
    PAIR_OFFBEAT_WINDOW, PAIR_ON_BEAT, POCKET_MS, Swing, TimingReport, TimingVerdict,
};

use crate::band::{Arrangement, ChordSlot};
use crate::engine::NoteOnset;
use crate::theory::{NoteRole, PitchClass, SpelledPitch};

/// A MIDI key's role over a chord slot, and how the slot's mode spells it.
pub fn classify(slot: &ChordSlot, key: u8) -> (NoteRole, SpelledPitch) {
    let pc = PitchClass::from_midi(key);
    (slot.scale.classify(pc), slot.mode.spell(pc))
}

/// The chord slot a note belongs to. A note played just before a bar line (within
/// [`ANTICIPATION_BEATS`]) belongs to the next bar: a jazz player anticipates the
/// change, and the note is heard against the chord it leads into.
pub fn slot_for<'a>(arrangement: &'a Arrangement, onset: &NoteOnset) -> &'a ChordSlot {
    let (bar, _) = bar_and_beat(arrangement, onset);
    // The form bar played, not the bar count wrapped by the form: a loop repeats a
    // stretch of the form, and the bar after its last is its first.
    let position = onset.position;
    let form_bar = if bar == position.bar {
        position.form_bar
    } else {
        position.next_form_bar
    };
    arrangement.slot_at(u64::from(form_bar)).0
}

/// How early a note before a beat still counts as on that beat, in beats (an eighth
/// note's worth of push at most).
pub const ANTICIPATION_BEATS: f32 = 0.25;

/// The bar and the nearest beat (0-based) a note is heard on, with anticipation: beat 3.9
/// of bar 4 is beat 0 of bar 5. The second value is the distance from that beat.
pub fn bar_and_beat(arrangement: &Arrangement, onset: &NoteOnset) -> (u64, (u32, f32)) {
    let beats = arrangement.beats_per_bar.max(1);
    let beat = onset.position.beat;
    let nearest = beat.round();
    let distance = (beat - nearest).abs();
    let mut bar = onset.position.bar;
    let mut whole = nearest as u32;
    if whole >= beats && distance <= ANTICIPATION_BEATS {
        bar += 1;
        whole = 0;
    }
    (bar, (whole.min(beats - 1), distance))
}

/// Whether beat `beat` (0-based) of a bar of `beats` is a strong beat: the first, and
/// the middle one in an even meter (1 and 3 in 4/4).
pub fn is_strong_beat(beat: u32, beats: u32) -> bool {
    beat == 0 || (beats % 2 == 0 && beats >= 4 && beat == beats / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::band::Position;
    use crate::preset;

    fn generique() -> Arrangement {
        Arrangement::new(&preset::find("generique").unwrap(), None).unwrap()
    }

    fn onset(bar: u64, beat: f32) -> NoteOnset {
        NoteOnset {
            key: 62,
            velocity: 0.8,
            frame: 0,
            position: Position::in_form(&generique(), bar, beat),
            in_form: true,
        }
    }

    #[test]
    fn b_natural_is_dorian_colour_over_dm7_and_outside_over_c7() {
        let a = generique();
        let (role, name) = classify(&a.slots[0], 71);
        assert_eq!(
            (role, name.to_string().as_str()),
            (NoteRole::Characteristic, "B")
        );
        let (role, _) = classify(&a.slots[1], 71);
        assert_eq!(role, NoteRole::Outside);
        let (role, name) = classify(&a.slots[1], 70);
        assert_eq!(
            (role, name.to_string().as_str()),
            (NoteRole::ChordTone, "B♭")
        );
        let (role, name) = classify(&a.slots[1], 65);
        assert_eq!((role, name.to_string().as_str()), (NoteRole::Avoid, "F"));
    }

    #[test]
    fn a_note_pushed_before_the_change_belongs_to_the_next_chord() {
        let a = generique();
        // Bar 4 (0-based 3) is the last Dm7 bar; beat 3.85 anticipates the C7.
        assert_eq!(slot_for(&a, &onset(3, 3.85)).chord.to_string(), "C7");
        assert_eq!(slot_for(&a, &onset(3, 3.5)).chord.to_string(), "Dm7");
        assert_eq!(bar_and_beat(&a, &onset(3, 3.85)).1.0, 0);
        let (bar, (beat, distance)) = bar_and_beat(&a, &onset(2, 1.9));
        assert_eq!((bar, beat), (2, 2));
        assert!((distance - 0.1).abs() < 1e-4);
    }

    #[test]
    fn strong_beats() {
        assert!(is_strong_beat(0, 4) && is_strong_beat(2, 4));
        assert!(!is_strong_beat(1, 4) && !is_strong_beat(3, 4));
        assert!(is_strong_beat(0, 3) && !is_strong_beat(1, 3));
    }
}
