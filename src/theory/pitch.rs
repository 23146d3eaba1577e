//! Pitch classes, spelled pitches, spelled intervals and keys.

use std::fmt;
use std::iter::FusedIterator;
use std::str::FromStr;

use super::TheoryError;

/// Semitones above C of the natural letters C D E F G A B.
const NATURALS: [u8; 7] = [0, 2, 4, 5, 7, 9, 11];

/// How accidentals are written: "B♭", "F♯", "B𝄫" or "Bb", "F#", "Bbb".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Notation {
    /// ♭ ♯ 𝄫 𝄪 — for the console.
    #[default]
    Unicode,
    /// b # bb ## — for file names, logs and terminals without the glyphs.
    Ascii,
}

/// One of the twelve pitch classes, 0 = C … 11 = B.
///
/// The field is private so the value is always in 0..12; build one with [`PitchClass::new`]
/// or [`PitchClass::from_midi`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PitchClass(u8);

impl PitchClass {
    /// The pitch class `semitones` above C, wrapping in both directions (-1 is B).
    pub const fn new(semitones: i32) -> Self {
        Self(semitones.rem_euclid(12) as u8)
    }

    /// The pitch class of a MIDI note number (60 = middle C).
    pub const fn from_midi(note: u8) -> Self {
        Self(note % 12)
    }

    /// Semitones above C, 0..=11.
    pub const fn semitones(self) -> u8 {
        self.0
    }

    /// This pitch class moved by `semitones` (either sign).
    pub const fn transpose(self, semitones: i32) -> Self {
        Self::new(self.0 as i32 + semitones)
    }

    /// The upward interval from `self` to `other`, 0..=11.
    pub const fn up_to(self, other: Self) -> u8 {
        (other.0 + 12 - self.0) % 12
    }

    /// The lowest MIDI note of this pitch class at or above `floor`, if it is ≤ 127.
    pub const fn midi_at_or_above(self, floor: u8) -> Option<u8> {
        let note = floor as u16 + PitchClass::from_midi(floor).up_to(self) as u16;
        if note <= 127 { Some(note as u8) } else { None }
    }

    /// The spelling used when no key or mode says otherwise: the jazz habit of flats for
    /// the black keys except F♯ (C D♭ D E♭ E F F♯ G A♭ A B♭ B).
    pub const fn default_spelling(self) -> SpelledPitch {
        const TABLE: [SpelledPitch; 12] = {
            use Letter::*;
            [
                SpelledPitch::new(C, 0),
                SpelledPitch::new(D, -1),
                SpelledPitch::new(D, 0),
                SpelledPitch::new(E, -1),
                SpelledPitch::new(E, 0),
                SpelledPitch::new(F, 0),
                SpelledPitch::new(F, 1),
                SpelledPitch::new(G, 0),
                SpelledPitch::new(A, -1),
                SpelledPitch::new(A, 0),
                SpelledPitch::new(B, -1),
                SpelledPitch::new(B, 0),
            ]
        };
        TABLE[self.0 as usize]
    }
}

/// Written with [`PitchClass::default_spelling`].
impl fmt::Display for PitchClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.default_spelling().fmt(f)
    }
}

/// A set of pitch classes as a 12-bit mask (bit n = pitch class n).
///
/// This is how scales, chords and "notes heard" are compared on the audio thread: set
/// operations are single instructions and the type is a `u16`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PitchClassSet(u16);

const ALL_BITS: u16 = 0x0FFF;

impl PitchClassSet {
    /// No pitch classes.
    pub const EMPTY: Self = Self(0);
    /// All twelve pitch classes.
    pub const CHROMATIC: Self = Self(ALL_BITS);

    /// A set from a bitmask (bit n = pitch class n); bits above 11 are ignored.
    pub const fn from_bits(bits: u16) -> Self {
        Self(bits & ALL_BITS)
    }

    /// The bitmask, bit n = pitch class n.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// A set holding exactly the given pitch classes.
    pub const fn from_slice(pcs: &[PitchClass]) -> Self {
        let mut set = Self::EMPTY;
        let mut i = 0;
        while i < pcs.len() {
            set.insert(pcs[i]);
            i += 1;
        }
        set
    }

