//! Player input from threads other than the audio thread — midir's callback threads and
//! the computer keyboard on the UI thread — into the engine's one input ring.
//!
//! The engine's input ring is single-producer. [`LiveInput`] owns that producer behind a
//! mutex that only the *producing* threads contend for; the audio thread pops from the
//! ring without ever touching the lock. The sink outlives engines: when the audio device
//! goes away and a new engine is built, the session attaches the new producer and every
//! source carries on. With no engine attached, input is dropped and counted.
//!
//! Time (DESIGN.md, "Time"): the audio driver publishes, every callback, the engine frame
//! at the start of the block and the instant the callback began ([`ClockSync`]). An event
//! stamped with an [`Instant`] is mapped to an engine frame through that pairing, and
//! played either at once ([`MidiTiming::Immediate`]: at the start of the next block, the
//! lowest latency) or at its own offset one block later ([`MidiTiming::Stable`]: constant
//! latency, no jitter).

use crate::engine::{InputEvent, TimedInput};
use ringbuf::HeapProd;
use ringbuf::traits::Producer;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How a timestamped event becomes an engine frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MidiTiming {
    /// At the start of the next block: lowest latency, jitter up to one block.
    #[default]
    Immediate,
    /// At the event's own time plus one block: constant latency, no jitter.
    Stable,
}

impl MidiTiming {
    pub fn parse(text: &str) -> Result<MidiTiming, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "immediate" => Ok(MidiTiming::Immediate),
            "stable" => Ok(MidiTiming::Stable),
            other => Err(format!(
                "unknown MIDI timing '{other}' (known: immediate, stable)"
            )),
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            MidiTiming::Immediate => "immediate",
            MidiTiming::Stable => "stable",
        }
    }
}

/// The latest pairing of an engine frame with a wall-clock instant, written by the audio
/// thread once per callback (wait-free) and read by any thread (a sequence lock: readers
/// retry on the rare torn read, the writer never waits).
///
/// A sequence lock allows one writer. That writer is whoever holds the [`ClockWriter`]
/// (the running driver's callback); the pairing is only reset while nobody holds it, and
/// an attempt to write beside a holder is refused and counted in
/// [`ClockSync::second_writers`], so a driver left running past its detach is caught.
#[derive(Debug)]
pub struct ClockSync {
    epoch: Instant,
    sequence: AtomicU64,
    frame: AtomicU64,
    /// Nanoseconds from `epoch` to the start of the callback.
    nanos: AtomicU64,
    period: AtomicU32,
    sample_rate: AtomicU32,
    /// Whether a [`ClockWriter`] is out.
    claimed: AtomicBool,
    /// Writes refused because a writer was already out.
    second_writers: AtomicU64,
}

/// The one right to publish into a [`ClockSync`], held by the driver callback that
/// plays the attached engine; given back when dropped (the driver stopped).
#[derive(Debug)]
pub struct ClockWriter {
    live: Arc<LiveInput>,
}

impl ClockWriter {
    /// Publish the frame at the start of the block being rendered, the instant its
    /// callback began, and the block's length. Audio thread.
    pub fn publish(&self, frame: u64, at: Instant, period: u32, sample_rate: u32) {
        self.live.clock.write(frame, at, period, sample_rate);
    }
}

impl Drop for ClockWriter {
    fn drop(&mut self) {
        self.live.clock.claimed.store(false, Ordering::Release);
    }
}

/// One published pairing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockPoint {
    /// Engine frame at the start of the block.
    pub frame: u64,
    /// When the callback for that block began.
    pub at: Instant,
    /// Frames in that block.
    pub period: u32,
    pub sample_rate: u32,
}

impl ClockSync {
    pub fn new() -> ClockSync {
        ClockSync {
            epoch: Instant::now(),
            sequence: AtomicU64::new(0),
            frame: AtomicU64::new(0),
            nanos: AtomicU64::new(0),
            period: AtomicU32::new(0),
            sample_rate: AtomicU32::new(0),
            claimed: AtomicBool::new(false),
            second_writers: AtomicU64::new(0),
        }
    }

