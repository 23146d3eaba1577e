//! MIDI keyboards through the operating system's MIDI service (midir: the ALSA sequencer
//! on Linux, CoreMIDI on macOS, WinMM on Windows), hot-plugged.
//!
//! [`MidiInputs`] owns one background thread, the *port watcher*, which lists the input
//! ports about once a second ([`POLL_INTERVAL`]) and connects or disconnects so that the
//! connections match the [`PortSelection`]: by default every hardware input port, or the
//! one port `--midi` named, each followed by name as it comes and goes. Every connection
//! has its own [`MidiParser`] (a message may straddle callbacks, and running status is
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
//! tested with a fake backend here and runs on midir in the instrument.
//!
//! Known platform limits: a port unplugged and replugged within one poll, under the same
//! ALSA address, is not noticed (midir reports no disconnection; USB enumeration alone
//! takes about that long). CoreMIDI may not refresh the port list of a process that does
//! not run a CoreFoundation run loop (midir issue #78), so hot-plug on macOS may need a
//! restart.

use crate::engine::InputEvent;
use crate::io::live_input::{LiveInput, MidiTiming};
use crate::io::midi::MidiParser;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

/// The ALSA client that echoes its input: never a keyboard, and connecting it would only
/// double whatever some other program sends through it.
const MIDI_THROUGH: &str = "midi through";

/// ALSA numbers kernel clients (sound cards: hardware) below 128 and user-space
/// programs from 128 up.
const ALSA_FIRST_USER_CLIENT: u32 = 128;

/// By how much the offset between a port's timestamp clock and [`Instant`] may rise per
/// unit of elapsed stamp time (200 ppm): lets the estimate follow a stamp clock that runs
/// slow, which a minimum alone never would. Crystal clocks differ by well under this.
const STAMP_DRIFT_ALLOWANCE: f64 = 200e-6;

/// A message that arrives this much later than its stamp predicts means the stamp clock
/// was restarted or jumped, not that the callback was that late: start estimating afresh.
const STAMP_RESYNC: Duration = Duration::from_secs(1);

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

// ---------------------------------------------------------------------------------------
// Port names

/// A port name without the ALSA address midir appends (`"KeyStep:KeyStep MIDI 1 24:0"`
/// → `"KeyStep:KeyStep MIDI 1"`): ALSA may give a replugged device another client
/// number, so ports are followed by this name.
pub fn stable_port_name(name: &str) -> &str {
    match alsa_address(name) {
        Some((_, _, without)) => without,
        None => name,
    }
}

/// The trailing `" client:port"` of an ALSA port name, and the name without it.
fn alsa_address(name: &str) -> Option<(u32, u32, &str)> {
    let (rest, address) = name.rsplit_once(' ')?;
    let (client, port) = address.split_once(':')?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(client) || !all_digits(port) {
        return None;
    }
    Some((client.parse().ok()?, port.parse().ok()?, rest))
}

/// Our own ports (the virtual port, and the ports midir opens per connection).
fn is_own_port(name: &str) -> bool {
    let client = stable_port_name(name)
        .split_once(':')
        .map_or(name, |(client, _)| client);
    client == CLIENT_NAME || client == HELPER_CLIENT_NAME
}

/// Whether [`PortSelection::AllHardware`] connects this port: not ours, not Midi
/// Through, and, where the name carries an ALSA address, a kernel (sound card) client
/// rather than another program.
fn is_hardware_port(name: &str) -> bool {
    if is_own_port(name) || name.to_lowercase().starts_with(MIDI_THROUGH) {
        return false;
    }
    match alsa_address(name) {
        Some((client, _, _)) => client < ALSA_FIRST_USER_CLIENT,
        None => true,
    }
}

/// Make names unique by numbering repeats (two identical keyboards on CoreMIDI or
/// WinMM), so a name identifies one port in one listing.
fn unique_names(names: Vec<String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let mut candidate = name.clone();
        let mut n = 1;
        while unique.contains(&candidate) {
            n += 1;
            candidate = format!("{name} ({n})");
        }
        unique.push(candidate);
    }
    unique
}

/// The stable name `--midi text` follows, resolved against a listing (own ports already
/// removed): the exact name, an exact stable name, an index into the list, or a unique
/// case-insensitive part of a name.
fn resolve_port(text: &str, ports: &[String]) -> Result<String, MidiInputError> {
    if let Some(port) = ports
        .iter()
        .find(|p| p.as_str() == text || stable_port_name(p) == text)
    {
        return Ok(stable_port_name(port).to_string());
    }
    if let Ok(index) = text.trim().parse::<usize>()
        && let Some(port) = ports.get(index)
    {
        return Ok(stable_port_name(port).to_string());
    }
    let needle = text.to_lowercase();
    // Two identical keyboards share a stable name: that is one match, both followed.
    let mut matches: Vec<&String> = Vec::new();
    for port in ports {
        if !needle.is_empty()
            && port.to_lowercase().contains(&needle)
            && !matches
                .iter()
                .any(|m| stable_port_name(m) == stable_port_name(port))
        {
            matches.push(port);
        }
    }
    match matches.as_slice() {
        [one] => Ok(stable_port_name(one).to_string()),
        [] => Err(MidiInputError::PortNotFound {
            name: text.to_string(),
            available: ports.to_vec(),
        }),
        several => Err(MidiInputError::AmbiguousPort {
            name: text.to_string(),
            matches: several.iter().map(|p| p.to_string()).collect(),
        }),
    }
}

// ---------------------------------------------------------------------------------------
// One connection's state, living in its callback

