//! The live session owns what the player has chosen. Driven through a device rendered by
//! hand, block by block, so what an engine plays after a device loss can be measured
//! from its first sample.

use ascenseur::engine::{Engine, EngineConfig, InputEvent, STEMS, TimedInput};
use ascenseur::io::manual::{ManualBlock, ManualDevice};
use ascenseur::live::{
    AudioHost, Intent, Notice, Performance, RETRY_INTERVAL, Session, SessionSettings,
};
use ascenseur::preset::{self, LeadInstrument};
use ascenseur_analysis::{Band, OnsetOptions, detect_onsets};
use std::time::Duration;

const RATE: u32 = 48_000;
/// 10 ms blocks.
const BLOCK: usize = 480;
/// The device's first block, rendered the moment it starts.
const PERIOD: usize = 64;
const SEED: u64 = 7;

fn stem(name: &str) -> usize {
    STEMS.iter().position(|s| *s == name).unwrap()
}

fn start(device: &ManualDevice, preset: &str) -> Session {
    let settings = SessionSettings {
        takes_dir: None,
        history: None,
        seed: SEED,
        host: AudioHost::Manual(device.clone()),
        client_name: "unused".into(),
        connect: false,
    };
    let performance = Performance::of(preset::find(preset).unwrap()).unwrap();
    Session::start(settings, performance).expect("a present manual device")
}

/// Render `frames` in blocks, polling the session after each as the console does; the
/// blocks joined. Panics on any notice.
fn play(session: &mut Session, device: &ManualDevice, frames: usize) -> ManualBlock {
    let mut all = ManualBlock::default();
    let mut done = 0;
    while done < frames {
        let block = device
            .render(BLOCK.min(frames - done))
            .expect("the device plays");
        let n = block.mix.len() / 2;
        all.mix.extend_from_slice(&block.mix);
        for (to, from) in all.stems.iter_mut().zip(&block.stems) {
            to.extend_from_slice(from);
        }
        if let Some(notice) = session.poll() {
            panic!("unexpected notice: {notice}");
        }
        done += n;
    }
    all
}

/// Unplug the device, let the session notice, plug it back and let it resume.
fn lose_and_resume(session: &mut Session, device: &ManualDevice) -> u64 {
    device.unplug();
    assert!(matches!(session.poll(), Some(Notice::Lost(_))));
    assert!(!device.is_playing(), "the lost driver was stopped");
    device.plug_in();
    std::thread::sleep(RETRY_INTERVAL + Duration::from_millis(20));
    match session.poll() {
        Some(Notice::Resumed { bar, .. }) => bar,
        other => panic!("expected a resume, got {other:?}"),
    }
}

fn samples_per_beat(bpm: f32) -> f64 {
    f64::from(RATE) * 60.0 / f64::from(bpm)
}