    /// Adds `pc`; returns whether it was absent.
    pub const fn insert(&mut self, pc: PitchClass) -> bool {
        let absent = !self.contains(pc);
        self.0 |= 1 << pc.0;
        absent
    }

    /// Removes `pc`; returns whether it was present.
    pub const fn remove(&mut self, pc: PitchClass) -> bool {
        let present = self.contains(pc);
        self.0 &= !(1 << pc.0);
        present
    }

    /// This set plus `pc`.
    #[must_use]
    pub const fn with(self, pc: PitchClass) -> Self {
        Self(self.0 | 1 << pc.0)
    }

    /// This set minus `pc`.
    #[must_use]
    pub const fn without(self, pc: PitchClass) -> Self {
        Self(self.0 & !(1 << pc.0))
    }

    pub const fn contains(self, pc: PitchClass) -> bool {
        self.0 & (1 << pc.0) != 0
    }

    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    #[must_use]
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// The pitch classes of `self` that are not in `other`.
    #[must_use]
    pub const fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    pub const fn is_subset(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// Every pitch class moved by `semitones` (a rotation of the 12 bits).
    #[must_use]
    pub const fn transpose(self, semitones: i32) -> Self {
        let n = semitones.rem_euclid(12) as u32;
        Self(((self.0 << n) | (self.0 >> (12 - n))) & ALL_BITS)
    }

    /// The pitch classes in ascending order (C first), without allocating.
    pub const fn iter(self) -> PitchClassIter {
        PitchClassIter(self.0)
    }
}

impl fmt::Debug for PitchClassSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(|pc| pc.0)).finish()
    }
}

impl IntoIterator for PitchClassSet {
    type Item = PitchClass;
    type IntoIter = PitchClassIter;
    fn into_iter(self) -> PitchClassIter {
        self.iter()
    }
}

impl FromIterator<PitchClass> for PitchClassSet {
    fn from_iter<I: IntoIterator<Item = PitchClass>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, Self::with)
    }
}

/// Iterator over a [`PitchClassSet`], ascending from C.
#[derive(Clone, Debug)]
pub struct PitchClassIter(u16);

impl Iterator for PitchClassIter {
    type Item = PitchClass;

    fn next(&mut self) -> Option<PitchClass> {
        if self.0 == 0 {
            return None;
        }
        let pc = self.0.trailing_zeros() as u8;
        self.0 &= self.0 - 1;
        Some(PitchClass(pc))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.count_ones() as usize;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for PitchClassIter {
    fn next_back(&mut self) -> Option<PitchClass> {
        if self.0 == 0 {
            return None;
        }
        let pc = 15 - self.0.leading_zeros() as u8;
        self.0 &= !(1 << pc);
        Some(PitchClass(pc))
    }
}

impl ExactSizeIterator for PitchClassIter {}
impl FusedIterator for PitchClassIter {}

/// A note letter. Spelling works on letters first, so a scale uses each letter once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Letter {
    C,
    D,
    E,
    F,
    G,
    A,
    B,
}

impl Letter {
    pub const ALL: [Letter; 7] = [
        Letter::C,
        Letter::D,
        Letter::E,
        Letter::F,
        Letter::G,
        Letter::A,
        Letter::B,
    ];

    /// 0 = C … 6 = B.
    pub const fn index(self) -> u8 {
        self as u8
    }

    /// The letter at `index`, wrapping in both directions (7 = C, -1 = B).
    pub const fn from_index(index: i32) -> Self {
        Self::ALL[index.rem_euclid(7) as usize]
    }

    /// The letter `steps` letters away (C + 2 = E, C - 1 = B).
    #[must_use]
    pub const fn step(self, steps: i32) -> Self {
        Self::from_index(self as i32 + steps)
    }

    /// The pitch class of the letter without accidental.
    pub const fn natural(self) -> PitchClass {
        PitchClass(NATURALS[self as usize])
    }