    /// The sequence-locked write; callers make sure there is one writer at a time.
    fn write(&self, frame: u64, at: Instant, period: u32, sample_rate: u32) {
        let nanos = at.saturating_duration_since(self.epoch).as_nanos() as u64;
        let sequence = self.sequence.load(Ordering::Relaxed);
        self.sequence
            .store(sequence.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        self.frame.store(frame, Ordering::Relaxed);
        self.nanos.store(nanos, Ordering::Relaxed);
        self.period.store(period, Ordering::Relaxed);
        self.sample_rate.store(sample_rate, Ordering::Relaxed);
        self.sequence
            .store(sequence.wrapping_add(2), Ordering::Release);
    }

    /// Forget the pairing (the engine it described is gone). Refused, and counted, while
    /// a [`ClockWriter`] is out: its driver is still running and may be mid-write.
    pub fn reset(&self) -> bool {
        if self
            .claimed
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.second_writers.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        self.write(0, self.epoch, 0, 0);
        self.claimed.store(false, Ordering::Release);
        true
    }

    /// Writes refused because another writer held the pairing: zero unless a driver was
    /// left running while its engine was detached, or two drivers ran at once.
    pub fn second_writers(&self) -> u64 {
        self.second_writers.load(Ordering::Relaxed)
    }

    /// The latest pairing, or `None` before the first callback.
    pub fn latest(&self) -> Option<ClockPoint> {
        loop {
            let before = self.sequence.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let frame = self.frame.load(Ordering::Relaxed);
            let nanos = self.nanos.load(Ordering::Relaxed);
            let period = self.period.load(Ordering::Relaxed);
            let sample_rate = self.sample_rate.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if self.sequence.load(Ordering::Relaxed) != before {
                continue;
            }
            if sample_rate == 0 {
                return None;
            }
            return Some(ClockPoint {
                frame,
                at: self.epoch + std::time::Duration::from_nanos(nanos),
                period,
                sample_rate,
            });
        }
    }
}

impl Default for ClockSync {
    fn default() -> Self {
        Self::new()
    }
}

impl ClockPoint {
    /// The engine frame that sounds at `at` by this pairing (before the pairing's
    /// instant, frames count backwards from it).
    pub fn frame_at(&self, at: Instant) -> u64 {
        let rate = f64::from(self.sample_rate);
        if at >= self.at {
            self.frame + ((at - self.at).as_secs_f64() * rate).round() as u64
        } else {
            self.frame
                .saturating_sub(((self.at - at).as_secs_f64() * rate).round() as u64)
        }
    }

