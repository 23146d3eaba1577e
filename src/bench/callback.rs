//! The engine's cost inside a real audio callback, at each buffer size a device offers,
//! and the smallest buffer that runs without an xrun.
//!
//! Unlike [`super::measure_blocks`], which times the engine on this thread, this runs the
//! live driver with the band playing and lead notes held, logs each callback's thread CPU
//! time from inside the callback, and counts the xruns the driver reports while each
//! buffer size plays.

use super::quantile;
use crate::band::Arrangement;
use crate::engine::{Engine, EngineConfig, InputEvent, TimedInput};
use crate::io::cpal_out::{self, CpalError, OutputOptions};
use crate::io::driver::{CallbackCost, DriverStatus, cost_log, drain_costs};
use crate::io::jack::{self, JackError};
use crate::preset::Preset;
use ringbuf::HeapCons;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The buffer sizes tried on a JACK server when none are given.
pub const JACK_BUFFER_SIZES: [u32; 7] = [16, 32, 64, 128, 256, 512, 1024];

/// How long a buffer size must play without an xrun to count as safe.
pub const SAFE_RUN: Duration = Duration::from_secs(30);

/// Time left after a buffer change before measuring: the server settles, caches warm.
const SETTLE: Duration = Duration::from_millis(500);

/// Lead notes held while measuring: a player's chord on top of the band.
const LEAD_NOTES: u8 = 8;

