//! Built-in presets, the user preset directory, the catalog and name lookup.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{MAX_FILE_BYTES, Preset, PresetError, load_file, parse};

/// The ten presets of the LP, in LP order: `(name, TOML text)`.
static BUILTIN: [(&str, &str); 10] = [
    ("generique", include_str!("../../presets/generique.toml")),
    (
        "assassinat-de-carala",
        include_str!("../../presets/assassinat-de-carala.toml"),
    ),
    (
        "sur-l-autoroute",
        include_str!("../../presets/sur-l-autoroute.toml"),
    ),
    (
        "julien-dans-l-ascenseur",
        include_str!("../../presets/julien-dans-l-ascenseur.toml"),
    ),
    (
        "florence-sur-les-champs-elysees",
        include_str!("../../presets/florence-sur-les-champs-elysees.toml"),
    ),
    (
        "diner-au-motel",
        include_str!("../../presets/diner-au-motel.toml"),
    ),
    (
        "evasion-de-julien",
        include_str!("../../presets/evasion-de-julien.toml"),
    ),
    (
        "visite-du-vigile",
        include_str!("../../presets/visite-du-vigile.toml"),
    ),
    (
        "au-bar-du-petit-bac",
        include_str!("../../presets/au-bar-du-petit-bac.toml"),
    ),
    (
        "chez-le-photographe-du-motel",
        include_str!("../../presets/chez-le-photographe-du-motel.toml"),
    ),
];

/// The built-in presets, in LP order: `(name, TOML text)`, embedded from `presets/`.
pub fn builtin() -> &'static [(&'static str, &'static str)] {
    &BUILTIN
}

/// The origin used in error messages for a built-in preset.
fn builtin_origin(name: &str) -> String {
    format!("<builtin>/{name}.toml")
}

/// Where a catalog entry comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresetSource {
    /// Embedded in the binary.
    Builtin,
    /// A file in the user preset directory.
    User(PathBuf),
}

/// One preset of the catalog.
#[derive(Debug)]
pub struct CatalogEntry {
    /// The preset name (file stem).
    pub name: String,
    /// Built-in, or the user file it was read from.
    pub source: PresetSource,
    /// `true` when a user file overrides the built-in preset of the same name.
    pub overrides_builtin: bool,
    /// The validated preset, or why the user file is invalid (invalid files are listed,
    /// not dropped; an invalid user file still overrides a built-in of the same name, so
    /// that the mistake is seen rather than the built-in played instead).
    pub preset: Result<Preset, PresetError>,
}

impl CatalogEntry {
    /// `true` for a preset from the user directory.
    pub fn is_user(&self) -> bool {
        matches!(self.source, PresetSource::User(_))
    }
}

/// The user preset directory: `$ASCENSEUR_PRESET_DIR` if set, else
/// `$XDG_CONFIG_HOME/ascenseur/presets`, else `~/.config/ascenseur/presets` (on Windows,
/// `%APPDATA%\ascenseur\presets` when there is no `HOME`). `None` when none of these is
/// set.
pub fn user_preset_dir() -> Option<PathBuf> {
    user_preset_dir_from(|key| std::env::var_os(key))
}

/// [`user_preset_dir`] with the environment given as a lookup function (for tests and
/// for callers that carry their own environment).
pub fn user_preset_dir_from(env: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let var = |key: &str| env(key).filter(|v| !v.is_empty());
    if let Some(dir) = var("ASCENSEUR_PRESET_DIR") {
        return Some(PathBuf::from(dir));
    }
    // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    if let Some(config) = var("XDG_CONFIG_HOME").filter(|v| Path::new(v).is_absolute()) {
        return Some(PathBuf::from(config).join("ascenseur").join("presets"));
    }
    if let Some(home) = var("HOME") {
        return Some(
            PathBuf::from(home)
                .join(".config")
                .join("ascenseur")
                .join("presets"),
        );
    }
    var("APPDATA").map(|appdata| PathBuf::from(appdata).join("ascenseur").join("presets"))
}

