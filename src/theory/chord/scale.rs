//! [`ChordScale`]: a chord heard in a mode, which sorts every pitch class into chord tone,
//! characteristic tone, tension, avoid note or outside note.

use std::fmt;

use super::symbol::ChordSymbol;
use crate::theory::mode::Mode;
use crate::theory::pitch::{PitchClass, PitchClassSet};

/// What a pitch class is over a chord in a mode, as the practice console colours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoteRole {
    /// In the chord (the bass of a slash chord is not counted).
    ChordTone,
    /// The mode's characteristic tone, when it is not a chord tone.
    Characteristic,
    /// A mode tone that is neither a chord tone nor an avoid note.
    Tension,
    /// A mode tone that clashes with the chord (see [`ChordScale::avoid_notes`]).
    Avoid,
    /// Not in the mode.
    Outside,
}

impl NoteRole {
    /// Lower-case label for the console and logs: "chord tone", "avoid", ….
    pub const fn label(self) -> &'static str {
        match self {
            NoteRole::ChordTone => "chord tone",
            NoteRole::Characteristic => "characteristic",
            NoteRole::Tension => "tension",
            NoteRole::Avoid => "avoid",
            NoteRole::Outside => "outside",
        }
    }
}

impl fmt::Display for NoteRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A chord heard in a mode ("Dm7 in D Dorian"), with its pitch classes sorted once so that
/// [`ChordScale::classify`] is a few bit tests on the audio thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChordScale {
    chord: ChordSymbol,
    mode: Mode,
    chord_tones: PitchClassSet,
    mode_tones: PitchClassSet,
    avoid: PitchClassSet,
    characteristic: PitchClass,
}

impl ChordScale {
    /// The chord in `mode`. The mode need not contain the chord; chord tones outside it
    /// still classify as [`NoteRole::ChordTone`].
    pub const fn new(chord: &ChordSymbol, mode: &Mode) -> Self {
        let chord_tones = chord.pitch_classes();
        let mode_tones = mode.pitch_classes();
        let root = chord.root_pc();
        let candidates = mode_tones.difference(chord_tones);
        // The standard rule: a non-chord mode tone a half step above a chord tone.
        let mut avoid = candidates.intersection(chord_tones.transpose(1));
        if chord.quality.is_dominant() {
            // On a dominant, ♭9 and ♭13 are the altered tensions that resolve, not clashes.
            avoid = avoid.without(root.transpose(1)).without(root.transpose(8));
        }
        if chord.quality.is_suspended() {
            // A third would cancel the suspension.
            let thirds = PitchClassSet::EMPTY
                .with(root.transpose(3))
                .with(root.transpose(4));
            avoid = avoid.union(candidates.intersection(thirds));
        }
        Self {
            chord: *chord,
            mode: *mode,
            chord_tones,
            mode_tones,
            avoid,
            characteristic: mode.characteristic_tone().pitch_class(),
        }
    }

    /// The chord in its [`ChordSymbol::default_mode`].
    pub const fn from_chord(chord: &ChordSymbol) -> Self {
        Self::new(chord, &chord.default_mode())
    }

    pub const fn chord(&self) -> ChordSymbol {
        self.chord
    }

    pub const fn mode(&self) -> Mode {
        self.mode
    }

    pub const fn chord_tones(&self) -> PitchClassSet {
        self.chord_tones
    }

    pub const fn mode_tones(&self) -> PitchClassSet {
        self.mode_tones
    }

    /// Mode tones that are neither chord tones nor avoid notes. May include the
    /// characteristic tone, which [`ChordScale::classify`] reports as such.
    pub const fn tensions(&self) -> PitchClassSet {
        self.mode_tones
            .difference(self.chord_tones)
            .difference(self.avoid)
    }

    /// Mode tones that are not chord tones and lie a half step above a chord tone: F over
    /// C7 in Mixolydian or Cmaj7 in Ionian, B♭ over Dm7 in Aeolian, E♭ over Dm7 in
    /// Phrygian; none for Dm7 in Dorian. Two standard refinements: on a dominant chord the
    /// ♭9 and ♭13 are tensions, and on a sus chord the 3rd is avoided. May include the
    /// characteristic tone (the 4 of Ionian), which [`ChordScale::classify`] reports as
    /// characteristic.
    pub const fn avoid_notes(&self) -> PitchClassSet {
        self.avoid
    }

    /// The pitch class of the mode's characteristic tone.
    pub const fn characteristic(&self) -> PitchClass {
        self.characteristic
    }

