//! Everything that talks to the outside world in real time: MIDI bytes in, JACK.

pub mod jack;
pub mod latency_probe;
pub mod midi;