#[test]
fn a_resumed_engine_plays_the_players_tempo_mutes_and_lead_from_its_first_sample() {
    // Florence walks in four at 120 BPM; the player takes it to 160, mutes the piano
    // and changes the lead voice, then the device goes away mid-play.
    let device = ManualDevice::new(RATE, PERIOD);
    let mut session = start(&device, "florence-sur-les-champs-elysees");
    assert_eq!(session.performance().tempo(), 120.0);
    session.apply(Intent::StepTempo(40.0)).unwrap();
    session
        .apply(Intent::ToggleMute(ascenseur::band::Player::Piano))
        .unwrap();
    session.apply(Intent::NextLead).unwrap();
    let lead = session.performance().lead();
    assert_ne!(lead, session.performance().arrangement().lead);
    play(&mut session, &device, 3 * RATE as usize);
    let heard_bar = session.telemetry().unwrap().position.bar;
    let bar = lose_and_resume(&mut session, &device);
    assert_eq!(bar, heard_bar + 2, "resumes at the next bar (1-based)");

    // The player plays a note as the new engine starts: it sounds at the start of the
    // block after the device's first.
    let note = InputEvent::NoteOn {
        key: 69,
        velocity: 0.8,
    };
    assert!(session.live_input().send_now(note));
    let bar_frames = (4.0 * samples_per_beat(160.0)) as usize;
    let first_bar = play(&mut session, &device, bar_frames);

    // Mutes: not one sample of piano.
    let piano_peak = first_bar.stems[stem("piano")]
        .iter()
        .fold(0.0f32, |m, x| m.max(x.abs()));
    assert_eq!(
        piano_peak, 0.0,
        "the piano sounds in the first bar after resuming"
    );

    // Tempo: every bass note of the first bar sits on the 160 BPM grid from sample 0
    // (at 120 BPM, beats 2 to 4 would fall 125 ms away from it).
    let bass = first_bar.mono(Some(stem("bass")));
    let onsets: Vec<f64> = detect_onsets(
        &bass,
        RATE as f32,
        &OnsetOptions::with_band(Band::LowPass(400.0)),
    )
    .iter()
    .map(|o| o.time_s(RATE as f32))
    .collect();
    let beat_s = 60.0 / 160.0;
    eprintln!("bass onsets in the first bar after resuming: {onsets:.3?} s (beat {beat_s} s)");
    assert!(
        onsets.iter().filter(|&&t| t > beat_s / 2.0).count() >= 2,
        "too few bass notes to read the tempo: {onsets:?}"
    );
    for t in &onsets {
        let off = (t / beat_s - (t / beat_s).round()).abs() * beat_s;
        assert!(
            off < 0.04,
            "bass note at {t:.3} s is {off:.3} s off the 160 BPM grid"
        );
    }

    // Lead: the note sounds through the chosen voice, sample for sample what a fresh
    // engine with that voice plays, and not what the preset's own voice plays.
    let lead_of = |voice: LeadInstrument| {
        let config = EngineConfig {
            sample_rate: RATE as f32,
            seed: SEED,
            lead: Some(voice),
            ..EngineConfig::default()
        };
        let arrangement = session.performance().arrangement().clone();
        let (mut engine, mut controller) = Engine::new(config, arrangement);
        controller
            .play(TimedInput {
                frame: PERIOD as u64,
                event: note,
            })
            .unwrap();
        let mut mix = vec![0.0; 2 * bar_frames];
        let mut stems: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0.0; 2 * bar_frames]);
        let [b, d, p, l] = &mut stems;
        engine.process_with_stems(&mut mix, &mut [b, d, p, l]);
        stems[stem("lead")].clone()
    };
    let heard = &first_bar.stems[stem("lead")];
    assert!(heard.iter().any(|x| x.abs() > 1e-3), "the note is heard");
    assert!(
        heard == &lead_of(lead),
        "the lead is not the player's voice"
    );
    assert!(heard != &lead_of(session.performance().arrangement().lead));
    session.stop();
}

#[test]
fn two_presses_within_one_frame_are_two_changes() {
    let device = ManualDevice::new(RATE, PERIOD);
    let mut session = start(&device, "generique");
    use ascenseur::band::Player;
    session.apply(Intent::ToggleMute(Player::Drums)).unwrap();
    session.apply(Intent::ToggleMute(Player::Drums)).unwrap();
    session.apply(Intent::ToggleMute(Player::Bass)).unwrap();
    session.apply(Intent::ToggleCountIn).unwrap();
    session.apply(Intent::ToggleCountIn).unwrap();
    play(&mut session, &device, BLOCK);
    let t = *session.telemetry().unwrap();
    assert_eq!(t.mute, [true, false, false]);
    assert!(!t.count_in);
    assert_eq!(session.performance().mute(), t.mute);
    session.stop();
}

#[test]
fn the_lost_driver_stops_before_the_clock_pairing_is_reset() {
    let device = ManualDevice::new(RATE, PERIOD);
    let mut session = start(&device, "generique");
    play(&mut session, &device, 10 * BLOCK);
    assert!(session.live_input().clock().latest().is_some());
    lose_and_resume(&mut session, &device);
    play(&mut session, &device, 10 * BLOCK);
    assert_eq!(
        session.live_input().clock().second_writers(),
        0,
        "the clock pairing had two writers"
    );
    session.stop();
    assert!(session_clock_is_free(&device));
}

/// A new session on the same device can claim the clock: nothing is left holding it.
fn session_clock_is_free(device: &ManualDevice) -> bool {
    let mut session = start(device, "generique");
    play(&mut session, device, BLOCK);
    let free = session.live_input().clock().second_writers() == 0;
    session.stop();
    free
}

#[test]
fn a_lead_chosen_from_the_keyboard_is_kept_across_a_loss() {
    let device = ManualDevice::new(RATE, PERIOD);
    let mut session = start(&device, "generique");
    assert!(session.live_input().send_now(InputEvent::Program(2)));
    play(&mut session, &device, 2 * BLOCK);
    assert_eq!(session.performance().lead(), LeadInstrument::ALL[2]);
    lose_and_resume(&mut session, &device);
    play(&mut session, &device, BLOCK);
    assert_eq!(session.telemetry().unwrap().lead, LeadInstrument::ALL[2]);
    session.stop();
}

