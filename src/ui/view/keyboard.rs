//! The keyboard: each mode tone's degree on its key, the keys held lit and named,
//! coloured by how they sit.

use super::theme::{Theme, glyphs, panel};
use super::{pad, role_name};
use crate::theory::{NoteRole, PitchClass};
use crate::ui::state::ConsoleState;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Borders, Paragraph, Widget};

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

/// The keyboard panel, two to four octaves by the width.
pub(super) fn draw(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
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
