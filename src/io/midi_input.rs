//! MIDI keyboards through the operating system's MIDI service (midir: the ALSA sequencer
//! on Linux, CoreMIDI on macOS, WinMM on Windows), hot-plugged.
//!
//! [`MidiInputs`] owns one background thread, the *port watcher*, which lists the input
//! ports about once a second ([`POLL_INTERVAL`]) and connects or disconnects so that the
//! connections match the [`PortSelection`]: by default every hardware input port, or the
//! one port `--midi` named, each followed by name as it comes and goes. Every connection
//! has its own [`MidiParser`](crate::io::midi::MidiParser) (a message may straddle
//! callbacks, and running status is
//! per stream) and remembers the keys and pedal it holds, so that when its port vanishes
//! the watcher releases them and nothing sticks.
//!
//! Threads: midir calls each connection's callback on a thread of its own. The callback
//! parses, maps the timestamp to an [`Instant`] and hands events to [`LiveInput`]; it
//! takes no lock but the live input's producer mutex, allocates nothing and prints
//! nothing. The watcher thread does everything slow (listing, connecting, closing).
//! The UI reads a [`MidiStatus`] snapshot; the audio thread never touches any of this.
//!
//! A machine without a MIDI service (no ALSA sequencer: no `/dev/snd/seq`) is not an
//! error: [`MidiInputs::start`] succeeds, the status says why MIDI is unavailable, the
//! watcher keeps trying, and the computer keyboard still plays.
//!
//! The hot-plug logic (which ports to connect, what a vanished port releases, how a
//! `--midi` name is matched) runs against the small [`PortBackend`] trait, so it is
//! tested with a fake backend and runs on midir in the instrument.
//!
//! The parts: this file is the public face (the session's [`MidiInputs`], its status
//! and errors); `port_names` says which ports are which and resolves `--midi`;
//! `stamp_clock` maps a port's timestamps to instants; `receiver` is one connection's
//! state in its callback; `watcher` is the hot-plug logic; `backend` is the trait and
//! midir behind it (and `fake`, in tests, a MIDI service to plug ports into).
//!
//! Known platform limits: a port unplugged and replugged within one poll, under the same
//! ALSA address, is not noticed (midir reports no disconnection; USB enumeration alone
//! takes about that long). CoreMIDI may not refresh the port list of a process that does
//! not run a CoreFoundation run loop (midir issue #78), so hot-plug on macOS may need a
//! restart.

mod backend;
#[cfg(test)]
mod fake;
mod port_names;
mod receiver;
mod stamp_clock;
mod watcher;

pub use port_names::stable_port_name;

use crate::io::live_input::{LiveInput, MidiTiming};
use backend::{MidirBackend, PortBackend};
use port_names::is_own_port;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use watcher::PortWatcher;

/// How often the watcher lists the ports. Hot-plug is noticed within this time, and
/// stopping waits at most this long for nothing (the stop signal interrupts the wait).
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The client name of our ports in the OS MIDI service: the virtual port is
/// `ascenseur:in` on Linux.
pub const CLIENT_NAME: &str = "ascenseur";

/// What other applications see of the virtual input port.
pub const VIRTUAL_PORT_NAME: &str = "ascenseur:in";

/// Vanished ports kept in [`MidiStatus::gone`], most recent last.
pub const GONE_PORTS_KEPT: usize = 8;

/// The client name of our helper clients (one per connection on ALSA, where midir opens
/// a client per connection, and one for listing).
const HELPER_CLIENT_NAME: &str = "ascenseur-input";

/// Which input ports to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSelection {
    /// Every hardware input port, as they come and go (not our own ports, not ALSA's
    /// "Midi Through", not other programs' ports: those connect to our virtual port).
    AllHardware,
    /// One port, given as its exact name, its index in [`list_input_ports`], or a unique
    /// case-insensitive part of its name; followed by name when it comes back.
    Named(String),
}

