//! The chord quality table: for each quality its intervals and their letter steps, its
//! suffixes (written and accepted) and its default mode.

use crate::theory::mode::ModeKind;
use crate::theory::pitch::Notation;

/// The quality of a chord: everything in a chord symbol after the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChordQuality {
    Major,
    Minor,
    Major6,
    Minor6,
    Major7,
    Minor7,
    Dominant7,
    /// m7♭5, ø.
    HalfDiminished,
    Diminished,
    Diminished7,
    Augmented,
    MinorMajor7,
    Dominant7Sus4,
    Sus4,
    /// 7alt: a dominant whose 5th and 9th are altered by the scale rather than written.
    Altered,
    Minor9,
    Minor11,
    Major9,
    Dominant9,
    Dominant13,
    Dominant7Flat9,
    Dominant7Sharp9,
    Dominant7Sharp11,
    Major7Sharp11,
}

/// Everything the module knows about one chord quality.
struct QualityInfo {
    /// Semitones above the root, in stacking order (root, 3rd, 5th, 7th, extensions).
    intervals: &'static [u8],
    /// Letter steps above the root of each tone of `intervals` (3rd = 2, 9th = 1, …).
    steps: &'static [u8],
    unicode: &'static str,
    ascii: &'static str,
    /// Suffixes accepted by the parser, after [`normalize_suffix`].
    aliases: &'static [&'static str],
    mode: ModeKind,
}

impl ChordQuality {
    pub const ALL: [ChordQuality; 24] = {
        use ChordQuality::*;
        [
            Major,
            Minor,
            Major6,
            Minor6,
            Major7,
            Minor7,
            Dominant7,
            HalfDiminished,
            Diminished,
            Diminished7,
            Augmented,
            MinorMajor7,
            Dominant7Sus4,
            Sus4,
            Altered,
            Minor9,
            Minor11,
            Major9,
            Dominant9,
            Dominant13,
            Dominant7Flat9,
            Dominant7Sharp9,
            Dominant7Sharp11,
            Major7Sharp11,
        ]
    };

