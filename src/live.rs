//! Playing live: the session that outlives its audio connection.
//!
//! A [`Session`] owns the engine's controller, the audio driver (native JACK, or a
//! device through cpal) and the [`LiveInput`] every non-audio input source sends to. The
//! main thread (headless loop or console) calls [`Session::poll`] a few dozen times a
//! second: it drains telemetry, notices a lost server or device, and retries every second;
//! when the audio comes back it rebuilds the engine at the next bar of the form with the
//! tempo, mutes and lead voice the player had. Held notes are released by the loss
//! itself (the new engine starts with none).

use crate::band::{Arrangement, Player};
use crate::engine::{Command, Engine, EngineConfig, EngineController, Telemetry};
use crate::io::cpal_out::{self, CpalError, CpalSession, OutputOptions};
use crate::io::driver::DriverStatus;
use crate::io::jack::{self, JackError, JackSession};
use crate::io::live_input::LiveInput;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Telemetry snapshots a session keeps for [`Session::take_telemetry`]: over a second of
/// 64-frame blocks, many times what a console reading 30 times a second needs.
pub const TELEMETRY_HISTORY: usize = 1024;

/// How often a lost server or device is looked for again.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// Which audio driver plays the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AudioHost {
    /// Native JACK: one client owning the MIDI input and the audio outputs.
    Jack,
    /// An audio device through cpal (the desktop default: ALSA/PipeWire/Pulse,
    /// CoreAudio, WASAPI).
    Device(OutputOptions),
}

impl Default for AudioHost {
    fn default() -> Self {
        AudioHost::Device(OutputOptions::default())
    }
}

/// Everything needed to (re)build the engine and its driver.
#[derive(Clone)]
pub struct SessionSettings {
    pub arrangement: Arrangement,
    pub seed: u64,
    pub mute: Vec<Player>,
    pub host: AudioHost,
    pub client_name: String,
    pub connect: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Jack(#[from] JackError),
    #[error(transparent)]
    Device(#[from] CpalError),
}

/// The driver playing the engine now.
pub enum Driver {
    Jack(JackSession),
    Device(CpalSession),
}

impl Driver {
    pub fn status(&self) -> &Arc<DriverStatus> {
        match self {
            Driver::Jack(j) => &j.status,
            Driver::Device(d) => &d.status,
        }
    }

    /// Host, device, rate, buffer and its latency, and connections, on one line.
    pub fn describe(&self) -> String {
        match self {
            Driver::Jack(j) => format!(
                "JACK client '{}' at {} Hz, {} frames per period ({:.2} ms){}",
                j.name,
                j.sample_rate,
                j.period,
                j.period as f64 * 1e3 / j.sample_rate as f64,
                if j.connected.is_empty() {
                    String::from(", not connected")
                } else {
                    format!(", connected {}", j.connected.join(", "))
                }
            ),
            Driver::Device(d) => d.describe(),
        }
    }

    /// What the console shows: host, device, rate, buffer frames.
    pub fn summary(&self) -> DriverSummary {
        match self {
            Driver::Jack(j) => DriverSummary {
                host: "JACK".into(),
                device: j.name.clone(),
                sample_rate: j.sample_rate,
                buffer: j.period,
            },
            Driver::Device(d) => DriverSummary {
                host: d.host_name().to_string(),
                device: d.device_name().to_string(),
                sample_rate: d.sample_rate(),
                buffer: d.buffer_frames().unwrap_or(0),
            },
        }
    }

    fn stop(self) {
        match self {
            Driver::Jack(j) => j.stop(),
            Driver::Device(d) => d.stop(),
        }
    }
}

/// The driver's vital figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverSummary {
    pub host: String,
    pub device: String,
    pub sample_rate: u32,
    pub buffer: u32,
}

impl DriverSummary {
    pub fn buffer_ms(&self) -> f64 {
        f64::from(self.buffer) * 1e3 / f64::from(self.sample_rate.max(1))
    }
}

/// A connected engine: its driver and controller.
pub struct Running {
    pub driver: Driver,
    pub controller: EngineController,
}

/// Something the player should be told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The server or device went away; retrying.
    Lost(String),
    /// Back, resuming at this bar (1-based).
    Resumed { description: String, bar: u64 },
    /// The engine failed inside the callback; output is silent.
    EngineFailed,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::Lost(what) => write!(f, "{what} stopped; looking for it again every second"),
            Notice::Resumed { description, bar } => {
                write!(f, "audio is back: {description} — resuming at bar {bar}")
            }
            Notice::EngineFailed => {
                f.write_str("the engine failed inside the audio callback; output is silent")
            }
        }
    }
}