impl std::fmt::Display for PortSelection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortSelection::AllHardware => f.write_str("all hardware MIDI inputs"),
            PortSelection::Named(name) => write!(f, "MIDI input '{name}'"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MidiInputError {
    #[error("no MIDI input port matches '{name}'; {}", port_list(available))]
    PortNotFound {
        name: String,
        available: Vec<String>,
    },
    #[error(
        "'{name}' matches several MIDI input ports; give the full name or the index. {}",
        port_list(matches)
    )]
    AmbiguousPort { name: String, matches: Vec<String> },
    #[error("MIDI input is unavailable: {0}")]
    Unavailable(String),
    #[error("could not start the MIDI port watcher thread")]
    Thread(#[source] std::io::Error),
}

fn port_list(ports: &[String]) -> String {
    if ports.is_empty() {
        return "there are no MIDI input ports".into();
    }
    let mut text = String::from("the MIDI input ports are:");
    for (index, name) in ports.iter().enumerate() {
        text.push_str(&format!("\n  {index}: {name}"));
    }
    text
}

/// What the console and the headless status line show about MIDI input. A snapshot:
/// read it with [`MidiInputs::status`] as often as the display refreshes.
#[derive(Clone, Debug, PartialEq)]
pub struct MidiStatus {
    pub selection: PortSelection,
    /// Ports connected now, in the order they were connected.
    pub connected: Vec<String>,
    /// The virtual port other programs can connect to, once it exists.
    pub virtual_port: Option<String>,
    /// Ports that went away and have not come back, most recent last.
    pub gone: Vec<GonePort>,
    /// Why there is no MIDI input at all (no MIDI service on this machine), if so.
    pub unavailable: Option<String>,
    /// The latest thing that went wrong (a port that would not connect, a virtual port
    /// that could not be created, an ambiguous `--midi` name).
    pub last_error: Option<String>,
    /// The named port being waited for while it is absent.
    pub waiting_for: Option<String>,
    /// MIDI events received from every port since the start.
    pub events: u64,
}

/// A port that was connected and vanished.
#[derive(Clone, Debug, PartialEq)]
pub struct GonePort {
    pub name: String,
    pub at: Instant,
}

impl MidiStatus {
    fn new(selection: PortSelection) -> MidiStatus {
        MidiStatus {
            selection,
            connected: Vec::new(),
            virtual_port: None,
            gone: Vec::new(),
            unavailable: None,
            last_error: None,
            waiting_for: None,
            events: 0,
        }
    }
}

/// The MIDI input of a session: a port watcher thread and its connections. Dropping it
/// (or [`MidiInputs::stop`]) closes every connection, releases what they held and joins
/// the thread within a poll's work (the wait between polls is interrupted).
pub struct MidiInputs {
    status: Arc<Mutex<MidiStatus>>,
    events: Arc<AtomicU64>,
    stop: Option<mpsc::Sender<()>>,
    watcher: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MidiInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MidiInputs")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl MidiInputs {
    /// Start MIDI input through the OS MIDI service. Fails only when `selection` names a
    /// port that is not there (or several); a missing MIDI service starts degraded (see
    /// [`MidiStatus::unavailable`]). `virtual_port` creates [`VIRTUAL_PORT_NAME`] where
    /// the platform has virtual ports (not Windows). Call from setup code (it waits for
    /// the first listing of the ports).
    pub fn start(
        selection: PortSelection,
        live: Arc<LiveInput>,
        timing: MidiTiming,
        virtual_port: bool,
    ) -> Result<MidiInputs, MidiInputError> {
        Self::start_with(MidirBackend::new, selection, live, timing, virtual_port)
    }

