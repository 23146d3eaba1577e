//! The engine: the one renderer behind the live drivers, offline renders, tests and
//! benches.
//!
//! [`Engine::process`] runs on the audio thread under the real-time contract: it never
//! allocates, frees, locks, blocks, prints or does I/O. Everything it needs is built by
//! [`Engine::new`] before the stream starts. Other threads talk to it only through the
//! lock-free rings of [`EngineController`]: commands in, player input in, telemetry out,
//! and heavy objects back out to be dropped off the audio thread.

pub mod flush_to_zero;
pub mod journal;
pub mod loudness;
pub mod messages;
pub mod pending;
pub mod playback;

pub use messages::{
    Command, EngineReturn, InputEvent, NoteOnset, ONSETS_PER_BLOCK, Telemetry, TimedInput,
    Transport,
};

use crate::band::bass::Bassist;
use crate::band::drums::Drummer;
use crate::band::piano::Pianist;
use crate::band::{
    Arrangement, Conductor, EventQueue, Listener, Player, Position, Sound, Trader, Trainer,
};
use crate::preset::{LeadInstrument, TEMPO_RANGE};
use crate::synth::bass::{BassBody, BassVoice};
use crate::synth::drums::DrumSynth;
use crate::synth::fx::{Echo, Limiter, Room};
use crate::synth::lead::{CHORD_WINDOW_S, LeadControls, LeadNote, LeadSynthVoice};
use crate::synth::piano::PianoVoice;
use crate::synth::pool::{Voice, VoicePool};
use journal::{JOURNAL_CAPACITY, JournalEntry};
use pending::PendingInput;
pub use playback::{Playback, PlaybackProgress};
use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};

/// Bass voices: a note and the tail of the one before it, with room for a pedal.
pub const BASS_VOICES: usize = 4;
/// Piano voices: two overlapping five-note voicings and their tails.
pub const PIANO_VOICES: usize = 20;
/// Lead voices the player can hold at once.
pub const LEAD_VOICES: usize = 8;
/// The horn plays one line; a second voice lets a note ring into the next.
pub const HORN_VOICES: usize = 2;
/// Commands waiting from the UI.
pub const COMMAND_CAPACITY: usize = 64;
/// Player input waiting between two callbacks: a dense MIDI burst at a large buffer.
pub const INPUT_CAPACITY: usize = 1024;
/// Telemetry snapshots waiting for the UI. Lossy: when the ring is full the newest
/// snapshot is not queued; it is counted in [`Telemetry::telemetry_lost`] and its note
/// onsets ride with the next snapshot that is.
pub const TELEMETRY_CAPACITY: usize = 256;
/// Largest stretch rendered in one go; longer host buffers are rendered in pieces.
pub const MAX_CHUNK: usize = 256;

/// The stems, in the order [`Engine::process_with_stems`] fills them.
/// The stems, in the order of every per-stem array: the band, the player's lead voice,
/// and the band's horn when it trades with the player.
pub const STEMS: [&str; STEM_COUNT] = ["bass", "drums", "piano", "lead", "horn"];
pub const STEM_COUNT: usize = 5;

/// What an engine is built with: everything it plays from its first sample. A live
/// session builds each engine with the player's current choices here, so an engine that
/// replaces a lost one sounds right from the start instead of after a round of commands.
#[derive(Clone, Copy, Debug)]
pub struct EngineConfig {
    pub sample_rate: f32,
    pub seed: u64,
    /// Players muted from the start, indexed as [`Player::ALL`].
    pub mute: [bool; 3],
    /// Tempo in BPM; `None` is the arrangement's.
    pub tempo: Option<f32>,
    /// The lead voice; `None` is the arrangement's.
    pub lead: Option<LeadInstrument>,
    /// Whether [`Command::Start`] counts in.
    pub count_in: bool,
    /// Whether the band plays from the start (false: it waits for [`Command::Start`];
    /// the lead still sounds).
    pub playing: bool,
    /// The bar of the form to begin at, 0-based and not wrapped: a session resuming
    /// where it was.
    pub start_bar: u64,
    /// Loop, tempo ramp and key cycle from the start.
    pub trainer: Trainer,
    /// The last bar heard by an engine this one replaces: it begins with the bar after
    /// it (counted `start_bar`), in its loop, key and ramp. `None`: bar `start_bar` of
    /// the form (or the loop's first), in the arrangement's key.
    pub resume_after: Option<Position>,
    /// Whether the band follows the soloist (where the arrangement lets it).
    pub listen: bool,
    /// Bars per turn when a band horn trades with the player (2, 4 or 8); 0: no trading.
    pub trade: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            sample_rate: 48_000.0,
            seed: 1957,
            mute: [false; 3],
            tempo: None,
            lead: None,
            count_in: false,
            playing: true,
            start_bar: 0,
            trainer: Trainer::default(),
            resume_after: None,
            listen: true,
            trade: 0,
        }
    }
}

/// The non-audio side of an engine: the other ends of its rings.
pub struct EngineController {
    pub commands: HeapProd<Command>,
    /// Taken by a live session's [`crate::io::live_input::LiveInput`], which lets several
    /// threads feed the one producer.
    input: Option<HeapProd<TimedInput>>,
    pub telemetry: HeapCons<Telemetry>,
    pub returns: HeapCons<EngineReturn>,
    pub journal: HeapCons<JournalEntry>,
}

impl EngineController {
    /// Every journal entry waiting, oldest first.
    pub fn drain_journal(&mut self, mut each: impl FnMut(JournalEntry)) {
        while let Some(entry) = self.journal.try_pop() {
            each(entry);
        }
    }

    /// Send a command; gives it back if the ring is full.
    pub fn send(&mut self, command: Command) -> Result<(), Command> {
        self.commands.try_push(command)
    }

    /// Queue player input; gives it back if the ring is full.
    /// Queue player input; gives it back if the ring is full or the input producer was
    /// taken with [`EngineController::take_input`].
    pub fn play(&mut self, input: TimedInput) -> Result<(), TimedInput> {
        match &mut self.input {
            Some(producer) => producer.try_push(input),
            None => Err(input),
        }
    }

