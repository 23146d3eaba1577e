//! What every audio driver (JACK, cpal) shares: the edge each callback runs through
//! ([`CallbackEdge`]), and what the drivers tell the other threads about their
//! callbacks, lock-free: cycles, xruns, whether the device was lost, whether the engine
//! panicked, and how much of each block's time budget the callback used.

use crate::engine::flush_to_zero::FlushToZero;
use ringbuf::traits::{Consumer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};
use std::cell::Cell;
use std::panic::AssertUnwindSafe;
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
    /// Every callback's load, counted by size: percentiles over any window.
    pub loads: LoadHistogram,
}

/// Buckets of [`LoadHistogram`] below a full budget: half a percent each.
const FINE_LOAD_BUCKETS: usize = 200;
/// Buckets from a full budget to four: ten percent each; one more holds the rest.
const COARSE_LOAD_BUCKETS: usize = 30;
/// Buckets of a [`LoadHistogram`].
pub const LOAD_BUCKETS: usize = FINE_LOAD_BUCKETS + COARSE_LOAD_BUCKETS + 1;

/// Callback loads (cost as a share of the block's time) counted by size, so that a
/// reader can take percentiles over any window from the difference of two snapshots:
/// half-percent buckets up to a full budget, ten-percent ones up to four, and one above.
/// The audio thread adds one count per callback (one atomic add, nothing else).
#[derive(Debug)]
pub struct LoadHistogram {
    counts: Box<[AtomicU64]>,
}