/// Maps a port's microsecond timestamps (arbitrary origin, one per connection) to
/// [`Instant`]s. The offset `arrival − stamp` is the stamp's instant plus however late
/// the callback ran, so its minimum over messages is the best estimate: a late first
/// message is corrected by the next prompt one. Mapped instants never run backwards and
/// never lie after the arrival.
#[derive(Clone, Copy, Debug)]
struct StampClock {
    epoch: Instant,
    /// Nanoseconds to add to a stamp to get nanoseconds since `epoch`.
    offset: Option<i128>,
    last_stamp_us: u64,
}

impl StampClock {
    fn new(epoch: Instant) -> StampClock {
        StampClock {
            epoch,
            offset: None,
            last_stamp_us: 0,
        }
    }

    fn instant(&mut self, stamp_us: u64, arrival: Instant) -> Instant {
        let arrival_ns = arrival.saturating_duration_since(self.epoch).as_nanos() as i128;
        let stamp_ns = i128::from(stamp_us) * 1000;
        let observed = arrival_ns - stamp_ns;
        let offset = match self.offset {
            Some(previous)
                if stamp_us >= self.last_stamp_us
                    && observed - previous <= STAMP_RESYNC.as_nanos() as i128 =>
            {
                let elapsed_ns = (stamp_us - self.last_stamp_us) as f64 * 1000.0;
                let allowance = (elapsed_ns * STAMP_DRIFT_ALLOWANCE) as i128;
                observed.min(previous + allowance)
            }
            // The first message, a stamp clock that went backwards or jumped.
            _ => observed,
        };
        self.offset = Some(offset);
        self.last_stamp_us = stamp_us;
        let nanos = (stamp_ns + offset).max(0);
        self.epoch + Duration::from_nanos(nanos as u64)
    }
}

/// What one port holds down: keys, pedal, a bent pitch, a raised mod wheel; so a port
/// that vanishes can let go of exactly that.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct HeldByPort {
    keys: [u64; 2],
    sustain: bool,
    bent: bool,
    modulated: bool,
}

impl HeldByPort {
    fn note(&mut self, event: InputEvent) {
        match event {
            InputEvent::NoteOn { key, .. } => {
                self.keys[usize::from(key / 64) & 1] |= 1 << (key % 64);
            }
            InputEvent::NoteOff { key } => {
                self.keys[usize::from(key / 64) & 1] &= !(1 << (key % 64));
            }
            InputEvent::Sustain(down) => self.sustain = down,
            InputEvent::PitchBend(semitones) => self.bent = semitones != 0.0,
            InputEvent::Modulation(amount) => self.modulated = amount != 0.0,
            InputEvent::AllNotesOff | InputEvent::AllSoundOff => self.keys = [0; 2],
            InputEvent::Program(_) => {}
        }
    }

    /// The events that undo what is held, and forget it.
    fn release(&mut self, mut send: impl FnMut(InputEvent)) {
        for key in 0..128u8 {
            if self.keys[usize::from(key / 64)] >> (key % 64) & 1 == 1 {
                send(InputEvent::NoteOff { key });
            }
        }
        if self.sustain {
            send(InputEvent::Sustain(false));
        }
        if self.bent {
            send(InputEvent::PitchBend(0.0));
        }
        if self.modulated {
            send(InputEvent::Modulation(0.0));
        }
        *self = HeldByPort::default();
    }
}

/// Everything one connection's callback needs: handed to the backend on connecting,
/// handed back on closing (so what it held can be released after the last callback).
struct PortReceiver {
    parser: MidiParser,
    held: HeldByPort,
    stamps: StampClock,
    live: Arc<LiveInput>,
    timing: MidiTiming,
    events: Arc<AtomicU64>,
}

impl PortReceiver {
    fn new(live: Arc<LiveInput>, timing: MidiTiming, events: Arc<AtomicU64>) -> PortReceiver {
        PortReceiver {
            parser: MidiParser::new(),
            held: HeldByPort::default(),
            stamps: StampClock::new(Instant::now()),
            live,
            timing,
            events,
        }
    }

    /// Bytes from the port, stamped by the backend and arrived at `arrival`. The MIDI
    /// callback thread: no allocation, no lock but the live input's producer.
    fn receive(&mut self, stamp_us: u64, bytes: &[u8], arrival: Instant) {
        let at = self.stamps.instant(stamp_us, arrival);
        let PortReceiver {
            parser,
            held,
            live,
            timing,
            events,
            ..
        } = self;
        parser.feed(bytes, |event| {
            held.note(event);
            events.fetch_add(1, Ordering::Relaxed);
            live.send_at(event, at, *timing);
        });
    }

    /// Let go of everything this port holds, now (its port is gone or being closed).
    fn release(&mut self) {
        let live = &self.live;
        self.held.release(|event| {
            live.send_now(event);
        });
        self.parser.reset();
    }
}

// ---------------------------------------------------------------------------------------
// Backends

/// The OS MIDI service as the port watcher needs it. Called from the watcher thread only.
trait PortBackend {
    /// An open connection; closing it (or dropping it) ends its callbacks.
    type Connection;

    /// The input ports now, by names unique within the listing. `Err` says why the MIDI
    /// service is unavailable.
    fn ports(&mut self) -> Result<Vec<String>, String>;

    /// Connect to the port so named in the latest listing; the backend calls
    /// [`PortReceiver::receive`] for every message.
    fn connect(&mut self, port: &str, receiver: PortReceiver) -> Result<Self::Connection, String>;

    /// Open a virtual input port that other programs connect to; `Err` where the
    /// platform has none.
    fn create_virtual(&mut self, receiver: PortReceiver) -> Result<Self::Connection, String>;

    /// Close a connection; no callback runs after this returns. Gives the receiver back.
    fn close(&mut self, connection: Self::Connection) -> PortReceiver;
}

