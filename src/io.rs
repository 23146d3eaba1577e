//! Everything that talks to the outside world in real time: MIDI bytes in, JACK, input
//! from other threads.

pub mod cpal_out;
pub mod devices;
pub mod driver;
pub mod jack;
pub mod latency_probe;
pub mod live_input;
pub mod midi;
