//! Seven-note modes: the diatonic church modes and the modes of harmonic and melodic
//! minor, spelled with one letter per degree.

use std::fmt;
use std::str::FromStr;

use super::TheoryError;
use super::pitch::{Key, Notation, PitchClass, PitchClassSet, SpelledInterval, SpelledPitch};

/// Semitones of each degree of the major scale; a degree's accidental in a mode's degree
/// label is the mode's interval minus this.
const MAJOR: [u8; 7] = [0, 2, 4, 5, 7, 9, 11];

/// The kind of a seven-note mode, independent of its tonic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModeKind {
    Ionian,
    Dorian,
    Phrygian,
    Lydian,
    Mixolydian,
    Aeolian,
    Locrian,
    HarmonicMinor,
    LocrianNatural6,
    IonianAugmented,
    DorianSharp4,
    PhrygianDominant,
    LydianSharp2,
    /// Harmonic minor's 7th mode (1 ♭2 ♭3 ♭4 ♭5 ♭6 𝄫7): the scale of a dim7 chord heard as
    /// vii°7 of a minor key.
    UltraLocrian,
    MelodicMinor,
    DorianFlat2,
    LydianAugmented,
    LydianDominant,
    MixolydianFlat6,
    LocrianNatural2,
    /// Melodic minor's 7th mode, the super-Locrian.
    Altered,
}

/// Everything the module knows about one mode kind.
struct ModeInfo {
    intervals: [u8; 7],
    name: &'static str,
    ascii_name: &'static str,
    slug: &'static str,
    characteristic: usize,
    /// Extra names accepted by [`ModeKind::parse`] besides the name and slug.
    aliases: &'static [&'static str],
}

impl ModeKind {
    /// Every mode kind: the diatonic modes from Ionian, then harmonic minor's modes, then
    /// melodic minor's, each family in degree order.
    pub const ALL: [ModeKind; 21] = {
        use ModeKind::*;
        [
            Ionian,
            Dorian,
            Phrygian,
            Lydian,
            Mixolydian,
            Aeolian,
            Locrian,
            HarmonicMinor,
            LocrianNatural6,
            IonianAugmented,
            DorianSharp4,
            PhrygianDominant,
            LydianSharp2,
            UltraLocrian,
            MelodicMinor,
            DorianFlat2,
            LydianAugmented,
            LydianDominant,
            MixolydianFlat6,
            LocrianNatural2,
            Altered,
        ]
    };

