//! The console's look: styles by meaning (in colour or not), glyphs with an ASCII
//! fallback, and the panels' borders.

use crate::theory::{Notation, NoteRole};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, Borders};

/// Styles by meaning, in colour or without (`NO_COLOR`: bold, underline and reverse
/// video only).
pub(super) struct Theme {
    pub(super) color: bool,
}

impl Theme {
    pub(super) fn role(&self, role: NoteRole) -> Style {
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

    pub(super) fn held(&self, role: NoteRole) -> Style {
        self.role(role)
            .add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    pub(super) fn label(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Gray)
        } else {
            Style::default()
        }
    }

    pub(super) fn title(&self) -> Style {
        let style = Style::default().add_modifier(Modifier::BOLD);
        if self.color {
            style.fg(Color::White)
        } else {
            style
        }
    }

    pub(super) fn accent(&self) -> Style {
        let style = Style::default().add_modifier(Modifier::BOLD);
        if self.color {
            style.fg(Color::LightYellow)
        } else {
            style
        }
    }

    pub(super) fn dim(&self) -> Style {
        Style::default().add_modifier(Modifier::DIM)
    }

    pub(super) fn warning(&self) -> Style {
        let style = Style::default().add_modifier(Modifier::BOLD);
        if self.color {
            style.fg(Color::LightRed)
        } else {
            style
        }
    }
}

/// Glyphs with an ASCII fallback.
pub(super) struct Glyphs {
    pub(super) beat_now: &'static str,
    pub(super) beat_other: &'static str,
    pub(super) playing: &'static str,
    pub(super) stopped: &'static str,
    pub(super) meter_on: &'static str,
    pub(super) meter_off: &'static str,
    pub(super) not_in_mode: &'static str,
    pub(super) outside_held: &'static str,
    pub(super) dot: &'static str,
    pub(super) plus_minus: &'static str,
    /// Where a figure cannot be given.
    pub(super) none: &'static str,
    pub(super) border: ratatui::symbols::border::Set<'static>,
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
pub(super) fn panel(notation: Notation, borders: Borders) -> Block<'static> {
    Block::default()
        .borders(borders)
        .border_set(glyphs(notation).border)
}

/// The glyphs of `notation`.
pub(super) fn glyphs(notation: Notation) -> Glyphs {
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
            plus_minus: "±",
            none: "–",
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
            plus_minus: "+/-",
            none: "n/a",
            border: ASCII_BORDER,
        },
    }
}
