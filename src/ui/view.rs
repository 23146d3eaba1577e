//! Drawing the console: one screen from a [`ConsoleState`], with no terminal behind it
//! (the tests draw into ratatui's `TestBackend`). Every size is handled: sections are
//! left out from the least needed up when the terminal is short, the next chord's panel
//! when it is narrow, and a terminal too small for anything gets a one-line plea.

use super::state::{ConsoleState, Countdown};
use crate::band::ChordSlot;
use crate::engine::Transport;
use crate::theory::{Notation, NoteRole, PitchClass};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

/// Smallest terminal the console draws anything but a plea in.
pub const MIN_WIDTH: u16 = 30;
pub const MIN_HEIGHT: u16 = 6;

/// Styles by meaning, in colour or without (`NO_COLOR`: bold, underline and reverse
/// video only).
struct Theme {
    color: bool,
}

impl Theme {
    fn role(&self, role: NoteRole) -> Style {
        let style = Style::default();
        if !self.color {
            return match role {
                NoteRole::ChordTone => style.add_modifier(Modifier::BOLD),
                NoteRole::Characteristic => {
                    style.add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
                }
                NoteRole::Tension => style,
                NoteRole::Avoid | NoteRole::Outside => style.add_modifier(Modifier::DIM),
            };
        }
        match role {
            NoteRole::ChordTone => style.fg(Color::LightGreen).add_modifier(Modifier::BOLD),
            NoteRole::Characteristic => style.fg(Color::LightMagenta).add_modifier(Modifier::BOLD),
            NoteRole::Tension => style.fg(Color::LightCyan),
            NoteRole::Avoid => style.fg(Color::Yellow),
            NoteRole::Outside => style.fg(Color::LightRed),
        }
    }

    fn held(&self, role: NoteRole) -> Style {
        self.role(role)
            .add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    fn label(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Gray)
        } else {
            Style::default()
        }
    }

    fn title(&self) -> Style {
        let style = Style::default().add_modifier(Modifier::BOLD);
        if self.color {
            style.fg(Color::White)
        } else {
            style
        }
    }

    fn accent(&self) -> Style {
        let style = Style::default().add_modifier(Modifier::BOLD);
        if self.color {
            style.fg(Color::LightYellow)
        } else {
            style
        }
    }

    fn dim(&self) -> Style {
        Style::default().add_modifier(Modifier::DIM)
    }

    fn warning(&self) -> Style {
        let style = Style::default().add_modifier(Modifier::BOLD);
        if self.color {
            style.fg(Color::LightRed)
        } else {
            style
        }
    }
}

/// Glyphs with an ASCII fallback.
struct Glyphs {
    beat_now: &'static str,
    beat_other: &'static str,
    playing: &'static str,
    stopped: &'static str,
    meter_on: &'static str,
    meter_off: &'static str,
    not_in_mode: &'static str,
    outside_held: &'static str,
    dot: &'static str,
    border: ratatui::symbols::border::Set<'static>,
}

/// Panel borders a terminal without Unicode can draw.
const ASCII_BORDER: ratatui::symbols::border::Set<'static> = ratatui::symbols::border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// A panel block drawn with the glyphs of `notation`.
fn panel(notation: Notation, borders: Borders) -> Block<'static> {
    Block::default()
        .borders(borders)
        .border_set(glyphs(notation).border)
}

fn glyphs(notation: Notation) -> Glyphs {
    match notation {
        Notation::Unicode => Glyphs {
            beat_now: "●",
            beat_other: "○",
            playing: "▶",
            stopped: "■",
            meter_on: "▮",
            meter_off: "▯",
            not_in_mode: "·",
            outside_held: "×",
            dot: "·",
            border: ratatui::symbols::border::PLAIN,
        },
        Notation::Ascii => Glyphs {
            beat_now: "*",
            beat_other: ".",
            playing: ">",
            stopped: "#",
            meter_on: "#",
            meter_off: ".",
            not_in_mode: ".",
            outside_held: "x",
            dot: "-",
            border: ASCII_BORDER,
        },
    }
}

