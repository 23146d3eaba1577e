//! The engine: the audio driver (host, device, rate, buffer and its latency), the
//! callback's load, xruns, dropped events and the MIDI inputs.

use super::theme::{Theme, glyphs};
use crate::ui::state::ConsoleState;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// The engine lines.
pub(super) fn draw(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
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
