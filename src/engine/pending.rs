//! Player input waiting for its frame: a binary min-heap over an array allocated once,
//! ordered by frame and, for the same frame, by arrival — so a note-on and a note-off
//! stamped with the same frame are applied in the order they were played.
//!
//! Input almost always arrives in time order, but not always: JACK MIDI read in the cycle,
//! midir events timed one block late and the computer keyboard all feed the same engine.
//! A sorted array kept by insertion would shift up to [`INPUT_CAPACITY`] entries for each
//! late event, quadratic in a burst; the heap costs a logarithm per event whatever the
//! order.

use super::{INPUT_CAPACITY, TimedInput};

/// An input and its arrival number, which orders inputs for the same frame.
#[derive(Clone, Copy, Debug, Default)]
struct Waiting {
    input: TimedInput,
    arrival: u64,
}

impl Waiting {
    fn key(&self) -> (u64, u64) {
        (self.input.frame, self.arrival)
    }
}

/// At most [`INPUT_CAPACITY`] inputs, taken out earliest first. Never allocates after
/// [`PendingInput::new`]. Audio thread.
pub struct PendingInput {
    heap: Box<[Waiting]>,
    len: usize,
    /// Arrival number of the next input (64 bits: never wraps).
    arrivals: u64,
    /// Key comparisons made, to check the cost in tests.
    #[cfg(test)]
    comparisons: std::cell::Cell<u64>,
}

impl PendingInput {
    /// An empty queue with room for [`INPUT_CAPACITY`] inputs. Allocates: call before
    /// the stream starts.
    pub fn new() -> PendingInput {
        PendingInput {
            heap: vec![Waiting::default(); INPUT_CAPACITY].into_boxed_slice(),
            len: 0,
            arrivals: 0,
            #[cfg(test)]
            comparisons: std::cell::Cell::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queue `input`; gives it back when the queue is full.
    pub fn push(&mut self, input: TimedInput) -> Result<(), TimedInput> {
        if self.len == INPUT_CAPACITY {
            return Err(input);
        }
        let waiting = Waiting {
            input,
            arrival: self.arrivals,
        };
        self.arrivals += 1;
        // Sift up: move parents down into the hole until the new entry's place is found.
        let mut hole = self.len;
        self.len += 1;
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if !self.earlier(&waiting, &self.heap[parent]) {
                break;
            }
            self.heap[hole] = self.heap[parent];
            hole = parent;
        }
        self.heap[hole] = waiting;
        Ok(())
    }

    /// The frame of the earliest input waiting.
    pub fn next_frame(&self) -> Option<u64> {
        (self.len > 0).then(|| self.heap[0].input.frame)
    }

    /// Take the earliest input if it is due at `now` (its frame is `now` or before).
    pub fn pop_due(&mut self, now: u64) -> Option<TimedInput> {
        if self.len == 0 || self.heap[0].input.frame > now {
            return None;
        }
        let first = self.heap[0].input;
        self.len -= 1;
        let last = self.heap[self.len];
        // Sift down: move the earlier child up into the hole until `last` fits there.
        let mut hole = 0;
        loop {
            let left = 2 * hole + 1;
            if left >= self.len {
                break;
            }
            let right = left + 1;
            let child = if right < self.len && self.earlier(&self.heap[right], &self.heap[left]) {
                right
            } else {
                left
            };
            if !self.earlier(&self.heap[child], &last) {
                break;
            }
            self.heap[hole] = self.heap[child];
            hole = child;
        }
        self.heap[hole] = last;
        Some(first)
    }

    /// Whether `a` is taken out before `b`. Keys are unique (arrival numbers are), so the
    /// order is total and ties in frame keep arrival order.
    #[inline]
    fn earlier(&self, a: &Waiting, b: &Waiting) -> bool {
        #[cfg(test)]
        self.comparisons.set(self.comparisons.get() + 1);
        a.key() < b.key()
    }
}

impl Default for PendingInput {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::InputEvent;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg32;

