//! Audio output through cpal: the default driver on every desktop (ALSA — and through it
//! PipeWire or PulseAudio — CoreAudio, WASAPI), and cpal's own JACK host.
//!
//! Opening happens in two steps because the engine is built at the sample rate the device
//! grants: [`open`] resolves the host, the device and the stream configuration, then
//! [`PreparedOutput::start`] takes the engine built for [`PreparedOutput::sample_rate`]
//! and plays it.
//!
//! The data callback (the backend's audio thread) publishes the clock pairing to
//! [`LiveInput`], renders, and converts into the device's format and channel count through
//! a scratch buffer sized before the stream starts; it never allocates, locks, prints or
//! blocks. All of it runs through the drivers' [`CallbackEdge`]: denormals flushed, no
//! allocation, and a panic caught there — the output goes silent and
//! [`DriverStatus::panicked`] is raised. Xruns are counted; a lost device raises
//! [`DriverStatus::lost`] and the session rebuilds by calling [`open`] and `start` again.

use crate::engine::Engine;
use crate::io::driver::{CallbackEdge, CostRecorder, DriverStatus};
use crate::io::live_input::{ClockWriter, LiveInput};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{
    BufferSize, FromSample, OutputCallbackInfo, SampleFormat, SizedSample, StreamConfig,
    SupportedBufferSize, SupportedStreamConfig, SupportedStreamConfigRange,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// The rate asked for when the user names none and the device offers it: the native rate
/// of nearly all current hardware, so no resampling in the system mixer.
pub const PREFERRED_SAMPLE_RATE: u32 = 48_000;
/// Frames per callback asked for when the user names none: 2.7 ms at 48 kHz, which an
/// ordinary desktop sustains with the whole band playing (see `ascenseur bench dsp`).
pub const DEFAULT_BUFFER_FRAMES: u32 = 128;
/// Largest `--buffer` accepted at all, whatever the device says (1.4 s at 48 kHz).
pub const MAX_BUFFER_FRAMES: u32 = 65_536;
/// Frames rendered per engine call when the device's format or channel count needs a
/// conversion; a longer callback is rendered in pieces of this size.
pub const SCRATCH_FRAMES: usize = 4096;
/// How long building a stream may take before the backend is given up on (honoured by
/// the backends that can time out, such as JACK).
const BUILD_TIMEOUT: Duration = Duration::from_secs(5);

/// What the user asked for; every field left `None` takes the default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputOptions {
    /// Host by name, case-insensitive ("alsa", "jack"); `None`: cpal's default host.
    pub host: Option<String>,
    /// Output device by name (exact, then unique case-insensitive substring), by cpal id
    /// (e.g. "hw:CARD=PCH,DEV=0"), or by index as `ascenseur devices` lists it.
    pub device: Option<String>,
    /// Sample rate in Hz; `None`: 48 kHz if offered, else the device's default.
    pub rate: Option<u32>,
    /// Frames per callback; `None`: [`DEFAULT_BUFFER_FRAMES`] clamped to the device's range.
    pub buffer: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum CpalError {
    #[error("unknown audio host '{name}' (available: {})", .available.join(", "))]
    UnknownHost {
        name: String,
        available: Vec<String>,
    },
    #[error("the audio host {host} cannot be used: {source}")]
    HostUnavailable { host: String, source: cpal::Error },
    #[error("cannot list the output devices of {host}: {source}")]
    Devices { host: String, source: cpal::Error },
    #[error("{host} has no output device{}", hint_for_host(.host))]
    NoDevice { host: String },
    #[error("{host} has no default output device; choose one with --device (available: {})", .available.join(", "))]
    NoDefaultDevice {
        host: String,
        available: Vec<String>,
    },
    #[error("no output device '{wanted}' on {host} (available: {})", .available.join(", "))]
    UnknownDevice {
        wanted: String,
        host: String,
        available: Vec<String>,
    },
    #[error("output device '{wanted}' on {host} is ambiguous: it matches {}; give the full name, the id or the index", .matches.join(", "))]
    AmbiguousDevice {
        wanted: String,
        host: String,
        matches: Vec<String>,
    },
    #[error("cannot read the configurations of output device '{device}': {source}")]
    Configs { device: String, source: cpal::Error },
    #[error(
        "output device '{device}' offers no configuration ascenseur can play (offered: {offered})"
    )]
    NoUsableConfig { device: String, offered: String },
    #[error(
        "sample rate {rate} Hz is not supported by output device '{device}' (supported: {supported})"
    )]
    UnsupportedRate {
        rate: u32,
        device: String,
        supported: String,
    },
    #[error(
        "buffer size {buffer} frames is out of range for output device '{device}' (supported: {min} to {max} frames)"
    )]
    BufferOutOfRange {
        buffer: u32,
        device: String,
        min: u32,
        max: u32,
    },
    #[error("cannot open an output stream on '{device}' ({config}): {source}")]
    Build {
        device: String,
        config: String,
        source: cpal::Error,
    },
    #[error("cannot start the output stream on '{device}': {source}")]
    Play { device: String, source: cpal::Error },
}

fn hint_for_host(host: &str) -> &'static str {
    if host.eq_ignore_ascii_case("jack") {
        " (no JACK server answered: start one, or set JACK_DEFAULT_SERVER to the name of the one that is running)"
    } else {
        ""
    }
}

