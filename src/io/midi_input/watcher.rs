//! The hot-plug logic: the port watcher keeps the connections in line with the
//! [`PortSelection`] and the ports that exist, on any [`PortBackend`].

use super::backend::PortBackend;
use super::port_names::{is_hardware_port, is_own_port, resolve_port, stable_port_name};
use super::receiver::PortReceiver;
use super::{
    GONE_PORTS_KEPT, GonePort, MidiInputError, MidiStatus, PortSelection, VIRTUAL_PORT_NAME, lock,
};
use crate::io::live_input::{LiveInput, MidiTiming};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Instant;

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
pub(super) struct PortWatcher<B: PortBackend> {
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
    pub(super) fn new(
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
    pub(super) fn start(&mut self, now: Instant) -> Result<(), MidiInputError> {
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
    pub(super) fn poll(&mut self, now: Instant) {
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
    pub(super) fn shutdown(&mut self) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::midi_input::POLL_INTERVAL;
    use crate::io::midi_input::fake::{
        FakeBackend, KEYSTEP, KEYSTEP_REPLUGGED, NANOKEY, Rig, THROUGH, VMPK, connected,
    };
    use std::sync::atomic::Ordering;

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
}
