//! The console's event loop. The main thread owns the terminal and the session; a reader
//! thread turns terminal input into [`AppEvent`]s, and the Ctrl-C / SIGTERM handler sends
//! one too, all over one crossbeam channel. The loop redraws at [`FRAME_INTERVAL`]
//! whatever arrives, and wakes early for a computer-keyboard note that must end.

use super::keymap::{Action, TEMPO_STEP, action_for};
use super::state::{ConsoleState, EngineInfo, Look, MidiInfo};
use super::terminal::TerminalGuard;
use crate::band::Player;
use crate::engine::{Command, Transport};
use crate::io::computer_keys::{ComputerKeys, KeyReleases, KeyboardEnhancement};
use crate::io::midi_input::MidiInputs;
use crate::live::Session;
use crate::preset::{LeadInstrument, Preset};
use crate::render::{self, RenderOptions};
use crate::theory::{Key, Letter, SpelledPitch};
use crossbeam_channel::{RecvTimeoutError, Sender};
use crossterm::event::{Event, KeyEvent};
use std::time::{Duration, Instant};

/// 40 frames a second: comfortably above the 30 a moving metronome needs.
pub const FRAME_INTERVAL: Duration = Duration::from_millis(25);

/// What wakes the console.
#[derive(Debug)]
pub enum AppEvent {
    Key(KeyEvent),
    /// The terminal changed size (the next frame is drawn at the new size).
    Resize,
    /// Ctrl-C from a signal, SIGTERM, SIGHUP: quit now.
    Quit,
    /// The terminal's input failed (it went away).
    InputFailed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("the terminal: {0}")]
    Terminal(#[from] std::io::Error),
    #[error("installing the Ctrl-C / SIGTERM handler: {0}")]
    Signals(#[from] ctrlc::Error),
    #[error("reading the terminal: {0}")]
    Input(String),
    #[error("a thread panicked (its message is above); the console stopped")]
    Panicked,
}

/// The presets the arrow keys step through, and where the player started.
pub struct PresetChoice {
    pub presets: Vec<Preset>,
    pub index: usize,
    /// Semitones from each preset's own key (from `--key`).
    pub transposition: i32,
}

/// The preferred name of a key a number of semitones from `key`: the spelling with the
/// fewer accidentals (E♭ minor, not D♯ minor; F♯ major over G♭ on the tie).
pub fn transposed_key(key: Key, semitones: i32) -> Key {
    const MINOR: [(Letter, i8); 12] = [
        (Letter::C, 0),
        (Letter::C, 1),
        (Letter::D, 0),
        (Letter::E, -1),
        (Letter::E, 0),
        (Letter::F, 0),
        (Letter::F, 1),
        (Letter::G, 0),
        (Letter::G, 1),
        (Letter::A, 0),
        (Letter::B, -1),
        (Letter::B, 0),
    ];
    const MAJOR: [(Letter, i8); 12] = [
        (Letter::C, 0),
        (Letter::D, -1),
        (Letter::D, 0),
        (Letter::E, -1),
        (Letter::E, 0),
        (Letter::F, 0),
        (Letter::F, 1),
        (Letter::G, 0),
        (Letter::A, -1),
        (Letter::A, 0),
        (Letter::B, -1),
        (Letter::B, 0),
    ];
    let pc = key.tonic.pitch_class().transpose(semitones);
    let (letter, accidental) = if key.minor { MINOR } else { MAJOR }[pc.semitones() as usize];
    Key::new(SpelledPitch::new(letter, accidental), key.minor)
}

/// Semitones from `from`'s tonic up to `to`'s, in -5 … 6.
pub fn semitones_between(from: Key, to: Key) -> i32 {
    let up = i32::from(from.tonic.pitch_class().up_to(to.tonic.pitch_class()));
    if up > 6 { up - 12 } else { up }
}

/// Run the console until the player quits or a signal arrives. The terminal is restored
/// before this returns, whatever happens.
pub fn run(
    session: &mut Session,
    midi: Option<&MidiInputs>,
    mut choice: PresetChoice,
    look: Look,
) -> Result<(), ConsoleError> {
    let (events, inbox) = crossbeam_channel::unbounded::<AppEvent>();
    let quit = events.clone();
    ctrlc::set_handler(move || {
        let _ = quit.send(AppEvent::Quit);
    })?;
    let guard = TerminalGuard::enter()?;
    let mut enhancement = KeyboardEnhancement::enable()?;
    let releases = enhancement.releases();
    guard.keyboard_flags_pushed(releases == KeyReleases::Reported && !cfg!(windows));
    // The alternate screen starts blank, and the first frame draws every cell; no
    // `Terminal::clear`, whose cursor query would race the input thread for the answer.
    let backend = ratatui::backend::CrosstermBackend::new(std::io::stdout());
    let mut terminal = ratatui::Terminal::new(backend)?;
    start_input_thread(events)?;

    let preset = &choice.presets[choice.index];
    let mut state = ConsoleState::new(
        session.settings().arrangement.clone(),
        preset.cue.clone(),
        transposed_key(preset.key, choice.transposition),
        look,
    );
    state.transposition = choice.transposition;
    session.send(Command::SetCountIn(true));
    let mut piano = ComputerKeys::new(releases);
    let mut next_frame = Instant::now();
    let result = loop {
        // The panic hook gave the terminal back: drawing on would scribble over the shell.
        if super::terminal::a_thread_panicked() {
            break Err(ConsoleError::Panicked);
        }
        let now = Instant::now();
        let wake = piano
            .next_deadline()
            .map_or(next_frame, |d| d.min(next_frame));
        let event = match inbox.recv_timeout(wake.saturating_duration_since(now)) {
            Ok(event) => Some(event),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                break Err(ConsoleError::Input("the input thread stopped".into()));
            }
        };
        let live = std::sync::Arc::clone(session.live_input());
        let mut send_note = |e| {
            live.send_now(e);
        };
        piano.tick(Instant::now(), &mut send_note);
        match event {
            Some(AppEvent::Quit) => break Ok(()),
            Some(AppEvent::InputFailed(why)) => break Err(ConsoleError::Input(why)),
            Some(AppEvent::Resize) => next_frame = Instant::now(),
            Some(AppEvent::Key(key)) => {
                if piano.handle_key_event(&key, Instant::now(), &mut send_note) {
                    state.computer_keys_c = (12 * (i32::from(piano.octave()) + 1)) as u8;
                    continue;
                }
                match action_for(&key, state.help) {
                    Some(Action::Quit) => break Ok(()),
                    Some(action) => act(action, session, &mut state, &mut choice),
                    None => {}
                }
            }
            None => {}
        }
        if Instant::now() >= next_frame {
            refresh(session, midi, &mut state);
            terminal.draw(|frame| frame.render_widget(&state, frame.area()))?;
            state.frame_drawn();
            next_frame += FRAME_INTERVAL;
            if next_frame < Instant::now() {
                next_frame = Instant::now() + FRAME_INTERVAL;
            }
        }
    };
    let live = std::sync::Arc::clone(session.live_input());
    piano.release_all(&mut |e| {
        live.send_now(e);
    });
    let _ = enhancement.disable();
    guard.keyboard_flags_pushed(false);
    drop(terminal);
    drop(guard);
    result
}