    /// The letter named by `c`, either case.
    pub const fn from_char(c: char) -> Option<Self> {
        match c.to_ascii_uppercase() {
            'C' => Some(Self::C),
            'D' => Some(Self::D),
            'E' => Some(Self::E),
            'F' => Some(Self::F),
            'G' => Some(Self::G),
            'A' => Some(Self::A),
            'B' => Some(Self::B),
            _ => None,
        }
    }

    pub const fn as_char(self) -> char {
        b"CDEFGAB"[self as usize] as char
    }
}

impl fmt::Display for Letter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char(self.as_char())
    }
}

/// A note name: a letter and an accidental (-2 = 𝄫, -1 = ♭, 0 = natural, 1 = ♯, 2 = 𝄪).
///
/// Equality is by spelling: B♭ ≠ A♯. Compare [`SpelledPitch::pitch_class`] for sound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpelledPitch {
    pub letter: Letter,
    /// Semitones of alteration; everything in this module keeps it within -2..=2.
    pub accidental: i8,
}

impl SpelledPitch {
    pub const fn new(letter: Letter, accidental: i8) -> Self {
        Self { letter, accidental }
    }

    pub const fn natural(letter: Letter) -> Self {
        Self::new(letter, 0)
    }

    pub const fn pitch_class(self) -> PitchClass {
        PitchClass::new(NATURALS[self.letter as usize] as i32 + self.accidental as i32)
    }

    /// `pc` written on `letter`, or on a neighbouring letter if `letter` would need more
    /// than a double accidental (so the result's accidental is always within -2..=2).
    pub const fn spell(pc: PitchClass, letter: Letter) -> Self {
        let on_letter = Self::on_letter(pc, letter);
        if on_letter.accidental.abs() <= 2 {
            return on_letter;
        }
        let up = Self::on_letter(pc, letter.step(1));
        let down = Self::on_letter(pc, letter.step(-1));
        if up.accidental.abs() <= down.accidental.abs() {
            up
        } else {
            down
        }
    }

    /// `pc` written on `letter` with the smallest accidental (-6..=5).
    const fn on_letter(pc: PitchClass, letter: Letter) -> Self {
        let diff = (pc.0 as i32 - NATURALS[letter as usize] as i32 + 6).rem_euclid(12) - 6;
        Self::new(letter, diff as i8)
    }

    /// This pitch moved by a spelled interval: the letter moves by `interval.letters`, the
    /// sound by `interval.semitones`. A result that would need a triple accidental is
    /// respelled on a neighbouring letter.
    #[must_use]
    pub const fn transpose(self, interval: SpelledInterval) -> Self {
        Self::spell(
            self.pitch_class().transpose(interval.semitones as i32),
            self.letter.step(interval.letters as i32),
        )
    }

    /// Parses a whole note name: "D", "Bb", "B♭", "F#", "F♯", "Cb", "E##", "Ebb", "F𝄪",
    /// "B𝄫", "Fx". The letter may be either case; surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, TheoryError> {
        let trimmed = input.trim();
        let err = |reason| TheoryError::InvalidPitch {
            input: trimmed.to_owned(),
            reason,
        };
        let (pitch, rest) = Self::parse_prefix(trimmed).map_err(err)?;
        if !rest.is_empty() {
            return Err(err("unexpected text after the note name"));
        }
        Ok(pitch)
    }

    /// Parses a note name at the start of `s` and returns it with the unparsed rest, for
    /// strings such as "Bbmaj7" or "D dorian". Accidentals are taken greedily.
    pub fn parse_prefix(s: &str) -> Result<(Self, &str), &'static str> {
        let mut chars = s.char_indices();
        let Some((_, first)) = chars.next() else {
            return Err("empty; expected a note letter A–G");
        };
        let letter = Letter::from_char(first).ok_or("expected a note letter A–G")?;
        let (mut accidental, mut sharps, mut flats, mut naturals) = (0i8, false, false, false);
        let mut end = first.len_utf8();
        for (i, c) in chars {
            let alteration = match c {
                '#' | '♯' => 1,
                'x' | '𝄪' => 2,
                'b' | '♭' => -1,
                '𝄫' => -2,
                '♮' => 0,
                _ => break,
            };
            sharps |= alteration > 0;
            flats |= alteration < 0;
            naturals |= alteration == 0;
            accidental += alteration;
            end = i + c.len_utf8();
            if accidental.abs() > 2 {
                return Err("more than a double sharp or double flat");
            }
        }
        if sharps && flats {
            return Err("mixes sharps and flats");
        }
        if naturals && (sharps || flats || end > first.len_utf8() + '♮'.len_utf8()) {
            return Err("a natural sign must stand alone");
        }
        Ok((Self::new(letter, accidental), &s[end..]))
    }

    /// The name in the given notation; a natural is written without sign.
    pub const fn name(self, notation: Notation) -> PitchName {
        PitchName {
            pitch: self,
            notation,
        }
    }
}