    /// [`MidiInputs::start`] on any backend, created on the watcher thread (midir's
    /// handles need not be `Send`).
    fn start_with<B, F>(
        make_backend: F,
        selection: PortSelection,
        live: Arc<LiveInput>,
        timing: MidiTiming,
        virtual_port: bool,
    ) -> Result<MidiInputs, MidiInputError>
    where
        B: PortBackend,
        F: FnOnce() -> B + Send + 'static,
    {
        let status = Arc::new(Mutex::new(MidiStatus::new(selection.clone())));
        let events = Arc::new(AtomicU64::new(0));
        let (stop, stop_signal) = mpsc::channel::<()>();
        let (ready, first_poll) = mpsc::sync_channel(1);
        let watcher = {
            let status = Arc::clone(&status);
            let events = Arc::clone(&events);
            std::thread::Builder::new()
                .name("midi-ports".into())
                .spawn(move || {
                    let mut watcher = PortWatcher::new(
                        make_backend(),
                        selection,
                        live,
                        timing,
                        virtual_port,
                        status,
                        events,
                    );
                    let started = watcher.start(Instant::now());
                    let failed = started.is_err();
                    // The starter may have given up waiting; nothing else to tell then.
                    let _ = ready.send(started);
                    if failed {
                        return;
                    }
                    // A message or a dropped sender both mean stop.
                    while let Err(RecvTimeoutError::Timeout) =
                        stop_signal.recv_timeout(POLL_INTERVAL)
                    {
                        watcher.poll(Instant::now());
                    }
                    watcher.shutdown();
                })
                .map_err(MidiInputError::Thread)?
        };
        let started = first_poll.recv().unwrap_or_else(|_| {
            Err(MidiInputError::Unavailable(
                "the MIDI port watcher stopped while starting".into(),
            ))
        });
        let inputs = MidiInputs {
            status,
            events,
            stop: Some(stop),
            watcher: Some(watcher),
        };
        started.map(|()| inputs)
    }

    /// A snapshot of the connections, for display. Any thread but the audio thread.
    pub fn status(&self) -> MidiStatus {
        let mut status = lock(&self.status).clone();
        status.events = self.events.load(Ordering::Relaxed);
        status
    }

    /// MIDI events received so far (cheaper than [`MidiInputs::status`]).
    pub fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    /// Close every connection, release what they held and join the watcher.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        drop(self.stop.take());
        if let Some(watcher) = self.watcher.take() {
            // A panic on the watcher thread has been reported by the panic hook already.
            let _ = watcher.join();
        }
    }
}

impl Drop for MidiInputs {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The input ports of the OS MIDI service, as `--midi` understands them (index, name),
/// without our own ports. For `ascenseur devices`.
pub fn list_input_ports() -> Result<Vec<String>, MidiInputError> {
    let mut backend = MidirBackend::new();
    let ports = backend.ports().map_err(MidiInputError::Unavailable)?;
    Ok(ports
        .into_iter()
        .filter(|name| !is_own_port(name))
        .collect())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Status is plain data: a panic elsewhere mid-update leaves nothing dangerous.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake::{FakeBackend, KEYSTEP, NANOKEY, Rig};

    #[test]
    fn start_and_stop_run_the_watcher_thread_promptly() {
        let rig = Rig::new();
        let backend = FakeBackend::with_ports(&[KEYSTEP]);
        let inputs = MidiInputs::start_with(
            {
                let backend = backend.clone();
                move || backend
            },
            PortSelection::AllHardware,
            Arc::clone(&rig.live),
            MidiTiming::Immediate,
            false,
        )
        .unwrap();
        assert_eq!(inputs.status().connected, [KEYSTEP]);
        assert_eq!(inputs.status().virtual_port, None, "not asked for");
        backend.send(KEYSTEP, 0, &[0x90, 60, 1, 0x80, 60, 0], Instant::now());
        assert_eq!(inputs.events(), 2);
        assert_eq!(inputs.status().events, 2);

        // Hot-plug through the thread (seen at its next poll; the deadline only keeps a
        // broken watcher from hanging the test).
        backend.plug(NANOKEY);
        let deadline = Instant::now() + 10 * POLL_INTERVAL;
        while inputs.status().connected.len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(inputs.status().connected, [KEYSTEP, NANOKEY]);

        // Stopping wakes the watcher instead of waiting out its poll: reported, and bounded
        // only against a hang.
        let stopping = Instant::now();
        inputs.stop();
        eprintln!("MIDI inputs stopped in {:?}", stopping.elapsed());
        assert!(stopping.elapsed() < 10 * POLL_INTERVAL);
        assert!(backend.state().open.is_empty(), "connections closed");

        // A named port that is not there: start fails, quoting it.
        let error = MidiInputs::start_with(
            move || backend,
            PortSelection::Named("Oxygen".into()),
            Arc::clone(&rig.live),
            MidiTiming::Immediate,
            true,
        )
        .unwrap_err();
        assert!(error.to_string().contains("'Oxygen'"), "{error}");
    }
}
