//! Playing live: the session that outlives its audio connection.
//!
//! A [`Session`] owns what the player has chosen (the [`Performance`]: preset, key,
//! tempo, mutes, lead voice, count-in, whether the band plays), the audio driver (native
//! JACK, a device through cpal, or a [`ManualDevice`] run by hand in tests) and the
//! [`LiveInput`] every non-audio input source sends to. The console changes the
//! performance only through [`Intent`]s, which the session applies and passes on to the
//! engine as commands. Every engine is built with the performance *before* its driver
//! starts, so an engine that replaces a lost one plays the player's tempo, mutes and
//! lead from its first sample.
//!
//! The main thread (headless loop or console) calls [`Session::poll`] a few dozen times
//! a second: it drains telemetry, notices a lost server or device, and retries every
//! second; when the audio comes back it rebuilds the engine at the next bar of the form.
//! Held notes are released by the loss itself (the new engine starts with none).

pub mod audio_panic;
pub mod performance;
pub mod tape;

pub use performance::{Intent, Performance, PerformanceError};
pub use tape::{NothingToPlay, PlaybackScope};
use tape::{Tape, TapeStretch};

use crate::engine::journal::JournalEntry;
use crate::engine::{Command, Engine, EngineController, Telemetry};
use crate::io::cpal_out::{self, CpalError, CpalSession, OutputOptions};
use crate::io::driver::DriverStatus;
use crate::io::jack::{self, JackError, JackSession};
use crate::io::live_input::LiveInput;
use crate::io::manual::{ManualDevice, ManualError, ManualSession};
use crate::take::{self, FinishedTake, TakeRecorder, TakeSetup};
use ringbuf::HeapCons;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Telemetry snapshots a session keeps for [`Session::take_telemetry`]: over a second of
/// 64-frame blocks, many times what a console reading 30 times a second needs.
pub const TELEMETRY_HISTORY: usize = 1024;

/// Journal entries a session keeps for [`Session::take_journal`]: minutes of a busy band,
/// for a console that reads them a few dozen times a second.
pub const JOURNAL_HISTORY: usize = 65_536;

/// Callbacks headless play waits for before it says what the driver granted.
const FIRST_CALLBACKS: u64 = 16;

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
    /// A device whose blocks the caller renders by hand (tests).
    Manual(ManualDevice),
}

impl Default for AudioHost {
    fn default() -> Self {
        AudioHost::Device(OutputOptions::default())
    }
}

