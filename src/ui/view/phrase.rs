//! The last phrase judged (its notes, the share inside the mode, where it landed, the
//! space before it, its time and feel), the running take's time and feel, and the
//! phrase being played.

use super::role_name;
use super::theme::{Glyphs, Theme, glyphs};
use crate::practice::TimingReport;
use crate::theory::NoteRole;
use crate::ui::state::ConsoleState;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// The phrase lines.
pub(super) fn draw(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
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
    let g = glyphs(n);
    // The phrase's time and feel: `time +12 ms (dragging) ±18 · swing 1.9:1 (ride 2.5:1)`.
    if let Some(report) = state.phrase_report.as_ref().filter(|r| r.time.count > 0) {
        lines.push(Line::from(vec![
            Span::styled("time ", theme.label()),
            Span::styled(time_figures(&report.time, &g), theme.title()),
            Span::styled(
                format!(" (ride {:.1}:1)", report.time.swing.ride),
                theme.label(),
            ),
        ]));
    }
    // The running take's, with its share in the mode.
    if let Some(report) = state.take_report.as_ref().filter(|r| r.time.count > 0) {
        lines.push(Line::from(vec![
            Span::styled("take ", theme.label()),
            Span::styled(time_figures(&report.time, &g), theme.title()),
            Span::styled(
                format!(
                    " {} {:.0}% in the mode",
                    g.dot,
                    report.notes.in_mode.share * 100.0
                ),
                theme.label(),
            ),
        ]));
    }
    let current = state.phrases.current();
    if !current.is_empty() {
        let mut spans = vec![Span::styled("playing      ", theme.label())];
        spans.extend(notes_line(current, 0));
        lines.push(Line::from(spans));
    }
    Paragraph::new(lines).render(area, buf);
}

/// `+12 ms (dragging) ±18 · swing 1.9:1`, in the console's glyphs: the figures of
/// [`TimingReport`]'s own line without the ride's.
fn time_figures(time: &TimingReport, g: &Glyphs) -> String {
    // Rounded to integers first so that -0.4 shows as "+0", not "-0".
    let mean = time.mean_ms.round() as i64;
    let spread = time.spread_ms.round() as i64;
    let swing = time
        .swing
        .player
        .map_or_else(|| g.none.to_string(), |ratio| format!("{ratio:.1}:1"));
    format!(
        "{mean:+} ms ({}) {}{spread} {} swing {swing}",
        time.verdict, g.plus_minus, g.dot
    )
}