    /// The table behind every query. Characteristic degrees are 0-based indices; the
    /// choices that are not self-evident are argued in [`ModeKind::characteristic_degree`].
    const fn info(self) -> &'static ModeInfo {
        use ModeKind::*;
        match self {
            Ionian => &ModeInfo {
                intervals: [0, 2, 4, 5, 7, 9, 11],
                name: "Ionian",
                ascii_name: "Ionian",
                slug: "ionian",
                characteristic: 3,
                aliases: &["major"],
            },
            Dorian => &ModeInfo {
                intervals: [0, 2, 3, 5, 7, 9, 10],
                name: "Dorian",
                ascii_name: "Dorian",
                slug: "dorian",
                characteristic: 5,
                aliases: &[],
            },
            Phrygian => &ModeInfo {
                intervals: [0, 1, 3, 5, 7, 8, 10],
                name: "Phrygian",
                ascii_name: "Phrygian",
                slug: "phrygian",
                characteristic: 1,
                aliases: &[],
            },
            Lydian => &ModeInfo {
                intervals: [0, 2, 4, 6, 7, 9, 11],
                name: "Lydian",
                ascii_name: "Lydian",
                slug: "lydian",
                characteristic: 3,
                aliases: &[],
            },
            Mixolydian => &ModeInfo {
                intervals: [0, 2, 4, 5, 7, 9, 10],
                name: "Mixolydian",
                ascii_name: "Mixolydian",
                slug: "mixolydian",
                characteristic: 6,
                aliases: &["mixo", "dominant"],
            },
            Aeolian => &ModeInfo {
                intervals: [0, 2, 3, 5, 7, 8, 10],
                name: "Aeolian",
                ascii_name: "Aeolian",
                slug: "aeolian",
                characteristic: 5,
                aliases: &["minor", "natural minor"],
            },
            Locrian => &ModeInfo {
                intervals: [0, 1, 3, 5, 6, 8, 10],
                name: "Locrian",
                ascii_name: "Locrian",
                slug: "locrian",
                characteristic: 4,
                aliases: &[],
            },
            HarmonicMinor => &ModeInfo {
                intervals: [0, 2, 3, 5, 7, 8, 11],
                name: "Harmonic minor",
                ascii_name: "Harmonic minor",
                slug: "harmonic-minor",
                characteristic: 6,
                aliases: &["harm minor"],
            },
            LocrianNatural6 => &ModeInfo {
                intervals: [0, 1, 3, 5, 6, 9, 10],
                name: "Locrian ♮6",
                ascii_name: "Locrian nat6",
                slug: "locrian-nat6",
                characteristic: 5,
                aliases: &["locrian #6"],
            },
            IonianAugmented => &ModeInfo {
                intervals: [0, 2, 4, 5, 8, 9, 11],
                name: "Ionian ♯5",
                ascii_name: "Ionian #5",
                slug: "ionian-sharp5",
                characteristic: 4,
                aliases: &["ionian augmented", "major #5"],
            },
            DorianSharp4 => &ModeInfo {
                intervals: [0, 2, 3, 6, 7, 9, 10],
                name: "Dorian ♯4",
                ascii_name: "Dorian #4",
                slug: "dorian-sharp4",
                characteristic: 3,
                aliases: &["ukrainian dorian", "dorian #11"],
            },
            PhrygianDominant => &ModeInfo {
                intervals: [0, 1, 4, 5, 7, 8, 10],
                name: "Phrygian dominant",
                ascii_name: "Phrygian dominant",
                slug: "phrygian-dominant",
                characteristic: 2,
                aliases: &["phrygian major", "spanish phrygian", "mixolydian b9 b13"],
            },
            LydianSharp2 => &ModeInfo {
                intervals: [0, 3, 4, 6, 7, 9, 11],
                name: "Lydian ♯2",
                ascii_name: "Lydian #2",
                slug: "lydian-sharp2",
                characteristic: 1,
                aliases: &["lydian #9"],
            },
            UltraLocrian => &ModeInfo {
                intervals: [0, 1, 3, 4, 6, 8, 9],
                name: "Ultralocrian",
                ascii_name: "Ultralocrian",
                slug: "ultralocrian",
                characteristic: 6,
                aliases: &["altered bb7", "superlocrian bb7"],
            },
            MelodicMinor => &ModeInfo {
                intervals: [0, 2, 3, 5, 7, 9, 11],
                name: "Melodic minor",
                ascii_name: "Melodic minor",
                slug: "melodic-minor",
                characteristic: 5,
                aliases: &["jazz minor", "ascending melodic minor"],
            },
            DorianFlat2 => &ModeInfo {
                intervals: [0, 1, 3, 5, 7, 9, 10],
                name: "Dorian ♭2",
                ascii_name: "Dorian b2",
                slug: "dorian-b2",
                characteristic: 1,
                aliases: &["phrygian #6", "phrygian nat6", "dorian b9"],
            },
            LydianAugmented => &ModeInfo {
                intervals: [0, 2, 4, 6, 8, 9, 11],
                name: "Lydian augmented",
                ascii_name: "Lydian augmented",
                slug: "lydian-augmented",
                characteristic: 4,
                aliases: &["lydian #5", "lydian aug"],
            },
            LydianDominant => &ModeInfo {
                intervals: [0, 2, 4, 6, 7, 9, 10],
                name: "Lydian dominant",
                ascii_name: "Lydian dominant",
                slug: "lydian-dominant",
                characteristic: 3,
                aliases: &[
                    "lydian b7",
                    "mixolydian #4",
                    "mixolydian #11",
                    "overtone",
                    "acoustic",
                ],
            },
            MixolydianFlat6 => &ModeInfo {
                intervals: [0, 2, 4, 5, 7, 8, 10],
                name: "Mixolydian ♭6",
                ascii_name: "Mixolydian b6",
                slug: "mixolydian-b6",
                characteristic: 5,
                aliases: &[
                    "mixolydian b13",
                    "aeolian dominant",
                    "melodic major",
                    "hindu",
                ],
            },
            LocrianNatural2 => &ModeInfo {
                intervals: [0, 2, 3, 5, 6, 8, 10],
                name: "Locrian ♮2",
                ascii_name: "Locrian nat2",
                slug: "locrian-nat2",
                characteristic: 1,
                aliases: &["locrian #2", "locrian nat9", "aeolian b5"],
            },
            Altered => &ModeInfo {
                intervals: [0, 1, 3, 4, 6, 8, 10],
                name: "Altered",
                ascii_name: "Altered",
                slug: "altered",
                characteristic: 2,
                aliases: &[
                    "alt",
                    "super locrian",
                    "altered dominant",
                    "diminished whole tone",
                ],
            },
        }
    }

    /// Semitones of the seven degrees above the tonic, ascending from 0.
    pub const fn intervals(self) -> [u8; 7] {
        self.info().intervals
    }

    /// Display name: "Dorian", "Lydian dominant", "Dorian ♭2".
    pub const fn name(self) -> &'static str {
        self.info().name
    }

    /// The name in a notation: "Dorian ♭2" or "Dorian b2".
    pub const fn name_in(self, notation: Notation) -> &'static str {
        match notation {
            Notation::Unicode => self.info().name,
            Notation::Ascii => self.info().ascii_name,
        }
    }

    /// Stable ASCII identifier for files and the CLI: "dorian", "lydian-dominant",
    /// "dorian-b2".
    pub const fn slug(self) -> &'static str {
        self.info().slug
    }

    /// Parses a mode name, case-insensitively, with spaces, hyphens or underscores (or
    /// none) between words, and ♭/b/flat, ♯/#/sharp, ♮/nat/natural for accidentals. Accepts
    /// the slug, the name and common aliases: "major" (Ionian), "minor" / "natural minor"
    /// (Aeolian), "super locrian" / "superlocrian" (Altered), "lydian b7" (Lydian
    /// dominant), "phrygian #6" (Dorian ♭2), "jazz minor" (melodic minor), …
    pub fn parse(input: &str) -> Result<Self, TheoryError> {
        let wanted = normalize_mode_name(input);
        Self::ALL
            .into_iter()
            .find(|kind| {
                let info = kind.info();
                [info.name, info.ascii_name, info.slug]
                    .iter()
                    .chain(info.aliases)
                    .any(|alias| normalize_mode_name(alias) == wanted)
            })
            .ok_or_else(|| TheoryError::UnknownMode(input.trim().to_owned()))
    }

    /// Label of degree `degree` (0-based, taken mod 7) relative to the major scale: "1",
    /// "2", "♭3", "4", "5", "6", "♭7" for Dorian; "b3" in ASCII.
    pub const fn degree_label(self, degree: usize, notation: Notation) -> &'static str {
        const UNICODE: [[&str; 7]; 5] = [
            ["𝄫1", "𝄫2", "𝄫3", "𝄫4", "𝄫5", "𝄫6", "𝄫7"],
            ["♭1", "♭2", "♭3", "♭4", "♭5", "♭6", "♭7"],
            ["1", "2", "3", "4", "5", "6", "7"],
            ["♯1", "♯2", "♯3", "♯4", "♯5", "♯6", "♯7"],
            ["𝄪1", "𝄪2", "𝄪3", "𝄪4", "𝄪5", "𝄪6", "𝄪7"],
        ];
        const ASCII: [[&str; 7]; 5] = [
            ["bb1", "bb2", "bb3", "bb4", "bb5", "bb6", "bb7"],
            ["b1", "b2", "b3", "b4", "b5", "b6", "b7"],
            ["1", "2", "3", "4", "5", "6", "7"],
            ["#1", "#2", "#3", "#4", "#5", "#6", "#7"],
            ["##1", "##2", "##3", "##4", "##5", "##6", "##7"],
        ];
        let degree = degree % 7;
        let offset = self.intervals()[degree] as i32 - MAJOR[degree] as i32;
        let row = (offset + 2) as usize;
        match notation {
            Notation::Unicode => UNICODE[row][degree],
            Notation::Ascii => ASCII[row][degree],
        }
    }

    /// The 0-based degree whose tone gives the mode its colour, the one a player leans on
    /// to make the mode heard. Each is the degree that sets the mode apart from its
    /// nearest relative:
    ///
    /// - Dorian ♮6 (vs Aeolian), Phrygian ♭2, Lydian ♯4, Mixolydian ♭7, Aeolian ♭6 (vs
    ///   Dorian), Locrian ♭5.
    /// - Ionian **4**: Ionian is Lydian with a ♮4 and Mixolydian with a ♮7, but the ♮7
    ///   is usually already in its chord (maj7) while the 4, a half step over the 3rd, is
    ///   the tone that makes a major chord sound Ionian rather than Lydian.
    /// - Harmonic minor ♮7 (vs Aeolian). Melodic minor **♮6**: it is melodic minor's
    ///   difference from harmonic minor, and its ♮7 is normally in the chord (m(maj7)).
    /// - Locrian ♮6 → ♮6, Ionian ♯5 → ♯5, Dorian ♯4 → ♯4, Phrygian dominant → ♮3 (what
    ///   makes Phrygian "dominant"), Lydian ♯2 → ♯2, Ultralocrian → 𝄫7.
    /// - Dorian ♭2 → ♭2, Lydian augmented → ♯5, Lydian dominant → ♯4, Mixolydian ♭6 → ♭6,
    ///   Locrian ♮2 → ♮2.
    /// - Altered → **♯9** (degree 3, spelled ♭3): the one alteration no other dominant
    ///   scale here has (Mixolydian, Lydian dominant, Mixolydian ♭6 and Phrygian dominant
    ///   all lack it), while its ♭5/♯11 is shared with Lydian dominant.
    pub const fn characteristic_degree(self) -> usize {
        self.info().characteristic
    }
}