/// How the session connects: the driver and what it is built with (what the player
/// plays is the [`Performance`]).
#[derive(Clone)]
pub struct SessionSettings {
    pub seed: u64,
    pub host: AudioHost,
    pub client_name: String,
    pub connect: bool,
    /// Where takes are recorded (a folder per take); `None` records nothing.
    pub takes_dir: Option<std::path::PathBuf>,
    /// The practice history each take adds a line to; `None` adds none.
    pub history: Option<std::path::PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Jack(#[from] JackError),
    #[error(transparent)]
    Device(#[from] CpalError),
    #[error(transparent)]
    Manual(#[from] ManualError),
}

/// The driver playing the engine now.
pub enum Driver {
    Jack(JackSession),
    Device(CpalSession),
    Manual(ManualSession),
}

impl Driver {
    pub fn status(&self) -> &Arc<DriverStatus> {
        match self {
            Driver::Jack(j) => &j.status,
            Driver::Device(d) => &d.status,
            Driver::Manual(m) => &m.status,
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
            Driver::Manual(m) => format!("a manual device at {} Hz", m.sample_rate),
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
            Driver::Manual(m) => DriverSummary {
                host: "manual".into(),
                device: "manual".into(),
                sample_rate: m.sample_rate,
                buffer: 0,
            },
        }
    }

    /// Wait until the driver has run `callbacks` callbacks, or `timeout` has passed.
    pub fn wait_for_callbacks(&self, callbacks: u64, timeout: Duration) {
        let started = Instant::now();
        while self.status().cycles.load(Ordering::Relaxed) < callbacks
            && started.elapsed() < timeout
        {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// What the player is told went away.
    fn what(&self) -> String {
        match self {
            Driver::Jack(_) => "the JACK server".to_string(),
            Driver::Device(d) => {
                format!("the audio device '{}' ({})", d.device_name(), d.host_name())
            }
            Driver::Manual(_) => "the manual device".to_string(),
        }
    }

    /// Stop the callback; when this returns, nothing of the old engine runs.
    fn stop(self) {
        match self {
            Driver::Jack(j) => j.stop(),
            Driver::Device(d) => d.stop(),
            Driver::Manual(m) => m.stop(),
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
    /// The other end of the engine's mix tap, while a take is being recorded and until
    /// the recorder takes it.
    pub mix: Option<HeapCons<f32>>,
    /// The engine clock of the newest telemetry snapshot: the journal is complete to it.
    engine_frame: u64,
    /// Journal entries this engine could not hand over, as its telemetry says.
    journal_lost: u64,
}

/// Something the player should be told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The server or device went away; retrying.
    Lost(String),
    /// Back, resuming at this bar (1-based).
    Resumed { description: String, bar: u64 },
    /// The engine failed inside the callback (what the panic said, where it is known);
    /// output is silent until the player restarts it.
    EngineFailed(Option<String>),
    /// The engine was built again after a failure, resuming at this bar (1-based).
    Restarted { bar: u64 },
    /// Recording could not start or stopped (why); the music plays on.
    Recording(String),
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::Lost(what) => write!(f, "{what} stopped; looking for it again every second"),
            Notice::Resumed { description, bar } => {
                write!(f, "audio is back: {description} — resuming at bar {bar}")
            }
            Notice::EngineFailed(why) => write!(
                f,
                "the engine stopped: {}",
                why.as_deref()
                    .unwrap_or("it failed inside the audio callback")
            ),
            Notice::Restarted { bar } => write!(f, "the engine restarted at bar {bar}"),
            Notice::Recording(why) => write!(f, "{why}"),
        }
    }
}

/// Build the engine for `performance` at `sample_rate`, beginning at `start_bar`, and
/// route `live_input` to it; with `record`, tap its mix for a take. Before its driver
/// starts.
fn build(
    settings: &SessionSettings,
    performance: &Performance,
    sample_rate: f32,
    start: Start,
    live_input: &Arc<LiveInput>,
) -> (Engine, EngineController, Option<HeapCons<f32>>) {
    let config = performance.engine_config(sample_rate, settings.seed, start.bar);
    let (mut engine, mut controller) = Engine::new(config, performance.arrangement().clone());
    if let Some(producer) = controller.take_input() {
        live_input.attach(producer);
    }
    let mix = start
        .record
        .then(|| engine.record_mix(take::recorder::MIX_RING_SECONDS));
    (engine, controller, mix)
}

/// Where a new engine begins, and whether its mix is recorded.
#[derive(Clone, Copy, Debug)]
struct Start {
    bar: u64,
    record: bool,
}

/// Build the engine for `performance` and start its driver, routing `live_input` to it.
fn connect(
    settings: &SessionSettings,
    performance: &Performance,
    start: Start,
    live_input: &Arc<LiveInput>,
) -> Result<Running, LiveError> {
    match &settings.host {
        AudioHost::Jack => {
            let client = jack::open_client(&settings.client_name)?;
            let rate = client.sample_rate() as f32;
            let (engine, controller, mix) = build(settings, performance, rate, start, live_input);
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
                mix,
                engine_frame: 0,
                journal_lost: 0,
            })
        }
        AudioHost::Device(options) => {
            let prepared = cpal_out::open(options)?;
            let rate = prepared.sample_rate() as f32;
            let (engine, controller, mix) = build(settings, performance, rate, start, live_input);
            let session = prepared.start(engine, Some(Arc::clone(live_input)))?;
            Ok(Running {
                driver: Driver::Device(session),
                controller,
                mix,
                engine_frame: 0,
                journal_lost: 0,
            })
        }
        AudioHost::Manual(device) => {
            let rate = device.sample_rate() as f32;
            let (engine, controller, mix) = build(settings, performance, rate, start, live_input);
            let session = device.start(engine, Some(live_input))?;
            Ok(Running {
                driver: Driver::Manual(session),
                controller,
                mix,
                engine_frame: 0,
                journal_lost: 0,
            })
        }
    }
}

/// Build the engine for `performance` and start it on the default JACK server, without
/// a session around it (benches).
pub fn start_jack(
    settings: &SessionSettings,
    performance: &Performance,
) -> Result<(JackSession, EngineController), LiveError> {
    let settings = SessionSettings {
        host: AudioHost::Jack,
        ..settings.clone()
    };
    let start = Start {
        bar: 0,
        record: false,
    };
    match connect(&settings, performance, start, &Arc::new(LiveInput::new()))? {
        Running {
            driver: Driver::Jack(jack),
            controller,
            ..
        } => Ok((jack, controller)),
        Running { driver, .. } => unreachable!("asked for JACK, got {}", driver.describe()),
    }
}

/// The setup of a take of what `performance` plays now, in a new folder under `dir`.
fn take_setup(
    dir: &std::path::Path,
    settings: &SessionSettings,
    performance: &Performance,
    session: &str,
) -> TakeSetup {
    let started = chrono::Local::now();
    let preset = performance.preset();
    let name = take::folder_name(&started, &preset.name);
    // Two takes begun within the same second get their own folders.
    let mut folder = dir.join(&name);
    let mut n = 2;
    while folder.exists() {
        folder = dir.join(format!("{name}-{n}"));
        n += 1;
    }
    TakeSetup {
        folder,
        preset: preset.name.clone(),
        key: performance.key().to_string(),
        seed: settings.seed,
        lead: performance.lead(),
        arrangement: performance.arrangement().clone(),
        started,
        session: session.to_string(),
        history: settings.history.clone(),
    }
}

/// A live session.
pub struct Session {
    settings: SessionSettings,
    performance: Performance,
    live_input: Arc<LiveInput>,
    running: Option<Running>,
    /// Commands for the engine that did not fit in its ring yet, in order.
    outbox: VecDeque<Command>,
    last_telemetry: Option<Telemetry>,
    /// Every snapshot since the last [`Session::take_telemetry`] (the newest
    /// [`TELEMETRY_HISTORY`]).
    history: VecDeque<Telemetry>,
    /// The engine's journal since the last [`Session::take_journal`] (the newest
    /// [`JOURNAL_HISTORY`]).
    journal: VecDeque<JournalEntry>,
    /// The engine's count of lead program changes last adopted.
    lead_programs: u64,
    /// Xruns of connections already lost, so the count shown covers the whole session.
    earlier_xruns: u64,
    /// The engine failed and the player was told; it stays silent until restarted.
    failed: bool,
    last_retry: Instant,
    /// The takes being recorded, if recording.
    recorder: Option<TakeRecorder>,
    /// Takes finished so far, oldest first.
    takes: Vec<FinishedTake>,
    /// What the player should be told on the next polls.
    notices: VecDeque<Notice>,
    /// Journal entries lost by engines already gone.
    earlier_journal_lost: u64,
    /// When the session began (RFC 3339): the history groups its takes by it.
    session_started: String,
    /// When the take being recorded began.
    take_started: Instant,
    /// The take in memory, for playing it back.
    tape: Tape,
    /// A playback asked for, waiting for the journal to reach the end of its bars.
    playback_waiting: Option<TapeStretch>,
}

/// What asking for a playback did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaybackNews {
    /// Bars `first` to `last` of the take (counted from 1) play back from the next bar
    /// line, once the last of them has ended.
    Starts { first: u64, last: u64 },
    /// The playback sounding (or waiting) stops at its next bar line.
    Stops,
}

impl Session {
    /// Connect for the first time; an error here is the user's to fix (no server, bad
    /// device), so it is returned rather than retried.
    pub fn start(
        settings: SessionSettings,
        performance: Performance,
    ) -> Result<Session, LiveError> {
        audio_panic::install_hook();
        crate::engine::loudness::measure_in_background(performance.unmeasured_presets());
        let live_input = Arc::new(LiveInput::new());
        let mut notices = VecDeque::new();
        let session_started = chrono::Local::now().to_rfc3339();
        // The first take's folder is made before the music starts, so a disk that cannot
        // take it is said at once; the music plays either way.
        let recorder = settings.takes_dir.as_deref().and_then(|dir| {
            match TakeRecorder::start(take_setup(dir, &settings, &performance, &session_started)) {
                Ok(recorder) => Some(recorder),
                Err(e) => {
                    notices.push_back(Notice::Recording(format!("not recording: {e}")));
                    None
                }
            }
        });
        let start = Start {
            bar: 0,
            record: recorder.is_some(),
        };
        let running = connect(&settings, &performance, start, &live_input)?;
        let mut session = Session {
            settings,
            performance,
            live_input,
            running: Some(running),
            outbox: VecDeque::new(),
            last_telemetry: None,
            history: VecDeque::with_capacity(TELEMETRY_HISTORY),
            journal: VecDeque::with_capacity(JOURNAL_HISTORY),
            lead_programs: 0,
            earlier_xruns: 0,
            failed: false,
            last_retry: Instant::now(),
            recorder,
            takes: Vec::new(),
            notices,
            earlier_journal_lost: 0,
            session_started,
            take_started: Instant::now(),
            tape: Tape::default(),
            playback_waiting: None,
        };
        session.record_new_engine();
        Ok(session)
    }

