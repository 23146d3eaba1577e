//! Pure music theory: pitch classes and their spelling, modes, chord symbols, chord-scales
//! and piano voicings.
//!
//! Nothing here does I/O or keeps state. The core types are `Copy` and every query is
//! allocation-free (fixed arrays, `u16` bitmasks, `&'static str`), because the band and
//! the practice analysis call them on the audio thread. Only parsing and `Display`
//! allocate.
//!
//! Two layers of pitch: [`PitchClass`] / [`PitchClassSet`] for 12-tone arithmetic, and
//! [`SpelledPitch`] for what a musician reads, so that D major shows F♯ (never G♭) and a
//! transposition from D minor to E♭ minor writes D♭.

pub mod chord;
pub mod mode;
pub mod pitch;
pub mod transposition;
pub mod voicing;

pub use chord::{ChordName, ChordQuality, ChordScale, ChordSymbol, ChordTones, NoteRole};
pub use mode::{Mode, ModeKind, ModeName};
pub use pitch::{
    Key, Letter, Notation, PitchClass, PitchClassIter, PitchClassSet, PitchName, SpelledInterval,
    SpelledPitch,
};
pub use transposition::{semitones_between, transposed_key};
pub use voicing::{MAX_VOICING_NOTES, Voicing, VoicingFamily, voice};

/// Why a pitch, key, mode, chord symbol or voicing family name could not be parsed.
///
/// Every message quotes the bad input and, where the valid choices form a list, prints it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TheoryError {
    /// A note name such as "H" or "C###".
    #[error("invalid pitch '{input}': {reason}")]
    InvalidPitch { input: String, reason: &'static str },
    /// A key such as "D mnor".
    #[error("invalid key '{input}': {reason}")]
    InvalidKey { input: String, reason: String },
    /// A mode name (without tonic) that is not known, such as "dorain".
    #[error("unknown mode '{0}' (known: {known})", known = mode::known_modes())]
    UnknownMode(String),
    /// A tonic + mode string that is malformed as a whole, such as "dorian" with no tonic.
    #[error("invalid mode '{input}': {reason}")]
    InvalidMode { input: String, reason: String },
    /// A chord symbol with a bad root or bass, or an empty one.
    #[error("invalid chord symbol '{input}': {reason}")]
    InvalidChord { input: String, reason: String },
    /// A chord symbol whose root is fine but whose quality suffix is unknown.
    #[error(
        "invalid chord symbol '{input}': unknown quality '{quality}' (known: {known})",
        known = chord::known_suffixes()
    )]
    UnknownChordQuality { input: String, quality: String },
    /// A voicing family name that is not known.
    #[error("unknown voicing family '{0}' (known: {known})", known = voicing::known_families())]
    UnknownVoicingFamily(String),
}

#[cfg(test)]
mod tests {
    /// The theory items a module's code (its tests aside) names through the theory
    /// module: the first path segment after `crate::theory::`, or after `super::` in a file
    /// directly under `theory/` (`nested` files reach the theory module only by
    /// `crate::theory::` or `super::super::`).
    fn theory_names(source: &str, nested: bool) -> Vec<&str> {
        let code = source.split("#[cfg(test)]").next().unwrap_or(source);
        let prefixes: &[&str] = if nested {
            &["crate::theory::", "super::super::"]
        } else {
            &["crate::theory::", "super::"]
        };
        code.lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .flat_map(|line| {
                prefixes.iter().flat_map(move |prefix| {
                    line.match_indices(prefix)
                        .map(move |(at, _)| &line[at + prefix.len()..])
                })
            })
            .map(|rest| {
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Pitch, mode, chord and voicing build on one another in that order and never the
    /// other way round, so that none of them is tied into a circle with another.
    #[test]
    fn each_theory_module_builds_only_on_those_before_it() {
        let layers: [(&str, &[(&str, bool)]); 4] = [
            ("pitch", &[(include_str!("theory/pitch.rs"), false)]),
            ("mode", &[(include_str!("theory/mode.rs"), false)]),
            (
                "chord",
                &[
                    (include_str!("theory/chord.rs"), false),
                    (include_str!("theory/chord/quality.rs"), true),
                    (include_str!("theory/chord/symbol.rs"), true),
                    (include_str!("theory/chord/scale.rs"), true),
                ],
            ),
            ("voicing", &[(include_str!("theory/voicing.rs"), false)]),
        ];
        for (i, (name, sources)) in layers.iter().enumerate() {
            let allowed: Vec<&str> = layers[..=i].iter().map(|(n, _)| *n).collect();
            for &(source, nested) in *sources {
                for used in theory_names(source, nested) {
                    assert!(
                        used == "TheoryError" || allowed.contains(&used),
                        "theory::{name} uses theory::{used}, which comes after it"
                    );
                }
            }
        }
    }
}