/// Written in [`Notation::Unicode`]: "B♭".
impl fmt::Display for SpelledPitch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.name(Notation::Unicode).fmt(f)
    }
}

impl FromStr for SpelledPitch {
    type Err = TheoryError;
    fn from_str(s: &str) -> Result<Self, TheoryError> {
        Self::parse(s)
    }
}

/// A [`SpelledPitch`] with a [`Notation`], for `Display`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PitchName {
    pitch: SpelledPitch,
    notation: Notation,
}

impl fmt::Display for PitchName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pitch.letter.fmt(f)?;
        write_accidental(f, self.pitch.accidental, self.notation)
    }
}

/// Writes an accidental; out-of-range values (only possible through the public field)
/// are written as repeated single signs rather than rejected.
pub(crate) fn write_accidental(
    f: &mut fmt::Formatter<'_>,
    accidental: i8,
    notation: Notation,
) -> fmt::Result {
    let (sharp, flat, double_sharp, double_flat) = match notation {
        Notation::Unicode => ("♯", "♭", "𝄪", "𝄫"),
        Notation::Ascii => ("#", "b", "##", "bb"),
    };
    match accidental {
        0 => Ok(()),
        1 => f.write_str(sharp),
        -1 => f.write_str(flat),
        2 => f.write_str(double_sharp),
        -2 => f.write_str(double_flat),
        n => {
            let sign = if n > 0 { sharp } else { flat };
            (0..n.unsigned_abs()).try_for_each(|_| f.write_str(sign))
        }
    }
}

/// A spelled interval: how many letters and how many semitones to move.
///
/// A major third is `{ letters: 2, semitones: 4 }`, an augmented second `{ 1, 3 }`. Both
/// fields are signed: a negative interval moves down (`{ -1, -2 }` is a major second down),
/// which matters for MIDI notes and is invisible to pitch classes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SpelledInterval {
    pub letters: i8,
    pub semitones: i8,
}

impl SpelledInterval {
    pub const UNISON: Self = Self::new(0, 0);

    pub const fn new(letters: i8, semitones: i8) -> Self {
        Self { letters, semitones }
    }

    /// The upward interval from `from` to `to` within an octave: `letters` is 0..=6 and
    /// `semitones` follows the spelling (C♭ → B is an augmented seventh, 12 semitones;
    /// C → C♭ a diminished unison, -1).
    pub const fn between(from: SpelledPitch, to: SpelledPitch) -> Self {
        let letters = (to.letter as i32 - from.letter as i32).rem_euclid(7);
        let naturals = (NATURALS[to.letter as usize] as i32
            - NATURALS[from.letter as usize] as i32)
            .rem_euclid(12);
        let semitones = naturals + to.accidental as i32 - from.accidental as i32;
        Self::new(letters as i8, semitones as i8)
    }

    /// The same interval in the other direction.
    #[must_use]
    pub const fn inverse(self) -> Self {
        Self::new(-self.letters, -self.semitones)
    }
}

/// A key: a tonic and major or minor. Presets name one; transposing a preset moves every
/// chord and mode by [`Key::interval_to`] the new key. Its scale, [`Key::mode`], is
/// defined with the modes (pitch comes first: modes are built from it, not the reverse).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub tonic: SpelledPitch,
    pub minor: bool,
}

impl Key {
    pub const fn new(tonic: SpelledPitch, minor: bool) -> Self {
        Self { tonic, minor }
    }