/// The display name.
impl fmt::Display for ModeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModeKind {
    type Err = TheoryError;
    fn from_str(s: &str) -> Result<Self, TheoryError> {
        Self::parse(s)
    }
}

/// The comparison key for mode names: lowercase, separators dropped, accidentals in one
/// spelling. Applied to both the input and the table, so the two only need to agree.
fn normalize_mode_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        match c {
            c if c.is_whitespace() || c == '-' || c == '_' => {}
            '♭' => out.push('b'),
            '♯' | '+' => out.push('#'),
            '♮' => out.push_str("nat"),
            c => out.push(c),
        }
    }
    out.replace("natural", "nat")
        .replace("sharp", "#")
        .replace("flat", "b")
}

/// The slugs, comma-separated, for error messages.
pub(crate) fn known_modes() -> String {
    ModeKind::ALL.map(ModeKind::slug).join(", ")
}

/// A mode on a tonic: "D Dorian".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mode {
    pub tonic: SpelledPitch,
    pub kind: ModeKind,
}

impl Mode {
    pub const fn new(tonic: SpelledPitch, kind: ModeKind) -> Self {
        Self { tonic, kind }
    }

    /// Parses a tonic, whitespace, and a mode name (see [`ModeKind::parse`]): "D dorian",
    /// "C mixolydian", "Bb lydian dominant", "F♯ altered".
    pub fn parse(input: &str) -> Result<Self, TheoryError> {
        let trimmed = input.trim();
        let invalid = |reason: String| TheoryError::InvalidMode {
            input: trimmed.to_owned(),
            reason,
        };
        let (tonic, rest) = SpelledPitch::parse_prefix(trimmed)
            .map_err(|reason| invalid(format!("bad tonic: {reason} (e.g. 'D dorian')")))?;
        if !rest.starts_with(char::is_whitespace) {
            return Err(invalid(
                "expected a tonic, a space and a mode name (e.g. 'D dorian')".into(),
            ));
        }
        Ok(Self::new(tonic, ModeKind::parse(rest)?))
    }

