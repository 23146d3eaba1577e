//! What crosses between the engine and the other threads. Everything here is `Copy`
//! except [`Command::Load`] and [`Command::PlayBack`], whose boxes travel back in
//! [`EngineReturn`] to be dropped off the audio thread.

use super::playback::{Playback, PlaybackProgress};
use crate::band::{Arrangement, FormLoop, KeyCycle, Player, Position, TempoRamp, Trainer};
use crate::preset::LeadInstrument;

/// From the UI to the engine.
#[derive(Debug)]
pub enum Command {
    /// New tempo in BPM, from the next bar line.
    SetTempo(f32),
    SetMute(Player, bool),
    SetLead(LeadInstrument),
    /// A new arrangement (another preset, a transposition): starts the form again. The
    /// one it replaces comes back in [`EngineReturn`]; while the controller has not
    /// collected those, the return ring may be full, and then this command and those
    /// behind it wait.
    Load(Box<Arrangement>),
    /// Start the form again from bar 1.
    Restart,
    /// Start the band from bar 1 (after a count-in bar if it is on); nothing if it is
    /// already playing.
    Start,
    /// Stop the band: planned sounds are forgotten and held bass and piano notes let
    /// go (their tails ring out). The lead stays playable.
    Stop,
    /// Whether [`Command::Start`] plays a bar of hi-hat clicks before the form.
    SetCountIn(bool),
    /// Trade turns of this many bars with a band horn (2, 4 or 8), or stop with 0; turns
    /// count from the start, the player's first.
    SetTrade(u32),
    /// Repeat these bars of the form (or play on through it), from the next bar line. A
    /// loop the form cannot hold is ignored.
    SetLoop(Option<FormLoop>),
    /// Raise the tempo every few passes (or hold it); a ramp switched on counts its
    /// passes from the next bar line.
    SetTempoRamp(Option<TempoRamp>),
    /// Move to the next key at each pass (or stay in the key reached).
    SetKeyCycle(Option<KeyCycle>),
    /// Play a stretch of the take back in place of the band, from the next bar line (at
    /// once while the band is stopped); the band goes on after it where it left off. The
    /// player's live notes still sound. Ignored (and handed back) while another plays;
    /// waits, like [`Command::Load`], until the return ring has room.
    PlayBack(Box<Playback>),
    /// End the playback at its next bar line (a beat or more away).
    StopPlayback,
}

/// From the engine back to the controller, to be dropped there.
#[derive(Debug)]
pub enum EngineReturn {
    Arrangement(Box<Arrangement>),
    Playback(Box<Playback>),
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

/// Where the band is: playing the form, counting in, or stopped.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Transport {
    #[default]
    Playing,
    /// Counting in before bar 1: the beat of the count-in bar, 0-based with its fraction.
    CountIn {
        beat: f32,
    },
    Stopped,
}

/// Lead note-ons a telemetry snapshot can carry: those of its block, and those of blocks
/// whose snapshots did not fit in the ring. More are counted in
/// [`Telemetry::onsets_missed`].
pub const ONSETS_PER_BLOCK: usize = 8;

/// A lead note as the engine started it, where the music was at that sample: what the
/// practice analysis needs to judge a phrase.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NoteOnset {
    pub key: u8,
    pub velocity: f32,
    /// Engine frame at which the note started.
    pub frame: u64,
    /// The position of the form at that frame (meaningless unless `in_form`).
    pub position: Position,
    /// False while the band is stopped or counting in.
    pub in_form: bool,
}

/// A snapshot of the engine after a block, for the console. Snapshots that do not fit in
/// the ring are counted in `telemetry_lost`; the counters are totals since the start, so
/// the next snapshot that arrives has them right.
#[derive(Clone, Copy, Debug)]
pub struct Telemetry {
    /// The engine clock at the end of the block.
    pub frame: u64,
    pub position: Position,
    pub tempo: f32,
    /// Peak level of each stem in the block (linear), ordered as `STEMS`.
    pub stem_peaks: [f32; super::STEM_COUNT],
    pub limiter_db: f32,
    /// Keys held on the lead voice, as a 128-bit set.
    pub held_keys: [u64; 2],
    pub notes_played: u64,
    pub dropped_input: u64,
    pub dropped_events: u64,
    pub lead: LeadInstrument,
    /// Program changes that chose the lead instrument since the start: a live session
    /// adopts `lead` when this moves, since the player chose it from the keyboard.
    pub lead_programs: u64,
    pub mute: [bool; 3],
    pub sample_rate: f32,
    pub transport: Transport,
    /// Whether starting the band counts in.
    pub count_in: bool,
    /// Lead notes started since the previous snapshot that reached the ring (this block's,
    /// and those of lost snapshots), oldest first: `onsets[..onset_count]`.
    pub onsets: [NoteOnset; ONSETS_PER_BLOCK],
    pub onset_count: u8,
    /// Note-ons since the start that no snapshot carried: more than
    /// [`ONSETS_PER_BLOCK`] between two snapshots that reached the ring.
    pub onsets_missed: u64,
    /// Snapshots since the start that did not fit in the ring (the UI was not reading).
    pub telemetry_lost: u64,
    /// Journal entries since the start that did not fit in its ring (nobody was reading).
    pub journal_lost: u64,
    /// Loop, tempo ramp and key cycle in force (where they stand in the bar sounding is
    /// in `position`: form bar, key shift, passes, tempo).
    pub trainer: Trainer,
    /// A take being played back (the position above is then the playback's).
    pub playback: Option<PlaybackProgress>,
    /// Whose turn it is while trading with the band's horn.
    pub trade: Option<crate::band::TradeTurn>,
}

impl Telemetry {
    /// The lead notes started since the previous snapshot that arrived.
    pub fn onsets(&self) -> &[NoteOnset] {
        &self.onsets[..usize::from(self.onset_count).min(ONSETS_PER_BLOCK)]
    }

    /// Whether lead key `key` is held.
    pub fn is_held(&self, key: u8) -> bool {
        key < 128 && self.held_keys[usize::from(key / 64)] >> (key % 64) & 1 == 1
    }
}
