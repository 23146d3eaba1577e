//! Standard MIDI Files of what was played: the player's part and the band's, on the
//! tempo map the conductor laid out, so that in a DAW every bar line of the file falls on
//! a bar line of the grid and every note on the sample it sounded (to the tick).

use crate::band::{BarLine, Player, Sound};
use crate::engine::{InputEvent, TimedInput};
use crate::io::midi::{PITCH_BEND_CENTRE, PITCH_BEND_RANGE};
use crate::preset::LeadInstrument;
use crate::synth::drums::Stroke;
use midly::num::{u4, u7, u14, u15, u24, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};
use std::path::Path;

/// Ticks per quarter note: a tick is about half a millisecond at 120 BPM and a
/// millisecond at 60, finer than a player's timing; the resolution of most DAWs.
pub const TICKS_PER_QUARTER: u16 = 960;

/// MIDI channels (0-based) of the band, General MIDI style: drums on channel 10.
pub const BASS_CHANNEL: u8 = 1;
pub const PIANO_CHANNEL: u8 = 2;
pub const DRUM_CHANNEL: u8 = 9;
/// The band's horn, when it trades with the player.
pub const HORN_CHANNEL: u8 = 3;
/// The player's part, on channel 1.
pub const PLAYER_CHANNEL: u8 = 0;

/// How long a drum hit is written (GM drums ignore note lengths; DAWs show them).
const DRUM_NOTE_BEATS: f64 = 0.125;

/// General MIDI programs (0-based): Acoustic Bass, Acoustic Grand Piano, and, on the drum
/// channel, the GS Brush kit (whose 38/39/40 are brush tap, slap and swirl).
const BASS_PROGRAM: u8 = 32;
const PIANO_PROGRAM: u8 = 0;
const BRUSH_KIT_PROGRAM: u8 = 40;

/// The General MIDI drum note for a stroke.
pub fn gm_drum_note(stroke: Stroke) -> u8 {
    match stroke {
        Stroke::Kick => 36,
        Stroke::BrushTap => 38,
        // A stick accent on a brush kit reads as the slap.
        Stroke::Snare => 39,
        Stroke::Sweep => 40,
        Stroke::Ride => 51,
        Stroke::HiHatFoot => 44,
    }
}

/// The General MIDI program (0-based) closest to a lead voice.
pub fn gm_lead_program(lead: LeadInstrument) -> u8 {
    match lead {
        LeadInstrument::HarmonTrumpet => 59,
        LeadInstrument::OpenTrumpet => 56,
        LeadInstrument::TenorSax => 66,
        LeadInstrument::ElectricPiano => 4,
    }
}

/// Engine frames to MIDI ticks, built from the bar lines the conductor laid out: each bar
/// is exactly one bar of ticks, at the tempo that makes it last the frames it lasted. A
/// gap between two bar lines longer than a bar (the band stopped, or an engine rebuilt
/// after a lost device) becomes whole bars at the tempo that fits, and frames before the
/// first bar line (a count-in, the band not started) become whole bars too, so bar 1 of
/// the form starts on a bar line of the file.
#[derive(Clone, Debug)]
pub struct TempoMap {
    sample_rate: f64,
    /// (start frame, start tick, frames per tick), in frame order; the first at frame 0.
    segments: Vec<(f64, f64, f64)>,
}