    /// Take the input ring's producer, to hand it to a sink shared by several threads.
    pub fn take_input(&mut self) -> Option<HeapProd<TimedInput>> {
        self.input.take()
    }

    /// Drop whatever the engine handed back (old arrangements) on this thread. Call it
    /// regularly: a new arrangement is taken only while there is room to hand the old
    /// one back.
    pub fn collect_garbage(&mut self) {
        while self.returns.try_pop().is_some() {}
    }

    /// Every telemetry snapshot waiting, oldest first.
    pub fn drain_telemetry(&mut self, mut each: impl FnMut(Telemetry)) {
        while let Some(t) = self.telemetry.try_pop() {
            each(t);
        }
    }

    /// The newest telemetry snapshot, discarding older ones.
    pub fn latest_telemetry(&mut self) -> Option<Telemetry> {
        let mut latest = None;
        while let Some(t) = self.telemetry.try_pop() {
            latest = Some(t);
        }
        latest
    }
}

/// Scratch buses for one chunk, one stereo pair per stem.
struct Buses {
    left: [[f32; MAX_CHUNK]; STEM_COUNT],
    right: [[f32; MAX_CHUNK]; STEM_COUNT],
}

/// The instrument: band, voices, room and master.
pub struct Engine {
    sample_rate: f32,
    clock: u64,
    arrangement: Box<Arrangement>,
    conductor: Conductor,
    queue: EventQueue,
    bassist: Bassist,
    drummer: Drummer,
    pianist: Pianist,
    /// What the band hears of the soloist, and whether it follows (the configuration's
    /// and the arrangement's say together).
    listener: Listener,
    listen: bool,
    /// The band's stems' gain, from the arrangement's trim.
    band_level: f32,
    bass: VoicePool<BassVoice, BASS_VOICES>,
    bass_body: BassBody,
    drums: DrumSynth,
    piano: VoicePool<PianoVoice, PIANO_VOICES>,
    lead: VoicePool<LeadSynthVoice, LEAD_VOICES>,
    /// The band's horn, trading with the player, and the one who plans its answers.
    horn: VoicePool<LeadSynthVoice, HORN_VOICES>,
    trader: Trader,
    lead_instrument: LeadInstrument,
    lead_controls: LeadControls,
    sustain: bool,
    sustained: [bool; 128],
    /// Lead keys physically down.
    keys_down: [bool; 128],
    room: Room,
    echo: Echo,
    limiter: Limiter,
    mute: [bool; 3],
    buses: Box<Buses>,
    /// Player input waiting for its frame.
    pending: PendingInput,
    commands: HeapCons<Command>,
    input: HeapCons<TimedInput>,
    telemetry: HeapProd<Telemetry>,
    returns: HeapProd<EngineReturn>,
    journal: HeapProd<JournalEntry>,
    /// The mix as rendered, for a take being recorded ([`Engine::record_mix`]).
    mix_tap: Option<HeapProd<f32>>,
    /// Journal entries that did not fit in the ring, since the start.
    journal_lost: u64,
    dropped_input: u64,
    stem_peaks: [f32; STEM_COUNT],
    notes_played: u64,
    /// Program changes that chose the lead voice, since the start.
    lead_programs: u64,
    /// Whether the band plays; while stopped nothing is planned and the lead still sounds.
    playing: bool,
    count_in: bool,
    /// The count-in bar being played: its first frame and frames per beat.
    counting_in: Option<(u64, f64)>,
    /// Onsets since the last snapshot that reached the ring: `onsets[..onset_count]`.
    onsets: [NoteOnset; ONSETS_PER_BLOCK],
    onset_count: usize,
    onsets_missed: u64,
    /// Snapshots that did not fit in the telemetry ring, since the start.
    telemetry_lost: u64,
    /// A take being played back, and one over that waits for room in the return ring.
    playback: Option<Box<Playback>>,
    finished_playback: Option<Box<Playback>>,
    /// The frames of the latest playback: the take leaves them out.
    playback_span: std::ops::Range<u64>,
}

