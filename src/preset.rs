//! Presets: one TOML file per cue of the LP, their schema, parsing and validation.
//!
//! A preset describes a practice vamp: tempo, meter, feel, key, the form (sections of
//! chord changes, each with the mode to play over it), how the bass, drums and piano
//! play it, and which lead voice the player improvises with. The ten presets of the LP
//! are embedded in the binary ([`builtin`]); users can add or override presets in
//! [`user_preset_dir`]. The file format is documented in `presets/README.md`.
//!
//! Parsing goes in two steps: the TOML text is deserialized into a private raw schema
//! (`deny_unknown_fields`, every value that needs a check kept with its
//! [`toml::Spanned`] source span), then validated into a [`Preset`]. Every error names
//! the file, line and column of the offending value and quotes it, e.g.
//! `presets/x.toml:3:9: tempo 900 is out of range 30..=360 ('900')`.
//!
//! Nothing here runs on the audio thread: presets are parsed and validated on the main
//! thread, and the validated [`Preset`] is handed to the band.

mod catalog;
mod error;
mod raw;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

pub use catalog::{
    CatalogEntry, PresetSource, builtin, catalog, catalog_in, find, find_in, user_preset_dir,
    user_preset_dir_from,
};
pub use error::{ErrorKind, PresetError};

use crate::theory::{ChordSymbol, Key, Mode, VoicingFamily};

/// The largest preset file accepted, in bytes. Larger files are rejected before parsing.
pub const MAX_FILE_BYTES: usize = 64 * 1024;
/// Tempo range in beats per minute.
pub const TEMPO_RANGE: std::ops::RangeInclusive<f32> = 30.0..=360.0;
/// Swing ratio range (long eighth : short eighth; 2.0 is a triplet feel).
pub const SWING_RANGE: std::ops::RangeInclusive<f32> = 1.0..=4.0;
/// Beats per bar accepted in a meter (`2/4` to `7/4`).
pub const BEATS_PER_BAR_RANGE: std::ops::RangeInclusive<u8> = 2..=7;
/// Bars one change may last.
pub const BARS_RANGE: std::ops::RangeInclusive<u32> = 1..=64;
/// How often a section may repeat.
pub const REPEAT_RANGE: std::ops::RangeInclusive<u32> = 1..=64;
/// Ostinato step interval range, in semitones from the chord root.
pub const INTERVAL_RANGE: std::ops::RangeInclusive<i8> = -12..=12;
/// Density range for drums and piano.
pub const DENSITY_RANGE: std::ops::RangeInclusive<f32> = 0.0..=1.0;
/// Most sections in one preset.
pub const MAX_SECTIONS: usize = 32;
/// Most changes in one section.
pub const MAX_CHANGES: usize = 64;
/// Most steps in an ostinato pattern.
pub const MAX_PATTERN_STEPS: usize = 64;
/// Most bars in one ostinato pattern.
pub const MAX_PATTERN_BARS: u32 = 16;
/// Most bars in one pass of the form, repeats included.
pub const MAX_FORM_BARS: u32 = 1024;

/// A validated preset: everything the band needs to play one vamp.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Slug, the file stem, e.g. `"generique"`.
    pub name: String,
    /// Display title, e.g. `"Générique"`.
    pub title: String,
    /// Which session cue/take the preset is after, e.g. `"Nuit sur les Champs-Élysées, take 3"`.
    pub cue: String,
    /// Beats per minute, within [`TEMPO_RANGE`].
    pub tempo: f32,
    /// Beats per bar (the beat is always a quarter note).
    pub meter: Meter,
    /// The rhythm section's feel.
    pub feel: Feel,
    /// The key the preset is written in; [`Preset::transposed`] moves from it.
    pub key: Key,
    /// Swing-ratio override within [`SWING_RANGE`]; `None` lets the conductor derive it
    /// from the tempo.
    pub swing: Option<f32>,
    /// The suggested lead voice.
    pub lead: LeadInstrument,
    /// A short practice note for the player (may be empty).
    pub practice: String,
    /// Whether the band follows the soloist's dynamics and density (`listen = false`:
    /// it plays the same whatever the player does).
    pub listen: bool,
    /// The form: sections played in order, each repeated, then the whole form loops.
    pub sections: Vec<Section>,
    /// How the bass plays.
    pub bass: BassStyle,
    /// How the drums play.
    pub drums: DrumStyle,
    /// How the piano comps.
    pub piano: PianoStyle,
}

