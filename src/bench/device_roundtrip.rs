//! Audio round trip through a desktop audio device (cpal): noise bursts out of an output
//! device, through a loopback cable, into an input device — the measurement
//! [`super::roundtrip`] makes on JACK, for machines without it.
//!
//! Output and input are two streams with their own callbacks, so there is no shared frame
//! counter: each callback notes the instant it began and its first frame. A burst written
//! at offset *o* of an output callback that began at *A*, and found at offset *k* of an
//! input callback that began at *B*, took `(B − A) × rate + k − o` frames: from the moment
//! the instrument writes a sample to the moment it could read it back, as `jack_iodelay`
//! counts. Callback scheduling adds a little spread, which min/median/max show.

use super::roundtrip::{BURST_LEN, RoundtripError, RoundtripReport, burst, find_burst};
use crate::io::cpal_out::{self, CpalError, OutputOptions};
use cpal::traits::{DeviceTrait, StreamTrait};
use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Which devices make the loop.
#[derive(Clone, Debug, Default)]
pub struct DeviceLoop {
    pub host: Option<String>,
    /// Output device (default: the host's default output).
    pub output: Option<String>,
    /// Input device (default: the host's default input).
    pub input: Option<String>,
    pub rate: Option<u32>,
}

/// One callback's place in time: when it began, and its first frame in its stream.
#[derive(Clone, Copy, Debug, Default)]
struct CallbackMark {
    at: Option<Instant>,
    first_frame: u64,
}

/// Callback marks kept: a few seconds of small buffers.
const MARKS: usize = 8192;

fn device_error(host: &str, what: &str, error: impl std::fmt::Display) -> RoundtripError {
    RoundtripError::Device(format!("{what} on {host}: {error}"))
}

