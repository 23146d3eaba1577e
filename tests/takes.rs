//! Takes recorded live, end to end: `ascenseur play` on a dummy-driver JACK server, a
//! separate JACK client playing notes into it at known frames, and the take's files read
//! back after the process is told to stop (SIGTERM), killed outright, or given a folder it
//! cannot write.

#[path = "support/jack_server.rs"]
mod jack_server;

use ascenseur::engine::InputEvent;
use jack_server::{JackServer, OneAtATime, Running, jack_scenario, unique};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const RATE: u32 = 48_000;
const PERIOD: u32 = 64;

/// The notes the test plays: (frames after the first, key), each held 6 000 frames.
/// Irregular on purpose: no grid could explain them.
const PHRASE: [(u32, u8); 8] = [
    (0, 62),
    (13_000, 65),
    (29_500, 69),
    (36_000, 71),
    (50_017, 72),
    (64_000, 71),
    (71_111, 69),
    (90_000, 65),
];
const HOLD: u32 = 6_000;

/// A JACK client that plays [`PHRASE`] once asked, from the first period after, and
/// says at which frame of the server's clock it sent each note-on. A note due in a cycle
/// the server did not run this client for (a loaded machine) goes out at the start of
/// the next, at the frame it really went out.
struct PhrasePlayer {
    out: jack::Port<jack::MidiOut>,
    go: Arc<AtomicBool>,
    /// The server frame of each note-on as sent (0 = not yet).
    sent: Arc<[AtomicU32; PHRASE.len()]>,
    done: Arc<AtomicUsize>,
    /// The server frame of the first note, once chosen.
    first: Option<u32>,
    /// Which of the phrase's events (note-on, note-off of each note) have gone out.
    gone: [bool; 2 * PHRASE.len()],
}