impl Widget for &ConsoleState {
    fn render(self, area: Rect, buf: &mut Buffer) {
        draw(self, area, buf);
    }
}

/// Draw the whole console into `area`.
pub fn draw(state: &ConsoleState, area: Rect, buf: &mut Buffer) {
    let theme = Theme {
        color: state.look.color,
    };
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        Paragraph::new("ascenseur: enlarge the terminal (q quits)")
            .wrap(Wrap { trim: true })
            .render(area, buf);
        return;
    }
    // Sections by priority: what the player needs most stays longest.
    let full_panels = area.height >= 18;
    let chord_rows: u16 = if full_panels { 7 } else { 3 };
    let wanted: [(Section, u16); 8] = [
        (Section::Header, 1),
        (Section::Status, 1),
        (Section::Chords, chord_rows),
        (Section::Keys, 1),
        (Section::Keyboard, 4),
        (Section::Phrase, 3),
        (Section::Band, 2),
        (Section::Engine, 3),
    ];
    let priority = [
        Section::Chords,
        Section::Status,
        Section::Header,
        Section::Keyboard,
        Section::Keys,
        Section::Phrase,
        Section::Band,
        Section::Engine,
    ];
    let mut budget = area.height;
    let mut shown = Vec::new();
    for section in priority {
        let rows = wanted
            .iter()
            .find(|(s, _)| *s == section)
            .map_or(0, |w| w.1);
        if rows <= budget {
            budget -= rows;
            shown.push(section);
        }
    }
    let mut constraints = Vec::new();
    let mut order = Vec::new();
    for (section, rows) in wanted {
        if shown.contains(&section) {
            order.push(section);
            // The keys legend sits at the bottom: spare rows go just above it.
            if section == Section::Keys {
                continue;
            }
            constraints.push(Constraint::Length(rows));
        }
    }
    constraints.push(Constraint::Fill(1));
    if shown.contains(&Section::Keys) {
        constraints.push(Constraint::Length(1));
    }
    let rows = Layout::vertical(constraints).split(area);
    let mut next_row = 0;
    for section in order {
        let rect = if section == Section::Keys {
            rows[rows.len() - 1]
        } else {
            next_row += 1;
            rows[next_row - 1]
        };
        match section {
            Section::Header => header(state, &theme, rect, buf),
            Section::Status => status(state, &theme, rect, buf),
            Section::Chords => chords(state, &theme, rect, buf, full_panels),
            Section::Keyboard => keyboard(state, &theme, rect, buf),
            Section::Phrase => phrase(state, &theme, rect, buf),
            Section::Band => band(state, &theme, rect, buf),
            Section::Engine => engine(state, &theme, rect, buf),
            Section::Keys => key_legend(state, &theme, rect, buf),
        }
    }
    if state.help {
        help(state, &theme, area, buf);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Header,
    Status,
    Chords,
    Keyboard,
    Phrase,
    Band,
    Engine,
    Keys,
}

fn header(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let a = &state.arrangement;
    let mut spans = vec![
        Span::styled(
            " ascenseur ",
            theme.title().add_modifier(Modifier::REVERSED),
        ),
        Span::raw(" "),
        Span::styled(a.title.clone(), theme.title()),
        Span::styled(format!(" in {}", key_name(state)), theme.label()),
    ];
    if let Some(notice) = &state.notice {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(notice.clone(), theme.warning()));
    } else if !state.cue.is_empty() {
        spans.push(Span::styled(
            format!("  after “{}”", state.cue),
            theme.label(),
        ));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}