    /// The role of `pc`, by priority: chord tone, characteristic, avoid, tension, outside.
    pub const fn classify(&self, pc: PitchClass) -> NoteRole {
        if self.chord_tones.contains(pc) {
            NoteRole::ChordTone
        } else if pc.semitones() == self.characteristic.semitones() {
            NoteRole::Characteristic
        } else if self.avoid.contains(pc) {
            NoteRole::Avoid
        } else if self.mode_tones.contains(pc) {
            NoteRole::Tension
        } else {
            NoteRole::Outside
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theory::chord::ChordQuality;
    use crate::theory::mode::ModeKind;
    use crate::theory::pitch::SpelledPitch;

    fn chord(s: &str) -> ChordSymbol {
        ChordSymbol::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn names(set: PitchClassSet, mode: Mode) -> String {
        set.iter()
            .map(|pc| mode.spell(pc).to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn avoid_notes_table() {
        let avoid = |c: &str, m: &str| {
            let mode = Mode::parse(m).unwrap();
            names(ChordScale::new(&chord(c), &mode).avoid_notes(), mode)
        };
        assert_eq!(avoid("C7", "C mixolydian"), "F");
        assert_eq!(avoid("Cmaj7", "C ionian"), "F");
        assert_eq!(avoid("Dm7", "D aeolian"), "B♭");
        assert_eq!(avoid("Dm7", "D phrygian"), "E♭ B♭");
        assert_eq!(avoid("Dm7", "D dorian"), "");
        assert_eq!(avoid("Dm11", "D dorian"), "");
        assert_eq!(avoid("Cmaj7", "C lydian"), "");
        assert_eq!(avoid("C13", "C mixolydian"), "F");
        assert_eq!(avoid("Em7b5", "E locrian"), "F");
        assert_eq!(avoid("Em7b5", "E locrian nat2"), "");
        assert_eq!(
            avoid("G7alt", "G altered"),
            "",
            "♭9 and ♭13 are tensions on a dominant"
        );
        assert_eq!(avoid("A7b9", "A phrygian dominant"), "D");
        assert_eq!(avoid("C7#11", "C lydian dominant"), "");
        assert_eq!(
            avoid("C7sus4", "C mixolydian"),
            "E",
            "the 3rd cancels the sus"
        );
        assert_eq!(
            avoid("C7", "C dorian"),
            "F",
            "E♭ lies a half step below E: no avoid"
        );
        assert_eq!(avoid("Dm7", "D ionian"), "C♯ F♯");
    }

    #[test]
    fn classify_dm7_in_d_dorian() {
        use NoteRole::*;
        let scale = ChordScale::new(&chord("Dm7"), &Mode::parse("D dorian").unwrap());
        let expected = [
            (0, ChordTone),       // C
            (1, Outside),         // C♯
            (2, ChordTone),       // D
            (3, Outside),         // E♭
            (4, Tension),         // E
            (5, ChordTone),       // F
            (6, Outside),         // F♯
            (7, Tension),         // G
            (8, Outside),         // G♯
            (9, ChordTone),       // A
            (10, Outside),        // B♭
            (11, Characteristic), // B
        ];
        for (pc, role) in expected {
            assert_eq!(scale.classify(PitchClass::new(pc)), role, "pc {pc}");
        }
        assert_eq!(scale.characteristic(), PitchClass::new(11));
        assert_eq!(names(scale.tensions(), scale.mode()), "E G B");
        assert_eq!(scale.mode().to_string(), "D Dorian");
        assert_eq!(scale.chord_tones(), chord("Dm7").pitch_classes());
    }

    #[test]
    fn classify_c7_in_c_mixolydian() {
        use NoteRole::*;
        let scale = ChordScale::from_chord(&chord("C7"));
        let expected = [
            (0, ChordTone),
            (1, Outside),
            (2, Tension),
            (3, Outside),
            (4, ChordTone),
            (5, Avoid),
            (6, Outside),
            (7, ChordTone),
            (8, Outside),
            (9, Tension),
            (10, ChordTone), // the characteristic ♭7 is a chord tone: chord tone wins
            (11, Outside),
        ];
        for (pc, role) in expected {
            assert_eq!(scale.classify(PitchClass::new(pc)), role, "pc {pc}");
        }
        assert_eq!(scale.characteristic(), PitchClass::new(10));
    }

    #[test]
    fn characteristic_wins_over_avoid() {
        let scale = ChordScale::from_chord(&chord("Cmaj7"));
        assert!(scale.avoid_notes().contains(PitchClass::new(5)));
        assert_eq!(scale.classify(PitchClass::new(5)), NoteRole::Characteristic);
    }

    #[test]
    fn roles_partition_the_chromatic_scale() {
        for kind in ModeKind::ALL {
            for q in ChordQuality::ALL {
                let root = SpelledPitch::parse("Eb").unwrap();
                let scale = ChordScale::new(&ChordSymbol::new(root, q), &Mode::new(root, kind));
                let (t, a, c) = (scale.tensions(), scale.avoid_notes(), scale.chord_tones());
                assert!(t.intersection(a).is_empty() && t.intersection(c).is_empty());
                assert!(a.intersection(c).is_empty());
                assert!(t.union(a).is_subset(scale.mode_tones()));
                for pc in PitchClassSet::CHROMATIC {
                    let role = scale.classify(pc);
                    let expected = match () {
                        _ if c.contains(pc) => NoteRole::ChordTone,
                        _ if pc == scale.characteristic() => NoteRole::Characteristic,
                        _ if a.contains(pc) => NoteRole::Avoid,
                        _ if t.contains(pc) => NoteRole::Tension,
                        _ => NoteRole::Outside,
                    };
                    assert_eq!(role, expected);
                }
            }
        }
    }
}