#[derive(Debug, thiserror::Error)]
pub enum CallbackBenchError {
    #[error(transparent)]
    Jack(#[from] JackError),
    #[error("bad buffer size {0}: use 16 to 8192 frames")]
    BadBuffer(u32),
    #[error("the JACK server stopped during the measurement")]
    ServerLost,
    #[error(transparent)]
    Device(#[from] CpalError),
    #[error("the audio device '{0}' went away during the measurement")]
    DeviceLost(String),
}

/// What one buffer size did.
#[derive(Clone, Debug, PartialEq)]
pub struct BufferRun {
    pub frames: u32,
    pub sample_rate: u32,
    /// Callbacks measured at this size.
    pub callbacks: usize,
    pub median_s: f64,
    pub p999_s: f64,
    pub max_s: f64,
    /// Wall-clock maximum: includes time the thread was preempted.
    pub wall_max_s: f64,
    /// Xruns the driver reported while this size played.
    pub xruns: u64,
    /// How long this size played while measured.
    pub seconds: f64,
    /// Why the size could not be measured (the server refused it).
    pub refused: Option<String>,
}

impl BufferRun {
    pub fn budget_s(&self) -> f64 {
        f64::from(self.frames) / f64::from(self.sample_rate.max(1))
    }

    /// A time as a percentage of this size's budget.
    pub fn share(&self, seconds: f64) -> f64 {
        100.0 * seconds / self.budget_s()
    }

    /// Played long enough with no xrun to count as safe.
    pub fn ran_clean(&self, safe_run: Duration) -> bool {
        self.refused.is_none()
            && self.callbacks > 0
            && self.xruns == 0
            && self.seconds + 1e-3 >= safe_run.as_secs_f64()
    }
}

/// All sizes, and the smallest that ran clean.
#[derive(Clone, Debug, PartialEq)]
pub struct CallbackReport {
    pub host: String,
    pub device: String,
    pub runs: Vec<BufferRun>,
    /// The seconds each size played; a size is only called safe after [`SAFE_RUN`].
    pub seconds_per_size: f64,
}

impl CallbackReport {
    /// The smallest buffer that played for [`SAFE_RUN`] with no xrun.
    pub fn smallest_clean(&self) -> Option<u32> {
        self.runs
            .iter()
            .filter(|r| r.ran_clean(SAFE_RUN))
            .map(|r| r.frames)
            .min()
    }

    /// The smallest buffer with no xrun over the time it played, however short.
    pub fn smallest_without_xrun(&self) -> Option<u32> {
        self.runs
            .iter()
            .filter(|r| r.refused.is_none() && r.callbacks > 0 && r.xruns == 0)
            .map(|r| r.frames)
            .min()
    }
}

/// Check a list of buffer sizes.
pub fn validate_buffers(buffers: &[u32]) -> Result<(), CallbackBenchError> {
    match buffers.iter().find(|&&b| !(16..=8192).contains(&b)) {
        Some(&bad) => Err(CallbackBenchError::BadBuffer(bad)),
        None => Ok(()),
    }
}

/// Summarise the callbacks of one size.
pub fn summarise(
    frames: u32,
    sample_rate: u32,
    costs: &[CallbackCost],
    xruns: u64,
    seconds: f64,
) -> BufferRun {
    let mut cpu: Vec<f64> = costs
        .iter()
        .filter(|c| c.frames == frames)
        .map(|c| f64::from(c.cpu_s))
        .collect();
    let mut wall: Vec<f64> = costs
        .iter()
        .filter(|c| c.frames == frames)
        .map(|c| f64::from(c.wall_s))
        .collect();
    cpu.sort_by(f64::total_cmp);
    wall.sort_by(f64::total_cmp);
    BufferRun {
        frames,
        sample_rate,
        callbacks: cpu.len(),
        median_s: quantile(&cpu, 0.5),
        p999_s: quantile(&cpu, 0.999),
        max_s: quantile(&cpu, 1.0),
        wall_max_s: quantile(&wall, 1.0),
        xruns,
        seconds,
        refused: None,
    }
}

/// A band engine with lead notes held, as the benches play it.
fn bench_engine(preset: &Preset, sample_rate: f32) -> Engine {
    let config = EngineConfig {
        sample_rate,
        ..EngineConfig::default()
    };
    let arrangement = Arrangement::new(preset, None).expect("a validated preset compiles");
    let (engine, mut controller) = Engine::new(config, arrangement);
    for i in 0..LEAD_NOTES {
        let _ = controller.play(TimedInput {
            frame: 0,
            event: InputEvent::NoteOn {
                key: 58 + 3 * i,
                velocity: 0.8,
            },
        });
    }
    // The controller goes away: the engine keeps playing with nothing to report to, and
    // its telemetry ring simply fills (a counted, harmless drop).
    engine
}

/// Run the band on the JACK server named by the environment, at each of `buffers`
/// (period sizes, set as `jack_bufsize` does) for `seconds` each, and restore the
/// server's period size afterwards. `progress(done, total)` is called in seconds.
pub fn measure_jack(
    preset: &Preset,
    buffers: &[u32],
    seconds: f64,
    connect: bool,
    stop: &AtomicBool,
    mut progress: impl FnMut(f64, f64),
) -> Result<CallbackReport, CallbackBenchError> {
    validate_buffers(buffers)?;
    let client = jack::open_client("ascenseur_bench")?;
    let sample_rate = client.sample_rate();
    let engine = bench_engine(preset, sample_rate as f32);
    let (recorder, mut log) = cost_log();
    let session = jack::start(
        client,
        engine,
        jack::StartOptions {
            connect,
            costs: Some(recorder),
            ..jack::StartOptions::default()
        },
    )?;
    let original = session.buffer_size();
    let mut runs = Vec::new();
    let total = (seconds + SETTLE.as_secs_f64()) * buffers.len() as f64;
    let mut result = Ok(());
    for (index, &frames) in buffers.iter().enumerate() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let done_before = index as f64 * (seconds + SETTLE.as_secs_f64());
        if let Err(error) = session.set_buffer_size(frames) {
            runs.push(BufferRun {
                refused: Some(error.to_string()),
                ..summarise(frames, sample_rate, &[], 0, 0.0)
            });
            continue;
        }
        let run = play_and_measure(
            frames,
            sample_rate,
            &mut log,
            &session.status,
            seconds,
            stop,
            |elapsed| progress(done_before + elapsed, total),
        );
        if session.status.is_lost() {
            result = Err(CallbackBenchError::ServerLost);
            break;
        }
        runs.push(run);
    }
    // Leave the server as it was found: other clients live with its period size.
    if !session.status.is_lost() && session.buffer_size() != original {
        let _ = session.set_buffer_size(original);
    }
    let name = session.name.clone();
    session.stop();
    result?;
    Ok(CallbackReport {
        host: "JACK".into(),
        device: format!("server '{}' (client {name})", server_name()),
        runs,
        seconds_per_size: seconds,
    })
}

/// The buffer sizes a device offers: the powers of two inside its range (16 to 4096
/// frames), or the usual sizes when it does not say.
pub fn device_buffer_sizes(range: cpal::SupportedBufferSize) -> Vec<u32> {
    match range {
        cpal::SupportedBufferSize::Range { min, max } => {
            let sizes: Vec<u32> = (4..=12)
                .map(|shift| 1u32 << shift)
                .filter(|&b| b >= min && b <= max)
                .collect();
            if sizes.is_empty() {
                vec![min.max(1)]
            } else {
                sizes
            }
        }
        cpal::SupportedBufferSize::Unknown => vec![64, 128, 256, 512, 1024],
    }
}

/// Run the band on an audio device through cpal, at each of `buffers` (default: every
/// size the device offers) for `seconds` each: a stream is opened per size.
pub fn measure_device(
    preset: &Preset,
    options: &OutputOptions,
    buffers: &[u32],
    seconds: f64,
    stop: &AtomicBool,
    mut progress: impl FnMut(f64, f64),
) -> Result<CallbackReport, CallbackBenchError> {
    let probe = cpal_out::open(&OutputOptions {
        buffer: None,
        ..options.clone()
    })?;
    let host = probe.host_name().to_string();
    let device = probe.device_name().to_string();
    let buffers = if buffers.is_empty() {
        device_buffer_sizes(probe.config().buffer_range)
    } else {
        buffers.to_vec()
    };
    drop(probe);
    let per_size = seconds + SETTLE.as_secs_f64();
    let total = per_size * buffers.len() as f64;
    let mut runs = Vec::new();
    for (index, &frames) in buffers.iter().enumerate() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let done_before = index as f64 * per_size;
        let refused = |why: String| BufferRun {
            refused: Some(why),
            ..summarise(frames, 0, &[], 0, 0.0)
        };
        let prepared = match cpal_out::open(&OutputOptions {
            buffer: Some(frames),
            ..options.clone()
        }) {
            Ok(prepared) => prepared,
            Err(error) => {
                runs.push(refused(error.to_string()));
                continue;
            }
        };
        let sample_rate = prepared.sample_rate();
        let (recorder, mut log) = cost_log();
        let session =
            match prepared.start_measured(bench_engine(preset, sample_rate as f32), recorder) {
                Ok(session) => session,
                Err(error) => {
                    runs.push(refused(error.to_string()));
                    continue;
                }
            };
        let run = play_and_measure(
            frames,
            sample_rate,
            &mut log,
            &session.status,
            seconds,
            stop,
            |elapsed| progress(done_before + elapsed, total),
        );
        let lost = session.status.is_lost();
        session.stop();
        if lost {
            return Err(CallbackBenchError::DeviceLost(device));
        }
        runs.push(run);
    }
    Ok(CallbackReport {
        host,
        device,
        runs,
        seconds_per_size: seconds,
    })
}

