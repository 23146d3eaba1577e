//! The console's keys. None of them is a key of the computer-keyboard piano
//! ([`crate::io::computer_keys`]: `a w s e d f t g y h u j k`, `z x c v`), so the piano
//! stays playable while the console is driven: no key does two things.

use crate::band::Player;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a console key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Stop the band, or start it from bar 1.
    StartStop,
    PreviousPreset,
    NextPreset,
    TempoUp,
    TempoDown,
    TransposeDown,
    TransposeUp,
    ToggleMute(Player),
    NextLead,
    ToggleCountIn,
    /// Loop the section playing, or play the whole form again.
    ToggleLoop,
    /// The tempo ramp on or off.
    ToggleRamp,
    /// Trade fours, eights, or stop trading with the band's horn.
    CycleTrade,
    /// Hear the last phrase again over the band (or stop what plays back).
    PlayBackPhrase,
    /// Hear the whole take again (or stop what plays back).
    PlayBackTake,
    ToggleHelp,
    CloseHelp,
    Quit,
}

/// Tempo change per press of ↑ or ↓, in BPM.
pub const TEMPO_STEP: f32 = 2.0;

/// The action for a key event, if it is a console key. Releases are never actions;
/// auto-repeat only moves the tempo (holding `1` must not flicker the bass on and off).
pub fn action_for(event: &KeyEvent, help_open: bool) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let repeat = event.kind == KeyEventKind::Repeat;
    let control = event.modifiers.contains(KeyModifiers::CONTROL);
    let action = match event.code {
        KeyCode::Char('c') | KeyCode::Char('C') if control => Action::Quit,
        _ if control => return None,
        KeyCode::Up => Action::TempoUp,
        KeyCode::Down => Action::TempoDown,
        _ if repeat => return None,
        KeyCode::Esc if help_open => Action::CloseHelp,
        KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('Q') => Action::Quit,
        KeyCode::Char(' ') => Action::StartStop,
        KeyCode::Left => Action::PreviousPreset,
        KeyCode::Right => Action::NextPreset,
        KeyCode::Char('[') => Action::TransposeDown,
        KeyCode::Char(']') => Action::TransposeUp,
        KeyCode::Char('1') => Action::ToggleMute(Player::Bass),
        KeyCode::Char('2') => Action::ToggleMute(Player::Drums),
        KeyCode::Char('3') => Action::ToggleMute(Player::Piano),
        KeyCode::Tab => Action::NextLead,
        KeyCode::Char('i') | KeyCode::Char('I') => Action::ToggleCountIn,
        KeyCode::Char('l') | KeyCode::Char('L') => Action::ToggleLoop,
        KeyCode::Char('r') | KeyCode::Char('R') => Action::ToggleRamp,
        KeyCode::Char('4') => Action::CycleTrade,
        KeyCode::Char('p') => Action::PlayBackPhrase,
        KeyCode::Char('P') => Action::PlayBackTake,
        KeyCode::Char('?') => Action::ToggleHelp,
        _ => return None,
    };
    Some(action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::computer_keys::{ComputerKeys, KeyAction, KeyReleases};
    use std::time::Instant;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn the_keys_of_the_issue() {
        let cases = [
            (KeyCode::Char(' '), Action::StartStop),
            (KeyCode::Left, Action::PreviousPreset),
            (KeyCode::Right, Action::NextPreset),
            (KeyCode::Up, Action::TempoUp),
            (KeyCode::Down, Action::TempoDown),
            (KeyCode::Char('['), Action::TransposeDown),
            (KeyCode::Char(']'), Action::TransposeUp),
            (KeyCode::Char('1'), Action::ToggleMute(Player::Bass)),
            (KeyCode::Char('2'), Action::ToggleMute(Player::Drums)),
            (KeyCode::Char('3'), Action::ToggleMute(Player::Piano)),
            (KeyCode::Tab, Action::NextLead),
            (KeyCode::Char('i'), Action::ToggleCountIn),
            (KeyCode::Char('l'), Action::ToggleLoop),
            (KeyCode::Char('r'), Action::ToggleRamp),
            (KeyCode::Char('4'), Action::CycleTrade),
            (KeyCode::Char('p'), Action::PlayBackPhrase),
            (KeyCode::Char('P'), Action::PlayBackTake),
            (KeyCode::Char('?'), Action::ToggleHelp),
            (KeyCode::Char('q'), Action::Quit),
            (KeyCode::Esc, Action::Quit),
        ];
        for (code, action) in cases {
            assert_eq!(action_for(&press(code), false), Some(action), "{code:?}");
        }
        assert_eq!(
            action_for(&press(KeyCode::Esc), true),
            Some(Action::CloseHelp)
        );
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(&ctrl_c, false), Some(Action::Quit));
    }

    #[test]
    fn no_key_does_two_things() {
        let mut piano = ComputerKeys::new(KeyReleases::Reported);
        let now = Instant::now();
        for c in (b' '..=b'~').map(char::from) {
            let is_piano = piano.handle(c, KeyAction::Press, now, &mut |_| {});
            piano.handle(c, KeyAction::Release, now, &mut |_| {});
            let is_console = action_for(&press(KeyCode::Char(c)), false).is_some();
            assert!(
                !(is_piano && is_console),
                "'{c}' is a piano key and a console key"
            );
        }
    }

    #[test]
    fn releases_and_repeats_of_toggles_do_nothing() {
        let mut release = press(KeyCode::Char('1'));
        release.kind = KeyEventKind::Release;
        assert_eq!(action_for(&release, false), None);
        let mut repeat = press(KeyCode::Char('1'));
        repeat.kind = KeyEventKind::Repeat;
        assert_eq!(action_for(&repeat, false), None);
        let mut up = press(KeyCode::Up);
        up.kind = KeyEventKind::Repeat;
        assert_eq!(action_for(&up, false), Some(Action::TempoUp));
    }
}
