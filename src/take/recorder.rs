//! The session's recorder: one writer thread that turns the engine's journal and mix into
//! takes, one after another (a new take begins where a new preset or key took over).

use super::history::{self, HistoryEntry};
use super::info::TakeInfo;
use super::smf::{SmfPlan, TempoMap, band_tracks, player_track};
use super::{BAND_MIDI, MIX_WAV, PLAYER_MIDI, TAKE_JSON};
use crate::band::{Arrangement, BarLine, Sound};
use crate::engine::journal::{JournalEntry, TakeTime};
use crate::engine::{InputEvent, TimedInput};
use crate::practice::{PracticeLog, PracticeReport};
use crate::preset::LeadInstrument;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use ringbuf::HeapCons;
use ringbuf::traits::Consumer;
use std::collections::VecDeque;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Seconds of mix the ring between the audio thread and the writer holds: the longest
/// stall of the disk that loses nothing.
pub const MIX_RING_SECONDS: f32 = 10.0;

/// How often the writer wakes to drain the mix.
const WRITER_TICK: Duration = Duration::from_millis(50);

/// How often the WAV header is brought up to date: with the writer's own lag, what a
/// crash can lose stays under a second.
const WAV_FLUSH_INTERVAL: Duration = Duration::from_millis(500);

const WAV_SCALE: f32 = ((1 << 23) - 1) as f32;

#[derive(Debug, thiserror::Error)]
pub enum TakeError {
    #[error("cannot create the take folder '{path}': {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write '{path}': {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a take is of.
#[derive(Clone, Debug)]
pub struct TakeSetup {
    /// The folder to create for it (its parents are created if missing).
    pub folder: PathBuf,
    pub preset: String,
    pub key: String,
    pub seed: u64,
    pub lead: LeadInstrument,
    pub arrangement: Arrangement,
    pub started: chrono::DateTime<chrono::Local>,
    /// When the `play` session began (RFC 3339), for the history.
    pub session: String,
    /// The history file the take's line is added to, if any.
    pub history: Option<PathBuf>,
}

impl TakeSetup {
    /// Create the folder and check a file can be written in it: a disk that is full or
    /// a folder that cannot be written is found before the music starts, with the reason.
    fn prepare(&self) -> Result<(), TakeError> {
        std::fs::create_dir_all(&self.folder).map_err(|source| TakeError::Folder {
            path: self.folder.clone(),
            source,
        })?;
        let mix = self.folder.join(MIX_WAV);
        File::create(&mix).map_err(|source| TakeError::Write { path: mix, source })?;
        Ok(())
    }
}

enum ToWriter {
    /// A new engine plays from here on: its mix ring, rate and connection.
    Segment {
        mix: HeapCons<f32>,
        sample_rate: u32,
        device: String,
    },
    /// Journal entries of the engine playing now, complete up to engine frame
    /// `complete_to` (the mix may be written up to there).
    Journal {
        entries: Vec<JournalEntry>,
        complete_to: u64,
        xruns: u64,
    },
    /// The next take, to begin where the engine journals the next [`JournalEntry::Loaded`]
    /// (or where the next engine starts).
    Next(Box<TakeSetup>),
    /// The session ends: write everything.
    Finish { journal_lost: u64 },
}

/// A finished take: where it is and what it was.
#[derive(Clone, Debug)]
pub struct FinishedTake {
    pub folder: PathBuf,
    pub info: TakeInfo,
}

/// Records a live session's takes. Dropping it finishes the take being recorded, as
/// [`TakeRecorder::finish`] does.
pub struct TakeRecorder {
    to_writer: Sender<ToWriter>,
    problems: Receiver<String>,
    finished: Receiver<FinishedTake>,
    writer: Option<JoinHandle<()>>,
    /// Entries gathered by [`TakeRecorder::journal`], sent by [`TakeRecorder::send_journal`].
    batch: Vec<JournalEntry>,
    folder: PathBuf,
}

impl TakeRecorder {
    /// Prepare the first take's folder and start the writer. An error here means no
    /// recording; the music plays on.
    pub fn start(setup: TakeSetup) -> Result<TakeRecorder, TakeError> {
        setup.prepare()?;
        let folder = setup.folder.clone();
        let (to_writer, from_session) = crossbeam_channel::unbounded();
        let (problem_tx, problems) = crossbeam_channel::unbounded();
        let (finished_tx, finished) = crossbeam_channel::unbounded();
        let writer = std::thread::Builder::new()
            .name("ascenseur-takes".into())
            .spawn(move || Writer::new(setup, problem_tx, finished_tx).run(from_session))
            .map_err(|source| TakeError::Write {
                path: folder.clone(),
                source,
            })?;
        Ok(TakeRecorder {
            to_writer,
            problems,
            finished,
            writer: Some(writer),
            batch: Vec::new(),
            folder,
        })
    }

