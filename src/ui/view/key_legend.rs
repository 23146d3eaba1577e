//! The keys legend at the bottom of the screen.

use super::theme::Theme;
use crate::engine::Transport;
use crate::theory::Notation;
use crate::ui::state::ConsoleState;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// The legend line.
pub(super) fn draw(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
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
        // The count-in is in the help: the legend fits 80 columns.
        ("p", "replay"),
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