/// What the watcher follows.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    AllHardware,
    /// `--midi text`, followed by the stable name it resolved to (once it has).
    Named {
        text: String,
        stable: Option<String>,
    },
}

enum VirtualPort<C> {
    NotWanted,
    /// Wanted, not yet created (the MIDI service has not been reachable yet).
    Pending,
    Open(C),
    Failed,
}

/// The hot-plug logic: keeps the connections in line with the selection and the ports
/// that exist. Owned by the watcher thread (tests drive it by hand).
struct PortWatcher<B: PortBackend> {
    backend: B,
    target: Target,
    live: Arc<LiveInput>,
    timing: MidiTiming,
    events: Arc<AtomicU64>,
    /// Open connections by port name (as listed), in the order they were made.
    connections: Vec<(String, B::Connection)>,
    virtual_port: VirtualPort<B::Connection>,
    status: Arc<Mutex<MidiStatus>>,
}

impl<B: PortBackend> PortWatcher<B> {
    fn new(
        backend: B,
        selection: PortSelection,
        live: Arc<LiveInput>,
        timing: MidiTiming,
        virtual_port: bool,
        status: Arc<Mutex<MidiStatus>>,
        events: Arc<AtomicU64>,
    ) -> PortWatcher<B> {
        let target = match selection {
            PortSelection::AllHardware => Target::AllHardware,
            PortSelection::Named(text) => Target::Named { text, stable: None },
        };
        PortWatcher {
            backend,
            target,
            live,
            timing,
            events,
            connections: Vec::new(),
            virtual_port: if virtual_port {
                VirtualPort::Pending
            } else {
                VirtualPort::NotWanted
            },
            status,
        }
    }

    /// The first poll. A named port must be there now, unless the MIDI service is not
    /// (then it is waited for like a port that went away).
    fn start(&mut self, now: Instant) -> Result<(), MidiInputError> {
        // The virtual port first: on ALSA its client then has the lowest number of ours,
        // which is the one `aconnect … ascenseur` finds.
        self.open_virtual_port();
        if let Target::Named { text, stable } = &mut self.target
            && let Ok(ports) = self.backend.ports()
        {
            let ports: Vec<String> = ports.into_iter().filter(|p| !is_own_port(p)).collect();
            *stable = Some(resolve_port(text, &ports)?);
        }
        self.poll(now);
        Ok(())
    }

    /// List the ports and connect or disconnect to match the selection.
    fn poll(&mut self, now: Instant) {
        let ports = match self.backend.ports() {
            Ok(ports) => ports,
            Err(reason) => {
                lock(&self.status).unavailable = Some(reason);
                return;
            }
        };
        lock(&self.status).unavailable = None;
        self.open_virtual_port();

        // Ports that went away: close, let go of what they held.
        let mut index = 0;
        while index < self.connections.len() {
            if ports.contains(&self.connections[index].0) {
                index += 1;
                continue;
            }
            let (name, connection) = self.connections.remove(index);
            self.backend.close(connection).release();
            let mut status = lock(&self.status);
            status.gone.retain(|g| g.name != name);
            status.gone.push(GonePort { name, at: now });
            let excess = status.gone.len().saturating_sub(GONE_PORTS_KEPT);
            status.gone.drain(..excess);
        }

        // Ports wanted and not connected: connect.
        let wanted = self.wanted(&ports);
        for name in wanted {
            if self.connections.iter().any(|(open, _)| *open == name) {
                continue;
            }
            let receiver = PortReceiver::new(
                Arc::clone(&self.live),
                self.timing,
                Arc::clone(&self.events),
            );
            match self.backend.connect(&name, receiver) {
                Ok(connection) => {
                    let mut status = lock(&self.status);
                    let stable = stable_port_name(&name);
                    status.gone.retain(|g| stable_port_name(&g.name) != stable);
                    // A refusal this port gave earlier is over.
                    let quoted = format!("'{name}'");
                    if status
                        .last_error
                        .as_deref()
                        .is_some_and(|e| e.contains(&quoted))
                    {
                        status.last_error = None;
                    }
                    self.connections.push((name, connection));
                }
                // Tried again at the next poll (a port busy in another program may free).
                Err(error) => {
                    lock(&self.status).last_error =
                        Some(format!("could not connect MIDI input '{name}': {error}"));
                }
            }
        }

        let mut status = lock(&self.status);
        status.connected = self.connections.iter().map(|(n, _)| n.clone()).collect();
        status.waiting_for = match &self.target {
            Target::Named { text, stable } if self.connections.is_empty() => {
                Some(stable.clone().unwrap_or_else(|| text.clone()))
            }
            _ => None,
        };
    }

    /// The listed ports the selection wants connected.
    fn wanted(&mut self, ports: &[String]) -> Vec<String> {
        match &mut self.target {
            Target::AllHardware => ports
                .iter()
                .filter(|p| is_hardware_port(p))
                .cloned()
                .collect(),
            Target::Named { text, stable } => {
                if stable.is_none() {
                    // Named while the MIDI service was unavailable: resolve now.
                    let listed: Vec<String> =
                        ports.iter().filter(|p| !is_own_port(p)).cloned().collect();
                    match resolve_port(text, &listed) {
                        Ok(found) => *stable = Some(found),
                        Err(MidiInputError::PortNotFound { .. }) => {}
                        Err(error) => lock(&self.status).last_error = Some(error.to_string()),
                    }
                }
                match stable {
                    Some(stable) => ports
                        .iter()
                        .filter(|p| stable_port_name(p) == stable.as_str())
                        .cloned()
                        .collect(),
                    None => Vec::new(),
                }
            }
        }
    }

