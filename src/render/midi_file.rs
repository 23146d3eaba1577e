//! Standard MIDI Files as player input: a phrase played through the lead voice in
//! `render --input` (and a take's `player.mid` in `render --take`).
//!
//! A file is read whole or refused, never in part: midly runs with its `strict` feature,
//! so a file cut short or with a damaged event is an error rather than a phrase with
//! notes silently missing; and what midly accepts but no phrase can be (format 2, an
//! empty track, a division of 0, an event hours away, a file of more than
//! [`MAX_FILE_BYTES`]) is refused here, each saying what is wrong.

use crate::engine::{InputEvent, TimedInput};
use crate::io::midi::{controller_event, note_on_event, pitch_bend_event};
use midly::{Format, MetaMessage, MidiMessage, Smf, Timing, TrackEventKind};
use std::path::{Path, PathBuf};

/// Largest Standard MIDI File read as a phrase: an hour of dense playing takes well under
/// a megabyte, so a larger file is something else.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Longest phrase played: no event may fall later than this, in seconds (an hour). A
/// delta time of years, from a corrupt or hostile file, would otherwise ask for a render
/// of years.
pub const MAX_PHRASE_SECONDS: f64 = 3600.0;

#[derive(Debug, thiserror::Error)]
pub enum MidiFileError {
    #[error("cannot read MIDI file '{path}': {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("'{path}' is {bytes} bytes; a MIDI file to play is at most {MAX_FILE_BYTES} bytes")]
    TooLarge { path: PathBuf, bytes: u64 },
    #[error("'{path}' is not a Standard MIDI File that reads whole: {why}")]
    Parse { path: PathBuf, why: String },
    #[error(
        "'{path}' uses SMPTE timecode timing, which is not supported; save it with metrical (PPQ) timing"
    )]
    Timecode { path: PathBuf },
    #[error("'{path}' has a time division of 0 ticks per beat: no event can be placed in time")]
    ZeroDivision { path: PathBuf },
    #[error(
        "'{path}' is a format 2 file (independent sequences, one after another), which does not play as one phrase; save it as format 0 or 1"
    )]
    Sequential { path: PathBuf },
    #[error(
        "'{path}': track {track} is empty (0 bytes, without even its End of Track event): the file is damaged"
    )]
    EmptyTrack { path: PathBuf, track: usize },
    #[error(
        "'{path}': track {track} has an event at tick {tick}, {seconds:.0} s into the phrase; a phrase is at most {MAX_PHRASE_SECONDS:.0} s long"
    )]
    TooLong {
        path: PathBuf,
        track: usize,
        tick: u64,
        seconds: f64,
    },
}