impl Engine {
    /// Build an engine and its controller. Allocates everything the audio thread will
    /// ever need; call it before the stream starts.
    pub fn new(config: EngineConfig, arrangement: Arrangement) -> (Engine, EngineController) {
        let sr = config.sample_rate;
        let seed = crate::band::band_seed(config.seed, &arrangement.name);
        let (commands_tx, commands_rx) = HeapRb::<Command>::new(COMMAND_CAPACITY).split();
        let (input_tx, input_rx) = HeapRb::<TimedInput>::new(INPUT_CAPACITY).split();
        let (telemetry_tx, telemetry_rx) = HeapRb::<Telemetry>::new(TELEMETRY_CAPACITY).split();
        let (returns_tx, returns_rx) = HeapRb::<EngineReturn>::new(COMMAND_CAPACITY).split();
        let (journal_tx, journal_rx) = HeapRb::<JournalEntry>::new(JOURNAL_CAPACITY).split();
        let lead_instrument = config.lead.unwrap_or(arrangement.lead);
        let band_level = db_to_gain(arrangement.band_trim_db);
        let tempo = config.tempo.map_or(arrangement.tempo, |t| {
            t.clamp(*TEMPO_RANGE.start(), *TEMPO_RANGE.end())
        });
        let mut engine = Engine {
            sample_rate: sr,
            clock: 0,
            conductor: Conductor::new(sr, tempo),
            arrangement: Box::new(arrangement),
            queue: EventQueue::new(),
            bassist: Bassist::new(seed),
            drummer: Drummer::new(seed),
            pianist: Pianist::new(seed),
            listener: Listener::new(),
            listen: config.listen,
            band_level,
            bass: VoicePool::new(|i| BassVoice::new(sr, seed ^ (0x100 + i as u64))),
            bass_body: BassBody::new(sr),
            drums: DrumSynth::new(sr, seed ^ 0x200),
            piano: VoicePool::new(|i| PianoVoice::new(sr, seed ^ (0x300 + i as u64))),
            lead: VoicePool::new(|i| LeadSynthVoice::new(sr, seed ^ (0x400 + i as u64))),
            horn: VoicePool::new(|i| LeadSynthVoice::new(sr, seed ^ (0x500 + i as u64))),
            trader: Trader::new(seed),
            lead_instrument,
            lead_controls: LeadControls::default(),
            sustain: false,
            sustained: [false; 128],
            keys_down: [false; 128],
            room: Room::new(sr),
            echo: Echo::new(0.32, 0.28, sr),
            limiter: Limiter::new(sr),
            mute: config.mute,
            buses: Box::new(Buses {
                left: [[0.0; MAX_CHUNK]; STEM_COUNT],
                right: [[0.0; MAX_CHUNK]; STEM_COUNT],
            }),
            pending: PendingInput::new(),
            commands: commands_rx,
            input: input_rx,
            telemetry: telemetry_tx,
            returns: returns_tx,
            journal: journal_tx,
            mix_tap: None,
            journal_lost: 0,
            dropped_input: 0,
            stem_peaks: [0.0; STEM_COUNT],
            notes_played: 0,
            lead_programs: 0,
            playing: config.playing,
            count_in: config.count_in,
            counting_in: None,
            onsets: [NoteOnset::default(); ONSETS_PER_BLOCK],
            onset_count: 0,
            onsets_missed: 0,
            telemetry_lost: 0,
            playback: None,
            finished_playback: None,
            playback_span: 0..0,
        };
        engine.set_trainer(config.trainer);
        engine.trader.set_bars(config.trade);
        engine.trader.set_player_lead(lead_instrument);
        engine.conductor.restart(0);
        match config.resume_after {
            Some(heard) => engine
                .conductor
                .resume_after(0, config.start_bar, heard.pass_point()),
            None if config.start_bar > 0 => engine.start_at_bar(config.start_bar),
            None => {}
        }
        let controller = EngineController {
            commands: commands_tx,
            input: Some(input_tx),
            telemetry: telemetry_rx,
            returns: returns_rx,
            journal: journal_rx,
        };
        (engine, controller)
    }

    /// Générique with the band muted, at 48 kHz: only the lead voice sounds. For tests and
    /// latency probes, where the first sound after a note-on must be the player's.
    pub fn lead_only() -> (Engine, EngineController) {
        let preset = crate::preset::find("generique").expect("Générique is built in");
        let arrangement = Arrangement::new(&preset, None).expect("a built-in preset compiles");
        let config = EngineConfig {
            mute: [true; 3],
            ..EngineConfig::default()
        };
        Engine::new(config, arrangement)
    }

    /// Begin at bar `bar` of the form instead of bar 1 (as [`EngineConfig::start_bar`]).
    /// Call before the stream starts.
    pub fn start_at_bar(&mut self, bar: u64) {
        self.queue.clear();
        self.bassist.reset();
        self.pianist.reset();
        self.conductor.restart_at_bar(self.clock, bar);
    }

    /// Copy every block of the mix into a ring of `seconds` of audio, whose other end is
    /// returned for a take's writer. A block that does not fit is left out whole and
    /// journaled as a [`JournalEntry::MixGap`], so the writer keeps the take's timeline.
    /// Call before the stream starts.
    pub fn record_mix(&mut self, seconds: f32) -> HeapCons<f32> {
        let samples = (seconds.max(0.1) * self.sample_rate) as usize * 2;
        let (producer, consumer) = HeapRb::<f32>::new(samples.max(2 * MAX_CHUNK)).split();
        self.mix_tap = Some(producer);
        consumer
    }

    /// The driver skipped `frames` of cycles, `frames_ago` frames of this engine's clock
    /// before now (the machine was late; a driver may need a few cycles to be sure): the
    /// journal says so, so that a take keeps the session's real time. Audio thread.
    pub fn missed(&mut self, frames: u64, frames_ago: u64) {
        self.journal_entry(JournalEntry::Missed {
            frame: self.clock.saturating_sub(frames_ago),
            frames,
        });
    }