fn build(
    settings: &SessionSettings,
    sample_rate: f32,
    start_bar: u64,
) -> (Engine, EngineController) {
    let config = EngineConfig {
        sample_rate,
        seed: settings.seed,
        mute: Player::mask(&settings.mute),
    };
    let (mut engine, controller) = Engine::new(config, settings.arrangement.clone());
    if start_bar > 0 {
        engine.start_at_bar(start_bar);
    }
    (engine, controller)
}

/// Build the engine for `settings` and start its driver, routing `live_input` to it.
fn connect(
    settings: &SessionSettings,
    start_bar: u64,
    live_input: &Arc<LiveInput>,
) -> Result<Running, LiveError> {
    match &settings.host {
        AudioHost::Jack => {
            let client = jack::open_client(&settings.client_name)?;
            let (engine, mut controller) = build(settings, client.sample_rate() as f32, start_bar);
            if let Some(producer) = controller.take_input() {
                live_input.attach(producer);
            }
            let session = jack::start(
                client,
                engine,
                jack::StartOptions {
                    connect: settings.connect,
                    live_input: Some(Arc::clone(live_input)),
                    ..jack::StartOptions::default()
                },
            )?;
            Ok(Running {
                driver: Driver::Jack(session),
                controller,
            })
        }
        AudioHost::Device(options) => {
            let prepared = cpal_out::open(options)?;
            let (engine, mut controller) =
                build(settings, prepared.sample_rate() as f32, start_bar);
            if let Some(producer) = controller.take_input() {
                live_input.attach(producer);
            }
            let session = prepared.start(engine, Some(Arc::clone(live_input)))?;
            Ok(Running {
                driver: Driver::Device(session),
                controller,
            })
        }
    }
}

/// Build the engine for `settings` and start it on the default JACK server, without a
/// session around it (benches).
pub fn start_jack(
    settings: &SessionSettings,
) -> Result<(JackSession, EngineController), LiveError> {
    let settings = SessionSettings {
        host: AudioHost::Jack,
        ..settings.clone()
    };
    match connect(&settings, 0, &Arc::new(LiveInput::new()))? {
        Running {
            driver: Driver::Jack(jack),
            controller,
        } => Ok((jack, controller)),
        Running { driver, .. } => unreachable!("asked for JACK, got {}", driver.describe()),
    }
}

/// A live session.
pub struct Session {
    settings: SessionSettings,
    live_input: Arc<LiveInput>,
    running: Option<Running>,
    last_telemetry: Option<Telemetry>,
    /// Every snapshot since the last [`Session::take_telemetry`] (the newest
    /// [`TELEMETRY_HISTORY`]).
    history: VecDeque<Telemetry>,
    /// Xruns of connections already lost, so the count shown covers the whole session.
    earlier_xruns: u64,
    reported_panic: bool,
    last_retry: Instant,
}

impl Session {
    /// Connect for the first time; an error here is the user's to fix (no server, bad
    /// device), so it is returned rather than retried.
    pub fn start(settings: SessionSettings) -> Result<Session, LiveError> {
        let live_input = Arc::new(LiveInput::new());
        let running = connect(&settings, 0, &live_input)?;
        Ok(Session {
            settings,
            live_input,
            running: Some(running),
            last_telemetry: None,
            history: VecDeque::with_capacity(TELEMETRY_HISTORY),
            earlier_xruns: 0,
            reported_panic: false,
            last_retry: Instant::now(),
        })
    }

    /// The sink for input from other threads (midir, the computer keyboard).
    pub fn live_input(&self) -> &Arc<LiveInput> {
        &self.live_input
    }

    pub fn settings(&self) -> &SessionSettings {
        &self.settings
    }

    /// The driver, while connected.
    pub fn driver(&self) -> Option<&Driver> {
        self.running.as_ref().map(|r| &r.driver)
    }

    /// The newest telemetry (kept across a loss).
    pub fn telemetry(&self) -> Option<&Telemetry> {
        self.last_telemetry.as_ref()
    }

    /// Hand every telemetry snapshot since the previous call to `each`, oldest first
    /// (what the console's phrase analysis needs: every note-on, every release).
    pub fn take_telemetry(&mut self, mut each: impl FnMut(&Telemetry)) {
        for t in self.history.drain(..) {
            each(&t);
        }
    }

    /// Xruns over the whole session.
    pub fn xruns(&self) -> u64 {
        self.earlier_xruns + self.driver().map_or(0, |d| d.status().xruns())
    }

    /// Send a command to the engine; false if there is no engine or its ring is full.
    pub fn send(&mut self, command: Command) -> bool {
        match &mut self.running {
            Some(r) => r.controller.send(command).is_ok(),
            None => false,
        }
    }