    /// The table behind every query. The default modes are argued in
    /// [`ChordQuality::default_mode_kind`].
    const fn info(self) -> &'static QualityInfo {
        use ChordQuality::*;
        use ModeKind as M;
        const TRIAD: &[u8] = &[0, 2, 4];
        const SEVENTH: &[u8] = &[0, 2, 4, 6];
        const NINTH: &[u8] = &[0, 2, 4, 6, 1];
        const SIXTH: &[u8] = &[0, 2, 4, 5];
        const SHARP11: &[u8] = &[0, 2, 4, 6, 3];
        match self {
            Major => &QualityInfo {
                intervals: &[0, 4, 7],
                steps: TRIAD,
                unicode: "",
                ascii: "",
                aliases: &["", "maj", "M", "Maj", "ma", "major"],
                mode: M::Ionian,
            },
            Minor => &QualityInfo {
                intervals: &[0, 3, 7],
                steps: TRIAD,
                unicode: "m",
                ascii: "m",
                aliases: &["m", "min", "mi", "-", "minor"],
                mode: M::Dorian,
            },
            Major6 => &QualityInfo {
                intervals: &[0, 4, 7, 9],
                steps: SIXTH,
                unicode: "6",
                ascii: "6",
                aliases: &["6", "maj6", "M6"],
                mode: M::Ionian,
            },
            Minor6 => &QualityInfo {
                intervals: &[0, 3, 7, 9],
                steps: SIXTH,
                unicode: "m6",
                ascii: "m6",
                aliases: &["m6", "min6", "mi6", "-6"],
                mode: M::Dorian,
            },
            Major7 => &QualityInfo {
                intervals: &[0, 4, 7, 11],
                steps: SEVENTH,
                unicode: "maj7",
                ascii: "maj7",
                aliases: &["maj7", "Maj7", "M7", "ma7", "MA7"],
                mode: M::Ionian,
            },
            Minor7 => &QualityInfo {
                intervals: &[0, 3, 7, 10],
                steps: SEVENTH,
                unicode: "m7",
                ascii: "m7",
                aliases: &["m7", "min7", "mi7", "-7"],
                mode: M::Dorian,
            },
            Dominant7 => &QualityInfo {
                intervals: &[0, 4, 7, 10],
                steps: SEVENTH,
                unicode: "7",
                ascii: "7",
                aliases: &["7", "dom7"],
                mode: M::Mixolydian,
            },
            HalfDiminished => &QualityInfo {
                intervals: &[0, 3, 6, 10],
                steps: SEVENTH,
                unicode: "m7♭5",
                ascii: "m7b5",
                aliases: &["m7b5", "min7b5", "mi7b5", "-7b5"],
                mode: M::Locrian,
            },
            Diminished => &QualityInfo {
                intervals: &[0, 3, 6],
                steps: TRIAD,
                unicode: "dim",
                ascii: "dim",
                aliases: &["dim", "o"],
                mode: M::Locrian,
            },
            Diminished7 => &QualityInfo {
                intervals: &[0, 3, 6, 9],
                steps: SEVENTH,
                unicode: "dim7",
                ascii: "dim7",
                aliases: &["dim7", "o7"],
                mode: M::UltraLocrian,
            },
            Augmented => &QualityInfo {
                intervals: &[0, 4, 8],
                steps: TRIAD,
                unicode: "+",
                ascii: "+",
                aliases: &["+", "aug"],
                mode: M::LydianAugmented,
            },
            MinorMajor7 => &QualityInfo {
                intervals: &[0, 3, 7, 11],
                steps: SEVENTH,
                unicode: "m(maj7)",
                ascii: "m(maj7)",
                aliases: &["mmaj7", "mMaj7", "mM7", "minmaj7", "-maj7"],
                mode: M::MelodicMinor,
            },
            Dominant7Sus4 => &QualityInfo {
                intervals: &[0, 5, 7, 10],
                steps: &[0, 3, 4, 6],
                unicode: "7sus4",
                ascii: "7sus4",
                aliases: &["7sus4", "7sus"],
                mode: M::Mixolydian,
            },
            Sus4 => &QualityInfo {
                intervals: &[0, 5, 7],
                steps: &[0, 3, 4],
                unicode: "sus4",
                ascii: "sus4",
                aliases: &["sus4", "sus"],
                mode: M::Mixolydian,
            },
            Altered => &QualityInfo {
                intervals: &[0, 4, 10],
                steps: &[0, 2, 6],
                unicode: "7alt",
                ascii: "7alt",
                aliases: &["7alt", "alt"],
                mode: M::Altered,
            },
            Minor9 => &QualityInfo {
                intervals: &[0, 3, 7, 10, 2],
                steps: NINTH,
                unicode: "m9",
                ascii: "m9",
                aliases: &["m9", "min9", "mi9", "-9"],
                mode: M::Dorian,
            },
            Minor11 => &QualityInfo {
                intervals: &[0, 3, 7, 10, 2, 5],
                steps: &[0, 2, 4, 6, 1, 3],
                unicode: "m11",
                ascii: "m11",
                aliases: &["m11", "min11", "mi11", "-11"],
                mode: M::Dorian,
            },
            Major9 => &QualityInfo {
                intervals: &[0, 4, 7, 11, 2],
                steps: NINTH,
                unicode: "maj9",
                ascii: "maj9",
                aliases: &["maj9", "Maj9", "M9", "ma9"],
                mode: M::Ionian,
            },
            Dominant9 => &QualityInfo {
                intervals: &[0, 4, 7, 10, 2],
                steps: NINTH,
                unicode: "9",
                ascii: "9",
                aliases: &["9"],
                mode: M::Mixolydian,
            },
            Dominant13 => &QualityInfo {
                intervals: &[0, 4, 7, 10, 2, 9],
                steps: &[0, 2, 4, 6, 1, 5],
                unicode: "13",
                ascii: "13",
                aliases: &["13"],
                mode: M::Mixolydian,
            },
            Dominant7Flat9 => &QualityInfo {
                intervals: &[0, 4, 7, 10, 1],
                steps: NINTH,
                unicode: "7♭9",
                ascii: "7b9",
                aliases: &["7b9"],
                mode: M::PhrygianDominant,
            },
            Dominant7Sharp9 => &QualityInfo {
                intervals: &[0, 4, 7, 10, 3],
                steps: NINTH,
                unicode: "7♯9",
                ascii: "7#9",
                aliases: &["7#9"],
                mode: M::Altered,
            },
            Dominant7Sharp11 => &QualityInfo {
                intervals: &[0, 4, 7, 10, 6],
                steps: SHARP11,
                unicode: "7♯11",
                ascii: "7#11",
                aliases: &["7#11"],
                mode: M::LydianDominant,
            },
            Major7Sharp11 => &QualityInfo {
                intervals: &[0, 4, 7, 11, 6],
                steps: SHARP11,
                unicode: "maj7♯11",
                ascii: "maj7#11",
                aliases: &["maj7#11", "Maj7#11", "M7#11"],
                mode: M::Lydian,
            },
        }
    }

    /// The chord tones in semitones above the root, written extensions included, in
    /// stacking order: root, 3rd, 5th, 7th (or 6th), then 9th, 11th, 13th. 7alt lists only
    /// root, 3rd and ♭7: its altered 5th and 9th come from the scale, as tensions.
    pub const fn intervals(self) -> &'static [u8] {
        self.info().intervals
    }

    /// The letter steps above the root of each tone of [`ChordQuality::intervals`]
    /// (3rd = 2, 5th = 4, 7th = 6, 9th = 1, 11th = 3, 13th = 5), which is what spells them.
    pub const fn steps(self) -> &'static [u8] {
        self.info().steps
    }

    /// The suffix written after the root: "m7", "maj7", "m7♭5" / "m7b5", "7alt", "" for a
    /// major triad.
    pub const fn suffix(self, notation: Notation) -> &'static str {
        match notation {
            Notation::Unicode => self.info().unicode,
            Notation::Ascii => self.info().ascii,
        }
    }

    /// The mode a jazz musician would play over the chord when nothing else says so:
    ///
    /// - maj, 6, maj7, maj9 → Ionian; maj7♯11 → Lydian.
    /// - m, m6, m7, m9, m11 → Dorian, the modal-jazz minor (and this album's).
    /// - 7, 9, 13, 7sus4, sus4 → Mixolydian; 7♯11 → Lydian dominant; 7alt and 7♯9 →
    ///   Altered (for 7♯9 the chord's natural 5th is not in the scale: the half-whole
    ///   diminished scale that has both is an eight-note scale, outside [`ModeKind`]).
    /// - 7♭9 → Phrygian dominant (harmonic minor's 5th mode: a V7♭9 resolving to minor).
    /// - m(maj7) → melodic minor. + → Lydian augmented.
    /// - m7♭5 and dim → **Locrian**, the diatonic choice: in a minor key (this album's D
    ///   minor) E m7♭5 is ii and its scale is the key's own notes; Locrian ♮2 is a
    ///   [`Mode`](crate::theory::Mode) away for players who want the natural 9th.
    /// - dim7 → **Ultralocrian**, harmonic minor's 7th mode: a dim7 most often acts as
    ///   vii°7 of a minor key (C♯°7 → Dm), whose notes that scale is.
    pub const fn default_mode_kind(self) -> ModeKind {
        self.info().mode
    }

    /// The tone at `step` letters above the root (2 = the 3rd, 6 = the 7th), if any.
    pub const fn tone_at_step(self, step: u8) -> Option<u8> {
        let info = self.info();
        let mut i = 0;
        while i < info.steps.len() {
            if info.steps[i] == step {
                return Some(info.intervals[i]);
            }
            i += 1;
        }
        None
    }

    /// A dominant seventh chord: a major 3rd and a minor 7th (7, 9, 13, 7♭9, 7alt, …).
    pub const fn is_dominant(self) -> bool {
        matches!(self.tone_at_step(2), Some(4)) && matches!(self.tone_at_step(6), Some(10))
    }

    /// A suspended chord: a 4th in place of the 3rd.
    pub const fn is_suspended(self) -> bool {
        self.tone_at_step(2).is_none() && self.tone_at_step(3).is_some()
    }

    /// Parses the suffix of a chord symbol (see [`ChordSymbol::parse`]).
    ///
    /// [`ChordSymbol::parse`]: super::ChordSymbol::parse
    pub(super) fn parse_suffix(suffix: &str) -> Option<Self> {
        let normalized = normalize_suffix(suffix);
        Self::ALL
            .into_iter()
            .find(|q| q.info().aliases.contains(&normalized.as_str()))
    }
}

