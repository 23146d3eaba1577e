//! Port names as the OS MIDI service gives them, and as `--midi` and the hot-plug logic
//! use them: stable names without the ALSA address, which ports are hardware, which are
//! our own, and what a `--midi` text resolves to.

use super::{CLIENT_NAME, HELPER_CLIENT_NAME, MidiInputError};

/// The ALSA client that echoes its input: never a keyboard, and connecting it would only
/// double whatever some other program sends through it.
const MIDI_THROUGH: &str = "midi through";

/// ALSA numbers kernel clients (sound cards: hardware) below 128 and user-space
/// programs from 128 up.
const ALSA_FIRST_USER_CLIENT: u32 = 128;

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
pub(super) fn is_own_port(name: &str) -> bool {
    let client = stable_port_name(name)
        .split_once(':')
        .map_or(name, |(client, _)| client);
    client == CLIENT_NAME || client == HELPER_CLIENT_NAME
}

/// Whether [`PortSelection::AllHardware`] connects this port: not ours, not Midi
/// Through, and, where the name carries an ALSA address, a kernel (sound card) client
/// rather than another program.
pub(super) fn is_hardware_port(name: &str) -> bool {
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
pub(super) fn unique_names(names: Vec<String>) -> Vec<String> {
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
pub(super) fn resolve_port(text: &str, ports: &[String]) -> Result<String, MidiInputError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::midi_input::VIRTUAL_PORT_NAME;
    use crate::io::midi_input::fake::{KEYSTEP, NANOKEY, OWN_VIRTUAL, THROUGH, VMPK};

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
}