    /// Hand a new engine's mix to the recorder.
    fn record_new_engine(&mut self) {
        let (Some(recorder), Some(running)) = (&mut self.recorder, &mut self.running) else {
            return;
        };
        if let Some(mix) = running.mix.take() {
            let summary = running.driver.summary();
            recorder.segment(mix, summary.sample_rate, running.driver.describe());
        }
    }

    /// The takes finished so far in this session, oldest first.
    pub fn takes(&self) -> &[FinishedTake] {
        &self.takes
    }

    /// The practice history the takes are added to, if any.
    pub fn history(&self) -> Option<&std::path::Path> {
        self.recorder.as_ref().and(self.settings.history.as_deref())
    }

    /// When the take being recorded began, if recording.
    pub fn take_started(&self) -> Option<Instant> {
        self.recorder.as_ref().map(|_| self.take_started)
    }

    /// The folder of the take being recorded, if recording.
    pub fn recording(&self) -> Option<&std::path::Path> {
        self.recorder.as_ref().map(TakeRecorder::folder)
    }

    /// The sink for input from other threads (midir, the computer keyboard).
    pub fn live_input(&self) -> &Arc<LiveInput> {
        &self.live_input
    }

    pub fn settings(&self) -> &SessionSettings {
        &self.settings
    }

