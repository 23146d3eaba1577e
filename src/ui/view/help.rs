//! The help: every key, over the middle of the screen.

use super::theme::{Theme, panel};
use crate::theory::{Notation, NoteRole};
use crate::ui::state::ConsoleState;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Borders, Clear, Paragraph, Widget};

/// The keys, over the middle of the screen.
pub(super) fn draw(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let (left_right, up_down) = match state.look.notation {
        Notation::Unicode => ("← →", "↑ ↓"),
        Notation::Ascii => ("Left Right", "Up Down"),
    };
    let rows: [(&str, &str); 20] = [
        ("space", "stop the band / start it from bar 1"),
        (left_right, "previous / next preset"),
        (up_down, "tempo up / down (2 BPM)"),
        ("[ ]", "transpose down / up a semitone"),
        ("1 2 3", "mute bass / drums / piano"),
        ("Tab", "next lead voice"),
        ("i", "count-in bar on / off"),
        ("l", "loop the section playing / the whole form"),
        ("r", "tempo ramp: faster every few passes on / off"),
        ("p P", "hear the last phrase / the whole take again"),
        ("4", "trade 4s / 8s with the band's horn / off"),
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
