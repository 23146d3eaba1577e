//! Takes: everything the player played, kept. A live session records, off the audio
//! thread, the player's input (`player.mid`), the band's notes (`band.mid`) and the mix
//! (`mix.wav`) of each stretch played on one preset in one key, into a folder of its own
//! with a `take.json` describing it; a line per take goes to the practice history.
//!
//! The engine only pushes into rings (its journal, and the mix tap of
//! [`crate::engine::Engine::record_mix`]); the [`recorder::TakeRecorder`]'s writer thread
//! does all the disk I/O. The WAV header is brought up to date every second, so a
//! process that dies leaves a WAV readable up to the last second; the MIDI files and
//! `take.json` are written when the take ends (quit, Ctrl-C, SIGTERM, a preset change, an
//! error).

pub mod history;
pub mod info;
pub mod recorder;
pub mod smf;

pub use info::{FoundTake, TakeInfo, TakeListing, list_takes};
pub use recorder::{FinishedTake, TakeError, TakeRecorder, TakeSetup};

use std::path::PathBuf;

/// File names inside a take's folder.
pub const PLAYER_MIDI: &str = "player.mid";
pub const BAND_MIDI: &str = "band.mid";
pub const MIX_WAV: &str = "mix.wav";
pub const TAKE_JSON: &str = "take.json";

/// Where ascenseur keeps its data: `$XDG_DATA_HOME/ascenseur`, else
/// `~/.local/share/ascenseur` (the platform's data directory elsewhere).
pub fn data_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("ascenseur"))
}

/// Where takes go when no `--takes-dir` is given.
pub fn default_takes_dir() -> Option<PathBuf> {
    data_dir().map(|dir| dir.join("takes"))
}

/// A take's folder name: `<date>-<time>-<preset>`, which sorts by time.
pub fn folder_name(started: &chrono::DateTime<chrono::Local>, preset: &str) -> String {
    format!("{}-{preset}", started.format("%Y-%m-%d-%H%M%S"))
}
