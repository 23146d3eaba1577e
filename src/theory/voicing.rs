//! Piano comping voicings over a [`ChordScale`]: the So What chord, stacked fourths and
//! Bill Evans-style rootless A/B voicings.
//!
//! [`voice`] runs on the audio thread when the piano player picks its next chord, so it
//! works on fixed arrays and bitmasks only. Every note it returns is a tone of the mode and
//! never an avoid note.

use std::fmt;
use std::str::FromStr;

use super::TheoryError;
use super::chord::ChordScale;
use super::pitch::{PitchClass, PitchClassSet};

/// The most notes a [`Voicing`] holds.
pub const MAX_VOICING_NOTES: usize = 6;

/// A family of voicings; the piano player of a preset uses one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VoicingFamily {
    /// Three perfect fourths and a major third (E–A–D–G–B over D Dorian), as Bill Evans
    /// voiced "So What". Falls back to [`VoicingFamily::Quartal`] in modes where no
    /// such stack fits.
    SoWhat,
    /// Three (sometimes four) diatonic fourths, perfect where the mode allows.
    Quartal,
    /// Four notes without the root: 3–5–7–9 (A form) and 7–9–3–5 (B form), with the 13th
    /// for the 5th on dominants. Always holds the chord's 3rd and 7th when the mode does.
    Rootless,
}

impl VoicingFamily {
    pub const ALL: [VoicingFamily; 3] = [Self::SoWhat, Self::Quartal, Self::Rootless];

    /// "so-what", "quartal", "rootless".
    pub const fn slug(self) -> &'static str {
        match self {
            Self::SoWhat => "so-what",
            Self::Quartal => "quartal",
            Self::Rootless => "rootless",
        }
    }

    /// "So What", "quartal", "rootless".
    pub const fn name(self) -> &'static str {
        match self {
            Self::SoWhat => "So What",
            Self::Quartal => "quartal",
            Self::Rootless => "rootless",
        }
    }

    /// Parses a slug or name, case-insensitively, with or without separators ("so what",
    /// "SoWhat", "so_what").
    pub fn parse(input: &str) -> Result<Self, TheoryError> {
        let wanted: String = input
            .trim()
            .chars()
            .filter(|c| !(c.is_whitespace() || *c == '-' || *c == '_'))
            .flat_map(char::to_lowercase)
            .collect();
        match wanted.as_str() {
            "sowhat" => Ok(Self::SoWhat),
            "quartal" | "fourths" => Ok(Self::Quartal),
            "rootless" => Ok(Self::Rootless),
            _ => Err(TheoryError::UnknownVoicingFamily(input.trim().to_owned())),
        }
    }
}

impl fmt::Display for VoicingFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for VoicingFamily {
    type Err = TheoryError;
    fn from_str(s: &str) -> Result<Self, TheoryError> {
        Self::parse(s)
    }
}

/// The slugs, comma-separated, for error messages.
pub(crate) fn known_families() -> String {
    VoicingFamily::ALL.map(VoicingFamily::slug).join(", ")
}

/// MIDI notes of one chord, strictly ascending, at most [`MAX_VOICING_NOTES`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Voicing {
    notes: [u8; MAX_VOICING_NOTES],
    len: u8,
}

impl Voicing {
    /// A voicing of the given notes, sorted, duplicates and notes above 127 dropped, cut to
    /// the lowest [`MAX_VOICING_NOTES`].
    pub fn from_notes(notes: &[u8]) -> Self {
        let mut voicing = Self::default();
        let mut sorted = [u8::MAX; MAX_VOICING_NOTES];
        for &note in notes.iter().filter(|&&n| n <= 127) {
            // Insert into the bounded sorted buffer, keeping the lowest notes.
            if sorted.contains(&note) {
                continue;
            }
            if let Some(pos) = sorted.iter().position(|&s| note < s) {
                sorted.copy_within(pos..MAX_VOICING_NOTES - 1, pos + 1);
                sorted[pos] = note;
            }
        }
        for note in sorted.into_iter().take_while(|&n| n <= 127) {
            voicing.notes[voicing.len as usize] = note;
            voicing.len += 1;
        }
        voicing
    }

