//! The subcommands too large to sit in `main.rs`, and the checks clap runs on the values
//! of their flags, so that every bad value is reported one way (`error: invalid value
//! 'X' for '--flag <F>': why`) with exit code 2 before anything starts.

pub mod bench;

use ascenseur::io::cpal_out::{self, CpalError, OutputOptions};
use ascenseur::preset::{self, Preset};
use clap::builder::{PossibleValue, PossibleValuesParser};
use std::ops::RangeInclusive;

/// Frames per callback a `--buffer` or `--buffers` may ask for: JACK's and the devices'
/// sizes all fall within it.
pub const BUFFER_FRAMES: RangeInclusive<u64> = 16..=8192;
/// Sample rates `--rate` may ask for, in Hz.
pub const SAMPLE_RATES: RangeInclusive<u64> = 8_000..=768_000;

/// The flags a value found bad after start-up belongs to, written as clap writes them in
/// its own errors (a test in `main.rs` holds them to clap's spelling).
pub const HOST_FLAG: &str = "--host <HOST>";
pub const DEVICE_FLAG: &str = "--device <DEV>";
pub const RATE_FLAG: &str = "--rate <HZ>";
pub const BUFFER_FLAG: &str = "--buffer <FRAMES>";
pub const BUFFERS_FLAG: &str = "--buffers <FRAMES>";
pub const MIDI_FLAG: &str = "--midi <PORT>";
pub const PLAYBACK_FLAG: &str = "--playback <PORT>";
pub const CAPTURE_FLAG: &str = "--capture <PORT>";
pub const REPORT_FLAG: &str = "--report <FILE>";
pub const LOOP_FLAG: &str = "--loop <BARS>";
pub const INPUT_DEVICE_FLAG: &str = "--input-device <DEV>";
pub const TAKES_DIR_FLAG: &str = "--takes-dir <DIR>";
pub const MIDI_TARGET_FLAG: &str = "--midi-target <PORT>";
pub const AUDIO_SOURCE_FLAG: &str = "--audio-source <PORT>";

/// Where the audio goes, for `play` and the hardware benches alike.
#[derive(clap::Args, Debug)]
pub struct DeviceArgs {
    /// Audio host: "jack" for ascenseur's own JACK client, or a cpal host such as
    /// "alsa" (default: the system's default host; see `ascenseur devices`).
    #[arg(long, value_parser = audio_hosts(), ignore_case = true)]
    pub host: Option<String>,
    /// Output device (cpal hosts): name, unique part of a name, id or index from
    /// `ascenseur devices` (default: the host's default device).
    #[arg(long, value_name = "DEV", value_parser = non_blank)]
    pub device: Option<String>,
    /// Sample rate in Hz (cpal hosts; default: 48000 if the device offers it, else its
    /// own).
    #[arg(long, value_name = "HZ", value_parser = whole_number::<u32>(SAMPLE_RATES), allow_negative_numbers = true)]
    pub rate: Option<u32>,
}

impl DeviceArgs {
    /// `--host jack`: ascenseur's own JACK client rather than a cpal host.
    pub fn is_native_jack(&self) -> bool {
        self.host
            .as_deref()
            .is_some_and(|h| h.eq_ignore_ascii_case("jack"))
    }

    /// The cpal output these options name, with `buffer` frames per callback.
    pub fn output_options(&self, buffer: Option<u32>) -> OutputOptions {
        OutputOptions {
            host: self.host.clone(),
            device: self.device.clone(),
            rate: self.rate,
            buffer,
        }
    }
}

/// A flag's value that could only be found wrong after start-up (a device, a port):
/// worded as clap words the others, and like them a usage error (exit code 2).
#[derive(Debug)]
pub struct BadValue {
    /// The flag as clap shows it, e.g. `--device <DEV>`.
    pub flag: &'static str,
    pub value: String,
    /// Why, with the choices there are.
    pub reason: String,
}

impl std::fmt::Display for BadValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid value '{}' for '{}': {}",
            self.value, self.flag, self.reason
        )
    }
}

impl std::error::Error for BadValue {}

/// The flag an output device error is about, when the user's value is what is wrong
/// (not the machine): the device, host, rate or buffer asked for.
pub fn device_flag_error(error: &CpalError, options: &OutputOptions) -> Option<BadValue> {
    let (flag, value) = match error {
        CpalError::UnknownHost { name, .. } => (HOST_FLAG, name.clone()),
        CpalError::UnknownDevice { wanted, .. } | CpalError::AmbiguousDevice { wanted, .. } => {
            (DEVICE_FLAG, wanted.clone())
        }
        CpalError::UnsupportedRate { rate, .. } => (RATE_FLAG, rate.to_string()),
        CpalError::BufferOutOfRange { buffer, .. } => {
            // `bench dsp` measures several sizes: name the flag it was given by.
            let flag = if options.buffer.is_some() {
                BUFFER_FLAG
            } else {
                BUFFERS_FLAG
            };
            (flag, buffer.to_string())
        }
        _ => return None,
    };
    Some(BadValue {
        flag,
        value,
        reason: error.to_string(),
    })
}

