//! Chord symbols ("Dm7", "C7/E", "B♭maj7"): parsing, display and their spelled tones.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use super::quality::ChordQuality;
use crate::theory::TheoryError;
use crate::theory::mode::Mode;
use crate::theory::pitch::{
    Notation, PitchClass, PitchClassSet, SpelledInterval, SpelledPitch, write_accidental,
};

/// A chord symbol: root, quality and an optional bass note ("C7/E").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChordSymbol {
    pub root: SpelledPitch,
    pub quality: ChordQuality,
    pub bass: Option<SpelledPitch>,
}

impl ChordSymbol {
    pub const fn new(root: SpelledPitch, quality: ChordQuality) -> Self {
        Self {
            root,
            quality,
            bass: None,
        }
    }

    /// Parses a lead-sheet chord symbol: a root ("D", "Bb", "B♭", "F#"), a quality suffix
    /// and an optional "/bass". Accepted suffixes include "", "m", "-", "min", "6", "m6",
    /// "7", "m7", "-7", "min7", "maj7", "M7", "Δ", "Δ7", "m7b5", "m7♭5", "ø", "ø7", "dim",
    /// "o", "°", "dim7", "o7", "+", "aug", "mMaj7", "m(maj7)", "7sus4", "7sus", "sus4",
    /// "7alt", "m9", "m11", "maj9", "9", "13", "7b9", "7#9", "7#11", "maj7#11", with ♭/♯
    /// for b/#, and parentheses around alterations ("7(b9)").
    pub fn parse(input: &str) -> Result<Self, TheoryError> {
        let symbol = input.trim();
        let invalid = |reason: String| TheoryError::InvalidChord {
            input: symbol.to_owned(),
            reason,
        };
        if symbol.is_empty() {
            return Err(invalid("empty chord symbol".into()));
        }
        let (body, bass) = match symbol.split_once('/') {
            Some((body, bass)) => (body.trim_end(), Some(bass.trim())),
            None => (symbol, None),
        };
        let (root, suffix) = SpelledPitch::parse_prefix(body)
            .map_err(|reason| invalid(format!("bad root: {reason}")))?;
        let quality =
            ChordQuality::parse_suffix(suffix).ok_or_else(|| TheoryError::UnknownChordQuality {
                input: symbol.to_owned(),
                quality: suffix.to_owned(),
            })?;
        let bass = match bass {
            None => None,
            Some(bass) => Some(
                SpelledPitch::parse(bass)
                    .map_err(|_| invalid(format!("bad bass note '{bass}' after '/'")))?,
            ),
        };
        Ok(Self {
            root,
            quality,
            bass,
        })
    }

    /// The chord tones, spelled by letter from the root (3rd = root letter + 2, 5th + 4,
    /// 7th + 6, 9th + 1, 11th + 3, 13th + 5): Em7♭5 = E G B♭ D, B♭maj7 = B♭ D F A. In the
    /// order of [`ChordQuality::intervals`]; the bass note is not included.
    pub const fn tones(self) -> ChordTones {
        let (intervals, steps) = (self.quality.intervals(), self.quality.steps());
        let mut tones = ChordTones {
            tones: [self.root; 7],
            len: intervals.len() as u8,
        };
        let mut i = 1;
        while i < intervals.len() {
            let interval = SpelledInterval::new(steps[i] as i8, intervals[i] as i8);
            tones.tones[i] = self.root.transpose(interval);
            i += 1;
        }
        tones
    }

    /// The chord tones' pitch classes (without the bass note).
    pub const fn pitch_classes(self) -> PitchClassSet {
        let intervals = self.quality.intervals();
        let root = self.root_pc();
        let mut set = PitchClassSet::EMPTY;
        let mut i = 0;
        while i < intervals.len() {
            set.insert(root.transpose(intervals[i] as i32));
            i += 1;
        }
        set
    }

    pub const fn root_pc(self) -> PitchClass {
        self.root.pitch_class()
    }

    /// The lowest note's pitch class: the slash bass if there is one, else the root.
    pub const fn bass_pc(self) -> PitchClass {
        match self.bass {
            Some(bass) => bass.pitch_class(),
            None => self.root_pc(),
        }
    }