    /// The notes, lowest first.
    pub fn notes(&self) -> &[u8] {
        &self.notes[..self.len as usize]
    }

    pub const fn len(&self) -> usize {
        self.len as usize
    }

    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn lowest(&self) -> Option<u8> {
        self.notes().first().copied()
    }

    pub fn highest(&self) -> Option<u8> {
        self.notes().last().copied()
    }

    pub fn pitch_classes(&self) -> PitchClassSet {
        self.notes()
            .iter()
            .map(|&n| PitchClass::from_midi(n))
            .collect()
    }
}

/// A voicing of `scale` in `family`.
///
/// The lowest note is the first note at or above `root_midi_floor` of the voicing's
/// bottom pitch class, so it lies in `floor..floor + 12` (the band passes about 48–55, which
/// keeps the piano low-middle and dark); the rest stack upward. A floor so high that the top
/// would pass MIDI 127 moves the voicing down by octaves instead. Every note is a mode tone
/// and none is an avoid note. `variant` picks deterministically among the legal shapes
/// (which mode tone a So What or quartal stack starts on, A or B rootless form, an extra
/// fourth on top) so comping can vary from bar to bar; any `u32` is fine.
///
/// When a family has no legal shape in a mode (a clash between a chord and a foreign mode
/// can leave few usable tones), the usable tones are stacked instead, doubled at the octave
/// if fewer than three, so a voicing always has at least three notes.
pub fn voice(
    family: VoicingFamily,
    scale: &ChordScale,
    root_midi_floor: u8,
    variant: u32,
) -> Voicing {
    let allowed = scale.mode_tones().difference(scale.avoid_notes());
    let mode = scale.mode();
    let degrees = [0, 1, 2, 3, 4, 5, 6].map(|degree| mode.degree_pitch_class(degree));
    let stack = match family {
        VoicingFamily::SoWhat => {
            so_what(&degrees, allowed, variant).or_else(|| quartal(&degrees, allowed, variant))
        }
        VoicingFamily::Quartal => quartal(&degrees, allowed, variant),
        VoicingFamily::Rootless => rootless(scale, allowed, variant),
    }
    .unwrap_or_else(|| fallback(scale, allowed, variant));
    place(&stack, root_midi_floor)
}

/// Pitch classes from the bottom of a voicing up, before they get octaves.
#[derive(Clone, Copy, Debug)]
struct Stack {
    pcs: [PitchClass; MAX_VOICING_NOTES],
    len: usize,
}

impl Stack {
    const EMPTY: Self = Self {
        pcs: [PitchClass::new(0); MAX_VOICING_NOTES],
        len: 0,
    };

    fn push(&mut self, pc: PitchClass) {
        if self.len < MAX_VOICING_NOTES {
            self.pcs[self.len] = pc;
            self.len += 1;
        }
    }

    fn as_slice(&self) -> &[PitchClass] {
        &self.pcs[..self.len]
    }

    fn last(&self) -> Option<PitchClass> {
        self.as_slice().last().copied()
    }
}

impl FromIterator<PitchClass> for Stack {
    fn from_iter<I: IntoIterator<Item = PitchClass>>(iter: I) -> Self {
        let mut stack = Self::EMPTY;
        iter.into_iter().for_each(|pc| stack.push(pc));
        stack
    }
}

/// The `variant`-th of `options` (wrapping) with the number of options, or `None` if there
/// are none.
fn pick<T>(options: impl Iterator<Item = T> + Clone, variant: u32) -> Option<(T, usize)> {
    let count = options.clone().count();
    if count == 0 {
        return None;
    }
    options
        .into_iter()
        .nth(variant as usize % count)
        .map(|chosen| (chosen, count))
}

/// Semitones of the So What chord above its bottom note: fourths 5-5-5, then a major third.
const SO_WHAT: [i32; 5] = [0, 5, 10, 15, 19];

/// The pitch classes of a mode's seven degrees.
type Degrees = [PitchClass; 7];

