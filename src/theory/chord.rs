//! Chord symbols ("Dm7", "C7/E", "B♭maj7"), their spelled tones and default scales, and
//! [`ChordScale`]: a chord heard in a mode, which sorts every pitch class into chord tone,
//! characteristic tone, tension, avoid note or outside note.
//!
//! In three parts: the table of qualities ([`ChordQuality`]), the symbols written with
//! them ([`ChordSymbol`]: parsing, display, spelled tones) and chords heard in a mode
//! ([`ChordScale`], [`NoteRole`]).

mod quality;
mod scale;
mod symbol;

pub use quality::ChordQuality;
pub(crate) use quality::known_suffixes;
pub use scale::{ChordScale, NoteRole};
pub use symbol::{ChordName, ChordSymbol, ChordTones};
