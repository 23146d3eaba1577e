//! Measuring the instrument: the engine's cost per callback, as a share of the real-time
//! budget (here, offline, and in [`callback`], inside a real driver's callback), the
//! note-on to sound latency ([`latency_probe`]) and the audio round trip through JACK
//! ([`roundtrip`]) or a desktop device ([`device_roundtrip`]), and the hour-long soak
//! ([`soak`]).
//!
//! The engine runs here exactly as in a callback, on this thread, with the band playing
//! and lead notes held; each block is timed on its own so that the tail (p99.9, max) —
//! what decides whether a buffer size drops out — is seen, not just the mean.

pub mod callback;
pub mod device_roundtrip;
pub mod latency_probe;
pub mod roundtrip;
pub mod soak;

use crate::band::Arrangement;
use crate::engine::{Engine, EngineConfig, InputEvent, TimedInput};
use crate::io::driver::thread_cpu_time;
use crate::preset::Preset;
use std::time::Instant;

/// Cost of one block size: CPU time the engine used per block (what the audio thread
/// needs), and the wall-clock tail (what it got on this machine, preemption included).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockCost {
    pub frames: usize,
    pub sample_rate: f32,
    pub blocks: usize,
    pub median_s: f64,
    pub p999_s: f64,
    pub max_s: f64,
    /// Wall-clock p99.9 and maximum: include time the thread was not running.
    pub wall_p999_s: f64,
    pub wall_max_s: f64,
}

/// The value at quantile `q` (0 … 1) of `sorted` (ascending), by nearest rank: 0.5 is the
/// median (of an even count, the upper of the two middle values), 1.0 the maximum. The
/// default (zero) when there are no values. Every figure the benches and probes report
/// comes from here, so they agree on what "median" and "p99.9" mean.
pub fn quantile<T: Copy + Default>(sorted: &[T], q: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    sorted[((sorted.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize]
}

impl BlockCost {
    /// Real-time budget of one block.
    pub fn budget_s(&self) -> f64 {
        self.frames as f64 / self.sample_rate as f64
    }

    /// A time as a percentage of the budget.
    pub fn share(&self, seconds: f64) -> f64 {
        100.0 * seconds / self.budget_s()
    }
}

/// Time `blocks` engine calls of `frames` frames each, with the band playing `preset`
/// and `lead_notes` lead notes held.
pub fn measure_blocks(
    preset: &Preset,
    frames: usize,
    blocks: usize,
    lead_notes: usize,
) -> BlockCost {
    let config = EngineConfig::default();
    let arrangement = Arrangement::new(preset, None).expect("a validated preset compiles");
    let (mut engine, mut controller) = Engine::new(config, arrangement);
    for i in 0..lead_notes.min(crate::engine::LEAD_VOICES) {
        let _ = controller.play(TimedInput {
            frame: 0,
            event: InputEvent::NoteOn {
                key: 58 + 3 * i as u8,
                velocity: 0.8,
            },
        });
    }
    let mut buffer = vec![0.0f32; 2 * frames];
    // Warm up: a bar of music, caches and branch predictors.
    let warm_up = engine.bar_start(1);
    while engine.clock() < warm_up {
        engine.process(&mut buffer);
    }
    let blocks = blocks.max(1);
    let mut cpu = Vec::with_capacity(blocks);
    let mut wall = Vec::with_capacity(blocks);
    for _ in 0..blocks {
        let cpu_start = thread_cpu_time();
        let start = Instant::now();
        engine.process(&mut buffer);
        let elapsed = start.elapsed().as_secs_f64();
        wall.push(elapsed);
        cpu.push(match (cpu_start, thread_cpu_time()) {
            (Some(a), Some(b)) => b - a,
            _ => elapsed,
        });
        controller.latest_telemetry();
    }
    cpu.sort_by(f64::total_cmp);
    wall.sort_by(f64::total_cmp);
    BlockCost {
        frames,
        sample_rate: config.sample_rate,
        blocks,
        median_s: quantile(&cpu, 0.5),
        p999_s: quantile(&cpu, 0.999),
        max_s: quantile(&cpu, 1.0),
        wall_p999_s: quantile(&wall, 0.999),
        wall_max_s: quantile(&wall, 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::latency_probe::{LatencyReport, NoteLatency};
    use crate::bench::roundtrip::RoundtripReport;

    #[test]
    fn quantiles_are_nearest_ranks() {
        let values: Vec<u64> = (1..=1000).collect();
        assert_eq!(quantile(&values, 0.0), 1);
        assert_eq!(quantile(&values, 0.5), 501);
        assert_eq!(quantile(&values, 0.999), 999);
        assert_eq!(quantile(&values, 1.0), 1000);
        assert_eq!(quantile(&[1.0, 2.0, 3.0], 0.5), 2.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 3.0);
        assert_eq!(quantile::<f64>(&[], 0.5), 0.0);
        assert_eq!(quantile::<u64>(&[], 1.0), 0);
    }

    #[test]
    fn the_probes_report_the_same_median() {
        let delays = vec![40, 10, 30, 20];
        let roundtrip = RoundtripReport {
            sample_rate: 48_000,
            period: 64,
            playback_port: String::new(),
            capture_port: String::new(),
            sent: 4,
            delays: delays.clone(),
            xruns: 0,
            reported_frames: 0,
        };
        assert_eq!(roundtrip.median(), 30);
        let note = |frames, xrun| NoteLatency {
            offset: 0,
            frames,
            xrun,
        };
        let mut notes: Vec<NoteLatency> = delays.iter().map(|&d| note(d, false)).collect();
        notes.push(note(1_000, true));
        let latency = LatencyReport {
            sample_rate: 48_000,
            period: 64,
            sent: 5,
            notes,
            first_note_audio: Vec::new(),
        };
        assert_eq!(latency.median(), 30, "the note in an xrun is left out");
    }
}
