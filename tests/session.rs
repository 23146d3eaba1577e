//! The live session owns what the player has chosen. Driven through a device rendered by
//! hand, block by block, so what an engine plays after a device loss can be measured
//! from its first sample.

use ascenseur::engine::journal::JournalEntry;
use ascenseur::engine::{Engine, EngineConfig, InputEvent, STEMS, TimedInput};
use ascenseur::io::manual::{ManualBlock, ManualDevice};
use ascenseur::live::{
    AudioHost, Intent, NothingToPlay, Notice, Performance, PlaybackNews, PlaybackScope,
    RETRY_INTERVAL, Session, SessionSettings,
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
        let mut stems: [Vec<f32>; 5] = std::array::from_fn(|_| vec![0.0; 2 * bar_frames]);
        let [b, d, p, l, h] = &mut stems;
        engine.process_with_stems(&mut mix, &mut [b, d, p, l, h]);
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

/// What a session's journal said, gathered as the console gathers it.
#[derive(Default)]
struct Heard {
    bars: Vec<ascenseur::band::BarLine>,
    played: Vec<TimedInput>,
    playbacks: Vec<(u64, u64)>,
}

impl Heard {
    fn gather(&mut self, session: &mut Session) {
        session.take_journal(|entry| match *entry {
            JournalEntry::Bar(line) => self.bars.push(line),
            JournalEntry::Played(input) => self.played.push(input),
            JournalEntry::Playback { from, to, .. } => self.playbacks.push((from, to)),
            _ => {}
        });
    }

    fn bar_start(&self, index: usize) -> usize {
        self.bars[index].start.round() as usize
    }
}

/// Render on to engine frame `to` (the rendered audio is the engine's frames from 0),
/// gathering the journal.
fn play_to(
    session: &mut Session,
    device: &ManualDevice,
    heard: &mut Heard,
    all: &mut ManualBlock,
    to: usize,
) {
    let block = play(session, device, to - all.mix.len() / 2);
    all.mix.extend_from_slice(&block.mix);
    for (into, from) in all.stems.iter_mut().zip(&block.stems) {
        into.extend_from_slice(from);
    }
    heard.gather(session);
}

/// Onsets of `stem` between frames `from` and `to`, in frames from `from`. The detector
/// is given 50 ms before `from` to settle: an onset just after it is not the edge's.
fn onsets_between(
    all: &ManualBlock,
    stem_index: usize,
    band: Band,
    from: usize,
    to: usize,
) -> Vec<f64> {
    let settle = (RATE as usize / 20).min(from);
    let mono: Vec<f32> = all.stems[stem_index][2 * (from - settle)..2 * to]
        .chunks(2)
        .map(|f| 0.5 * (f[0] + f[1]))
        .collect();
    let margin = 0.003 * f64::from(RATE);
    detect_onsets(&mono, RATE as f32, &OnsetOptions::with_band(band))
        .iter()
        .map(|o| o.time_s(RATE as f32) * f64::from(RATE) - settle as f64)
        .filter(|&at| at >= -margin)
        .collect()
}

#[test]
fn the_last_phrase_plays_back_over_the_band_as_it_played_and_the_take_leaves_it_out() {
    let scratch = tempfile::tempdir().unwrap();
    let takes = scratch.path().join("takes");
    let history = scratch.path().join("history.jsonl");
    let device = ManualDevice::new(RATE, PERIOD);
    let mut session = start_recording(&device, "florence-sur-les-champs-elysees", &takes, &history);
    let (mut heard, mut all) = (Heard::default(), ManualBlock::default());
    // Bars are laid out a beat ahead: the second is known before it starts.
    play_to(
        &mut session,
        &device,
        &mut heard,
        &mut all,
        7 * RATE as usize / 4,
    );
    let spb = samples_per_beat(120.0) as usize;
    let bar2 = heard.bar_start(1);
    // A phrase of five quarters from the take's second bar (D F A C D), each held an
    // eighth: it ends in the third bar.
    let keys = [62u8, 65, 69, 72, 74];
    for (beat, &key) in keys.iter().enumerate() {
        let at = bar2 + beat * spb;
        play_to(&mut session, &device, &mut heard, &mut all, at);
        session
            .live_input()
            .send_now(InputEvent::NoteOn { key, velocity: 0.8 });
        play_to(&mut session, &device, &mut heard, &mut all, at + spb / 2);
        session.live_input().send_now(InputEvent::NoteOff { key });
    }
    // Half-way through the fourth bar the player asks to hear it.
    let asked = bar2 + (2 * 4 + 2) * spb;
    play_to(&mut session, &device, &mut heard, &mut all, asked);
    let news = session
        .play_back(PlaybackScope::LastPhrase)
        .expect("a phrase to play back");
    assert_eq!(news, PlaybackNews::Starts { first: 2, last: 3 });
    let end = heard.bar_start(3) + 12 * 4 * spb;
    play_to(&mut session, &device, &mut heard, &mut all, end);

    // It begins on the next bar line and lasts the phrase's two bars.
    assert_eq!(heard.playbacks.len(), 1, "{:?}", heard.playbacks);
    let (from, to) = heard.playbacks[0];
    let (from, to) = (from as usize, to as usize);
    assert_eq!(
        from,
        heard.bar_start(3) + 4 * spb,
        "from the bar line after the request"
    );
    assert_eq!(to - from, 2 * 4 * spb, "two bars long");

    // The lead voice plays the phrase again at its times and pitches, read from the
    // audio: each note where it was in its bar, within 3 ms.
    let originals: Vec<f64> = heard
        .played
        .iter()
        .filter(|p| matches!(p.event, InputEvent::NoteOn { .. }))
        .map(|p| (p.frame as usize - bar2) as f64)
        .collect();
    assert_eq!(
        originals.len(),
        keys.len(),
        "the phrase as played: {:?}",
        heard.played
    );
    let lead = stem("lead");
    let replayed = onsets_between(&all, lead, Band::Full, from, to);
    let tolerance = 0.003 * f64::from(RATE);
    let matched = ascenseur_analysis::match_onsets(&originals, &replayed, tolerance);
    eprintln!("phrase at {originals:?}, heard back at {replayed:.0?} (frames into the bar)");
    assert!(
        matched.missed.is_empty() && matched.extra.is_empty(),
        "played back {replayed:?} for {originals:?}: {matched:?}"
    );
    let mono: Vec<f32> = all.stems[lead][2 * from..2 * to]
        .chunks(2)
        .map(|f| 0.5 * (f[0] + f[1]))
        .collect();
    let at: Vec<usize> = replayed.iter().map(|&f| f as usize).collect();
    let pitches: Vec<u8> = ascenseur_analysis::note_pitches(&mono, RATE as f32, &at, 100.0, 1000.0)
        .iter()
        .map(|p| ascenseur_analysis::hz_to_midi(p.expect("a pitched note").hz).round() as u8)
        .collect();
    assert_eq!(pitches, keys, "the pitches heard back");

    // The band plays those bars as it played them: its drums and bass, heard in the
    // playback, are where they were in bars 2 and 3.
    for (name, band) in [
        ("drums", Band::HighPass(2_000.0)),
        ("bass", Band::LowPass(400.0)),
    ] {
        let then = onsets_between(&all, stem(name), band, bar2, bar2 + to - from);
        let again = onsets_between(&all, stem(name), band, from, to);
        let matched = ascenseur_analysis::match_onsets(&then, &again, tolerance);
        eprintln!(
            "{name}: {} onsets then, {} again, {} matched",
            then.len(),
            again.len(),
            matched.matched.len()
        );
        assert!(
            then.len() >= 4,
            "{name}: too few onsets to compare: {then:?}"
        );
        assert!(
            matched.matched.len() * 10 >= then.len() * 9 && matched.extra.len() * 10 <= again.len(),
            "{name} then {then:?}, again {again:?}"
        );
    }

    // The band goes on from where it was: the bar after the fourth starts where the
    // playback ends, and the lead is silent after it (no note held over).
    let next = heard
        .bars
        .iter()
        .find(|b| b.start.round() as usize >= to)
        .expect("a bar after the playback");
    assert_eq!(next.start.round() as usize, to);
    let form_bars = session.performance().arrangement().form_bars;
    assert_eq!(next.form_bar, (heard.bars[3].form_bar + 1) % form_bars);
    let after = &all.stems[lead][2 * (to + RATE as usize / 2)..];
    assert!(
        after.iter().all(|x| x.abs() < 1e-4),
        "the lead hangs over after the playback"
    );
    assert!(
        // In two or in four: after a phrase and a rest the band may have gone to two.
        onsets_between(&all, stem("bass"), Band::LowPass(400.0), to, to + 8 * spb).len() >= 3,
        "the bass plays on after the playback"
    );

    // The take leaves the playback out: its mix is the rest, its player part the phrase
    // once.
    let rendered = all.mix.len() / 2;
    let done = session.stop();
    assert_eq!(done.len(), 1);
    let take = &done[0];
    assert_eq!(take.info.notes_played, keys.len() as u64);
    let mix_frames = hound::WavReader::open(take.folder.join("mix.wav"))
        .unwrap()
        .duration() as usize;
    assert_eq!(
        mix_frames,
        rendered - (to - from),
        "the mix without the playback"
    );
    let bytes = std::fs::read(take.folder.join("player.mid")).unwrap();
    let smf = midly::Smf::parse(&bytes).unwrap();
    let note_ons = smf
        .tracks
        .iter()
        .flatten()
        .filter(|e| {
            matches!(
                e.kind,
                midly::TrackEventKind::Midi {
                    message: midly::MidiMessage::NoteOn { vel, .. },
                    ..
                } if vel > 0
            )
        })
        .count();
    assert_eq!(note_ons, keys.len(), "player.mid holds the phrase once");
}

#[test]
fn the_whole_take_plays_back_and_a_second_press_stops_it_at_a_bar_line() {
    let scratch = tempfile::tempdir().unwrap();
    let takes = scratch.path().join("takes");
    let history = scratch.path().join("history.jsonl");
    let device = ManualDevice::new(RATE, PERIOD);
    let mut session = start_recording(&device, "florence-sur-les-champs-elysees", &takes, &history);
    let (mut heard, mut all) = (Heard::default(), ManualBlock::default());
    let spb = samples_per_beat(120.0) as usize;
    let bar = 4 * spb;
    assert_eq!(
        session.play_back(PlaybackScope::WholeTake),
        Err(NothingToPlay::NoBar),
        "nothing to hear before a bar has ended"
    );
    session.live_input().send_now(InputEvent::NoteOn {
        key: 69,
        velocity: 0.8,
    });
    play_to(&mut session, &device, &mut heard, &mut all, spb);
    session
        .live_input()
        .send_now(InputEvent::NoteOff { key: 69 });
    play_to(&mut session, &device, &mut heard, &mut all, 3 * bar + spb);
    assert_eq!(heard.bar_start(0), 0);
    assert_eq!(
        session.play_back(PlaybackScope::WholeTake),
        Ok(PlaybackNews::Starts { first: 1, last: 3 })
    );
    // Into the playback's second bar, the player has heard enough.
    play_to(
        &mut session,
        &device,
        &mut heard,
        &mut all,
        5 * bar + spb / 2,
    );
    assert!(session.telemetry().unwrap().playback.is_some());
    assert_eq!(
        session.play_back(PlaybackScope::LastPhrase),
        Ok(PlaybackNews::Stops)
    );
    play_to(&mut session, &device, &mut heard, &mut all, 9 * bar);
    let (from, to) = *heard.playbacks.last().unwrap();
    let (from, to) = (from as usize, to as usize);
    assert_eq!(
        heard.playbacks[0],
        (4 * bar as u64, 7 * bar as u64),
        "placed whole"
    );
    assert_eq!(
        (from, to),
        (4 * bar, 6 * bar),
        "cut at the next bar line it can be"
    );
    let next = heard
        .bars
        .iter()
        .find(|b| b.start.round() as usize >= to)
        .unwrap();
    assert_eq!(next.start.round() as usize, to, "the band comes in there");
    assert_eq!(next.form_bar, heard.bars[3].form_bar + 1);
    assert!(session.telemetry().unwrap().playback.is_none());
    let rendered = all.mix.len() / 2;
    let done = session.stop();
    let mix = hound::WavReader::open(done[0].folder.join("mix.wav")).unwrap();
    assert_eq!(mix.duration() as usize, rendered - (to - from));
    assert_eq!(done[0].info.notes_played, 1);
}