fn so_what(degrees: &Degrees, allowed: PitchClassSet, variant: u32) -> Option<Stack> {
    // The bottoms whose whole stack is usable: `allowed` shifted down by each interval.
    let bottoms = SO_WHAT.iter().fold(PitchClassSet::CHROMATIC, |set, &s| {
        set.intersection(allowed.transpose(-s))
    });
    // Candidates from the mode's 2nd upward, so variant 0 over D Dorian is the record's
    // E–A–D–G–B.
    let candidates = (1..=7)
        .map(|degree| degrees[degree % 7])
        .filter(|&pc| bottoms.contains(pc));
    let (bottom, _) = pick(candidates, variant)?;
    Some(SO_WHAT.iter().map(|&s| bottom.transpose(s)).collect())
}

/// A stack of diatonic fourths (three letters per step) up from one degree of the mode.
#[derive(Clone, Copy)]
struct Fourths {
    start: usize,
    /// The longest usable prefix, at most four notes.
    stack: Stack,
    /// How many of the first two and first three fourths are augmented.
    augmented: [u8; 2],
}

impl Fourths {
    /// Whether the first `notes` (3 or 4) notes are usable with at most `max_augmented`
    /// augmented fourths.
    fn fits(&self, notes: usize, max_augmented: u8) -> bool {
        self.stack.len >= notes && self.augmented[notes - 3] <= max_augmented
    }
}

fn quartal(degrees: &Degrees, allowed: PitchClassSet, variant: u32) -> Option<Stack> {
    // From the mode's 2nd upward, as for So What. A stack stops at the first note that is
    // unusable or a fourth that is neither perfect nor augmented.
    let stacks = [1, 2, 3, 4, 5, 6, 7].map(|start| {
        let mut fourths = Fourths {
            start,
            stack: Stack::EMPTY,
            augmented: [0; 2],
        };
        let mut augmented = 0;
        for k in 0..4 {
            let pc = degrees[(start + 3 * k) % 7];
            if !allowed.contains(pc) {
                break;
            }
            match fourths.stack.last().map(|prev| prev.up_to(pc)) {
                None | Some(5) => {}
                Some(6) => augmented += 1,
                Some(_) => break,
            }
            fourths.stack.push(pc);
            if k >= 2 {
                fourths.augmented[k - 2] = augmented;
            }
        }
        fourths
    });
    // Four notes of perfect fourths if the mode has them, then one tritone allowed, then
    // three notes.
    for (notes, max_augmented) in [(4, 0), (4, 1), (3, 0), (3, 1)] {
        let options = stacks.iter().filter(|f| f.fits(notes, max_augmented));
        let Some((fourths, count)) = pick(options, variant) else {
            continue;
        };
        let mut stack = fourths.stack;
        stack.len = notes;
        // Every other round of variants adds a fourth perfect fourth on top when legal.
        let top = degrees[(fourths.start + 3 * notes) % 7];
        if notes == 4
            && (variant as usize / count) % 2 == 1
            && allowed.contains(top)
            && stack.last().is_some_and(|last| last.up_to(top) == 5)
        {
            stack.push(top);
        }
        return Some(stack);
    }
    None
}