    /// The folder of the take being recorded.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// A new engine plays: record its mix (the ring of
    /// [`crate::engine::Engine::record_mix`]) after what the engine before it played.
    /// Send the old engine's journal first.
    pub fn segment(&mut self, mix: HeapCons<f32>, sample_rate: u32, device: String) {
        let _ = self.to_writer.send(ToWriter::Segment {
            mix,
            sample_rate,
            device,
        });
    }

    /// Keep a journal entry of the engine playing now.
    pub fn journal(&mut self, entry: JournalEntry) {
        self.batch.push(entry);
    }

    /// Hand the entries kept since the last call to the writer; the journal is complete
    /// up to engine frame `complete_to`; the session has seen `xruns` so far.
    pub fn send_journal(&mut self, complete_to: u64, xruns: u64) {
        let entries = std::mem::take(&mut self.batch);
        let _ = self.to_writer.send(ToWriter::Journal {
            entries,
            complete_to,
            xruns,
        });
    }

    /// The player moves to another preset or key: the take being recorded ends where the
    /// engine takes the new arrangement, and `setup`'s begins. A folder that cannot be
    /// made is an error; recording then goes on in the take before.
    pub fn next_take(&mut self, setup: TakeSetup) -> Result<(), TakeError> {
        setup.prepare()?;
        self.folder = setup.folder.clone();
        let _ = self.to_writer.send(ToWriter::Next(Box::new(setup)));
        Ok(())
    }

    /// What went wrong since the last call (that take's recording has stopped; the music
    /// has not).
    pub fn problem(&self) -> Option<String> {
        self.problems.try_recv().ok()
    }

    /// A take finished since the last call.
    pub fn finished(&self) -> Option<FinishedTake> {
        self.finished.try_recv().ok()
    }

    /// End the session's recording (after its engine has stopped): the writer drains the
    /// mix, finalises the WAV, writes the MIDI files and `take.json`. Returns every take
    /// finished and not yet collected with [`TakeRecorder::finished`].
    pub fn finish(mut self, journal_lost: u64) -> Vec<FinishedTake> {
        self.end(journal_lost);
        self.finished.try_iter().collect()
    }