    /// The chord's default scale on its root (see [`ChordQuality::default_mode_kind`]).
    pub const fn default_mode(self) -> Mode {
        Mode::new(self.root, self.quality.default_mode_kind())
    }

    /// This chord moved by `interval` (root and bass).
    #[must_use]
    pub const fn transpose(self, interval: SpelledInterval) -> Self {
        Self {
            root: self.root.transpose(interval),
            quality: self.quality,
            bass: match self.bass {
                Some(bass) => Some(bass.transpose(interval)),
                None => None,
            },
        }
    }

    /// The symbol in a notation: "B♭maj7" / "Bbmaj7", "Em7♭5" / "Em7b5", "C7/E".
    pub const fn name(self, notation: Notation) -> ChordName {
        ChordName {
            chord: self,
            notation,
        }
    }
}

/// The canonical symbol in [`Notation::Unicode`]: "B♭maj7", "Em7♭5", "G7alt", "C7/E".
impl fmt::Display for ChordSymbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.name(Notation::Unicode).fmt(f)
    }
}

impl FromStr for ChordSymbol {
    type Err = TheoryError;
    fn from_str(s: &str) -> Result<Self, TheoryError> {
        Self::parse(s)
    }
}

/// A [`ChordSymbol`] with a [`Notation`], for `Display`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChordName {
    chord: ChordSymbol,
    notation: Notation,
}

impl fmt::Display for ChordName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ChordSymbol {
            root,
            quality,
            bass,
        } = self.chord;
        write!(f, "{}", root.letter)?;
        write_accidental(f, root.accidental, self.notation)?;
        f.write_str(quality.suffix(self.notation))?;
        if let Some(bass) = bass {
            write!(f, "/{}", bass.name(self.notation))?;
        }
        Ok(())
    }
}

/// The spelled tones of a chord: up to seven, in a fixed array so they can be listed on
/// the audio thread. Derefs to a slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChordTones {
    tones: [SpelledPitch; 7],
    len: u8,
}

impl ChordTones {
    pub fn as_slice(&self) -> &[SpelledPitch] {
        &self.tones[..self.len as usize]
    }
}

impl Deref for ChordTones {
    type Target = [SpelledPitch];
    fn deref(&self) -> &[SpelledPitch] {
        self.as_slice()
    }
}

impl<'a> IntoIterator for &'a ChordTones {
    type Item = &'a SpelledPitch;
    type IntoIter = std::slice::Iter<'a, SpelledPitch>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theory::Key;
    use crate::theory::mode::ModeKind;
    use ChordQuality::*;