fn status(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let g = glyphs(state.look.notation);
    let a = &state.arrangement;
    let tempo = state.telemetry.map_or(a.tempo, |t| t.tempo);
    let mut spans = Vec::new();
    match state.transport() {
        Transport::Playing => spans.push(Span::styled(format!("{} ", g.playing), theme.accent())),
        Transport::CountIn { .. } => spans.push(Span::styled("count-in ", theme.accent())),
        Transport::Stopped => spans.push(Span::styled(
            format!("{} stopped ", g.stopped),
            theme.warning(),
        )),
    }
    // The visual metronome: one mark a beat, the current one lit.
    let (bar, beat) = match (state.transport(), state.bar_and_beat()) {
        (Transport::CountIn { beat }, _) => (None, Some(beat.floor() as u32 + 1)),
        (_, Some((bar, beat))) => (Some(bar), Some(beat)),
        _ => (None, None),
    };
    spans.push(Span::styled(
        match bar {
            Some(bar) => format!("bar {bar:>2}/{} ", a.form_bars),
            None => format!("bar  -/{} ", a.form_bars),
        },
        theme.title(),
    ));
    for b in 1..=a.beats_per_bar {
        let now = Some(b) == beat;
        spans.push(Span::styled(
            if now { g.beat_now } else { g.beat_other },
            if now { theme.accent() } else { theme.label() },
        ));
        spans.push(Span::raw(" "));
    }
    let (slot, _) = state.current_slot();
    let section = a
        .section_names
        .get(slot.section)
        .cloned()
        .unwrap_or_default();
    spans.push(Span::styled(
        format!("{} {section} {} ", g.dot, g.dot),
        theme.label(),
    ));
    spans.push(Span::styled(countdown_text(state), theme.accent()));
    spans.push(Span::styled(format!(" {} ", g.dot), theme.label()));
    spans.push(Span::styled(format!("{tempo:.0} BPM"), theme.title()));
    spans.push(Span::styled(
        format!(" swing {:.1}:1", a.swing),
        theme.label(),
    ));
    Paragraph::new(Line::from(spans)).render(area, buf);
}

fn key_name(state: &ConsoleState) -> String {
    let quality = if state.key.minor { "minor" } else { "major" };
    format!("{} {quality}", state.key.tonic.name(state.look.notation))
}

/// "C7 in 2 bars", "C7 in 1 bar · beat 3", or the one chord.
fn countdown_text(state: &ConsoleState) -> String {
    let n = state.look.notation;
    let next = state.next_slot();
    let name = chord_and_mode_change(state, next);
    match state.countdown() {
        Countdown::Bars(bars) => format!("{name} in {bars} bars"),
        Countdown::LastBar { beat } => format!("{name} in 1 bar {} beat {beat}", glyphs(n).dot),
        Countdown::NoChange => format!("{} all along", next.chord.name(n)),
    }
}

/// The next slot's name: its chord, and its mode too when only the mode changes.
fn chord_and_mode_change(state: &ConsoleState, next: &ChordSlot) -> String {
    let n = state.look.notation;
    let (current, _) = state.current_slot();
    if next.chord == current.chord {
        format!("{} {}", next.chord.name(n), next.mode.name(n))
    } else {
        next.chord.name(n).to_string()
    }
}

fn chords(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer, full: bool) {
    let (now, _) = state.current_slot();
    let next = state.next_slot();
    let n = state.look.notation;
    let next_title = match state.countdown() {
        Countdown::Bars(bars) => format!("in {bars} bars"),
        Countdown::LastBar { .. } => "next bar".to_string(),
        Countdown::NoChange => "same".to_string(),
    };
    let panels = [("NOW", now, String::new()), ("NEXT", next, next_title)];
    // The next chord's panel only where both fit side by side.
    let both = area.width >= 60;
    let columns = if both {
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).split(area)
    } else {
        Layout::horizontal([Constraint::Percentage(100)]).split(area)
    };
    for (i, column) in columns.iter().enumerate() {
        let (label, slot, when) = &panels[i];
        let mut title = vec![
            Span::styled(format!(" {label} "), theme.accent()),
            Span::styled(
                format!(
                    "{} {} {} ",
                    slot.chord.name(n),
                    glyphs(n).dot,
                    slot.mode.name(n)
                ),
                theme.title(),
            ),
        ];
        if !when.is_empty() {
            title.push(Span::styled(format!("{when} "), theme.label()));
        }
        let lines = if full {
            chord_panel_lines(state, theme, slot)
        } else {
            chord_panel_lines(state, theme, slot)
                .into_iter()
                .take(1)
                .collect()
        };
        let block = if full {
            panel(state.look.notation, Borders::ALL).title(Line::from(title))
        } else {
            panel(state.look.notation, Borders::TOP).title(Line::from(title))
        };
        Paragraph::new(lines).block(block).render(*column, buf);
    }
}

