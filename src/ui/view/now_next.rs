//! The NOW and NEXT panels: each chord with its mode, the scale spelled with its
//! degrees, the chord tones, the tone that makes the mode and the avoid notes.

use super::pad;
use super::theme::{Theme, glyphs, panel};
use crate::band::ChordSlot;
use crate::theory::NoteRole;
use crate::ui::state::{ConsoleState, Countdown};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Borders, Paragraph, Widget};

/// The NOW panel and, where both fit side by side, the NEXT one; `full` with the
/// scale, chord, colour and avoid lines, else the title and the scale alone.
pub(super) fn draw(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer, full: bool) {
    let (now, _) = state.current_slot();
    let next = state.next_slot();
    let n = state.look.notation;
    let next_title = match state.countdown() {
        Countdown::Bars(bars) => format!("in {bars} bars"),
        Countdown::LastBar { .. } => "next bar".to_string(),
        Countdown::NoChange => "same".to_string(),
    };
    let panels = [("NOW", now, String::new()), ("NEXT", &next, next_title)];
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
