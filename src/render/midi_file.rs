//! Standard MIDI Files as player input: a phrase played through the lead voice in
//! `render --input`.

use crate::engine::{InputEvent, TimedInput};
use crate::io::midi::{controller_event, note_on_event, pitch_bend_event};
use midly::{MetaMessage, MidiMessage, Smf, Timing, TrackEventKind};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum MidiFileError {
    #[error("cannot read MIDI file '{path}': {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("'{path}' is not a Standard MIDI File: {source}")]
    Parse { path: PathBuf, source: midly::Error },
    #[error(
        "'{path}' uses SMPTE timecode timing, which is not supported; save it with metrical (PPQ) timing"
    )]
    Timecode { path: PathBuf },
}

/// Read a file into time-ordered input at `sample_rate`, following its tempo map. Channel
/// messages, on every channel, are mapped to input by the same functions live MIDI bytes
/// go through ([`input_event`]). Setup / offline threads (it reads the file and
/// allocates).
pub fn read(path: &Path, sample_rate: f32) -> Result<Vec<TimedInput>, MidiFileError> {
    let bytes = std::fs::read(path).map_err(|source| MidiFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &bytes, sample_rate)
}

/// [`read`] for a file already in memory; `path` names it in errors.
pub fn parse(
    path: &Path,
    bytes: &[u8],
    sample_rate: f32,
) -> Result<Vec<TimedInput>, MidiFileError> {
    let smf = Smf::parse(bytes).map_err(|source| MidiFileError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    let ticks_per_beat = match smf.header.timing {
        Timing::Metrical(t) => t.as_int().max(1) as f64,
        Timing::Timecode(..) => {
            return Err(MidiFileError::Timecode {
                path: path.to_path_buf(),
            });
        }
    };
    // Merge all tracks on absolute ticks; tempo changes may live in any track.
    let mut events: Vec<(u64, usize, TrackEventKind)> = Vec::new();
    for track in &smf.tracks {
        let mut tick = 0u64;
        for (i, event) in track.iter().enumerate() {
            tick += event.delta.as_int() as u64;
            events.push((tick, i, event.kind));
        }
    }
    events.sort_by_key(|(tick, i, _)| (*tick, *i));
    let mut out = Vec::new();
    let mut us_per_beat = 500_000.0;
    let mut last_tick = 0u64;
    let mut seconds = 0.0f64;
    for (tick, _, kind) in events {
        seconds += (tick - last_tick) as f64 / ticks_per_beat * us_per_beat / 1e6;
        last_tick = tick;
        match kind {
            TrackEventKind::Meta(MetaMessage::Tempo(t)) => us_per_beat = t.as_int() as f64,
            TrackEventKind::Midi { message, .. } => {
                if let Some(event) = input_event(message) {
                    out.push(TimedInput {
                        frame: (seconds * sample_rate as f64).round() as u64,
                        event,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(out)
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
