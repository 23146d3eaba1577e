//! The title line: the preset, its key and the cue it comes from, or a notice.

use super::theme::Theme;
use crate::band::KeyCycle;
use crate::ui::state::ConsoleState;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// The title line.
pub(super) fn draw(state: &ConsoleState, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let a = &state.arrangement;
    let mut spans = vec![
        Span::styled(
            " ascenseur ",
            theme.title().add_modifier(Modifier::REVERSED),
        ),
        Span::raw(" "),
        Span::styled(a.title.clone(), theme.title()),
        Span::styled(format!(" in {}", key_name(state)), theme.label()),
    ];
    if let Some(cycle) = state.trainer().key_cycle {
        let by = match cycle {
            KeyCycle::Fourths => "up a fourth",
            KeyCycle::Semitones => "up a semitone",
        };
        spans.push(Span::styled(format!(", {by} each pass"), theme.accent()));
    }
    if let Some(notice) = &state.notice {
        // A notice tells the player what to do ("press space to restart it"): when it does
        // not fit beside the title it takes the title's place until it is gone.
        let width = usize::from(area.width);
        let notice_width = notice.chars().count() + 2;
        let title_width: usize = spans.iter().map(Span::width).sum();
        if title_width + notice_width > width {
            let badge = spans[0].width();
            spans.truncate(if badge + notice_width > width { 0 } else { 1 });
        }
        spans.push(Span::raw(if spans.is_empty() { " " } else { "  " }));
        spans.push(Span::styled(notice.clone(), theme.warning()));
    } else {
        let glance = state.practice_glance.map(|g| {
            let best = g
                .best_tempo
                .map_or(String::new(), |t| format!(" · best {t:.0} BPM"));
            format!("  today {:.0} min{best}", g.today_minutes)
        });
        let cue = format!("  after “{}”", state.cue);
        let width = usize::from(area.width);
        let used: usize = spans.iter().map(Span::width).sum();
        let glance_width = glance.as_deref().map_or(0, |g| g.chars().count());
        // The practice figures first; the cue where there is room for it too.
        if !state.cue.is_empty() && used + glance_width + cue.chars().count() <= width {
            spans.push(Span::styled(cue, theme.label()));
        }
        if let Some(glance) = glance {
            spans.push(Span::styled(glance, theme.accent()));
        }
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}

/// The key the band plays in now (a key cycle moves it each pass).
fn key_name(state: &ConsoleState) -> String {
    let key = state.key_in_force();
    let quality = if key.minor { "minor" } else { "major" };
    format!("{} {quality}", key.tonic.name(state.look.notation))
}