impl jack::ProcessHandler for PhrasePlayer {
    fn process(&mut self, _: &jack::Client, scope: &jack::ProcessScope) -> jack::Control {
        let mut writer = self.out.writer(scope);
        if !self.go.load(Ordering::Relaxed) {
            return jack::Control::Continue;
        }
        let now = scope.last_frame_time();
        let frames = scope.n_frames();
        let first = *self.first.get_or_insert(now.wrapping_add(frames));
        for (i, &(offset, key)) in PHRASE.iter().enumerate() {
            for (event, (delay, bytes)) in [(0, [0x90, key, 100]), (HOLD, [0x80, key, 0])]
                .into_iter()
                .enumerate()
            {
                let index = 2 * i + event;
                let at = first.wrapping_add(offset + delay);
                let into = at.wrapping_sub(now);
                // Due in this cycle, or overdue (due in a cycle this client was not run).
                let overdue = now.wrapping_sub(at) < RATE;
                if self.gone[index] || !(into < frames || overdue) {
                    continue;
                }
                let time = if overdue { 0 } else { into };
                if writer
                    .write(&jack::RawMidi {
                        time,
                        bytes: &bytes,
                    })
                    .is_ok()
                {
                    self.gone[index] = true;
                    if event == 0 {
                        self.sent[i].store(now.wrapping_add(time).max(1), Ordering::Relaxed);
                    }
                    self.done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        jack::Control::Continue
    }
}

fn ascenseur(server: &JackServer, takes: &Path, stderr: &Path) -> Running {
    let child = server
        .command(env!("CARGO_BIN_EXE_ascenseur"))
        .args([
            "play",
            "generique",
            "--headless",
            "--host",
            "jack",
            "--no-connect",
        ])
        .args(["--no-virtual-port", "--tempo", "120", "--takes-dir"])
        .arg(takes)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(stderr).expect("stderr file"))
        .spawn()
        .expect("start ascenseur");
    server.wait_for_port("ascenseur:midi_in", Duration::from_secs(10));
    Running(child)
}

/// The one take folder under `takes`.
fn the_take(takes: &Path) -> PathBuf {
    let folders: Vec<PathBuf> = std::fs::read_dir(takes)
        .expect("takes folder")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(folders.len(), 1, "one take expected: {folders:?}");
    folders.into_iter().next().unwrap()
}

fn track_names(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).expect("read MIDI file");
    let smf = midly::Smf::parse(&bytes).expect("a Standard MIDI File");
    smf.tracks
        .iter()
        .map(|track| {
            track
                .iter()
                .find_map(|e| match e.kind {
                    midly::TrackEventKind::Meta(midly::MetaMessage::TrackName(name)) => {
                        Some(String::from_utf8_lossy(name).into_owned())
                    }
                    _ => None,
                })
                .unwrap_or_default()
        })
        .collect()
}

fn note_ons(path: &Path) -> Vec<(u64, u8)> {
    ascenseur::render::midi_file::read(path, RATE as f32)
        .expect("read back")
        .into_iter()
        .filter_map(|i| match i.event {
            InputEvent::NoteOn { key, .. } => Some((i.frame, key)),
            _ => None,
        })
        .collect()
}

/// Play the phrase into ascenseur from a client of our own; returns the client (keep it
/// alive) and the server frame each note-on was sent at.
fn play_phrase(
    scenario: &OneAtATime,
    server: &JackServer,
) -> (jack::AsyncClient<(), PhrasePlayer>, [u32; PHRASE.len()]) {
    scenario.clients_use(&server.name);
    let (client, _) =
        jack::Client::new("phrase", jack::ClientOptions::NO_START_SERVER).expect("phrase client");
    let out = client
        .register_port("out", jack::MidiOut::default())
        .expect("phrase port");
    let go = Arc::new(AtomicBool::new(false));
    let sent: Arc<[AtomicU32; PHRASE.len()]> = Arc::new(std::array::from_fn(|_| AtomicU32::new(0)));
    let done = Arc::new(AtomicUsize::new(0));
    let player = PhrasePlayer {
        out,
        go: Arc::clone(&go),
        sent: Arc::clone(&sent),
        done: Arc::clone(&done),
        first: None,
        gone: [false; 2 * PHRASE.len()],
    };
    let active = client.activate_async((), player).expect("activate");
    active
        .as_client()
        .connect_ports_by_name("phrase:out", "ascenseur:midi_in")
        .expect("connect to ascenseur");
    go.store(true, Ordering::Relaxed);
    let started = Instant::now();
    while done.load(Ordering::Relaxed) < 2 * PHRASE.len() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the phrase was not sent"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = std::array::from_fn(|i| sent[i].load(Ordering::Relaxed));
    (active, sent)
}

/// One take recorded live: ascenseur started on a server of its own, the phrase played
/// into it, then SIGTERM.
struct RecordedTake {
    server: JackServer,
    scratch: tempfile::TempDir,
    take: PathBuf,
    info: serde_json::Value,
    /// The server frame each note-on was sent at.
    sent: [u32; PHRASE.len()],
    /// The server frame just before the signal.
    end: u32,
}

fn record_take(scenario: &OneAtATime) -> RecordedTake {
    let server = JackServer::start(&unique("take"));
    let scratch = tempfile::tempdir().expect("temp dir");
    let takes = scratch.path().join("takes");
    let log = scratch.path().join("stderr.txt");
    let mut instrument = ascenseur(&server, &takes, &log);
    let (client, sent) = play_phrase(scenario, &server);
    std::thread::sleep(Duration::from_millis(500));
    // The session ends on the server frame read just before the signal.
    let end = client.as_client().frame_time();
    instrument.signal("-TERM");
    let status = instrument.wait_exit(Duration::from_secs(10));
    drop(client);
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "ascenseur failed: {status}\n{said}");
    let take = the_take(&takes);
    assert!(said.contains("take saved"), "no word of the take:\n{said}");
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(take.join("take.json")).unwrap())
            .expect("take.json");
    RecordedTake {
        server,
        scratch,
        take,
        info,
        sent,
        end,
    }
}

/// Every note of the phrase in `played`, each as far after the first as it was sent
/// (within `slack` frames); what is wrong otherwise.
fn notes_at_their_times(
    played: &[(u64, u8)],
    sent: &[u32; PHRASE.len()],
    slack: i64,
) -> Result<(), String> {
    let keys: Vec<u8> = played.iter().map(|(_, key)| *key).collect();
    if keys != PHRASE.map(|(_, key)| key) {
        return Err(format!("the keys played are not the phrase's: {played:?}"));
    }
    let anchor = played[0].0 as i64;
    for ((frame, _), &at) in played.iter().zip(sent) {
        let error = *frame as i64 - anchor - i64::from(at.wrapping_sub(sent[0]));
        if error.abs() > slack {
            return Err(format!(
                "a note {error} frames off its time (over {slack}): {played:?}, sent at {sent:?}"
            ));
        }
    }
    Ok(())
}