fn rootless(scale: &ChordScale, allowed: PitchClassSet, variant: u32) -> Option<Stack> {
    let chord = scale.chord();
    let quality = chord.quality;
    let root = chord.root_pc();
    let at = |step| quality.tone_at_step(step);
    let mut used = PitchClassSet::EMPTY;
    // The first candidate (semitones above the root) that is usable and not yet taken.
    let mut take = |candidates: &[Option<u8>]| {
        let pc = candidates
            .iter()
            .flatten()
            .map(|&semitones| root.transpose(semitones as i32))
            .find(|&pc| pc != root && allowed.contains(pc) && !used.contains(pc))?;
        used.insert(pc);
        Some(pc)
    };
    // The guide tones first: the 3rd (a sus chord's 4th) and the 7th (a 6th chord's 6th).
    let third = take(&[at(2), at(3), Some(4), Some(3), Some(5)]);
    let seventh = take(&[at(6), at(5), Some(10), Some(11), Some(9)]);
    // The "5" slot prefers written 13ths and 11ths; on a dominant it is the 13th (or ♭13),
    // on anything else the 5th.
    let thirteenth = at(6).and(at(5));
    let eleventh = at(2).and(at(3));
    let fifth = if quality.is_dominant() {
        take(&[
            thirteenth,
            eleventh,
            Some(9),
            Some(8),
            at(4),
            Some(7),
            Some(6),
        ])
    } else {
        take(&[
            thirteenth,
            eleventh,
            at(4),
            Some(7),
            Some(6),
            Some(8),
            Some(9),
        ])
    };
    let ninth = take(&[at(1), Some(2), Some(1), Some(3), Some(5), Some(7)]);
    let order = if variant % 2 == 0 {
        [third, fifth, seventh, ninth]
    } else {
        [seventh, ninth, third, fifth]
    };
    let stack: Stack = order.into_iter().flatten().collect();
    (stack.len >= 3).then_some(stack)
}

/// The usable tones from just above the root upward (the root last), starting at a
/// variant-chosen one: four of them, or three with octave doublings if fewer exist.
fn fallback(scale: &ChordScale, allowed: PitchClassSet, variant: u32) -> Stack {
    let root = scale.chord().root_pc();
    let tones = (1..=12)
        .map(|i| root.transpose(i))
        .filter(|&pc| allowed.contains(pc));
    let count = tones.clone().count();
    if count == 0 {
        // Unreachable: a seven-note mode always keeps a tone that is not an avoid note.
        return [root, root.transpose(7), root].into_iter().collect();
    }
    tones
        .cycle()
        .skip(variant as usize % count)
        .take(count.clamp(3, 4))
        .collect()
}