/// Read the terminal on a thread of its own; it ends with the process.
fn start_input_thread(events: Sender<AppEvent>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("console-input".into())
        .spawn(move || {
            loop {
                let sent = match crossterm::event::read() {
                    Ok(Event::Key(key)) => events.send(AppEvent::Key(key)),
                    Ok(Event::Resize(..)) => events.send(AppEvent::Resize),
                    Ok(_) => Ok(()),
                    Err(error) => {
                        let _ = events.send(AppEvent::InputFailed(error.to_string()));
                        return;
                    }
                };
                if sent.is_err() {
                    return;
                }
            }
        })?;
    Ok(())
}

/// Bring the state up to date with the session: telemetry, notices, engine figures.
fn refresh(session: &mut Session, midi: Option<&MidiInputs>, state: &mut ConsoleState) {
    if let Some(notice) = session.poll() {
        state.notice = Some(notice.to_string());
        if matches!(notice, crate::live::Notice::Resumed { .. }) {
            session.send(Command::SetCountIn(
                state.telemetry.is_some_and(|t| t.count_in),
            ));
        }
    }
    session.take_telemetry(|t| state.feed(t));
    let dropped = state
        .telemetry
        .map_or(0, |t| t.dropped_input + t.dropped_events)
        + session.live_input().dropped();
    let (driver, load, peak_load) = match session.driver() {
        Some(d) => (
            Some(d.summary()),
            d.status().load(),
            d.status().take_peak_load(),
        ),
        None => (None, 0.0, 0.0),
    };
    let midi = midi.map_or_else(MidiInfo::default, |m| {
        let status = m.status();
        let mut connected = status.connected.clone();
        if let Some(port) = &status.virtual_port {
            connected.push(format!("virtual {port}"));
        }
        MidiInfo {
            connected,
            gone: status.gone.iter().map(|g| g.name.clone()).collect(),
            unavailable: status.unavailable.clone(),
        }
    });
    let mut midi = midi;
    if let Some(crate::live::Driver::Jack(j)) = session.driver() {
        midi.connected.insert(0, format!("JACK {}:midi_in", j.name));
    }
    state.engine = EngineInfo {
        driver,
        load,
        // The peak is a window since the last frame; keep it visible for a moment.
        peak_load: peak_load.max(state.engine.peak_load * 0.97),
        xruns: session.xruns(),
        dropped,
        midi,
    };
}