impl TempoMap {
    /// From bar lines (any order; on the take's frame axis). `tempo` is used where
    /// there are none.
    pub fn new(sample_rate: f32, tempo: f32, beats_per_bar: u32, lines: &[BarLine]) -> Self {
        let sample_rate = f64::from(sample_rate);
        let beats_per_bar = beats_per_bar.max(1);
        let ticks_per_beat = f64::from(TICKS_PER_QUARTER);
        let mut lines: Vec<&BarLine> = lines.iter().collect();
        lines.sort_by(|a, b| a.start.total_cmp(&b.start));
        lines.dedup_by(|b, a| (b.start - a.start).abs() < 1.0);
        let constant = sample_rate * 60.0 / f64::from(tempo.max(1.0)) / ticks_per_beat;
        let Some(first) = lines.first() else {
            return Self {
                sample_rate,
                segments: vec![(0.0, 0.0, constant)],
            };
        };
        let mut segments = Vec::with_capacity(lines.len() + 1);
        let bar_ticks = f64::from(beats_per_bar) * ticks_per_beat;
        let first_start = first.start.max(0.0);
        let mut tick = 0.0;
        if first_start > 0.5 {
            let bar_frames = first.samples_per_beat * f64::from(first.beats);
            let bars = (first_start / bar_frames).ceil().max(1.0);
            segments.push((0.0, 0.0, first_start / (bars * bar_ticks)));
            tick = bars * bar_ticks;
        }
        for (i, line) in lines.iter().enumerate() {
            let bar_frames = line.samples_per_beat * f64::from(line.beats);
            let (frames, bars) = match lines.get(i + 1) {
                Some(next) => {
                    let frames = next.start - line.start;
                    (frames, (frames / bar_frames).round().max(1.0))
                }
                None => (bar_frames, 1.0),
            };
            segments.push((line.start.max(0.0), tick, frames / (bars * bar_ticks)));
            tick += bars * bar_ticks;
        }
        Self {
            sample_rate,
            segments,
        }
    }

    /// The tick a frame falls on.
    pub fn tick_at(&self, frame: u64) -> u64 {
        let frame = frame as f64;
        let index = self
            .segments
            .partition_point(|(start, _, _)| *start <= frame)
            .saturating_sub(1);
        let (start, tick, frames_per_tick) = self.segments[index];
        (tick + (frame - start) / frames_per_tick).round().max(0.0) as u64
    }

    /// Tempo changes as (tick, microseconds per quarter), one per segment whose tempo
    /// differs from the one before.
    fn tempo_events(&self) -> Vec<(u64, u32)> {
        let mut events: Vec<(u64, u32)> = Vec::new();
        for &(_, tick, frames_per_tick) in &self.segments {
            let us = (frames_per_tick * f64::from(TICKS_PER_QUARTER) / self.sample_rate * 1e6)
                .round()
                .clamp(1.0, f64::from((1u32 << 24) - 1)) as u32;
            if events.last().is_none_or(|&(_, last)| last != us) {
                events.push((tick.round() as u64, us));
            }
        }
        events
    }
}

/// One track of a file being built: (tick, order, event) with the order putting
/// note-offs before note-ons on the same tick.
#[derive(Default)]
pub struct TrackBuilder {
    name: String,
    events: Vec<(u64, u8, TrackEventKind<'static>)>,
}

impl TrackBuilder {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            events: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    fn channel(&mut self, tick: u64, order: u8, channel: u8, message: MidiMessage) {
        self.events.push((
            tick,
            order,
            TrackEventKind::Midi {
                channel: u4::new(channel & 0x0f),
                message,
            },
        ));
    }

    pub fn program(&mut self, tick: u64, channel: u8, program: u8) {
        self.channel(
            tick,
            0,
            channel,
            MidiMessage::ProgramChange {
                program: u7::new(program & 0x7f),
            },
        );
    }

    /// A note from `on` to `off` (ticks).
    pub fn note(&mut self, on: u64, off: u64, channel: u8, key: u8, velocity: f32) {
        let key = u7::new(key.min(127));
        self.channel(
            on,
            2,
            channel,
            MidiMessage::NoteOn {
                key,
                vel: u7::new(midi_velocity(velocity)),
            },
        );
        self.channel(
            off.max(on + 1),
            1,
            channel,
            MidiMessage::NoteOff {
                key,
                vel: u7::new(64),
            },
        );
    }

    /// The player's input as it took effect, as channel messages.
    pub fn input(&mut self, tick: u64, channel: u8, event: InputEvent) {
        let controller = |number: u8, value: u8| MidiMessage::Controller {
            controller: u7::new(number),
            value: u7::new(value & 0x7f),
        };
        let (order, message) = match event {
            InputEvent::NoteOn { key, velocity } => (
                2,
                MidiMessage::NoteOn {
                    key: u7::new(key.min(127)),
                    vel: u7::new(midi_velocity(velocity)),
                },
            ),
            InputEvent::NoteOff { key } => (
                1,
                MidiMessage::NoteOff {
                    key: u7::new(key.min(127)),
                    vel: u7::new(64),
                },
            ),
            InputEvent::Sustain(down) => (1, controller(64, if down { 127 } else { 0 })),
            InputEvent::PitchBend(semitones) => {
                let offset = semitones / PITCH_BEND_RANGE * f32::from(PITCH_BEND_CENTRE);
                let value = (f32::from(PITCH_BEND_CENTRE) + offset)
                    .round()
                    .clamp(0.0, 16383.0);
                (
                    1,
                    MidiMessage::PitchBend {
                        bend: midly::PitchBend(u14::new(value as u16)),
                    },
                )
            }
            InputEvent::Modulation(amount) => (
                1,
                controller(1, (amount.clamp(0.0, 1.0) * 127.0).round() as u8),
            ),
            InputEvent::AllNotesOff => (1, controller(123, 0)),
            InputEvent::AllSoundOff => (1, controller(120, 0)),
            InputEvent::Program(program) => (
                0,
                MidiMessage::ProgramChange {
                    program: u7::new(program & 0x7f),
                },
            ),
        };
        self.channel(tick, order, channel, message);
    }

