//! What audio outputs this machine has, for `ascenseur devices`: every cpal host (the
//! default marked), each output device with the index `--device` accepts, what it
//! supports, and the configuration ascenseur would play on it. A host or device that
//! cannot be read is reported with its error, never fatal.

use crate::io::cpal_out::{self, CpalError, NamedDevice};
use cpal::traits::DeviceTrait;
use cpal::{SupportedBufferSize, SupportedStreamConfigRange};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Clone, Debug, Serialize)]
pub struct DevicesReport {
    pub hosts: Vec<HostReport>,
    /// The MIDI input ports, filled in by the MIDI module; `None` when not listed.
    pub midi_input_ports: Option<Vec<String>>,
    /// Why the MIDI input ports could not be listed (no MIDI service).
    pub midi_error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct HostReport {
    /// cpal's name, e.g. "ALSA", "JACK"; `--host` takes it in any case.
    pub name: String,
    pub is_default: bool,
    /// Why the host or its device list could not be read.
    pub error: Option<String>,
    /// Why the host has no output device, when it has none.
    pub note: Option<String>,
    pub output_devices: Vec<OutputDeviceReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OutputDeviceReport {
    /// What `--device` accepts as an index.
    pub index: usize,
    pub name: String,
    /// cpal's id within the host (e.g. "hw:CARD=PCH,DEV=0"); `--device` accepts it too.
    pub id: Option<String>,
    pub is_default: bool,
    pub sample_rates: Vec<RateRange>,
    pub channels: Vec<u16>,
    pub sample_formats: Vec<String>,
    /// Smallest and largest frames per callback over all configurations, when known.
    pub buffer_frames: Option<FrameRange>,
    /// What ascenseur would open with no `--rate` or `--buffer`.
    pub ascenseur_would_use: Option<ChosenConfig>,
    /// Why the device's configurations could not be read, or none fits.
    pub error: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RateRange {
    pub min: u32,
    pub max: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FrameRange {
    pub min: u32,
    pub max: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct ChosenConfig {
    pub sample_rate: u32,
    pub channels: u16,
    pub sample_format: String,
    /// `None`: the device's default buffer.
    pub buffer_frames: Option<u32>,
}

/// Look at every host cpal was built with. Main thread; opens each device briefly to
/// read its configurations (ALSA's complaints about absent cards are kept off stderr).
pub fn report() -> DevicesReport {
    let _quiet = cpal_out::quiet_alsa_errors();
    let default_host = cpal::default_host().id();
    let hosts = cpal::ALL_HOSTS
        .iter()
        .map(|&id| {
            let name = id.name().to_string();
            let is_default = id == default_host;
            let host = match cpal::host_from_id(id) {
                Ok(host) => host,
                Err(error) => return host_failure(name, is_default, error.to_string()),
            };
            let devices = match cpal_out::output_devices(&host) {
                Ok(devices) => devices,
                Err(error) => return host_failure(name, is_default, error.to_string()),
            };
            let note = devices
                .is_empty()
                .then(|| CpalError::NoDevice { host: name.clone() }.to_string());
            HostReport {
                output_devices: devices
                    .iter()
                    .enumerate()
                    .map(|(index, device)| device_report(index, device))
                    .collect(),
                name,
                is_default,
                error: None,
                note,
            }
        })
        .collect();
    DevicesReport {
        hosts,
        midi_input_ports: None,
        midi_error: None,
    }
}

fn host_failure(name: String, is_default: bool, error: String) -> HostReport {
    HostReport {
        name,
        is_default,
        error: Some(error),
        note: None,
        output_devices: Vec::new(),
    }
}

fn device_report(index: usize, named: &NamedDevice) -> OutputDeviceReport {
    let mut report = OutputDeviceReport {
        index,
        name: named.name.clone(),
        id: named.id.clone(),
        is_default: named.is_default,
        sample_rates: Vec::new(),
        channels: Vec::new(),
        sample_formats: Vec::new(),
        buffer_frames: None,
        ascenseur_would_use: None,
        error: None,
    };
    let ranges: Vec<SupportedStreamConfigRange> = match named.device.supported_output_configs() {
        Ok(ranges) => ranges.collect(),
        Err(error) => {
            report.error = Some(error.to_string());
            return report;
        }
    };
    fill_capabilities(&mut report, &ranges);
    let default = named.device.default_output_config().ok();
    match cpal_out::choose_config(&named.name, &ranges, default.as_ref(), None, None) {
        Ok(choice) => {
            report.ascenseur_would_use = Some(ChosenConfig {
                sample_rate: choice.sample_rate,
                channels: choice.channels,
                sample_format: choice.sample_format.to_string(),
                buffer_frames: match choice.buffer {
                    cpal::BufferSize::Fixed(frames) => Some(frames),
                    cpal::BufferSize::Default => None,
                },
            })
        }
        Err(error) => report.error = Some(error.to_string()),
    }
    report
}

/// Summarize a device's configuration ranges into rates, channels, formats and buffer.
pub fn fill_capabilities(report: &mut OutputDeviceReport, ranges: &[SupportedStreamConfigRange]) {
    let mut rates: Vec<RateRange> = ranges
        .iter()
        .map(|r| RateRange {
            min: r.min_sample_rate(),
            max: r.max_sample_rate(),
        })
        .collect();
    rates.sort_unstable();
    rates.dedup();
    report.sample_rates = rates;
    let mut channels: Vec<u16> = ranges.iter().map(|r| r.channels()).collect();
    channels.sort_unstable();
    channels.dedup();
    report.channels = channels;
    let mut formats: Vec<_> = ranges.iter().map(|r| r.sample_format()).collect();
    // Best first, in the order ascenseur prefers them.
    formats.sort_by_key(|&f| cpal_out::format_rank(f).unwrap_or(u8::MAX));
    formats.dedup();
    report.sample_formats = formats.iter().map(|f| f.to_string()).collect();
    report.buffer_frames = ranges
        .iter()
        .filter_map(|r| match *r.buffer_size() {
            SupportedBufferSize::Range { min, max } => Some(FrameRange { min, max }),
            SupportedBufferSize::Unknown => None,
        })
        .reduce(|a, b| FrameRange {
            min: a.min.min(b.min),
            max: a.max.max(b.max),
        });
}

/// "1–64" for a run of consecutive counts, "1, 2, 6" otherwise.
pub fn compact_counts(counts: &[u16]) -> String {
    let mut runs: Vec<(u16, u16)> = Vec::new();
    for &count in counts {
        match runs.last_mut() {
            Some((_, end)) if count == *end + 1 => *end = count,
            _ => runs.push((count, count)),
        }
    }
    runs.iter()
        .map(|&(start, end)| match end - start {
            0 => start.to_string(),
            1 => format!("{start}, {end}"),
            _ => format!("{start}–{end}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn rates_text(rates: &[RateRange]) -> String {
    if rates.is_empty() {
        return "none".into();
    }
    rates
        .iter()
        .map(|r| {
            if r.min == r.max {
                format!("{}", r.min)
            } else {
                format!("{}–{}", r.min, r.max)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
        + " Hz"
}

impl DevicesReport {
    /// The listing `ascenseur devices` prints.
    pub fn to_text(&self) -> String {
        let mut text = String::from("Audio outputs (--host, --device)\n");
        for host in &self.hosts {
            let mark = if host.is_default {
                " (default host)"
            } else {
                ""
            };
            let _ = writeln!(text, "\n{}{mark}", host.name);
            if host.name.eq_ignore_ascii_case("jack") {
                text.push_str(
                    "  (through cpal; `play --host jack` uses ascenseur's own JACK client)\n",
                );
            }
            if let Some(error) = &host.error {
                let _ = writeln!(text, "  unavailable: {error}");
            }
            if let Some(note) = &host.note {
                let _ = writeln!(text, "  {note}");
            }
            for device in &host.output_devices {
                let mark = if device.is_default { " (default)" } else { "" };
                let _ = writeln!(text, "  [{}] {}{mark}", device.index, device.name);
                if let Some(id) = device.id.as_ref().filter(|id| **id != device.name) {
                    let _ = writeln!(text, "      id        {id}");
                }
                if !device.sample_rates.is_empty() {
                    let _ = writeln!(text, "      rates     {}", rates_text(&device.sample_rates));
                    let _ = writeln!(text, "      channels  {}", compact_counts(&device.channels));
                    let _ = writeln!(text, "      formats   {}", device.sample_formats.join(", "));
                    let buffer = match device.buffer_frames {
                        Some(r) if r.min == r.max => format!("{} frames", r.min),
                        Some(r) => format!("{}–{} frames", r.min, r.max),
                        None => "not reported".into(),
                    };
                    let _ = writeln!(text, "      buffer    {buffer}");
                }
                if let Some(chosen) = &device.ascenseur_would_use {
                    let buffer = match chosen.buffer_frames {
                        Some(frames) => format!("{frames} frames"),
                        None => "the device's default buffer".into(),
                    };
                    let _ = writeln!(
                        text,
                        "      plays at  {} Hz, {} × {} ch, {buffer}",
                        chosen.sample_rate, chosen.sample_format, chosen.channels
                    );
                }
                if let Some(error) = &device.error {
                    let _ = writeln!(text, "      cannot be used: {error}");
                }
            }
        }
        text.push_str("\nMIDI input ports\n");
        match &self.midi_input_ports {
            Some(ports) if ports.is_empty() => text.push_str("  none\n"),
            Some(ports) => {
                for (index, port) in ports.iter().enumerate() {
                    let _ = writeln!(text, "  [{index}] {port}");
                }
            }
            None => {
                let why = self.midi_error.as_deref().unwrap_or("not listed");
                let _ = writeln!(text, "  unavailable: {why}");
            }
        }
        text
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("the report is plain data")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpal::SampleFormat;

    #[test]
    fn channel_counts_are_compacted_into_runs() {
        assert_eq!(compact_counts(&(1..=64).collect::<Vec<_>>()), "1–64");
        assert_eq!(compact_counts(&[1, 2, 6]), "1, 2, 6");
        assert_eq!(compact_counts(&[2]), "2");
        assert_eq!(compact_counts(&[]), "");
    }

    #[test]
    fn capabilities_summarize_every_range() {
        let ranges = [
            SupportedStreamConfigRange::new(
                2,
                44_100,
                48_000,
                SupportedBufferSize::Range { min: 64, max: 4096 },
                SampleFormat::I16,
            ),
            SupportedStreamConfigRange::new(
                1,
                96_000,
                96_000,
                SupportedBufferSize::Range { min: 32, max: 1024 },
                SampleFormat::F32,
            ),
        ];
        let mut report = OutputDeviceReport {
            index: 0,
            name: "card".into(),
            id: None,
            is_default: true,
            sample_rates: Vec::new(),
            channels: Vec::new(),
            sample_formats: Vec::new(),
            buffer_frames: None,
            ascenseur_would_use: None,
            error: None,
        };
        fill_capabilities(&mut report, &ranges);
        assert_eq!(rates_text(&report.sample_rates), "44100–48000, 96000 Hz");
        assert_eq!(report.channels, [1, 2]);
        assert_eq!(report.sample_formats, ["f32", "i16"]);
        assert_eq!(
            report.buffer_frames,
            Some(FrameRange { min: 32, max: 4096 })
        );
    }
}