    /// Frames rendered since the engine started: the engine's clock.
    pub fn clock(&self) -> u64 {
        self.clock
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// The arrangement being played.
    pub fn arrangement(&self) -> &Arrangement {
        &self.arrangement
    }

    /// Sample time at which bar `bar` (0-based) starts at the current tempo, if the tempo
    /// has not changed since the start. For offline renders and tests.
    pub fn bar_start(&self, bar: u64) -> u64 {
        let spb = self.sample_rate as f64 * 60.0 / self.conductor.tempo() as f64;
        (bar as f64 * spb * self.arrangement.beats_per_bar as f64).round() as u64
    }

    /// Render interleaved stereo into `out` (length = 2 × frames). Audio thread.
    pub fn process(&mut self, out: &mut [f32]) {
        self.process_inner(out, None);
    }

    /// Render interleaved stereo into `out` and each player's dry stem (interleaved
    /// stereo, same length as `out`) into `stems`, ordered as [`STEMS`]. Offline renders.
    pub fn process_with_stems(&mut self, out: &mut [f32], stems: &mut [&mut [f32]; STEM_COUNT]) {
        self.process_inner(out, Some(stems));
    }

    /// Every render, live or offline, flushes denormals the same way, so both give the
    /// same samples; and none may touch the allocator.
    fn process_inner(&mut self, out: &mut [f32], stems: Option<&mut [&mut [f32]; STEM_COUNT]>) {
        let _flush = flush_to_zero::FlushToZero::enable();
        assert_no_alloc::assert_no_alloc(|| self.render_block(out, stems));
    }

    fn render_block(&mut self, out: &mut [f32], mut stems: Option<&mut [&mut [f32]; STEM_COUNT]>) {
        self.drain_commands();
        self.drain_input();
        let frames = out.len() / 2;
        self.stem_peaks = [0.0; STEM_COUNT];
        let mut done = 0;
        while done < frames {
            let block_end = self.clock + (frames - done) as u64;
            // Bars are planned at their own frame, not at a block's start: what the band
            // has heard of the soloist then does not depend on the block size.
            if self.playing {
                self.plan_until(self.clock + 1);
            }
            // Play everything due now, then render up to the next due sound.
            self.apply_due();
            self.play_back_due();
            let next_sound = self.queue.next_time().unwrap_or(u64::MAX);
            let next_input = self.next_input_time();
            let next_playback = self.next_playback_time();
            let next_plan = if self.playing {
                self.conductor.plan_time()
            } else {
                u64::MAX
            };
            let until = block_end
                .min(next_plan.max(self.clock + 1))
                .min(next_sound.max(self.clock + 1))
                .min(next_input.max(self.clock + 1))
                .min(next_playback.max(self.clock + 1));
            let n = ((until - self.clock) as usize).min(MAX_CHUNK);
            let range = done * 2..(done + n) * 2;
            match stems.as_deref_mut() {
                Some(stems) => {
                    let [b, d, p, l, h] = stems;
                    self.render_chunk(
                        &mut out[range.clone()],
                        Some([
                            &mut b[range.clone()],
                            &mut d[range.clone()],
                            &mut p[range.clone()],
                            &mut l[range.clone()],
                            &mut h[range],
                        ]),
                    )
                }
                None => self.render_chunk(&mut out[range], None),
            }
            self.clock += n as u64;
            done += n;
        }
        self.tap_mix(out);
        self.publish_telemetry();
    }

    /// Copy the block just rendered into the recorded mix, but for the frames of a
    /// playback. A part that does not fit is left out whole and journaled.
    fn tap_mix(&mut self, out: &[f32]) {
        if self.mix_tap.is_none() {
            return;
        }
        let frames = (out.len() / 2) as u64;
        let first = self.clock - frames;
        let span = &self.playback_span;
        let silent_from = span.start.clamp(first, self.clock);
        let silent_to = span.end.clamp(silent_from, self.clock);
        let parts = [
            (first, silent_from - first),
            (silent_to, self.clock - silent_to),
        ];
        for (frame, frames) in parts {
            if frames == 0 {
                continue;
            }
            let from = ((frame - first) * 2) as usize;
            let part = &out[from..from + frames as usize * 2];
            let left_out = match &mut self.mix_tap {
                Some(tap) if tap.vacant_len() >= part.len() => {
                    tap.push_slice(part);
                    false
                }
                _ => true,
            };
            if left_out {
                self.journal_entry(JournalEntry::MixGap { frame, frames });
            }
        }
    }

    /// Begin, play and end a playback as its frames come.
    fn play_back_due(&mut self) {
        if let Some(done) = self.finished_playback.take() {
            self.hand_back_playback(done);
        }
        let Some(mut playback) = self.playback.take() else {
            return;
        };
        if playback.begins_at(self.clock) {
            // The player's own notes held into it would hang over the take; they end
            // where it begins.
            self.journal_entry(JournalEntry::Played(TimedInput {
                frame: self.clock,
                event: InputEvent::AllNotesOff,
            }));
            self.apply_input(InputEvent::AllNotesOff);
        }
        while let Some(sound) = playback.pop_band(self.clock) {
            self.sound_band(sound);
        }
        while let Some(event) = playback.pop_player(self.clock) {
            self.apply_input(event);
        }
        if self.clock < playback.end_frame() {
            self.playback = Some(playback);
            return;
        }
        let (keys, sustain) = playback.take_held();
        for (key, down) in keys.iter().enumerate() {
            if *down {
                self.apply_input(InputEvent::NoteOff { key: key as u8 });
            }
        }
        if sustain {
            self.apply_input(InputEvent::Sustain(false));
        }
        self.hand_back_playback(playback);
    }

    /// A playback that is over goes back to be dropped off this thread, as soon as
    /// there is room.
    fn hand_back_playback(&mut self, playback: Box<Playback>) {
        if let Err(EngineReturn::Playback(back)) =
            self.returns.try_push(EngineReturn::Playback(playback))
        {
            self.finished_playback = Some(back);
        }
    }

    fn next_playback_time(&self) -> u64 {
        let Some(playback) = &self.playback else {
            return u64::MAX;
        };
        let sound = playback.next_time().unwrap_or(u64::MAX);
        let start = playback.start_frame();
        let edge = if start > self.clock {
            start
        } else {
            playback.end_frame()
        };
        sound.min(edge)
    }

    /// Place a playback from the next bar line, the band holding its next bar back to
    /// the playback's end.
    fn start_playback(&mut self, mut playback: Box<Playback>) {
        let start = if self.playing {
            self.conductor.next_bar_start().max(self.clock as f64)
        } else {
            self.clock as f64
        };
        playback.place(start);
        if self.playing {
            self.conductor.delay_next_bar(start + playback.length());
        }
        self.playback_span = playback.start_frame()..playback.end_frame();
        self.journal_entry(JournalEntry::Playback {
            frame: self.clock,
            from: playback.start_frame(),
            to: playback.end_frame(),
        });
        self.playback = Some(playback);
    }

    /// The player asked the playback to stop: it ends at its first bar line the band can
    /// still come in on (the players plan a bar a beat ahead), and the band goes on
    /// from there.
    fn stop_playback(&mut self) {
        let Some(playback) = &mut self.playback else {
            return;
        };
        let planned_end = playback.end_frame();
        // The band's bar after the playback may be planned already: then it plays out.
        let band_waits = !self.playing
            || (self.conductor.next_bar_start().round() as u64 == planned_end
                && !self.conductor.needs_planning(self.clock + 1));
        if !band_waits {
            return;
        }
        let spb = self.sample_rate as f64 * 60.0 / self.conductor.next_tempo() as f64;
        let earliest = self.clock + (spb + 0.1 * self.sample_rate as f64) as u64;
        let Some(cut) = playback.cut_at_bar_after(earliest) else {
            return;
        };
        if self.playing {
            self.conductor.delay_next_bar(cut);
        }
        let (from, to) = (playback.start_frame(), playback.end_frame());
        self.playback_span = from..to.max(from);
        self.journal_entry(JournalEntry::Playback {
            frame: self.clock,
            from,
            to,
        });
    }

    /// The band was stopped, started or given a new form: a playback ends now.
    fn end_playback_now(&mut self) {
        let Some(playback) = &mut self.playback else {
            return;
        };
        playback.cut_now(self.clock);
        let (from, to) = (playback.start_frame(), playback.end_frame());
        self.playback_span = from..to.max(from);
        self.journal_entry(JournalEntry::Playback {
            frame: self.clock,
            from,
            to,
        });
    }

    /// Where the music is at `frame`: the playback's bar while one sounds.
    fn position_at(&self, frame: u64) -> Position {
        match &self.playback {
            Some(playback) if self.playback_span.contains(&frame) => {
                playback.position(frame, &self.arrangement)
            }
            _ => self.conductor.position(frame, &self.arrangement),
        }
    }

    fn plan_until(&mut self, horizon: u64) {
        while self.conductor.needs_planning(horizon) {
            let mut ctx = self.conductor.next_bar(&self.arrangement);
            if self.listen && self.arrangement.listen {
                ctx.soloist = self
                    .listener
                    .hear_bar(self.clock, ctx.samples_per_beat, ctx.beats);
            }
            let line = JournalEntry::Bar(ctx.line());
            if self.journal.try_push(line).is_err() {
                self.journal_lost += 1;
            }
            self.bassist
                .plan(&ctx, &self.arrangement.bass, &mut self.queue);
            self.drummer
                .plan(&ctx, &self.arrangement.drums, &mut self.queue);
            self.pianist
                .plan(&ctx, &self.arrangement.piano, &mut self.queue);
            self.trader.plan(&ctx, self.clock, &mut self.queue);
        }
    }

    fn apply_due(&mut self) {
        while let Some(event) = self.queue.pop_due(self.clock) {
            if self.sound_band(event.sound) {
                self.journal_entry(JournalEntry::Band {
                    frame: self.clock,
                    sound: event.sound,
                });
            }
        }
        while let Some(input) = self.pending.pop_due(self.clock) {
            // What the player plays over a playback sounds, but is not part of the take.
            if !self.playback_span.contains(&self.clock) {
                self.journal_entry(JournalEntry::Played(TimedInput {
                    frame: self.clock,
                    event: input.event,
                }));
            }
            self.apply_input(input.event);
        }
    }

    /// Start a band sound on its voices; returns whether it is heard (its player is not
    /// muted and it is not a count-in click).
    fn sound_band(&mut self, sound: Sound) -> bool {
        match sound {
            Sound::Bass(note) if !self.mute[0] => {
                self.bass.start(note);
                true
            }
            Sound::Drum(hit) if !self.mute[1] => {
                self.drums.hit(hit);
                true
            }
            Sound::Piano(note) if !self.mute[2] => {
                self.piano.start(note);
                true
            }
            Sound::Horn(note) => {
                self.horn.start(LeadNote {
                    key: note.key,
                    velocity: note.velocity,
                    instrument: note.instrument,
                });
                true
            }
            Sound::HornOff { key } => {
                self.horn.release_key(key);
                true
            }
            // The count-in is for the player: it sounds with the drums muted too.
            Sound::Click(hit) => {
                self.drums.hit(hit);
                false
            }
            _ => false,
        }
    }

    fn journal_entry(&mut self, entry: JournalEntry) {
        if self.journal.try_push(entry).is_err() {
            self.journal_lost += 1;
        }
    }

    fn next_input_time(&self) -> u64 {
        self.pending.next_frame().unwrap_or(u64::MAX)
    }

    /// Queue player input read on the audio thread itself (JACK MIDI ports are read
    /// inside the process cycle), before calling [`Engine::process`]. A full queue drops
    /// the input and counts it. Audio thread.
    pub fn queue_input(&mut self, input: TimedInput) {
        self.insert_pending(input);
    }

    fn insert_pending(&mut self, input: TimedInput) {
        if self.pending.push(input).is_err() {
            self.dropped_input += 1;
        }
    }

    fn drain_input(&mut self) {
        while let Some(input) = self.input.try_pop() {
            self.insert_pending(input);
        }
    }

    fn drain_commands(&mut self) {
        loop {
            // A new arrangement waits in the ring, with the commands behind it, until the
            // controller has collected enough old ones to make room for the one it
            // replaces: freeing that here would free on the audio thread.
            let returns_a_box = matches!(
                self.commands.first(),
                Some(Command::Load(_) | Command::PlayBack(_))
            );
            if returns_a_box && self.returns.is_full() {
                break;
            }
            let Some(command) = self.commands.try_pop() else {
                break;
            };
            match command {
                Command::SetTempo(bpm) => self.conductor.set_tempo(bpm),
                Command::SetMute(player, muted) => {
                    let index = Player::ALL.iter().position(|p| *p == player).unwrap_or(0);
                    self.mute[index] = muted;
                    if muted {
                        match player {
                            Player::Bass => self.bass.release_all(),
                            Player::Drums => {}
                            Player::Piano => self.piano.release_all(),
                        }
                    }
                }
                Command::SetLead(kind) => {
                    self.lead.release_all();
                    self.lead_instrument = kind;
                    self.trader.set_player_lead(kind);
                }
                Command::SetTrade(bars) => {
                    self.trader.set_bars(bars);
                    self.horn.release_all();
                }
                Command::Load(arrangement) => {
                    self.end_playback_now();
                    let old = std::mem::replace(&mut self.arrangement, arrangement);
                    self.band_level = db_to_gain(self.arrangement.band_trim_db);
                    self.conductor.set_tempo(self.arrangement.tempo);
                    // A loop the new form cannot hold is dropped.
                    self.set_trainer(self.conductor.trainer());
                    self.lead_instrument = self.arrangement.lead;
                    self.restart_form();
                    self.journal_entry(JournalEntry::Loaded { frame: self.clock });
                    // The old arrangement is dropped by the controller, off this thread;
                    // the check above left room for it.
                    let _ = self.returns.try_push(EngineReturn::Arrangement(old));
                }
                Command::Restart => {
                    self.end_playback_now();
                    self.restart_form();
                }
                Command::Start if !self.playing => {
                    self.end_playback_now();
                    self.start_band();
                }
                Command::Start => {}
                Command::Stop => {
                    self.end_playback_now();
                    self.playing = false;
                    self.counting_in = None;
                    self.queue.clear();
                    self.bass.release_all();
                    self.piano.release_all();
                    self.horn.release_all();
                }
                Command::SetCountIn(on) => self.count_in = on,
                Command::SetLoop(form_loop) => self.set_trainer(Trainer {
                    form_loop,
                    ..self.conductor.trainer()
                }),
                Command::SetTempoRamp(ramp) => self.set_trainer(Trainer {
                    ramp,
                    ..self.conductor.trainer()
                }),
                Command::SetKeyCycle(key_cycle) => self.set_trainer(Trainer {
                    key_cycle,
                    ..self.conductor.trainer()
                }),
                Command::PlayBack(playback) if self.playback.is_some() => {
                    // One at a time: the check above left room to hand it back.
                    let _ = self.returns.try_push(EngineReturn::Playback(playback));
                }
                Command::PlayBack(playback) => self.start_playback(playback),
                Command::StopPlayback => self.stop_playback(),
            }
        }
    }

    /// Loop, ramp and key cycle from the next bar line; a loop the form cannot hold is
    /// dropped.
    fn set_trainer(&mut self, trainer: Trainer) {
        let form_bars = self.arrangement.form_bars;
        self.conductor.set_trainer(Trainer {
            form_loop: trainer.form_loop.filter(|l| l.fits(form_bars)),
            ..trainer
        });
    }

    /// Start from bar 1, after a bar of hi-hat clicks when the count-in is on.
    fn start_band(&mut self) {
        self.playing = true;
        self.queue.clear();
        self.bassist.reset();
        self.pianist.reset();
        if !self.count_in {
            self.counting_in = None;
            self.conductor.restart(self.clock);
            return;
        }
        let spb = self.sample_rate as f64 * 60.0 / self.conductor.next_tempo() as f64;
        let beats = self.arrangement.beats_per_bar;
        for beat in 0..beats {
            let accent = if beat == 0 { 0.95 } else { 0.75 };
            self.queue.push(
                self.clock + (beat as f64 * spb).round() as u64,
                Sound::Click(crate::synth::drums::DrumHit {
                    stroke: crate::synth::drums::Stroke::HiHatFoot,
                    velocity: accent,
                    length: 0,
                }),
            );
        }
        self.counting_in = Some((self.clock, spb));
        let form_start = self.clock + (beats as f64 * spb).round() as u64;
        self.conductor.restart(form_start);
    }

    fn restart_form(&mut self) {
        self.counting_in = None;
        self.queue.clear();
        self.bass.release_all();
        self.piano.release_all();
        self.horn.release_all();
        self.bassist.reset();
        self.pianist.reset();
        self.conductor.restart(self.clock);
    }

    fn apply_input(&mut self, event: InputEvent) {
        match event {
            InputEvent::NoteOn { key, velocity } => {
                let key = key.min(127);
                self.sustained[key as usize] = false;
                self.keys_down[key as usize] = true;
                self.listener.note_on(self.clock, key, velocity);
                self.trader.note_on(self.clock, key, velocity);
                // Notes heard back were counted when they were played.
                if !self.playback_span.contains(&self.clock) {
                    self.notes_played += 1;
                }
                self.record_onset(key, velocity);
                let window = (CHORD_WINDOW_S * self.sample_rate) as u32;
                // A new note over a held horn note is a slur: the held voice glides.
                let glide = self
                    .lead
                    .voices_mut()
                    .iter_mut()
                    .filter(|v| v.is_active_held() && v.glides() && v.age() >= window)
                    .min_by_key(|v| v.age());
                match glide {
                    Some(voice) => voice.glide_to(key, velocity),
                    None => {
                        self.lead.start(LeadNote {
                            key,
                            velocity,
                            instrument: self.lead_instrument,
                        });
                    }
                }
            }
            InputEvent::NoteOff { key } => {
                let key = key.min(127);
                self.keys_down[key as usize] = false;
                self.listener.note_off(self.clock, key);
                self.trader.note_off(self.clock, key);
                if self.sustain {
                    self.sustained[key as usize] = true;
                } else {
                    self.let_go(key);
                }
            }
            InputEvent::Sustain(down) => {
                self.sustain = down;
                if !down {
                    for key in 0..128u8 {
                        if std::mem::take(&mut self.sustained[key as usize]) {
                            self.let_go(key);
                        }
                    }
                }
            }
            InputEvent::PitchBend(semitones) => self.lead_controls.bend = semitones,
            InputEvent::Modulation(amount) => {
                self.lead_controls.modulation = amount.clamp(0.0, 1.0)
            }
            InputEvent::AllNotesOff => {
                self.listener.all_off(self.clock);
                self.sustained = [false; 128];
                self.keys_down = [false; 128];
                self.lead.release_all();
            }
            InputEvent::AllSoundOff => {
                self.listener.all_off(self.clock);
                self.sustained = [false; 128];
                self.keys_down = [false; 128];
                self.lead.silence_all();
            }
            InputEvent::Program(program) => {
                let kinds = LeadInstrument::ALL;
                self.lead.release_all();
                self.lead_instrument = kinds[program as usize % kinds.len()];
                self.trader.set_player_lead(self.lead_instrument);
                self.lead_programs += 1;
            }
        }
    }

    fn record_onset(&mut self, key: u8, velocity: f32) {
        if self.onset_count == ONSETS_PER_BLOCK {
            self.onsets_missed += 1;
            return;
        }
        let played_back = self.playback.is_some() && self.playback_span.contains(&self.clock);
        let in_form = (self.playing && self.form_started()) || played_back;
        self.onsets[self.onset_count] = NoteOnset {
            key,
            velocity,
            frame: self.clock,
            position: self.position_at(self.clock),
            in_form,
        };
        self.onset_count += 1;
    }

    /// Whether bar 1 has begun (false during a count-in).
    fn form_started(&self) -> bool {
        match self.counting_in {
            Some((start, spb)) => {
                let bar = (self.arrangement.beats_per_bar as f64 * spb).round() as u64;
                self.clock >= start + bar
            }
            None => true,
        }
    }

    fn transport(&self) -> Transport {
        if !self.playing {
            return Transport::Stopped;
        }
        match self.counting_in {
            Some((start, spb)) if !self.form_started() => Transport::CountIn {
                beat: ((self.clock.saturating_sub(start)) as f64 / spb) as f32,
            },
            _ => Transport::Playing,
        }
    }

    /// A lead key is let go: a voice that slurred to it from a key still held (or
    /// sustained) slurs back; otherwise the note ends.
    fn let_go(&mut self, key: u8) {
        let (down, sustained) = (&self.keys_down, &self.sustained);
        for voice in self.lead.voices_mut().iter_mut() {
            if voice.is_active_held() && voice.key() == key {
                let still_held = |k: u8| down[k as usize] || sustained[k as usize];
                if !voice.fall_back(still_held) {
                    voice.release();
                }
            }
        }
    }

    fn render_chunk(&mut self, out: &mut [f32], stems: Option<[&mut [f32]; STEM_COUNT]>) {
        let n = out.len() / 2;
        let buses = &mut *self.buses;
        for stem in 0..STEM_COUNT {
            buses.left[stem][..n].fill(0.0);
            buses.right[stem][..n].fill(0.0);
        }
        {
            let [bl, dl, pl, ll, hl] = &mut buses.left;
            let [br, dr, pr, lr, hr] = &mut buses.right;
            self.bass.render(&mut bl[..n], &mut br[..n]);
            // Bass voices are mono in the middle: filter one channel and copy it.
            self.bass_body.process(&mut bl[..n]);
            br[..n].copy_from_slice(&bl[..n]);
            self.drums.render(&mut dl[..n], &mut dr[..n]);
            self.piano.render(&mut pl[..n], &mut pr[..n]);
            let controls = self.lead_controls;
            for voice in self.lead.voices_mut().iter_mut() {
                voice.set_controls(controls);
            }
            self.lead.render(&mut ll[..n], &mut lr[..n]);
            self.horn.render(&mut hl[..n], &mut hr[..n]);
        }
        // Room sends per stem: the bass stays dry and close, the trumpet swims.
        const SEND: [f32; STEM_COUNT] = [0.03, 0.10, 0.16, 0.32, 0.3];
        // The horn a little under the player: it answers, it does not take over.
        const BALANCE: [f32; STEM_COUNT] = [0.55, 0.7, 0.5, 1.0, 0.8];
        // The band at its measured loudness, the lead on top as it is.
        let band = self.band_level;
        let level = [
            BALANCE[0] * band,
            BALANCE[1] * band,
            BALANCE[2] * band,
            BALANCE[3],
            BALANCE[4],
        ];
        let mut peaks = self.stem_peaks;
        for i in 0..n {
            let mut dry = (0.0, 0.0);
            let mut send = (0.0, 0.0);
            for stem in 0..STEM_COUNT {
                let (l, r) = (
                    buses.left[stem][i] * level[stem],
                    buses.right[stem][i] * level[stem],
                );
                peaks[stem] = peaks[stem].max(l.abs()).max(r.abs());
                dry.0 += l;
                dry.1 += r;
                send.0 += l * SEND[stem];
                send.1 += r * SEND[stem];
            }
            let lead_mono = 0.5 * (buses.left[3][i] + buses.right[3][i]);
            let echo = self.echo.tick(lead_mono) * 0.22;
            let (wet_l, wet_r) = self.room.tick(send.0 + echo * 0.5, send.1 + echo * 0.5);
            let (l, r) = self
                .limiter
                .tick(dry.0 + wet_l + echo, dry.1 + wet_r + echo * 0.8);
            out[2 * i] = l;
            out[2 * i + 1] = r;
        }
        self.stem_peaks = peaks;
        if let Some(stems) = stems {
            for (stem, target) in stems.into_iter().enumerate() {
                for i in 0..n {
                    target[2 * i] = buses.left[stem][i] * level[stem];
                    target[2 * i + 1] = buses.right[stem][i] * level[stem];
                }
            }
        }
    }

    fn publish_telemetry(&mut self) {
        let position = self.position_at(self.clock);
        let tempo = match &self.playback {
            Some(_) if self.playback_span.contains(&self.clock) => position.tempo,
            _ => self.conductor.tempo(),
        };
        let mut held = [0u64; 2];
        for key in self.lead.held_keys() {
            held[(key / 64) as usize & 1] |= 1 << (key % 64);
        }
        let telemetry = Telemetry {
            frame: self.clock,
            position,
            tempo,
            stem_peaks: self.stem_peaks,
            limiter_db: self.limiter.reduction_db(),
            held_keys: held,
            notes_played: self.notes_played,
            dropped_input: self.dropped_input,
            dropped_events: self.queue.dropped(),
            lead: self.lead_instrument,
            lead_programs: self.lead_programs,
            mute: self.mute,
            sample_rate: self.sample_rate,
            transport: self.transport(),
            count_in: self.count_in,
            onsets: self.onsets,
            onset_count: self.onset_count as u8,
            onsets_missed: self.onsets_missed,
            telemetry_lost: self.telemetry_lost,
            journal_lost: self.journal_lost,
            trainer: self.conductor.trainer(),
            playback: self.playback.as_ref().map(|p| p.progress(self.clock)),
            trade: if self.playing {
                self.trader.turn_at(position.bar)
            } else {
                None
            },
        };
        // Lossy: when the UI is not reading, this snapshot is not queued. Its onsets stay
        // for the next one, as the phrase analysis needs every note.
        match self.telemetry.try_push(telemetry) {
            Ok(()) => self.onset_count = 0,
            Err(_) => self.telemetry_lost += 1,
        }
    }
}

/// A gain in dB as a factor.
fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: usize = 64;