    fn end(&mut self, journal_lost: u64) {
        if !self.batch.is_empty() {
            let entries = std::mem::take(&mut self.batch);
            let _ = self.to_writer.send(ToWriter::Journal {
                entries,
                complete_to: u64::MAX,
                xruns: 0,
            });
        }
        let _ = self.to_writer.send(ToWriter::Finish { journal_lost });
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl Drop for TakeRecorder {
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.end(0);
        }
    }
}

/// What was journaled, with the number of the take it belongs to (counted from 0 in
/// this session, in journal order) and its frame on the session's axis.
#[derive(Clone, Copy, Debug)]
enum Kept {
    Bar(BarLine),
    Band(u64, Sound),
    Played(TimedInput),
}

impl Kept {
    /// Move it `frames` later if it is at or after `from`. Returns the frame it was
    /// journaled at, as far as it tells: a bar line is laid out ahead of the clock, and
    /// says nothing of where the journal was.
    fn shift_from(&mut self, from: u64, frames: u64) -> u64 {
        match self {
            Kept::Bar(line) => {
                if line.start >= from as f64 {
                    line.start += frames as f64;
                }
                u64::MAX / 2
            }
            Kept::Band(frame, _) | Kept::Played(TimedInput { frame, .. }) => {
                let was = *frame;
                if was >= from {
                    *frame += frames;
                }
                was
            }
        }
    }
}

/// One take being written.
struct Take {
    setup: TakeSetup,
    number: u64,
    wav: Option<hound::WavWriter<BufWriter<File>>>,
    /// Session frame where it begins.
    start: u64,
    written: u64,
    left_out: u64,
    devices: Vec<String>,
    error: Option<String>,
    last_flush: Instant,
    /// The session's xruns when it began, and during it.
    xruns_before: u64,
    xruns: u64,
}

/// The writer thread's state. Frames here are on the session's axis: the mix frames
/// written since the session began (silence for gaps included).
struct Writer {
    problems: Sender<String>,
    finished: Sender<FinishedTake>,
    take: Take,
    /// Takes to come, with the session frame where each begins once it is known.
    next: VecDeque<(TakeSetup, Option<u64>)>,
    /// Takes announced so far (the number of the last one).
    announced: u64,
    /// Takes whose beginning has been journaled (entries get this number).
    journaled: u64,
    mix: Option<HeapCons<f32>>,
    sample_rate: u32,
    device: String,
    written: u64,
    segment_base: u64,
    /// Session frame up to which the journal is complete.
    horizon: u64,
    /// Silence to put in the mix: (session frame, frames).
    gaps: Vec<(u64, u64)>,
    kept: Vec<(u64, Kept)>,
    /// Xruns of the session so far.
    xruns: u64,
    /// Frames the engine playing now was not run for, so far.
    missed: u64,
    /// Its frames on the take's time line, which leaves playbacks out.
    take_time: TakeTime,
}

impl Writer {
    fn new(setup: TakeSetup, problems: Sender<String>, finished: Sender<FinishedTake>) -> Self {
        Writer {
            problems,
            finished,
            take: Take::new(setup, 0, 0),
            next: VecDeque::new(),
            announced: 0,
            journaled: 0,
            mix: None,
            sample_rate: 0,
            device: String::new(),
            written: 0,
            segment_base: 0,
            horizon: 0,
            gaps: Vec::new(),
            kept: Vec::new(),
            xruns: 0,
            missed: 0,
            take_time: TakeTime::default(),
        }
    }

