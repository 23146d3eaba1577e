//! Note-on to sound latency of any JACK synth, measured from outside it.
//!
//! A probe client sends note-ons from a MIDI output port at random offsets inside the
//! period and records an audio input port. For each note the latency is the number of
//! frames from the note-on's frame to the first recorded sample above a threshold
//! (−50 dBFS): the same measurement for ascenseur and for a reference such as
//! `jack_midisine`, in the same graph.

use super::quantile;
use jack::{
    AudioIn, Client, ClientOptions, Control, MidiOut, ProcessHandler, ProcessScope, RawMidi,
};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

/// Level that counts as "sounding".
pub const THRESHOLD_DBFS: f32 = -50.0;
/// Level the output must be under before a note is sent, so the previous note's tail is
/// not taken for the new one.
const QUIET_DBFS: f32 = -60.0;

/// What to measure.
#[derive(Clone, Debug)]
pub struct ProbeOptions {
    /// The synth's MIDI input port, e.g. "ascenseur:midi_in".
    pub midi_target: String,
    /// The synth's audio output port, e.g. "ascenseur:out_l".
    pub audio_source: String,
    pub notes: usize,
    pub key: u8,
    pub velocity: u8,
    /// How long each note is held before its note-off.
    pub hold: Duration,
    /// Give up after this long.
    pub timeout: Duration,
    pub seed: u64,
}

/// One note's measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoteLatency {
    /// Offset of the note-on inside its period.
    pub offset: u32,
    /// Frames from the note-on to the first sample above the threshold.
    pub frames: u64,
    /// The server reported an xrun between the note-on and its sound: the figure says
    /// more about the machine than about the synth.
    pub xrun: bool,
}

/// All notes of a run.
#[derive(Clone, Debug)]
pub struct LatencyReport {
    pub sample_rate: u32,
    pub period: u32,
    pub sent: usize,
    pub notes: Vec<NoteLatency>,
    /// A recording of the first note (from its note-on), for pitch checks.
    pub first_note_audio: Vec<f32>,
}

impl LatencyReport {
    /// Notes measured without an xrun in between.
    pub fn clean_notes(&self) -> usize {
        self.notes.iter().filter(|n| !n.xrun).count()
    }

    /// Notes disturbed by an xrun (left out of the statistics).
    pub fn xrun_notes(&self) -> usize {
        self.notes.len() - self.clean_notes()
    }

    fn frames(&self) -> Vec<u64> {
        let mut frames: Vec<u64> = self
            .notes
            .iter()
            .filter(|n| !n.xrun)
            .map(|n| n.frames)
            .collect();
        frames.sort_unstable();
        frames
    }

    pub fn min(&self) -> u64 {
        self.frames().first().copied().unwrap_or(0)
    }

    pub fn max(&self) -> u64 {
        self.frames().last().copied().unwrap_or(0)
    }

    pub fn median(&self) -> u64 {
        quantile(&self.frames(), 0.5)
    }

    pub fn mean(&self) -> f64 {
        let frames = self.frames();
        frames.iter().sum::<u64>() as f64 / frames.len().max(1) as f64
    }

    /// max − min over the notes.
    pub fn jitter(&self) -> u64 {
        self.max() - self.min()
    }

    pub fn ms(&self, frames: f64) -> f64 {
        frames * 1e3 / self.sample_rate as f64
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot open the probe's JACK client: {0}")]
    Open(jack::Error),
    #[error("JACK error: {0}")]
    Jack(jack::Error),
    #[error("cannot connect '{from}' to '{to}': {source}")]
    Connect {
        from: String,
        to: String,
        source: jack::Error,
    },
    #[error(
        "none of the {sent} notes sounded within {limit_ms:.0} ms: is the synth's MIDI input and audio output the right pair of ports?"
    )]
    Silent { sent: usize, limit_ms: f64 },
    #[error("timed out after {waited:?}: {heard} of {wanted} notes heard")]
    Timeout {
        waited: Duration,
        heard: usize,
        wanted: usize,
    },
}

/// How long a note may stay unheard before it counts as lost (a cycle the synth missed
/// under an xrun drops the events sent in it).
const LISTEN_LIMIT_S: f64 = 0.5;