/// Brings the many ways of writing a suffix to the alias table's spelling: ♭/♯ become
/// b/#, parentheses go, Δ becomes "maj" (and "maj7" when no number follows, since a bare
/// Δ means maj7), ø becomes "m7b5", ° becomes "o", a Unicode minus becomes "-".
fn normalize_suffix(suffix: &str) -> String {
    let mut out = String::with_capacity(suffix.len() + 4);
    let mut chars = suffix.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '(' | ')' => {}
            '♭' => out.push('b'),
            '♯' => out.push('#'),
            '−' => out.push('-'),
            '°' | 'º' => out.push('o'),
            'ø' | 'Ø' => {
                out.push_str("m7b5");
                chars.next_if_eq(&'7');
            }
            'Δ' | '∆' | '△' => {
                out.push_str("maj");
                if !chars.peek().is_some_and(char::is_ascii_digit) {
                    out.push('7');
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The canonical ASCII suffixes, comma-separated, for error messages.
pub(crate) fn known_suffixes() -> String {
    ChordQuality::ALL
        .map(|q| match q.suffix(Notation::Ascii) {
            "" => "(none: major)",
            suffix => suffix,
        })
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theory::chord::ChordSymbol;
    use crate::theory::pitch::{PitchClass, PitchClassSet};
    use ChordQuality::*;

    fn chord(s: &str) -> ChordSymbol {
        ChordSymbol::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn table_is_consistent() {
        for (i, q) in ChordQuality::ALL.into_iter().enumerate() {
            assert_eq!(q as usize, i, "ALL is in declaration order");
            let (iv, steps) = (q.intervals(), q.steps());
            assert_eq!(iv.len(), steps.len(), "{q:?}");
            assert!(iv.len() <= 7);
            assert_eq!((iv[0], steps[0]), (0, 0));
            // Each tone is at most a double accidental away from its letter's major-scale tone.
            for (&semis, &step) in iv.iter().zip(steps) {
                let major = [0, 2, 4, 5, 7, 9, 11][step as usize];
                assert!((semis as i32 - major).abs() <= 2, "{q:?}");
            }
            for n in [Notation::Unicode, Notation::Ascii] {
                let name = format!("C{}", q.suffix(n));
                assert_eq!(chord(&name).quality, q, "{name}");
            }
            assert!(q.suffix(Notation::Ascii).is_ascii());
            for a in q.info().aliases {
                assert_eq!(normalize_suffix(a), *a, "aliases are stored normalized");
                let owners = ChordQuality::ALL
                    .iter()
                    .filter(|o| o.info().aliases.contains(a));
                assert_eq!(owners.count(), 1, "alias '{a}' is ambiguous");
            }
        }
    }

    #[test]
    fn default_modes() {
        let cases = [
            ("Dm7", "D Dorian"),
            ("Dm9", "D Dorian"),
            ("Dm11", "D Dorian"),
            ("Dm6", "D Dorian"),
            ("C7", "C Mixolydian"),
            ("C9", "C Mixolydian"),
            ("C13", "C Mixolydian"),
            ("C7sus4", "C Mixolydian"),
            ("Bbmaj7", "B♭ Ionian"),
            ("C6", "C Ionian"),
            ("C", "C Ionian"),
            ("Cmaj7#11", "C Lydian"),
            ("Em7b5", "E Locrian"),
            ("G7alt", "G Altered"),
            ("A7b9", "A Phrygian dominant"),
            ("C7#11", "C Lydian dominant"),
            ("DmMaj7", "D Melodic minor"),
            ("C#dim7", "C♯ Ultralocrian"),
        ];
        for (text, mode) in cases {
            assert_eq!(chord(text).default_mode().to_string(), mode, "{text}");
        }
        // Every chord tone is in its default mode, except 7♯9's natural 5th (documented).
        for q in ChordQuality::ALL {
            for root in 0..12 {
                let c = ChordSymbol::new(PitchClass::new(root).default_spelling(), q);
                let missing = c
                    .pitch_classes()
                    .difference(c.default_mode().pitch_classes());
                let expected = if q == Dominant7Sharp9 {
                    PitchClassSet::EMPTY.with(c.root_pc().transpose(7))
                } else {
                    PitchClassSet::EMPTY
                };
                assert_eq!(missing, expected, "{c}");
            }
        }
    }
}