#[test]
fn a_band_the_player_stopped_stays_stopped_after_a_loss() {
    let device = ManualDevice::new(RATE, PERIOD);
    let mut session = start(&device, "generique");
    play(&mut session, &device, 10 * BLOCK);
    session.apply(Intent::StartStop).unwrap();
    play(&mut session, &device, 10 * BLOCK);
    lose_and_resume(&mut session, &device);
    let after = play(&mut session, &device, RATE as usize);
    let band_peak = after.stems[..3]
        .iter()
        .flatten()
        .fold(0.0f32, |m, x| m.max(x.abs()));
    assert_eq!(band_peak, 0.0, "the stopped band played after the resume");
    assert_eq!(
        session.telemetry().unwrap().transport,
        ascenseur::engine::Transport::Stopped
    );
    session.stop();
}

/// A session that records into `takes`, with its history in `history`.
fn start_recording(
    device: &ManualDevice,
    preset: &str,
    takes: &std::path::Path,
    history: &std::path::Path,
) -> Session {
    let settings = SessionSettings {
        takes_dir: Some(takes.to_path_buf()),
        history: Some(history.to_path_buf()),
        seed: SEED,
        host: AudioHost::Manual(device.clone()),
        client_name: "unused".into(),
        connect: false,
    };
    // The arrow keys step through every built-in preset.
    let presets: Vec<preset::Preset> = preset::builtin()
        .iter()
        .map(|(name, _)| preset::find(name).unwrap())
        .collect();
    let index = presets.iter().position(|p| p.name == preset).unwrap();
    let performance = Performance::new(presets, index, None, None).unwrap();
    Session::start(settings, performance).expect("a present manual device")
}

#[test]
fn a_new_preset_ends_the_take_where_the_engine_takes_it_and_begins_the_next() {
    let scratch = tempfile::tempdir().unwrap();
    let takes = scratch.path().join("takes");
    let history = scratch.path().join("history.jsonl");
    let device = ManualDevice::new(RATE, PERIOD);
    let mut session = start_recording(&device, "generique", &takes, &history);
    // A note in each take: on at once, off a block later.
    session.live_input().send_now(InputEvent::NoteOn {
        key: 62,
        velocity: 0.8,
    });
    play(&mut session, &device, BLOCK);
    session
        .live_input()
        .send_now(InputEvent::NoteOff { key: 62 });
    play(&mut session, &device, RATE as usize - BLOCK);
    session.apply(Intent::StepPreset(1)).unwrap();
    let second = session.performance().preset().name.clone();
    assert_ne!(second, "generique");
    session.live_input().send_now(InputEvent::NoteOn {
        key: 65,
        velocity: 0.8,
    });
    play(&mut session, &device, BLOCK);
    session
        .live_input()
        .send_now(InputEvent::NoteOff { key: 65 });
    play(&mut session, &device, 3 * RATE as usize / 2 - BLOCK);
    let done = session.stop();
    assert_eq!(done.len(), 2, "{done:?}");
    let (first, next) = (&done[0], &done[1]);
    assert_eq!(first.info.preset, "generique");
    assert_eq!(next.info.preset, second);
    assert_eq!((first.info.notes_played, next.info.notes_played), (1, 1));
    // Every frame the device rendered (2.5 s) is in one take or the other, once. The new
    // preset takes over at the start of the block after the change.
    let frames = |take: &ascenseur::take::FinishedTake| {
        hound::WavReader::open(take.folder.join("mix.wav"))
            .expect("mix.wav")
            .duration() as usize
    };
    let (a, b) = (frames(first), frames(next));
    assert_eq!(a + b, 5 * RATE as usize / 2);
    assert!(
        (RATE as usize..=RATE as usize + BLOCK).contains(&a),
        "the first take has {a} frames"
    );
    // The second take's band starts its form at its own frame 0.
    assert_eq!(next.info.form_start_s, Some(0.0));
    assert_eq!(next.info.first_bar, Some(1));
    // Two takes, two lines of history.
    let read = ascenseur::take::history::History::read(&history).unwrap();
    let presets: Vec<&str> = read.entries.iter().map(|e| e.preset.as_str()).collect();
    assert_eq!(presets, ["generique", second.as_str()]);
    assert!(read.skipped.is_empty());
}
