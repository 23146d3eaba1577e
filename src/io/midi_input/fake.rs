//! A MIDI service the tests plug and unplug ports in and send bytes through, and an
//! engine to hear what the ports hold.

use super::backend::PortBackend;
use super::receiver::PortReceiver;
use super::watcher::PortWatcher;
use super::{MidiStatus, PortSelection, VIRTUAL_PORT_NAME, lock};
use crate::engine::{Engine, EngineController, InputEvent};
use crate::io::live_input::{LiveInput, MidiTiming};
use crate::preset::LeadInstrument;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

pub(super) const KEYSTEP: &str = "Arturia KeyStep 37:Arturia KeyStep 37 MIDI 1 24:0";
pub(super) const KEYSTEP_REPLUGGED: &str = "Arturia KeyStep 37:Arturia KeyStep 37 MIDI 1 28:0";
pub(super) const NANOKEY: &str = "nanoKEY2:nanoKEY2 nanoKEY2 _ KEYBOARD 32:0";
pub(super) const THROUGH: &str = "Midi Through:Midi Through Port-0 14:0";
pub(super) const VMPK: &str = "VMPK Output:out 130:0";
pub(super) const OWN_VIRTUAL: &str = "ascenseur:in 129:0";

type Shared = Arc<Mutex<Option<PortReceiver>>>;

#[derive(Default)]
pub(super) struct FakeState {
    pub(super) ports: Vec<String>,
    pub(super) unavailable: Option<String>,
    pub(super) open: HashMap<String, Shared>,
    pub(super) virtual_ports: bool,
    pub(super) refuse: Vec<String>,
    pub(super) connects: usize,
}

/// A MIDI service the test plugs and unplugs ports in, and sends bytes through.
#[derive(Clone, Default)]
pub(super) struct FakeBackend(Arc<Mutex<FakeState>>);

pub(super) struct FakeConnection {
    name: String,
    receiver: Shared,
}

impl FakeBackend {
    pub(super) fn with_ports(ports: &[&str]) -> FakeBackend {
        let backend = FakeBackend::default();
        for port in ports {
            backend.plug(port);
        }
        backend.state().virtual_ports = true;
        backend
    }

    pub(super) fn state(&self) -> MutexGuard<'_, FakeState> {
        self.0.lock().unwrap()
    }

    pub(super) fn plug(&self, name: &str) {
        self.state().ports.push(name.into());
    }

    pub(super) fn unplug(&self, name: &str) {
        self.state().ports.retain(|p| p != name);
    }

    /// What the service would call back with, if `port` is connected.
    pub(super) fn send(&self, port: &str, stamp_us: u64, bytes: &[u8], arrival: Instant) -> bool {
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

    pub(super) fn is_open(&self, port: &str) -> bool {
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

    fn connect(&mut self, port: &str, receiver: PortReceiver) -> Result<FakeConnection, String> {
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
pub(super) struct Rig {
    engine: Engine,
    controller: EngineController,
    pub(super) live: Arc<LiveInput>,
    block: Vec<f32>,
}

impl Rig {
    pub(super) fn new() -> Rig {
        let (engine, mut controller) = Engine::lead_only();
        let live = Arc::new(LiveInput::new());
        live.attach(controller.take_input().unwrap());
        // A voice that never slurs, so every key held is a voice held.
        let piano = LeadInstrument::ALL
            .iter()
            .position(|&v| v == LeadInstrument::ElectricPiano)
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
    pub(super) fn held(&mut self) -> Vec<u8> {
        self.engine.process(&mut self.block);
        let telemetry = self.controller.latest_telemetry().unwrap();
        (0..128u8)
            .filter(|&k| telemetry.held_keys[usize::from(k / 64)] >> (k % 64) & 1 == 1)
            .collect()
    }

    pub(super) fn watcher(
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

pub(super) fn connected(status: &Arc<Mutex<MidiStatus>>) -> Vec<String> {
    lock(status).connected.clone()
}
