//! Drawing the console: one screen from a [`ConsoleState`], with no terminal behind it
//! (the tests draw into ratatui's `TestBackend`). Every size is handled: sections are
//! left out from the least needed up when the terminal is short, the next chord's panel
//! when it is narrow, and a terminal too small for anything gets a one-line plea.
//!
//! One file per panel: `header`, `status` (the transport line), `now_next`, `keyboard`,
//! `phrase`, `band`, `engine`, `key_legend` and the `help` overlay, all drawn with the
//! styles and glyphs of `theme`.

mod band;
mod engine;
mod header;
mod help;
mod key_legend;
mod keyboard;
mod now_next;
mod phrase;
mod status;
mod theme;

use super::state::ConsoleState;
use crate::theory::NoteRole;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use theme::Theme;

/// Smallest terminal the console draws anything but a plea in.
pub const MIN_WIDTH: u16 = 30;
pub const MIN_HEIGHT: u16 = 6;

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
        (Section::Phrase, 5),
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
            Section::Header => header::draw(state, &theme, rect, buf),
            Section::Status => status::draw(state, &theme, rect, buf),
            Section::Chords => now_next::draw(state, &theme, rect, buf, full_panels),
            Section::Keyboard => keyboard::draw(state, &theme, rect, buf),
            Section::Phrase => phrase::draw(state, &theme, rect, buf),
            Section::Band => band::draw(state, &theme, rect, buf),
            Section::Engine => engine::draw(state, &theme, rect, buf),
            Section::Keys => key_legend::draw(state, &theme, rect, buf),
        }
    }
    if state.help {
        help::draw(state, &theme, area, buf);
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

/// Pad `text` to `width` columns (characters: every glyph used here is one column wide).
fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(len)))
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