    /// Parses "D minor", "D", "Dm", "D min", "Bb major", "B♭ maj", "E♭ minor", "F#m",
    /// "DM" (major).
    pub fn parse(input: &str) -> Result<Self, TheoryError> {
        let trimmed = input.trim();
        let err = |reason: String| TheoryError::InvalidKey {
            input: trimmed.to_owned(),
            reason,
        };
        let (tonic, rest) = SpelledPitch::parse_prefix(trimmed).map_err(|r| err(r.into()))?;
        let quality = rest.trim();
        // Case matters only for the lead-sheet pair "M" (major) / "m" (minor).
        let minor = match quality.to_lowercase().as_str() {
            _ if quality == "M" => false,
            "" | "major" | "maj" => false,
            "minor" | "min" | "m" | "-" => true,
            _ => {
                return Err(err(format!(
                    "unknown key quality '{quality}' (known: major, maj, minor, min, m)"
                )));
            }
        };
        Ok(Self { tonic, minor })
    }

    /// The interval that moves this key's tonic to `other`'s tonic by the nearest way
    /// (the major/minor flag is ignored).
    ///
    /// The result is signed: upward when that is at most a tritone (D → E♭ is
    /// `{ letters: 1, semitones: 1 }`, a minor second up), otherwise downward (D → C is
    /// `{ letters: -1, semitones: -2 }`, a major second down). Pitch classes wrap either
    /// way; MIDI notes should move by `semitones` as is, so a transposed band stays in the
    /// register it was written for.
    pub const fn interval_to(&self, other: &Key) -> SpelledInterval {
        let up = SpelledInterval::between(self.tonic, other.tonic);
        let down = SpelledInterval::new(up.letters - 7, up.semitones - 12);
        if up.letters > 0 && down.semitones.abs() < up.semitones.abs() {
            down
        } else {
            up
        }
    }

    /// This key moved by `interval`.
    #[must_use]
    pub const fn transpose(&self, interval: SpelledInterval) -> Self {
        Self::new(self.tonic.transpose(interval), self.minor)
    }
}

/// "D minor", "B♭ major".
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quality = if self.minor { "minor" } else { "major" };
        write!(f, "{} {quality}", self.tonic)
    }
}

impl FromStr for Key {
    type Err = TheoryError;
    fn from_str(s: &str) -> Result<Self, TheoryError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Letter::*;

    fn sp(s: &str) -> SpelledPitch {
        SpelledPitch::parse(s).unwrap()
    }

    #[test]
    fn pitch_class_arithmetic() {
        assert_eq!(PitchClass::new(-1).semitones(), 11);
        assert_eq!(PitchClass::new(26).semitones(), 2);
        assert_eq!(PitchClass::from_midi(62), PitchClass::new(2));
        assert_eq!(PitchClass::new(10).transpose(3), PitchClass::new(1));
        assert_eq!(PitchClass::new(10).transpose(-11), PitchClass::new(11));
        assert_eq!(PitchClass::new(2).up_to(PitchClass::new(0)), 10);
        assert_eq!(PitchClass::new(0).up_to(PitchClass::new(0)), 0);
        assert_eq!(PitchClass::new(2).midi_at_or_above(48), Some(50));
        assert_eq!(PitchClass::new(0).midi_at_or_above(48), Some(48));
        assert_eq!(PitchClass::new(0).midi_at_or_above(127), None);
        let names: Vec<String> = (0..12).map(|i| PitchClass::new(i).to_string()).collect();
        assert_eq!(
            names.join(" "),
            "C D♭ D E♭ E F F♯ G A♭ A B♭ B",
            "default spelling"
        );
    }

