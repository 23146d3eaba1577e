//! The fixed-capacity queue of planned sounds, ordered by sample time.

use crate::synth::bass::BassNote;
use crate::synth::drums::DrumHit;
use crate::synth::piano::PianoNote;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// How many planned sounds may wait at once: two bars of a busy up-tempo band with room
/// to spare. A full queue drops the sound and counts it; it never grows.
pub const EVENT_CAPACITY: usize = 1024;

/// A sound for one of the band's instruments.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sound {
    Bass(BassNote),
    Piano(PianoNote),
    Drum(DrumHit),
    /// A count-in click on the drum kit, played even with the drums muted.
    Click(DrumHit),
    /// The band's horn, trading with the player: a note begins…
    Horn(super::HornNote),
    /// …and ends.
    HornOff {
        key: u8,
    },
}

/// A sound at an absolute sample time of the engine's clock.
#[derive(Clone, Copy, Debug)]
pub struct BandEvent {
    pub at: u64,
    /// Planning order, so sounds at the same sample always play in the same order.
    pub seq: u64,
    pub sound: Sound,
}

impl PartialEq for BandEvent {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for BandEvent {}
impl PartialOrd for BandEvent {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for BandEvent {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Planned sounds, earliest first. Sized once; never allocates after construction.
pub struct EventQueue {
    heap: BinaryHeap<Reverse<BandEvent>>,
    seq: u64,
    dropped: u64,
}

impl Default for EventQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl EventQueue {
    pub fn new() -> Self {
        Self {
            heap: BinaryHeap::with_capacity(EVENT_CAPACITY),
            seq: 0,
            dropped: 0,
        }
    }

    /// Plan `sound` at sample `at`. When the queue is full the sound is dropped and counted.
    pub fn push(&mut self, at: u64, sound: Sound) {
        if self.heap.len() >= EVENT_CAPACITY {
            self.dropped += 1;
            return;
        }
        self.seq += 1;
        self.heap.push(Reverse(BandEvent {
            at,
            seq: self.seq,
            sound,
        }));
    }

    /// Sample time of the earliest planned sound.
    pub fn next_time(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse(e)| e.at)
    }

    /// Take the earliest sound if it is due at or before `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<BandEvent> {
        match self.heap.peek() {
            Some(Reverse(e)) if e.at <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// Forget every planned sound (a new arrangement, a stop).
    pub fn clear(&mut self) {
        self.heap.clear();
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Sounds dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}