    /// Play another arrangement (another preset, a transposition) from its first bar; it
    /// is also what a resume after a loss comes back to. False if there is no engine or
    /// its command ring is full (the arrangement is still kept for the resume).
    pub fn load(&mut self, arrangement: Arrangement) -> bool {
        self.settings.arrangement = arrangement.clone();
        self.send(Command::Load(Box::new(arrangement)))
    }

    /// Keep the session going; call a few dozen times a second. Returns what the player
    /// should be told.
    pub fn poll(&mut self) -> Option<Notice> {
        match &mut self.running {
            Some(r) => {
                r.controller.collect_garbage();
                let (history, last) = (&mut self.history, &mut self.last_telemetry);
                r.controller.drain_telemetry(|t| {
                    if history.len() == TELEMETRY_HISTORY {
                        history.pop_front();
                    }
                    history.push_back(t);
                    *last = Some(t);
                });
                let status = Arc::clone(r.driver.status());
                if status.is_lost() {
                    let what = match &r.driver {
                        Driver::Jack(_) => "the JACK server".to_string(),
                        Driver::Device(d) => {
                            format!("the audio device '{}' ({})", d.device_name(), d.host_name())
                        }
                    };
                    self.live_input.detach();
                    if let Some(gone) = self.running.take() {
                        self.earlier_xruns += gone.driver.status().xruns();
                        gone.driver.stop();
                    }
                    self.last_retry = Instant::now();
                    return Some(Notice::Lost(what));
                }
                // Said once: silence speaks for itself afterwards.
                if status.has_panicked() && !self.reported_panic {
                    self.reported_panic = true;
                    return Some(Notice::EngineFailed);
                }
                None
            }
            None => {
                if self.last_retry.elapsed() < RETRY_INTERVAL {
                    return None;
                }
                self.last_retry = Instant::now();
                // Resume at the next bar of the form, as the player left it.
                let resume_bar = self.last_telemetry.map_or(0, |t| t.position.bar + 1);
                let mut running = connect(&self.settings, resume_bar, &self.live_input).ok()?;
                if let Some(t) = &self.last_telemetry {
                    let _ = running.controller.send(Command::SetTempo(t.tempo));
                    let _ = running.controller.send(Command::SetLead(t.lead));
                    for (player, muted) in Player::ALL.iter().zip(t.mute) {
                        let _ = running.controller.send(Command::SetMute(*player, muted));
                    }
                    let _ = running.controller.send(Command::SetCountIn(t.count_in));
                    // A band the player had stopped stays stopped.
                    if t.transport == crate::engine::Transport::Stopped {
                        let _ = running.controller.send(Command::Stop);
                    }
                }
                let description = running.driver.describe();
                self.reported_panic = false;
                self.running = Some(running);
                Some(Notice::Resumed {
                    description,
                    bar: resume_bar + 1,
                })
            }
        }
    }

    /// Stop the driver.
    pub fn stop(mut self) {
        self.live_input.detach();
        if let Some(r) = self.running.take() {
            r.driver.stop();
        }
    }
}

/// One status line for the headless mode.
pub fn status_line(session: &Session, telemetry: &Telemetry, midi: &str) -> String {
    let arrangement = &session.settings.arrangement;
    let slot = &arrangement.slots[telemetry.position.slot.min(arrangement.slots.len() - 1)];
    let (load, peak) = session.driver().map_or((0.0, 0.0), |d| {
        (d.status().load(), d.status().take_peak_load())
    });
    format!(
        "bar {} beat {} · {} · {} · {:.0} BPM · lead {} · notes {} · load {:.1}% (peak {:.1}%) · xruns {} · dropped {} · MIDI {midi}",
        telemetry.position.bar + 1,
        telemetry.position.beat.floor() as u32 + 1,
        slot.chord,
        slot.mode,
        telemetry.tempo,
        telemetry.lead.slug(),
        telemetry.notes_played,
        load * 100.0,
        peak * 100.0,
        session.xruns(),
        telemetry.dropped_input + telemetry.dropped_events + session.live_input.dropped(),
    )
}

/// Play until `stop` is set (Ctrl-C, SIGTERM), printing status lines to stderr.
/// `midi_summary` describes the MIDI inputs for the status line. Returns an error only if
/// the first connection fails.
pub fn run_headless(
    session: &mut Session,
    stop: &AtomicBool,
    mut midi_summary: impl FnMut() -> String,
) {
    if let Some(driver) = session.driver() {
        eprintln!(
            "{} — playing {}",
            driver.describe(),
            session.settings.arrangement.title
        );
    }
    let mut last_status = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(20));
        if let Some(notice) = session.poll() {
            eprintln!("{notice}");
        }
        if session.driver().is_some() && last_status.elapsed() >= Duration::from_secs(1) {
            last_status = Instant::now();
            if let Some(t) = session.telemetry() {
                eprintln!("{}", status_line(session, t, &midi_summary()));
            }
        }
    }
}