    /// The track's events as midly wants them: named (borrowing `name`, this track's name
    /// kept by the caller), delta-timed, ended.
    fn finish<'a>(
        events: &mut [(u64, u8, TrackEventKind<'static>)],
        name: &'a [u8],
    ) -> Vec<TrackEvent<'a>> {
        events.sort_by_key(|(tick, order, _)| (*tick, *order));
        let mut out = Vec::with_capacity(events.len() + 2);
        out.push(TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::TrackName(name)),
        });
        let mut last = 0u64;
        for &(tick, _, kind) in events.iter() {
            out.push(TrackEvent {
                delta: u28::new((tick - last).min(u64::from(u28::max_value().as_int())) as u32),
                kind,
            });
            last = tick;
        }
        out.push(TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
        });
        out
    }
}

/// 0 … 1 as a MIDI velocity 1 … 127 (0 would be a note-off).
fn midi_velocity(velocity: f32) -> u8 {
    (velocity.clamp(0.0, 1.0) * 127.0).round().clamp(1.0, 127.0) as u8
}

/// What a file is made of: a name for the conductor track, the meter, the tempo map and
/// the tracks.
pub struct SmfPlan {
    pub title: String,
    pub beats_per_bar: u32,
    pub tempo_map: TempoMap,
    pub tracks: Vec<TrackBuilder>,
}

impl SmfPlan {
    /// The bytes of a format-1 file: a conductor track (title, time signature, tempo
    /// changes) and one named track per part.
    pub fn to_bytes(self) -> std::io::Result<Vec<u8>> {
        let mut conductor = TrackBuilder::new(&self.title);
        let numerator = self.beats_per_bar.clamp(1, 255) as u8;
        conductor.events.push((
            0,
            0,
            TrackEventKind::Meta(MetaMessage::TimeSignature(numerator, 2, 24, 8)),
        ));
        for (tick, us) in self.tempo_map.tempo_events() {
            conductor.events.push((
                tick,
                0,
                TrackEventKind::Meta(MetaMessage::Tempo(u24::new(us))),
            ));
        }
        let mut parts = vec![conductor];
        parts.extend(self.tracks);
        let names: Vec<Vec<u8>> = parts.iter().map(|t| t.name.clone().into_bytes()).collect();
        let tracks = parts
            .iter_mut()
            .zip(&names)
            .map(|(part, name)| TrackBuilder::finish(&mut part.events, name))
            .collect();
        let smf = Smf {
            header: Header::new(
                Format::Parallel,
                Timing::Metrical(u15::new(TICKS_PER_QUARTER)),
            ),
            tracks,
        };
        let mut bytes = Vec::new();
        smf.write_std(&mut bytes)?;
        Ok(bytes)
    }

    /// Write the file under a `.part` name, then rename it: a reader never sees half a
    /// file, and a failed write never replaces a good one.
    pub fn save(self, path: &Path) -> std::io::Result<()> {
        let bytes = self.to_bytes()?;
        let mut partial = path.as_os_str().to_owned();
        partial.push(".part");
        let partial = std::path::PathBuf::from(partial);
        std::fs::write(&partial, bytes)?;
        std::fs::rename(&partial, path)
    }
}

