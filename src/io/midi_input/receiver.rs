//! One connection's state, living in its callback: the port's parser, its stamp clock
//! and what it holds down.

use super::stamp_clock::StampClock;
use crate::engine::InputEvent;
use crate::io::live_input::{LiveInput, MidiTiming};
use crate::io::midi::MidiParser;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// What one port holds down: keys, pedal, a bent pitch, a raised mod wheel; so a port
/// that vanishes can let go of exactly that.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct HeldByPort {
    keys: [u64; 2],
    sustain: bool,
    bent: bool,
    modulated: bool,
}

impl HeldByPort {
    fn note(&mut self, event: InputEvent) {
        match event {
            InputEvent::NoteOn { key, .. } => {
                self.keys[usize::from(key / 64) & 1] |= 1 << (key % 64);
            }
            InputEvent::NoteOff { key } => {
                self.keys[usize::from(key / 64) & 1] &= !(1 << (key % 64));
            }
            InputEvent::Sustain(down) => self.sustain = down,
            InputEvent::PitchBend(semitones) => self.bent = semitones != 0.0,
            InputEvent::Modulation(amount) => self.modulated = amount != 0.0,
            InputEvent::AllNotesOff | InputEvent::AllSoundOff => self.keys = [0; 2],
            InputEvent::Program(_) => {}
        }
    }

    /// The events that undo what is held, and forget it.
    fn release(&mut self, mut send: impl FnMut(InputEvent)) {
        for key in 0..128u8 {
            if self.keys[usize::from(key / 64)] >> (key % 64) & 1 == 1 {
                send(InputEvent::NoteOff { key });
            }
        }
        if self.sustain {
            send(InputEvent::Sustain(false));
        }
        if self.bent {
            send(InputEvent::PitchBend(0.0));
        }
        if self.modulated {
            send(InputEvent::Modulation(0.0));
        }
        *self = HeldByPort::default();
    }
}

/// Everything one connection's callback needs: handed to the backend on connecting,
/// handed back on closing (so what it held can be released after the last callback).
pub(super) struct PortReceiver {
    parser: MidiParser,
    held: HeldByPort,
    stamps: StampClock,
    live: Arc<LiveInput>,
    timing: MidiTiming,
    events: Arc<AtomicU64>,
}

impl PortReceiver {
    pub(super) fn new(
        live: Arc<LiveInput>,
        timing: MidiTiming,
        events: Arc<AtomicU64>,
    ) -> PortReceiver {
        PortReceiver {
            parser: MidiParser::new(),
            held: HeldByPort::default(),
            stamps: StampClock::new(Instant::now()),
            live,
            timing,
            events,
        }
    }

    /// Bytes from the port, stamped by the backend and arrived at `arrival`. The MIDI
    /// callback thread: no allocation, no lock but the live input's producer.
    pub(super) fn receive(&mut self, stamp_us: u64, bytes: &[u8], arrival: Instant) {
        let at = self.stamps.instant(stamp_us, arrival);
        let PortReceiver {
            parser,
            held,
            live,
            timing,
            events,
            ..
        } = self;
        parser.feed(bytes, |event| {
            held.note(event);
            events.fetch_add(1, Ordering::Relaxed);
            live.send_at(event, at, *timing);
        });
    }

    /// Let go of everything this port holds, now (its port is gone or being closed).
    pub(super) fn release(&mut self) {
        let live = &self.live;
        self.held.release(|event| {
            live.send_now(event);
        });
        self.parser.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_events_undo_exactly_what_a_port_held() {
        let mut held = HeldByPort::default();
        for event in [
            InputEvent::NoteOn {
                key: 0,
                velocity: 1.0,
            },
            InputEvent::NoteOn {
                key: 127,
                velocity: 1.0,
            },
            InputEvent::NoteOn {
                key: 64,
                velocity: 1.0,
            },
            InputEvent::NoteOff { key: 64 },
            InputEvent::Sustain(true),
            InputEvent::PitchBend(-1.0),
            InputEvent::Modulation(0.5),
        ] {
            held.note(event);
        }
        let mut released = Vec::new();
        held.release(|e| released.push(e));
        assert_eq!(
            released,
            [
                InputEvent::NoteOff { key: 0 },
                InputEvent::NoteOff { key: 127 },
                InputEvent::Sustain(false),
                InputEvent::PitchBend(0.0),
                InputEvent::Modulation(0.0),
            ]
        );
        assert_eq!(held, HeldByPort::default());
        held.note(InputEvent::NoteOn {
            key: 3,
            velocity: 1.0,
        });
        held.note(InputEvent::AllNotesOff);
        assert_eq!(held, HeldByPort::default());
    }
}