    fn input(frame: u64, key: u8) -> TimedInput {
        TimedInput {
            frame,
            event: InputEvent::NoteOff { key },
        }
    }

    fn drain(pending: &mut PendingInput) -> Vec<TimedInput> {
        std::iter::from_fn(|| pending.pop_due(u64::MAX)).collect()
    }

    #[test]
    fn a_note_on_and_off_at_the_same_frame_keep_their_order() {
        let mut pending = PendingInput::new();
        let on = TimedInput {
            frame: 100,
            event: InputEvent::NoteOn {
                key: 60,
                velocity: 0.5,
            },
        };
        let off = TimedInput {
            frame: 100,
            event: InputEvent::NoteOff { key: 60 },
        };
        pending.push(input(200, 1)).unwrap();
        pending.push(on).unwrap();
        pending.push(input(50, 2)).unwrap();
        pending.push(off).unwrap();
        assert_eq!(drain(&mut pending), [input(50, 2), on, off, input(200, 1)]);
    }

    #[test]
    fn inputs_come_out_by_frame_then_arrival_whatever_order_they_came_in() {
        let mut rng = Pcg32::seed_from_u64(8);
        let mut pending = PendingInput::new();
        for round in 0..20 {
            // Few distinct frames, so there are many ties; keys number the arrivals.
            let count = rng.random_range(1..=INPUT_CAPACITY);
            let arrivals: Vec<TimedInput> = (0..count)
                .map(|i| input(rng.random_range(0..40), (i % 128) as u8))
                .collect();
            for &a in &arrivals {
                pending.push(a).unwrap();
            }
            let mut expected = arrivals.clone();
            // A stable sort: equal frames stay in arrival order.
            expected.sort_by_key(|a| a.frame);
            assert_eq!(drain(&mut pending), expected, "round {round}");
            assert!(pending.is_empty());
        }
    }

    #[test]
    fn only_due_input_is_taken_and_the_next_frame_is_the_earliest() {
        let mut pending = PendingInput::new();
        assert_eq!(pending.next_frame(), None);
        for frame in [30, 10, 20] {
            pending.push(input(frame, 0)).unwrap();
        }
        assert_eq!(pending.next_frame(), Some(10));
        assert_eq!(pending.pop_due(9), None);
        assert_eq!(pending.pop_due(15), Some(input(10, 0)));
        assert_eq!(pending.pop_due(15), None);
        assert_eq!(pending.next_frame(), Some(20));
        assert_eq!(pending.len(), 2);
    }

    #[test]
    fn a_full_queue_gives_the_input_back() {
        let mut pending = PendingInput::new();
        for i in 0..INPUT_CAPACITY {
            pending.push(input(i as u64, 0)).unwrap();
        }
        assert_eq!(pending.push(input(0, 1)), Err(input(0, 1)));
        assert_eq!(pending.pop_due(0), Some(input(0, 0)));
        assert!(pending.push(input(0, 2)).is_ok());
    }

    #[test]
    fn a_full_queue_in_reverse_order_costs_n_log_n_comparisons_not_n_squared() {
        let mut pending = PendingInput::new();
        let n = INPUT_CAPACITY as u64;
        for frame in (0..n).rev() {
            pending.push(input(frame, 0)).unwrap();
        }
        let out = drain(&mut pending);
        assert!(out.windows(2).all(|w| w[0].frame < w[1].frame));
        assert_eq!(out.len(), INPUT_CAPACITY);
        // Each push and each pop compares at most twice per level of a heap of
        // log2(1024) = 10 levels; keeping a sorted array by insertion compares about
        // n²/2 = 524,288 times for the pushes alone.
        let levels = u64::from(INPUT_CAPACITY.ilog2());
        let bound = n * levels + n * 2 * levels;
        let made = pending.comparisons.get();
        assert!(
            made <= bound,
            "{made} comparisons for {n} inputs (bound {bound})"
        );
    }
}
