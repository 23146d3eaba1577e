//! The raw TOML schema (spans kept) and its validation into a [`Preset`].

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::error::{ErrorKind, Locator};
use super::{
    BARS_RANGE, BASS_STYLES, BEATS_PER_BAR_RANGE, BassStyle, Change, DENSITY_RANGE, DrumKit,
    DrumStyle, Feel, INTERVAL_RANGE, LeadInstrument, MAX_CHANGES, MAX_FORM_BARS, MAX_PATTERN_BARS,
    MAX_PATTERN_STEPS, MAX_SECTIONS, Meter, OstinatoStep, PianoStyle, Preset, PresetError,
    REPEAT_RANGE, SWING_RANGE, Section, TEMPO_RANGE, UnknownChoice,
};
use crate::theory::{ChordSymbol, Key, Mode, VoicingFamily};

/// Default drum density when `[drums]` has none.
pub(crate) const DEFAULT_DRUM_DENSITY: f32 = 0.5;
/// Default piano density when `[piano]` has none.
pub(crate) const DEFAULT_PIANO_DENSITY: f32 = 0.3;

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPreset {
    title: S<String>,
    #[serde(default)]
    cue: Option<String>,
    tempo: S<f64>,
    #[serde(default)]
    meter: Option<S<String>>,
    feel: S<String>,
    key: S<String>,
    #[serde(default)]
    swing: Option<S<f64>>,
    #[serde(default)]
    lead: Option<S<String>>,
    #[serde(default)]
    practice: Option<String>,
    #[serde(default)]
    listen: Option<bool>,
    sections: S<Vec<S<RawSection>>>,
    bass: RawBass,
    drums: RawDrums,
    piano: RawPiano,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    name: S<String>,
    #[serde(default)]
    repeat: Option<S<i64>>,
    changes: S<Vec<RawChange>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChange {
    chord: S<String>,
    #[serde(default)]
    mode: Option<S<String>>,
    bars: S<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBass {
    style: S<String>,
    #[serde(default)]
    pattern: Option<S<Vec<RawStep>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    interval: S<i64>,
    beats: S<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDrums {
    kit: S<String>,
    #[serde(default)]
    density: Option<S<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPiano {
    voicing: S<String>,
    #[serde(default)]
    density: Option<S<f64>>,
}

/// Parses `text` (already size-checked) into a validated preset.
pub(crate) fn parse(name: &str, origin: &str, text: &str) -> Result<Preset, PresetError> {
    let loc = Locator { origin, text };
    let raw: RawPreset = toml::from_str(text).map_err(|e| toml_error(&loc, &e))?;
    Validator { loc }.preset(name, raw)
}

/// Turns a TOML (syntax or serde) error into a located [`PresetError`].
fn toml_error(loc: &Locator<'_>, e: &toml::de::Error) -> PresetError {
    let span = e.span().unwrap_or(0..0);
    let raw_message = e.message().trim().replace('`', "'");
    let kind = if raw_message.starts_with("unknown field") {
        ErrorKind::UnknownField
    } else if raw_message.starts_with("missing field") {
        ErrorKind::MissingField
    } else if raw_message.starts_with("invalid type") {
        ErrorKind::WrongType
    } else if raw_message.starts_with("invalid value") {
        ErrorKind::OutOfRange
    } else {
        ErrorKind::Syntax
    };
    let friendly = raw_message
        .replace("expected f64", "expected a number")
        .replace("expected i64", "expected a whole number")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table")
        .replace('\n', "; ");
    // serde names the private raw struct ("expected struct RawBass"): say "a table".
    let friendly = match friendly.find("expected struct ") {
        Some(i) => {
            let rest = &friendly[i + "expected struct ".len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            format!("{}expected a table{}", &friendly[..i], &rest[end..])
        }
        None => friendly,
    };
    let message = match key_before(loc.text, span.start) {
        Some(key) if kind != ErrorKind::UnknownField && kind != ErrorKind::Syntax => {
            format!("{key}: {friendly}")
        }
        _ => friendly,
    };
    let value = match kind {
        // serde names the field itself: quote it.
        ErrorKind::UnknownField | ErrorKind::MissingField => {
            first_quoted(&message).unwrap_or_default()
        }
        _ => {
            let source = loc.source(span.clone());
            if source.trim().is_empty() {
                line_at(loc.text, span.start)
            } else {
                source.to_string()
            }
        }
    };
    loc.error(span, kind, message, &value)
}

/// The key of `key = value` when `offset` is where the value starts.
fn key_before(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?.trim_end_matches([' ', '\t']);
    let before = before.strip_suffix('=')?.trim_end_matches([' ', '\t']);
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .map_or(0, |i| i + 1);
    let key = &before[start..];
    (!key.is_empty()).then(|| key.to_string())
}

/// The first `'quoted'` word of a message.
fn first_quoted(message: &str) -> Option<String> {
    let start = message.find('\'')? + 1;
    let len = message[start..].find('\'')?;
    Some(message[start..start + len].to_string())
}

/// The line that holds byte `offset` (for zero-width syntax error spans).
fn line_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    text[start..end].to_string()
}

/// Formats a number as a person wrote it: `900`, `0.5`.
fn num(v: f64) -> String {
    format!("{v}")
}

struct Validator<'a> {
    loc: Locator<'a>,
}

impl Validator<'_> {
    fn err(&self, span: Range<usize>, kind: ErrorKind, what: String) -> PresetError {
        let value = self.loc.source(span.clone()).to_string();
        let value = unquote(&value);
        self.loc.error(span, kind, what, &value)
    }

    fn choice<T>(
        &self,
        field: &S<String>,
        parse: impl Fn(&str) -> Result<T, UnknownChoice>,
    ) -> Result<T, PresetError> {
        parse(field.get_ref()).map_err(|e| {
            self.loc.error(
                field.span(),
                ErrorKind::UnknownValue,
                e.to_string(),
                field.get_ref(),
            )
        })
    }

    fn theory<T, E: std::fmt::Display>(
        &self,
        field: &S<String>,
        what: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Result<T, PresetError> {
        parse(field.get_ref()).map_err(|e| {
            let value = field.get_ref().as_str();
            let detail = e.to_string();
            let message = if detail.contains(&format!("'{value}'")) {
                detail
            } else {
                format!("{what} '{value}': {detail}")
            };
            self.loc
                .error(field.span(), ErrorKind::UnknownValue, message, value)
        })
    }

    fn in_range(
        &self,
        field: &S<f64>,
        what: &str,
        range: std::ops::RangeInclusive<f32>,
        shown: &str,
    ) -> Result<f32, PresetError> {
        let v = *field.get_ref();
        if v.is_finite() && (f64::from(*range.start())..=f64::from(*range.end())).contains(&v) {
            Ok(v as f32)
        } else {
            Err(self.err(
                field.span(),
                ErrorKind::OutOfRange,
                format!("{what} {} is out of range {shown}", num(v)),
            ))
        }
    }

    fn int_in_range<T>(
        &self,
        field: &S<i64>,
        what: &str,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, PresetError>
    where
        T: TryFrom<i64> + Copy + PartialOrd + std::fmt::Display,
    {
        let v = *field.get_ref();
        match T::try_from(v) {
            Ok(t) if range.contains(&t) => Ok(t),
            _ => Err(self.err(
                field.span(),
                ErrorKind::OutOfRange,
                format!(
                    "{what} {v} is out of range {}..={}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    fn non_empty(&self, field: &S<String>, what: &str) -> Result<String, PresetError> {
        let v = field.get_ref().trim();
        if v.is_empty() {
            Err(self.err(
                field.span(),
                ErrorKind::Empty,
                format!("{what} is empty; write some text"),
            ))
        } else {
            Ok(v.to_string())
        }
    }

    fn preset(&self, name: &str, raw: RawPreset) -> Result<Preset, PresetError> {
        let title = self.non_empty(&raw.title, "title")?;
        let tempo = self.in_range(&raw.tempo, "tempo", TEMPO_RANGE, "30..=360")?;
        let meter = match &raw.meter {
            Some(m) => Meter::parse(m.get_ref()).map_err(|e| {
                self.loc.error(
                    m.span(),
                    ErrorKind::UnknownValue,
                    format!(
                        "meter '{}' is not supported; write BEATS/4 with {}..={} beats (one of: {})",
                        e.value,
                        BEATS_PER_BAR_RANGE.start(),
                        BEATS_PER_BAR_RANGE.end(),
                        e.choices.join(", ")
                    ),
                    m.get_ref(),
                )
            })?,
            None => Meter::default(),
        };
        debug_assert!(BEATS_PER_BAR_RANGE.contains(&meter.beats_per_bar));
        let feel = self.choice(&raw.feel, Feel::parse)?;
        let key = self.theory(&raw.key, "key", Key::parse)?;
        let swing = match &raw.swing {
            Some(s) => Some(self.in_range(s, "swing", SWING_RANGE, "1.0..=4.0")?),
            None => None,
        };
        let lead = match &raw.lead {
            Some(l) => self.choice(l, LeadInstrument::parse)?,
            None => LeadInstrument::HarmonTrumpet,
        };
        let sections = self.sections(&raw.sections)?;
        let bass = self.bass(&raw.bass, meter)?;
        let drums = DrumStyle {
            kit: self.choice(&raw.drums.kit, DrumKit::parse)?,
            density: match &raw.drums.density {
                Some(d) => self.in_range(d, "drums density", DENSITY_RANGE, "0.0..=1.0")?,
                None => DEFAULT_DRUM_DENSITY,
            },
        };
        let piano = PianoStyle {
            voicing: self.theory(&raw.piano.voicing, "voicing family", VoicingFamily::parse)?,
            density: match &raw.piano.density {
                Some(d) => self.in_range(d, "piano density", DENSITY_RANGE, "0.0..=1.0")?,
                None => DEFAULT_PIANO_DENSITY,
            },
        };
        Ok(Preset {
            name: name.to_string(),
            title,
            cue: raw.cue.map(|c| c.trim().to_string()).unwrap_or_default(),
            tempo,
            meter,
            feel,
            key,
            swing,
            lead,
            practice: raw
                .practice
                .map(|p| p.trim().to_string())
                .unwrap_or_default(),
            listen: raw.listen.unwrap_or(true),
            sections,
            bass,
            drums,
            piano,
        })
    }

    fn sections(&self, raw: &S<Vec<S<RawSection>>>) -> Result<Vec<Section>, PresetError> {
        let list = raw.get_ref();
        if list.is_empty() {
            return Err(self.err(
                raw.span(),
                ErrorKind::Empty,
                "sections is empty; a preset needs at least one section".to_string(),
            ));
        }
        if list.len() > MAX_SECTIONS {
            return Err(self.err(
                list[MAX_SECTIONS].span(),
                ErrorKind::OutOfRange,
                format!(
                    "{} sections; a preset has at most {MAX_SECTIONS}",
                    list.len()
                ),
            ));
        }
        let mut sections = Vec::with_capacity(list.len());
        let mut form_bars: u32 = 0;
        for raw_section in list {
            let section = self.section(raw_section.get_ref())?;
            form_bars += section.pass_bars();
            if form_bars > MAX_FORM_BARS {
                let span = raw_section
                    .get_ref()
                    .repeat
                    .as_ref()
                    .map_or(raw_section.get_ref().name.span(), Spanned::span);
                return Err(self.err(
                    span,
                    ErrorKind::OutOfRange,
                    format!(
                        "the form reaches {form_bars} bars at section '{}'; one pass of the form is at most {MAX_FORM_BARS} bars",
                        section.name
                    ),
                ));
            }
            sections.push(section);
        }
        Ok(sections)
    }

    fn section(&self, raw: &RawSection) -> Result<Section, PresetError> {
        let name = self.non_empty(&raw.name, "section name")?;
        let repeat = match &raw.repeat {
            Some(r) => self.int_in_range(r, "repeat", REPEAT_RANGE)?,
            None => 1,
        };
        let list = raw.changes.get_ref();
        if list.is_empty() {
            return Err(self.err(
                raw.changes.span(),
                ErrorKind::Empty,
                format!(
                    "section '{name}' has no changes; write at least one {{ chord = …, bars = … }}"
                ),
            ));
        }
        if list.len() > MAX_CHANGES {
            return Err(self.err(
                raw.changes.span(),
                ErrorKind::OutOfRange,
                format!(
                    "section '{name}' has {} changes; a section has at most {MAX_CHANGES}",
                    list.len()
                ),
            ));
        }
        let changes = list
            .iter()
            .map(|c| self.change(c))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Section {
            name,
            repeat,
            changes,
        })
    }

    fn change(&self, raw: &RawChange) -> Result<Change, PresetError> {
        let chord = self.theory(&raw.chord, "chord symbol", ChordSymbol::parse)?;
        let mode = match &raw.mode {
            Some(m) => {
                let mode = self.theory(m, "mode", Mode::parse)?;
                // The player's scale must hold the band's chord, or the console would
                // call a chord tone a wrong note.
                let missing: Vec<String> = chord
                    .tones()
                    .as_slice()
                    .iter()
                    .filter(|t| !mode.contains(t.pitch_class()))
                    .map(ToString::to_string)
                    .collect();
                if !missing.is_empty() {
                    return Err(self.loc.error(
                        m.span(),
                        ErrorKind::Inconsistent,
                        format!(
                            "mode '{}' does not fit the chord {chord}: {} {} not in {mode}",
                            m.get_ref(),
                            missing.join(", "),
                            if missing.len() == 1 { "is" } else { "are" },
                        ),
                        m.get_ref(),
                    ));
                }
                mode
            }
            None => chord.default_mode(),
        };
        let bars = self.int_in_range(&raw.bars, "bars", BARS_RANGE)?;
        Ok(Change { chord, mode, bars })
    }

    fn bass(&self, bass: &RawBass, meter: Meter) -> Result<BassStyle, PresetError> {
        let style = bass.style.get_ref().trim().to_ascii_lowercase();
        match (style.as_str(), &bass.pattern) {
            ("walking" | "pedal", Some(pattern)) => Err(self.err(
                pattern.span(),
                ErrorKind::Inconsistent,
                format!("a pattern is only used with style = \"ostinato\", not \"{style}\""),
            )),
            ("walking", None) => Ok(BassStyle::Walking),
            ("pedal", None) => Ok(BassStyle::Pedal),
            ("ostinato", None) => Err(self.err(
                bass.style.span(),
                ErrorKind::MissingField,
                "an ostinato bass needs a pattern = [{ interval = …, beats = … }, …]".to_string(),
            )),
            ("ostinato", Some(pattern)) => self.pattern(pattern, meter),
            _ => {
                let value = bass.style.get_ref();
                let e = UnknownChoice {
                    what: "bass style",
                    value: value.clone(),
                    choices: BASS_STYLES,
                };
                Err(self.loc.error(
                    bass.style.span(),
                    ErrorKind::UnknownValue,
                    e.to_string(),
                    value,
                ))
            }
        }
    }

    fn pattern(&self, raw: &S<Vec<RawStep>>, meter: Meter) -> Result<BassStyle, PresetError> {
        let list = raw.get_ref();
        if list.is_empty() {
            return Err(self.err(
                raw.span(),
                ErrorKind::Empty,
                "the ostinato pattern is empty".to_string(),
            ));
        }
        if list.len() > MAX_PATTERN_STEPS {
            return Err(self.err(
                raw.span(),
                ErrorKind::OutOfRange,
                format!(
                    "the ostinato pattern has {} steps; at most {MAX_PATTERN_STEPS}",
                    list.len()
                ),
            ));
        }
        let mut pattern = Vec::with_capacity(list.len());
        let mut total = 0.0f64;
        for step in list {
            let interval = self.int_in_range(&step.interval, "interval", INTERVAL_RANGE)?;
            let beats = *step.beats.get_ref();
            let max_beats = f64::from(MAX_PATTERN_BARS) * f64::from(meter.beats_per_bar);
            if !(beats.is_finite() && beats > 0.0 && beats <= max_beats) {
                return Err(self.err(
                    step.beats.span(),
                    ErrorKind::OutOfRange,
                    format!(
                        "beats {} is out of range: a step lasts more than 0 and at most {max_beats} beats",
                        num(beats)
                    ),
                ));
            }
            total += beats;
            pattern.push(OstinatoStep {
                interval,
                beats: beats as f32,
            });
        }
        let bpb = f64::from(meter.beats_per_bar);
        let bars = total / bpb;
        if (bars - bars.round()).abs() > 1e-3 || bars.round() > f64::from(MAX_PATTERN_BARS) {
            let what = if bars.round() > f64::from(MAX_PATTERN_BARS) {
                format!(
                    "the ostinato pattern lasts {} beats; at most {MAX_PATTERN_BARS} bars of {meter}",
                    num(total)
                )
            } else {
                format!(
                    "the ostinato pattern lasts {} beats, not a whole number of {meter} bars (a multiple of {} beats)",
                    num(total),
                    meter.beats_per_bar
                )
            };
            return Err(self.err(raw.span(), ErrorKind::Inconsistent, what));
        }
        Ok(BassStyle::Ostinato { pattern })
    }
}

/// A TOML string's source text without its quotes.
fn unquote(s: &str) -> String {
    let t = s.trim();
    for q in ["\"\"\"", "'''", "\"", "'"] {
        if let Some(inner) = t.strip_prefix(q).and_then(|r| r.strip_suffix(q))
            && t.len() >= 2 * q.len()
        {
            return inner.to_string();
        }
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_before_finds_the_key() {
        assert_eq!(key_before("tempo = \"x\"", 8).as_deref(), Some("tempo"));
        assert_eq!(
            key_before("{ chord = \"Dm7\", bars = \"x\" }", 24).as_deref(),
            Some("bars")
        );
        assert_eq!(key_before("[1, \"x\"]", 4), None);
    }

    #[test]
    fn unquote_strips_toml_quotes() {
        assert_eq!(unquote("\"Dm7\""), "Dm7");
        assert_eq!(unquote("'Dm7'"), "Dm7");
        assert_eq!(unquote("900"), "900");
        assert_eq!(unquote("\""), "\"");
    }
}
