//! Phrases written as Standard MIDI Files by the tests: time counted in samples (24000
//! ticks a beat at 120 BPM: a tick is 1/48000 s), so a note lands on the frame it is
//! written for.

use midly::num::{u4, u7, u15, u24, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};
use std::path::{Path, PathBuf};

/// One note: key, note-on frame, note-off frame, velocity (1…127).
pub type PhraseNote = (u8, u64, u64, u8);

/// A one-track SMF of `notes`, as `dir/name.mid`.
pub fn write_phrase(dir: &Path, name: &str, notes: &[PhraseNote]) -> PathBuf {
    // Note-offs before note-ons at the same frame, so a repeated key restrikes.
    let mut events: Vec<(u64, bool, u8, u8)> = notes
        .iter()
        .flat_map(|&(key, on, off, vel)| [(on, true, key, vel), (off, false, key, 0)])
        .collect();
    events.sort_by_key(|&(frame, is_on, key, _)| (frame, is_on, key));
    let mut track = vec![TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::new(500_000))),
    }];
    let mut last = 0;
    for (frame, is_on, key, vel) in events {
        let message = if is_on {
            MidiMessage::NoteOn {
                key: u7::new(key),
                vel: u7::new(vel),
            }
        } else {
            MidiMessage::NoteOff {
                key: u7::new(key),
                vel: u7::new(0),
            }
        };
        track.push(TrackEvent {
            delta: u28::new((frame - last) as u32),
            kind: TrackEventKind::Midi {
                channel: u4::new(0),
                message,
            },
        });
        last = frame;
    }
    track.push(TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    let mut smf = Smf::new(Header::new(
        Format::SingleTrack,
        Timing::Metrical(u15::new(24_000)),
    ));
    smf.tracks.push(track);
    let path = dir.join(format!("{name}.mid"));
    smf.save(&path).expect("write the phrase");
    path
}