/// Pad `text` to `width` columns (characters: every glyph used here is one column wide).
fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(len)))
}

fn chord_panel_lines<'a>(state: &ConsoleState, theme: &Theme, slot: &ChordSlot) -> Vec<Line<'a>> {
    let n = state.look.notation;
    let mode = slot.mode;
    let scale = &slot.scale;
    let tones = mode.tones();
    let mut scale_line = vec![Span::styled("scale  ", theme.label())];
    let mut degree_line = vec![Span::styled("       ", theme.label())];
    for (degree, tone) in tones.iter().enumerate() {
        let role = scale.classify(tone.pitch_class());
        scale_line.push(Span::styled(
            pad(&tone.name(n).to_string(), 3),
            theme.role(role),
        ));
        degree_line.push(Span::styled(
            pad(mode.kind.degree_label(degree, n), 3),
            theme.role(role),
        ));
    }
    let chord_tones: Vec<Span> = slot
        .chord
        .tones()
        .iter()
        .flat_map(|t| {
            [
                Span::styled(t.name(n).to_string(), theme.role(NoteRole::ChordTone)),
                Span::raw(" "),
            ]
        })
        .collect();
    let degree = mode.kind.characteristic_degree();
    let colour = mode.characteristic_tone();
    let avoid: Vec<String> = scale
        .avoid_notes()
        .iter()
        .map(|pc| {
            let d = mode.degree_of(pc).unwrap_or(0);
            format!(
                "{} ({})",
                mode.spell(pc).name(n),
                mode.kind.degree_label(d, n)
            )
        })
        .collect();
    let mut chord_line = vec![Span::styled("chord  ", theme.label())];
    chord_line.extend(chord_tones);
    let mut colour_line = vec![
        Span::styled("colour ", theme.label()),
        Span::styled(
            format!("{} ({})", colour.name(n), mode.kind.degree_label(degree, n)),
            theme.role(NoteRole::Characteristic),
        ),
    ];
    colour_line.push(Span::styled(
        format!(" makes it {}", mode.kind.name_in(n)),
        theme.label(),
    ));
    let avoid_line = vec![
        Span::styled("avoid  ", theme.label()),
        Span::styled(
            if avoid.is_empty() {
                "none".to_string()
            } else {
                avoid.join(" ")
            },
            theme.role(NoteRole::Avoid),
        ),
    ];
    vec![
        Line::from(scale_line),
        Line::from(degree_line),
        Line::from(chord_line),
        Line::from(colour_line),
        Line::from(avoid_line),
    ]
}

/// The keyboard's range for a width: (lowest note, octaves, columns per semitone).
fn keyboard_range(width: u16) -> (u8, u8, u16) {
    let fits = |octaves: u16, cell: u16| octaves * 12 * cell + cell <= width;
    if fits(4, 3) {
        (48, 4, 3)
    } else if fits(4, 2) {
        (48, 4, 2)
    } else if fits(3, 2) {
        (48, 3, 2)
    } else if fits(2, 2) {
        (60, 2, 2)
    } else {
        (60, 1, 2)
    }
}

fn is_black(key: u8) -> bool {
    matches!(key % 12, 1 | 3 | 6 | 8 | 10)
}

