//! Audio round-trip latency through JACK: out of a playback port, through a loopback cable
//! (or any path), back into a capture port — what `jack_iodelay` measures.
//!
//! A client plays a known noise burst every quarter second and records its input. Off the
//! audio thread, each burst is found in the recording by cross-correlation, which finds
//! the delay even when the converters' filters smear the burst or the cable inverts it.
//! The figure is the delay between writing the burst's first sample and reading it back,
//! in frames: converters, driver buffers and JACK's periods included.

use super::quantile;
use jack::{AudioIn, AudioOut, Client, ClientOptions, Control, Port, ProcessHandler, ProcessScope};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapProd, HeapRb};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Samples in one burst.
pub const BURST_LEN: usize = 1024;
/// Burst level: −12 dBFS, loud enough through a cable, gentle on speakers.
const BURST_AMPLITUDE: f32 = 0.25;
/// The peak of the normalised cross-correlation needed to call a burst received.
const DETECTION: f32 = 0.3;

#[derive(Debug, thiserror::Error)]
pub enum RoundtripError {
    #[error(
        "cannot open a JACK client: no JACK server answered ({0}); start one, or set JACK_DEFAULT_SERVER"
    )]
    Open(jack::Error),
    #[error("cannot set up the measurement client: {0}")]
    Client(jack::Error),
    #[error("no {what} port '{name}' on this JACK server (ports: {})", list.join(", "))]
    NoSuchPort {
        what: &'static str,
        name: String,
        list: Vec<String>,
    },
    #[error("no physical {what} port on this JACK server: name one with --{option}")]
    NoPhysicalPort {
        what: &'static str,
        option: &'static str,
    },
    #[error("{0}")]
    Device(String),
    #[error(
        "none of the {sent} bursts came back on the capture port within {window_ms:.0} ms: is the loopback cable plugged in, and the level up?"
    )]
    NothingReceived { sent: usize, window_ms: f64 },
}

/// Where the signal goes out and comes back.
#[derive(Clone, Debug, Default)]
pub enum Loopback {
    /// The first physical playback and capture ports (a cable between them).
    #[default]
    Physical,
    /// Named ports: our output goes to `playback`, our input listens to `capture`.
    Ports { playback: String, capture: String },
    /// The client's output straight into its own input, inside the JACK graph.
    Graph,
}

#[derive(Clone, Debug)]
pub struct RoundtripOptions {
    pub loopback: Loopback,
    pub bursts: usize,
    pub client_name: String,
}

impl Default for RoundtripOptions {
    fn default() -> Self {
        Self {
            loopback: Loopback::Physical,
            bursts: 16,
            client_name: "ascenseur_roundtrip".into(),
        }
    }
}

/// What came back.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RoundtripReport {
    pub sample_rate: u32,
    pub period: u32,
    pub playback_port: String,
    pub capture_port: String,
    pub sent: usize,
    /// Delay of each burst received, in frames.
    pub delays: Vec<u64>,
    pub xruns: u64,
    /// Latencies the server reports for the two ports (playback + capture), for
    /// comparison with what was measured.
    pub reported_frames: u32,
}

impl RoundtripReport {
    fn sorted(&self) -> Vec<u64> {
        let mut d = self.delays.clone();
        d.sort_unstable();
        d
    }

    pub fn min(&self) -> u64 {
        self.sorted().first().copied().unwrap_or(0)
    }

    pub fn median(&self) -> u64 {
        quantile(&self.sorted(), 0.5)
    }

    pub fn max(&self) -> u64 {
        self.sorted().last().copied().unwrap_or(0)
    }

    pub fn ms(&self, frames: u64) -> f64 {
        frames as f64 * 1e3 / f64::from(self.sample_rate.max(1))
    }
}

/// The burst: white noise with a fixed seed, so every burst is the same.
pub fn burst() -> Vec<f32> {
    let mut rng = Pcg32::seed_from_u64(0x1957);
    (0..BURST_LEN)
        .map(|_| rng.random_range(-1.0f32..1.0) * BURST_AMPLITUDE)
        .collect()
}

struct Process {
    out: Port<AudioOut>,
    input: Port<AudioIn>,
    burst: Box<[f32]>,
    interval: u64,
    frame: u64,
    recording: HeapProd<f32>,
    overruns: Arc<AtomicU64>,
}