    #[test]
    fn pitch_class_set_operations() {
        let pcs = |v: &[i32]| {
            v.iter()
                .map(|&i| PitchClass::new(i))
                .collect::<PitchClassSet>()
        };
        let dm7 = pcs(&[2, 5, 9, 0]);
        assert_eq!(dm7.len(), 4);
        assert!(dm7.contains(PitchClass::new(5)));
        assert!(!dm7.contains(PitchClass::new(4)));
        assert_eq!(
            dm7.iter().map(|p| p.semitones()).collect::<Vec<_>>(),
            [0, 2, 5, 9]
        );
        assert_eq!(
            dm7.iter().rev().map(|p| p.semitones()).collect::<Vec<_>>(),
            [9, 5, 2, 0]
        );
        assert_eq!(dm7.iter().len(), 4);
        assert_eq!(dm7.transpose(1), pcs(&[3, 6, 10, 1]));
        assert_eq!(dm7.transpose(-2), pcs(&[0, 3, 7, 10]));
        assert_eq!(dm7.transpose(12), dm7);
        assert_eq!(
            PitchClassSet::CHROMATIC.transpose(5),
            PitchClassSet::CHROMATIC
        );
        let c = pcs(&[0, 4, 7]);
        assert_eq!(dm7.union(c), pcs(&[0, 2, 4, 5, 7, 9]));
        assert_eq!(dm7.intersection(c), pcs(&[0]));
        assert_eq!(dm7.difference(c), pcs(&[2, 5, 9]));
        assert!(pcs(&[2, 9]).is_subset(dm7));
        assert!(PitchClassSet::EMPTY.is_empty());
        let mut s = PitchClassSet::EMPTY;
        assert!(s.insert(PitchClass::new(11)));
        assert!(!s.insert(PitchClass::new(11)));
        assert_eq!(s, PitchClassSet::EMPTY.with(PitchClass::new(11)));
        assert!(s.remove(PitchClass::new(11)));
        assert!(s.is_empty());
        assert_eq!(
            PitchClassSet::from_slice(&[PitchClass::new(0), PitchClass::new(7)]),
            pcs(&[7, 0])
        );
        assert_eq!(PitchClassSet::from_bits(0xFFFF), PitchClassSet::CHROMATIC);
        assert_eq!(format!("{:?}", c), "{0, 4, 7}");
    }

    #[test]
    fn parse_pitch_spellings() {
        let cases = [
            ("D", D, 0),
            ("d", D, 0),
            ("Bb", B, -1),
            ("bb", B, -1),
            ("B♭", B, -1),
            ("F#", F, 1),
            ("F♯", F, 1),
            ("Cb", C, -1),
            ("E##", E, 2),
            ("Ex", E, 2),
            ("E𝄪", E, 2),
            ("Ebb", E, -2),
            ("E𝄫", E, -2),
            ("E♭♭", E, -2),
            ("G♮", G, 0),
            ("  A  ", A, 0),
        ];
        for (text, letter, accidental) in cases {
            assert_eq!(
                SpelledPitch::parse(text).unwrap(),
                SpelledPitch::new(letter, accidental),
                "{text}"
            );
        }
        for bad in [
            "", "H", "Bbbb", "E###", "C#b", "B♭x", "Cm", "♭B", "C♮#", "C♮♮", "🎷", "Ĉ",
        ] {
            let err = SpelledPitch::parse(bad).unwrap_err();
            assert!(
                err.to_string().contains(&format!("'{}'", bad.trim())),
                "{err}"
            );
        }
    }

    #[test]
    fn pitch_names_in_both_notations() {
        let cases = [
            ("Bb", "B♭", "Bb"),
            ("F#", "F♯", "F#"),
            ("Bbb", "B𝄫", "Bbb"),
            ("Fx", "F𝄪", "F##"),
            ("C", "C", "C"),
        ];
        for (text, unicode, ascii) in cases {
            let p = sp(text);
            assert_eq!(p.to_string(), unicode);
            assert_eq!(p.name(Notation::Unicode).to_string(), unicode);
            assert_eq!(p.name(Notation::Ascii).to_string(), ascii);
            assert_eq!(sp(unicode), p, "round trip");
            assert_eq!(sp(ascii), p, "round trip");
        }
        assert_eq!(sp("Cb").pitch_class(), PitchClass::new(11));
        assert_eq!(sp("B#").pitch_class(), PitchClass::new(0));
        assert_eq!(sp("E𝄪").pitch_class(), PitchClass::new(6));
        assert_eq!(
            SpelledPitch::new(C, 3).name(Notation::Ascii).to_string(),
            "C###"
        );
    }