    fn run(mut self, from_session: Receiver<ToWriter>) {
        let mut journal_lost = 0;
        loop {
            match from_session.recv_timeout(WRITER_TICK) {
                Ok(ToWriter::Segment {
                    mix,
                    sample_rate,
                    device,
                }) => self.begin_segment(mix, sample_rate, device),
                Ok(ToWriter::Journal {
                    entries,
                    complete_to,
                    xruns,
                }) => {
                    self.xruns = self.xruns.max(xruns);
                    for entry in entries {
                        self.keep(entry);
                    }
                    let complete = (self.segment_base + self.missed)
                        .saturating_add(self.take_time.take_frame(complete_to));
                    self.horizon = self.horizon.max(complete);
                }
                Ok(ToWriter::Next(setup)) => {
                    self.announced += 1;
                    self.next.push_back((*setup, None));
                }
                Ok(ToWriter::Finish { journal_lost: lost }) => {
                    journal_lost = lost;
                    break;
                }
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.drain_mix();
        }
        // The engine has stopped: everything it rendered is in the ring.
        self.horizon = u64::MAX;
        self.drain_mix();
        self.end_take(journal_lost);
    }

    fn begin_segment(&mut self, mix: HeapCons<f32>, sample_rate: u32, device: String) {
        // The engine before this one has stopped: all it rendered and journaled is in.
        self.horizon = u64::MAX;
        self.drain_mix();
        self.segment_base = self.written;
        self.missed = 0;
        self.take_time = TakeTime::default();
        self.horizon = self.written;
        self.mix = Some(mix);
        self.device = device;
        if self.sample_rate == 0 {
            self.sample_rate = sample_rate;
        } else if self.sample_rate != sample_rate {
            let why = format!(
                "the audio now runs at {sample_rate} Hz, not {} Hz",
                self.sample_rate
            );
            self.take.fail(&self.problems, why);
        }
        // A new preset chosen while the audio was away: the new engine plays it.
        while self.journaled < self.announced {
            self.journaled += 1;
            let at = self.written;
            if let Some(next) = self.next.iter_mut().find(|(_, start)| start.is_none()) {
                next.1 = Some(at);
            }
        }
        self.switch_takes_due();
        let device = self.device.clone();
        self.take.open(self.sample_rate, &device, &self.problems);
    }

    fn keep(&mut self, entry: JournalEntry) {
        self.take_time.follow(&entry);
        let base = self.segment_base + self.missed;
        let time = self.take_time;
        let at = |frame: u64| base + time.take_frame(frame);
        let kept = match entry {
            JournalEntry::Bar(mut line) => {
                line.start = base as f64 + time.take_time(line.start);
                Kept::Bar(line)
            }
            JournalEntry::Band { frame, sound } => Kept::Band(at(frame), sound),
            JournalEntry::Played(input) => Kept::Played(TimedInput {
                frame: at(input.frame),
                event: input.event,
            }),
            // Played back, not played: the mix leaves those frames out too.
            JournalEntry::Playback { .. } => return,
            JournalEntry::MixGap { frame, frames } => {
                self.gaps.push((at(frame), frames));
                return;
            }
            JournalEntry::Missed { frame, frames } => {
                // Silence where the engine was not run; what it played after comes later,
                // including what was journaled before the driver was sure of the miss.
                let from = at(frame);
                // Bar lines are laid out a beat and a little ahead: the search goes back
                // past the notes before the miss for longer than any beat lasts.
                let reach = u64::from(self.sample_rate.max(1)) * 8;
                for (_, kept) in self.kept.iter_mut().rev() {
                    if kept.shift_from(from, frames) + reach < from {
                        break;
                    }
                }
                for gap in self.gaps.iter_mut().filter(|gap| gap.0 >= from) {
                    gap.0 += frames;
                }
                self.gaps.push((from, frames));
                self.missed += frames;
                return;
            }
            JournalEntry::Loaded { frame } => {
                if self.journaled < self.announced {
                    self.journaled += 1;
                    if let Some(next) = self.next.iter_mut().find(|(_, start)| start.is_none()) {
                        next.1 = Some(at(frame));
                    }
                }
                return;
            }
        };
        self.kept.push((self.journaled, kept));
    }

    /// Where the mix must stop next: the journal's horizon, a gap, or a take's start.
    fn next_stop(&self) -> u64 {
        let gap = self.gaps.iter().map(|g| g.0).min().unwrap_or(u64::MAX);
        let split = self
            .next
            .front()
            .and_then(|(_, start)| *start)
            .unwrap_or(u64::MAX);
        self.horizon.min(gap).min(split)
    }

    /// Write what the mix ring holds, up to what the journal covers, with silence where
    /// blocks were left out and a new take wherever one begins.
    fn drain_mix(&mut self) {
        let Some(mut mix) = self.mix.take() else {
            return;
        };
        let mut buffer = [0.0f32; 2048];
        loop {
            self.switch_takes_due();
            if let Some(i) = self.gaps.iter().position(|g| g.0 <= self.written) {
                let (_, frames) = self.gaps.swap_remove(i);
                self.take.write_silence(frames, &self.problems);
                self.written += frames;
                continue;
            }
            let room = self.next_stop().saturating_sub(self.written);
            let want = (buffer.len() as u64).min(room.saturating_mul(2)) as usize;
            let got = mix.pop_slice(&mut buffer[..want]);
            if got == 0 {
                break;
            }
            self.take.write_samples(&buffer[..got], &self.problems);
            self.written += (got / 2) as u64;
        }
        self.mix = Some(mix);
        self.take.flush_every_second(&self.problems);
    }

    /// Begin every take whose start the mix has reached.
    fn switch_takes_due(&mut self) {
        while let Some((_, Some(start))) = self.next.front()
            && *start <= self.written
        {
            let (setup, start) = self.next.pop_front().expect("a front was there");
            self.end_take(0);
            let number = self.take.number + 1;
            self.take = Take::new(setup, number, start.unwrap_or(self.written));
            self.take.xruns_before = self.xruns;
            let device = self.device.clone();
            if self.sample_rate != 0 {
                self.take.open(self.sample_rate, &device, &self.problems);
            }
        }
    }

    /// Finish the take being written: its WAV, MIDI files and `take.json`.
    fn end_take(&mut self, journal_lost: u64) {
        let number = self.take.number;
        let mut mine = Vec::new();
        self.kept.retain(|(n, kept)| {
            if *n == number {
                mine.push(*kept);
                false
            } else {
                true
            }
        });
        let sample_rate = if self.sample_rate == 0 {
            48_000
        } else {
            self.sample_rate
        };
        self.take.xruns = self.xruns - self.take.xruns_before.min(self.xruns);
        let info = self
            .take
            .finish(&mine, sample_rate, journal_lost, &self.problems);
        let setup = &self.take.setup;
        if let Some(path) = &setup.history {
            let entry = HistoryEntry::of(&setup.folder, &info, &setup.session);
            if let Err(e) = history::append(path, &entry) {
                let _ = self.problems.send(format!(
                    "the take is saved, but not in the history '{}': {e}",
                    path.display()
                ));
            }
        }
        let _ = self.finished.send(FinishedTake {
            folder: self.take.setup.folder.clone(),
            info,
        });
    }
}

impl Take {
    fn new(setup: TakeSetup, number: u64, start: u64) -> Take {
        Take {
            setup,
            number,
            wav: None,
            start,
            written: 0,
            left_out: 0,
            devices: Vec::new(),
            error: None,
            last_flush: Instant::now(),
            xruns_before: 0,
            xruns: 0,
        }
    }

