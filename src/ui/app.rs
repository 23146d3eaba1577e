//! The console's event loop. The main thread owns the terminal and the session; a reader
//! thread turns terminal input into [`AppEvent`]s, and the Ctrl-C / SIGTERM handler sends
//! one too, all over one crossbeam channel. The loop redraws at [`FRAME_INTERVAL`]
//! whatever arrives, and wakes early for a computer-keyboard note that must end.

use super::keymap::{Action, TEMPO_STEP, action_for};
use super::state::{ConsoleState, EngineInfo, Look, MidiInfo, PracticeGlance};
use super::terminal::TerminalGuard;
use crate::io::computer_keys::{ComputerKeys, KeyReleases, KeyboardEnhancement};
use crate::io::midi_input::MidiInputs;
use crate::live::tape::PlaybackScope;
use crate::live::{Intent, Notice, PlaybackNews, Session};
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

/// Run the console until the player quits or a signal arrives. The terminal is restored
/// before this returns, whatever happens.
pub fn run(
    session: &mut Session,
    midi: Option<&MidiInputs>,
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

    let performance = session.performance();
    let mut state = ConsoleState::new(
        performance.arrangement().clone(),
        performance.preset().cue.clone(),
        performance.key(),
        look,
    );
    state.transposition = performance.transposition();
    let mut piano = ComputerKeys::new(releases);
    let mut next_frame = Instant::now();
    let mut test_panic = TestPanic::from_env();
    let mut glance = HistoryGlance::default();
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
                    Some(action) => act(action, session, &mut state),
                    None => {}
                }
            }
            None => {}
        }
        if Instant::now() >= next_frame {
            test_panic.fire_when_due();
            refresh(session, midi, &mut state);
            glance.update(session, &mut state);
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

/// A panic the end-to-end tests ask for through `ASCENSEUR_TEST_PANIC` (`audio` or
/// `ui`), read once at start, a second after the console opens: to see that an audio
/// thread panic leaves the console running and a console panic gives the terminal back.
struct TestPanic {
    due: Option<(Instant, bool)>,
}

impl TestPanic {
    fn from_env() -> TestPanic {
        let at = Instant::now() + Duration::from_secs(1);
        let due = match std::env::var("ASCENSEUR_TEST_PANIC").as_deref() {
            Ok("audio") => Some((at, true)),
            Ok("ui") => Some((at, false)),
            _ => None,
        };
        TestPanic { due }
    }

    fn fire_when_due(&mut self) {
        if let Some((at, on_audio)) = self.due
            && Instant::now() >= at
        {
            self.due = None;
            if on_audio {
                crate::io::driver::request_audio_panic();
            } else {
                panic!("test panic requested on the console thread");
            }
        }
    }
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
/// The practice history as the header shows it, read again when a take ends or the
/// preset changes.
#[derive(Default)]
struct HistoryGlance {
    /// (takes finished, preset) when last read.
    read_for: Option<(usize, String)>,
    minutes_before: f64,
    best_tempo: Option<f32>,
}

impl HistoryGlance {
    fn update(&mut self, session: &Session, state: &mut ConsoleState) {
        let (Some(path), Some(take_started)) = (session.history(), session.take_started()) else {
            state.practice_glance = None;
            return;
        };
        let preset = session.performance().preset().name.clone();
        let now = (session.takes().len(), preset);
        if self.read_for.as_ref() != Some(&now) {
            // A history that does not read shows nothing of it; `ascenseur history` says
            // why.
            let history = crate::take::history::History::read(path).unwrap_or_default();
            self.minutes_before = history.minutes_on(chrono::Local::now().date_naive());
            self.best_tempo = history.best_tempo(&now.1);
            self.read_for = Some(now);
        }
        state.practice_glance = Some(PracticeGlance {
            today_minutes: self.minutes_before + take_started.elapsed().as_secs_f64() / 60.0,
            best_tempo: self.best_tempo,
        });
    }
}

fn refresh(session: &mut Session, midi: Option<&MidiInputs>, state: &mut ConsoleState) {
    if let Some(notice) = session.poll() {
        state.notice = Some(match notice {
            Notice::EngineFailed(_) => format!("{notice} (press space to restart it)"),
            _ => notice.to_string(),
        });
    }
    session.take_telemetry(|t| state.feed(t));
    session.take_journal(|entry| state.record(entry));
    state.judge();
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

/// Do what a console key asks: most keys are intentions the session applies to what the
/// player has chosen; help is the console's own.
fn act(action: Action, session: &mut Session, state: &mut ConsoleState) {
    let intent = match action {
        // After an engine failure the space bar builds it again.
        Action::StartStop if session.has_failed() => {
            state.notice = session.restart().map(|n| n.to_string());
            return;
        }
        Action::StartStop => Intent::StartStop,
        Action::TempoUp => Intent::StepTempo(TEMPO_STEP),
        Action::TempoDown => Intent::StepTempo(-TEMPO_STEP),
        Action::ToggleMute(player) => Intent::ToggleMute(player),
        Action::NextLead => Intent::NextLead,
        Action::ToggleCountIn => Intent::ToggleCountIn,
        Action::CycleTrade => Intent::CycleTrade,
        Action::ToggleLoop => Intent::ToggleLoop,
        Action::ToggleRamp => Intent::ToggleTempoRamp,
        Action::PreviousPreset => Intent::StepPreset(-1),
        Action::NextPreset => Intent::StepPreset(1),
        Action::TransposeDown => Intent::Transpose(-1),
        Action::TransposeUp => Intent::Transpose(1),
        Action::PlayBackPhrase => {
            state.notice = Some(play_back(session, PlaybackScope::LastPhrase));
            return;
        }
        Action::PlayBackTake => {
            state.notice = Some(play_back(session, PlaybackScope::WholeTake));
            return;
        }
        Action::ToggleHelp => {
            state.help = !state.help;
            return;
        }
        Action::CloseHelp => {
            state.help = false;
            return;
        }
        Action::Quit => return,
    };
    let reloads = matches!(intent, Intent::StepPreset(_) | Intent::Transpose(_));
    match session.apply(intent) {
        Ok(()) if reloads => {
            let performance = session.performance();
            state.set_arrangement(
                performance.arrangement().clone(),
                performance.preset().cue.clone(),
                performance.key(),
            );
            state.transposition = performance.transposition();
            state.notice = None;
        }
        Ok(()) => {}
        Err(error) => state.notice = Some(error.to_string()),
    }
}

/// Ask the session for a playback (or to stop one), and what to tell the player.
fn play_back(session: &mut Session, scope: PlaybackScope) -> String {
    match session.play_back(scope) {
        Ok(PlaybackNews::Starts { first, last }) if first == last => {
            format!("playing back bar {first} from the next bar line (p stops)")
        }
        Ok(PlaybackNews::Starts { first, last }) => {
            format!("playing back bars {first}-{last} from the next bar line (p stops)")
        }
        Ok(PlaybackNews::Stops) => "playback stops at the next bar line".to_string(),
        Err(nothing) => format!("nothing to play back: {nothing}"),
    }
}