    fn chord(s: &str) -> ChordSymbol {
        ChordSymbol::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn tones(s: &str) -> String {
        chord(s)
            .tones()
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn parse_every_accepted_form() {
        let cases: &[(&str, &str, ChordQuality)] = &[
            ("Dm7", "D", Minor7),
            ("C7", "C", Dominant7),
            ("B♭maj7", "B♭", Major7),
            ("Bbmaj7", "B♭", Major7),
            ("BbΔ7", "B♭", Major7),
            ("BbΔ", "B♭", Major7),
            ("BbM7", "B♭", Major7),
            ("Em7b5", "E", HalfDiminished),
            ("Em7♭5", "E", HalfDiminished),
            ("Em7(b5)", "E", HalfDiminished),
            ("Eø7", "E", HalfDiminished),
            ("Eø", "E", HalfDiminished),
            ("E-7b5", "E", HalfDiminished),
            ("C7sus4", "C", Dominant7Sus4),
            ("C7sus", "C", Dominant7Sus4),
            ("Csus4", "C", Sus4),
            ("G7alt", "G", Altered),
            ("Galt", "G", Altered),
            ("Dm", "D", Minor),
            ("D-", "D", Minor),
            ("D", "D", Major),
            ("Dmaj", "D", Major),
            ("D-7", "D", Minor7),
            ("D−7", "D", Minor7),
            ("Dmin7", "D", Minor7),
            ("Dm6", "D", Minor6),
            ("C6", "C", Major6),
            ("Dm9", "D", Minor9),
            ("Dm11", "D", Minor11),
            ("Cmaj9", "C", Major9),
            ("CΔ9", "C", Major9),
            ("C9", "C", Dominant9),
            ("C13", "C", Dominant13),
            ("Cdim7", "C", Diminished7),
            ("Co7", "C", Diminished7),
            ("C°7", "C", Diminished7),
            ("Cdim", "C", Diminished),
            ("C°", "C", Diminished),
            ("C+", "C", Augmented),
            ("Caug", "C", Augmented),
            ("DmMaj7", "D", MinorMajor7),
            ("Dm(maj7)", "D", MinorMajor7),
            ("D-Δ7", "D", MinorMajor7),
            ("D7b9", "D", Dominant7Flat9),
            ("D7♭9", "D", Dominant7Flat9),
            ("D7(b9)", "D", Dominant7Flat9),
            ("D7#9", "D", Dominant7Sharp9),
            ("D7♯9", "D", Dominant7Sharp9),
            ("C7#11", "C", Dominant7Sharp11),
            ("Cmaj7#11", "C", Major7Sharp11),
            ("CΔ#11", "C", Major7Sharp11),
            ("F#m7", "F♯", Minor7),
            ("ebm7", "E♭", Minor7),
            ("  Dm7  ", "D", Minor7),
        ];
        for &(text, root, quality) in cases {
            let c = chord(text);
            assert_eq!(c.root.to_string(), root, "{text}");
            assert_eq!(c.quality, quality, "{text}");
            assert_eq!(c.bass, None, "{text}");
        }
        let slash = chord("C7/E");
        assert_eq!(
            (slash.quality, slash.bass.unwrap().to_string().as_str()),
            (Dominant7, "E")
        );
        assert_eq!(chord("C7 / Bb").bass.unwrap().to_string(), "B♭");
        assert_eq!(chord("Dm7/C").bass_pc(), PitchClass::new(0));
        assert_eq!(chord("Dm7").bass_pc(), PitchClass::new(2));
    }

    #[test]
    fn reject_bad_symbols_naming_them() {
        let cases = [
            ("H7", "invalid chord symbol 'H7': bad root"),
            (
                "Dm7x",
                "invalid chord symbol 'Dm7x': unknown quality 'm7x' (known: (none: major), m, 6,",
            ),
            ("", "invalid chord symbol '': empty"),
            ("   ", "invalid chord symbol '': empty"),
            ("C7/H", "invalid chord symbol 'C7/H': bad bass note 'H'"),
            ("C7/", "invalid chord symbol 'C7/': bad bass note ''"),
            ("/E", "invalid chord symbol '/E': bad root"),
            ("C###7", "invalid chord symbol 'C###7': bad root"),
            ("Cmaj13", "unknown quality 'maj13'"),
            ("C 7", "unknown quality ' 7'"),
            ("C6/9", "bad bass note '9'"),
            ("Dm7/E/F", "bad bass note 'E/F'"),
        ];
        for (text, needle) in cases {
            let err = ChordSymbol::parse(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
        let err = ChordSymbol::parse("Dm7x").unwrap_err().to_string();
        assert!(
            err.contains("m7b5") && err.contains("7alt") && err.ends_with(')'),
            "{err}"
        );
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        let cases = [
            ("Bbmaj7", "B♭maj7", "Bbmaj7"),
            ("Em7b5", "Em7♭5", "Em7b5"),
            ("Eø", "Em7♭5", "Em7b5"),
            ("G7alt", "G7alt", "G7alt"),
            ("D-7", "Dm7", "Dm7"),
            ("DmMaj7", "Dm(maj7)", "Dm(maj7)"),
            ("C7/E", "C7/E", "C7/E"),
            ("F#7#9/A#", "F♯7♯9/A♯", "F#7#9/A#"),
            ("Co7", "Cdim7", "Cdim7"),
            ("Caug", "C+", "C+"),
            ("C", "C", "C"),
        ];
        for (text, unicode, ascii) in cases {
            let c = chord(text);
            assert_eq!(c.to_string(), unicode, "{text}");
            assert_eq!(c.name(Notation::Ascii).to_string(), ascii, "{text}");
            assert_eq!(chord(unicode), c);
            assert_eq!(chord(ascii), c);
        }
        for q in ChordQuality::ALL {
            for root in ["C", "F#", "Bb", "Ebb", "B#"] {
                let c = ChordSymbol::new(SpelledPitch::parse(root).unwrap(), q);
                assert_eq!(chord(&c.to_string()), c);
                assert_eq!(chord(&c.name(Notation::Ascii).to_string()), c);
            }
        }
    }

    #[test]
    fn chord_tones_are_spelled_by_letter() {
        let cases = [
            ("Em7b5", "E G B♭ D"),
            ("Bbmaj7", "B♭ D F A"),
            ("C7", "C E G B♭"),
            ("Dm7", "D F A C"),
            ("Dm11", "D F A C E G"),
            ("C13", "C E G B♭ D A"),
            ("Cdim7", "C E♭ G♭ B𝄫"),
            ("C#dim7", "C♯ E G B♭"),
            ("C+", "C E G♯"),
            ("G7alt", "G B F"),
            ("D7#9", "D F♯ A C E♯"),
            ("Db7b9", "D♭ F A♭ C♭ E𝄫"),
            ("C7#11", "C E G B♭ F♯"),
            ("Ebmaj7#11", "E♭ G B♭ D A"),
            ("F#m6", "F♯ A C♯ D♯"),
            ("C7sus4", "C F G B♭"),
            ("DmMaj7", "D F A C♯"),
            ("Gbmaj9", "G♭ B♭ D♭ F A♭"),
            ("A", "A C♯ E"),
        ];
        for (text, expected) in cases {
            assert_eq!(tones(text), expected, "{text}");
            let c = chord(text);
            let from_tones: PitchClassSet = c.tones().iter().map(|t| t.pitch_class()).collect();
            assert_eq!(from_tones, c.pitch_classes(), "{text}");
        }
        assert_eq!(
            chord("C7/E").tones().len(),
            4,
            "the bass is not a chord tone"
        );
    }

    #[test]
    fn transposing_chords_between_keys() {
        let key = |s| Key::parse(s).unwrap();
        let up = key("D minor").interval_to(&key("E♭ minor"));
        assert_eq!(chord("Dm7").transpose(up).to_string(), "E♭m7");
        assert_eq!(chord("C7").transpose(up).to_string(), "D♭7");
        assert_eq!(chord("Em7b5").transpose(up).to_string(), "Fm7♭5");
        assert_eq!(chord("C7/E").transpose(up).to_string(), "D♭7/F");
        let ebm7 = chord("Dm7").transpose(up);
        let spelled: Vec<String> = ebm7.tones().iter().map(|t| t.to_string()).collect();
        assert_eq!(spelled, ["E♭", "G♭", "B♭", "D♭"]);
        let down = key("D minor").interval_to(&key("C minor"));
        assert_eq!(chord("Dm7").transpose(down).to_string(), "Cm7");
        assert_eq!(chord("C7").transpose(down).to_string(), "B♭7");
        assert_eq!(chord("A7b9").transpose(down).to_string(), "G7♭9");
    }

    /// Arbitrary UTF-8, including the symbols the parsers look for, never panics.
    #[test]
    fn parsers_never_panic_on_random_strings() {
        const ALPHABET: &[char] = &[
            'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'a', 'b', 'd', 'g', 'm', 'M', 'j', 'i', 'n',
            'o', 'r', 's', 'u', 'l', 't', 'x', '#', '♯', '♭', '𝄪', '𝄫', '♮', 'Δ', 'ø', '°', '+',
            '-', '−', '/', '(', ')', ' ', '\t', '2', '5', '6', '7', '9', '1', '3', 'é', '🎺',
            '\u{0}', '\u{301}', '\u{FFFF}', 'ß', 'İ',
        ];
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        for _ in 0..20_000 {
            let len = next() % 12;
            let s: String = (0..len)
                .map(|_| ALPHABET[next() % ALPHABET.len()])
                .collect();
            let _ = SpelledPitch::parse(&s);
            let _ = SpelledPitch::parse_prefix(&s);
            let _ = Key::parse(&s);
            let _ = ModeKind::parse(&s);
            let _ = Mode::parse(&s);
            let _ = crate::theory::VoicingFamily::parse(&s);
            if let Ok(c) = ChordSymbol::parse(&s) {
                assert_eq!(chord(&c.to_string()), c, "{s:?}");
            }
        }
    }
}
