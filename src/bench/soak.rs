//! The soak: an evening at the instrument compressed into a run of a chosen length, on a
//! JACK server, with the figures that say whether it can go on for ever.
//!
//! A live [`Session`] plays on its own JACK client and records takes; every preset comes
//! in turn; at a console's pace the soak changes tempo and key, mutes and unmutes, steps
//! the lead voice, loops, ramps, stops and starts the band, counts in and plays takes
//! back, all through the session's API as the console's keys do, and feeds a console
//! state that it draws into an off-screen buffer 40 times a second; a [`Player`] plays
//! into the MIDI input like a musician, with bursts; [`Ears`] listen to the outputs.
//!
//! It reports, minute by minute, resident memory, file descriptors and threads, the
//! callback load's percentiles, xruns, the notes and events sent and everything
//! dropped; and over the run: the memory's growth after a warm-up, notes left sounding
//! when the player had let go of every key (stuck notes), samples that are not finite
//! numbers, the takes recorded and checked (each one's files read back).
//!
//! A note still held when MIDI was lost on the way is told apart from a stuck one: JACK
//! hands a client the MIDI of the cycles it runs, so a cycle the server skips for the
//! engine or runs it too late for (an xrun on a loaded machine) can lose the messages
//! written in it. A note held after an xrun is counted on its own.

pub mod ears;
pub mod player;
pub mod process;

use crate::engine::journal::JournalEntry;
use crate::engine::{InputEvent, Telemetry};
use crate::io::driver::LoadCounts;
use crate::live::{
    AudioHost, Driver, Intent, LiveError, Notice, Performance, PerformanceError, PlaybackScope,
    Session, SessionSettings,
};
use crate::take::FinishedTake;
use crate::ui::{ConsoleState, EngineInfo, Look};
use ears::Ears;
use player::Player;
use process::ProcessFigures;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The console's frame: what the soak polls, feeds and draws at.
const FRAME: Duration = Duration::from_millis(25);
/// How long after the player let go of everything the instrument must hold nothing: its
/// last messages are through JACK and the engine by then, many times over.
const STUCK_GRACE: Duration = Duration::from_millis(300);
/// Shortest and longest time each preset plays before the next comes.
const PRESET_DWELL: (Duration, Duration) = (Duration::from_secs(5), Duration::from_secs(60));
/// The warm-up before the memory the run is judged against: the first pass through every
/// preset (loading one the first time measures and keeps its loudness), and at least a
/// quarter of the run, between these.
const WARM_UP: (Duration, Duration) = (Duration::from_secs(15), Duration::from_secs(300));
/// The lead's peak under which it counts as silent at the end (−60 dBFS).
const SILENT: f32 = 1e-3;

