//! `take.json`: what a take was (preset, key, tempi, seed, device, length, notes) and
//! what it was like.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The description of a take, written as `take.json` in its folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TakeInfo {
    /// The preset's name (as `ascenseur presets` lists it) and title.
    pub preset: String,
    pub title: String,
    /// The key the band played in, as the console spells it.
    pub key: String,
    /// Every tempo the band played at, in the order they came (BPM).
    pub tempos: Vec<f32>,
    pub seed: u64,
    /// The lead voice at the start.
    pub lead: String,
    /// The audio connection(s) the take was played on.
    pub devices: Vec<String>,
    pub sample_rate: u32,
    /// When the take began (RFC 3339, local time with its offset).
    pub started: String,
    /// Length of `mix.wav`, in seconds.
    pub duration_s: f64,
    /// The player's note-ons.
    pub notes_played: u64,
    /// The first bar of the form the player played in (1-based), if they played.
    pub first_bar: Option<u64>,
    /// Frames of silence in `mix.wav` where nothing was recorded: the disk fell behind, or
    /// the machine missed audio cycles (the notes after such a gap keep their real time).
    pub mix_frames_left_out: u64,
    /// Journal entries the engine could not hand over (nobody read them in time): notes
    /// missing from the MIDI files.
    pub journal_lost: u64,
    /// Audio cycles the engine missed (the machine was late): each is a period of the
    /// mix missing, and the notes after it sit that much earlier in the take.
    pub xruns: u64,
    /// Why recording stopped early, if it did; the files hold what was written before.
    pub error: Option<String>,
}

/// A take found on disk: its folder and what its `take.json` says.
#[derive(Clone, Debug)]
pub struct FoundTake {
    pub folder: PathBuf,
    pub info: TakeInfo,
}

/// What a takes folder holds.
#[derive(Clone, Debug, Default)]
pub struct TakeListing {
    /// Takes with a readable `take.json`, oldest first.
    pub takes: Vec<FoundTake>,
    /// Folders without one (a take being recorded, or from a process that was killed),
    /// with the reason.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// The takes under `dir`, oldest first. A folder that does not exist holds none.
pub fn list_takes(dir: &Path) -> std::io::Result<TakeListing> {
    let mut takes = Vec::new();
    let mut unreadable = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TakeListing::default()),
        Err(e) => return Err(e),
    };
    let mut folders: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for folder in folders {
        let json = folder.join(super::TAKE_JSON);
        match std::fs::read_to_string(&json) {
            Ok(text) => match serde_json::from_str::<TakeInfo>(&text) {
                Ok(info) => takes.push(FoundTake { folder, info }),
                Err(e) => unreadable.push((folder, format!("{}: {e}", json.display()))),
            },
            Err(e) => unreadable.push((folder, format!("{}: {e}", json.display()))),
        }
    }
    Ok(TakeListing { takes, unreadable })
}
