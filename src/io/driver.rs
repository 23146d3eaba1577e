//! What every audio driver (JACK, cpal) tells the other threads about its callback,
//! lock-free: cycles, xruns, whether the device was lost, whether the engine panicked,
//! and how much of each block's time budget the callback used.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

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
}