fn keyboard(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let g = glyphs(state.look.notation);
    let n = state.look.notation;
    let (slot, _) = state.current_slot();
    let inner_width = area.width.saturating_sub(2);
    let (low, octaves, cell) = keyboard_range(inner_width);
    let high = low + 12 * octaves;
    let held: Vec<u8> = state.held_keys().collect();
    let mut black = Vec::new();
    let mut white = Vec::new();
    let mut names = Vec::new();
    for key in low..=high {
        let pc = PitchClass::from_midi(key);
        let role = slot.scale.classify(pc);
        let in_mode = slot.mode.contains(pc) || role == NoteRole::ChordTone;
        let is_held = held.contains(&key);
        let label = match (in_mode, is_held) {
            (true, _) => slot.mode.degree_of(pc).map_or(String::from("?"), |d| {
                slot.mode.kind.degree_label(d, n).to_string()
            }),
            (false, true) => g.outside_held.to_string(),
            (false, false) => g.not_in_mode.to_string(),
        };
        let style = match (in_mode, is_held) {
            (_, true) => theme.held(role),
            (true, false) => theme.role(role),
            (false, false) => theme.dim(),
        };
        let text = pad(&label, usize::from(cell));
        let blank = " ".repeat(usize::from(cell));
        if is_black(key) {
            black.push(Span::styled(text, style));
            white.push(Span::raw(blank.clone()));
        } else {
            white.push(Span::styled(text, style));
            black.push(Span::raw(blank.clone()));
        }
        if key % 12 == 0 {
            names.push(Span::styled(
                pad(&format!("C{}", key / 12 - 1), usize::from(cell)),
                theme.label(),
            ));
        } else {
            names.push(Span::raw(blank));
        }
    }
    let holding: Vec<Span> = if held.is_empty() {
        vec![Span::styled(
            format!(
                "nothing {} computer keys a-k play from {} ",
                glyphs(n).dot,
                state.key_name(state.computer_keys_c)
            ),
            theme.label(),
        )]
    } else {
        held.iter()
            .flat_map(|&k| {
                let role = slot.scale.classify(PitchClass::from_midi(k));
                [
                    Span::styled(state.key_name(k), theme.role(role)),
                    Span::styled(format!(" {} ", role_name(role)), theme.label()),
                ]
            })
            .collect()
    };
    let mut title = vec![Span::styled(" you hold ", theme.accent())];
    title.extend(holding);
    let block = panel(state.look.notation, Borders::TOP).title(Line::from(title));
    let lines = vec![Line::from(black), Line::from(white), Line::from(names)];
    let inner = block.inner(area);
    block.render(area, buf);
    let indent = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(1),
        ..inner
    };
    Paragraph::new(lines).render(indent, buf);
}

/// What the console calls each role.
fn role_name(role: NoteRole) -> &'static str {
    match role {
        NoteRole::ChordTone => "chord tone",
        NoteRole::Characteristic => "characteristic tone",
        NoteRole::Tension => "mode tone",
        NoteRole::Avoid => "avoid note",
        NoteRole::Outside => "outside",
    }
}

fn phrase(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let n = state.look.notation;
    let notes_line = |notes: &[crate::practice::PhraseNote], more: usize| {
        let mut spans: Vec<Span> = notes
            .iter()
            .flat_map(|note| {
                [
                    Span::styled(note.name.name(n).to_string(), theme.role(note.role)),
                    Span::raw(" "),
                ]
            })
            .collect();
        if more > 0 {
            spans.push(Span::styled(format!("(+{more})"), theme.label()));
        }
        spans
    };
    let mut lines = Vec::new();
    match state.phrases.last() {
        Some(p) => {
            let mut first = vec![Span::styled("last phrase  ", theme.accent())];
            first.extend(notes_line(
                &p.notes,
                p.note_count.saturating_sub(p.notes.len()),
            ));
            first.push(Span::styled(
                match p.space_before_beats {
                    Some(beats) => format!(" (after {beats:.1} beats of space)"),
                    None => " (the first)".to_string(),
                },
                theme.label(),
            ));
            lines.push(Line::from(first));
            let landing = p.landing.note;
            let verdict = if p.landing.strong {
                "chord tone on a strong beat"
            } else if landing.role == NoteRole::ChordTone {
                "chord tone, off the strong beats"
            } else {
                role_name(landing.role)
            };
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{:.0}% in the mode", p.inside * 100.0),
                    theme.title(),
                ),
                Span::styled(format!(" {} landed on ", glyphs(n).dot), theme.label()),
                Span::styled(landing.name.name(n).to_string(), theme.role(landing.role)),
                Span::styled(
                    format!(", beat {}: {verdict}", landing.beat + 1),
                    theme.label(),
                ),
            ]));
        }
        None => lines.push(Line::from(Span::styled(
            "last phrase  (play something, then leave a beat of rest)",
            theme.label(),
        ))),
    }
    let current = state.phrases.current();
    if !current.is_empty() {
        let mut spans = vec![Span::styled("playing      ", theme.label())];
        spans.extend(notes_line(current, 0));
        lines.push(Line::from(spans));
    }
    Paragraph::new(lines).render(area, buf);
}

