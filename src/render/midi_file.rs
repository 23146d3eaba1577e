//! Standard MIDI Files as player input: a phrase played through the lead voice in
//! `render --input`.

use crate::engine::TimedInput;
use crate::io::midi::parse_message;
use midly::live::LiveEvent;
use midly::{MetaMessage, Smf, Timing, TrackEventKind};
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
/// events are mapped to input by the crate's one MIDI parser ([`parse_message`]), the same
/// one live MIDI goes through, on every channel. Setup / offline threads (it reads the
/// file and allocates).
pub fn read(path: &Path, sample_rate: f32) -> Result<Vec<TimedInput>, MidiFileError> {
    let bytes = std::fs::read(path).map_err(|source| MidiFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let smf = Smf::parse(&bytes).map_err(|source| MidiFileError::Parse {
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
    // midly has already split the track into messages (resolving running status); each
    // is written back as a standalone message and read by the live parser, so a file
    // and a keyboard can never disagree on what a message means.
    let mut message_bytes = Vec::with_capacity(3);
    let mut us_per_beat = 500_000.0;
    let mut last_tick = 0u64;
    let mut seconds = 0.0f64;
    for (tick, _, kind) in events {
        seconds += (tick - last_tick) as f64 / ticks_per_beat * us_per_beat / 1e6;
        last_tick = tick;
        match kind {
            TrackEventKind::Meta(MetaMessage::Tempo(t)) => us_per_beat = t.as_int() as f64,
            TrackEventKind::Midi { channel, message } => {
                message_bytes.clear();
                // Writing a channel message to a Vec cannot fail.
                let _ = LiveEvent::Midi { channel, message }.write(&mut message_bytes);
                if let Some(event) = parse_message(&message_bytes) {
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
