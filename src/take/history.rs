//! The practice history: a line of JSON per take in `history.jsonl` in the data
//! directory, appended when the take ends, and what `ascenseur history` and the console's
//! header make of it. A line that does not read (a file edited by hand, a line cut short
//! by a crash) is skipped and said, never fatal.

use super::info::TakeInfo;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The history file's name in the data directory.
pub const HISTORY_FILE: &str = "history.jsonl";

/// A take's timing counts towards the best tempo only if its spread is under this.
pub const STEADY_SPREAD_MS: f64 = 30.0;

/// ... and only over this many notes judged: a few notes are steady by chance.
pub const STEADY_MIN_NOTES: usize = 16;

/// Takes averaged at each end of a trend.
const TREND_TAKES: usize = 3;

/// Where the history is kept: `history.jsonl` in [`super::data_dir`].
pub fn default_path() -> Option<PathBuf> {
    super::data_dir().map(|dir| dir.join(HISTORY_FILE))
}

/// One take in the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The take's folder.
    pub take: PathBuf,
    /// When the `play` session it belongs to began (RFC 3339): takes of one session share
    /// it.
    pub session: String,
    /// When the take began (RFC 3339, local time with its offset).
    pub started: String,
    pub preset: String,
    pub key: String,
    pub minutes: f64,
    /// The highest tempo the band played in the take (BPM).
    pub tempo: f32,
    pub notes: u64,
    /// Notes judged against the grid, their mean offset and spread (ms).
    pub timed_notes: usize,
    pub mean_ms: Option<f64>,
    pub spread_ms: Option<f64>,
    /// Share of the notes in the mode, 0 … 1.
    pub in_mode: Option<f64>,
}

impl HistoryEntry {
    /// The history line of a finished take.
    pub fn of(folder: &Path, info: &TakeInfo, session: &str) -> HistoryEntry {
        let time = &info.summary.time;
        let notes = &info.summary.notes;
        let timed = time.count > 0;
        HistoryEntry {
            take: folder.to_path_buf(),
            session: session.to_string(),
            started: info.started.clone(),
            preset: info.preset.clone(),
            key: info.key.clone(),
            minutes: info.duration_s / 60.0,
            tempo: info.tempos.iter().copied().fold(0.0, f32::max),
            notes: info.notes_played,
            timed_notes: time.count,
            mean_ms: timed.then_some(time.mean_ms),
            spread_ms: timed.then_some(time.spread_ms),
            in_mode: (notes.in_mode.total > 0).then_some(notes.in_mode.share),
        }
    }

    /// Whether the take was steady enough for its tempo to count as played.
    pub fn steady(&self) -> bool {
        self.timed_notes >= STEADY_MIN_NOTES && self.spread_ms.is_some_and(|s| s < STEADY_SPREAD_MS)
    }

    /// The local date the take began on.
    fn date(&self) -> Option<chrono::NaiveDate> {
        chrono::DateTime::parse_from_rfc3339(&self.started)
            .ok()
            .map(|t| t.with_timezone(&chrono::Local).date_naive())
    }
}

/// Add a take's line to the history file (created, with its folder, if missing).
pub fn append(path: &Path, entry: &HistoryEntry) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
    line.push('\n');
    // One write of a whole line, appended: two sessions at once do not interleave.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(line.as_bytes())
}

/// The history as read: the lines that read, and those skipped (line number, why).
#[derive(Clone, Debug, Default)]
pub struct History {
    pub entries: Vec<HistoryEntry>,
    pub skipped: Vec<(usize, String)>,
}

impl History {
    /// Read the history file; one that does not exist is an empty history.
    pub fn read(path: &Path) -> std::io::Result<History> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(History::default()),
            Err(e) => return Err(e),
        };
        let mut history = History::default();
        for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<HistoryEntry>(line) {
                Ok(entry) => history.entries.push(entry),
                Err(e) => history.skipped.push((index + 1, e.to_string())),
            }
        }
        Ok(history)
    }

    /// Minutes played on `date` (local), every preset.
    pub fn minutes_on(&self, date: chrono::NaiveDate) -> f64 {
        self.entries
            .iter()
            .filter(|e| e.date() == Some(date))
            .map(|e| e.minutes)
            .sum()
    }

    /// The highest tempo played steadily on `preset`.
    pub fn best_tempo(&self, preset: &str) -> Option<f32> {
        self.entries
            .iter()
            .filter(|e| e.preset == preset && e.steady())
            .map(|e| e.tempo)
            .reduce(f32::max)
    }

    /// Per preset (or only `preset`), in the order first played.
    pub fn by_preset(&self, preset: Option<&str>) -> Vec<PresetHistory> {
        let mut names: Vec<&str> = Vec::new();
        for entry in &self.entries {
            if preset.is_none_or(|p| p == entry.preset) && !names.contains(&entry.preset.as_str()) {
                names.push(&entry.preset);
            }
        }
        names
            .into_iter()
            .map(|name| {
                let takes: Vec<&HistoryEntry> =
                    self.entries.iter().filter(|e| e.preset == name).collect();
                let mut sessions: Vec<&str> = takes.iter().map(|e| e.session.as_str()).collect();
                sessions.sort_unstable();
                sessions.dedup();
                PresetHistory {
                    preset: name.to_string(),
                    sessions: sessions.len(),
                    takes: takes.len(),
                    minutes: takes.iter().map(|e| e.minutes).sum(),
                    best_tempo: self.best_tempo(name),
                    mean_ms: Trend::of(takes.iter().map(|e| e.mean_ms)),
                    spread_ms: Trend::of(takes.iter().map(|e| e.spread_ms)),
                    in_mode: Trend::of(takes.iter().map(|e| e.in_mode)),
                }
            })
            .collect()
    }
}

