//! `take.json`: what a take was (preset, key, tempi, seed, device, length, notes) and
//! what it was like.

use crate::practice::PracticeReport;
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
    /// Where bar 1 of the form begins in the take (after a count-in), in seconds.
    pub form_start_s: Option<f64>,
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
    /// Time and feel, note choice and space over the whole take (the report of
    /// `render --report`, fields as the README lists them).
    pub summary: PracticeReport,
}

/// A take found on disk: its folder and what its `take.json` says.
#[derive(Clone, Debug)]
pub struct FoundTake {
    pub folder: PathBuf,
    pub info: TakeInfo,
}

impl FoundTake {
    /// A take's folder, for rendering it again: its `take.json` must read and its
    /// `player.mid` be there. The error says which file and why.
    pub fn open(folder: &Path) -> Result<FoundTake, String> {
        let json = folder.join(super::TAKE_JSON);
        let text = std::fs::read_to_string(&json)
            .map_err(|e| format!("cannot read '{}': {e}", json.display()))?;
        let info: TakeInfo = serde_json::from_str(&text)
            .map_err(|e| format!("'{}' is not a take's description: {e}", json.display()))?;
        let player = folder.join(super::PLAYER_MIDI);
        if !player.is_file() {
            return Err(format!("there is no '{}'", player.display()));
        }
        Ok(FoundTake {
            folder: folder.to_path_buf(),
            info,
        })
    }

    /// Fill `options` to render this take again (what the caller left unset: key, tempo,
    /// lead; the seed is always the take's). Its preset is [`TakeInfo::preset`].
    pub fn render_options(
        &self,
        options: &mut crate::render::RenderOptions,
    ) -> Result<(), TakeRenderError> {
        let info = &self.info;
        let bad = |why: String| TakeRenderError {
            take: self.folder.clone(),
            why,
        };
        if options.key.is_none() {
            options.key = Some(
                crate::theory::Key::parse(&info.key)
                    .map_err(|e| bad(format!("its key '{}': {e}", info.key)))?,
            );
        }
        if options.tempo.is_none() {
            options.tempo = info.tempos.first().copied();
        }
        if options.lead.is_none() {
            options.lead = Some(
                crate::preset::LeadInstrument::parse(&info.lead)
                    .map_err(|e| bad(format!("its lead voice '{}': {e}", info.lead)))?,
            );
        }
        options.seed = info.seed;
        options.input = Some(self.folder.join(super::PLAYER_MIDI));
        options.input_from_s = info.form_start_s.unwrap_or(0.0);
        Ok(())
    }
}

/// A take that cannot be rendered again, and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot render the take '{take}': {why}")]
pub struct TakeRenderError {
    pub take: PathBuf,
    pub why: String,
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
