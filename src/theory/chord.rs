//! Chord symbols ("Dm7", "C7/E", "B♭maj7"), their spelled tones and default scales, and
//! [`ChordScale`]: a chord heard in a mode, which sorts every pitch class into chord tone,
//! characteristic tone, tension, avoid note or outside note.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use super::TheoryError;
use super::mode::{Mode, ModeKind};
use super::pitch::{
    Notation, PitchClass, PitchClassSet, SpelledInterval, SpelledPitch, write_accidental,
};

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
    ///   [`Mode`] away for players who want the natural 9th.
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
    fn parse_suffix(suffix: &str) -> Option<Self> {
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
        let info = self.quality.info();
        let mut tones = ChordTones {
            tones: [self.root; 7],
            len: info.intervals.len() as u8,
        };
        let mut i = 1;
        while i < info.intervals.len() {
            let interval = SpelledInterval::new(info.steps[i] as i8, info.intervals[i] as i8);
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
    use crate::theory::Key;
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

    fn names(set: PitchClassSet, mode: Mode) -> String {
        set.iter()
            .map(|pc| mode.spell(pc).to_string())
            .collect::<Vec<_>>()
            .join(" ")
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