/// Let a freshly started buffer size settle, then log its callbacks and count its xruns
/// for `seconds` (less if stopped or the device is lost). `progress` gets the seconds
/// spent, settling included.
fn play_and_measure(
    frames: u32,
    sample_rate: u32,
    log: &mut HeapCons<CallbackCost>,
    status: &DriverStatus,
    seconds: f64,
    stop: &AtomicBool,
    mut progress: impl FnMut(f64),
) -> BufferRun {
    wait(SETTLE, stop, &mut progress);
    let mut costs = Vec::new();
    drain_costs(log, &mut costs);
    costs.clear();
    let xruns_before = status.xruns();
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < seconds
        && !stop.load(Ordering::Relaxed)
        && !status.is_lost()
    {
        std::thread::sleep(Duration::from_millis(50));
        drain_costs(log, &mut costs);
        progress(SETTLE.as_secs_f64() + started.elapsed().as_secs_f64());
    }
    drain_costs(log, &mut costs);
    summarise(
        frames,
        sample_rate,
        &costs,
        status.xruns() - xruns_before,
        started.elapsed().as_secs_f64(),
    )
}

fn server_name() -> String {
    std::env::var("JACK_DEFAULT_SERVER").unwrap_or_else(|_| "default".into())
}

fn wait(duration: Duration, stop: &AtomicBool, progress: &mut impl FnMut(f64)) {
    let started = Instant::now();
    while started.elapsed() < duration && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        progress(started.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(frames: u32, cpu_s: f32) -> CallbackCost {
        CallbackCost {
            frames,
            cpu_s,
            wall_s: cpu_s * 1.1,
        }
    }

    #[test]
    fn summaries_ignore_callbacks_of_another_size() {
        let mut costs: Vec<CallbackCost> = (1..=1000).map(|i| cost(64, i as f32 * 1e-6)).collect();
        costs.push(cost(128, 1.0));
        let run = summarise(64, 48_000, &costs, 0, 30.0);
        assert_eq!(run.callbacks, 1000);
        assert!((run.median_s - 500e-6).abs() < 2e-6, "{}", run.median_s);
        assert!((run.max_s - 1000e-6).abs() < 1e-9);
        assert!((run.share(run.max_s) - 75.0).abs() < 0.01);
    }

    #[test]
    fn the_smallest_clean_buffer_needs_a_full_run_without_xruns() {
        let run = |frames, xruns, seconds| BufferRun {
            callbacks: 10,
            xruns,
            ..summarise(frames, 48_000, &[], 0, seconds)
        };
        let report = CallbackReport {
            host: "JACK".into(),
            device: "test".into(),
            runs: vec![run(16, 3, 30.0), run(32, 0, 10.0), run(64, 0, 30.0)],
            seconds_per_size: 30.0,
        };
        assert_eq!(report.smallest_clean(), Some(64));
        assert_eq!(report.smallest_without_xrun(), Some(32));
    }

    #[test]
    fn a_device_offers_the_powers_of_two_in_its_range() {
        use cpal::SupportedBufferSize::{Range, Unknown};
        assert_eq!(
            device_buffer_sizes(Range {
                min: 1,
                max: u32::MAX
            }),
            vec![16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
        );
        assert_eq!(
            device_buffer_sizes(Range { min: 100, max: 600 }),
            vec![128, 256, 512]
        );
        assert_eq!(device_buffer_sizes(Range { min: 100, max: 120 }), vec![100]);
        assert_eq!(device_buffer_sizes(Unknown).len(), 5);
    }

    #[test]
    fn buffer_sizes_are_in_range() {
        assert!(validate_buffers(&[16, 48, 64, 8192]).is_ok());
        for bad in [0, 8, 8193, 16384] {
            let error = validate_buffers(&[64, bad]).unwrap_err().to_string();
            assert!(error.contains(&bad.to_string()), "{error}");
        }
    }
}