impl ProcessHandler for Process {
    fn process(&mut self, _: &Client, scope: &ProcessScope) -> Control {
        // Capture before playback, as a driver does: in a loop inside the graph the input
        // may share the output's buffer, and must hold the previous cycle's signal.
        let input = self.input.as_slice(scope);
        let pushed = self.recording.push_slice(input);
        if pushed < input.len() {
            self.overruns.fetch_add(1, Ordering::Relaxed);
        }
        let out = self.out.as_mut_slice(scope);
        for (i, sample) in out.iter_mut().enumerate() {
            let offset = (self.frame + i as u64) % self.interval;
            *sample = self.burst.get(offset as usize).copied().unwrap_or(0.0);
        }
        self.frame += out.len() as u64;
        Control::Continue
    }
}

struct Notifications {
    xruns: Arc<AtomicU64>,
}

impl jack::NotificationHandler for Notifications {
    fn xrun(&mut self, _: &Client) -> Control {
        self.xruns.fetch_add(1, Ordering::Relaxed);
        Control::Continue
    }
}

/// Find `burst` in `recording`: the lag (within `0..recording.len() - burst.len()`) of the
/// strongest normalised cross-correlation, if it is strong enough to be the burst.
pub fn find_burst(recording: &[f32], burst: &[f32]) -> Option<usize> {
    if recording.len() < burst.len() {
        return None;
    }
    let burst_energy: f32 = burst.iter().map(|x| x * x).sum();
    let mut best = (0usize, 0.0f32);
    // Energy of the recording under the burst's window, slid along.
    let mut window_energy: f32 = recording[..burst.len()].iter().map(|x| x * x).sum();
    for lag in 0..=recording.len() - burst.len() {
        if lag > 0 {
            let gone = recording[lag - 1];
            let new = recording[lag + burst.len() - 1];
            window_energy = (window_energy - gone * gone + new * new).max(0.0);
        }
        if window_energy <= 1e-12 {
            continue;
        }
        let dot: f32 = recording[lag..lag + burst.len()]
            .iter()
            .zip(burst)
            .map(|(a, b)| a * b)
            .sum();
        let score = dot.abs() / (window_energy * burst_energy).sqrt();
        if score > best.1 {
            best = (lag, score);
        }
    }
    (best.1 >= DETECTION).then_some(best.0)
}

fn resolve_port(
    client: &Client,
    name: &str,
    what: &'static str,
    flags: jack::PortFlags,
) -> Result<String, RoundtripError> {
    let list = client.ports(None, Some("32 bit float mono audio"), flags);
    if list.iter().any(|p| p == name) {
        Ok(name.to_string())
    } else {
        Err(RoundtripError::NoSuchPort {
            what,
            name: name.to_string(),
            list,
        })
    }
}