    fn open_virtual_port(&mut self) {
        if !matches!(self.virtual_port, VirtualPort::Pending) {
            return;
        }
        let receiver = PortReceiver::new(
            Arc::clone(&self.live),
            self.timing,
            Arc::clone(&self.events),
        );
        match self.backend.create_virtual(receiver) {
            Ok(connection) => {
                self.virtual_port = VirtualPort::Open(connection);
                lock(&self.status).virtual_port = Some(VIRTUAL_PORT_NAME.into());
            }
            Err(error) => {
                // Unavailable MIDI service: try again once it is there. Anything else
                // (no virtual ports on this platform, no permission) is final.
                if self.backend.ports().is_ok() {
                    self.virtual_port = VirtualPort::Failed;
                    lock(&self.status).last_error = Some(format!(
                        "could not create the virtual MIDI input '{VIRTUAL_PORT_NAME}': {error}"
                    ));
                }
            }
        }
    }

    /// Close everything and let go of what was held.
    fn shutdown(&mut self) {
        for (_, connection) in self.connections.drain(..) {
            self.backend.close(connection).release();
        }
        if let VirtualPort::Open(connection) =
            std::mem::replace(&mut self.virtual_port, VirtualPort::NotWanted)
        {
            self.backend.close(connection).release();
        }
        let mut status = lock(&self.status);
        status.connected.clear();
        status.virtual_port = None;
    }
}

impl<B: PortBackend> Drop for PortWatcher<B> {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The OS MIDI service through midir.
struct MidirBackend {
    /// Kept for listing; opened lazily so a missing service is retried at each poll.
    lister: Option<midir::MidiInput>,
}

/// The client name of our helper clients (one per connection on ALSA, where midir opens
/// a client per connection, and one for listing).
const HELPER_CLIENT_NAME: &str = "ascenseur-input";

impl MidirBackend {
    fn new() -> MidirBackend {
        MidirBackend { lister: None }
    }

    fn open(client: &str) -> Result<midir::MidiInput, String> {
        // alsa-lib reports why it failed on stderr, which would scribble over the console
        // at every retry: capture it (per thread, a fresh buffer each time) for the status.
        #[cfg(target_os = "linux")]
        let alsa_errors = alsa::Output::local_error_handler().ok();
        let mut input = midir::MidiInput::new(client).map_err(|error| {
            #[cfg(target_os = "linux")]
            {
                let detail = alsa_errors
                    .map(|output| output.borrow().to_string().trim().replace('\n', "; "))
                    .filter(|text| !text.is_empty())
                    .unwrap_or_else(|| error.to_string());
                format!(
                    "no ALSA sequencer ({detail}); load the snd-seq module or check the \
                     permissions of /dev/snd/seq"
                )
            }
            #[cfg(not(target_os = "linux"))]
            format!("{error}: the system MIDI service did not answer")
        })?;
        // Clock, active sensing and SysEx are parsed and ignored anyway; fewer callbacks.
        input.ignore(midir::Ignore::All);
        Ok(input)
    }

    /// The ports with names unique in this listing, in the order the service lists them.
    fn named_ports(input: &midir::MidiInput) -> Vec<(String, midir::MidiInputPort)> {
        let mut names = Vec::new();
        let mut ports = Vec::new();
        for port in input.ports() {
            // A port may vanish between listing and naming: skip it, next poll is exact.
            if let Ok(name) = input.port_name(&port) {
                names.push(name);
                ports.push(port);
            }
        }
        unique_names(names).into_iter().zip(ports).collect()
    }
}

/// The callback midir runs per message.
fn midir_callback(stamp_us: u64, bytes: &[u8], receiver: &mut PortReceiver) {
    receiver.receive(stamp_us, bytes, Instant::now());
}

/// midir unwraps a few ALSA results; a panic there must not take the watcher down.
fn catch_panic<T>(what: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(what))
        .unwrap_or_else(|_| Err("the MIDI library panicked".into()))
}

impl PortBackend for MidirBackend {
    type Connection = midir::MidiInputConnection<PortReceiver>;

    fn ports(&mut self) -> Result<Vec<String>, String> {
        if self.lister.is_none() {
            self.lister = Some(Self::open(HELPER_CLIENT_NAME)?);
        }
        let lister = self.lister.as_ref().expect("opened above");
        Ok(Self::named_ports(lister)
            .into_iter()
            .map(|(name, _)| name)
            .collect())
    }

    fn connect(&mut self, port: &str, receiver: PortReceiver) -> Result<Self::Connection, String> {
        catch_panic(|| {
            let input = Self::open(HELPER_CLIENT_NAME)?;
            let found = Self::named_ports(&input)
                .into_iter()
                .find(|(name, _)| name == port)
                .map(|(_, p)| p)
                .ok_or_else(|| "the port went away".to_string())?;
            input
                .connect(&found, "in", midir_callback, receiver)
                .map_err(|error| error.kind().to_string())
        })
    }

    #[cfg(unix)]
    fn create_virtual(&mut self, receiver: PortReceiver) -> Result<Self::Connection, String> {
        use midir::os::unix::VirtualInput;
        // ALSA shows client:port; CoreMIDI shows the port name alone.
        let port_name = if cfg!(target_os = "linux") {
            VIRTUAL_PORT_NAME
                .split_once(':')
                .map_or(VIRTUAL_PORT_NAME, |(_, port)| port)
        } else {
            VIRTUAL_PORT_NAME
        };
        catch_panic(|| {
            Self::open(CLIENT_NAME)?
                .create_virtual(port_name, midir_callback, receiver)
                .map_err(|error| error.kind().to_string())
        })
    }