/// What the probe's process callback sends back.
enum Report {
    Note(NoteLatency),
    /// A note-on that never sounded.
    Missed,
    FirstAudio(Box<[f32]>, usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the output to be quiet.
    Quiet,
    /// Note sent at this absolute frame, with the xrun count then; listening.
    Listening {
        sent_at: u64,
        offset: u32,
        xruns: u64,
        give_up_at: u64,
    },
    /// Note heard; holding until the note-off.
    Holding { until: u64 },
}

struct Probe {
    midi_out: jack::Port<MidiOut>,
    audio_in: jack::Port<AudioIn>,
    phase: Phase,
    quiet_frames: u64,
    rng: Pcg32,
    key: u8,
    velocity: u8,
    hold_frames: u64,
    listen_limit: u64,
    remaining: usize,
    first_audio: Option<Box<[f32]>>,
    first_audio_len: usize,
    reports: SyncSender<Report>,
    xruns: Arc<AtomicU64>,
}

/// Counts the server's xruns for the probe.
struct XrunCounter(Arc<AtomicU64>);

impl jack::NotificationHandler for XrunCounter {
    fn xrun(&mut self, _: &Client) -> Control {
        self.0.fetch_add(1, Ordering::Relaxed);
        Control::Continue
    }
}

impl ProcessHandler for Probe {
    fn process(&mut self, _: &Client, scope: &ProcessScope) -> Control {
        let frames = scope.n_frames();
        let cycle_start = u64::from(scope.last_frame_time());
        let input = self.audio_in.as_slice(scope);
        let mut writer = self.midi_out.writer(scope);
        let threshold = 10f32.powf(THRESHOLD_DBFS / 20.0);
        let quiet = 10f32.powf(QUIET_DBFS / 20.0);
        match self.phase {
            Phase::Quiet => {
                if input.iter().all(|x| x.abs() < quiet) {
                    self.quiet_frames += u64::from(frames);
                } else {
                    self.quiet_frames = 0;
                }
                // A quarter second of quiet, then a note at a random offset in this period.
                if self.remaining > 0 && self.quiet_frames >= 12_000 {
                    let offset = self.rng.random_range(0..frames);
                    let bytes = [0x90, self.key, self.velocity];
                    if writer
                        .write(&RawMidi {
                            time: offset,
                            bytes: &bytes,
                        })
                        .is_ok()
                    {
                        let sent_at = cycle_start + u64::from(offset);
                        self.phase = Phase::Listening {
                            sent_at,
                            offset,
                            xruns: self.xruns.load(Ordering::Relaxed),
                            give_up_at: sent_at + self.listen_limit,
                        };
                        self.remaining -= 1;
                    }
                }
            }
            Phase::Listening { give_up_at, .. } if cycle_start >= give_up_at => {
                // Lost: release it anyway, say so, and go on with the next note.
                let _ = writer.write(&RawMidi {
                    time: 0,
                    bytes: &[0x80, self.key, 0],
                });
                let _ = self.reports.try_send(Report::Missed);
                self.phase = Phase::Quiet;
                self.quiet_frames = 0;
            }
            Phase::Listening { .. } => {}
            Phase::Holding { until } => {
                if cycle_start + u64::from(frames) >= until {
                    let bytes = [0x80, self.key, 0];
                    let time = (until.saturating_sub(cycle_start) as u32).min(frames - 1);
                    let _ = writer.write(&RawMidi {
                        time,
                        bytes: &bytes,
                    });
                    self.phase = Phase::Quiet;
                    self.quiet_frames = 0;
                }
            }
        }
        // The note may sound in the very cycle it was sent in (a synth in the same graph),
        // so listening looks at this cycle's input too, from the note-on's frame.
        if let Phase::Listening {
            sent_at,
            offset,
            xruns,
            ..
        } = self.phase
        {
            for (i, &x) in input.iter().enumerate() {
                let frame = cycle_start + i as u64;
                if frame < sent_at {
                    continue;
                }
                if let Some(buffer) = self.first_audio.as_mut()
                    && self.first_audio_len < buffer.len()
                {
                    buffer[self.first_audio_len] = x;
                    self.first_audio_len += 1;
                }
                if x.abs() > threshold && matches!(self.phase, Phase::Listening { .. }) {
                    let _ = self.reports.try_send(Report::Note(NoteLatency {
                        offset,
                        frames: frame - sent_at,
                        xrun: self.xruns.load(Ordering::Relaxed) != xruns,
                    }));
                    self.phase = Phase::Holding {
                        until: sent_at + self.hold_frames,
                    };
                }
            }
        } else if let Some(buffer) = self.first_audio.as_mut()
            && self.first_audio_len > 0
        {
            // Keep recording the first note until the buffer is full, then hand it over.
            for &x in input {
                if self.first_audio_len < buffer.len() {
                    buffer[self.first_audio_len] = x;
                    self.first_audio_len += 1;
                }
            }
            if self.first_audio_len == buffer.len()
                && let Some(buffer) = self.first_audio.take()
            {
                let len = self.first_audio_len;
                let _ = self.reports.try_send(Report::FirstAudio(buffer, len));
            }
        }
        Control::Continue
    }
}

/// Run the probe against a synth already running in the default JACK server.
pub fn measure(options: &ProbeOptions) -> Result<LatencyReport, ProbeError> {
    let (client, _) = Client::new("ascenseur_latency_probe", ClientOptions::NO_START_SERVER)
        .map_err(ProbeError::Open)?;
    let sample_rate = client.sample_rate();
    let period = client.buffer_size();
    let midi_out = client
        .register_port("midi_out", MidiOut::default())
        .map_err(ProbeError::Jack)?;
    let audio_in = client
        .register_port("audio_in", AudioIn::default())
        .map_err(ProbeError::Jack)?;
    let midi_name = midi_out.name().map_err(ProbeError::Jack)?;
    let audio_name = audio_in.name().map_err(ProbeError::Jack)?;
    let (reports, received) = sync_channel(options.notes + 4);
    let xruns = Arc::new(AtomicU64::new(0));
    let probe = Probe {
        midi_out,
        audio_in,
        phase: Phase::Quiet,
        quiet_frames: 0,
        rng: Pcg32::seed_from_u64(options.seed),
        key: options.key,
        velocity: options.velocity,
        hold_frames: (options.hold.as_secs_f64() * sample_rate as f64) as u64,
        listen_limit: (LISTEN_LIMIT_S * sample_rate as f64) as u64,
        remaining: options.notes,
        first_audio: Some(vec![0.0; sample_rate as usize / 4].into_boxed_slice()),
        first_audio_len: 0,
        reports,
        xruns: Arc::clone(&xruns),
    };
    let active = client
        .activate_async(XrunCounter(xruns), probe)
        .map_err(ProbeError::Jack)?;
    let connect = |from: &str, to: &str| {
        active
            .as_client()
            .connect_ports_by_name(from, to)
            .map_err(|source| ProbeError::Connect {
                from: from.to_string(),
                to: to.to_string(),
                source,
            })
    };
    connect(&midi_name, &options.midi_target)?;
    connect(&options.audio_source, &audio_name)?;
    let result = collect(&received, options, sample_rate, period);
    let _ = active.deactivate();
    result
}

fn collect(
    received: &Receiver<Report>,
    options: &ProbeOptions,
    sample_rate: u32,
    period: u32,
) -> Result<LatencyReport, ProbeError> {
    let started = Instant::now();
    let mut notes = Vec::new();
    let mut first_note_audio = Vec::new();
    let mut missed = 0;
    while notes.len() + missed < options.notes || (first_note_audio.is_empty() && !notes.is_empty())
    {
        let left = options.timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(ProbeError::Timeout {
                waited: options.timeout,
                heard: notes.len(),
                wanted: options.notes,
            });
        }
        match received.recv_timeout(left) {
            Ok(Report::Note(note)) => notes.push(note),
            Ok(Report::Missed) => missed += 1,
            Ok(Report::FirstAudio(buffer, len)) => first_note_audio = buffer[..len].to_vec(),
            Err(_) => {}
        }
    }
    if notes.is_empty() {
        return Err(ProbeError::Silent {
            sent: options.notes,
            limit_ms: LISTEN_LIMIT_S * 1e3,
        });
    }
    Ok(LatencyReport {
        sample_rate,
        period,
        sent: options.notes,
        notes,
        first_note_audio,
    })
}