    fn note_on(frame: u64, key: u8) -> TimedInput {
        TimedInput {
            frame,
            event: InputEvent::NoteOn { key, velocity: 0.7 },
        }
    }

    /// Render blocks until the telemetry ring holds `TELEMETRY_CAPACITY` snapshots.
    fn fill_the_telemetry_ring(engine: &mut Engine) {
        let mut out = [0.0f32; 2 * BLOCK];
        for _ in 0..TELEMETRY_CAPACITY {
            engine.process(&mut out);
        }
    }

    #[test]
    fn a_render_leaves_the_callers_floating_point_mode_as_it_found_it() {
        // The room's fundsp feedback network switches flush-to-zero on for good each
        // block; the engine's own guard scopes it to the render.
        assert!(!flush_to_zero::is_enabled());
        let (mut engine, _controller) = Engine::lead_only();
        let mut out = [0.0f32; 2 * 512];
        engine.process(&mut out);
        assert!(!flush_to_zero::is_enabled());
    }

    #[test]
    fn a_new_arrangement_waits_until_the_old_one_can_be_sent_back() {
        let arrangement = |name: &str| {
            let preset = crate::preset::find(name).expect("built-in preset");
            Box::new(Arrangement::new(&preset, None).expect("arrangement"))
        };
        let (mut engine, mut controller) = Engine::lead_only();
        let mut out = [0.0f32; 2 * BLOCK];
        // Fill the return ring with old arrangements nobody collects.
        for _ in 0..COMMAND_CAPACITY {
            controller
                .send(Command::Load(arrangement("generique")))
                .unwrap();
        }
        engine.process(&mut out);
        controller
            .send(Command::Load(arrangement("sur-l-autoroute")))
            .unwrap();
        controller.send(Command::SetTempo(200.0)).unwrap();
        engine.process(&mut out);
        assert_eq!(engine.arrangement().name, "generique");
        controller.collect_garbage();
        engine.process(&mut out);
        assert_eq!(engine.arrangement().name, "sur-l-autoroute");
    }