    fn open(&mut self, sample_rate: u32, device: &str, problems: &Sender<String>) {
        if !self.devices.iter().any(|d| d == device) {
            self.devices.push(device.to_string());
        }
        if self.wav.is_some() || self.error.is_some() || self.written > 0 {
            return;
        }
        let path = self.setup.folder.join(MIX_WAV);
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        match hound::WavWriter::create(&path, spec) {
            Ok(wav) => self.wav = Some(wav),
            Err(e) => self.fail_mix(problems, e),
        }
    }

    fn write_samples(&mut self, interleaved: &[f32], problems: &Sender<String>) {
        if let Some(wav) = &mut self.wav {
            for &x in interleaved {
                let sample = (x.clamp(-1.0, 1.0) * WAV_SCALE).round() as i32;
                if let Err(e) = wav.write_sample(sample) {
                    self.fail_mix(problems, e);
                    break;
                }
            }
        }
        self.written += (interleaved.len() / 2) as u64;
    }

    fn write_silence(&mut self, frames: u64, problems: &Sender<String>) {
        if let Some(wav) = &mut self.wav {
            for _ in 0..frames * 2 {
                if let Err(e) = wav.write_sample(0i32) {
                    self.fail_mix(problems, e);
                    break;
                }
            }
        }
        self.written += frames;
        self.left_out += frames;
    }

    fn flush_every_second(&mut self, problems: &Sender<String>) {
        if self.last_flush.elapsed() < WAV_FLUSH_INTERVAL {
            return;
        }
        self.last_flush = Instant::now();
        if let Some(wav) = &mut self.wav
            && let Err(e) = wav.flush()
        {
            self.fail_mix(problems, e);
        }
    }

    fn fail_mix(&mut self, problems: &Sender<String>, error: hound::Error) {
        let path = self.setup.folder.join(MIX_WAV);
        self.fail(
            problems,
            format!("cannot write '{}': {error}", path.display()),
        );
    }