/// Keep alsa-lib's messages about absent cards and unusable plugins (printed while
/// devices are probed) off stderr on this thread: they would scroll over the console and
/// say nothing the error values do not. The handler stays installed for the thread; each
/// call starts a fresh buffer for what it gathers, so the buffer does not grow for ever.
#[cfg(target_os = "linux")]
pub fn quiet_alsa_errors() -> impl Sized {
    alsa::Output::local_error_handler().ok()
}

#[cfg(not(target_os = "linux"))]
pub fn quiet_alsa_errors() -> impl Sized {}

/// A host by the name the user gave, or the default host.
pub fn resolve_host(name: Option<&str>) -> Result<cpal::Host, CpalError> {
    let Some(name) = name else {
        return Ok(cpal::default_host());
    };
    let wanted = name.trim();
    let id = cpal::ALL_HOSTS
        .iter()
        .copied()
        .find(|id| id.name().eq_ignore_ascii_case(wanted) || id.to_string() == wanted)
        .ok_or_else(|| CpalError::UnknownHost {
            name: name.to_string(),
            available: cpal::ALL_HOSTS.iter().map(|id| id.to_string()).collect(),
        })?;
    cpal::host_from_id(id).map_err(|source| CpalError::HostUnavailable {
        host: id.name().to_string(),
        source,
    })
}

/// An output device with the names the user may call it by.
#[derive(Clone)]
pub struct NamedDevice {
    pub device: cpal::Device,
    /// The description's name, e.g. "default" or "HDA Intel PCH, ALC892 Analog".
    pub name: String,
    /// cpal's id within the host, e.g. "hw:CARD=PCH,DEV=0" (stable across restarts).
    pub id: Option<String>,
    pub is_default: bool,
}

impl NamedDevice {
    /// "index 'name'" or "index 'name' (id)" for lists in messages.
    pub fn label(&self, index: usize) -> String {
        match &self.id {
            Some(id) if id != &self.name => format!("{index} '{}' ({id})", self.name),
            _ => format!("{index} '{}'", self.name),
        }
    }
}

/// The host's output devices in the order `ascenseur devices` numbers them. The host's
/// default device comes last when the host does not list it itself (ALSA's "default"
/// when no configuration file hints it).
pub fn output_devices(host: &cpal::Host) -> Result<Vec<NamedDevice>, cpal::Error> {
    let listed: Vec<cpal::Device> = host.output_devices()?.collect();
    Ok(named_devices(
        listed,
        host.default_output_device(),
        cpal::DeviceDirection::Input,
    ))
}

/// The host's input devices, numbered and completed as [`output_devices`] does.
pub fn input_devices(host: &cpal::Host) -> Result<Vec<NamedDevice>, cpal::Error> {
    let listed: Vec<cpal::Device> = host.input_devices()?.collect();
    Ok(named_devices(
        listed,
        host.default_input_device(),
        cpal::DeviceDirection::Output,
    ))
}

fn named_devices(
    listed: Vec<cpal::Device>,
    default: Option<cpal::Device>,
    other_direction: cpal::DeviceDirection,
) -> Vec<NamedDevice> {
    let mut devices: Vec<NamedDevice> = listed
        .into_iter()
        .filter(|device| {
            // Some hosts (cpal's JACK) offer their capture device as an output too.
            device
                .description()
                .map_or(true, |d| d.direction() != other_direction)
        })
        .map(|device| {
            let is_default = default.as_ref() == Some(&device);
            named(device, is_default)
        })
        .collect();
    if let Some(default) = default {
        if !devices.iter().any(|d| d.is_default) {
            devices.push(named(default, true));
        }
    }
    devices
}

fn named(device: cpal::Device, is_default: bool) -> NamedDevice {
    let id = device.id().ok().map(|id| id.id().to_string());
    let name = device
        .description()
        .map(|d| d.name().to_string())
        .ok()
        .or_else(|| id.clone())
        .unwrap_or_else(|| device.to_string());
    NamedDevice {
        device,
        name,
        id,
        is_default,
    }
}

/// How a wanted device name failed to match.
#[derive(Debug, PartialEq, Eq)]
pub enum DeviceMatch {
    Found(usize),
    Ambiguous(Vec<usize>),
    NotFound,
}

/// Find `wanted` among devices named `(name, id)`: an exact name or id, then an index,
/// then a unique case-insensitive substring of a name or id.
pub fn match_device(devices: &[(&str, Option<&str>)], wanted: &str) -> DeviceMatch {
    let wanted = wanted.trim();
    let exact: Vec<usize> = (0..devices.len())
        .filter(|&i| devices[i].0 == wanted || devices[i].1 == Some(wanted))
        .collect();
    match exact.len() {
        1 => return DeviceMatch::Found(exact[0]),
        n if n > 1 => return DeviceMatch::Ambiguous(exact),
        _ => {}
    }
    if let Ok(index) = wanted.parse::<usize>() {
        return if index < devices.len() {
            DeviceMatch::Found(index)
        } else {
            DeviceMatch::NotFound
        };
    }
    let needle = wanted.to_lowercase();
    let partial: Vec<usize> = (0..devices.len())
        .filter(|&i| {
            devices[i].0.to_lowercase().contains(&needle)
                || devices[i]
                    .1
                    .is_some_and(|id| id.to_lowercase().contains(&needle))
        })
        .collect();
    match partial.len() {
        0 => DeviceMatch::NotFound,
        1 => DeviceMatch::Found(partial[0]),
        _ => DeviceMatch::Ambiguous(partial),
    }
}

