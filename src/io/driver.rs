//! What every audio driver (JACK, cpal) tells the other threads about its callback,
//! lock-free: cycles, xruns, whether the device was lost, whether the engine panicked,
//! and how much of each block's time budget the callback used.

use ringbuf::traits::{Consumer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

/// Callbacks a [`CostRecorder`] holds before the reader must drain it: ten seconds of
/// 16-frame callbacks at 48 kHz.
pub const COST_CAPACITY: usize = 32_768;

#[derive(Debug, Default)]
pub struct DriverStatus {
    pub cycles: AtomicU64,
    pub xruns: AtomicU64,
    /// The server or device went away; the session must rebuild the driver.
    pub lost: AtomicBool,
    /// The engine panicked inside the callback; the output is silent.
    pub panicked: AtomicBool,
    /// Cost of the last callback as a share of its block's duration, as f32 bits.
    load: AtomicU32,
    /// Highest load since the last [`DriverStatus::take_peak_load`], as f32 bits.
    peak_load: AtomicU32,
}

impl DriverStatus {
    /// Record one callback that began at `started` and rendered `frames` at
    /// `sample_rate`. Audio thread.
    pub fn record_callback(&self, started: Instant, frames: usize, sample_rate: u32) {
        self.cycles.fetch_add(1, Ordering::Relaxed);
        if frames == 0 || sample_rate == 0 {
            return;
        }
        let budget = frames as f64 / f64::from(sample_rate);
        let load = (started.elapsed().as_secs_f64() / budget) as f32;
        self.load.store(load.to_bits(), Ordering::Relaxed);
        // Only the audio thread raises the peak; a reader resetting it may lose one
        // callback's value, which is harmless for a meter.
        if load > f32::from_bits(self.peak_load.load(Ordering::Relaxed)) {
            self.peak_load.store(load.to_bits(), Ordering::Relaxed);
        }
    }

    /// The last callback's cost as a share of its budget (0.25 = a quarter).
    pub fn load(&self) -> f32 {
        f32::from_bits(self.load.load(Ordering::Relaxed))
    }

    /// The highest load since the previous call, and start a new window.
    pub fn take_peak_load(&self) -> f32 {
        f32::from_bits(self.peak_load.swap(0f32.to_bits(), Ordering::Relaxed))
    }

    pub fn xruns(&self) -> u64 {
        self.xruns.load(Ordering::Relaxed)
    }

    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    pub fn has_panicked(&self) -> bool {
        self.panicked.load(Ordering::Relaxed)
    }
}

/// CPU time consumed by the calling thread in seconds, where the platform has such a
/// clock: what the callback cost, without the time the thread was preempted.
#[cfg(unix)]
pub fn thread_cpu_time() -> Option<f64> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec and the clock id is a constant.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    (status == 0).then_some(now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9)
}

#[cfg(not(unix))]
pub fn thread_cpu_time() -> Option<f64> {
    None
}

/// One callback's cost, for benches.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CallbackCost {
    pub frames: u32,
    /// Thread CPU time (wall time where the platform has no thread clock).
    pub cpu_s: f32,
    pub wall_s: f32,
}

/// The audio thread's end of a per-callback cost log, for `bench dsp` on a device. Only
/// benches attach one: reading the thread clock is a system call.
pub struct CostRecorder {
    producer: HeapProd<CallbackCost>,
    cpu_start: Option<f64>,
    wall_start: Option<Instant>,
}

/// Make a cost log: the recorder goes to the driver, the reader stays with the bench.
pub fn cost_log() -> (CostRecorder, HeapCons<CallbackCost>) {
    let (producer, consumer) = HeapRb::new(COST_CAPACITY).split();
    (
        CostRecorder {
            producer,
            cpu_start: None,
            wall_start: None,
        },
        consumer,
    )
}

impl CostRecorder {
    /// Mark the start of a callback's work. Audio thread.
    pub fn begin(&mut self) {
        self.wall_start = Some(Instant::now());
        self.cpu_start = thread_cpu_time();
    }

    /// Log the callback begun with [`CostRecorder::begin`]; a full log drops it. Audio
    /// thread.
    pub fn end(&mut self, frames: usize) {
        let Some(wall_start) = self.wall_start.take() else {
            return;
        };
        let wall_s = wall_start.elapsed().as_secs_f64();
        let cpu_s = match (self.cpu_start.take(), thread_cpu_time()) {
            (Some(a), Some(b)) => b - a,
            _ => wall_s,
        };
        let _ = self.producer.try_push(CallbackCost {
            frames: frames as u32,
            cpu_s: cpu_s as f32,
            wall_s: wall_s as f32,
        });
    }
}

/// Everything logged so far.
pub fn drain_costs(log: &mut HeapCons<CallbackCost>, into: &mut Vec<CallbackCost>) {
    while let Some(cost) = log.try_pop() {
        into.push(cost);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_is_the_share_of_the_budget_and_the_peak_resets() {
        let status = DriverStatus::default();
        let started = Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        // 2 ms or more of a 1.333 ms budget.
        status.record_callback(started, 64, 48_000);
        assert!(status.load() >= 1.4, "load {}", status.load());
        assert!(status.take_peak_load() >= 1.4);
        assert_eq!(status.take_peak_load(), 0.0);
        assert_eq!(status.cycles.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_cost_log_records_cpu_time_not_sleep() {
        let (mut recorder, mut log) = cost_log();
        recorder.begin();
        std::thread::sleep(std::time::Duration::from_millis(5));
        recorder.end(64);
        let mut costs = Vec::new();
        drain_costs(&mut log, &mut costs);
        assert_eq!(costs.len(), 1);
        assert_eq!(costs[0].frames, 64);
        assert!(costs[0].wall_s >= 0.005);
        if cfg!(unix) {
            // Sleeping costs no CPU time.
            assert!(costs[0].cpu_s < 0.003, "cpu {}", costs[0].cpu_s);
        }
    }
}

thread_local! {
    static IN_AUDIO_CALLBACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the calling thread is inside an audio callback now.
pub fn in_audio_callback() -> bool {
    IN_AUDIO_CALLBACK.with(std::cell::Cell::get)
}

/// Marks the calling thread as inside an audio callback until dropped.
pub struct AudioCallbackMark(());

impl AudioCallbackMark {
    pub fn enter() -> AudioCallbackMark {
        IN_AUDIO_CALLBACK.with(|c| c.set(true));
        AudioCallbackMark(())
    }
}

impl Drop for AudioCallbackMark {
    fn drop(&mut self) {
        IN_AUDIO_CALLBACK.with(|c| c.set(false));
    }
}

static AUDIO_PANIC_REQUESTED: AtomicBool = AtomicBool::new(false);

/// Make the next audio callback panic (tests of what a failing engine does).
pub fn request_audio_panic() {
    AUDIO_PANIC_REQUESTED.store(true, Ordering::Relaxed);
}

/// Panic here if a panic was requested. Audio thread, inside the caught edge.
pub fn panic_if_requested() {
    if AUDIO_PANIC_REQUESTED.swap(false, Ordering::Relaxed) {
        panic!("test panic requested");
    }
}