/// Do what a console key asks.
fn act(action: Action, session: &mut Session, state: &mut ConsoleState, choice: &mut PresetChoice) {
    let telemetry = state.telemetry;
    match action {
        Action::StartStop => {
            let stopped = state.transport() == Transport::Stopped;
            session.send(if stopped {
                Command::Start
            } else {
                Command::Stop
            });
        }
        Action::TempoUp | Action::TempoDown => {
            let tempo = telemetry.map_or(state.arrangement.tempo, |t| t.tempo);
            let step = if action == Action::TempoUp {
                TEMPO_STEP
            } else {
                -TEMPO_STEP
            };
            let tempo = (tempo + step).clamp(30.0, 360.0);
            session.send(Command::SetTempo(tempo));
        }
        Action::ToggleMute(player) => {
            let index = Player::ALL.iter().position(|p| *p == player).unwrap_or(0);
            let muted = telemetry.is_some_and(|t| t.mute[index]);
            session.send(Command::SetMute(player, !muted));
        }
        Action::NextLead => {
            let lead = telemetry.map_or(state.arrangement.lead, |t| t.lead);
            let index = LeadInstrument::ALL
                .iter()
                .position(|l| *l == lead)
                .unwrap_or(0);
            session.send(Command::SetLead(
                LeadInstrument::ALL[(index + 1) % LeadInstrument::ALL.len()],
            ));
        }
        Action::ToggleCountIn => {
            let on = telemetry.is_some_and(|t| t.count_in);
            session.send(Command::SetCountIn(!on));
        }
        Action::ToggleHelp => state.help = !state.help,
        Action::CloseHelp => state.help = false,
        Action::PreviousPreset | Action::NextPreset => {
            let count = choice.presets.len();
            choice.index = if action == Action::NextPreset {
                (choice.index + 1) % count
            } else {
                (choice.index + count - 1) % count
            };
            load(session, state, choice, None);
        }
        Action::TransposeDown | Action::TransposeUp => {
            let step = if action == Action::TransposeUp { 1 } else { -1 };
            // Stay within a tritone of the preset's key either way.
            let t = choice.transposition + step;
            choice.transposition = if t > 6 {
                t - 12
            } else if t < -5 {
                t + 12
            } else {
                t
            };
            let tempo = telemetry.map(|t| t.tempo);
            load(session, state, choice, tempo);
        }
        Action::Quit => {}
    }
}

/// Load the chosen preset in the chosen key (at `tempo`, or the preset's own).
fn load(
    session: &mut Session,
    state: &mut ConsoleState,
    choice: &PresetChoice,
    tempo: Option<f32>,
) {
    let preset = &choice.presets[choice.index];
    let key = transposed_key(preset.key, choice.transposition);
    let options = RenderOptions {
        tempo,
        key: (choice.transposition != 0).then(|| key.to_string()),
        ..RenderOptions::default()
    };
    match render::arrangement_for(preset, &options) {
        Ok(arrangement) => {
            state.set_arrangement(arrangement.clone(), preset.cue.clone(), key);
            state.transposition = choice.transposition;
            state.notice = None;
            if !session.load(arrangement) {
                state.notice = Some("the engine is busy; try again".into());
            }
        }
        Err(error) => state.notice = Some(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Key {
        Key::parse(text).unwrap()
    }

    #[test]
    fn transposed_keys_are_spelled_with_the_fewer_accidentals() {
        let d_minor = key("D minor");
        let names: Vec<String> = (-5..=6)
            .map(|s| transposed_key(d_minor, s).to_string())
            .collect();
        assert_eq!(
            names,
            [
                "A minor",
                "B♭ minor",
                "B minor",
                "C minor",
                "C♯ minor",
                "D minor",
                "E♭ minor",
                "E minor",
                "F minor",
                "F♯ minor",
                "G minor",
                "G♯ minor"
            ]
        );
        assert_eq!(transposed_key(key("C major"), 1).to_string(), "D♭ major");
        assert_eq!(semitones_between(d_minor, key("Eb minor")), 1);
        assert_eq!(semitones_between(d_minor, key("C minor")), -2);
    }
}
