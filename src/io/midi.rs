//! The one MIDI byte parser: raw MIDI 1.0 bytes from any source (midir callbacks, JACK
//! MIDI ports inside the process cycle) into [`InputEvent`]s.
//!
//! It is also the one mapping from MIDI to the engine's input in the crate
//! ([`note_on_event`], [`controller_event`], [`pitch_bend_event`], which Standard MIDI
//! Files, already typed by midly, go through too):
//!
//! | MIDI                                   | [`InputEvent`]                          |
//! |----------------------------------------|-----------------------------------------|
//! | note on `9n k v`, `v > 0`              | `NoteOn { key: k, velocity: v / 127 }`  |
//! | note on `9n k 0`, note off `8n k v`    | `NoteOff { key: k }`                    |
//! | CC 1 (mod wheel)                       | `Modulation(value / 127)`               |
//! | CC 64 (sustain)                        | `Sustain(value >= 64)`                  |
//! | CC 120 (all sound off)                 | `AllSoundOff`                           |
//! | CC 123 (all notes off), CC 124 … 127   | `AllNotesOff`                           |
//! | pitch bend `En lsb msb`                | `PitchBend(semitones)`, ±[`PITCH_BEND_RANGE`] |
//! | program change `Cn p`                  | `Program(p)`                            |
//!
//! Everything else (aftertouch, channel pressure, other controllers, song position, song
//! select, tune request, SysEx, realtime) is consumed and ignored. The instrument is
//! **omni**: every channel is accepted and the channel number is discarded, because a
//! practice instrument has one player and keyboards ship on all sorts of channels.
//!
//! CC 124 … 127 (omni off/on, mono, poly) are channel-mode messages which the MIDI 1.0
//! specification says also act as all-notes-off, so they map to `AllNotesOff`.
//!
//! The parser follows the MIDI 1.0 stream rules: running status; realtime bytes
//! (`F8` … `FF`) allowed anywhere, even inside a message, without disturbing it; SysEx
//! skipped up to [`MAX_SYSEX_LEN`] data bytes; system common messages consumed with their
//! lengths and cancelling running status; stray data bytes ignored; a status byte always
//! starts afresh, abandoning any partial message, so a corrupted stream resynchronises
//! at the next status byte.
//!
//! [`MidiParser`] is fixed-size, allocation-free, panic-free and O(1) per byte, so it may
//! run on the audio thread (JACK), the midir callback thread or any other.

use crate::engine::InputEvent;

/// Pitch-bend range in semitones either side of centre: full down is −2.0, full up
/// +2.0 (a whole tone, the General MIDI default).
pub const PITCH_BEND_RANGE: f32 = 2.0;

/// The centre (no bend) of the 14-bit pitch-bend value.
pub const PITCH_BEND_CENTRE: u16 = 8192;

/// Data bytes a SysEx may carry before the parser stops skipping it (64 KiB). Past this,
/// the SysEx is abandoned: the parser waits for the next status byte, ignoring data bytes
/// (running status was already cancelled when the SysEx began).
pub const MAX_SYSEX_LEN: u32 = 64 * 1024;

/// Status bytes.
const SYSEX: u8 = 0xF0;
const EOX: u8 = 0xF7;
const REALTIME: u8 = 0xF8;
/// "No status": data bytes arriving now are stray and ignored.
const NONE: u8 = 0;

/// A streaming MIDI 1.0 byte parser with fixed state.
///
/// Feed bytes in chunks of any size, split anywhere: the events that come out depend only
/// on the concatenated bytes, never on the chunking. Keep one parser per byte stream
/// (per port) so a message split across callbacks is reassembled. Any thread may own
/// it, including the audio thread: no method allocates, panics, locks or does more than
/// constant work per byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MidiParser {
    /// Status the next data byte belongs to: a channel status (which stays after its
    /// message completes: running status), a system common status awaiting data,
    /// [`SYSEX`] while skipping one, or [`NONE`].
    status: u8,
    /// The first data byte of a two-byte message, once it has arrived.
    first: u8,
    /// Data bytes of the current message received so far (0 or 1; a message completes
    /// on its last data byte).
    have: u8,
    /// Data bytes skipped in the current SysEx.
    sysex_len: u32,
}