    /// The tone of `degree` (0-based, taken mod 7), spelled on the tonic's letter plus
    /// `degree` letters.
    pub const fn tone(self, degree: usize) -> SpelledPitch {
        let degree = degree % 7;
        self.tonic.transpose(SpelledInterval::new(
            degree as i8,
            self.kind.intervals()[degree] as i8,
        ))
    }

    /// The seven tones from the tonic up, one letter each (D Dorian = D E F G A B C;
    /// D Ionian has F♯ and C♯). A degree that would need a triple accidental (e.g. the
    /// 𝄫7 of D♭ Ultralocrian) is respelled on a neighbouring letter.
    pub const fn tones(self) -> [SpelledPitch; 7] {
        let mut tones = [self.tonic; 7];
        let mut degree = 1;
        while degree < 7 {
            tones[degree] = self.tone(degree);
            degree += 1;
        }
        tones
    }

    /// The pitch class of degree `degree` (0-based, taken mod 7).
    pub const fn degree_pitch_class(self, degree: usize) -> PitchClass {
        self.tonic
            .pitch_class()
            .transpose(self.kind.intervals()[degree % 7] as i32)
    }

    pub const fn pitch_classes(self) -> PitchClassSet {
        let mut set = PitchClassSet::EMPTY;
        let mut degree = 0;
        while degree < 7 {
            set.insert(self.degree_pitch_class(degree));
            degree += 1;
        }
        set
    }