fn meter(level: f32, width: usize, g: &Glyphs) -> String {
    // −48 … 0 dBFS across the meter.
    let db = 20.0 * level.max(1e-6).log10();
    let lit = (((db + 48.0) / 48.0).clamp(0.0, 1.0) * width as f32).round() as usize;
    format!(
        "{}{}",
        g.meter_on.repeat(lit),
        g.meter_off.repeat(width - lit)
    )
}

fn band(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let g = glyphs(state.look.notation);
    let mute = state.telemetry.map_or([false; 3], |t| t.mute);
    let lead = state.telemetry.map_or(state.arrangement.lead, |t| t.lead);
    let width: usize = if area.width >= 120 { 10 } else { 5 };
    let mut spans = vec![Span::styled("band  ", theme.accent())];
    for (i, name) in ["bass", "drums", "piano"].iter().enumerate() {
        spans.push(Span::styled(format!("{name} "), theme.label()));
        if mute[i] {
            spans.push(Span::styled(pad("muted", width), theme.warning()));
        } else {
            spans.push(Span::styled(
                meter(state.levels[i], width, &g),
                theme.title(),
            ));
        }
        spans.push(Span::raw("  "));
    }
    spans.push(Span::styled("lead ", theme.label()));
    spans.push(Span::styled(
        meter(state.levels[3], width, &g),
        theme.title(),
    ));
    let count_in = state.telemetry.is_some_and(|t| t.count_in);
    let notes = state.telemetry.map_or(0, |t| t.notes_played);
    let second = vec![
        Span::styled("lead  ", theme.accent()),
        Span::styled(lead.name(), theme.title()),
        Span::styled(
            format!(
                " {} count-in {} {} {notes} {} played",
                g.dot,
                if count_in { "on" } else { "off" },
                g.dot,
                if notes == 1 { "note" } else { "notes" }
            ),
            theme.label(),
        ),
    ];
    Paragraph::new(vec![Line::from(spans), Line::from(second)]).render(area, buf);
}

fn engine(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let g = glyphs(state.look.notation);
    let e = &state.engine;
    let mut first = vec![Span::styled("audio ", theme.accent())];
    let mut second = vec![Span::styled("load  ", theme.accent())];
    match &e.driver {
        Some(d) => {
            first.push(Span::styled(
                format!(
                    "{} {dot} {} {dot} {} Hz {dot} {} frames = {:.2} ms",
                    d.host,
                    d.device,
                    d.sample_rate,
                    d.buffer,
                    d.buffer_ms(),
                    dot = g.dot,
                ),
                theme.label(),
            ));
            second.push(Span::styled(
                format!(
                    "callback {:.1}% (peak {:.1}%)",
                    e.load * 100.0,
                    e.peak_load * 100.0
                ),
                if e.peak_load > 0.8 {
                    theme.warning()
                } else {
                    theme.title()
                },
            ));
        }
        None => {
            first.push(Span::styled(
                "no audio: waiting for the device",
                theme.warning(),
            ));
            second.push(Span::styled("callback -", theme.label()));
        }
    }
    second.push(Span::styled(format!(" {} xruns ", g.dot), theme.label()));
    second.push(Span::styled(
        e.xruns.to_string(),
        if e.xruns > 0 {
            theme.warning()
        } else {
            theme.title()
        },
    ));
    second.push(Span::styled(
        format!(" {} dropped events ", g.dot),
        theme.label(),
    ));
    second.push(Span::styled(
        e.dropped.to_string(),
        if e.dropped > 0 {
            theme.warning()
        } else {
            theme.title()
        },
    ));
    let mut third = vec![Span::styled("MIDI  ", theme.accent())];
    let midi = &e.midi;
    if midi.connected.is_empty() {
        third.push(Span::styled("no keyboard connected", theme.label()));
    } else {
        third.push(Span::styled(midi.connected.join(", "), theme.title()));
    }
    if !midi.gone.is_empty() {
        third.push(Span::styled(
            format!(" {} went away: {}", g.dot, midi.gone.join(", ")),
            theme.warning(),
        ));
    }
    if let Some(reason) = &midi.unavailable {
        // The gist fits the line; the system's own detail (in parentheses) is for
        // `ascenseur devices` and the headless log.
        let gist = reason.split(" (").next().unwrap_or(reason);
        third.push(Span::styled(
            format!(" {} no MIDI service: {gist}", g.dot),
            theme.label(),
        ));
    }
    Paragraph::new(vec![
        Line::from(first),
        Line::from(second),
        Line::from(third),
    ])
    .render(area, buf);
}