impl Default for MidiParser {
    fn default() -> Self {
        Self::new()
    }
}

impl MidiParser {
    /// A parser with no status: data bytes are ignored until the first status byte.
    pub const fn new() -> Self {
        Self {
            status: NONE,
            first: 0,
            have: 0,
            sysex_len: 0,
        }
    }

    /// Forget any partial message, SysEx and running status, as if just created (e.g.
    /// when a port is reconnected). Any thread that owns the parser.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Parse a chunk of bytes, calling `emit` for each event completed, in order. A
    /// message may straddle chunks. Any thread, including the audio thread.
    pub fn feed(&mut self, bytes: &[u8], mut emit: impl FnMut(InputEvent)) {
        for &byte in bytes {
            if let Some(event) = self.push(byte) {
                emit(event);
            }
        }
    }

    /// Parse one byte; returns the event it completes, if any. Any thread, including the
    /// audio thread.
    pub fn push(&mut self, byte: u8) -> Option<InputEvent> {
        if byte >= REALTIME {
            // Clock, start, stop, active sensing, reset…: single bytes that may interleave
            // with anything and leave the message being assembled untouched. (FF in a
            // live stream is System Reset; the player's instrument keeps its state.)
            return None;
        }
        if byte >= 0x80 {
            self.status_byte(byte);
            return None;
        }
        self.data_byte(byte)
    }

    fn status_byte(&mut self, status: u8) {
        // A status byte always starts afresh: a partial message is abandoned, a SysEx in
        // progress ends (whether by EOX or, abnormally, by any other status).
        self.have = 0;
        self.sysex_len = 0;
        self.status = match status {
            0x80..=0xEF => status,
            SYSEX => SYSEX,
            // System common with data (MTC quarter frame, song position, song select)
            // cancels running status and waits for its own data.
            0xF1..=0xF3 => status,
            // Tune request, EOX (ending a SysEx, or stray), the undefined F4/F5: no data,
            // and like all system common they cancel running status.
            0xF4..=0xF6 | EOX => NONE,
            // Realtime bytes never get here (see `push`).
            _ => NONE,
        };
    }

    fn data_byte(&mut self, byte: u8) -> Option<InputEvent> {
        match self.status {
            NONE => None,
            SYSEX => {
                self.sysex_len += 1;
                if self.sysex_len > MAX_SYSEX_LEN {
                    // Give up: no EOX is coming (a cable pulled mid-dump, a broken
                    // device). Waiting for a status byte is all that is left to do.
                    self.status = NONE;
                    self.sysex_len = 0;
                }
                None
            }
            status => {
                if self.have == 0 && data_len(status) == 2 {
                    self.first = byte;
                    self.have = 1;
                    return None;
                }
                let (first, second) = if self.have == 0 {
                    (byte, 0)
                } else {
                    (self.first, byte)
                };
                self.have = 0;
                if status >= 0xF0 {
                    // System common complete: no running status for it.
                    self.status = NONE;
                    return None;
                }
                // A channel message keeps its status for the next one (running status).
                channel_event(status, first, second)
            }
        }
    }
}

/// Data bytes that follow `status` (a channel or system common status with data).
const fn data_len(status: u8) -> u8 {
    match status {
        0xC0..=0xDF | 0xF1 | 0xF3 => 1,
        _ => 2,
    }
}