impl Default for LoadHistogram {
    fn default() -> Self {
        LoadHistogram {
            counts: (0..LOAD_BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl LoadHistogram {
    /// The bucket of `load` (a share: 1.0 is the whole budget).
    fn bucket(load: f32) -> usize {
        let percent = f64::from(load.max(0.0)) * 100.0;
        if percent < 100.0 {
            (percent * 2.0) as usize
        } else if percent < 400.0 {
            FINE_LOAD_BUCKETS + ((percent - 100.0) / 10.0) as usize
        } else {
            LOAD_BUCKETS - 1
        }
    }

    /// The load at the top of bucket `index`, as a share (the last is open: 4.0 and up).
    fn upper_edge(index: usize) -> f32 {
        if index < FINE_LOAD_BUCKETS {
            (index + 1) as f32 * 0.005
        } else {
            1.0 + (index + 1 - FINE_LOAD_BUCKETS) as f32 * 0.1
        }
    }

    /// Count one callback. Audio thread.
    pub fn record(&self, load: f32) {
        if let Some(count) = self.counts.get(Self::bucket(load)) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counts so far. Any thread.
    pub fn snapshot(&self) -> LoadCounts {
        LoadCounts(
            self.counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
        )
    }
}

/// A snapshot of a [`LoadHistogram`], or the difference of two: a window's callbacks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadCounts(Vec<u64>);

impl LoadCounts {
    /// The callbacks counted since `earlier` was taken.
    pub fn since(&self, earlier: &LoadCounts) -> LoadCounts {
        LoadCounts(
            self.0
                .iter()
                .enumerate()
                .map(|(i, &n)| n.saturating_sub(earlier.0.get(i).copied().unwrap_or(0)))
                .collect(),
        )
    }

    /// Callbacks counted.
    pub fn callbacks(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The load (a share of the budget) that a share `q` (0 … 1) of the callbacks stayed
    /// at or under, to the top of its bucket (half a percent under a full budget); 0
    /// without callbacks.
    pub fn quantile(&self, q: f64) -> f32 {
        let total = self.callbacks();
        if total == 0 {
            return 0.0;
        }
        // Nearest rank, as `bench::quantile` counts it.
        let rank = ((total - 1) as f64 * q.clamp(0.0, 1.0)).round() as u64;
        let mut seen = 0;
        for (index, &n) in self.0.iter().enumerate() {
            seen += n;
            if seen > rank {
                return LoadHistogram::upper_edge(index);
            }
        }
        LoadHistogram::upper_edge(LOAD_BUCKETS - 1)
    }
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
        self.loads.record(load);
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

thread_local! {
    /// Whether this thread is inside an audio callback now. A const-initialised `Cell`
    /// of a type without drop: reading and setting it never allocates.
    static IN_AUDIO_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// Set by [`request_audio_panic`], taken by the next callback.
static PANIC_REQUESTED: AtomicBool = AtomicBool::new(false);

/// Whether the calling thread is running an audio callback now: lets a panic hook tell
/// the audio thread's panics, which the callback edge catches, from the others. Any
/// thread.
pub fn in_audio_callback() -> bool {
    IN_AUDIO_CALLBACK.with(Cell::get)
}

/// Make the next audio callback of this process panic with "test panic requested", as
/// an engine bug would: for tests of what follows (a silent output, the flag raised, the
/// console carrying on). Any thread.
#[doc(hidden)]
pub fn request_audio_panic() {
    PANIC_REQUESTED.store(true, Ordering::Relaxed);
}

/// Marks the thread as inside a callback until dropped (also when unwinding).
struct InsideCallback {
    was_inside: bool,
}

impl InsideCallback {
    fn enter() -> InsideCallback {
        InsideCallback {
            was_inside: IN_AUDIO_CALLBACK.with(|inside| inside.replace(true)),
        }
    }
}

impl Drop for InsideCallback {
    fn drop(&mut self) {
        IN_AUDIO_CALLBACK.with(|inside| inside.set(self.was_inside));
    }
}

/// One audio callback as every driver runs it: the edge between the backend's real-time
/// thread and the engine.
///
/// [`CallbackEdge::run`] marks the thread as inside a callback ([`in_audio_callback`]),
/// flushes denormals to zero ([`FlushToZero`]) and runs everything the callback does
/// under `assert_no_alloc` — which aborts, or counts in tests, wherever its
/// `AllocDisabler` is the global allocator: the binary built with the `assert-no-alloc`
/// feature, and the allocation tests. A panic while rendering is caught here, never
/// unwinding into the backend: the output goes silent, [`DriverStatus::panicked`] is
/// raised, and every later callback is silent. (Under the checking allocator a panic's
/// message is itself an allocation, so that binary aborts on a panic instead; only the
/// panic [`request_audio_panic`] asks for is let through.)
pub struct CallbackEdge<'a> {
    pub status: &'a DriverStatus,
    /// Logs the callback's cost (benches).
    pub costs: Option<&'a mut CostRecorder>,
    pub frames: usize,
    pub sample_rate: u32,
}

impl CallbackEdge<'_> {
    /// Run one callback: `render` fills `out`, given the instant the callback began;
    /// `silence` fills it instead once the engine has panicked. Audio thread.
    pub fn run<O: ?Sized>(
        self,
        out: &mut O,
        render: impl FnOnce(&mut O, Instant),
        silence: impl FnOnce(&mut O),
    ) {
        let _inside = InsideCallback::enter();
        let _flush = FlushToZero::enable();
        let CallbackEdge {
            status,
            mut costs,
            frames,
            sample_rate,
        } = self;
        let mut silence = Some(silence);
        let mut silence_out = |out: &mut O| {
            if let Some(silence) = silence.take() {
                silence(out);
            }
        };
        let began = checked(|| {
            let started = Instant::now();
            if let Some(costs) = costs.as_deref_mut() {
                costs.begin();
            }
            if status.panicked.load(Ordering::Relaxed) {
                status.cycles.fetch_add(1, Ordering::Relaxed);
                silence_out(out);
                return None;
            }
            Some(started)
        });
        let Some(started) = began else {
            return;
        };
        // Unwinding frees the panic's exception object in `catch_unwind` itself: the
        // region is inside, so the runtime's own frees are not counted as the callback's.
        let rendered = std::panic::catch_unwind(AssertUnwindSafe(|| {
            checked(|| {
                if PANIC_REQUESTED.load(Ordering::Relaxed)
                    && PANIC_REQUESTED.swap(false, Ordering::Relaxed)
                {
                    // The panic allocates its message: the runtime's doing, not the
                    // callback's.
                    assert_no_alloc::permit_alloc(|| panic!("test panic requested"));
                }
                render(out, started);
            })
        }));
        let panicked = rendered.is_err();
        checked(|| {
            if panicked {
                status.panicked.store(true, Ordering::Relaxed);
                silence_out(out);
            }
            status.record_callback(started, frames, sample_rate);
            if let Some(costs) = costs {
                costs.end(frames);
            }
        });
        // The panic's payload, if any, is freed here, outside the regions.
        drop(rendered);
    }
}

/// Run `f` in an allocation-free region.
fn checked<R>(f: impl FnOnce() -> R) -> R {
    assert_no_alloc::assert_no_alloc(f)
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
    use crate::engine::flush_to_zero;

    fn edge(status: &DriverStatus) -> CallbackEdge<'_> {
        CallbackEdge {
            status,
            costs: None,
            frames: 4,
            sample_rate: 48_000,
        }
    }

    #[test]
    fn the_edge_marks_the_thread_and_flushes_denormals_while_the_callback_runs() {
        let status = DriverStatus::default();
        let mut out = [0.0f32; 8];
        let mut seen = None;
        assert!(!in_audio_callback());
        edge(&status).run(
            &mut out,
            |out, _| {
                seen = Some((in_audio_callback(), flush_to_zero::is_enabled()));
                out.fill(0.5);
            },
            |out| out.fill(0.0),
        );
        assert_eq!(seen, Some((true, flush_to_zero::AVAILABLE)));
        assert!(!in_audio_callback());
        assert!(!flush_to_zero::is_enabled());
        assert_eq!(out, [0.5; 8]);
        assert_eq!(status.cycles.load(Ordering::Relaxed), 1);
        assert!(!status.has_panicked());
    }

    #[test]
    fn a_requested_panic_silences_the_output_and_raises_the_flag() {
        let status = DriverStatus::default();
        let mut out = [1.0f32; 8];
        request_audio_panic();
        let mut rendered = false;
        edge(&status).run(
            &mut out,
            |out, _| {
                rendered = true;
                out.fill(0.5);
            },
            |out| out.fill(0.0),
        );
        assert!(!rendered);
        assert!(status.has_panicked());
        assert_eq!(out, [0.0; 8]);
        assert!(!in_audio_callback(), "the mark is cleared after unwinding");
        // Every later callback is silent, and counted.
        out.fill(1.0);
        edge(&status).run(&mut out, |out, _| out.fill(0.5), |out| out.fill(0.0));
        assert_eq!(out, [0.0; 8]);
        assert_eq!(status.cycles.load(Ordering::Relaxed), 2);
        // The request was taken: another driver's callbacks render.
        let other = DriverStatus::default();
        edge(&other).run(&mut out, |out, _| out.fill(0.5), |out| out.fill(0.0));
        assert_eq!(out, [0.5; 8]);
        assert!(!other.has_panicked());
    }

    #[test]
    fn a_panic_while_rendering_leaves_silence_not_half_a_block() {
        let status = DriverStatus::default();
        let mut out = [0.0f32; 8];
        edge(&status).run(
            &mut out,
            |out, _| {
                out[..4].fill(0.5);
                let index = std::hint::black_box(out.len());
                out[index] = 1.0;
            },
            |out| out.fill(0.0),
        );
        assert!(status.has_panicked());
        assert_eq!(out, [0.0; 8]);
    }

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
    fn load_percentiles_come_from_the_window_between_two_snapshots() {
        let histogram = LoadHistogram::default();
        for _ in 0..1000 {
            histogram.record(0.9);
        }
        let before = histogram.snapshot();
        // 1000 callbacks at 10.2 %, one at 2.5 budgets.
        for _ in 0..1000 {
            histogram.record(0.102);
        }
        histogram.record(2.5);
        let window = histogram.snapshot().since(&before);
        assert_eq!(window.callbacks(), 1001);
        assert!((window.quantile(0.5) - 0.105).abs() < 1e-6);
        assert!((window.quantile(0.999) - 0.105).abs() < 1e-6);
        assert!((window.quantile(1.0) - 2.6).abs() < 1e-6);
        histogram.record(f32::INFINITY);
        histogram.record(-1.0);
        let all = histogram.snapshot();
        assert_eq!(all.callbacks(), 2003);
        assert!(all.quantile(1.0) >= 4.0);
        assert_eq!(all.quantile(0.0), 0.005);
        assert_eq!(LoadCounts::default().quantile(0.5), 0.0);
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
            // Sleeping costs no CPU time: the thread's clock stays well short of the wall
            // clock however busy the machine is.
            assert!(
                costs[0].cpu_s < costs[0].wall_s / 2.0,
                "cpu {} s over {} s asleep",
                costs[0].cpu_s,
                costs[0].wall_s
            );
        }
    }
}
