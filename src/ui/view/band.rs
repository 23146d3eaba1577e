//! The band: each player's meter or mute, the lead's meter, the lead voice, the
//! count-in setting and the notes played.

use super::pad;
use super::theme::{Glyphs, Theme, glyphs};
use crate::ui::state::ConsoleState;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

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

/// The band lines.
pub(super) fn draw(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
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