/// The engine's reading of a complete channel message, on any channel (omni).
fn channel_event(status: u8, first: u8, second: u8) -> Option<InputEvent> {
    match status & 0xF0 {
        0x80 => Some(InputEvent::NoteOff { key: first }),
        0x90 => Some(note_on_event(first, second)),
        0xB0 => controller_event(first, second),
        0xC0 => Some(InputEvent::Program(first)),
        0xE0 => Some(pitch_bend_event(u16::from(second) << 7 | u16::from(first))),
        // Polyphonic aftertouch, channel pressure.
        _ => None,
    }
}

/// A note-on of `key` at `velocity` (0 … 127): a note-off when the velocity is 0, as
/// MIDI 1.0 says. For typed messages (a Standard MIDI File's) as for bytes.
pub fn note_on_event(key: u8, velocity: u8) -> InputEvent {
    if velocity == 0 {
        InputEvent::NoteOff { key }
    } else {
        InputEvent::NoteOn {
            key,
            velocity: f32::from(velocity) / 127.0,
        }
    }
}

/// A control change: the mod wheel, the sustain pedal and the channel-mode messages the
/// engine uses; `None` for the others.
pub fn controller_event(controller: u8, value: u8) -> Option<InputEvent> {
    match controller {
        1 => Some(InputEvent::Modulation(f32::from(value) / 127.0)),
        64 => Some(InputEvent::Sustain(value >= 64)),
        120 => Some(InputEvent::AllSoundOff),
        123..=127 => Some(InputEvent::AllNotesOff),
        _ => None,
    }
}

/// A pitch bend of 14-bit `value` (centre [`PITCH_BEND_CENTRE`]).
pub fn pitch_bend_event(value: u16) -> InputEvent {
    InputEvent::PitchBend(bend_semitones(value))
}

/// A 14-bit bend value in semitones. Mapped symmetrically, so that both extremes reach
/// exactly ±[`PITCH_BEND_RANGE`] and a full bend up lands on the pitch a whole tone up:
/// below centre the step is range / 8192, above it range / 8191. Centre is exactly 0.
fn bend_semitones(value: u16) -> f32 {
    let offset = i32::from(value) - i32::from(PITCH_BEND_CENTRE);
    let span = if offset < 0 { 8192.0 } else { 8191.0 };
    offset as f32 / span * PITCH_BEND_RANGE
}

/// Parse one complete message, as JACK delivers them (one message per event). Returns
/// the first event the bytes complete, ignoring anything after it; `None` for messages
/// the engine does not use, truncated messages, SysEx and realtime bytes. Any thread,
/// including the audio thread.
pub fn parse_message(bytes: &[u8]) -> Option<InputEvent> {
    let mut parser = MidiParser::new();
    bytes.iter().find_map(|&byte| parser.push(byte))
}

#[cfg(test)]
mod tests {
    use super::*;
    use InputEvent::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg32;

    fn parse(bytes: &[u8]) -> Vec<InputEvent> {
        let mut parser = MidiParser::new();
        let mut out = Vec::new();
        parser.feed(bytes, |e| out.push(e));
        out
    }