    #[test]
    fn intervals_between_and_transpose() {
        let iv = SpelledInterval::between(sp("D"), sp("F"));
        assert_eq!(iv, SpelledInterval::new(2, 3), "minor third");
        assert_eq!(
            SpelledInterval::between(sp("C"), sp("B♭")),
            SpelledInterval::new(6, 10)
        );
        assert_eq!(
            SpelledInterval::between(sp("B"), sp("C")),
            SpelledInterval::new(1, 1)
        );
        assert_eq!(
            SpelledInterval::between(sp("Cb"), sp("B")),
            SpelledInterval::new(6, 12),
            "augmented seventh"
        );
        assert_eq!(
            SpelledInterval::between(sp("E#"), sp("F")),
            SpelledInterval::new(1, 0),
            "diminished second"
        );
        // Transposing by `between` always lands on the target, spelling included.
        for a in ["C", "D", "Eb", "F#", "Bb", "Cb", "E#", "G"] {
            for b in ["C", "Db", "D", "E", "F", "F#", "Ab", "B", "Cb", "B#"] {
                let iv = SpelledInterval::between(sp(a), sp(b));
                assert_eq!(sp(a).transpose(iv), sp(b), "{a} -> {b}");
                assert_eq!(sp(b).transpose(iv.inverse()), sp(a), "{b} -> {a}");
            }
        }
        // A would-be triple accidental is respelled on a neighbouring letter.
        let up_aug2 = SpelledInterval::new(1, 3);
        assert_eq!(sp("Bx").transpose(up_aug2), sp("Dx"), "C𝄪𝄪 respelled");
        assert_eq!(
            sp("Gbb").transpose(SpelledInterval::new(1, 1)),
            sp("Gb"),
            "A𝄫♭ respelled"
        );
    }

    #[test]
    fn keys_parse_and_transpose() {
        let cases = [
            ("D minor", D, 0, true),
            ("D", D, 0, false),
            ("Dm", D, 0, true),
            ("D min", D, 0, true),
            ("Bb major", B, -1, false),
            ("B♭ maj", B, -1, false),
            ("E♭ minor", E, -1, true),
            ("F#m", F, 1, true),
            ("bbm", B, -1, true),
            ("C Minor", C, 0, true),
            ("DM", D, 0, false),
        ];
        for (text, letter, accidental, minor) in cases {
            let key = Key::parse(text).unwrap();
            assert_eq!(
                key,
                Key::new(SpelledPitch::new(letter, accidental), minor),
                "{text}"
            );
            assert_eq!(Key::parse(&key.to_string()).unwrap(), key);
        }
        assert_eq!(Key::parse("E♭ minor").unwrap().to_string(), "E♭ minor");
        for bad in ["", "H minor", "D mnor", "Dorian"] {
            let err = Key::parse(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("'{bad}'")), "{err}");
        }
        let key = |s| Key::parse(s).unwrap();
        let dm = key("D minor");
        assert_eq!(dm.interval_to(&key("Eb minor")), SpelledInterval::new(1, 1));
        assert_eq!(
            dm.interval_to(&key("C minor")),
            SpelledInterval::new(-1, -2)
        );
        assert_eq!(dm.interval_to(&key("D major")), SpelledInterval::UNISON);
        assert_eq!(dm.interval_to(&key("G# minor")), SpelledInterval::new(3, 6));
        assert_eq!(dm.interval_to(&key("Ab minor")), SpelledInterval::new(4, 6));
        assert_eq!(
            dm.interval_to(&key("C# minor")),
            SpelledInterval::new(-1, -1)
        );
        assert_eq!(
            key("Cb").interval_to(&key("B")),
            SpelledInterval::new(-1, 0)
        );
        for a in ["C", "D", "Eb", "F#", "Bb", "B", "Db"] {
            for b in ["C", "Db", "D", "E", "F", "F#", "Ab", "B", "Gb"] {
                let iv = key(a).interval_to(&key(b));
                assert!(iv.semitones.abs() <= 6, "{a} -> {b}: {iv:?}");
                assert_eq!(key(a).transpose(iv).tonic, key(b).tonic, "{a} -> {b}");
            }
        }
    }
}