fn key_legend(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let stop = match state.transport() {
        Transport::Stopped => "start",
        _ => "stop",
    };
    let (left_right, up_down) = match state.look.notation {
        Notation::Unicode => ("←→", "↑↓"),
        Notation::Ascii => ("<>", "^v"),
    };
    let keys = [
        ("?", "help"),
        ("space", stop),
        (left_right, "preset"),
        (up_down, "tempo"),
        ("[]", "key"),
        ("123", "mute"),
        ("Tab", "lead"),
        ("i", "count-in"),
        ("q", "quit"),
    ];
    let spans: Vec<Span> = keys
        .iter()
        .flat_map(|(key, what)| {
            [
                Span::styled(key.to_string(), theme.accent()),
                Span::styled(format!(":{what} "), theme.label()),
            ]
        })
        .collect();
    Paragraph::new(Line::from(spans)).render(area, buf);
}

/// The keys, over the middle of the screen.
fn help(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let (left_right, up_down) = match state.look.notation {
        Notation::Unicode => ("← →", "↑ ↓"),
        Notation::Ascii => ("Left Right", "Up Down"),
    };
    let rows: [(&str, &str); 16] = [
        ("space", "stop the band / start it from bar 1"),
        (left_right, "previous / next preset"),
        (up_down, "tempo up / down (2 BPM)"),
        ("[ ]", "transpose down / up a semitone"),
        ("1 2 3", "mute bass / drums / piano"),
        ("Tab", "next lead voice"),
        ("i", "count-in bar on / off"),
        ("?", "this help"),
        ("q  Esc", "quit (Ctrl-C too)"),
        ("", ""),
        ("a s d f g h j k", "play the white keys C D E F G A B C"),
        ("w e t y u", "and the black keys between them"),
        ("z x", "octave down / up"),
        ("c v", "softer / louder"),
        ("", ""),
        (
            "colours",
            "chord tone, colour tone, mode tone, avoid, outside",
        ),
    ];
    let width = 64.min(area.width);
    let height = (rows.len() as u16 + 3).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let mut lines: Vec<Line> = rows
        .iter()
        .take(rows.len() - 1)
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!(" {key:>15}  "), theme.accent()),
                Span::styled(what.to_string(), theme.label()),
            ])
        })
        .collect();
    lines.push(Line::from(vec![
        Span::styled(format!(" {:>15}  ", "notes"), theme.accent()),
        Span::styled("chord tone ", theme.role(NoteRole::ChordTone)),
        Span::styled("colour ", theme.role(NoteRole::Characteristic)),
        Span::styled("mode ", theme.role(NoteRole::Tension)),
        Span::styled("avoid ", theme.role(NoteRole::Avoid)),
        Span::styled("outside", theme.role(NoteRole::Outside)),
    ]));
    Clear.render(popup, buf);
    Paragraph::new(lines)
        .block(
            panel(state.look.notation, Borders::ALL)
                .title(Span::styled(" keys (? or Esc closes) ", theme.title())),
        )
        .render(popup, buf);
}