    #[cfg(not(unix))]
    fn create_virtual(&mut self, _receiver: PortReceiver) -> Result<Self::Connection, String> {
        Err("this platform has no virtual MIDI ports".into())
    }

    fn close(&mut self, connection: Self::Connection) -> PortReceiver {
        connection.close().1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, EngineController};
    use crate::preset::LeadVoice;
    use std::collections::HashMap;

    /// Equal within 1 ms (the drift allowance moves estimates by microseconds).
    fn assert_near(actual: Instant, expected: Instant) {
        let error = if actual > expected {
            actual - expected
        } else {
            expected - actual
        };
        assert!(
            error < Duration::from_millis(1),
            "{actual:?} vs {expected:?}"
        );
    }

    const KEYSTEP: &str = "Arturia KeyStep 37:Arturia KeyStep 37 MIDI 1 24:0";
    const KEYSTEP_REPLUGGED: &str = "Arturia KeyStep 37:Arturia KeyStep 37 MIDI 1 28:0";
    const NANOKEY: &str = "nanoKEY2:nanoKEY2 nanoKEY2 _ KEYBOARD 32:0";
    const THROUGH: &str = "Midi Through:Midi Through Port-0 14:0";
    const VMPK: &str = "VMPK Output:out 130:0";
    const OWN_VIRTUAL: &str = "ascenseur:in 129:0";

    type Shared = Arc<Mutex<Option<PortReceiver>>>;

    #[derive(Default)]
    struct FakeState {
        ports: Vec<String>,
        unavailable: Option<String>,
        open: HashMap<String, Shared>,
        virtual_ports: bool,
        refuse: Vec<String>,
        connects: usize,
    }

    /// A MIDI service the test plugs and unplugs ports in, and sends bytes through.
    #[derive(Clone, Default)]
    struct FakeBackend(Arc<Mutex<FakeState>>);

    struct FakeConnection {
        name: String,
        receiver: Shared,
    }

    impl FakeBackend {
        fn with_ports(ports: &[&str]) -> FakeBackend {
            let backend = FakeBackend::default();
            for port in ports {
                backend.plug(port);
            }
            backend.state().virtual_ports = true;
            backend
        }

        fn state(&self) -> MutexGuard<'_, FakeState> {
            self.0.lock().unwrap()
        }

        fn plug(&self, name: &str) {
            self.state().ports.push(name.into());
        }

        fn unplug(&self, name: &str) {
            self.state().ports.retain(|p| p != name);
        }

        /// What the service would call back with, if `port` is connected.
        fn send(&self, port: &str, stamp_us: u64, bytes: &[u8], arrival: Instant) -> bool {
            let receiver = self.state().open.get(port).cloned();
            match receiver {
                Some(receiver) => {
                    receiver
                        .lock()
                        .unwrap()
                        .as_mut()
                        .unwrap()
                        .receive(stamp_us, bytes, arrival);
                    true
                }
                None => false,
            }
        }