#[test]
fn a_take_holds_the_notes_played_the_band_and_the_mix_after_sigterm() {
    let Some(scenario) = jack_scenario(&[]) else {
        return;
    };
    // A period, and the file's resolution: a tick of 960 per quarter at 120 BPM is 25
    // frames, and both the note and the anchor are rounded to one.
    let slack = i64::from(PERIOD) + 25;
    // player.mid: every note, at its time. The take's clock starts when ascenseur's
    // engine does, so the first note anchors it; the others keep their distances. A
    // machine so loaded that the server skips cycles can lose MIDI on its way (JACK
    // drops what was written for a cycle a client is not run in) or send it a cycle
    // late: such a take is recorded again, up to three times in all.
    let mut attempt = 1;
    let (recorded, played, xruns) = loop {
        let recorded = record_take(&scenario);
        let xruns = recorded.info["xruns"].as_u64().expect("xruns in take.json");
        let played = note_ons(&recorded.take.join("player.mid"));
        match notes_at_their_times(&played, &recorded.sent, slack) {
            Ok(()) => break (recorded, played, xruns),
            Err(why) if xruns > 0 && attempt < 3 => {
                eprintln!(
                    "take {attempt}: {why} ({xruns} xruns, left out {}): recorded again",
                    recorded.info["mix_frames_left_out"]
                );
                attempt += 1;
            }
            Err(why) => panic!("{why} ({xruns} xruns)"),
        }
    };
    eprintln!("player.mid: {played:?} ({xruns} xruns, take {attempt})");
    let RecordedTake {
        server,
        scratch,
        take,
        info,
        sent,
        end,
    } = recorded;
    let anchor = played[0].0 as i64;

    // band.mid: named tracks, each with notes.
    let names = track_names(&take.join("band.mid"));
    assert_eq!(names, ["Générique", "bass", "drums", "piano"]);
    let band = std::fs::read(take.join("band.mid")).unwrap();
    let smf = midly::Smf::parse(&band).unwrap();
    for (name, track) in names.iter().zip(&smf.tracks).skip(1) {
        let notes = track
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    midly::TrackEventKind::Midi {
                        message: midly::MidiMessage::NoteOn { .. },
                        ..
                    }
                )
            })
            .count();
        assert!(notes > 0, "no notes on the {name} track");
    }

    // mix.wav: as long as the session, from the engine's first frame (the server frame
    // of the first note less its frame in the take) to the signal.
    let wav = hound::WavReader::open(take.join("mix.wav")).expect("mix.wav reads");
    assert_eq!(wav.spec().sample_rate, RATE);
    let length = f64::from(wav.duration()) / f64::from(RATE);
    let engine_start = i64::from(sent[0]) - anchor;
    let session = (i64::from(end) - engine_start) as f64 / f64::from(RATE);
    eprintln!("mix.wav {length:.3} s; session {session:.3} s");
    assert!(
        (length - session).abs() <= 0.1,
        "mix.wav lasts {length:.3} s, the session {session:.3} s"
    );
    assert_eq!(info["notes_played"], 8);
    assert_eq!(info["preset"], "generique");
    assert_eq!(info["tempos"][0], 120.0);
    assert!(info["error"].is_null(), "{info}");
    assert_eq!(info["summary"]["notes"]["count"], 8, "{info}");

    // The take is in the history.
    let history = server.data_home().join("ascenseur").join("history.jsonl");
    let lines = std::fs::read_to_string(&history).expect("the history file");
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(lines.contains("\"preset\":\"generique\""), "{lines}");

    // Rendered again, offline: the player's notes where they were, over the same band.
    let again = scratch.path().join("again.mid");
    let render = Command::new(env!("CARGO_BIN_EXE_ascenseur"))
        .args(["render", "--take"])
        .arg(&take)
        .args(["-o"])
        .arg(scratch.path().join("again.wav"))
        .args(["--midi-out"])
        .arg(&again)
        .output()
        .expect("render --take");
    assert!(
        render.status.success(),
        "{}",
        String::from_utf8_lossy(&render.stderr)
    );
    assert_eq!(
        track_names(&again),
        [
            "Générique",
            "bass",
            "drums",
            "piano",
            "player (harmon-trumpet)"
        ]
    );
    let replayed = note_ons(&again);
    for (frame, key) in &played {
        assert!(
            replayed
                .iter()
                .any(|(f, k)| k == key && f.abs_diff(*frame) <= 25),
            "the note {key} at {frame} is not in the render of the take"
        );
    }
    let take_bass = track_notes(&take.join("band.mid"), 1);
    let render_bass = track_notes(&again, 1);
    assert!(take_bass.len() >= 4, "{take_bass:?}");
    // The same line; live, cycles the machine missed put the notes after them later.
    let missed_ticks = info["mix_frames_left_out"].as_u64().unwrap() / 25 + 1;
    let same = take_bass
        .iter()
        .zip(&render_bass)
        .all(|((t, k), (u, l))| k == l && t.abs_diff(*u) <= missed_ticks);
    assert!(
        same,
        "the render's bass {render_bass:?} is not the take's {take_bass:?}"
    );
}