/// A section of the form: a list of changes played `repeat` times.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Display name, e.g. `"A"` or `"Lift"`.
    pub name: String,
    /// How many times the section is played in one pass of the form (at least 1).
    pub repeat: u32,
    /// The changes, in order (never empty).
    pub changes: Vec<Change>,
}

/// One chord with the mode to play over it, for a number of bars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// The chord the band plays.
    pub chord: ChordSymbol,
    /// The mode for the player: as written in the file, or the chord's default mode.
    pub mode: Mode,
    /// Length in bars, within [`BARS_RANGE`].
    pub bars: u32,
}

/// The meter: `beats_per_bar` quarter-note beats per bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Meter {
    /// Beats per bar, within [`BEATS_PER_BAR_RANGE`].
    pub beats_per_bar: u8,
}

impl Meter {
    /// Common time.
    pub const FOUR_FOUR: Meter = Meter { beats_per_bar: 4 };

    /// Parses `"N/4"` with N in [`BEATS_PER_BAR_RANGE`].
    pub fn parse(s: &str) -> Result<Meter, UnknownChoice> {
        let bad = || UnknownChoice {
            what: "meter",
            value: s.to_string(),
            choices: &["2/4", "3/4", "4/4", "5/4", "6/4", "7/4"],
        };
        let (beats, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let beats: u8 = beats.trim().parse().map_err(|_| bad())?;
        if unit.trim() != "4" || !BEATS_PER_BAR_RANGE.contains(&beats) {
            return Err(bad());
        }
        Ok(Meter {
            beats_per_bar: beats,
        })
    }
}

impl Default for Meter {
    fn default() -> Self {
        Meter::FOUR_FOUR
    }
}

impl fmt::Display for Meter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/4", self.beats_per_bar)
    }
}

/// A value that is not one of a fixed list of choices (feel, lead voice, meter, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{value}' (expected one of: {})", choices.join(", "))]
pub struct UnknownChoice {
    /// What was being parsed, e.g. `"lead voice"`.
    pub what: &'static str,
    /// The value as written.
    pub value: String,
    /// The accepted spellings.
    pub choices: &'static [&'static str],
}

/// Declares a slug-named enum with `ALL`, `slug()`, `name()`, `parse()`, `FromStr` and
/// `Display` (the human name).
macro_rules! slug_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $ty:ident as $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = ($slug:literal, $name:literal), )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $ty {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $ty {
            /// Every variant, in documentation order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];
            /// Every slug, in the order of [`Self::ALL`].
            pub const SLUGS: &'static [&'static str] = &[$($slug),+];

            /// The spelling used in preset files and on the command line.
            pub fn slug(self) -> &'static str {
                match self { $($ty::$variant => $slug),+ }
            }

            /// A human-readable name.
            pub fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }

            /// Parses a slug (case-insensitive, surrounding blanks ignored).
            pub fn parse(s: &str) -> Result<$ty, UnknownChoice> {
                let t = s.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.slug().eq_ignore_ascii_case(t))
                    .ok_or_else(|| UnknownChoice {
                        what: $what,
                        value: s.to_string(),
                        choices: Self::SLUGS,
                    })
            }
        }

        impl FromStr for $ty {
            type Err = UnknownChoice;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

slug_enum! {
    /// The rhythm section's feel.
    pub enum Feel as "feel" {
        /// Slow 4/4 ballad swing (brush sweeps, long notes).
        Ballad = ("ballad", "Ballad"),
        /// Medium 4/4 swing.
        MediumSwing = ("medium-swing", "Medium swing"),
        /// Fast bebop swing.
        UpTempo = ("up-tempo", "Up-tempo"),
        /// A steady pulse under a repeated bass figure.
        Ostinato = ("ostinato", "Ostinato"),
        /// Free time: the tempo is a nominal pulse.
        Rubato = ("rubato", "Rubato"),
    }
}

slug_enum! {
    /// The instrument the player improvises through: the "lead voice" of the console, the
    /// README and the `lead` field. [`crate::synth::lead::LeadSynthVoice`] plays it.
    pub enum LeadInstrument as "lead voice" {
        /// Trumpet with a Harmon mute (stem out): the record's sound.
        HarmonTrumpet = ("harmon-trumpet", "Harmon-muted trumpet"),
        /// Open trumpet.
        OpenTrumpet = ("open-trumpet", "Open trumpet"),
        /// Tenor saxophone.
        TenorSax = ("tenor-sax", "Tenor saxophone"),
        /// Electric piano.
        ElectricPiano = ("electric-piano", "Electric piano"),
    }
}

slug_enum! {
    /// What the drummer plays with.
    pub enum DrumKit as "drum kit" {
        /// Wire brushes: sweeps and taps.
        Brushes = ("brushes", "Brushes"),
        /// Sticks on the ride cymbal.
        Sticks = ("sticks", "Sticks"),
    }
}

/// How the bass plays.
#[derive(Debug, Clone, PartialEq)]
pub enum BassStyle {
    /// A walking line: quarter notes, root on each change, approach notes.
    Walking,
    /// Long sustained notes on the root of each change (a drone when the harmony is static).
    Pedal,
    /// A repeated figure, moved to the root of each change.
    Ostinato {
        /// The figure; its beats add up to a whole number of bars.
        pattern: Vec<OstinatoStep>,
    },
}

impl BassStyle {
    /// `"walking"`, `"pedal"` or `"ostinato"`.
    pub fn slug(&self) -> &'static str {
        match self {
            BassStyle::Walking => "walking",
            BassStyle::Pedal => "pedal",
            BassStyle::Ostinato { .. } => "ostinato",
        }
    }

    /// The ostinato pattern, if any.
    pub fn pattern(&self) -> Option<&[OstinatoStep]> {
        match self {
            BassStyle::Ostinato { pattern } => Some(pattern),
            _ => None,
        }
    }
}