        fn is_open(&self, port: &str) -> bool {
            self.state().open.contains_key(port)
        }
    }

    impl PortBackend for FakeBackend {
        type Connection = FakeConnection;

        fn ports(&mut self) -> Result<Vec<String>, String> {
            let state = self.state();
            match &state.unavailable {
                Some(reason) => Err(reason.clone()),
                None => Ok(state.ports.clone()),
            }
        }

        fn connect(
            &mut self,
            port: &str,
            receiver: PortReceiver,
        ) -> Result<FakeConnection, String> {
            let mut state = self.state();
            if state.refuse.iter().any(|r| r == port) {
                return Err("device busy".into());
            }
            assert!(state.ports.iter().any(|p| p == port), "{port} is listed");
            assert!(!state.open.contains_key(port), "{port} connected twice");
            state.connects += 1;
            let shared = Arc::new(Mutex::new(Some(receiver)));
            state.open.insert(port.into(), Arc::clone(&shared));
            Ok(FakeConnection {
                name: port.into(),
                receiver: shared,
            })
        }

        fn create_virtual(&mut self, receiver: PortReceiver) -> Result<FakeConnection, String> {
            let mut state = self.state();
            if let Some(reason) = &state.unavailable {
                return Err(reason.clone());
            }
            if !state.virtual_ports {
                return Err("no virtual ports here".into());
            }
            let shared = Arc::new(Mutex::new(Some(receiver)));
            state
                .open
                .insert(VIRTUAL_PORT_NAME.into(), Arc::clone(&shared));
            Ok(FakeConnection {
                name: VIRTUAL_PORT_NAME.into(),
                receiver: shared,
            })
        }

        fn close(&mut self, connection: FakeConnection) -> PortReceiver {
            self.state().open.remove(&connection.name);
            connection.receiver.lock().unwrap().take().unwrap()
        }
    }

    /// A silent engine fed by a real [`LiveInput`], to see what the lead voice holds.
    struct Rig {
        engine: Engine,
        controller: EngineController,
        live: Arc<LiveInput>,
        block: Vec<f32>,
    }

    impl Rig {
        fn new() -> Rig {
            let (engine, mut controller) = Engine::lead_only();
            let live = Arc::new(LiveInput::new());
            live.attach(controller.take_input().unwrap());
            // A voice that never slurs, so every key held is a voice held.
            let piano = LeadVoice::ALL
                .iter()
                .position(|&v| v == LeadVoice::ElectricPiano)
                .unwrap();
            live.send_now(InputEvent::Program(piano as u8));
            Rig {
                engine,
                controller,
                live,
                block: vec![0.0; 2 * 256],
            }
        }

        /// Render a block and return the keys the lead voice holds.
        fn held(&mut self) -> Vec<u8> {
            self.engine.process(&mut self.block);
            let telemetry = self.controller.latest_telemetry().unwrap();
            (0..128u8)
                .filter(|&k| telemetry.held_keys[usize::from(k / 64)] >> (k % 64) & 1 == 1)
                .collect()
        }

        fn watcher(
            &self,
            backend: &FakeBackend,
            selection: PortSelection,
        ) -> (PortWatcher<FakeBackend>, Arc<Mutex<MidiStatus>>) {
            let status = Arc::new(Mutex::new(MidiStatus::new(selection.clone())));
            let watcher = PortWatcher::new(
                backend.clone(),
                selection,
                Arc::clone(&self.live),
                MidiTiming::Immediate,
                true,
                Arc::clone(&status),
                Arc::new(AtomicU64::new(0)),
            );
            (watcher, status)
        }
    }

    fn connected(status: &Arc<Mutex<MidiStatus>>) -> Vec<String> {
        lock(status).connected.clone()
    }

    #[test]
    fn port_names_drop_the_alsa_address_and_classify_hardware() {
        assert_eq!(
            stable_port_name(KEYSTEP),
            "Arturia KeyStep 37:Arturia KeyStep 37 MIDI 1"
        );
        assert_eq!(stable_port_name("KeyStep 37"), "KeyStep 37");
        assert_eq!(stable_port_name("Port 1:2a"), "Port 1:2a");
        assert!(is_hardware_port(KEYSTEP));
        assert!(is_hardware_port(NANOKEY));
        assert!(is_hardware_port("IAC Driver Bus 1"));
        assert!(!is_hardware_port(THROUGH));
        assert!(!is_hardware_port(VMPK), "another program's port");
        assert!(!is_hardware_port(OWN_VIRTUAL));
        assert!(!is_hardware_port(VIRTUAL_PORT_NAME));
        assert!(is_own_port(OWN_VIRTUAL));
        assert!(!is_own_port(KEYSTEP));
        assert_eq!(
            unique_names(vec!["A".into(), "B".into(), "A".into(), "A".into()]),
            ["A", "B", "A (2)", "A (3)"]
        );
    }

    #[test]
    fn a_midi_name_matches_exactly_by_index_or_by_a_unique_part() {
        let ports: Vec<String> = [THROUGH, KEYSTEP, NANOKEY, VMPK].map(String::from).to_vec();
        let keystep = stable_port_name(KEYSTEP).to_string();
        assert_eq!(resolve_port(KEYSTEP, &ports).unwrap(), keystep);
        assert_eq!(resolve_port(&keystep, &ports).unwrap(), keystep);
        assert_eq!(resolve_port("1", &ports).unwrap(), keystep);
        assert_eq!(resolve_port("keystep", &ports).unwrap(), keystep);
        assert_eq!(resolve_port("vmpk", &ports).unwrap(), "VMPK Output:out");
        assert!(matches!(
            resolve_port("9", &ports),
            Err(MidiInputError::PortNotFound { .. })
        ));
        let ambiguous = resolve_port("key", &ports).unwrap_err().to_string();
        assert!(ambiguous.contains("'key' matches several"), "{ambiguous}");
        assert!(ambiguous.contains(KEYSTEP) && ambiguous.contains(NANOKEY));
    }

    #[test]
    fn an_unknown_midi_name_is_quoted_and_the_ports_listed() {
        let rig = Rig::new();
        let backend = FakeBackend::with_ports(&[THROUGH, KEYSTEP]);
        let (mut watcher, _) = rig.watcher(&backend, PortSelection::Named("Oxygen".into()));
        let error = watcher.start(Instant::now()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "no MIDI input port matches 'Oxygen'; the MIDI input ports are:\n  0: {THROUGH}\n  1: {KEYSTEP}"
            )
        );
        let none = resolve_port("Oxygen", &[]).unwrap_err().to_string();
        assert_eq!(
            none,
            "no MIDI input port matches 'Oxygen'; there are no MIDI input ports"
        );
    }

    #[test]
    fn every_hardware_port_is_connected_as_ports_come_and_go() {
        let mut rig = Rig::new();
        let backend = FakeBackend::with_ports(&[THROUGH, VMPK, KEYSTEP]);
        let (mut watcher, status) = rig.watcher(&backend, PortSelection::AllHardware);
        let t0 = Instant::now();
        watcher.start(t0).unwrap();
        assert_eq!(connected(&status), [KEYSTEP]);
        assert!(backend.is_open(VIRTUAL_PORT_NAME));
        assert_eq!(
            lock(&status).virtual_port.as_deref(),
            Some(VIRTUAL_PORT_NAME)
        );

        // Plug: a second keyboard joins at the next poll.
        backend.plug(NANOKEY);
        watcher.poll(t0 + POLL_INTERVAL);
        assert_eq!(connected(&status), [KEYSTEP, NANOKEY]);

        // Play on both, pedal down on the KeyStep; a C held after its key went up.
        let now = Instant::now();
        assert!(backend.send(KEYSTEP, 10, &[0x90, 60, 100, 64, 90], now));
        assert!(backend.send(KEYSTEP, 20, &[0xB0, 64, 127, 0x80, 60, 0], now));
        assert!(backend.send(NANOKEY, 5, &[0x91, 72, 80], now));
        assert_eq!(rig.held(), [60, 64, 72]);

        // Unplug the KeyStep: its notes and its pedal are released, the nanoKEY's note
        // rings on.
        backend.unplug(KEYSTEP);
        let gone_at = t0 + 2 * POLL_INTERVAL;
        watcher.poll(gone_at);
        assert_eq!(connected(&status), [NANOKEY]);
        assert!(!backend.is_open(KEYSTEP));
        assert_eq!(rig.held(), [72]);
        assert_eq!(
            lock(&status).gone,
            [GonePort {
                name: KEYSTEP.into(),
                at: gone_at
            }]
        );

        // Replug under another ALSA address: connected again, no longer listed as gone.
        backend.plug(KEYSTEP_REPLUGGED);
        watcher.poll(t0 + 3 * POLL_INTERVAL);
        assert_eq!(connected(&status), [NANOKEY, KEYSTEP_REPLUGGED]);
        assert!(lock(&status).gone.is_empty());
        assert!(backend.send(KEYSTEP_REPLUGGED, 0, &[0x90, 62, 100], Instant::now()));
        assert_eq!(rig.held(), [62, 72]);

        // Stopping releases everything still held.
        watcher.shutdown();
        assert_eq!(rig.held(), Vec::<u8>::new());
        assert!(backend.state().open.is_empty());
        assert!(connected(&status).is_empty());
    }

    #[test]
    fn a_named_port_is_followed_when_it_goes_and_comes_back() {
        let mut rig = Rig::new();
        let backend = FakeBackend::with_ports(&[THROUGH, KEYSTEP, NANOKEY]);
        let (mut watcher, status) = rig.watcher(&backend, PortSelection::Named("keystep".into()));
        let t0 = Instant::now();
        watcher.start(t0).unwrap();
        assert_eq!(connected(&status), [KEYSTEP], "only the named port");

        backend.send(KEYSTEP, 0, &[0x90, 60, 100], Instant::now());
        assert_eq!(rig.held(), [60]);
        backend.unplug(KEYSTEP);
        watcher.poll(t0 + POLL_INTERVAL);
        assert!(connected(&status).is_empty());
        assert_eq!(rig.held(), Vec::<u8>::new());
        assert_eq!(
            lock(&status).waiting_for.as_deref(),
            Some(stable_port_name(KEYSTEP))
        );

        // Another keyboard appearing is not what was asked for.
        backend.plug("Oxygen 49:Oxygen 49 MIDI 1 40:0");
        watcher.poll(t0 + 2 * POLL_INTERVAL);
        assert!(connected(&status).is_empty());

        // The named port appears again, under a new ALSA address.
        backend.plug(KEYSTEP_REPLUGGED);
        watcher.poll(t0 + 3 * POLL_INTERVAL);
        assert_eq!(connected(&status), [KEYSTEP_REPLUGGED]);
        assert_eq!(lock(&status).waiting_for, None);
    }

    #[test]
    fn without_a_midi_service_start_is_degraded_and_recovers_when_it_appears() {
        let rig = Rig::new();
        let backend = FakeBackend::with_ports(&[KEYSTEP]);
        backend.state().unavailable = Some("no ALSA sequencer".into());
        // Even a named port cannot be checked: it is waited for, not an error.
        let (mut watcher, status) = rig.watcher(&backend, PortSelection::Named("KeyStep".into()));
        let t0 = Instant::now();
        watcher.start(t0).unwrap();
        {
            let status = lock(&status);
            assert_eq!(status.unavailable.as_deref(), Some("no ALSA sequencer"));
            assert!(status.connected.is_empty());
            assert_eq!(status.virtual_port, None);
        }

        backend.state().unavailable = None;
        watcher.poll(t0 + POLL_INTERVAL);
        let status = lock(&status);
        assert_eq!(status.unavailable, None);
        assert_eq!(status.connected, [KEYSTEP]);
        assert_eq!(status.virtual_port.as_deref(), Some(VIRTUAL_PORT_NAME));
    }

    #[test]
    fn a_port_that_refuses_is_reported_and_retried() {
        let rig = Rig::new();
        let backend = FakeBackend::with_ports(&[KEYSTEP]);
        backend.state().refuse.push(KEYSTEP.into());
        backend.state().virtual_ports = false;
        let (mut watcher, status) = rig.watcher(&backend, PortSelection::AllHardware);
        let t0 = Instant::now();
        watcher.start(t0).unwrap();
        let error = lock(&status).last_error.clone().unwrap();
        assert!(
            error.contains(KEYSTEP) && error.contains("device busy"),
            "{error}"
        );
        assert!(connected(&status).is_empty());

        backend.state().refuse.clear();
        watcher.poll(t0 + POLL_INTERVAL);
        assert_eq!(connected(&status), [KEYSTEP]);
        assert_eq!(lock(&status).last_error, None, "the refusal is over");
        // No virtual ports on this platform: said once, not retried.
        assert_eq!(lock(&status).virtual_port, None);
        watcher.poll(t0 + 2 * POLL_INTERVAL);
        assert_eq!(backend.state().connects, 1, "a connection is not redone");
    }

    #[test]
    fn input_through_the_virtual_port_plays_and_is_counted() {
        let mut rig = Rig::new();
        let backend = FakeBackend::with_ports(&[]);
        let status = Arc::new(Mutex::new(MidiStatus::new(PortSelection::AllHardware)));
        let events = Arc::new(AtomicU64::new(0));
        let mut watcher = PortWatcher::new(
            backend.clone(),
            PortSelection::AllHardware,
            Arc::clone(&rig.live),
            MidiTiming::Stable,
            true,
            status,
            Arc::clone(&events),
        );
        watcher.start(Instant::now()).unwrap();
        // A message split across two callbacks is reassembled by the port's parser.
        backend.send(VIRTUAL_PORT_NAME, 0, &[0x90, 67], Instant::now());
        backend.send(VIRTUAL_PORT_NAME, 10, &[100], Instant::now());
        assert_eq!(rig.held(), [67]);
        assert_eq!(events.load(Ordering::Relaxed), 1);
        drop(watcher);
        assert_eq!(rig.held(), Vec::<u8>::new(), "dropping the watcher lets go");
    }

    #[test]
    fn released_events_undo_exactly_what_a_port_held() {
        let mut held = HeldByPort::default();
        for event in [
            InputEvent::NoteOn {
                key: 0,
                velocity: 1.0,
            },
            InputEvent::NoteOn {
                key: 127,
                velocity: 1.0,
            },
            InputEvent::NoteOn {
                key: 64,
                velocity: 1.0,
            },
            InputEvent::NoteOff { key: 64 },
            InputEvent::Sustain(true),
            InputEvent::PitchBend(-1.0),
            InputEvent::Modulation(0.5),
        ] {
            held.note(event);
        }
        let mut released = Vec::new();
        held.release(|e| released.push(e));
        assert_eq!(
            released,
            [
                InputEvent::NoteOff { key: 0 },
                InputEvent::NoteOff { key: 127 },
                InputEvent::Sustain(false),
                InputEvent::PitchBend(0.0),
                InputEvent::Modulation(0.0),
            ]
        );
        assert_eq!(held, HeldByPort::default());
        held.note(InputEvent::NoteOn {
            key: 3,
            velocity: 1.0,
        });
        held.note(InputEvent::AllNotesOff);
        assert_eq!(held, HeldByPort::default());
    }

    #[test]
    fn stamps_map_to_instants_monotonically_despite_a_late_first_arrival() {
        let epoch = Instant::now();
        let ms = Duration::from_millis;
        let mut clock = StampClock::new(epoch);
        // The device's clock reads 5 s when we are at epoch + 1 s. The first message
        // arrives 40 ms late; its instant can only be its arrival.
        let origin_us = 5_000_000u64;
        let at = |stamp_ms: u64| origin_us + stamp_ms * 1000;
        let first = clock.instant(at(1000), epoch + ms(1040));
        assert_eq!(first, epoch + ms(1040));
        // The second arrives on time: the estimate corrects itself.
        let second = clock.instant(at(1100), epoch + ms(1100));
        assert_eq!(second, epoch + ms(1100));
        // A third, 25 ms late: mapped to when it happened.
        let third = clock.instant(at(1200), epoch + ms(1225));
        assert_near(third, epoch + ms(1200));
        // Messages with equal stamps in a late burst keep their time.
        let fourth = clock.instant(at(1300), epoch + ms(1310));
        let fifth = clock.instant(at(1300), epoch + ms(1311));
        assert_near(fourth, epoch + ms(1300));
        assert_eq!(fourth, fifth);

        // A long, consistent series: never backwards, never after arrival, and late
        // arrivals mapped to their stamps' time.
        let mut previous = fifth;
        for i in 0..2000u64 {
            let stamp_ms = 1400 + i * 7;
            let lateness = ms((i * 37) % 23);
            let arrival = epoch + ms(stamp_ms) + lateness;
            let mapped = clock.instant(at(stamp_ms), arrival);
            assert!(mapped >= previous, "monotonic at {i}");
            assert!(mapped <= arrival, "not after arrival at {i}");
            let error = mapped.saturating_duration_since(epoch + ms(stamp_ms));
            assert!(error < ms(2), "{error:?} at {i}");
            previous = mapped;
        }

        // The stamp clock restarts (a reconnection): estimation starts afresh.
        let now = epoch + ms(20_000);
        let restarted = clock.instant(0, now);
        assert_eq!(restarted, now);
        assert_eq!(clock.instant(50_000, now + ms(50)), now + ms(50));
    }

    #[test]
    fn the_stamp_estimate_follows_a_slow_device_clock() {
        // The device's clock runs 100 ppm slow: the offset grows, which a plain minimum
        // would never follow (mapped times would fall ever further behind).
        let epoch = Instant::now();
        let mut clock = StampClock::new(epoch);
        let mut worst = Duration::ZERO;
        for i in 0..=600u64 {
            let real_us = i * 1_000_000; // one message a second for ten minutes
            let stamp_us = real_us - real_us / 10_000;
            let arrival = epoch + Duration::from_micros(real_us);
            let mapped = clock.instant(stamp_us, arrival);
            worst = worst.max(arrival - mapped);
        }
        assert!(worst < Duration::from_millis(1), "{worst:?}");
    }

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

        // Hot-plug through the thread.
        backend.plug(NANOKEY);
        let deadline = Instant::now() + 5 * POLL_INTERVAL;
        while inputs.status().connected.len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(inputs.status().connected, [KEYSTEP, NANOKEY]);

        let stopping = Instant::now();
        inputs.stop();
        assert!(stopping.elapsed() < Duration::from_millis(500));
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

    #[test]
    fn listing_ports_without_a_midi_service_says_why() {
        // This machine may or may not have an ALSA sequencer; either answer is fine, but
        // an unavailable service must be an error with a reason, never a panic.
        match list_input_ports() {
            Ok(ports) => assert!(ports.iter().all(|p| !is_own_port(p))),
            Err(MidiInputError::Unavailable(reason)) => assert!(!reason.is_empty()),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn the_real_backend_starts_degraded_without_a_midi_service() {
        let live = Arc::new(LiveInput::new());
        let inputs = MidiInputs::start(
            PortSelection::AllHardware,
            live,
            MidiTiming::Immediate,
            true,
        )
        .unwrap();
        let status = inputs.status();
        if std::path::Path::new("/dev/snd/seq").exists() {
            assert_eq!(status.unavailable, None);
        } else if cfg!(target_os = "linux") {
            let reason = status.unavailable.unwrap();
            assert!(reason.contains("/dev/snd/seq"), "{reason}");
        }
    }
}
