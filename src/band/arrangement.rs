//! A preset compiled for the audio thread: the form flattened into chord slots, the
//! styles resolved, the swing ratio chosen. Built on an ordinary thread; the audio
//! thread only reads it.

use crate::preset::{BassStyle, DrumStyle, Feel, LeadInstrument, PianoStyle, Preset, TEMPO_RANGE};
use crate::theory::{ChordScale, ChordSymbol, Key, Mode, transposed_key};

/// One chord held for some bars, with its scale: the unit the players think in.
#[derive(Clone, Copy, Debug)]
pub struct ChordSlot {
    pub chord: ChordSymbol,
    pub mode: Mode,
    pub scale: ChordScale,
    /// First bar of the slot within one pass of the form (0-based).
    pub start_bar: u32,
    pub bars: u32,
    /// Index into [`Arrangement::section_names`].
    pub section: usize,
    /// Whether this slot is the last of its section (drum fills, kicks).
    pub ends_section: bool,
}

/// How the bass plays. Built off the audio thread; the audio thread only reads it.
#[derive(Clone, Debug)]
pub enum BassPlan {
    Walking,
    Pedal,
    Ostinato {
        /// (semitones from the chord root, length in beats)
        steps: Vec<(i8, f32)>,
        /// The figure's length in bars.
        bars: u32,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ArrangementError {
    #[error("preset '{0}' has no bars")]
    Empty(String),
    #[error(
        "tempo {0} BPM is out of range {low}..={high}",
        low = TEMPO_RANGE.start(),
        high = TEMPO_RANGE.end()
    )]
    Tempo(f32),
}

/// A preset compiled for the band.
#[derive(Clone, Debug)]
pub struct Arrangement {
    pub name: String,
    pub title: String,
    /// The key the slots are written in.
    pub key: Key,
    pub slots: Vec<ChordSlot>,
    pub section_names: Vec<String>,
    pub form_bars: u32,
    pub beats_per_bar: u32,
    pub tempo: f32,
    pub swing: f32,
    pub feel: Feel,
    pub bass: BassPlan,
    pub drums: DrumStyle,
    pub piano: PianoStyle,
    pub lead: LeadInstrument,
    /// Whether the band follows the soloist (the preset's `listen`).
    pub listen: bool,
    /// Gain on the band's stems (dB) that sets it at the target loudness
    /// (`engine::loudness`); 0 until measured.
    pub band_trim_db: f32,
}

impl Arrangement {
    /// Compile a preset. `tempo` overrides the preset's tempo (and then the swing ratio
    /// follows the new tempo unless the preset fixes it).
    pub fn new(preset: &Preset, tempo: Option<f32>) -> Result<Self, ArrangementError> {
        let tempo = tempo.unwrap_or(preset.tempo);
        if !TEMPO_RANGE.contains(&tempo) {
            return Err(ArrangementError::Tempo(tempo));
        }
        let mut slots = Vec::new();
        let mut section_names = Vec::new();
        let mut bar = 0;
        for section in &preset.sections {
            let index = section_names.len();
            section_names.push(section.name.clone());
            for _ in 0..section.repeat.max(1) {
                for (i, change) in section.changes.iter().enumerate() {
                    slots.push(ChordSlot {
                        chord: change.chord,
                        mode: change.mode,
                        scale: ChordScale::new(&change.chord, &change.mode),
                        start_bar: bar,
                        bars: change.bars,
                        section: index,
                        ends_section: i + 1 == section.changes.len(),
                    });
                    bar += change.bars;
                }
            }
        }
        if bar == 0 {
            return Err(ArrangementError::Empty(preset.name.clone()));
        }
        let beats_per_bar = u32::from(preset.meter.beats_per_bar);
        let bass = match &preset.bass {
            BassStyle::Walking => BassPlan::Walking,
            BassStyle::Pedal => BassPlan::Pedal,
            BassStyle::Ostinato { pattern } => {
                let beats: f32 = pattern.iter().map(|s| s.beats).sum();
                BassPlan::Ostinato {
                    steps: pattern.iter().map(|s| (s.interval, s.beats)).collect(),
                    bars: ((beats / beats_per_bar as f32).round() as u32).max(1),
                }
            }
        };
        Ok(Self {
            name: preset.name.clone(),
            title: preset.title.clone(),
            key: preset.key,
            slots,
            section_names,
            form_bars: bar,
            beats_per_bar,
            tempo,
            swing: preset
                .swing
                .unwrap_or_else(|| super::swing_ratio_for_tempo(tempo)),
            feel: preset.feel,
            bass,
            drums: preset.drums,
            piano: preset.piano,
            lead: preset.lead,
            listen: preset.listen,
            band_trim_db: 0.0,
        })
    }

    /// This arrangement `shift` semitones up, every slot moved as the conductor moves it
    /// bar by bar in a key cycle ([`ChordSlot::transposed`]), so the console shows what the
    /// band plays. Off the audio thread.
    pub fn transposed(&self, shift: u8) -> Arrangement {
        let mut moved = self.clone();
        if shift % 12 == 0 {
            return moved;
        }
        moved.key = transposed_key(self.key, i32::from(shift));
        for slot in &mut moved.slots {
            *slot = slot.transposed(self.key, shift);
        }
        moved
    }

    /// The slot sounding in bar `bar` (counted from the start, looping the form), and the
    /// bar's index within the slot.
    pub fn slot_at(&self, bar: u64) -> (&ChordSlot, u32) {
        let form_bar = (bar % u64::from(self.form_bars)) as u32;
        // Forms are a handful of slots: a linear scan is cheaper than anything clever.
        let slot = self
            .slots
            .iter()
            .rev()
            .find(|s| s.start_bar <= form_bar)
            .unwrap_or(&self.slots[0]);
        (slot, form_bar - slot.start_bar)
    }

    /// Index of the slot sounding in bar `bar`.
    pub fn slot_index_at(&self, bar: u64) -> usize {
        let form_bar = (bar % u64::from(self.form_bars)) as u32;
        self.slots
            .iter()
            .rposition(|s| s.start_bar <= form_bar)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset;

    #[test]
    fn a_tempo_outside_the_presets_range_is_refused_naming_the_range() {
        let preset = preset::find("generique").unwrap();
        for tempo in [*TEMPO_RANGE.start(), *TEMPO_RANGE.end()] {
            assert!(Arrangement::new(&preset, Some(tempo)).is_ok(), "{tempo}");
        }
        let error = Arrangement::new(&preset, Some(TEMPO_RANGE.end() + 1.0)).unwrap_err();
        assert_eq!(error.to_string(), "tempo 361 BPM is out of range 30..=360");
        assert!(Arrangement::new(&preset, Some(TEMPO_RANGE.start() - 1.0)).is_err());
    }
}