    /// Recording of this take stops (its files keep what was written); the player is told
    /// once.
    fn fail(&mut self, problems: &Sender<String>, why: String) {
        if self.error.is_none() {
            let _ = problems.send(format!("recording stopped: {why}"));
            self.error = Some(why);
        }
        // Finalising may fail on a full disk; what the last flush wrote stays readable.
        if let Some(wav) = self.wav.take() {
            let _ = wav.finalize();
        }
    }

    fn finish(
        &mut self,
        kept: &[Kept],
        sample_rate: u32,
        journal_lost: u64,
        problems: &Sender<String>,
    ) -> TakeInfo {
        if let Some(wav) = self.wav.take()
            && let Err(e) = wav.finalize()
        {
            self.fail_mix(problems, e);
        }
        // On the take's own axis: frame 0 is its first frame of mix.
        let start = self.start;
        let mut bars: Vec<BarLine> = Vec::new();
        let mut band: Vec<(u64, Sound)> = Vec::new();
        let mut player: Vec<TimedInput> = Vec::new();
        for kept in kept {
            match *kept {
                Kept::Bar(mut line) => {
                    line.start -= start as f64;
                    bars.push(line);
                }
                Kept::Band(frame, sound) => band.push((frame.saturating_sub(start), sound)),
                Kept::Played(input) => player.push(TimedInput {
                    frame: input.frame.saturating_sub(start),
                    event: input.event,
                }),
            }
        }
        // A bar laid out but never reached (the take ended, the form restarted) is not
        // part of it.
        let end = self.written as f64;
        bars.retain(|line| line.start < end);
        bars.sort_by(|a, b| a.start.total_cmp(&b.start));
        band.sort_by_key(|(frame, _)| *frame);
        player.sort_by_key(|p| p.frame);
        let arrangement = self.setup.arrangement.clone();
        let tempo_map = TempoMap::new(
            sample_rate as f32,
            arrangement.tempo,
            arrangement.beats_per_bar,
            &bars,
        );
        let plan = |tracks| SmfPlan {
            title: arrangement.title.clone(),
            beats_per_bar: arrangement.beats_per_bar,
            tempo_map: tempo_map.clone(),
            tracks,
        };
        let files = [
            (
                PLAYER_MIDI,
                plan(vec![player_track(&tempo_map, self.setup.lead, &player)]),
            ),
            (BAND_MIDI, plan(band_tracks(&tempo_map, &band))),
        ];
        for (name, file) in files {
            let path = self.setup.folder.join(name);
            if let Err(e) = file.save(&path) {
                self.fail(problems, format!("cannot write '{}': {e}", path.display()));
            }
        }
        let mut log = PracticeLog::new();
        for input in &player {
            log.record(&JournalEntry::Played(*input));
        }
        let summary = PracticeReport::measure(
            log.notes(),
            &bars,
            &self.setup.arrangement,
            f64::from(sample_rate),
            self.written,
        );
        let info = self.info(&bars, &player, sample_rate, journal_lost, summary);
        let path = self.setup.folder.join(TAKE_JSON);
        let json = serde_json::to_string_pretty(&info).expect("a take's description serialises");
        if let Err(e) = std::fs::write(&path, json + "\n") {
            self.fail(problems, format!("cannot write '{}': {e}", path.display()));
        }
        info
    }