    #[test]
    fn a_full_input_queue_in_reverse_order_is_all_played_and_the_overflow_counted() {
        let (mut engine, mut controller) = Engine::lead_only();
        for i in (0..INPUT_CAPACITY as u64).rev() {
            engine.queue_input(note_on(i / 4, 40 + (i % 48) as u8));
        }
        engine.queue_input(note_on(0, 90));
        let mut out = [0.0f32; 2 * 512];
        engine.process(&mut out);
        let telemetry = controller.latest_telemetry().unwrap();
        assert_eq!(telemetry.notes_played, INPUT_CAPACITY as u64);
        assert_eq!(telemetry.dropped_input, 1);
        // The first onsets are those of frame 0, in the order they were queued.
        let first: Vec<(u64, u8)> = telemetry
            .onsets()
            .iter()
            .map(|o| (o.frame, o.key))
            .collect();
        assert_eq!(first[..4], [(0, 43), (0, 42), (0, 41), (0, 40)]);
    }

    #[test]
    fn onsets_of_lost_snapshots_arrive_with_the_next_one_that_gets_through() {
        let (mut engine, mut controller) = Engine::lead_only();
        let mut out = [0.0f32; 2 * BLOCK];
        fill_the_telemetry_ring(&mut engine);
        // Five blocks, one note each, while nobody reads: their snapshots do not fit.
        let mut played = Vec::new();
        for key in 60..65 {
            let frame = engine.clock() + 10;
            controller.play(note_on(frame, key)).unwrap();
            played.push((key, frame));
            engine.process(&mut out);
        }
        let mut snapshots = Vec::new();
        controller.drain_telemetry(|t| snapshots.push(t));
        assert_eq!(snapshots.len(), TELEMETRY_CAPACITY);
        engine.process(&mut out);
        controller.drain_telemetry(|t| snapshots.push(t));
        let heard: Vec<(u8, u64)> = snapshots
            .iter()
            .flat_map(|t| t.onsets().iter().map(|o| (o.key, o.frame)))
            .collect();
        assert_eq!(heard, played);
        let last = snapshots.last().unwrap();
        assert_eq!(last.onsets_missed, 0);
        assert_eq!(last.notes_played, 5);
        assert_eq!(last.telemetry_lost, 5);
        // Nothing is lost once the UI reads again, and nothing is delivered twice.
        engine.process(&mut out);
        let next = controller.latest_telemetry().unwrap();
        assert_eq!(next.telemetry_lost, 5);
        assert!(next.onsets().is_empty());
    }

    #[test]
    fn onsets_beyond_what_a_snapshot_carries_are_counted_as_missed() {
        let (mut engine, mut controller) = Engine::lead_only();
        let mut out = [0.0f32; 2 * BLOCK];
        fill_the_telemetry_ring(&mut engine);
        // Five blocks of three notes: fifteen onsets for a snapshot that carries eight.
        for block in 0..5u8 {
            for note in 0..3u8 {
                let frame = engine.clock() + u64::from(note);
                controller
                    .play(note_on(frame, 60 + 3 * block + note))
                    .unwrap();
            }
            engine.process(&mut out);
        }
        controller.drain_telemetry(|_| {});
        engine.process(&mut out);
        let last = controller.latest_telemetry().unwrap();
        let keys: Vec<u8> = last.onsets().iter().map(|o| o.key).collect();
        assert_eq!(keys, (60..60 + ONSETS_PER_BLOCK as u8).collect::<Vec<_>>());
        assert_eq!(last.onsets_missed, 15 - ONSETS_PER_BLOCK as u64);
        assert_eq!(last.notes_played, 15);
        assert_eq!(last.telemetry_lost, 5);
    }
}