fn resolve_device(
    host_name: &str,
    devices: Vec<NamedDevice>,
    wanted: Option<&str>,
) -> Result<NamedDevice, CpalError> {
    if devices.is_empty() {
        return Err(CpalError::NoDevice {
            host: host_name.to_string(),
        });
    }
    let labels = || -> Vec<String> {
        devices
            .iter()
            .enumerate()
            .map(|(i, d)| d.label(i))
            .collect()
    };
    // An empty --device (e.g. from an unset variable in a script) means the default.
    let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) else {
        return match devices.iter().position(|d| d.is_default) {
            Some(i) => Ok(devices[i].clone()),
            None => Err(CpalError::NoDefaultDevice {
                host: host_name.to_string(),
                available: labels(),
            }),
        };
    };
    let names: Vec<(&str, Option<&str>)> = devices
        .iter()
        .map(|d| (d.name.as_str(), d.id.as_deref()))
        .collect();
    match match_device(&names, wanted) {
        DeviceMatch::Found(i) => Ok(devices[i].clone()),
        DeviceMatch::Ambiguous(found) => Err(CpalError::AmbiguousDevice {
            wanted: wanted.to_string(),
            host: host_name.to_string(),
            matches: found.iter().map(|&i| devices[i].label(i)).collect(),
        }),
        DeviceMatch::NotFound => Err(CpalError::UnknownDevice {
            wanted: wanted.to_string(),
            host: host_name.to_string(),
            available: labels(),
        }),
    }
}

/// The stream configuration chosen for a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigChoice {
    pub sample_rate: u32,
    pub channels: u16,
    pub sample_format: SampleFormat,
    /// `Fixed(frames)` when the device lets us choose, `Default` when it does not say.
    pub buffer: BufferSize,
    pub buffer_range: SupportedBufferSize,
}

impl ConfigChoice {
    pub fn stream_config(&self) -> StreamConfig {
        StreamConfig {
            channels: self.channels,
            sample_rate: self.sample_rate,
            buffer_size: self.buffer,
        }
    }
}

/// Preference among the sample formats we can convert to (lower is better); `None` for
/// formats we cannot write (DSD and formats added to cpal later).
pub fn format_rank(format: SampleFormat) -> Option<u8> {
    Some(match format {
        SampleFormat::F32 => 0,
        SampleFormat::F64 => 1,
        SampleFormat::I32 => 2,
        SampleFormat::I24 => 3,
        SampleFormat::I16 => 4,
        SampleFormat::U32 => 5,
        SampleFormat::U24 => 6,
        SampleFormat::U16 => 7,
        SampleFormat::I64 => 8,
        SampleFormat::U64 => 9,
        SampleFormat::I8 => 10,
        SampleFormat::U8 => 11,
        _ => return None,
    })
}

/// Stereo first; then the narrowest wider layout (first two channels used); mono last
/// (mixed down).
fn channel_rank(channels: u16) -> u32 {
    match channels {
        2 => 0,
        1 => u32::from(u16::MAX) + 1,
        n => u32::from(n),
    }
}