/// The slugs of [`BassStyle`].
pub const BASS_STYLES: &[&str] = &["walking", "pedal", "ostinato"];

/// One note of an ostinato.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OstinatoStep {
    /// Semitones from the current chord's root, within [`INTERVAL_RANGE`].
    pub interval: i8,
    /// Length in beats (> 0).
    pub beats: f32,
}

/// How the drums play.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrumStyle {
    /// Brushes or sticks.
    pub kit: DrumKit,
    /// How busy, 0 (time only) to 1 (busy), within [`DENSITY_RANGE`].
    pub density: f32,
}

/// How the piano comps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PianoStyle {
    /// The voicing family.
    pub voicing: VoicingFamily,
    /// How often it comps, 0 (silent) to 1 (busy), within [`DENSITY_RANGE`].
    pub density: f32,
}

impl Preset {
    /// Bars in one pass of the form, repeats included.
    pub fn form_bars(&self) -> u32 {
        self.sections.iter().map(Section::pass_bars).sum()
    }

    /// Beats in one pass of the form, repeats included.
    pub fn form_beats(&self) -> u32 {
        self.form_bars() * u32::from(self.meter.beats_per_bar)
    }

    /// The section and change sounding at `bar` (0-based, counted from the start of the
    /// form; wraps around the form), with the bar the change starts on.
    pub fn change_at(&self, bar: u32) -> (&Section, &Change, u32) {
        let form = self.form_bars().max(1);
        let target = bar % form;
        let mut start = 0;
        for section in &self.sections {
            for _ in 0..section.repeat {
                for change in &section.changes {
                    if target < start + change.bars {
                        return (section, change, start);
                    }
                    start += change.bars;
                }
            }
        }
        // Unreachable for a validated preset (the form is never empty).
        let section = &self.sections[0];
        (section, &section.changes[0], 0)
    }

    /// The same preset in another key: every chord, mode and the key move by
    /// `self.key.interval_to(&to)`. Ostinato intervals are relative to the chord root and
    /// stay as they are.
    pub fn transposed(&self, to: Key) -> Preset {
        let interval = self.key.interval_to(&to);
        let mut out = self.clone();
        out.key = to;
        for section in &mut out.sections {
            for change in &mut section.changes {
                change.chord = change.chord.transpose(interval);
                change.mode = change.mode.transpose(interval);
            }
        }
        out
    }
}

impl Section {
    /// Bars in one play of the section (without its repeats).
    pub fn bars(&self) -> u32 {
        self.changes.iter().map(|c| c.bars).sum()
    }

    /// Bars of the section with its repeats.
    pub fn pass_bars(&self) -> u32 {
        self.bars() * self.repeat
    }
}

/// Parses and validates a preset.
///
/// `name` becomes [`Preset::name`]; `origin` names the text in error messages (a file
/// path, or `"<builtin>/NAME.toml"`).
pub fn parse(name: &str, origin: &str, text: &str) -> Result<Preset, PresetError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(PresetError::too_large(origin, text.len() as u64));
    }
    raw::parse(name, origin, text)
}

/// Reads, parses and validates a preset file. The preset's name is the file stem.
pub fn load_file(path: &Path) -> Result<Preset, PresetError> {
    let origin = path.display().to_string();
    let bytes = catalog::read_limited(path)?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(e) => return Err(PresetError::not_utf8(&origin, &bytes, e)),
    };
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    parse(&name, &origin, text)
}
