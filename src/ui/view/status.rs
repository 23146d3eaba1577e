//! The transport line: playing or stopped, bar and beat (a visual metronome), the
//! section, the count-down to the next chord, tempo and swing.

use super::theme::{Theme, glyphs};
use crate::band::ChordSlot;
use crate::engine::Transport;
use crate::ui::state::{ConsoleState, Countdown};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// The transport line.
pub(super) fn draw(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
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
    let trainer = state.trainer();
    spans.push(Span::styled(
        match bar {
            Some(bar) => format!("bar {bar:>2}/{} ", a.form_bars),
            None => format!("bar  -/{} ", a.form_bars),
        },
        theme.title(),
    ));
    if let Some(playback) = state.telemetry.and_then(|t| t.playback) {
        // The take's bars, counted from 1 as the notice that started it counts them.
        let first = playback.first_bar + 1;
        let last = first + u64::from(playback.bars.max(1)) - 1;
        spans.push(Span::styled(
            format!(
                "playback {}/{} (take bars {first}-{last}) ",
                playback.bar + 1,
                playback.bars
            ),
            theme.accent(),
        ));
    }
    if let Some(turn) = state.telemetry.and_then(|t| t.trade) {
        let who = if turn.horn {
            "horn answers"
        } else {
            "your turn"
        };
        let bars = if turn.bars_left == 1 {
            "last bar".to_string()
        } else {
            format!("{} bars", turn.bars_left)
        };
        spans.push(Span::styled(
            format!("trading {}s: {who}, {bars} ", turn.bars),
            theme.accent(),
        ));
    }
    if let Some(form_loop) = trainer.form_loop {
        spans.push(Span::styled(format!("loop {form_loop} "), theme.accent()));
    }
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
    if let Some(ramp) = trainer.ramp {
        // The ramp's end only when it is not the end of the tempo range.
        let end = if ramp.max < *crate::preset::TEMPO_RANGE.end() {
            format!(" to {:.0}", ramp.max)
        } else {
            String::new()
        };
        spans.push(Span::styled(format!(" {ramp}{end}"), theme.accent()));
    }
    spans.push(Span::styled(
        format!(" swing {:.1}:1", a.swing),
        theme.label(),
    ));
    Paragraph::new(Line::from(spans)).render(area, buf);
}

/// "C7 in 2 bars", "C7 in 1 bar · beat 3", or the one chord.
fn countdown_text(state: &ConsoleState) -> String {
    let n = state.look.notation;
    let next = state.next_slot();
    let name = chord_and_mode_change(state, &next);
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
