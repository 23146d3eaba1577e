//! What crosses between the engine and the other threads. Everything here is `Copy`
//! except [`Command::Load`], whose box travels back in [`EngineReturn`] to be dropped off
//! the audio thread.

use crate::band::{Arrangement, Player, Position};
use crate::preset::LeadVoice;

/// From the UI to the engine.
#[derive(Debug)]
pub enum Command {
    /// New tempo in BPM, from the next bar line.
    SetTempo(f32),
    SetMute(Player, bool),
    SetLead(LeadVoice),
    /// A new arrangement (another preset, a transposition): starts the form again.
    Load(Box<Arrangement>),
    /// Start the form again from bar 1.
    Restart,
}

/// From the engine back to the controller, to be dropped there.
#[derive(Debug)]
pub enum EngineReturn {
    Arrangement(Box<Arrangement>),
}

/// A player's gesture, already parsed from MIDI or the computer keyboard.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InputEvent {
    NoteOn {
        key: u8,
        velocity: f32,
    },
    NoteOff {
        key: u8,
    },
    /// Sustain pedal down (true) or up.
    Sustain(bool),
    /// Pitch bend in semitones.
    PitchBend(f32),
    /// Mod wheel, 0 … 1.
    Modulation(f32),
    AllNotesOff,
    AllSoundOff,
    /// Program change: chooses the lead voice.
    Program(u8),
}

/// Input stamped with the engine frame at which it should sound. A frame already past
/// plays at the start of the next block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimedInput {
    pub frame: u64,
    pub event: InputEvent,
}

impl Default for TimedInput {
    fn default() -> Self {
        Self {
            frame: 0,
            event: InputEvent::AllNotesOff,
        }
    }
}

/// A snapshot of the engine after a block, for the console.
#[derive(Clone, Copy, Debug)]
pub struct Telemetry {
    /// The engine clock at the end of the block.
    pub frame: u64,
    pub position: Position,
    pub tempo: f32,
    /// Peak level of each stem in the block (linear), ordered as `STEMS`.
    pub stem_peaks: [f32; 4],
    pub limiter_db: f32,
    /// Keys held on the lead voice, as a 128-bit set.
    pub held_keys: [u64; 2],
    pub notes_played: u64,
    pub dropped_input: u64,
    pub dropped_events: u64,
    pub lead: LeadVoice,
    pub mute: [bool; 3],
}