    /// Feed `bytes` cut into random chunks of 0 … `max_chunk` bytes.
    fn parse_chunked(bytes: &[u8], rng: &mut Pcg32, max_chunk: usize) -> Vec<InputEvent> {
        let mut parser = MidiParser::new();
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = rng.random_range(0..=max_chunk).min(rest.len());
            let (chunk, tail) = rest.split_at(n);
            parser.feed(chunk, |e| out.push(e));
            rest = tail;
        }
        out
    }

    fn on(key: u8, vel: u8) -> InputEvent {
        NoteOn {
            key,
            velocity: vel as f32 / 127.0,
        }
    }

    #[test]
    fn realtime_bytes_inside_messages_and_any_chunking_change_nothing() {
        #[rustfmt::skip]
        let stream = [
            0xF8, 0x90, 0xFE, 60, 0xF8, 100,            // note on, clock and sensing inside
            0xFA, 62, 0xFC, 90,                         // running status across realtime
            0x80, 60, 0xFF, 0,                          // note off, reset byte inside
            0xB3, 0xF8, 64, 0xF9, 127,                  // sustain down, channel 4
            0xE0, 0xF8, 0x00, 0xFD, 0x40,               // bend centre
            0xC1, 0xF8, 3,                              // program 3
            0x9F, 62, 0xF8, 0xF8, 0xF8, 0,              // note on vel 0, channel 16
            0xFB, 0xF8,
        ];
        let expected = vec![
            on(60, 100),
            on(62, 90),
            NoteOff { key: 60 },
            Sustain(true),
            PitchBend(0.0),
            Program(3),
            NoteOff { key: 62 },
        ];
        assert_eq!(parse(&stream), expected);
        let mut rng = Pcg32::seed_from_u64(7);
        for max_chunk in [1, 2, 3, 5, 8, 64] {
            for _ in 0..200 {
                assert_eq!(parse_chunked(&stream, &mut rng, max_chunk), expected);
            }
        }
        // Byte by byte through `push`.
        let mut parser = MidiParser::new();
        let pushed: Vec<_> = stream.iter().filter_map(|&b| parser.push(b)).collect();
        assert_eq!(pushed, expected);
    }

    #[test]
    fn running_status_repeats_channel_messages() {
        assert_eq!(
            parse(&[0x90, 60, 100, 64, 80, 60, 0, 64, 0]),
            vec![
                on(60, 100),
                on(64, 80),
                NoteOff { key: 60 },
                NoteOff { key: 64 }
            ]
        );
        // One-data-byte messages too.
        assert_eq!(
            parse(&[0xC0, 1, 2, 3]),
            vec![Program(1), Program(2), Program(3)]
        );
        // Running status survives ignored messages' completion: poly aftertouch.
        assert_eq!(parse(&[0xA0, 60, 10, 61, 11, 0x90, 60, 1]), vec![on(60, 1)]);
        // And CCs.
        assert_eq!(
            parse(&[0xB0, 64, 127, 64, 0, 1, 127]),
            vec![Sustain(true), Sustain(false), Modulation(1.0)]
        );
    }

    #[test]
    fn system_common_cancels_running_status_and_consumes_its_data() {
        // Song position (2 data bytes) whose data look like a note: not a note.
        assert_eq!(
            parse(&[0x90, 60, 100, 0xF2, 62, 100, 64, 100]),
            vec![on(60, 100)]
        );
        // MTC quarter frame and song select (1 data byte each), tune request (none).
        for common in [
            &[0xF1, 5][..],
            &[0xF3, 5],
            &[0xF6],
            &[0xF4],
            &[0xF5],
            &[0xF7],
        ] {
            let mut stream = vec![0x90, 60, 100];
            stream.extend_from_slice(common);
            stream.extend_from_slice(&[62, 100, 0x90, 64, 100]);
            assert_eq!(
                parse(&stream),
                vec![on(60, 100), on(64, 100)],
                "{common:02X?}"
            );
        }
        // Realtime inside song position does not cut it short.
        assert_eq!(parse(&[0xF2, 1, 0xF8, 2, 60, 100]), vec![]);
        // Its data are consumed as its own (no event can show this: they would be
        // ignored as stray bytes too), and then it is over.
        let mut parser = MidiParser::new();
        parser.feed(&[0x90, 60, 100, 0xF2, 1], |_| {});
        assert_eq!(parser.status, 0xF2, "song position awaits its second byte");
        parser.feed(&[2], |_| {});
        assert_eq!(parser.status, NONE);
        parser.feed(&[0xF3], |_| {});
        assert_eq!(parser.status, 0xF3, "song select awaits its byte");
        parser.feed(&[0xF6], |_| {});
        assert_eq!(parser.status, NONE, "tune request has none");
    }

    #[test]
    fn sysex_is_skipped_terminated_or_not() {
        // Terminated, between two messages: running status is cancelled by it.
        assert_eq!(
            parse(&[0x90, 60, 100, 0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7, 62, 100]),
            vec![on(60, 100)]
        );
        assert_eq!(
            parse(&[0xF0, 0x43, 0x10, 0xF7, 0x90, 62, 100]),
            vec![on(62, 100)]
        );
        // Realtime bytes inside a SysEx do not end it.
        assert_eq!(parse(&[0xF0, 1, 0xF8, 0x90, 0xF7]), vec![]);
        assert_eq!(parse(&[0xF0, 1, 0xF8, 2, 0xF7, 0x90, 1, 2]), vec![on(1, 2)]);
        // Unterminated, then a status byte: the status ends the SysEx and is used.
        assert_eq!(
            parse(&[0xF0, 0x41, 0x10, 0x42, 0x90, 60, 100, 0xF7]),
            vec![on(60, 100)]
        );
        assert_eq!(parse(&[0xF0, 1, 2, 3, 0xB5, 123, 0]), vec![AllNotesOff]);
    }

    #[test]
    fn oversized_sysex_is_abandoned_at_its_bound() {
        let mut parser = MidiParser::new();
        let mut events = Vec::new();
        parser.feed(&[0x90, 60, 100, 0xF0], |e| events.push(e));
        let body = vec![0x11u8; MAX_SYSEX_LEN as usize];
        parser.feed(&body, |e| events.push(e));
        assert_eq!(parser.status, SYSEX, "still skipping at exactly the bound");
        // One more data byte: the parser gives up and waits for a status byte.
        parser.feed(&[0x11], |e| events.push(e));
        assert_eq!(parser.status, NONE, "back to no status");
        // Data bytes (which running status would have made notes) stay ignored, a late
        // EOX is harmless, and the next status byte is obeyed.
        parser.feed(&[62, 100, 0x11, 0xF7, 64, 100, 0x90, 66, 100], |e| {
            events.push(e)
        });
        assert_eq!(events, vec![on(60, 100), on(66, 100)]);
        // A SysEx of exactly the bound, terminated, is an ordinary SysEx.
        let mut stream = vec![0xF0];
        stream.extend(std::iter::repeat_n(0x22, MAX_SYSEX_LEN as usize));
        stream.extend_from_slice(&[0xF7, 0x80, 66, 0]);
        assert_eq!(parse(&stream), vec![NoteOff { key: 66 }]);
    }

    #[test]
    fn note_on_with_velocity_zero_is_a_note_off() {
        assert_eq!(parse(&[0x93, 70, 0]), vec![NoteOff { key: 70 }]);
        assert_eq!(parse(&[0x83, 70, 64]), vec![NoteOff { key: 70 }]);
        assert_eq!(
            parse(&[0x90, 70, 1, 0x90, 70, 127]),
            vec![
                NoteOn {
                    key: 70,
                    velocity: 1.0 / 127.0
                },
                NoteOn {
                    key: 70,
                    velocity: 1.0
                }
            ]
        );
    }

    #[test]
    fn every_controller_mapping() {
        let cc = |n: u8, v: u8| parse(&[0xB7, n, v]);
        assert_eq!(cc(1, 0), vec![Modulation(0.0)]);
        assert_eq!(cc(1, 127), vec![Modulation(1.0)]);
        assert_eq!(cc(1, 64), vec![Modulation(64.0 / 127.0)]);
        assert_eq!(cc(64, 63), vec![Sustain(false)]);
        assert_eq!(cc(64, 64), vec![Sustain(true)]);
        assert_eq!(cc(64, 0), vec![Sustain(false)]);
        assert_eq!(cc(64, 127), vec![Sustain(true)]);
        assert_eq!(cc(120, 0), vec![AllSoundOff]);
        for mode in 123..=127 {
            assert_eq!(cc(mode, 0), vec![AllNotesOff], "CC {mode}");
        }
        // Bank select, volume, pan, expression, reset all controllers, local control…
        for other in [0, 7, 10, 11, 32, 63, 65, 66, 67, 119, 121, 122] {
            assert_eq!(cc(other, 100), vec![], "CC {other}");
        }
    }

    #[test]
    fn pitch_bend_extremes_and_centre() {
        assert_eq!(
            parse(&[0xE0, 0x00, 0x00]),
            vec![PitchBend(-PITCH_BEND_RANGE)]
        );
        assert_eq!(parse(&[0xE0, 0x00, 0x40]), vec![PitchBend(0.0)]);
        assert_eq!(
            parse(&[0xE0, 0x7F, 0x7F]),
            vec![PitchBend(PITCH_BEND_RANGE)]
        );
        // LSB first: 0x2000 - 1 is one step below centre.
        assert_eq!(
            parse(&[0xEA, 0x7F, 0x3F]),
            vec![PitchBend(-PITCH_BEND_RANGE / 8192.0)]
        );
        assert_eq!(
            parse(&[0xEA, 0x01, 0x40]),
            vec![PitchBend(PITCH_BEND_RANGE / 8191.0)]
        );
        // Half way up and down.
        assert_eq!(parse(&[0xE0, 0x00, 0x20]), vec![PitchBend(-1.0)]);
    }

    #[test]
    fn stray_data_bytes_and_abandoned_messages_are_ignored() {
        // No status yet.
        assert_eq!(parse(&[60, 100, 62, 0x90, 64, 100]), vec![on(64, 100)]);
        // A new status mid-message abandons the partial one.
        assert_eq!(parse(&[0x90, 60, 0xB0, 64, 127]), vec![Sustain(true)]);
        assert_eq!(parse(&[0xE0, 5, 0xC0, 9]), vec![Program(9)]);
        // A trailing half message emits nothing.
        assert_eq!(parse(&[0x90, 60, 100, 62]), vec![on(60, 100)]);
        // Aftertouch and channel pressure are consumed whole.
        assert_eq!(
            parse(&[0xD0, 60, 0xA0, 60, 100, 0x90, 60, 100]),
            vec![on(60, 100)]
        );
    }

    #[test]
    fn parse_message_reads_one_complete_message() {
        assert_eq!(parse_message(&[0x95, 61, 127]), Some(on(61, 127)));
        assert_eq!(parse_message(&[0x85, 61, 0]), Some(NoteOff { key: 61 }));
        assert_eq!(parse_message(&[0xBF, 123, 0]), Some(AllNotesOff));
        assert_eq!(parse_message(&[0xCF, 2]), Some(Program(2)));
        assert_eq!(parse_message(&[0x95, 61]), None, "truncated");
        assert_eq!(parse_message(&[0xF8]), None);
        assert_eq!(parse_message(&[]), None);
        assert_eq!(parse_message(&[0xF0, 1, 2, 0xF7]), None);
        assert_eq!(parse_message(&[0xD0, 1]), None);
        assert_eq!(
            parse_message(&[0x90, 60, 1, 62, 2]),
            Some(on(60, 1)),
            "the first message only"
        );
    }

    #[test]
    fn agrees_with_midly_encoding_of_every_channel_message() {
        use midly::MidiMessage as M;
        use midly::live::LiveEvent;
        use midly::num::{u4, u7, u14};
        let mut rng = Pcg32::seed_from_u64(1959);
        let mut bytes = Vec::new();
        for _ in 0..5000 {
            let a = u7::new(rng.random_range(0..128));
            let b = u7::new(rng.random_range(0..128));
            let message = match rng.random_range(0..7) {
                0 => M::NoteOff { key: a, vel: b },
                1 => M::NoteOn { key: a, vel: b },
                2 => M::Aftertouch { key: a, vel: b },
                3 => M::Controller {
                    controller: a,
                    value: b,
                },
                4 => M::ProgramChange { program: a },
                5 => M::ChannelAftertouch { vel: a },
                _ => M::PitchBend {
                    bend: midly::PitchBend(u14::new(rng.random_range(0..16384))),
                },
            };
            let channel = u4::new(rng.random_range(0..16));
            bytes.clear();
            LiveEvent::Midi { channel, message }
                .write(&mut bytes)
                .unwrap();
            let expected = match message {
                M::NoteOn { key, vel } if vel > 0 => Some(on(key.as_int(), vel.as_int())),
                M::NoteOn { key, .. } | M::NoteOff { key, .. } => {
                    Some(NoteOff { key: key.as_int() })
                }
                M::Controller { controller, value } => match controller.as_int() {
                    1 => Some(Modulation(value.as_int() as f32 / 127.0)),
                    64 => Some(Sustain(value.as_int() >= 64)),
                    120 => Some(AllSoundOff),
                    123..=127 => Some(AllNotesOff),
                    _ => None,
                },
                M::ProgramChange { program } => Some(Program(program.as_int())),
                M::PitchBend { bend } => {
                    let f = bend.as_f32();
                    assert!((-1.0..=1.0).contains(&f));
                    let semis = parse_message(&bytes);
                    let Some(PitchBend(s)) = semis else {
                        panic!("{bytes:02X?} gave {semis:?}")
                    };
                    assert!((s - f * PITCH_BEND_RANGE).abs() < 1e-3, "{s} vs {f}");
                    semis
                }
                _ => None,
            };
            assert_eq!(parse_message(&bytes), expected, "{bytes:02X?}");
        }
    }

    /// A random byte, weighted towards what streams contain: mostly data, channel
    /// statuses, some realtime, SysEx starts and ends, system common.
    fn random_byte(rng: &mut Pcg32) -> u8 {
        match rng.random_range(0..100) {
            0..55 => rng.random_range(0..0x80),
            55..80 => 0x80 | rng.random_range(0..0x70),
            80..88 => rng.random_range(0xF8..=0xFF),
            88..91 => SYSEX,
            91..94 => EOX,
            94..97 => rng.random_range(0xF1..=0xF6),
            // Notes specifically, so the engine-facing events are well exercised.
            _ => 0x90 | rng.random_range(0..16),
        }
    }

    #[test]
    fn fuzz_never_panics_stays_in_range_and_ignores_chunking() {
        let mut rng = Pcg32::seed_from_u64(0xA5CE_5E0E);
        let mut stream = Vec::new();
        let mut emitted = 0usize;
        for round in 0..3000 {
            stream.clear();
            let len = rng.random_range(0..600);
            stream.extend((0..len).map(|_| random_byte(&mut rng)));
            // Now and then, a stream long enough to overflow a SysEx.
            if round % 500 == 0 {
                stream.push(SYSEX);
                stream.extend((0..MAX_SYSEX_LEN + 10).map(|_| rng.random_range(0..0x80u8)));
                stream.extend([0x90, 1, 2]);
            }
            let whole = parse(&stream);
            emitted += whole.len();
            for event in &whole {
                match *event {
                    NoteOn { key, velocity } => {
                        assert!(key <= 127, "{event:?}");
                        assert!(velocity > 0.0 && velocity <= 1.0, "{event:?}");
                    }
                    NoteOff { key } | Program(key) => assert!(key <= 127, "{event:?}"),
                    Modulation(m) => assert!((0.0..=1.0).contains(&m), "{event:?}"),
                    PitchBend(b) => assert!(b.abs() <= PITCH_BEND_RANGE, "{event:?}"),
                    Sustain(_) | AllNotesOff | AllSoundOff => {}
                }
            }
            for max_chunk in [1, 3, 17, 256] {
                assert_eq!(
                    parse_chunked(&stream, &mut rng, max_chunk),
                    whole,
                    "round {round}, chunks up to {max_chunk}: {stream:02X?}"
                );
            }
        }
        assert!(
            emitted > 10_000,
            "the generator exercises the parser: {emitted}"
        );
    }
}
