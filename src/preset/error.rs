//! Preset errors, located at `file:line:column` of the offending value.

use std::ops::Range;
use std::path::PathBuf;

use super::MAX_FILE_BYTES;

/// What kind of mistake an invalid preset has (for tests and tooling; the message says
/// the same thing in words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Not valid TOML.
    Syntax,
    /// A key the schema does not know.
    UnknownField,
    /// A required key is absent.
    MissingField,
    /// A value of the wrong TOML type (a string where a number belongs, ...).
    WrongType,
    /// A number outside its allowed range.
    OutOfRange,
    /// A name that is not one of the choices (feel, lead voice, chord symbol, mode, ...).
    UnknownValue,
    /// An empty list or text where one is required.
    Empty,
    /// Values that do not fit together (a pattern for a walking bass, a pattern that does
    /// not fill whole bars, ...).
    Inconsistent,
    /// The file is larger than [`MAX_FILE_BYTES`].
    TooLarge,
    /// The file is not UTF-8.
    Encoding,
}

impl ErrorKind {
    /// A short kebab-case name, used in fixture expectations.
    pub fn slug(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::UnknownField => "unknown-field",
            ErrorKind::MissingField => "missing-field",
            ErrorKind::WrongType => "wrong-type",
            ErrorKind::OutOfRange => "out-of-range",
            ErrorKind::UnknownValue => "unknown-value",
            ErrorKind::Empty => "empty",
            ErrorKind::Inconsistent => "inconsistent",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::Encoding => "encoding",
        }
    }
}

/// Why a preset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// The preset text is invalid: syntax, schema or a value. Displays as
    /// `FILE:LINE:COL: what is wrong ('the bad value')`.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The file path, or `<builtin>/NAME.toml`.
        file: String,
        /// 1-based line of the offending value.
        line: usize,
        /// 1-based column (in characters) of the offending value.
        column: usize,
        /// What kind of mistake it is.
        kind: ErrorKind,
        /// The complete message after `FILE:LINE:COL: `; it quotes the bad value.
        message: String,
        /// The bad value as written (possibly shortened).
        value: String,
    },
    /// The file could not be read.
    #[error("{}: cannot read preset: {source}", path.display())]
    Io {
        /// The path that was being read.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// No preset has that name.
    #[error(
        "unknown preset '{name}'; known presets: {}{}",
        known.join(", "),
        match user_dir { Some(d) => format!(" (user presets are read from {})", d.display()), None => String::new() }
    )]
    UnknownPreset {
        /// The name asked for.
        name: String,
        /// Every known name, built-ins first.
        known: Vec<String>,
        /// Where user presets were looked for.
        user_dir: Option<PathBuf>,
    },
}

impl PresetError {
    /// The process exit code for this error: 2 for a bad or unknown preset (a usage
    /// error), 1 when the file could not be read.
    pub fn exit_code(&self) -> i32 {
        match self {
            PresetError::Invalid { .. } | PresetError::UnknownPreset { .. } => 2,
            PresetError::Io { .. } => 1,
        }
    }

    /// The kind of an [`PresetError::Invalid`] error.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            PresetError::Invalid { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// `(line, column)` of an [`PresetError::Invalid`] error, 1-based.
    pub fn location(&self) -> Option<(usize, usize)> {
        match self {
            PresetError::Invalid { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }

    /// The file (or origin) named by the error, if any.
    pub fn file(&self) -> Option<String> {
        match self {
            PresetError::Invalid { file, .. } => Some(file.clone()),
            PresetError::Io { path, .. } => Some(path.display().to_string()),
            PresetError::UnknownPreset { .. } => None,
        }
    }

    /// The bad value of an [`PresetError::Invalid`] error, as written.
    pub fn value(&self) -> Option<&str> {
        match self {
            PresetError::Invalid { value, .. } => Some(value),
            _ => None,
        }
    }

    /// An error at the start of the text.
    pub(crate) fn too_large(origin: &str, size: u64) -> PresetError {
        PresetError::Invalid {
            file: origin.to_string(),
            line: 1,
            column: 1,
            kind: ErrorKind::TooLarge,
            message: format!("file is {size} bytes; a preset is at most {MAX_FILE_BYTES} bytes"),
            value: size.to_string(),
        }
    }

    /// The text is not UTF-8: located at the first bad byte.
    pub(crate) fn not_utf8(origin: &str, bytes: &[u8], e: std::str::Utf8Error) -> PresetError {
        let valid = &bytes[..e.valid_up_to()];
        // The prefix is valid UTF-8 by definition.
        let prefix = std::str::from_utf8(valid).unwrap_or_default();
        let (line, column) = line_col(prefix, prefix.len());
        let bad = &bytes[e.valid_up_to()..];
        let shown: Vec<String> = bad
            .iter()
            .take(e.error_len().unwrap_or(bad.len()).clamp(1, 4))
            .map(|b| format!("\\x{b:02X}"))
            .collect();
        let value = shown.concat();
        PresetError::Invalid {
            file: origin.to_string(),
            line,
            column,
            kind: ErrorKind::Encoding,
            message: format!("a preset must be UTF-8 text; found byte {value} ('{value}')"),
            value,
        }
    }
}

/// An error located by a byte span of `text`: builds `PresetError::Invalid`.
pub(crate) struct Locator<'a> {
    pub origin: &'a str,
    pub text: &'a str,
}

impl Locator<'_> {
    /// An error at `span`, quoting `value`. `what` is the message without the quote; the
    /// quote `('value')` is appended unless `what` already contains `'value'`.
    pub fn error(
        &self,
        span: Range<usize>,
        kind: ErrorKind,
        what: impl Into<String>,
        value: &str,
    ) -> PresetError {
        let (line, column) = line_col(self.text, span.start);
        let value = shorten(value);
        let mut message = what.into();
        if !message.contains(&format!("'{value}'")) {
            message.push_str(&format!(" ('{value}')"));
        }
        PresetError::Invalid {
            file: self.origin.to_string(),
            line,
            column,
            kind,
            message,
            value,
        }
    }

    /// The source text of `span`, for quoting.
    pub fn source(&self, span: Range<usize>) -> &str {
        self.text.get(span).unwrap_or("")
    }
}

/// 1-based line and column (in characters; a leading byte-order mark is not counted) of
/// byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..]
        .chars()
        .filter(|&c| c != '\u{feff}')
        .count()
        + 1;
    (line, column)
}

/// Shortens a quoted value to one line of at most 60 characters.
fn shorten(value: &str) -> String {
    const MAX: usize = 60;
    let one_line = value.trim().replace(['\n', '\r'], " ");
    if one_line.chars().count() <= MAX {
        one_line
    } else {
        let cut: String = one_line.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let text = "a = 1\ntitle = \"Générique\"\nx = 2";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        let x = text.find("x =").unwrap();
        assert_eq!(line_col(text, x), (3, 1));
        let q = text.find("que").unwrap();
        assert_eq!(line_col(text, q), (2, 16));
        assert_eq!(line_col("\u{feff}tempo = 3", 11), (1, 9));
    }

    #[test]
    fn shorten_long_values() {
        let long = "x".repeat(100);
        let s = shorten(&long);
        assert_eq!(s.chars().count(), 60);
        assert!(s.ends_with('…'));
        assert_eq!(shorten(" a\nb "), "a b");
    }
}