/// Read a file into time-ordered input at `sample_rate`, following its tempo map. Channel
/// messages, on every channel, are mapped to input by the same functions live MIDI bytes
/// go through ([`input_event`]). Setup / offline threads (it reads the file and
/// allocates).
pub fn read(path: &Path, sample_rate: f32) -> Result<Vec<TimedInput>, MidiFileError> {
    use std::io::Read;
    let read_error = |source| MidiFileError::Read {
        path: path.to_path_buf(),
        source,
    };
    let too_large = |bytes| MidiFileError::TooLarge {
        path: path.to_path_buf(),
        bytes,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    if size > MAX_FILE_BYTES {
        return Err(too_large(size));
    }
    // The size may change under us (a file still being written): never read past the limit.
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    parse(path, &bytes, sample_rate)
}

/// [`read`] for a file already in memory; `path` names it in errors.
pub fn parse(
    path: &Path,
    bytes: &[u8],
    sample_rate: f32,
) -> Result<Vec<TimedInput>, MidiFileError> {
    let path_buf = || path.to_path_buf();
    let damaged = |why| MidiFileError::Parse {
        path: path_buf(),
        why,
    };
    check_chunks(bytes).map_err(damaged)?;
    let smf = Smf::parse(bytes).map_err(|error| damaged(locate_damage(bytes, &error)))?;
    let ticks_per_beat = match smf.header.timing {
        Timing::Metrical(t) if t.as_int() == 0 => {
            return Err(MidiFileError::ZeroDivision { path: path_buf() });
        }
        Timing::Metrical(t) => f64::from(t.as_int()),
        Timing::Timecode(..) => return Err(MidiFileError::Timecode { path: path_buf() }),
    };
    if smf.header.format == Format::Sequential {
        return Err(MidiFileError::Sequential { path: path_buf() });
    }
    // Merge all tracks on absolute ticks; tempo changes may live in any track.
    let mut events: Vec<(u64, usize, usize, TrackEventKind)> = Vec::new();
    for (track_index, track) in smf.tracks.iter().enumerate() {
        if track.is_empty() {
            return Err(MidiFileError::EmptyTrack {
                path: path_buf(),
                track: track_index + 1,
            });
        }
        let mut tick = 0u64;
        for (i, event) in track.iter().enumerate() {
            tick += u64::from(event.delta.as_int());
            events.push((tick, track_index, i, event.kind));
        }
    }
    events.sort_by_key(|&(tick, _, i, _)| (tick, i));
    let mut out = Vec::new();
    let mut us_per_beat = 500_000.0;
    let mut last_tick = 0u64;
    let mut seconds = 0.0f64;
    for (tick, track, _, kind) in events {
        seconds += (tick - last_tick) as f64 / ticks_per_beat * us_per_beat / 1e6;
        last_tick = tick;
        if seconds > MAX_PHRASE_SECONDS {
            return Err(MidiFileError::TooLong {
                path: path_buf(),
                track: track + 1,
                tick,
                seconds,
            });
        }
        match kind {
            TrackEventKind::Meta(MetaMessage::Tempo(t)) => us_per_beat = f64::from(t.as_int()),
            TrackEventKind::Midi { message, .. } => {
                if let Some(event) = input_event(message) {
                    out.push(TimedInput {
                        frame: (seconds * f64::from(sample_rate)).round() as u64,
                        event,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Bytes of a chunk's name and length.
const CHUNK_HEADER: usize = 8;

/// The file's framing, checked before midly reads it, so that a file cut short or a
/// chunk that claims more than there is gets said in words: the header chunk first, every
/// chunk whole, as many tracks as the header declares.
fn check_chunks(bytes: &[u8]) -> Result<(), String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if !bytes.starts_with(b"MThd") {
        return Err("it does not begin with the MThd header chunk".into());
    }
    let mut at = 0;
    let mut tracks = 0usize;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < CHUNK_HEADER {
            return Err(format!(
                "it ends {} into the chunk that begins at byte {at}: the file is cut short",
                bytes_said(rest.len())
            ));
        }
        let name = rest[..4].escape_ascii().to_string();
        let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let room = rest.len() - CHUNK_HEADER;
        if len > room {
            return Err(format!(
                "the '{name}' chunk at byte {at} says it holds {}, but the file ends {} after its header: the file is cut short or damaged",
                bytes_said(len),
                bytes_said(room)
            ));
        }
        if at == 0 && len < 6 {
            return Err(format!(
                "the header chunk holds {}; it needs 6",
                bytes_said(len)
            ));
        }
        tracks += usize::from(&rest[..4] == b"MTrk");
        at += CHUNK_HEADER + len;
    }
    let declared = usize::from(u16::from_be_bytes([bytes[10], bytes[11]]));
    if tracks != declared {
        return Err(format!(
            "its header declares {declared} track{}, but it holds {tracks}: the file is cut short or damaged",
            if declared == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}

/// "1 byte", "2 bytes".
fn bytes_said(n: usize) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

/// What midly found wrong, and where: the track and the byte in it of the first event
/// that does not read, when it is an event (midly says only the outermost reason).
fn locate_damage(bytes: &[u8], error: &midly::Error) -> String {
    let reason = error.kind().to_string();
    let Ok((_, tracks)) = midly::parse(bytes) else {
        return reason;
    };
    for (index, track) in tracks.enumerate() {
        let Ok(mut events) = track else {
            return reason;
        };
        let track_len = events.unread().len();
        loop {
            let at = track_len - events.unread().len();
            match events.next() {
                None => break,
                Some(Ok(_)) => {}
                Some(Err(_)) => {
                    return format!(
                        "track {}: the event at byte {at} of the track does not read ({reason})",
                        index + 1
                    );
                }
            }
        }
    }
    reason
}

/// The engine's reading of a channel message midly has typed: the mapping live MIDI bytes
/// go through, so a file and a keyboard never disagree on what a message means.
pub fn input_event(message: MidiMessage) -> Option<InputEvent> {
    match message {
        MidiMessage::NoteOn { key, vel } => Some(note_on_event(key.as_int(), vel.as_int())),
        MidiMessage::NoteOff { key, .. } => Some(InputEvent::NoteOff { key: key.as_int() }),
        MidiMessage::Controller { controller, value } => {
            controller_event(controller.as_int(), value.as_int())
        }
        MidiMessage::ProgramChange { program } => Some(InputEvent::Program(program.as_int())),
        MidiMessage::PitchBend { bend } => Some(pitch_bend_event(bend.0.as_int())),
        MidiMessage::Aftertouch { .. } | MidiMessage::ChannelAftertouch { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::midi::parse_message;
    use midly::live::LiveEvent;
    use midly::num::u4;

    /// Every channel message, typed, reads as its bytes read through the live parser.
    #[test]
    fn typed_messages_read_as_their_bytes_do() {
        let mut bytes = Vec::new();
        for status in (0x80u8..=0xE0).step_by(0x10) {
            for first in [0u8, 1, 60, 64, 119, 120, 123, 127] {
                for second in [0u8, 1, 63, 64, 100, 127] {
                    let raw = [status | 3, first, second];
                    let Ok(LiveEvent::Midi { message, channel }) = LiveEvent::parse(&raw) else {
                        continue;
                    };
                    assert_eq!(channel, u4::new(3));
                    bytes.clear();
                    LiveEvent::Midi { channel, message }
                        .write(&mut bytes)
                        .unwrap();
                    assert_eq!(
                        input_event(message),
                        parse_message(&bytes),
                        "{raw:02X?} read as {message:?}"
                    );
                }
            }
        }
    }
}