/// Every preset: the built-ins (LP order), with user presets of the same name replacing
/// them in place, then the other user presets sorted by name. Reads [`user_preset_dir`].
pub fn catalog() -> Vec<CatalogEntry> {
    catalog_in(user_preset_dir().as_deref())
}

/// [`catalog`] with an explicit user directory (`None`: built-ins only). A missing
/// directory means no user presets; an unreadable one is reported as an entry whose
/// `preset` is the I/O error.
pub fn catalog_in(user_dir: Option<&Path>) -> Vec<CatalogEntry> {
    let mut entries: Vec<CatalogEntry> = BUILTIN
        .iter()
        .map(|&(name, text)| CatalogEntry {
            name: name.to_string(),
            source: PresetSource::Builtin,
            overrides_builtin: false,
            preset: parse(name, &builtin_origin(name), text),
        })
        .collect();
    let Some(dir) = user_dir else {
        return entries;
    };
    let files = match user_files(dir) {
        Ok(files) => files,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return entries,
        Err(e) => {
            entries.push(CatalogEntry {
                name: dir.display().to_string(),
                source: PresetSource::User(dir.to_path_buf()),
                overrides_builtin: false,
                preset: Err(PresetError::Io {
                    path: dir.to_path_buf(),
                    source: e,
                }),
            });
            return entries;
        }
    };
    for (name, path) in files {
        let preset = load_file(&path);
        match entries.iter_mut().find(|e| e.name == name) {
            Some(entry) => {
                entry.source = PresetSource::User(path);
                entry.overrides_builtin = true;
                entry.preset = preset;
            }
            None => entries.push(CatalogEntry {
                name,
                source: PresetSource::User(path),
                overrides_builtin: false,
                preset,
            }),
        }
    }
    entries
}

/// The `*.toml` files of `dir` (not descending), sorted by name: `(stem, path)`.
fn user_files(dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        if !is_toml || path.is_dir() {
            continue;
        }
        let Some(stem) = path.file_stem() else {
            continue;
        };
        let name = stem.to_string_lossy().into_owned();
        if name.is_empty() || name.starts_with('.') {
            continue;
        }
        files.push((name, path));
    }
    files.sort();
    Ok(files)
}

/// Finds a preset by name or path. A path (contains a path separator or ends in
/// `.toml`) loads that file; otherwise the name is looked up in [`catalog`]. An unknown
/// name gives [`PresetError::UnknownPreset`], which quotes it and lists every known name.
pub fn find(name_or_path: &str) -> Result<Preset, PresetError> {
    find_in(name_or_path, user_preset_dir().as_deref())
}

/// [`find`] with an explicit user directory (`None`: built-ins only).
pub fn find_in(name_or_path: &str, user_dir: Option<&Path>) -> Result<Preset, PresetError> {
    let looks_like_path = name_or_path.contains('/')
        || name_or_path.contains(std::path::MAIN_SEPARATOR)
        || name_or_path.to_ascii_lowercase().ends_with(".toml");
    if looks_like_path {
        return load_file(Path::new(name_or_path));
    }
    let wanted = name_or_path.trim();
    // A built-in not overridden by a user file needs no directory scan of its own, but
    // an override must win, so the user directory is always consulted.
    let entries = catalog_in(user_dir);
    let known: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    match entries.into_iter().find(|e| e.name == wanted) {
        Some(entry) => entry.preset,
        None => Err(PresetError::UnknownPreset {
            name: name_or_path.to_string(),
            known,
            user_dir: user_dir.map(Path::to_path_buf),
        }),
    }
}

/// Reads a file, refusing one larger than [`MAX_FILE_BYTES`] without reading it all.
pub(crate) fn read_limited(path: &Path) -> Result<Vec<u8>, PresetError> {
    let io = |source| PresetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let origin = path.display().to_string();
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "is a directory, not a preset file",
        )));
    }
    if meta.len() > MAX_FILE_BYTES as u64 {
        return Err(PresetError::too_large(&origin, meta.len()));
    }
    // The size may change between metadata and read (or be unknown, for a pipe).
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(PresetError::too_large(&origin, bytes.len() as u64));
    }
    Ok(bytes)
}