    pub const fn contains(self, pc: PitchClass) -> bool {
        self.degree_of(pc).is_some()
    }

    /// The 0-based degree whose pitch class is `pc`, if `pc` is in the mode.
    pub const fn degree_of(self, pc: PitchClass) -> Option<usize> {
        let above_tonic = self.tonic.pitch_class().up_to(pc);
        let intervals = self.kind.intervals();
        let mut degree = 0;
        while degree < 7 {
            if intervals[degree] == above_tonic {
                return Some(degree);
            }
            degree += 1;
        }
        None
    }

    /// The tone of [`ModeKind::characteristic_degree`]: B♮ in D Dorian, F♯ in C Lydian.
    pub const fn characteristic_tone(self) -> SpelledPitch {
        self.tone(self.kind.characteristic_degree())
    }

    /// How to write `pc` in this mode: the mode's own spelling if it is a mode tone,
    /// otherwise a neighbouring tone altered by the smallest accidental (flat on a tie, as
    /// jazz writes ♭9 and ♭13).
    pub const fn spell(self, pc: PitchClass) -> SpelledPitch {
        if let Some(degree) = self.degree_of(pc) {
            return self.tone(degree);
        }
        let mut best = SpelledPitch::spell(pc, self.tonic.letter);
        let mut degree = 1;
        while degree < 7 {
            let candidate = SpelledPitch::spell(pc, self.tone(degree).letter);
            let (a, b) = (candidate.accidental, best.accidental);
            if a.abs() < b.abs() || (a.abs() == b.abs() && a < b) {
                best = candidate;
            }
            degree += 1;
        }
        best
    }

    /// This mode moved by `interval` (e.g. [`super::Key::interval_to`] a new key).
    #[must_use]
    pub const fn transpose(self, interval: SpelledInterval) -> Self {
        Self::new(self.tonic.transpose(interval), self.kind)
    }

    /// "D Dorian" / "B♭ Dorian ♭2" or "Bb Dorian b2".
    pub const fn name(self, notation: Notation) -> ModeName {
        ModeName {
            mode: self,
            notation,
        }
    }
}

/// "D Dorian", in [`Notation::Unicode`].
impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.name(Notation::Unicode).fmt(f)
    }
}

impl FromStr for Mode {
    type Err = TheoryError;
    fn from_str(s: &str) -> Result<Self, TheoryError> {
        Self::parse(s)
    }
}

impl Key {
    /// The key's own scale: Ionian for major, Aeolian for minor.
    pub const fn mode(&self) -> Mode {
        let kind = if self.minor {
            ModeKind::Aeolian
        } else {
            ModeKind::Ionian
        };
        Mode::new(self.tonic, kind)
    }
}

/// A [`Mode`] with a [`Notation`], for `Display`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeName {
    mode: Mode,
    notation: Notation,
}