#[derive(Debug, thiserror::Error)]
pub enum SoakError {
    #[error("no preset to play: {0}")]
    Presets(#[from] PerformanceError),
    #[error(transparent)]
    Session(#[from] LiveError),
    #[error("the soak's JACK clients (player and listener): {0}")]
    Probe(#[from] jack::Error),
    #[error("the takes folder '{path}': {source}")]
    Takes {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the JACK server went away during the soak")]
    ServerLost,
}

/// How to soak.
#[derive(Clone, Debug)]
pub struct SoakOptions {
    pub minutes: f64,
    /// Seeds the band, the player and the console's choices.
    pub seed: u64,
    pub client_name: String,
    /// Connect the outputs to the system playback ports.
    pub connect: bool,
    /// Where the takes are recorded and kept; `None`: a temporary folder, each take
    /// removed once it is checked.
    pub takes_dir: Option<PathBuf>,
}

/// One minute of the run (the last may be shorter).
#[derive(Clone, Debug, Default, Serialize)]
pub struct MinuteFigures {
    /// 1-based.
    pub minute: u32,
    pub seconds: f64,
    pub process: ProcessFigures,
    pub callbacks: u64,
    /// Callback load as a percentage of the block's time, to half a percent.
    pub load_p50: f64,
    pub load_p99: f64,
    pub load_p999: f64,
    pub load_max: f64,
    pub xruns: u64,
    pub note_ons_sent: u64,
    pub midi_events_sent: u64,
    /// Everything dropped in the minute, from every source ([`Dropped`]).
    pub dropped: u64,
    pub takes: u64,
    pub presets_loaded: u64,
    pub commands: u64,
    pub non_finite_samples: u64,
    /// The loudest output sample, dBFS.
    pub peak_dbfs: f64,
}

/// Events lost, by where.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Dropped {
    /// The player's messages that found its ring to the JACK client full.
    pub player_ring: u64,
    /// Messages the JACK MIDI port's buffer had no room for.
    pub jack_midi_buffer: u64,
    /// Input the engine's input ring or pending queue had no room for.
    pub engine_input: u64,
    /// Band events the engine's queue had no room for.
    pub band_events: u64,
    /// Telemetry snapshots and journal entries nobody read in time, and onsets no
    /// snapshot carried.
    pub telemetry: u64,
    pub journal: u64,
    pub onsets: u64,
    /// Input sent while no engine was attached.
    pub live_input: u64,
}

impl Dropped {
    pub fn total(&self) -> u64 {
        self.player_ring
            + self.jack_midi_buffer
            + self.engine_input
            + self.band_events
            + self.telemetry
            + self.journal
            + self.onsets
            + self.live_input
    }
}

/// The whole run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SoakReport {
    pub client: String,
    pub sample_rate: u32,
    pub period: u32,
    pub seconds: f64,
    pub minutes: Vec<MinuteFigures>,
    pub warm_up_s: f64,
    pub start: ProcessFigures,
    pub after_warm_up: ProcessFigures,
    pub end: ProcessFigures,
    /// Resident memory at the end minus after the warm-up, KiB.
    pub rss_growth_kib: Option<i64>,
    /// Moments the player held nothing and the instrument was checked, and the notes
    /// it still held at those moments (and their keys, the first few).
    pub stuck_checks: u64,
    pub stuck_notes: u64,
    pub stuck_keys: Vec<u8>,
    /// Notes held at a check when the JACK server had skipped the engine's cycles, or
    /// run them late (xruns), since the one before: the MIDI of such a cycle can be lost
    /// (a note-off among it leaves its note hanging), which is the machine's doing, not
    /// the instrument's. Counted once per note.
    pub notes_held_after_xruns: u64,
    /// Times the server did not run the engine for a cycle or more (journaled as such).
    pub missed_cycles: u64,
    /// The lead's loudest sample over the last half second, after the player let go at
    /// the end; and whether that is silence.
    pub lead_peak_at_end: f32,
    pub lead_silent_at_end: bool,
    pub samples_heard: u64,
    pub non_finite_samples: u64,
    pub dropped: Dropped,
    pub xruns: u64,
    pub note_ons_sent: u64,
    pub midi_events_sent: u64,
    pub phrases: u64,
    pub bursts: u64,
    /// Lead notes the engine started (the player's and playbacks').
    pub notes_played: u64,
    /// Console commands applied, and playbacks asked for.
    pub commands: u64,
    pub playbacks: u64,
    pub presets_played: Vec<String>,
    pub takes_recorded: u64,
    /// Takes whose files did not read back as `take.json` says, and why.
    pub takes_failed: Vec<String>,
    /// What the session said that a soak should not hear (a lost server, a failed
    /// engine, a recording problem).
    pub notices: Vec<String>,
}

impl SoakReport {
    /// Growth of resident memory after the warm-up, MiB.
    pub fn rss_growth_mib(&self) -> Option<f64> {
        self.rss_growth_kib.map(|kib| kib as f64 / 1024.0)
    }
}

/// The running counts a minute's row is the difference of.
#[derive(Clone, Default)]
struct Totals {
    loads: LoadCounts,
    xruns: u64,
    note_ons: u64,
    events: u64,
    dropped: u64,
    takes: u64,
    presets: u64,
    commands: u64,
    playbacks: u64,
    non_finite: u64,
}

/// A console command due later (unmute, start again).
struct Due {
    at: Instant,
    intent: Intent,
}

/// Run the soak on the default JACK server until `options.minutes` have passed or `stop`
/// is set; `progress` is told the seconds done and the seconds in all. Main thread.
pub fn run(
    options: &SoakOptions,
    stop: &AtomicBool,
    mut progress: impl FnMut(f64, f64),
) -> Result<SoakReport, SoakError> {
    let total = Duration::from_secs_f64(options.minutes.max(0.0) * 60.0);
    let (takes_dir, temporary) = match &options.takes_dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("ascenseur-soak-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&takes_dir).map_err(|source| SoakError::Takes {
        path: takes_dir.clone(),
        source,
    })?;
    let result = soak(options, total, &takes_dir, !temporary, stop, &mut progress);
    if temporary {
        let _ = std::fs::remove_dir_all(&takes_dir);
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn soak(
    options: &SoakOptions,
    total: Duration,
    takes_dir: &Path,
    keep_takes: bool,
    stop: &AtomicBool,
    progress: &mut impl FnMut(f64, f64),
) -> Result<SoakReport, SoakError> {
    let start = ProcessFigures::now();
    let presets: Vec<_> = crate::preset::catalog()
        .into_iter()
        .filter_map(|entry| entry.preset.ok())
        .collect();
    let preset_count = presets.len().max(1) as u32;
    // Two passes through the presets at least, the first of them the warm-up.
    let dwell = (total / (2 * preset_count)).clamp(PRESET_DWELL.0, PRESET_DWELL.1);
    let warm_up = (total / 4)
        .clamp(WARM_UP.0, WARM_UP.1)
        .max(dwell * preset_count)
        .min(total);
    // As at the console: the space bar counts in.
    let performance = Performance::new(presets, 0, None, None)?.with_count_in(true);
    let settings = SessionSettings {
        seed: options.seed,
        host: AudioHost::Jack,
        client_name: options.client_name.clone(),
        connect: options.connect,
        takes_dir: Some(takes_dir.to_path_buf()),
        history: Some(takes_dir.join("history.jsonl")),
    };
    let mut session = Session::start(settings, performance)?;
    let (client, sample_rate, period) = match session.driver() {
        Some(Driver::Jack(jack)) => (jack.name.clone(), jack.sample_rate, jack.period),
        _ => unreachable!("a JACK session plays on JACK"),
    };
    let status = std::sync::Arc::clone(session.driver().expect("connected").status());
    let player = Player::start(
        &format!("{client}_player"),
        &format!("{client}:midi_in"),
        options.seed,
    )?;
    let ears = Ears::start(
        &format!("{client}_ears"),
        [&format!("{client}:out_l"), &format!("{client}:out_r")],
    )?;

    let performance = session.performance();
    let mut console = ConsoleState::new(
        performance.arrangement().clone(),
        performance.preset().cue.clone(),
        performance.key(),
        Look::default(),
    );
    let screen = ratatui::layout::Rect::new(0, 0, 100, 30);
    let mut buffer = ratatui::buffer::Buffer::empty(screen);
    let mut rng = Pcg32::seed_from_u64(options.seed ^ 0x50A4);
    let mut report = SoakReport {
        client,
        sample_rate,
        period,
        warm_up_s: warm_up.as_secs_f64(),
        start,
        presets_played: vec![session.performance().preset().name.clone()],
        ..SoakReport::default()
    };
    let counts = std::sync::Arc::clone(&player.counts);
    let mut latest: Option<Telemetry> = None;
    let mut due: Vec<Due> = Vec::new();
    let mut totals = Totals {
        loads: status.loads.snapshot(),
        ..Totals::default()
    };
    let mut minute_start = totals.clone();
    let mut minute_peak = 0.0f32;
    let mut verified = 0;
    let began = Instant::now();
    let mut minute_began = began;
    let mut next_preset = began + dwell;
    let mut next_command = began + Duration::from_millis(rng.random_range(2000..6000));
    let mut checked_quiet: Option<Instant> = None;
    let mut stuck = StuckNotes::default();
    let mut last_playback: Option<Instant> = None;
    let mut warm: Option<ProcessFigures> = None;
    let mut next_frame = began;

    while began.elapsed() < total && !stop.load(Ordering::Relaxed) {
        next_frame += FRAME;
        std::thread::sleep(next_frame.saturating_duration_since(Instant::now()));
        let now = Instant::now();
        let heard = refresh(&mut session, &mut console, &mut latest, &mut report)?;
        if heard.playing_back {
            last_playback = Some(now);
        }
        stuck.heard(&heard, session.xruns());
        // The console's commands: a preset after another, and the player's whims.
        if now >= next_preset {
            next_preset += dwell;
            apply(
                &mut session,
                &mut console,
                Intent::StepPreset(1),
                &mut totals,
            );
            totals.presets += 1;
            let name = session.performance().preset().name.clone();
            if !report.presets_played.contains(&name) {
                report.presets_played.push(name);
            }
        }
        if now >= next_command {
            next_command = now + Duration::from_millis(rng.random_range(2000..8000));
            command(&mut session, &mut console, &mut rng, &mut due, &mut totals);
        }
        let (ready, later): (Vec<Due>, Vec<Due>) = due.drain(..).partition(|d| d.at <= now);
        due = later;
        for d in ready {
            apply(&mut session, &mut console, d.intent, &mut totals);
        }
        // Stuck notes: the player let go of everything a moment ago (a playback plays
        // notes of its own: not then).
        if let (Some(quiet), Some(t)) = (player.quiet_since(), latest)
            && checked_quiet != Some(quiet)
            && now.duration_since(quiet) >= STUCK_GRACE
        {
            checked_quiet = Some(quiet);
            let playback_near =
                last_playback.is_some_and(|at| now.duration_since(at) < Duration::from_secs(1));
            if !playback_near {
                stuck.check(&t, &mut report);
            }
        }
        verified = verify_takes(session.takes(), verified, &mut report, keep_takes);
        totals.takes = report.takes_recorded + report.takes_failed.len() as u64;
        minute_peak = minute_peak.max(ears.take_peak());
        // The console, drawn off-screen as the terminal would be.
        console.engine = EngineInfo {
            driver: session.driver().map(Driver::summary),
            load: status.load(),
            peak_load: status.take_peak_load(),
            xruns: session.xruns(),
            dropped: latest.map_or(0, |t| t.dropped_input + t.dropped_events),
            midi: Default::default(),
        };
        ratatui::widgets::Widget::render(&console, screen, &mut buffer);
        console.frame_drawn();

        if warm.is_none() && began.elapsed() >= warm_up {
            warm = Some(ProcessFigures::now());
        }
        if now.duration_since(minute_began) >= Duration::from_secs(60) {
            let minute = Minute {
                number: report.minutes.len() as u32 + 1,
                began: minute_began,
                peak: minute_peak,
            };
            totals.refresh(&status, &counts, &ears, &session, latest.as_ref());
            report.minutes.push(minute.row(&totals, &minute_start));
            minute_start = totals.clone();
            minute_began = now;
            minute_peak = 0.0;
        }
        progress(began.elapsed().as_secs_f64(), total.as_secs_f64());
    }

    // The end: the player lets go and a playback stops; nothing may stay held. Then
    // all-notes-off, and the lead must fall silent.
    let end = ProcessFigures::now();
    player.stop();
    let released = Instant::now();
    if latest.is_some_and(|t| t.playback.is_some()) {
        let _ = session.play_back(PlaybackScope::LastPhrase);
    }
    let mut playing_back_at = None;
    while released.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(FRAME);
        let heard = refresh(&mut session, &mut console, &mut latest, &mut report)?;
        stuck.heard(&heard, session.xruns());
        if heard.playing_back {
            playing_back_at = Some(Instant::now());
        }
        let since = playing_back_at.map_or(released, |at| at.max(released));
        if since.elapsed() >= STUCK_GRACE {
            break;
        }
    }
    if let Some(t) = latest {
        stuck.check(&t, &mut report);
    }
    session.live_input().send_now(InputEvent::AllNotesOff);
    let all_off = Instant::now();
    let mut lead_peak: Option<f32> = None;
    while all_off.elapsed() < Duration::from_millis(3500) {
        std::thread::sleep(FRAME);
        let heard = refresh(&mut session, &mut console, &mut latest, &mut report)?;
        // Three seconds for the lead's release and its room to die away, then half a
        // second listened to.
        if all_off.elapsed() >= Duration::from_secs(3) {
            lead_peak = Some(lead_peak.unwrap_or(0.0).max(heard.lead_peak));
        }
    }
    report.lead_peak_at_end = lead_peak.unwrap_or(f32::INFINITY);
    report.lead_silent_at_end = report.lead_peak_at_end < SILENT;
    totals.refresh(&status, &counts, &ears, &session, latest.as_ref());
    let minute = Minute {
        number: report.minutes.len() as u32 + 1,
        began: minute_began,
        peak: minute_peak.max(ears.take_peak()),
    };
    let row = minute.row(&totals, &minute_start);
    if row.seconds >= 1.0 {
        report.minutes.push(row);
    }
    report.end = end;
    report.after_warm_up = warm.unwrap_or(end);
    report.rss_growth_kib = match (report.after_warm_up.rss_kib, end.rss_kib) {
        (Some(warm), Some(end)) => Some(end as i64 - warm as i64),
        _ => None,
    };
    report.seconds = began.elapsed().as_secs_f64();
    report.xruns = session.xruns();
    report.samples_heard = ears.heard.samples.load(Ordering::Relaxed);
    report.non_finite_samples = ears.heard.non_finite.load(Ordering::Relaxed);
    report.dropped = dropped(latest.as_ref(), &session, &counts);
    report.note_ons_sent = counts.note_ons.load(Ordering::Relaxed);
    report.midi_events_sent = counts.events.load(Ordering::Relaxed);
    report.phrases = counts.phrases.load(Ordering::Relaxed);
    report.bursts = counts.bursts.load(Ordering::Relaxed);
    report.notes_played = latest.map_or(0, |t| t.notes_played);
    report.commands = totals.commands;
    report.playbacks = totals.playbacks;
    ears.stop();
    let takes = session.stop();
    verify_takes(&takes, verified, &mut report, keep_takes);
    Ok(report)
}

/// What the telemetry drained in one frame said.
#[derive(Default)]
struct FrameHeard {
    playing_back: bool,
    /// The lead's loudest sample.
    lead_peak: f32,
    /// Times the server skipped the engine's cycles.
    missed: u64,
}

/// What the console does each frame: poll the session, feed telemetry and the journal
/// to the console's state, judge the practice. A notice a soak should not hear is kept;
/// a lost server ends the soak.
fn refresh(
    session: &mut Session,
    console: &mut ConsoleState,
    latest: &mut Option<Telemetry>,
    report: &mut SoakReport,
) -> Result<FrameHeard, SoakError> {
    if let Some(notice) = session.poll() {
        let lost = matches!(notice, Notice::Lost(_));
        report.notices.push(notice.to_string());
        if lost {
            return Err(SoakError::ServerLost);
        }
    }
    let mut heard = FrameHeard::default();
    session.take_telemetry(|t| {
        console.feed(t);
        heard.playing_back |= t.playback.is_some();
        heard.lead_peak = heard.lead_peak.max(t.stem_peaks[3]);
        *latest = Some(*t);
    });
    session.take_journal(|entry| {
        if matches!(entry, JournalEntry::Missed { .. }) {
            heard.missed += 1;
        }
        console.record(entry);
    });
    report.missed_cycles += heard.missed;
    console.judge();
    Ok(heard)
}

/// Apply a console command, as the console's key handler does.
fn apply(session: &mut Session, console: &mut ConsoleState, intent: Intent, totals: &mut Totals) {
    let reloads = matches!(intent, Intent::StepPreset(_) | Intent::Transpose(_));
    // Every intent the soak gives is one the console gives: none is refused.
    if session.apply(intent).is_ok() && reloads {
        let performance = session.performance();
        console.set_arrangement(
            performance.arrangement().clone(),
            performance.preset().cue.clone(),
            performance.key(),
        );
        console.transposition = performance.transposition();
    }
    totals.commands += 1;
}

/// One of the console's commands, chosen as a player at the console might.
fn command(
    session: &mut Session,
    console: &mut ConsoleState,
    rng: &mut Pcg32,
    due: &mut Vec<Due>,
    totals: &mut Totals,
) {
    let now = Instant::now();
    let later = |rng: &mut Pcg32, from_ms: u64, to_ms: u64| {
        now + Duration::from_millis(rng.random_range(from_ms..to_ms))
    };
    match rng.random_range(0..100) {
        0..20 => {
            // A few presses of the arrow keys, up or down.
            let step = if rng.random_bool(0.5) { 2.0 } else { -2.0 };
            for _ in 0..rng.random_range(1..=6) {
                apply(session, console, Intent::StepTempo(step), totals);
            }
        }
        20..35 => {
            let player = crate::band::Player::ALL[rng.random_range(0..3)];
            apply(session, console, Intent::ToggleMute(player), totals);
            due.push(Due {
                at: later(rng, 2000, 10_000),
                intent: Intent::ToggleMute(player),
            });
        }
        35..45 => apply(session, console, Intent::NextLead, totals),
        45..55 => {
            let semitones = if rng.random_bool(0.5) { 1 } else { -1 };
            apply(session, console, Intent::Transpose(semitones), totals);
        }
        55..63 => apply(session, console, Intent::ToggleLoop, totals),
        63..68 => apply(session, console, Intent::ToggleTempoRamp, totals),
        68..73 => apply(session, console, Intent::ToggleCountIn, totals),
        73..80 => {
            // Stop the band, and start it again a moment later.
            apply(session, console, Intent::StartStop, totals);
            due.push(Due {
                at: later(rng, 1000, 4000),
                intent: Intent::StartStop,
            });
        }
        _ => {
            let scope = if rng.random_bool(0.7) {
                PlaybackScope::LastPhrase
            } else {
                PlaybackScope::WholeTake
            };
            // Nothing to play back yet is an answer too.
            if let Ok(crate::live::PlaybackNews::Starts { .. }) = session.play_back(scope) {
                totals.playbacks += 1;
            }
            totals.commands += 1;
        }
    }
}

/// The lead keys the engine holds.
fn held_keys(t: &Telemetry) -> Vec<u8> {
    (0..128u8).filter(|&key| t.is_held(key)).collect()
}

/// The stuck-note checks: at each, the lead keys the engine holds though the player
/// holds none.
#[derive(Default)]
struct StuckNotes {
    /// The server skipped the engine's cycles, or ran them late, since the last check.
    late: bool,
    /// The driver's xruns when last told.
    xruns: u64,
    /// Keys left hanging by MIDI lost in skipped cycles, still held: counted once.
    hanging: Vec<u8>,
}

impl StuckNotes {
    /// What a frame heard: cycles the engine was not run for, or xruns since the last.
    fn heard(&mut self, heard: &FrameHeard, xruns: u64) {
        self.late |= heard.missed > 0 || xruns > self.xruns;
        self.xruns = xruns;
    }

    fn check(&mut self, t: &Telemetry, report: &mut SoakReport) {
        report.stuck_checks += 1;
        self.hanging.retain(|&key| t.is_held(key));
        let held: Vec<u8> = held_keys(t)
            .into_iter()
            .filter(|key| !self.hanging.contains(key))
            .collect();
        if self.late {
            report.notes_held_after_xruns += held.len() as u64;
            self.hanging.extend(held);
        } else {
            report.stuck_notes += held.len() as u64;
            for key in held {
                if report.stuck_keys.len() < 16 {
                    report.stuck_keys.push(key);
                }
            }
        }
        self.late = false;
    }
}

/// Read back each take finished since the first `verified`: its files there, its mix as
/// long as `take.json` says, no error. Removed afterwards unless kept. Returns how many
/// are verified now.
fn verify_takes(
    takes: &[FinishedTake],
    verified: usize,
    report: &mut SoakReport,
    keep: bool,
) -> usize {
    for take in takes.iter().skip(verified) {
        match verify_take(take) {
            Ok(()) => report.takes_recorded += 1,
            Err(why) => report
                .takes_failed
                .push(format!("{}: {why}", take.folder.display())),
        }
        if !keep {
            let _ = std::fs::remove_dir_all(&take.folder);
        }
    }
    takes.len().max(verified)
}

fn verify_take(take: &FinishedTake) -> Result<(), String> {
    if let Some(error) = &take.info.error {
        return Err(format!("recording stopped: {error}"));
    }
    for file in ["mix.wav", "player.mid", "band.mid", "take.json"] {
        let path = take.folder.join(file);
        let size = std::fs::metadata(&path)
            .map_err(|e| format!("{file}: {e}"))?
            .len();
        if size == 0 {
            return Err(format!("{file} is empty"));
        }
    }
    let mix =
        hound::WavReader::open(take.folder.join("mix.wav")).map_err(|e| format!("mix.wav: {e}"))?;
    let seconds = f64::from(mix.duration()) / f64::from(mix.spec().sample_rate.max(1));
    if (seconds - take.info.duration_s).abs() > 0.05 {
        return Err(format!(
            "mix.wav holds {seconds:.3} s, take.json says {:.3} s",
            take.info.duration_s
        ));
    }
    Ok(())
}

/// Everything dropped so far, by where.
fn dropped(
    latest: Option<&Telemetry>,
    session: &Session,
    counts: &player::PlayerCounts,
) -> Dropped {
    Dropped {
        player_ring: counts.ring_dropped.load(Ordering::Relaxed),
        jack_midi_buffer: counts.port_dropped.load(Ordering::Relaxed),
        engine_input: latest.map_or(0, |t| t.dropped_input),
        band_events: latest.map_or(0, |t| t.dropped_events),
        telemetry: latest.map_or(0, |t| t.telemetry_lost),
        journal: latest.map_or(0, |t| t.journal_lost),
        onsets: latest.map_or(0, |t| t.onsets_missed),
        live_input: session.live_input().dropped(),
    }
}

impl Totals {
    /// Bring the running counts up to date.
    fn refresh(
        &mut self,
        status: &crate::io::driver::DriverStatus,
        counts: &player::PlayerCounts,
        ears: &Ears,
        session: &Session,
        latest: Option<&Telemetry>,
    ) {
        self.loads = status.loads.snapshot();
        self.xruns = session.xruns();
        self.note_ons = counts.note_ons.load(Ordering::Relaxed);
        self.events = counts.events.load(Ordering::Relaxed);
        self.dropped = dropped(latest, session, counts).total();
        self.non_finite = ears.heard.non_finite.load(Ordering::Relaxed);
    }
}

/// A minute being counted.
struct Minute {
    number: u32,
    began: Instant,
    /// The loudest output sample in it.
    peak: f32,
}

impl Minute {
    /// The minute's row: the counts now less those at its start.
    fn row(&self, now: &Totals, start: &Totals) -> MinuteFigures {
        let loads = now.loads.since(&start.loads);
        let percent = |q: f64| f64::from(loads.quantile(q)) * 100.0;
        MinuteFigures {
            minute: self.number,
            seconds: self.began.elapsed().as_secs_f64(),
            process: ProcessFigures::now(),
            callbacks: loads.callbacks(),
            load_p50: percent(0.5),
            load_p99: percent(0.99),
            load_p999: percent(0.999),
            load_max: percent(1.0),
            xruns: now.xruns - start.xruns,
            note_ons_sent: now.note_ons - start.note_ons,
            midi_events_sent: now.events - start.events,
            dropped: now.dropped.saturating_sub(start.dropped),
            takes: now.takes - start.takes,
            presets_loaded: now.presets - start.presets,
            commands: now.commands - start.commands,
            non_finite_samples: now.non_finite - start.non_finite,
            peak_dbfs: if self.peak > 0.0 {
                20.0 * f64::from(self.peak).log10()
            } else {
                f64::NEG_INFINITY
            },
        }
    }
}