/// The output and input devices `bench roundtrip` loops through, found before it starts:
/// a host, device or rate the user named that is not there is a bad value with the
/// host's list, like `play`'s. Anything else the measurement itself reports.
pub fn check_loop_devices(output: &OutputOptions, input: Option<&str>) -> Result<(), BadValue> {
    let prepared = match cpal_out::open(output) {
        Ok(prepared) => prepared,
        Err(error) => return device_flag_error(&error, output).map_or(Ok(()), Err),
    };
    let Some(wanted) = input else {
        return Ok(());
    };
    let (host, _, _) = prepared.into_parts();
    let Ok(inputs) = cpal_out::input_devices(&host) else {
        return Ok(());
    };
    let names: Vec<(&str, Option<&str>)> = inputs
        .iter()
        .map(|d| (d.name.as_str(), d.id.as_deref()))
        .collect();
    let why = match cpal_out::match_device(&names, wanted) {
        cpal_out::DeviceMatch::Found(_) => return Ok(()),
        cpal_out::DeviceMatch::NotFound => "no such input device",
        cpal_out::DeviceMatch::Ambiguous(_) => "more than one input device matches it",
    };
    let labels: Vec<String> = inputs.iter().enumerate().map(|(i, d)| d.label(i)).collect();
    Err(BadValue {
        flag: INPUT_DEVICE_FLAG,
        value: wanted.to_string(),
        reason: format!(
            "{why} on {} (inputs: {})",
            host.id().name(),
            labels.join(", ")
        ),
    })
}

/// The ports `bench midi-latency` measures between, found on the JACK server before it
/// starts: a MIDI input and an audio output. One that is not there, or not of that kind,
/// is a bad value with the server's ports of the kind. Without a server the probe says
/// so itself.
pub fn check_probe_ports(midi_target: &str, audio_source: &str) -> Result<(), BadValue> {
    use jack::PortSpec;
    let Ok((client, _)) =
        jack::Client::new("ascenseur_ports", jack::ClientOptions::NO_START_SERVER)
    else {
        return Ok(());
    };
    let (midi_spec, audio_spec) = (jack::MidiIn::default(), jack::AudioOut::default());
    let (midi, audio) = (midi_spec.jack_port_type(), audio_spec.jack_port_type());
    for (flag, wanted, port_type, direction, kind) in [
        (
            MIDI_TARGET_FLAG,
            midi_target,
            midi,
            jack::PortFlags::IS_INPUT,
            "MIDI input",
        ),
        (
            AUDIO_SOURCE_FLAG,
            audio_source,
            audio,
            jack::PortFlags::IS_OUTPUT,
            "audio output",
        ),
    ] {
        let fits = client.port_by_name(wanted).is_some_and(|port| {
            port.flags().contains(direction) && port.port_type().is_ok_and(|t| t == port_type)
        });
        if fits {
            continue;
        }
        let ports = client.ports(None, Some(port_type), direction);
        let listed = if ports.is_empty() {
            "none".to_string()
        } else {
            ports.join(", ")
        };
        return Err(BadValue {
            flag,
            value: wanted.to_string(),
            reason: format!(
                "no {kind} port of that name on this JACK server ({kind} ports: {listed})"
            ),
        });
    }
    Ok(())
}

/// `--host`: "jack" (ascenseur's own JACK client) or one of the hosts cpal was built with
/// on this platform, by name, in any case.
fn audio_hosts() -> PossibleValuesParser {
    let mut hosts = vec![PossibleValue::new("jack").help("ascenseur's own JACK client")];
    for id in cpal::ALL_HOSTS {
        // cpal's JACK host is reached through ascenseur's own: one "jack".
        if id.name().eq_ignore_ascii_case("jack") {
            continue;
        }
        // The names are few and live as long as the process: lower case reads as typed.
        let name: &'static str = id.name().to_ascii_lowercase().leak();
        hosts.push(PossibleValue::new(name));
    }
    PossibleValuesParser::new(hosts)
}

/// A range of whole numbers of any width, as [`whole_number`] takes it.
pub fn widened<T: Copy + TryInto<u64>>(range: RangeInclusive<T>) -> RangeInclusive<u64> {
    let wide = |n: T| n.try_into().unwrap_or(u64::MAX);
    wide(*range.start())..=wide(*range.end())
}

/// A whole number within `range` (frames, Hz, bars, notes…). Anything else, `-1` and
/// `x` as much as `0`, is refused with the range ("use a whole number from 16 to 8192"),
/// so that the message always says what would do.
pub fn whole_number<T>(
    range: RangeInclusive<u64>,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
{
    move |text: &str| {
        text.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| {
                format!(
                    "use a whole number from {} to {}",
                    range.start(),
                    range.end()
                )
            })
    }
}

/// A name that is not empty or blank (a device, a port, a client name).
pub fn non_blank(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("give a name, an index or a part of a name".into())
    } else {
        Ok(text.to_string())
    }
}

/// A built-in or user preset by name, or a preset file by path: loaded and validated now,
/// so that a preset that does not exist is refused with the list of those that do.
pub fn preset_arg(name_or_path: &str) -> Result<Preset, String> {
    preset::find(name_or_path).map_err(|error| error.to_string())
}

/// `--seed`: any unsigned 64-bit number.
pub fn seed_arg(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("use a whole number from 0 to {}", u64::MAX))
}

/// Seconds, more than 0 and at most an hour.
pub fn seconds_arg(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 3600.0 => Ok(seconds),
        _ => Err("use a number of seconds more than 0 and at most 3600".into()),
    }
}