/// The input device `wanted` (as `--device` matches outputs), or the host's default.
fn find_input(
    host: &cpal::Host,
    wanted: Option<&str>,
) -> Result<cpal_out::NamedDevice, RoundtripError> {
    let host_name = host.id().name().to_string();
    let devices = cpal_out::input_devices(host)
        .map_err(|e| device_error(&host_name, "cannot list the input devices", e))?;
    let labels = || {
        devices
            .iter()
            .enumerate()
            .map(|(i, d)| d.label(i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let found = match wanted.map(str::trim).filter(|w| !w.is_empty()) {
        None => devices.iter().position(|d| d.is_default),
        Some(wanted) => {
            let names: Vec<(&str, Option<&str>)> = devices
                .iter()
                .map(|d| (d.name.as_str(), d.id.as_deref()))
                .collect();
            match cpal_out::match_device(&names, wanted) {
                cpal_out::DeviceMatch::Found(i) => Some(i),
                _ => {
                    return Err(RoundtripError::Device(format!(
                        "no single input device '{wanted}' on {host_name} (inputs: {})",
                        labels()
                    )));
                }
            }
        }
    };
    found.map(|i| devices[i].clone()).ok_or_else(|| {
        RoundtripError::Device(format!(
            "{host_name} has no default input device; choose one with --input-device (inputs: {})",
            labels()
        ))
    })
}

/// Measure the round trip through `devices`, sending `bursts` bursts a quarter second
/// apart; `progress(received, sent)` as they are sent.
pub fn measure_device(
    devices: &DeviceLoop,
    bursts: usize,
    mut progress: impl FnMut(usize, usize),
) -> Result<RoundtripReport, RoundtripError> {
    let prepared = cpal_out::open(&OutputOptions {
        host: devices.host.clone(),
        device: devices.output.clone(),
        rate: devices.rate,
        buffer: None,
    })
    .map_err(|e: CpalError| RoundtripError::Device(e.to_string()))?;
    let output_name = prepared.device_name().to_string();
    let (host, output, choice) = prepared.into_parts();
    let host_name = host.id().name().to_string();
    if choice.sample_format != cpal::SampleFormat::F32 {
        return Err(device_error(
            &host_name,
            &format!("output '{output_name}' offers no f32 samples"),
            "the round trip needs f32 on both devices",
        ));
    }
    let sample_rate = choice.sample_rate;
    let out_channels = usize::from(choice.channels.max(1));
    let cpal_out::NamedDevice {
        device: input,
        name: input_name,
        ..
    } = find_input(&host, devices.input.as_deref())?;
    let input_config = input
        .supported_input_configs()
        .map_err(|e| device_error(&host_name, "cannot read the input's configurations", e))?
        .filter(|r| r.sample_format() == cpal::SampleFormat::F32)
        .find_map(|r| r.try_with_sample_rate(sample_rate))
        .ok_or_else(|| {
            device_error(
                &host_name,
                &format!("input '{input_name}' has no f32 configuration at {sample_rate} Hz"),
                "choose another with --input-device or --rate",
            )
        })?;
    let in_channels = usize::from(input_config.channels().max(1));

    let interval = u64::from(sample_rate / 4).max(2 * BURST_LEN as u64);
    let signal = burst();
    let xruns = Arc::new(AtomicU64::new(0));
    let (mut out_marks, mut out_marks_rx) = HeapRb::<CallbackMark>::new(MARKS).split();
    let (mut in_marks, mut in_marks_rx) = HeapRb::<CallbackMark>::new(MARKS).split();
    let (mut recording, mut recorded): (HeapProd<f32>, HeapCons<f32>) =
        HeapRb::<f32>::new(sample_rate as usize * 4).split();

    let out_stream = {
        let signal = signal.clone();
        let xruns = Arc::clone(&xruns);
        let mut frame = 0u64;
        output
            .build_output_stream(
                choice.stream_config(),
                move |out: &mut [f32], _: &cpal::OutputCallbackInfo| {
                    let _ = out_marks.try_push(CallbackMark {
                        at: Some(Instant::now()),
                        first_frame: frame,
                    });
                    for samples in out.chunks_exact_mut(out_channels) {
                        let offset = (frame % interval) as usize;
                        samples.fill(signal.get(offset).copied().unwrap_or(0.0));
                        frame += 1;
                    }
                },
                move |e: cpal::Error| {
                    if e.kind() == cpal::ErrorKind::Xrun {
                        xruns.fetch_add(1, Ordering::Relaxed);
                    }
                },
                Some(Duration::from_secs(5)),
            )
            .map_err(|e| {
                device_error(
                    &host_name,
                    &format!("cannot open output '{output_name}'"),
                    e,
                )
            })?
    };
    let in_stream = {
        let overruns = Arc::clone(&xruns);
        let mut frame = 0u64;
        input
            .build_input_stream(
                input_config.config(),
                move |data: &[f32], _: &cpal::InputCallbackInfo| {
                    let _ = in_marks.try_push(CallbackMark {
                        at: Some(Instant::now()),
                        first_frame: frame,
                    });
                    // The first channel carries the cable.
                    for samples in data.chunks_exact(in_channels) {
                        if recording.try_push(samples[0]).is_err() {
                            overruns.fetch_add(1, Ordering::Relaxed);
                        }
                        frame += 1;
                    }
                },
                {
                    let xruns = Arc::clone(&xruns);
                    move |e: cpal::Error| {
                        if e.kind() == cpal::ErrorKind::Xrun {
                            xruns.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                },
                Some(Duration::from_secs(5)),
            )
            .map_err(|e| {
                device_error(&host_name, &format!("cannot open input '{input_name}'"), e)
            })?
    };
    in_stream
        .play()
        .map_err(|e| device_error(&host_name, "cannot start the input", e))?;
    out_stream
        .play()
        .map_err(|e| device_error(&host_name, "cannot start the output", e))?;

    let rate = f64::from(sample_rate);
    let mut out_log: Vec<CallbackMark> = Vec::new();
    let mut in_log: Vec<CallbackMark> = Vec::new();
    let mut signal_in: Vec<f32> = Vec::new();
    let mut delays = Vec::new();
    // Skip the first burst: the streams start at slightly different moments.
    let mut next_burst = 1u64;
    let deadline = Instant::now()
        + Duration::from_secs_f64((bursts as f64 + 3.0) * interval as f64 / rate + 3.0);
    // Where each burst is searched for: from where it was written, a window of up to
    // one interval.
    let window = interval as usize - BURST_LEN;
    let mut searched = 0usize;
    while searched < bursts && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        while let Some(mark) = out_marks_rx.try_pop() {
            out_log.push(mark);
        }
        while let Some(mark) = in_marks_rx.try_pop() {
            in_log.push(mark);
        }
        while recorded.occupied_len() > 0 {
            let before = signal_in.len();
            signal_in.resize(before + recorded.occupied_len(), 0.0);
            let got = recorded.pop_slice(&mut signal_in[before..]);
            signal_in.truncate(before + got);
        }
        let burst_frame = next_burst * interval;
        // When the burst was written: the output callback holding its first frame.
        let Some(written) = instant_of(&out_log, burst_frame, rate) else {
            continue;
        };
        // The input frame recorded at that instant: the search starts there.
        let Some(start) = frame_at(&in_log, written, rate) else {
            continue;
        };
        let start = start as usize;
        if signal_in.len() < start + window + BURST_LEN {
            continue;
        }
        if let Some(lag) = find_burst(&signal_in[start..start + window + BURST_LEN], &signal) {
            let found = (start + lag) as u64;
            if let Some(read) = instant_of(&in_log, found, rate) {
                let frames = (read.saturating_duration_since(written).as_secs_f64() * rate).round();
                delays.push(frames as u64);
            }
        }
        searched += 1;
        next_burst += 1;
        progress(delays.len(), searched);
    }
    drop(out_stream);
    drop(in_stream);
    if delays.is_empty() {
        return Err(RoundtripError::NothingReceived {
            sent: bursts,
            window_ms: window as f64 * 1e3 / rate,
        });
    }
    Ok(RoundtripReport {
        sample_rate,
        period: match choice.buffer {
            cpal::BufferSize::Fixed(frames) => frames,
            cpal::BufferSize::Default => 0,
        },
        playback_port: format!("{host_name} '{output_name}'"),
        capture_port: format!("{host_name} '{input_name}'"),
        sent: bursts,
        delays,
        xruns: xruns.load(Ordering::Relaxed),
        reported_frames: 0,
    })
}

/// The instant frame `frame` of a stream was handled: its callback's start plus its
/// offset in that callback.
fn instant_of(log: &[CallbackMark], frame: u64, rate: f64) -> Option<Instant> {
    let index = log.partition_point(|m| m.first_frame <= frame);
    let mark = log.get(index.checked_sub(1)?)?;
    // Only if a later callback exists, so `frame` is known to lie in this one.
    log.get(index)?;
    let offset = (frame - mark.first_frame) as f64 / rate;
    Some(mark.at? + Duration::from_secs_f64(offset))
}

/// The frame of a stream handled at `at` (the callback that began last before it).
fn frame_at(log: &[CallbackMark], at: Instant, rate: f64) -> Option<u64> {
    let index = log.partition_point(|m| m.at.is_some_and(|t| t <= at));
    let mark = log.get(index.checked_sub(1)?)?;
    let since = at.saturating_duration_since(mark.at?).as_secs_f64();
    Some(mark.first_frame + (since * rate) as u64)
}