/// The band's notes as three named tracks (bass, drums, piano), drums on channel 10, and a
/// fourth (horn) when a horn traded with the player.
pub fn band_tracks(tempo_map: &TempoMap, notes: &[(u64, Sound)]) -> Vec<TrackBuilder> {
    let mut horn = TrackBuilder::new("horn");
    let mut horn_program = None;
    let mut horn_sounding: [Option<(u64, f32)>; 128] = [None; 128];
    let mut tracks: Vec<TrackBuilder> = Player::ALL
        .iter()
        .map(|p| TrackBuilder::new(p.name()))
        .collect();
    tracks[0].program(0, BASS_CHANNEL, BASS_PROGRAM);
    tracks[1].program(0, DRUM_CHANNEL, BRUSH_KIT_PROGRAM);
    tracks[2].program(0, PIANO_CHANNEL, PIANO_PROGRAM);
    let drum_ticks = (DRUM_NOTE_BEATS * f64::from(TICKS_PER_QUARTER)) as u64;
    for &(frame, sound) in notes {
        let on = tempo_map.tick_at(frame);
        match sound {
            Sound::Bass(note) => {
                let off = tempo_map.tick_at(frame + u64::from(note.length));
                tracks[0].note(on, off, BASS_CHANNEL, note.key, note.velocity);
            }
            Sound::Drum(hit) => {
                let off = if hit.length > 0 {
                    tempo_map.tick_at(frame + u64::from(hit.length))
                } else {
                    on + drum_ticks
                };
                let key = gm_drum_note(hit.stroke);
                tracks[1].note(on, off, DRUM_CHANNEL, key, hit.velocity);
            }
            Sound::Piano(note) => {
                let off = tempo_map.tick_at(frame + u64::from(note.length));
                tracks[2].note(on, off, PIANO_CHANNEL, note.key, note.velocity);
            }
            Sound::Horn(note) => {
                if horn_program.is_none() {
                    let program = gm_lead_program(note.instrument);
                    horn.program(on, HORN_CHANNEL, program);
                    horn_program = Some(program);
                }
                horn_sounding[usize::from(note.key.min(127))] = Some((on, note.velocity));
            }
            Sound::HornOff { key } => {
                if let Some((start, velocity)) = horn_sounding[usize::from(key.min(127))].take() {
                    horn.note(start, on.max(start + 1), HORN_CHANNEL, key, velocity);
                }
            }
            Sound::Click(_) => {}
        }
    }
    if horn_program.is_some() {
        tracks.push(horn);
    }
    tracks
}

/// The player's input as one named track, starting with the lead voice's program.
pub fn player_track(
    tempo_map: &TempoMap,
    lead: LeadInstrument,
    input: &[TimedInput],
) -> TrackBuilder {
    let mut track = TrackBuilder::new(&format!("player ({})", lead.slug()));
    track.program(0, PLAYER_CHANNEL, gm_lead_program(lead));
    for played in input {
        // A program change from the keyboard chose one of the lead voices by its index;
        // in the file it is that voice's General MIDI program.
        let event = match played.event {
            InputEvent::Program(program) => {
                let voices = LeadInstrument::ALL;
                InputEvent::Program(gm_lead_program(voices[program as usize % voices.len()]))
            }
            other => other,
        };
        track.input(tempo_map.tick_at(played.frame), PLAYER_CHANNEL, event);
    }
    track
}