/// Gives each pitch class an octave: the bottom at or above `floor`, each next note the
/// nearest above the previous one.
fn place(stack: &Stack, floor: u8) -> Voicing {
    let mut notes = [0i32; MAX_VOICING_NOTES];
    let mut previous: Option<i32> = None;
    for (slot, pc) in notes.iter_mut().zip(stack.as_slice()) {
        let lowest = previous.map_or(floor as i32, |p| p + 1);
        *slot = lowest + (pc.semitones() as i32 - lowest).rem_euclid(12);
        previous = Some(*slot);
    }
    let top = previous.unwrap_or(0);
    let shift = if top > 127 {
        (top - 127 + 11) / 12 * 12
    } else {
        0
    };
    let mut voicing = Voicing::default();
    for &note in &notes[..stack.len] {
        voicing.notes[voicing.len as usize] = (note - shift).clamp(0, 127) as u8;
        voicing.len += 1;
    }
    voicing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theory::{ChordQuality, ChordSymbol, Mode, ModeKind, SpelledPitch};

    fn scale(chord: &str, mode: &str) -> ChordScale {
        ChordScale::new(
            &ChordSymbol::parse(chord).unwrap(),
            &Mode::parse(mode).unwrap(),
        )
    }

    /// The voicing's notes spelled in the scale's mode.
    fn spelled(v: &Voicing, s: &ChordScale) -> String {
        v.notes()
            .iter()
            .map(|&n| s.mode().spell(PitchClass::from_midi(n)).to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn gaps(v: &Voicing) -> Vec<u8> {
        v.notes().windows(2).map(|w| w[1] - w[0]).collect()
    }

    #[test]
    fn families_parse() {
        for family in VoicingFamily::ALL {
            assert_eq!(VoicingFamily::parse(family.slug()).unwrap(), family);
            assert_eq!(VoicingFamily::parse(family.name()).unwrap(), family);
            assert_eq!(family.to_string().parse::<VoicingFamily>().unwrap(), family);
        }
        assert_eq!(
            VoicingFamily::parse("SoWhat").unwrap(),
            VoicingFamily::SoWhat
        );
        assert_eq!(
            VoicingFamily::parse(" so_what ").unwrap(),
            VoicingFamily::SoWhat
        );
        let err = VoicingFamily::parse("drop2").unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown voicing family 'drop2' (known: so-what, quartal, rootless)"
        );
    }

    #[test]
    fn so_what_over_d_dorian() {
        let s = scale("Dm7", "D dorian");
        let first = voice(VoicingFamily::SoWhat, &s, 50, 0);
        assert_eq!(first.notes(), [52, 57, 62, 67, 71], "E A D G B");
        assert_eq!(spelled(&first, &s), "E A D G B");
        let mut shapes = Vec::new();
        for variant in 0..6 {
            let v = voice(VoicingFamily::SoWhat, &s, 50, variant);
            assert_eq!(gaps(&v), [5, 5, 5, 4]);
            assert!(v.pitch_classes().is_subset(s.mode_tones()));
            shapes.push(spelled(&v, &s));
        }
        assert_eq!(shapes[..3], ["E A D G B", "A D G C E", "D G C F A"]);
        assert_eq!(shapes[3..], shapes[..3], "variants wrap");
    }

    #[test]
    fn so_what_over_c7_avoids_f() {
        let s = scale("C7", "C mixolydian");
        for variant in 0..4 {
            let v = voice(VoicingFamily::SoWhat, &s, 48, variant);
            assert_eq!(spelled(&v, &s), "A D G C E");
            assert_eq!(gaps(&v), [5, 5, 5, 4]);
        }
    }

    #[test]
    fn so_what_falls_back_to_quartal() {
        let mut fell_back = 0;
        for kind in ModeKind::ALL {
            let root = SpelledPitch::parse("C").unwrap();
            let s = ChordScale::new(
                &ChordSymbol::new(root, ChordQuality::Dominant7),
                &Mode::new(root, kind),
            );
            let allowed = s.mode_tones().difference(s.avoid_notes());
            let degrees = [0, 1, 2, 3, 4, 5, 6].map(|d| s.mode().degree_pitch_class(d));
            if so_what(&degrees, allowed, 0).is_none() {
                assert_eq!(
                    voice(VoicingFamily::SoWhat, &s, 48, 0),
                    voice(VoicingFamily::Quartal, &s, 48, 0),
                    "{kind}"
                );
                fell_back += 1;
            }
        }
        assert!(fell_back > 0, "some mode has no So What shape over C7");
    }

    #[test]
    fn quartal_over_d_dorian_is_perfect_fourths() {
        let s = scale("Dm7", "D dorian");
        let v = voice(VoicingFamily::Quartal, &s, 48, 0);
        assert_eq!(spelled(&v, &s), "E A D G");
        for variant in 0..8 {
            let v = voice(VoicingFamily::Quartal, &s, 48, variant);
            assert!((4..=5).contains(&v.len()));
            assert!(gaps(&v).iter().all(|&g| g == 5), "{v:?}");
        }
        // Some variant adds the fourth fourth.
        assert!((0..8).any(|variant| voice(VoicingFamily::Quartal, &s, 48, variant).len() == 5));
    }

    #[test]
    fn rootless_a_and_b_forms() {
        let cases = [
            ("C7", "C mixolydian", "E A B♭ D", "B♭ D E A"),
            ("Dm7", "D dorian", "F A C E", "C E F A"),
            ("Cmaj7", "C ionian", "E G B D", "B D E G"),
            ("G7alt", "G altered", "C♭ E♭ F A♭", "F A♭ C♭ E♭"),
            ("Em7b5", "E locrian", "G B♭ D A", "D A G B♭"),
            ("Dm6", "D dorian", "F A B E", "B E F A"),
            ("C13", "C mixolydian", "E A B♭ D", "B♭ D E A"),
            ("Dm11", "D dorian", "F G C E", "C E F G"),
            ("C7#11", "C lydian dominant", "E F♯ B♭ D", "B♭ D E F♯"),
        ];
        for (chord, mode, a, b) in cases {
            let s = scale(chord, mode);
            let va = voice(VoicingFamily::Rootless, &s, 48, 0);
            let vb = voice(VoicingFamily::Rootless, &s, 48, 1);
            assert_eq!(spelled(&va, &s), a, "{chord} A");
            assert_eq!(spelled(&vb, &s), b, "{chord} B");
        }
        let s = scale("C7", "C mixolydian");
        for variant in 0..4 {
            let pcs = voice(VoicingFamily::Rootless, &s, 48, variant).pitch_classes();
            assert!(pcs.contains(PitchClass::new(4)) && pcs.contains(PitchClass::new(10)));
            assert!(!pcs.contains(PitchClass::new(0)));
        }
    }

    #[test]
    fn rootless_keeps_guide_tones_over_default_modes() {
        for quality in ChordQuality::ALL {
            for root in 0..12 {
                let chord = ChordSymbol::new(PitchClass::new(root).default_spelling(), quality);
                let s = ChordScale::from_chord(&chord);
                for variant in 0..2 {
                    let pcs = voice(VoicingFamily::Rootless, &s, 50, variant).pitch_classes();
                    assert!(!pcs.contains(chord.root_pc()), "{chord}");
                    for step in [2, 6] {
                        if let Some(semitones) = quality.tone_at_step(step) {
                            let pc = chord.root_pc().transpose(semitones as i32);
                            assert!(pcs.contains(pc), "{chord}: step {step}");
                        }
                    }
                }
            }
        }
    }

    /// Every mode kind on every tonic under every chord quality on that tonic (so every
    /// quality's default mode, and every mismatch too), variants 0..8 and floors 45..60:
    /// at least three notes, ascending, the lowest within an octave above the floor, all in
    /// the mode, never an avoid note. One test per family so they run in parallel.
    fn check_every_scale(family: VoicingFamily) {
        let mut checked = 0;
        for kind in ModeKind::ALL {
            for tonic in 0..12 {
                let root = PitchClass::new(tonic).default_spelling();
                let mode = Mode::new(root, kind);
                for quality in ChordQuality::ALL {
                    let s = ChordScale::new(&ChordSymbol::new(root, quality), &mode);
                    let allowed = s.mode_tones().difference(s.avoid_notes());
                    for variant in 0..8 {
                        for floor in 45..60 {
                            let v = voice(family, &s, floor, variant);
                            let notes = v.notes();
                            let context = || format!("{family} {quality:?} in {mode}: {notes:?}");
                            assert!(v.len() >= 3, "{}", context());
                            assert!(notes.windows(2).all(|w| w[0] < w[1]), "{}", context());
                            assert!(notes[0] >= floor && notes[0] < floor + 12, "{}", context());
                            assert!(v.pitch_classes().is_subset(allowed), "{}", context());
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 21 * 12 * 24 * 8 * 15);
    }

    #[test]
    fn no_so_what_voicing_contains_an_avoid_note() {
        check_every_scale(VoicingFamily::SoWhat);
    }

    #[test]
    fn no_quartal_voicing_contains_an_avoid_note() {
        check_every_scale(VoicingFamily::Quartal);
    }

    #[test]
    fn no_rootless_voicing_contains_an_avoid_note() {
        check_every_scale(VoicingFamily::Rootless);
    }

    #[test]
    fn extreme_floors_stay_in_midi_range() {
        let s = scale("Dm7", "D dorian");
        for family in VoicingFamily::ALL {
            for floor in [0, 100, 120, 127, 255] {
                let v = voice(family, &s, floor, 3);
                assert!(v.len() >= 3);
                assert!(v.notes().iter().all(|&n| n <= 127));
                assert!(v.notes().windows(2).all(|w| w[0] < w[1]));
            }
        }
        assert_eq!(
            voice(VoicingFamily::SoWhat, &s, 0, 0).notes(),
            [4, 9, 14, 19, 23]
        );
    }

    #[test]
    fn voicing_from_notes() {
        let v = Voicing::from_notes(&[64, 60, 200, 67, 60, 72, 76, 79, 84, 48]);
        assert_eq!(v.notes(), [48, 60, 64, 67, 72, 76]);
        assert_eq!((v.lowest(), v.highest()), (Some(48), Some(76)));
        assert!(Voicing::from_notes(&[]).is_empty());
    }
}