    /// The frame at which an event stamped `at` plays under `timing`.
    pub fn schedule(&self, at: Instant, timing: MidiTiming) -> u64 {
        match timing {
            // A frame already past plays at the start of the next block.
            MidiTiming::Immediate => 0,
            MidiTiming::Stable => self.frame_at(at) + u64::from(self.period),
        }
    }
}

/// The sink every non-audio input source sends to.
pub struct LiveInput {
    producer: Mutex<Option<HeapProd<TimedInput>>>,
    clock: ClockSync,
    dropped: AtomicU64,
    sent: AtomicU64,
}

impl std::fmt::Debug for LiveInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveInput")
            .field("sent", &self.sent())
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl LiveInput {
    pub fn new() -> LiveInput {
        LiveInput {
            producer: Mutex::new(None),
            clock: ClockSync::new(),
            dropped: AtomicU64::new(0),
            sent: AtomicU64::new(0),
        }
    }

    /// Route input to a new engine (on start, and when the audio device came back),
    /// before its driver starts.
    pub fn attach(&self, producer: HeapProd<TimedInput>) {
        self.clock.reset();
        *self.lock() = Some(producer);
    }

    /// Stop routing input (the engine is gone). Input sent meanwhile is dropped. Call
    /// after the engine's driver has stopped: the pairing is reset here, and a driver
    /// still running would be a second writer.
    pub fn detach(&self) {
        *self.lock() = None;
        self.clock.reset();
    }

    /// The right to publish the clock pairing, for the driver about to play the attached
    /// engine; `None` (counted as a second writer) while another driver holds it.
    pub fn clock_writer(self: &Arc<Self>) -> Option<ClockWriter> {
        match self
            .clock
            .claimed
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => Some(ClockWriter {
                live: Arc::clone(self),
            }),
            Err(_) => {
                self.clock.second_writers.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// The pairing the audio driver publishes into.
    pub fn clock(&self) -> &ClockSync {
        &self.clock
    }

    /// Send an event to be played as soon as possible (the next block).
    pub fn send_now(&self, event: InputEvent) -> bool {
        self.push(TimedInput { frame: 0, event })
    }

    /// Send an event that happened at `at`, played according to `timing`.
    pub fn send_at(&self, event: InputEvent, at: Instant, timing: MidiTiming) -> bool {
        let frame = match self.clock.latest() {
            Some(point) => point.schedule(at, timing),
            None => 0,
        };
        self.push(TimedInput { frame, event })
    }

    /// Events dropped because the ring was full or no engine was attached.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Events handed to an engine.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    fn push(&self, input: TimedInput) -> bool {
        let pushed = match self.lock().as_mut() {
            Some(producer) => producer.try_push(input).is_ok(),
            None => false,
        };
        let counter = if pushed { &self.sent } else { &self.dropped };
        counter.fetch_add(1, Ordering::Relaxed);
        pushed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<HeapProd<TimedInput>>> {
        // A producer that panicked mid-push leaves the ring itself consistent.
        self.producer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for LiveInput {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use std::time::Duration;

    #[test]
    fn a_pairing_maps_instants_to_frames_both_ways() {
        let live = Arc::new(LiveInput::new());
        let sync = live.clock();
        assert_eq!(sync.latest(), None);
        let at = Instant::now();
        let writer = live.clock_writer().unwrap();
        writer.publish(48_000, at, 64, 48_000);
        let point = sync.latest().unwrap();
        assert_eq!(point.frame_at(at), 48_000);
        assert_eq!(point.frame_at(at + Duration::from_millis(10)), 48_480);
        assert_eq!(point.frame_at(at - Duration::from_millis(10)), 47_520);
        // Stable timing keeps the event's offset, one block later.
        assert_eq!(
            point.schedule(at + Duration::from_millis(1), MidiTiming::Stable),
            48_000 + 48 + 64
        );
        assert_eq!(point.schedule(at, MidiTiming::Immediate), 0);
        drop(writer);
        assert!(sync.reset());
        assert_eq!(sync.latest(), None);
        assert_eq!(sync.second_writers(), 0);
    }

    #[test]
    fn a_reader_never_sees_a_torn_pairing() {
        let live = Arc::new(LiveInput::new());
        let reads_done = Arc::new(AtomicBool::new(false));
        let writer = {
            let clock = live.clock_writer().unwrap();
            let reads_done = Arc::clone(&reads_done);
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut i = 1u64;
                // Until the reader has read enough, however the threads are scheduled.
                while !reads_done.load(Ordering::Relaxed) {
                    // frame, period and rate all derive from i: a torn read mixes two i.
                    clock.publish(i * 64, start, 64, 48_000 + (i % 1000) as u32);
                    i += 1;
                }
            })
        };
        let mut seen = 0;
        while seen < 100_000 {
            if let Some(p) = live.clock().latest() {
                assert_eq!(p.sample_rate, 48_000 + ((p.frame / 64) % 1000) as u32);
                seen += 1;
            }
        }
        reads_done.store(true, Ordering::Relaxed);
        writer.join().unwrap();
    }

    #[test]
    fn a_second_writer_is_refused_and_counted() {
        let live = Arc::new(LiveInput::new());
        let writer = live.clock_writer().unwrap();
        writer.publish(640, Instant::now(), 64, 48_000);
        // A second driver, and a detach while the first still runs, are both refused.
        assert!(live.clock_writer().is_none());
        live.detach();
        assert_eq!(live.clock().second_writers(), 2);
        assert_eq!(live.clock().latest().map(|p| p.frame), Some(640));
        // Once the driver has stopped (its writer dropped), the pairing is forgotten.
        drop(writer);
        live.detach();
        assert_eq!(live.clock().latest(), None);
        assert_eq!(live.clock().second_writers(), 2);
        assert!(live.clock_writer().is_some());
    }

    #[test]
    fn input_reaches_the_attached_engine_and_is_counted_when_none_is() {
        let live = LiveInput::new();
        let event = InputEvent::NoteOn {
            key: 69,
            velocity: 0.8,
        };
        assert!(!live.send_now(event));
        assert_eq!(live.dropped(), 1);
        let (mut engine, mut controller) = Engine::lead_only();
        live.attach(controller.take_input().unwrap());
        assert!(live.send_now(event));
        assert_eq!(live.sent(), 1);
        let mut block = vec![0.0f32; 2 * 256];
        engine.process(&mut block);
        let telemetry = controller.latest_telemetry().unwrap();
        assert_eq!(telemetry.held_keys[1] >> (69 - 64) & 1, 1);
        live.detach();
        assert!(!live.send_now(InputEvent::NoteOff { key: 69 }));
    }
}