/// Measure the round trip, calling `progress(received, sent)` as bursts come back.
pub fn measure(
    options: &RoundtripOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<RoundtripReport, RoundtripError> {
    let (client, _) = Client::new(&options.client_name, ClientOptions::NO_START_SERVER)
        .map_err(RoundtripError::Open)?;
    let sample_rate = client.sample_rate();
    let period = client.buffer_size();
    let out = client
        .register_port("out", AudioOut::default())
        .map_err(RoundtripError::Client)?;
    let input = client
        .register_port("in", AudioIn::default())
        .map_err(RoundtripError::Client)?;
    let name = client.name().to_string();
    let ours_out = format!("{name}:out");
    let ours_in = format!("{name}:in");
    let (playback, capture) = match &options.loopback {
        Loopback::Graph => (ours_in.clone(), ours_out.clone()),
        Loopback::Ports { playback, capture } => (
            resolve_port(&client, playback, "playback", jack::PortFlags::IS_INPUT)?,
            resolve_port(&client, capture, "capture", jack::PortFlags::IS_OUTPUT)?,
        ),
        Loopback::Physical => {
            let physical = |flags, what, option| {
                client
                    .ports(
                        None,
                        Some("32 bit float mono audio"),
                        jack::PortFlags::IS_PHYSICAL | flags,
                    )
                    .into_iter()
                    .next()
                    .ok_or(RoundtripError::NoPhysicalPort { what, option })
            };
            (
                physical(jack::PortFlags::IS_INPUT, "playback", "playback")?,
                physical(jack::PortFlags::IS_OUTPUT, "capture", "capture")?,
            )
        }
    };
    // A quarter second between bursts leaves room for any real interface's round trip.
    let interval = u64::from(sample_rate / 4).max(2 * BURST_LEN as u64);
    let window = interval as usize - BURST_LEN;
    let burst = burst();
    let (recording, mut recorded) = HeapRb::<f32>::new(sample_rate as usize * 4).split();
    let xruns = Arc::new(AtomicU64::new(0));
    let overruns = Arc::new(AtomicU64::new(0));
    let process = Process {
        out,
        input,
        burst: burst.clone().into_boxed_slice(),
        interval,
        frame: 0,
        recording,
        overruns: Arc::clone(&overruns),
    };
    let active = client
        .activate_async(
            Notifications {
                xruns: Arc::clone(&xruns),
            },
            process,
        )
        .map_err(RoundtripError::Client)?;
    let c = active.as_client();
    let connected = c
        .connect_ports_by_name(&ours_out, &playback)
        .and_then(|()| {
            if capture == ours_out {
                Ok(())
            } else {
                c.connect_ports_by_name(&capture, &ours_in)
            }
        });
    if let Err(error) = connected {
        let _ = active.deactivate();
        return Err(RoundtripError::Client(error));
    }
    let reported_frames = latency_of(c, &playback, jack::LatencyType::Playback)
        + latency_of(c, &capture, jack::LatencyType::Capture);

    // The first burst starts at frame 0, before the connections were made: skip it.
    let first = 1u64;
    let mut signal: Vec<f32> = Vec::new();
    let mut delays = Vec::new();
    let mut burst_index = first;
    let sent = options.bursts;
    let deadline = Instant::now()
        + Duration::from_secs_f64(
            (sent as u64 + 3) as f64 * interval as f64 / f64::from(sample_rate) + 2.0,
        );
    while burst_index < first + sent as u64 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        while recorded.occupied_len() > 0 {
            let before = signal.len();
            signal.resize(before + recorded.occupied_len(), 0.0);
            let got = recorded.pop_slice(&mut signal[before..]);
            signal.truncate(before + got);
        }
        let start = (burst_index * interval) as usize;
        if signal.len() >= start + window + BURST_LEN {
            if let Some(lag) = find_burst(&signal[start..start + window + BURST_LEN], &burst) {
                delays.push(lag as u64);
            }
            burst_index += 1;
            progress(delays.len(), (burst_index - first) as usize);
        }
    }
    let _ = active.deactivate();
    if delays.is_empty() {
        return Err(RoundtripError::NothingReceived {
            sent,
            window_ms: window as f64 * 1e3 / f64::from(sample_rate),
        });
    }
    Ok(RoundtripReport {
        sample_rate,
        period,
        playback_port: playback,
        capture_port: capture,
        sent,
        delays,
        xruns: xruns.load(Ordering::Relaxed) + overruns.load(Ordering::Relaxed),
        reported_frames,
    })
}

fn latency_of(client: &Client, port: &str, kind: jack::LatencyType) -> u32 {
    client
        .port_by_name(port)
        .map_or(0, |p| p.get_latency_range(kind).1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_found_through_a_filter_and_an_inversion() {
        let burst = burst();
        for (delay, invert) in [(0usize, false), (64, false), (517, true), (3000, false)] {
            let mut recording = vec![0.0f32; 4096 + BURST_LEN];
            for (i, &x) in burst.iter().enumerate() {
                recording[delay + i] = if invert { -x } else { x };
            }
            // A converter's low-pass: one-pole smoothing, plus a little noise.
            let mut state = 0.0;
            let mut rng = Pcg32::seed_from_u64(7);
            for x in recording.iter_mut() {
                state += 0.6 * (*x - state);
                *x = state + rng.random_range(-0.01..0.01);
            }
            assert_eq!(find_burst(&recording, &burst), Some(delay), "delay {delay}");
        }
    }

    #[test]
    fn silence_and_noise_are_not_a_burst() {
        let burst = burst();
        assert_eq!(find_burst(&vec![0.0; 8192], &burst), None);
        let mut rng = Pcg32::seed_from_u64(11);
        let noise: Vec<f32> = (0..8192).map(|_| rng.random_range(-0.3..0.3)).collect();
        assert_eq!(find_burst(&noise, &burst), None);
    }
}
