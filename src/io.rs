//! Everything that talks to the outside world in real time: MIDI bytes in, JACK, MIDI
//! keyboards through the OS, the computer keyboard, input from other threads.

pub mod computer_keys;
pub mod cpal_out;
pub mod devices;
pub mod driver;
pub mod jack;
pub mod live_input;
pub mod manual;
pub mod midi;
pub mod midi_input;