    /// What the player has chosen.
    pub fn performance(&self) -> &Performance {
        &self.performance
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

    /// Hand every journal entry (bar lines, band notes, the player's input as it took
    /// effect) since the previous call to `each`, oldest first. Frames are the engine's
    /// clock, which starts again at 0 when an engine replaces a lost one.
    pub fn take_journal(&mut self, mut each: impl FnMut(&JournalEntry)) {
        for entry in self.journal.drain(..) {
            each(&entry);
        }
    }

    /// Play the player's last phrase (or the whole take) back over the band as it played
    /// it, through the lead voice, from the next bar line once its bars have ended; the
    /// band goes on after it where it left off, and the take leaves it out. While one
    /// plays or waits, it stops instead.
    pub fn play_back(&mut self, scope: PlaybackScope) -> Result<PlaybackNews, NothingToPlay> {
        let playing = self.last_telemetry.is_some_and(|t| t.playback.is_some());
        if playing || self.playback_waiting.is_some() {
            self.playback_waiting = None;
            self.outbox.push_back(Command::StopPlayback);
            self.flush();
            return Ok(PlaybackNews::Stops);
        }
        let now = self.running.as_ref().map_or(0, |r| r.engine_frame);
        let rate = self.last_telemetry.map_or(48_000.0, |t| t.sample_rate);
        let stretch = self.tape.stretch(scope, now, rate)?;
        let bars = self.tape.bars();
        let (first, last) = stretch.bars(bars);
        self.playback_waiting = Some(stretch);
        self.send_playback_when_ready();
        Ok(PlaybackNews::Starts {
            first: first + 1,
            last: last + 1,
        })
    }

    /// Send the playback waiting once the journal holds all of its bars.
    fn send_playback_when_ready(&mut self) {
        let (Some(stretch), Some(running)) = (self.playback_waiting, &self.running) else {
            return;
        };
        if !self.tape.reached(running.engine_frame, stretch.ends_at) {
            return;
        }
        self.playback_waiting = None;
        let rate = self.last_telemetry.map_or(48_000.0, |t| t.sample_rate);
        if let Some(playback) = self.tape.playback(stretch, rate) {
            self.outbox.push_back(Command::PlayBack(Box::new(playback)));
            self.flush();
        }
    }

    /// Xruns over the whole session.
    pub fn xruns(&self) -> u64 {
        self.earlier_xruns + self.driver().map_or(0, |d| d.status().xruns())
    }

    /// Whether the engine failed and waits for [`Session::restart`].
    pub fn has_failed(&self) -> bool {
        self.failed
    }

    /// Change what the player has chosen, and tell the engine. A command that does not
    /// fit in the engine's ring now is sent on a later [`Session::poll`]; while the
    /// audio is away the change waits in the performance for the next engine.
    pub fn apply(&mut self, intent: Intent) -> Result<(), PerformanceError> {
        let before = (
            self.performance.preset().name.clone(),
            self.performance.key(),
        );
        let outbox = &mut self.outbox;
        self.performance
            .apply(intent, |command| outbox.push_back(command))?;
        let after = (
            self.performance.preset().name.clone(),
            self.performance.key(),
        );
        if before != after
            && let Some(recorder) = &mut self.recorder
        {
            // Each take is one preset in one key: the analysis and the files need one form.
            let setup = take_setup(
                recorder
                    .folder()
                    .parent()
                    .unwrap_or(std::path::Path::new(".")),
                &self.settings,
                &self.performance,
                &self.session_started,
            );
            self.take_started = Instant::now();
            if let Err(e) = recorder.next_take(setup) {
                self.notices.push_back(Notice::Recording(format!(
                    "recording goes on in the take before: {e}"
                )));
            }
        }
        if self.running.is_none() {
            self.outbox.clear();
        }
        self.flush();
        Ok(())
    }

    /// Send what waits in the outbox, in order, until the ring is full.
    fn flush(&mut self) {
        let Some(running) = &mut self.running else {
            return;
        };
        while let Some(command) = self.outbox.pop_front() {
            if let Err(command) = running.controller.send(command) {
                self.outbox.push_front(command);
                break;
            }
        }
    }

    /// Keep the session going; call a few dozen times a second. Returns what the player
    /// should be told.
    pub fn poll(&mut self) -> Option<Notice> {
        let Some(running) = &mut self.running else {
            return self.retry();
        };
        running.controller.collect_garbage();
        let (history, last) = (&mut self.history, &mut self.last_telemetry);
        let (performance, lead_programs) = (&mut self.performance, &mut self.lead_programs);
        running.controller.drain_telemetry(|t| {
            if history.len() == TELEMETRY_HISTORY {
                history.pop_front();
            }
            history.push_back(t);
            *last = Some(t);
            performance.heard(&t);
            // The player chose a lead voice from the keyboard: the session keeps it.
            if t.lead_programs != *lead_programs {
                *lead_programs = t.lead_programs;
                performance.lead_chosen_by_program(t.lead);
            }
        });
        if let Some(t) = &self.last_telemetry {
            running.engine_frame = running.engine_frame.max(t.frame);
            running.journal_lost = running.journal_lost.max(t.journal_lost);
        }
        let xruns = self.earlier_xruns + running.driver.status().xruns();
        Self::drain_journal(
            &mut running.controller,
            running.engine_frame,
            xruns,
            &mut self.journal,
            &mut self.recorder,
            &mut self.tape,
        );
        if let Some(recorder) = &self.recorder {
            while let Some(problem) = recorder.problem() {
                self.notices.push_back(Notice::Recording(problem));
            }
            while let Some(done) = recorder.finished() {
                self.takes.push(done);
            }
        }
        let status = Arc::clone(running.driver.status());
        if status.is_lost() {
            let what = running.driver.what();
            self.disconnect();
            self.last_retry = Instant::now();
            return Some(Notice::Lost(what));
        }
        // Said once: silence speaks for itself afterwards.
        if status.has_panicked() && !self.failed {
            self.failed = true;
            return Some(Notice::EngineFailed(audio_panic::take_message()));
        }
        self.send_playback_when_ready();
        self.flush();
        self.notices.pop_front()
    }

    /// The engine's journal to the console's history and the recorder, which may write
    /// the mix up to the newest telemetry's frame (the journal is complete to there).
    fn drain_journal(
        controller: &mut EngineController,
        complete_to: u64,
        xruns: u64,
        journal: &mut VecDeque<JournalEntry>,
        recorder: &mut Option<TakeRecorder>,
        tape: &mut Tape,
    ) {
        controller.drain_journal(|entry| {
            if journal.len() == JOURNAL_HISTORY {
                journal.pop_front();
            }
            journal.push_back(entry);
            tape.record(&entry);
            if let Some(recorder) = recorder {
                recorder.journal(entry);
            }
        });
        if let Some(recorder) = recorder {
            recorder.send_journal(complete_to, xruns);
        }
    }

    /// Build the engine again after it failed, at the next bar, with everything the
    /// player had chosen. Nothing (and `None`) if it has not failed or no driver can be
    /// started now (a lost device keeps being looked for by [`Session::poll`]).
    pub fn restart(&mut self) -> Option<Notice> {
        if !self.failed {
            return None;
        }
        self.disconnect();
        let bar = self.resume_bar();
        let start = Start {
            bar,
            record: self.recorder.is_some(),
        };
        let running = connect(&self.settings, &self.performance, start, &self.live_input).ok();
        self.last_retry = Instant::now();
        self.running = running;
        self.failed = false;
        self.lead_programs = 0;
        self.record_new_engine();
        self.running
            .as_ref()
            .map(|_| Notice::Restarted { bar: bar + 1 })
    }

    /// Stop the driver, then detach its input: in that order, so the old callback is
    /// gone before the clock pairing it wrote is reset (one writer at a time).
    fn disconnect(&mut self) {
        if let Some(gone) = self.running.take() {
            self.earlier_xruns += gone.driver.status().xruns();
            let Running {
                driver,
                mut controller,
                mut journal_lost,
                ..
            } = gone;
            driver.stop();
            // Stopped: what it journaled is all there is, and all its mix is in the ring.
            Self::drain_journal(
                &mut controller,
                u64::MAX,
                self.earlier_xruns,
                &mut self.journal,
                &mut self.recorder,
                &mut self.tape,
            );
            // The next engine's clock starts again: what is on tape cannot be placed
            // on it.
            self.tape.clear();
            self.playback_waiting = None;
            controller.drain_telemetry(|t| journal_lost = journal_lost.max(t.journal_lost));
            self.earlier_journal_lost += journal_lost;
        }
        self.live_input.detach();
        self.outbox.clear();
    }

    /// The bar after the last one heard, where a rebuilt engine carries on.
    fn resume_bar(&self) -> u64 {
        self.last_telemetry.map_or(0, |t| t.position.bar + 1)
    }

    fn retry(&mut self) -> Option<Notice> {
        if self.last_retry.elapsed() < RETRY_INTERVAL {
            return None;
        }
        self.last_retry = Instant::now();
        // Resume at the next bar of the form, as the player left it.
        let bar = self.resume_bar();
        let start = Start {
            bar,
            record: self.recorder.is_some(),
        };
        let running = connect(&self.settings, &self.performance, start, &self.live_input).ok()?;
        let description = running.driver.describe();
        self.failed = false;
        self.lead_programs = 0;
        self.running = Some(running);
        self.record_new_engine();
        Some(Notice::Resumed {
            description,
            bar: bar + 1,
        })
    }

    /// Stop the driver, then finish the take being recorded (its files written). Returns
    /// every take of the session, oldest first.
    pub fn stop(mut self) -> Vec<FinishedTake> {
        self.disconnect();
        if let Some(recorder) = self.recorder.take() {
            self.takes
                .extend(recorder.finish(self.earlier_journal_lost));
        }
        std::mem::take(&mut self.takes)
    }
}

/// One status line for the headless mode.
pub fn status_line(session: &Session, telemetry: &Telemetry, midi: &str) -> String {
    let arrangement = session.performance.arrangement();
    let slot = arrangement.slots[telemetry.position.slot.min(arrangement.slots.len() - 1)]
        .transposed(arrangement.key, telemetry.position.key_shift);
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
        // What the backend granted and reports (the buffer its callbacks get, the latency
        // its timestamps give) is known once it has called back a few times.
        driver.wait_for_callbacks(FIRST_CALLBACKS, Duration::from_secs(1));
        crate::say!(
            "{} — playing {}",
            driver.describe(),
            session.performance.arrangement().title
        );
    }
    let mut last_status = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(20));
        if let Some(notice) = session.poll() {
            crate::say!("{notice}");
            // Nobody is at a keyboard to ask for it: build the engine again at once.
            if matches!(notice, Notice::EngineFailed(_))
                && let Some(restarted) = session.restart()
            {
                crate::say!("{restarted}");
            }
        }
        if session.driver().is_some() && last_status.elapsed() >= Duration::from_secs(1) {
            last_status = Instant::now();
            if let Some(t) = session.telemetry() {
                crate::say!("{}", status_line(session, t, &midi_summary()));
            }
        }
    }
}