    fn info(
        &self,
        bars: &[BarLine],
        player: &[TimedInput],
        sample_rate: u32,
        journal_lost: u64,
        summary: PracticeReport,
    ) -> TakeInfo {
        let mut tempos: Vec<f32> = Vec::new();
        for line in bars {
            let tempo = (line.tempo * 100.0).round() / 100.0;
            if tempos.last() != Some(&tempo) {
                tempos.push(tempo);
            }
        }
        let notes: Vec<&TimedInput> = player
            .iter()
            .filter(|p| matches!(p.event, InputEvent::NoteOn { .. }))
            .collect();
        let first_bar = notes.first().and_then(|first| {
            bars.iter()
                .rev()
                .find(|l| l.start <= first.frame as f64 + 0.5)
                .map(|l| u64::from(l.form_bar) + 1)
        });
        TakeInfo {
            preset: self.setup.preset.clone(),
            title: self.setup.arrangement.title.clone(),
            key: self.setup.key.clone(),
            tempos,
            seed: self.setup.seed,
            lead: self.setup.lead.slug().to_string(),
            devices: self.devices.clone(),
            sample_rate,
            started: self.setup.started.to_rfc3339(),
            duration_s: self.written as f64 / f64::from(sample_rate),
            notes_played: notes.len() as u64,
            first_bar,
            form_start_s: bars.first().map(|l| l.start / f64::from(sample_rate)),
            mix_frames_left_out: self.left_out,
            journal_lost,
            xruns: self.xruns,
            error: self.error.clone(),
            summary,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringbuf::HeapRb;
    use ringbuf::traits::{Producer, Split};

    const RATE: u32 = 48_000;

    fn note_on(frame: u64, key: u8) -> JournalEntry {
        JournalEntry::Played(TimedInput {
            frame,
            event: InputEvent::NoteOn { key, velocity: 0.8 },
        })
    }

    #[test]
    fn cycles_missed_and_journaled_late_move_what_was_played_after_them() {
        let preset = crate::preset::find("generique").unwrap();
        let arrangement = Arrangement::new(&preset, None).unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let folder = scratch.path().join("take");
        let line = BarLine {
            index: 0,
            form_bar: 0,
            start: 0.0,
            samples_per_beat: f64::from(RATE) / 2.0,
            beats: 4,
            tempo: 120.0,
            key_shift: 0,
        };
        let mut recorder = TakeRecorder::start(TakeSetup {
            folder: folder.clone(),
            preset: preset.name.clone(),
            key: "D minor".into(),
            seed: 1,
            lead: preset.lead,
            arrangement,
            started: chrono::Local::now(),
            session: String::new(),
            history: None,
        })
        .unwrap();
        let (mut mix, ring) = HeapRb::<f32>::new(2 * 96_000).split();
        recorder.segment(ring, RATE, "test".into());
        // The bar line, a note before the miss and two after it, then the 500 frames the
        // server skipped at frame 3 000, journaled once the driver was sure.
        recorder.journal(JournalEntry::Bar(line));
        recorder.journal(note_on(1_000, 62));
        recorder.journal(note_on(3_000, 65));
        recorder.journal(note_on(3_200, 69));
        recorder.journal(JournalEntry::Missed {
            frame: 3_000,
            frames: 500,
        });
        recorder.journal(note_on(9_000, 71));
        assert_eq!(mix.push_slice(&[0.25; 2 * 48_000]), 2 * 48_000);
        recorder.send_journal(48_000, 1);
        let taken = recorder.finish(0);
        assert_eq!(taken.len(), 1);

        let played: Vec<(u64, u8)> =
            crate::render::midi_file::read(&folder.join(PLAYER_MIDI), RATE as f32)
                .unwrap()
                .into_iter()
                .filter_map(|i| match i.event {
                    InputEvent::NoteOn { key, .. } => Some((i.frame, key)),
                    _ => None,
                })
                .collect();
        // A tick is 25 frames at 120 BPM.
        assert_eq!(played, [(1_000, 62), (3_500, 65), (3_700, 69), (9_500, 71)]);
        let wav = hound::WavReader::open(folder.join(MIX_WAV)).unwrap();
        assert_eq!(wav.duration(), 48_500);
        // Stereo: the silence is samples 6 000 to 7 000.
        let samples: Vec<i32> = wav.into_samples().map(Result::unwrap).collect();
        assert!(samples[..6_000].iter().all(|&s| s != 0));
        assert!(samples[6_000..7_000].iter().all(|&s| s == 0));
        assert!(samples[7_000..].iter().all(|&s| s != 0));
    }
}
