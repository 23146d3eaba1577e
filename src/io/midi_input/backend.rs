//! The OS MIDI service as the port watcher sees it: the [`PortBackend`] trait, and midir
//! behind it in the instrument.

use super::port_names::unique_names;
use super::receiver::PortReceiver;
use super::{CLIENT_NAME, HELPER_CLIENT_NAME, VIRTUAL_PORT_NAME};
use std::time::Instant;

/// The OS MIDI service as the port watcher needs it. Called from the watcher thread only.
pub(super) trait PortBackend {
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

/// The OS MIDI service through midir.
pub(super) struct MidirBackend {
    /// Kept for listing; opened lazily so a missing service is retried at each poll.
    lister: Option<midir::MidiInput>,
}

impl MidirBackend {
    pub(super) fn new() -> MidirBackend {
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
    use crate::io::live_input::{LiveInput, MidiTiming};
    use crate::io::midi_input::port_names::is_own_port;
    use crate::io::midi_input::{MidiInputError, MidiInputs, PortSelection, list_input_ports};
    use std::sync::Arc;

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