/// Where a figure was and where it is: the mean of the first takes that have it and of
/// the last ones (up to three each, never the same take twice).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Trend {
    pub first: f64,
    pub last: f64,
    /// Takes that had the figure.
    pub takes: usize,
}

impl Trend {
    fn of(values: impl Iterator<Item = Option<f64>>) -> Option<Trend> {
        let values: Vec<f64> = values.flatten().filter(|v| v.is_finite()).collect();
        if values.is_empty() {
            return None;
        }
        let n = (values.len() / 2).clamp(1, TREND_TAKES);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        Some(Trend {
            first: mean(&values[..n]),
            last: mean(&values[values.len() - n..]),
            takes: values.len(),
        })
    }
}

/// One preset's history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PresetHistory {
    pub preset: String,
    pub sessions: usize,
    pub takes: usize,
    pub minutes: f64,
    /// The highest tempo played with a timing spread under [`STEADY_SPREAD_MS`] over at
    /// least [`STEADY_MIN_NOTES`] notes.
    pub best_tempo: Option<f32>,
    pub mean_ms: Option<Trend>,
    pub spread_ms: Option<Trend>,
    pub in_mode: Option<Trend>,
}

impl std::fmt::Display for PresetHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        write!(
            f,
            "{}: {}, {}, {:.0} min",
            self.preset,
            plural(self.sessions, "session"),
            plural(self.takes, "take"),
            self.minutes
        )?;
        match self.best_tempo {
            Some(tempo) => write!(f, " · best tempo {tempo:.0} BPM")?,
            None => write!(f, " · no steady take yet")?,
        }
        if let Some(t) = self.mean_ms {
            write!(f, " · time {:+.0} → {:+.0} ms", t.first, t.last)?;
        }
        if let Some(t) = self.spread_ms {
            write!(f, " · spread ±{:.0} → ±{:.0} ms", t.first, t.last)?;
        }
        if let Some(t) = self.in_mode {
            write!(
                f,
                " · in the mode {:.0} → {:.0} %",
                t.first * 100.0,
                t.last * 100.0
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(preset: &str, session: &str, tempo: f32, spread: f64, timed: usize) -> HistoryEntry {
        HistoryEntry {
            take: PathBuf::from("t"),
            session: session.into(),
            started: "2026-12-02T10:00:00+00:00".into(),
            preset: preset.into(),
            key: "D minor".into(),
            minutes: 2.0,
            tempo,
            notes: timed as u64,
            timed_notes: timed,
            mean_ms: Some(spread / 2.0),
            spread_ms: Some(spread),
            in_mode: Some(0.8),
        }
    }

    #[test]
    fn two_takes_are_two_entries_and_a_corrupt_line_is_skipped_and_said() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join(HISTORY_FILE);
        append(&path, &entry("generique", "s1", 120.0, 40.0, 40)).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"take\": \"cut short\n")
            .unwrap();
        append(&path, &entry("generique", "s2", 132.0, 20.0, 40)).unwrap();
        let history = History::read(&path).unwrap();
        assert_eq!(history.entries.len(), 2);
        assert_eq!(history.skipped.len(), 1);
        assert_eq!(history.skipped[0].0, 2);
        let summary = history.by_preset(None);
        assert_eq!(summary.len(), 1);
        assert_eq!(summary[0].sessions, 2);
        assert_eq!(summary[0].best_tempo, Some(132.0));
        let spread = summary[0].spread_ms.unwrap();
        assert_eq!((spread.first, spread.last), (40.0, 20.0));
        assert!(summary[0].to_string().contains("spread ±40 → ±20 ms"));
    }

    #[test]
    fn only_a_steady_take_of_enough_notes_sets_the_best_tempo() {
        let history = History {
            entries: vec![
                entry("generique", "s", 200.0, 10.0, 4),
                entry("generique", "s", 180.0, 35.0, 40),
                entry("generique", "s", 150.0, 25.0, 40),
                entry("sur-l-autoroute", "s", 250.0, 10.0, 40),
            ],
            skipped: Vec::new(),
        };
        assert_eq!(history.best_tempo("generique"), Some(150.0));
        assert_eq!(history.by_preset(Some("generique")).len(), 1);
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        // Local time may move the date; the four takes are on one day whatever it is.
        let day = history.entries[0].date().unwrap_or(today);
        assert_eq!(history.minutes_on(day), 8.0);
    }
}