impl fmt::Display for ModeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Mode { tonic, kind } = self.mode;
        write!(
            f,
            "{} {}",
            tonic.name(self.notation),
            kind.name_in(self.notation)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(s: &str) -> Mode {
        Mode::parse(s).unwrap()
    }

    fn spelled(m: Mode) -> String {
        m.tones().map(|t| t.to_string()).join(" ")
    }

    #[test]
    fn a_key_has_its_own_scale() {
        let key = |s| Key::parse(s).unwrap();
        assert_eq!(key("D minor").mode().to_string(), "D Aeolian");
        assert_eq!(key("Bb major").mode().to_string(), "B♭ Ionian");
    }

    #[test]
    fn table_is_consistent() {
        for (i, kind) in ModeKind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, i, "ALL is in declaration order");
            let iv = kind.intervals();
            assert_eq!(iv[0], 0);
            assert!(
                iv.windows(2).all(|w| w[0] < w[1] && w[1] - w[0] <= 3),
                "{kind}"
            );
            assert!(kind.characteristic_degree() < 7);
            assert_ne!(kind.characteristic_degree(), 0, "the tonic is no colour");
            assert!(
                kind.slug()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            );
            assert!(kind.name_in(Notation::Ascii).is_ascii());
            for text in [kind.slug(), kind.name(), kind.name_in(Notation::Ascii)] {
                assert_eq!(ModeKind::parse(text).unwrap(), kind, "{text}");
            }
        }
        // No alias may name two kinds.
        let mut keys: Vec<(String, ModeKind)> = Vec::new();
        for kind in ModeKind::ALL {
            let info = kind.info();
            for a in [info.name, info.ascii_name, info.slug]
                .iter()
                .chain(info.aliases)
            {
                let key = normalize_mode_name(a);
                if let Some((_, other)) = keys.iter().find(|(k, _)| *k == key) {
                    assert_eq!(*other, kind, "alias '{a}' is ambiguous");
                }
                keys.push((key, kind));
            }
        }
    }

    #[test]
    fn the_seven_families_are_rotations() {
        let rotations = |parent: usize| {
            let base = ModeKind::ALL[parent].intervals();
            (0..7).map(move |r| {
                let mut iv = [0u8; 7];
                for (i, slot) in iv.iter_mut().enumerate() {
                    *slot = (base[(r + i) % 7] + 12 - base[r]) % 12;
                }
                iv
            })
        };
        for parent in [0, 7, 14] {
            for (r, iv) in rotations(parent).enumerate() {
                assert_eq!(
                    ModeKind::ALL[parent + r].intervals(),
                    iv,
                    "family {parent} mode {r}"
                );
            }
        }
    }

    #[test]
    fn parse_mode_kinds_and_aliases() {
        use ModeKind::*;
        let cases = [
            ("dorian", Dorian),
            ("DORIAN", Dorian),
            ("  Dorian ", Dorian),
            ("major", Ionian),
            ("minor", Aeolian),
            ("natural minor", Aeolian),
            ("natural-minor", Aeolian),
            ("super locrian", Altered),
            ("superlocrian", Altered),
            ("Super-Locrian", Altered),
            ("alt", Altered),
            ("lydian b7", LydianDominant),
            ("lydian ♭7", LydianDominant),
            ("Lydian flat 7", LydianDominant),
            ("lydian_dominant", LydianDominant),
            ("LydianDominant", LydianDominant),
            ("phrygian #6", DorianFlat2),
            ("phrygian ♯6", DorianFlat2),
            ("dorian-b2", DorianFlat2),
            ("Dorian ♭2", DorianFlat2),
            ("dorian flat2", DorianFlat2),
            ("locrian natural 2", LocrianNatural2),
            ("Locrian ♮2", LocrianNatural2),
            ("locrian #2", LocrianNatural2),
            ("harmonic minor", HarmonicMinor),
            ("melodic minor", MelodicMinor),
            ("jazz minor", MelodicMinor),
            ("mixolydian b6", MixolydianFlat6),
            ("Mixolydian ♭13", MixolydianFlat6),
            ("phrygian dominant", PhrygianDominant),
            ("ionian sharp 5", IonianAugmented),
            ("ultra locrian", UltraLocrian),
            ("lydian augmented", LydianAugmented),
            ("lydian+5", LydianAugmented),
        ];
        for (text, kind) in cases {
            assert_eq!(ModeKind::parse(text).unwrap(), kind, "{text}");
        }
        let err = ModeKind::parse("dorain").unwrap_err().to_string();
        assert!(
            err.starts_with("unknown mode 'dorain' (known: ionian, dorian, phrygian,"),
            "{err}"
        );
        assert!(err.contains("altered)"), "{err}");
        for bad in ["", "b2", "lydian b8", "dorian#"] {
            assert!(ModeKind::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parse_modes() {
        let m = mode("D dorian");
        assert_eq!(
            m,
            Mode::new(SpelledPitch::parse("D").unwrap(), ModeKind::Dorian)
        );
        assert_eq!(m.to_string(), "D Dorian");
        assert_eq!(mode("C mixolydian").to_string(), "C Mixolydian");
        assert_eq!(mode("Bb lydian dominant").to_string(), "B♭ Lydian dominant");
        assert_eq!(mode("F♯ altered").to_string(), "F♯ Altered");
        assert_eq!(mode("bb dorian b2").to_string(), "B♭ Dorian ♭2");
        assert_eq!(
            mode("bb dorian b2").name(Notation::Ascii).to_string(),
            "Bb Dorian b2"
        );
        for kind in ModeKind::ALL {
            let m = Mode::new(SpelledPitch::parse("Eb").unwrap(), kind);
            assert_eq!(mode(&m.to_string()), m);
            assert_eq!(mode(&m.name(Notation::Ascii).to_string()), m);
        }
        for (bad, needle) in [
            ("dorian", "invalid mode 'dorian'"),
            ("D", "invalid mode 'D'"),
            ("H dorian", "invalid mode 'H dorian': bad tonic"),
            ("D dorain", "unknown mode 'dorain' (known: ionian, dorian,"),
            ("", "invalid mode ''"),
        ] {
            let err = Mode::parse(bad).unwrap_err().to_string();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn spelling_of_modes() {
        let cases = [
            ("D dorian", "D E F G A B C"),
            ("C mixolydian", "C D E F G A B♭"),
            ("D ionian", "D E F♯ G A B C♯"),
            ("Bb ionian", "B♭ C D E♭ F G A"),
            ("F# lydian", "F♯ G♯ A♯ B♯ C♯ D♯ E♯"),
            ("Eb dorian", "E♭ F G♭ A♭ B♭ C D♭"),
            ("G altered", "G A♭ B♭ C♭ D♭ E♭ F"),
            ("D aeolian", "D E F G A B♭ C"),
            ("E phrygian", "E F G A B C D"),
            ("F lydian", "F G A B C D E"),
            ("B locrian", "B C D E F G A"),
            ("Gb ionian", "G♭ A♭ B♭ C♭ D♭ E♭ F"),
            ("C# ionian", "C♯ D♯ E♯ F♯ G♯ A♯ B♯"),
            ("A harmonic minor", "A B C D E F G♯"),
            ("D harmonic minor", "D E F G A B♭ C♯"),
            ("G# harmonic minor", "G♯ A♯ B C♯ D♯ E F𝄪"),
            ("C melodic minor", "C D E♭ F G A B"),
            ("Db altered", "D♭ E𝄫 F♭ G𝄫 A𝄫 B𝄫 C♭"),
            ("C# ultralocrian", "C♯ D E F G A B♭"),
            ("C lydian dominant", "C D E F♯ G A B♭"),
            ("A phrygian dominant", "A B♭ C♯ D E F G"),
            ("E locrian nat2", "E F♯ G A B♭ C D"),
            ("C lydian augmented", "C D E F♯ G♯ A B"),
            ("C lydian #2", "C D♯ E F♯ G A B"),
        ];
        for (text, tones) in cases {
            assert_eq!(spelled(mode(text)), tones, "{text}");
        }
    }

    #[test]
    fn every_mode_on_every_tonic_is_well_spelled() {
        let tonics = [
            "C", "Db", "D", "Eb", "E", "F", "F#", "Gb", "G", "Ab", "A", "Bb", "B", "C#", "Cb",
        ];
        for tonic in tonics {
            for kind in ModeKind::ALL {
                let m = Mode::new(SpelledPitch::parse(tonic).unwrap(), kind);
                let tones = m.tones();
                let pcs = m.pitch_classes();
                assert_eq!(pcs.len(), 7, "{m}");
                for (degree, tone) in tones.iter().enumerate() {
                    assert!(tone.accidental.abs() <= 2, "{m}: {tone}");
                    assert_eq!(tone.pitch_class(), m.degree_pitch_class(degree));
                    assert_eq!(m.degree_of(tone.pitch_class()), Some(degree));
                    assert!(m.contains(tone.pitch_class()));
                    assert_eq!(m.spell(tone.pitch_class()), *tone);
                    // One letter per degree, unless that needed a triple accidental.
                    let letter = m.tonic.letter.step(degree as i32);
                    if tone.letter != letter {
                        let needed = (letter.natural().up_to(tone.pitch_class()) + 6) % 12;
                        assert!(!(4..=8).contains(&needed), "{m}: {tone} is not on {letter}");
                    }
                }
                for pc in PitchClassSet::CHROMATIC.difference(pcs) {
                    assert_eq!(m.degree_of(pc), None);
                    assert!(!m.contains(pc));
                    assert_eq!(m.spell(pc).pitch_class(), pc);
                    assert!(m.spell(pc).accidental.abs() <= 1, "{m}: {pc}");
                }
            }
        }
    }

    #[test]
    fn degree_labels() {
        let labels = |kind: ModeKind, n: Notation| {
            (0..7)
                .map(|d| kind.degree_label(d, n))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            labels(ModeKind::Dorian, Notation::Unicode),
            "1 2 ♭3 4 5 6 ♭7"
        );
        assert_eq!(labels(ModeKind::Dorian, Notation::Ascii), "1 2 b3 4 5 6 b7");
        assert_eq!(labels(ModeKind::Ionian, Notation::Unicode), "1 2 3 4 5 6 7");
        assert_eq!(labels(ModeKind::Lydian, Notation::Ascii), "1 2 3 #4 5 6 7");
        assert_eq!(
            labels(ModeKind::Altered, Notation::Unicode),
            "1 ♭2 ♭3 ♭4 ♭5 ♭6 ♭7"
        );
        assert_eq!(
            labels(ModeKind::UltraLocrian, Notation::Unicode),
            "1 ♭2 ♭3 ♭4 ♭5 ♭6 𝄫7"
        );
        assert_eq!(
            labels(ModeKind::UltraLocrian, Notation::Ascii),
            "1 b2 b3 b4 b5 b6 bb7"
        );
        assert_eq!(
            labels(ModeKind::LydianSharp2, Notation::Unicode),
            "1 ♯2 3 ♯4 5 6 7"
        );
        assert_eq!(
            ModeKind::Dorian.degree_label(9, Notation::Unicode),
            "♭3",
            "wraps"
        );
    }

    #[test]
    fn characteristic_tones() {
        let ch = |s: &str| mode(s).characteristic_tone().to_string();
        assert_eq!(ch("D dorian"), "B");
        assert_eq!(ch("C lydian"), "F♯");
        assert_eq!(ch("C mixolydian"), "B♭");
        assert_eq!(ch("E phrygian"), "F");
        assert_eq!(ch("A aeolian"), "F");
        assert_eq!(ch("B locrian"), "F");
        assert_eq!(ch("C ionian"), "F");
        assert_eq!(ch("A harmonic minor"), "G♯");
        assert_eq!(ch("C melodic minor"), "A");
        assert_eq!(ch("D dorian b2"), "E♭");
        assert_eq!(ch("C lydian augmented"), "G♯");
        assert_eq!(ch("C lydian dominant"), "F♯");
        assert_eq!(ch("C mixolydian b6"), "A♭");
        assert_eq!(ch("E locrian nat2"), "F♯");
        assert_eq!(ch("G altered"), "B♭", "the ♯9, spelled ♭3");
        assert_eq!(ch("A phrygian dominant"), "C♯");
    }

    #[test]
    fn transposing_modes_between_keys() {
        let key = |s| Key::parse(s).unwrap();
        let up = key("D minor").interval_to(&key("Eb minor"));
        let eb = mode("D dorian").transpose(up);
        assert_eq!(eb.to_string(), "E♭ Dorian");
        assert_eq!(spelled(eb), "E♭ F G♭ A♭ B♭ C D♭");
        let down = key("D minor").interval_to(&key("C minor"));
        assert_eq!(spelled(mode("D dorian").transpose(down)), "C D E♭ F G A B♭");
        assert_eq!(
            spelled(mode("C mixolydian").transpose(down)),
            "B♭ C D E♭ F G A♭"
        );
        assert_eq!(
            mode("C mixolydian").transpose(up).to_string(),
            "D♭ Mixolydian"
        );
    }
}