/// The note-ons (tick, key) of one track of a file.
fn track_notes(path: &Path, track: usize) -> Vec<(u64, u8)> {
    let bytes = std::fs::read(path).expect("read MIDI file");
    let smf = midly::Smf::parse(&bytes).expect("a Standard MIDI File");
    let mut tick = 0u64;
    let mut notes = Vec::new();
    for event in &smf.tracks[track] {
        tick += u64::from(event.delta.as_int());
        if let midly::TrackEventKind::Midi {
            message: midly::MidiMessage::NoteOn { key, vel },
            ..
        } = event.kind
            && vel > 0
        {
            notes.push((tick, key.as_int()));
        }
    }
    notes
}

#[test]
fn a_killed_session_leaves_a_mix_readable_to_the_last_second() {
    let Some(scenario) = jack_scenario(&[]) else {
        return;
    };
    let server = JackServer::start(&unique("killed"));
    let scratch = tempfile::tempdir().expect("temp dir");
    let takes = scratch.path().join("takes");
    let mut instrument = ascenseur(&server, &takes, &scratch.path().join("stderr.txt"));
    // The engine runs from before its port appears: the session is longer than this.
    let playing = Instant::now();
    let (client, _) = play_phrase(&scenario, &server);
    std::thread::sleep(Duration::from_millis(1500));
    let end = client.as_client().frame_time();
    let at_least = playing.elapsed().as_secs_f64();
    instrument.signal("-KILL");
    instrument.wait_exit(Duration::from_secs(5));
    drop(client);
    let take = the_take(&takes);
    let wav = hound::WavReader::open(take.join("mix.wav")).expect("mix.wav reads after a kill");
    let length = f64::from(wav.duration()) / f64::from(RATE);
    let samples: Vec<i32> = wav.into_samples().map(|s| s.expect("sample")).collect();
    let loud = samples
        .iter()
        .filter(|s| s.unsigned_abs() > 1 << 12)
        .count();
    eprintln!(
        "after a kill: mix.wav reads {length:.2} s of a session of over {at_least:.2} s ({loud} loud samples; server frame {end})"
    );
    // A crash loses at most the last second.
    assert!(
        length >= at_least - 1.0,
        "only {length:.2} s of the mix survived a session of over {at_least:.2} s"
    );
    assert!(loud > 1000, "the mix that survived is silent");
}

#[test]
fn a_takes_folder_that_cannot_be_written_leaves_the_music_playing_and_says_why() {
    let Some(_scenario) = jack_scenario(&[]) else {
        return;
    };
    let server = JackServer::start(&unique("unwritable"));
    let scratch = tempfile::tempdir().expect("temp dir");
    // A folder inside a file cannot be made, even by root.
    let file = scratch.path().join("not-a-folder");
    std::fs::write(&file, "").unwrap();
    let takes = file.join("takes");
    let log = scratch.path().join("stderr.txt");
    let mut instrument = ascenseur(&server, &takes, &log);
    // It plays on: the status lines count the bars.
    let started = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("bar 3 ")
    {
        assert!(
            instrument.0.try_wait().expect("wait").is_none(),
            "ascenseur stopped"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the band did not play on:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    instrument.signal("-TERM");
    let status = instrument.wait_exit(Duration::from_secs(10));
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "{said}");
    assert!(
        said.contains("not recording") && said.contains(&takes.display().to_string()),
        "no reason given:\n{said}"
    );
}
