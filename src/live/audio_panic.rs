//! A panic on the audio thread, caught by the driver at the callback's edge, is the
//! session's to report, not the process's: the hook installed here keeps it quiet there
//! (no printing, no allocation of its own, no terminal handling) and only notes what it
//! said, for the console's "the engine stopped: …". Panics on other threads go on to the
//! hook that was there before.

use crate::io::driver::in_audio_callback;
use std::fmt::Write;
use std::sync::{Mutex, Once};

/// Bytes of a panic message kept: enough for a line on the console.
const MESSAGE_CAPACITY: usize = 240;

static HOOK: Once = Once::new();
static MESSAGE: Mutex<Message> = Mutex::new(Message {
    bytes: [0; MESSAGE_CAPACITY],
    len: 0,
    set: false,
});

/// A message in a fixed buffer: written on the audio thread without allocating.
struct Message {
    bytes: [u8; MESSAGE_CAPACITY],
    len: usize,
    set: bool,
}

impl Write for Message {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        // Cut at a character boundary so the buffer always holds valid UTF-8.
        let room = MESSAGE_CAPACITY - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

/// Install the hook, once per process; later hooks (the console's terminal hook) wrap
/// it and must leave audio-thread panics to it.
pub fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if in_audio_callback() {
                note(info);
            } else {
                previous(info);
            }
        }));
    });
}

/// Keep what an audio-thread panic said. Never blocks: a message being read right now
/// is simply not replaced.
fn note(info: &std::panic::PanicHookInfo<'_>) {
    let Ok(mut message) = MESSAGE.try_lock() else {
        return;
    };
    message.len = 0;
    message.set = true;
    let payload = info.payload();
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic");
    let _ = message.write_str(text);
}

/// What the last audio-thread panic said, once.
pub fn take_message() -> Option<String> {
    let mut message = MESSAGE.lock().unwrap_or_else(|p| p.into_inner());
    if !std::mem::take(&mut message.set) {
        return None;
    }
    Some(String::from_utf8_lossy(&message.bytes[..message.len]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let mut message = Message {
            bytes: [0; MESSAGE_CAPACITY],
            len: 0,
            set: true,
        };
        let long = "é".repeat(MESSAGE_CAPACITY);
        message.write_str(&long).unwrap();
        let text = std::str::from_utf8(&message.bytes[..message.len]).unwrap();
        assert_eq!(text.chars().count(), MESSAGE_CAPACITY / 2);
    }
}