/// "44100–48000 Hz, 96000 Hz" for messages and listings.
pub fn describe_rates(ranges: &[SupportedStreamConfigRange]) -> String {
    let mut rates: Vec<(u32, u32)> = ranges
        .iter()
        .map(|r| (r.min_sample_rate(), r.max_sample_rate()))
        .collect();
    rates.sort_unstable();
    rates.dedup();
    if rates.is_empty() {
        return "none".into();
    }
    rates
        .iter()
        .map(|&(min, max)| {
            if min == max {
                format!("{min} Hz")
            } else {
                format!("{min}–{max} Hz")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_offered(ranges: &[SupportedStreamConfigRange]) -> String {
    let mut formats: Vec<String> = ranges
        .iter()
        .map(|r| r.sample_format().to_string())
        .collect();
    formats.sort();
    formats.dedup();
    if formats.is_empty() {
        "nothing".into()
    } else {
        format!("{} at {}", formats.join(", "), describe_rates(ranges))
    }
}

/// Choose rate, format, channels and buffer for a device offering `ranges` (whose own
/// default is `default`), honouring the user's `rate` and `buffer` when given.
pub fn choose_config(
    device: &str,
    ranges: &[SupportedStreamConfigRange],
    default: Option<&SupportedStreamConfig>,
    rate: Option<u32>,
    buffer: Option<u32>,
) -> Result<ConfigChoice, CpalError> {
    let usable: Vec<&SupportedStreamConfigRange> = ranges
        .iter()
        .filter(|r| format_rank(r.sample_format()).is_some() && r.channels() > 0)
        .collect();
    if usable.is_empty() {
        return Err(CpalError::NoUsableConfig {
            device: device.to_string(),
            offered: describe_offered(ranges),
        });
    }
    let offers = |rate: u32| usable.iter().any(|r| r.contains_rate(rate));
    let sample_rate = match rate {
        Some(rate) if offers(rate) => rate,
        Some(rate) => {
            return Err(CpalError::UnsupportedRate {
                rate,
                device: device.to_string(),
                supported: describe_rates(ranges),
            });
        }
        None if offers(PREFERRED_SAMPLE_RATE) => PREFERRED_SAMPLE_RATE,
        None => match default.map(|d| d.sample_rate()) {
            Some(rate) if offers(rate) => rate,
            _ => usable
                .iter()
                .map(|r| r.max_sample_rate())
                .max()
                .unwrap_or(PREFERRED_SAMPLE_RATE),
        },
    };
    let best = usable
        .iter()
        .filter(|r| r.contains_rate(sample_rate))
        .min_by_key(|r| (channel_rank(r.channels()), format_rank(r.sample_format())))
        .expect("the rate was chosen among the usable ranges");
    let buffer_range = *best.buffer_size();
    let buffer = match (buffer, buffer_range) {
        (Some(frames), SupportedBufferSize::Range { min, max }) if frames < min || frames > max => {
            return Err(CpalError::BufferOutOfRange {
                buffer: frames,
                device: device.to_string(),
                min,
                max,
            });
        }
        (Some(frames), _) if frames == 0 || frames > MAX_BUFFER_FRAMES => {
            return Err(CpalError::BufferOutOfRange {
                buffer: frames,
                device: device.to_string(),
                min: 1,
                max: MAX_BUFFER_FRAMES,
            });
        }
        (Some(frames), _) => BufferSize::Fixed(frames),
        (None, SupportedBufferSize::Range { min, max }) => {
            BufferSize::Fixed(DEFAULT_BUFFER_FRAMES.clamp(min, max.max(min)))
        }
        (None, SupportedBufferSize::Unknown) => BufferSize::Default,
    };
    Ok(ConfigChoice {
        sample_rate,
        channels: best.channels(),
        sample_format: best.sample_format(),
        buffer,
        buffer_range,
    })
}

/// A resolved host, device and configuration, ready to play an engine built at
/// [`PreparedOutput::sample_rate`].
pub struct PreparedOutput {
    host_name: String,
    device_name: String,
    device: cpal::Device,
    choice: ConfigChoice,
    // Kept alive with the device: some hosts tie their devices' lifetime to the host's.
    _host: cpal::Host,
}

/// Resolve host, device and stream configuration. Main thread, before the engine exists.
pub fn open(options: &OutputOptions) -> Result<PreparedOutput, CpalError> {
    let _quiet = quiet_alsa_errors();
    let host = resolve_host(options.host.as_deref())?;
    let host_name = host.id().name().to_string();
    let devices = output_devices(&host).map_err(|source| CpalError::Devices {
        host: host_name.clone(),
        source,
    })?;
    let named = resolve_device(&host_name, devices, options.device.as_deref())?;
    let configs_error = |source| CpalError::Configs {
        device: named.name.clone(),
        source,
    };
    let ranges: Vec<SupportedStreamConfigRange> = named
        .device
        .supported_output_configs()
        .map_err(configs_error)?
        .collect();
    let default = named.device.default_output_config().ok();
    let choice = choose_config(
        &named.name,
        &ranges,
        default.as_ref(),
        options.rate,
        options.buffer,
    )?;
    Ok(PreparedOutput {
        host_name,
        device_name: named.name,
        device: named.device,
        choice,
        _host: host,
    })
}

/// What the callback observed, for the other threads.
#[derive(Debug, Default)]
struct Observed {
    first_frames: AtomicU32,
    last_frames: AtomicU32,
    /// playback − callback of the last callback, in nanoseconds (0: not reported).
    latency_nanos: AtomicU64,
    /// [`error_code`] of the last error that was not an xrun (0: none).
    last_error: AtomicU8,
}

impl Observed {
    /// Note a callback of `frames` frames: what the backend gave and its timestamps.
    /// Audio thread.
    fn callback(&self, frames: usize, info: &OutputCallbackInfo) {
        let stamp = info.timestamp();
        let latency = stamp.playback - stamp.callback;
        self.latency_nanos
            .store(latency.as_nanos() as u64, Ordering::Relaxed);
        if self.first_frames.load(Ordering::Relaxed) == 0 {
            self.first_frames.store(frames as u32, Ordering::Relaxed);
        }
        self.last_frames.store(frames as u32, Ordering::Relaxed);
    }
}

/// A stable small code for an error kind, so the error callback stores it without
/// allocating.
fn error_code(kind: cpal::ErrorKind) -> u8 {
    use cpal::ErrorKind as K;
    match kind {
        K::DeviceBusy => 1,
        K::DeviceChanged => 2,
        K::DeviceNotAvailable => 3,
        K::HostUnavailable => 4,
        K::InvalidInput => 5,
        K::PermissionDenied => 6,
        K::RealtimeDenied => 7,
        K::ResourceExhausted => 8,
        K::StreamInvalidated => 9,
        K::UnsupportedConfig => 10,
        K::UnsupportedOperation => 11,
        K::Xrun => 12,
        K::BackendError => 13,
        _ => 14,
    }
}

fn error_kind(code: u8) -> Option<cpal::ErrorKind> {
    use cpal::ErrorKind as K;
    Some(match code {
        1 => K::DeviceBusy,
        2 => K::DeviceChanged,
        3 => K::DeviceNotAvailable,
        4 => K::HostUnavailable,
        5 => K::InvalidInput,
        6 => K::PermissionDenied,
        7 => K::RealtimeDenied,
        8 => K::ResourceExhausted,
        9 => K::StreamInvalidated,
        10 => K::UnsupportedConfig,
        11 => K::UnsupportedOperation,
        12 => K::Xrun,
        13 => K::BackendError,
        14 => K::Other,
        _ => return None,
    })
}

/// Whether a stream error means the stream is gone and must be rebuilt. An xrun is a
/// glitch, reported and never a reason to rebuild; a reroute to another device or a
/// refused real-time priority leave the stream playing.
pub fn error_loses_stream(kind: cpal::ErrorKind) -> bool {
    !matches!(
        kind,
        cpal::ErrorKind::Xrun | cpal::ErrorKind::DeviceChanged | cpal::ErrorKind::RealtimeDenied
    )
}

/// Everything the data callback owns: the engine, the scratch buffer for conversions, and
/// what it reports. [`PreparedOutput::start`] moves it into the stream's callback; tests
/// drive it by hand, as a backend would.
pub struct OutputRenderer {
    engine: Engine,
    /// Interleaved stereo, [`SCRATCH_FRAMES`] frames, for devices that need conversion.
    scratch: Box<[f32]>,
    channels: usize,
    sample_rate: u32,
    status: Arc<DriverStatus>,
    observed: Arc<Observed>,
    /// Held until the stream is dropped: the one writer of the clock pairing.
    clock: Option<ClockWriter>,
    /// Each callback's cost, for `bench dsp` on a device.
    costs: Option<CostRecorder>,
}

impl OutputRenderer {
    /// A renderer for a device of `channels` channels at `sample_rate` (the rate `engine`
    /// was built at). Allocates everything the callback will use.
    pub fn new(
        engine: Engine,
        channels: u16,
        sample_rate: u32,
        live_input: Option<Arc<LiveInput>>,
    ) -> OutputRenderer {
        OutputRenderer {
            engine,
            scratch: vec![0.0; 2 * SCRATCH_FRAMES].into_boxed_slice(),
            channels: usize::from(channels.max(1)),
            sample_rate,
            status: Arc::new(DriverStatus::default()),
            observed: Arc::new(Observed::default()),
            clock: live_input.as_ref().and_then(LiveInput::clock_writer),
            costs: None,
        }
    }

    /// Log each callback's cost into `costs` (benches).
    pub fn with_costs(mut self, costs: CostRecorder) -> OutputRenderer {
        self.costs = Some(costs);
        self
    }

    pub fn status(&self) -> &Arc<DriverStatus> {
        &self.status
    }

    /// One callback filling `out`, `frames` frames long, through the drivers'
    /// [`CallbackEdge`]: `render` fills it from the engine (with the scratch buffer at
    /// hand); after a panic it is filled with `silence`. Audio thread.
    fn callback<T: Copy>(
        &mut self,
        out: &mut [T],
        frames: usize,
        info: &OutputCallbackInfo,
        silence: T,
        render: impl FnOnce(&mut Engine, &mut [f32], &mut [T]),
    ) {
        let edge = CallbackEdge {
            status: &self.status,
            costs: self.costs.as_mut(),
            frames,
            sample_rate: self.sample_rate,
        };
        let observed = &*self.observed;
        let engine = &mut self.engine;
        let scratch = &mut self.scratch;
        let clock = &self.clock;
        let sample_rate = self.sample_rate;
        edge.run(
            out,
            |out, started| {
                observed.callback(frames, info);
                if let Some(clock) = clock {
                    clock.publish(engine.clock(), started, frames as u32, sample_rate);
                }
                render(engine, scratch, out);
            },
            |out| {
                observed.callback(frames, info);
                out.fill(silence);
            },
        );
    }

    /// A stereo f32 device: the engine renders straight into the device buffer. Audio
    /// thread.
    pub fn render_stereo_f32(&mut self, out: &mut [f32], info: &OutputCallbackInfo) {
        let frames = out.len() / 2;
        self.callback(out, frames, info, 0.0, |engine, _, out| engine.process(out));
    }

    /// Any other device: render into the scratch buffer and convert, in pieces of
    /// [`SCRATCH_FRAMES`] when the device asks for more. Audio thread.
    pub fn render_converted<T: SizedSample + FromSample<f32>>(
        &mut self,
        out: &mut [T],
        info: &OutputCallbackInfo,
    ) {
        let channels = self.channels;
        let frames = out.len() / channels;
        self.callback(out, frames, info, T::EQUILIBRIUM, |engine, scratch, out| {
            for device_block in out.chunks_mut(SCRATCH_FRAMES * channels) {
                let block_frames = device_block.len() / channels;
                let stereo = &mut scratch[..2 * block_frames];
                engine.process(stereo);
                write_stereo_to_device(stereo, device_block, channels);
            }
        });
    }
}

/// Write interleaved stereo `stereo` into a device buffer of `channels` interleaved
/// channels in the device's sample type: mono is the mix of both sides, more than two
/// channels get left and right in the first two and silence in the rest.
pub fn write_stereo_to_device<T: SizedSample + FromSample<f32>>(
    stereo: &[f32],
    device: &mut [T],
    channels: usize,
) {
    match channels {
        0 => {}
        1 => {
            for (out, frame) in device.iter_mut().zip(stereo.chunks_exact(2)) {
                *out = T::from_sample(0.5 * (frame[0] + frame[1]));
            }
        }
        _ => {
            for (out, frame) in device
                .chunks_exact_mut(channels)
                .zip(stereo.chunks_exact(2))
            {
                out[0] = T::from_sample(frame[0]);
                out[1] = T::from_sample(frame[1]);
                out[2..].fill(T::EQUILIBRIUM);
            }
        }
    }
}

impl PreparedOutput {
    /// The host, the device and the configuration chosen for it, for a stream that is
    /// not the engine's (the round-trip bench).
    pub fn into_parts(self) -> (cpal::Host, cpal::Device, ConfigChoice) {
        (self._host, self.device, self.choice)
    }

    /// The rate the engine must be built at.
    pub fn sample_rate(&self) -> u32 {
        self.choice.sample_rate
    }

    /// The host's name as cpal gives it ("ALSA", "JACK").
    pub fn host_name(&self) -> &str {
        &self.host_name
    }

    pub fn device_name(&self) -> &str {
        &self.device_name
    }

    /// Frames per callback asked of the device (`None`: the device's default).
    pub fn requested_buffer(&self) -> Option<u32> {
        match self.choice.buffer {
            BufferSize::Fixed(frames) => Some(frames),
            BufferSize::Default => None,
        }
    }

    pub fn config(&self) -> &ConfigChoice {
        &self.choice
    }

    /// Build the stream around `engine` and start it. Each callback publishes its clock
    /// pairing to `live_input`, so input from other threads can be timed against it.
    pub fn start(
        self,
        engine: Engine,
        live_input: Option<Arc<LiveInput>>,
    ) -> Result<CpalSession, CpalError> {
        self.start_with(engine, live_input, None)
    }

    /// [`PreparedOutput::start`], logging each callback's cost into `costs` (benches).
    pub fn start_measured(
        self,
        engine: Engine,
        costs: CostRecorder,
    ) -> Result<CpalSession, CpalError> {
        self.start_with(engine, None, Some(costs))
    }

    fn start_with(
        self,
        engine: Engine,
        live_input: Option<Arc<LiveInput>>,
        costs: Option<CostRecorder>,
    ) -> Result<CpalSession, CpalError> {
        let choice = self.choice;
        let channels = usize::from(choice.channels);
        let mut renderer =
            OutputRenderer::new(engine, choice.channels, choice.sample_rate, live_input);
        if let Some(costs) = costs {
            renderer = renderer.with_costs(costs);
        }
        let status = Arc::clone(&renderer.status);
        let observed = Arc::clone(&renderer.observed);
        let on_error = {
            let status = Arc::clone(&status);
            let observed = Arc::clone(&observed);
            // Called on the backend's threads (the audio thread itself on some): atomics only.
            move |error: cpal::Error| {
                let kind = error.kind();
                if kind == cpal::ErrorKind::Xrun {
                    status.xruns.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                observed
                    .last_error
                    .store(error_code(kind), Ordering::Relaxed);
                if error_loses_stream(kind) {
                    status.lost.store(true, Ordering::Relaxed);
                }
            }
        };
        let config = choice.stream_config();
        let stream = match choice.sample_format {
            SampleFormat::F32 if channels == 2 => {
                let mut renderer = renderer;
                self.device.build_output_stream(
                    config,
                    move |out: &mut [f32], info: &OutputCallbackInfo| {
                        renderer.render_stereo_f32(out, info)
                    },
                    on_error,
                    Some(BUILD_TIMEOUT),
                )
            }
            SampleFormat::F32 => build::<f32>(&self.device, config, renderer, on_error),
            SampleFormat::F64 => build::<f64>(&self.device, config, renderer, on_error),
            SampleFormat::I32 => build::<i32>(&self.device, config, renderer, on_error),
            SampleFormat::I24 => build::<cpal::I24>(&self.device, config, renderer, on_error),
            SampleFormat::I16 => build::<i16>(&self.device, config, renderer, on_error),
            SampleFormat::U32 => build::<u32>(&self.device, config, renderer, on_error),
            SampleFormat::U24 => build::<cpal::U24>(&self.device, config, renderer, on_error),
            SampleFormat::U16 => build::<u16>(&self.device, config, renderer, on_error),
            SampleFormat::I64 => build::<i64>(&self.device, config, renderer, on_error),
            SampleFormat::U64 => build::<u64>(&self.device, config, renderer, on_error),
            SampleFormat::I8 => build::<i8>(&self.device, config, renderer, on_error),
            SampleFormat::U8 => build::<u8>(&self.device, config, renderer, on_error),
            other => Err(cpal::Error::with_message(
                cpal::ErrorKind::UnsupportedConfig,
                format!("sample format {other} cannot be written"),
            )),
        }
        .map_err(|source| CpalError::Build {
            device: self.device_name.clone(),
            config: describe_choice(&choice),
            source,
        })?;
        stream.play().map_err(|source| CpalError::Play {
            device: self.device_name.clone(),
            source,
        })?;
        let reported_buffer = stream.buffer_size().ok();
        Ok(CpalSession {
            stream: Some(stream),
            status,
            observed,
            host_name: self.host_name,
            device_name: self.device_name,
            choice,
            reported_buffer,
        })
    }
}

fn build<T: SizedSample + FromSample<f32>>(
    device: &cpal::Device,
    config: StreamConfig,
    mut renderer: OutputRenderer,
    on_error: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<cpal::Stream, cpal::Error> {
    device.build_output_stream(
        config,
        move |out: &mut [T], info: &OutputCallbackInfo| renderer.render_converted(out, info),
        on_error,
        Some(BUILD_TIMEOUT),
    )
}

fn describe_choice(choice: &ConfigChoice) -> String {
    let buffer = match choice.buffer {
        BufferSize::Fixed(frames) => format!("{frames} frames"),
        BufferSize::Default => "default buffer".into(),
    };
    format!(
        "{} Hz, {} × {} ch, {buffer}",
        choice.sample_rate, choice.sample_format, choice.channels
    )
}

/// A playing cpal output stream.
pub struct CpalSession {
    stream: Option<cpal::Stream>,
    pub status: Arc<DriverStatus>,
    observed: Arc<Observed>,
    host_name: String,
    device_name: String,
    choice: ConfigChoice,
    reported_buffer: Option<u32>,
}

impl CpalSession {
    pub fn host_name(&self) -> &str {
        &self.host_name
    }

    pub fn device_name(&self) -> &str {
        &self.device_name
    }

    pub fn sample_rate(&self) -> u32 {
        self.choice.sample_rate
    }

    pub fn sample_format(&self) -> SampleFormat {
        self.choice.sample_format
    }

    pub fn channels(&self) -> u16 {
        self.choice.channels
    }

    /// Frames per callback asked of the device (`None`: the device's default).
    pub fn requested_buffer(&self) -> Option<u32> {
        match self.choice.buffer {
            BufferSize::Fixed(frames) => Some(frames),
            BufferSize::Default => None,
        }
    }

    /// Frames of the first and the latest callback, once one has run.
    pub fn observed_frames(&self) -> Option<(u32, u32)> {
        let first = self.observed.first_frames.load(Ordering::Relaxed);
        let last = self.observed.last_frames.load(Ordering::Relaxed);
        (first > 0).then_some((first, last))
    }

    /// Frames per callback as granted: what the latest callback was given; before the first
    /// callback, what the backend said when the stream was built, else what was asked.
    pub fn buffer_frames(&self) -> Option<u32> {
        self.observed_frames()
            .map(|(_, last)| last)
            .or(self.reported_buffer)
            .or(self.requested_buffer())
    }

    /// Time from a callback to its first frame reaching the device, once a callback's
    /// timestamps have said it.
    pub fn reported_latency_ms(&self) -> Option<f64> {
        let nanos = self.observed.latency_nanos.load(Ordering::Relaxed);
        (nanos > 0).then(|| nanos as f64 / 1e6)
    }

    /// The last stream error that was not an xrun, if any (why the device was lost).
    pub fn last_error(&self) -> Option<cpal::ErrorKind> {
        error_kind(self.observed.last_error.load(Ordering::Relaxed))
    }

    /// "ALSA · default · 48000 Hz · 128 frames (2.67 ms) · i16 × 2 ch · latency 5.33 ms"
    /// (the latency as the backend reports it, once it has called back).
    pub fn describe(&self) -> String {
        let rate = self.sample_rate();
        let buffer = match self.buffer_frames() {
            Some(frames) => format!(
                "{frames} frames ({:.2} ms)",
                f64::from(frames) * 1e3 / f64::from(rate)
            ),
            None => "default buffer".into(),
        };
        // Before the first callback the backend has not said: a buffer's worth would be
        // a guess, and the start of the line would pass it for a measurement.
        let latency = match self.reported_latency_ms() {
            Some(ms) => format!(" · latency {ms:.2} ms"),
            None => String::from(" · latency not reported yet"),
        };
        format!(
            "{} · {} · {rate} Hz · {buffer} · {} × {} ch{latency}",
            self.host_name,
            self.device_name,
            self.sample_format(),
            self.channels()
        )
    }

    /// Stop the stream and release the device (also safe after the device was lost).
    pub fn stop(mut self) {
        self.stream.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(
        channels: u16,
        min: u32,
        max: u32,
        format: SampleFormat,
        buffer: SupportedBufferSize,
    ) -> SupportedStreamConfigRange {
        SupportedStreamConfigRange::new(channels, min, max, buffer, format)
    }

    const ANY_BUFFER: SupportedBufferSize = SupportedBufferSize::Range { min: 16, max: 8192 };

    #[test]
    fn prefers_48k_stereo_f32_and_a_small_fixed_buffer() {
        let ranges = [
            range(1, 8000, 192_000, SampleFormat::I16, ANY_BUFFER),
            range(2, 8000, 192_000, SampleFormat::I16, ANY_BUFFER),
            range(2, 8000, 192_000, SampleFormat::F32, ANY_BUFFER),
            range(6, 8000, 192_000, SampleFormat::F32, ANY_BUFFER),
        ];
        let choice = choose_config("dev", &ranges, None, None, None).unwrap();
        assert_eq!(choice.sample_rate, 48_000);
        assert_eq!(choice.channels, 2);
        assert_eq!(choice.sample_format, SampleFormat::F32);
        assert_eq!(choice.buffer, BufferSize::Fixed(DEFAULT_BUFFER_FRAMES));
    }

    #[test]
    fn falls_back_to_the_device_default_rate_and_an_integer_format() {
        let ranges = [range(2, 44_100, 44_100, SampleFormat::I16, ANY_BUFFER)];
        let default = ranges[0].with_sample_rate(44_100);
        let choice = choose_config("dev", &ranges, Some(&default), None, None).unwrap();
        assert_eq!(choice.sample_rate, 44_100);
        assert_eq!(choice.sample_format, SampleFormat::I16);
    }

    #[test]
    fn wider_layouts_beat_mono_and_the_default_buffer_is_clamped() {
        let ranges = [
            range(1, 48_000, 48_000, SampleFormat::F32, ANY_BUFFER),
            range(
                4,
                48_000,
                48_000,
                SampleFormat::I32,
                SupportedBufferSize::Range {
                    min: 256,
                    max: 1024,
                },
            ),
        ];
        let choice = choose_config("dev", &ranges, None, None, None).unwrap();
        assert_eq!(choice.channels, 4);
        assert_eq!(choice.buffer, BufferSize::Fixed(256));
        let unknown = [range(
            1,
            48_000,
            48_000,
            SampleFormat::F32,
            SupportedBufferSize::Unknown,
        )];
        let choice = choose_config("dev", &unknown, None, None, None).unwrap();
        assert_eq!(choice.channels, 1);
        assert_eq!(choice.buffer, BufferSize::Default);
        // A range the device does not bound still takes a requested size.
        let choice = choose_config("dev", &unknown, None, None, Some(96)).unwrap();
        assert_eq!(choice.buffer, BufferSize::Fixed(96));
    }

    #[test]
    fn a_bad_rate_or_buffer_names_the_value_and_what_is_supported() {
        let ranges = [
            range(2, 44_100, 48_000, SampleFormat::F32, ANY_BUFFER),
            range(2, 96_000, 96_000, SampleFormat::F32, ANY_BUFFER),
        ];
        let error = choose_config("Card", &ranges, None, Some(22_050), None)
            .unwrap_err()
            .to_string();
        assert!(error.contains("22050"), "{error}");
        assert!(error.contains("44100–48000 Hz, 96000 Hz"), "{error}");
        assert!(error.contains("'Card'"), "{error}");
        let error = choose_config("Card", &ranges, None, None, Some(8))
            .unwrap_err()
            .to_string();
        assert!(error.contains("buffer size 8 frames"), "{error}");
        assert!(error.contains("16 to 8192"), "{error}");
        let choice = choose_config("Card", &ranges, None, Some(96_000), Some(512)).unwrap();
        assert_eq!(
            (choice.sample_rate, choice.buffer),
            (96_000, BufferSize::Fixed(512))
        );
    }

    #[test]
    fn formats_that_cannot_be_written_are_refused_by_name() {
        let ranges = [range(2, 48_000, 48_000, SampleFormat::DsdU8, ANY_BUFFER)];
        let error = choose_config("dsd", &ranges, None, None, None)
            .unwrap_err()
            .to_string();
        assert!(error.contains("no configuration"), "{error}");
        assert!(error.contains("48000 Hz"), "{error}");
    }

    #[test]
    fn devices_match_by_exact_name_or_id_then_index_then_unique_substring() {
        let devices = [
            ("default", Some("default")),
            ("HDA Intel PCH, ALC892 Analog", Some("hw:CARD=PCH,DEV=0")),
            ("HDA Intel PCH, HDMI 0", Some("hw:CARD=PCH,DEV=3")),
            ("USB Audio", Some("hw:CARD=Device,DEV=0")),
        ];
        assert_eq!(match_device(&devices, "default"), DeviceMatch::Found(0));
        assert_eq!(
            match_device(&devices, "hw:CARD=PCH,DEV=3"),
            DeviceMatch::Found(2)
        );
        assert_eq!(match_device(&devices, "3"), DeviceMatch::Found(3));
        assert_eq!(match_device(&devices, "9"), DeviceMatch::NotFound);
        assert_eq!(match_device(&devices, "usb"), DeviceMatch::Found(3));
        assert_eq!(
            match_device(&devices, "hda intel"),
            DeviceMatch::Ambiguous(vec![1, 2])
        );
        assert_eq!(match_device(&devices, "nothing"), DeviceMatch::NotFound);
    }

    #[test]
    fn stereo_is_written_as_mono_stereo_or_the_first_two_of_many_channels() {
        let stereo = [0.5f32, -0.5, 1.0, 0.0];
        let mut mono = [0i16; 2];
        write_stereo_to_device(&stereo, &mut mono, 1);
        assert_eq!(mono, [0, 16_384]);
        let mut two = [0.0f32; 4];
        write_stereo_to_device(&stereo, &mut two, 2);
        assert_eq!(two, stereo);
        let mut four = [7i32; 8];
        write_stereo_to_device(&stereo, &mut four, 4);
        assert_eq!(four, [1 << 30, -(1 << 30), 0, 0, i32::MAX, 0, 0, 0]);
        let mut unsigned = [0u16; 4];
        write_stereo_to_device(&stereo, &mut unsigned, 2);
        assert_eq!(unsigned, [49_152, 16_384, u16::MAX, 32_768]);
        let mut wide = [0.0f64; 2];
        write_stereo_to_device(&[0.25, -1.0], &mut wide, 2);
        assert_eq!(wide, [0.25, -1.0]);
    }

    #[test]
    fn every_error_kind_round_trips_through_its_code() {
        use cpal::ErrorKind as K;
        for kind in [
            K::DeviceBusy,
            K::DeviceChanged,
            K::DeviceNotAvailable,
            K::HostUnavailable,
            K::InvalidInput,
            K::PermissionDenied,
            K::RealtimeDenied,
            K::ResourceExhausted,
            K::StreamInvalidated,
            K::UnsupportedConfig,
            K::UnsupportedOperation,
            K::Xrun,
            K::BackendError,
            K::Other,
        ] {
            assert_eq!(error_kind(error_code(kind)), Some(kind));
        }
        assert_eq!(error_kind(0), None);
        assert!(!error_loses_stream(K::Xrun));
        assert!(error_loses_stream(K::DeviceNotAvailable));
        assert!(error_loses_stream(K::BackendError));
    }
}