/// What an engine journaled, as one file: the band's three tracks and, if the player
/// played, their part (as `lead`), on the tempo map of its bar lines. `render --midi-out`.
pub fn journal_file(
    arrangement: &crate::band::Arrangement,
    sample_rate: f32,
    lead: LeadInstrument,
    entries: &[crate::engine::journal::JournalEntry],
) -> SmfPlan {
    use crate::engine::journal::JournalEntry;
    let mut bars = Vec::new();
    let mut band = Vec::new();
    let mut player = Vec::new();
    for entry in entries {
        match *entry {
            JournalEntry::Bar(line) => bars.push(line),
            JournalEntry::Band { frame, sound } => band.push((frame, sound)),
            JournalEntry::Played(input) => player.push(input),
            // Offline renders play nothing back.
            JournalEntry::MixGap { .. }
            | JournalEntry::Missed { .. }
            | JournalEntry::Loaded { .. }
            | JournalEntry::Playback { .. } => {}
        }
    }
    let tempo_map = TempoMap::new(
        sample_rate,
        arrangement.tempo,
        arrangement.beats_per_bar,
        &bars,
    );
    let mut tracks = band_tracks(&tempo_map, &band);
    if !player.is_empty() {
        tracks.push(player_track(&tempo_map, lead, &player));
    }
    SmfPlan {
        title: arrangement.title.clone(),
        beats_per_bar: arrangement.beats_per_bar,
        tempo_map,
        tracks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(index: u64, start: f64, tempo: f64) -> BarLine {
        let spb = 48_000.0 * 60.0 / tempo;
        BarLine {
            key_shift: 0,
            index,
            form_bar: index as u32,
            start,
            samples_per_beat: spb,
            beats: 4,
            tempo: tempo as f32,
        }
    }

    #[test]
    fn bar_lines_fall_on_bar_lines_of_the_file_whatever_the_tempo() {
        // Two bars at 120, then two at 90; bar 1 after a count-in of a bar at 120.
        let bar120 = 4.0 * 24_000.0;
        let bar90 = 4.0 * 32_000.0;
        let lines = [
            line(0, bar120, 120.0),
            line(1, 2.0 * bar120, 120.0),
            line(2, 3.0 * bar120, 90.0),
            line(3, 3.0 * bar120 + bar90, 90.0),
        ];
        let map = TempoMap::new(48_000.0, 120.0, 4, &lines);
        let bar = 4 * u64::from(TICKS_PER_QUARTER);
        for (i, l) in lines.iter().enumerate() {
            assert_eq!(map.tick_at(l.start_frame()), (i as u64 + 1) * bar);
        }
        // The second beat of the 90 BPM bar.
        assert_eq!(
            map.tick_at(3 * 96_000 + 32_000),
            3 * bar + u64::from(TICKS_PER_QUARTER)
        );
        assert_eq!(map.tempo_events(), vec![(0, 500_000), (3 * bar, 666_667)]);
    }

    #[test]
    fn a_count_in_shorter_than_a_bar_is_one_bar_of_the_file() {
        let lines = [line(0, 30_000.0, 120.0), line(1, 126_000.0, 120.0)];
        let map = TempoMap::new(48_000.0, 120.0, 4, &lines);
        let quarter = u64::from(TICKS_PER_QUARTER);
        assert_eq!(map.tick_at(30_000), 4 * quarter);
        assert_eq!(map.tick_at(15_000), 2 * quarter);
    }

    #[test]
    fn a_file_of_both_parts_reads_back_with_named_tracks_and_the_notes_where_they_were() {
        let lines = [line(0, 0.0, 120.0), line(1, 96_000.0, 120.0)];
        let map = TempoMap::new(48_000.0, 120.0, 4, &lines);
        let bass = Sound::Bass(crate::synth::bass::BassNote {
            key: 38,
            velocity: 0.8,
            length: 20_000,
        });
        let mut tracks = band_tracks(&map, &[(24_000, bass)]);
        let input = [
            TimedInput {
                frame: 12_000,
                event: InputEvent::NoteOn {
                    key: 74,
                    velocity: 0.5,
                },
            },
            TimedInput {
                frame: 36_000,
                event: InputEvent::NoteOff { key: 74 },
            },
        ];
        tracks.push(player_track(&map, LeadInstrument::HarmonTrumpet, &input));
        let plan = SmfPlan {
            title: "Générique".into(),
            beats_per_bar: 4,
            tempo_map: map,
            tracks,
        };
        let bytes = plan.to_bytes().unwrap();
        let smf = Smf::parse(&bytes).unwrap();
        let names: Vec<String> = smf
            .tracks
            .iter()
            .map(|t| match t[0].kind {
                TrackEventKind::Meta(MetaMessage::TrackName(n)) => {
                    String::from_utf8_lossy(n).into_owned()
                }
                _ => String::new(),
            })
            .collect();
        assert_eq!(
            names,
            [
                "Générique",
                "bass",
                "drums",
                "piano",
                "player (harmon-trumpet)"
            ]
        );
        let read =
            crate::render::midi_file::parse(Path::new("both.mid"), &bytes, 48_000.0).unwrap();
        let notes: Vec<(u64, u8)> = read
            .iter()
            .filter_map(|i| match i.event {
                InputEvent::NoteOn { key, .. } => Some((i.frame, key)),
                _ => None,
            })
            .collect();
        assert_eq!(notes, [(12_000, 74), (24_000, 38)]);
    }
}
