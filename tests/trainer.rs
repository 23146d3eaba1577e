//! The practice trainer — loop, tempo ramp, key cycle — measured from rendered audio: a
//! render's length to the sample, the tempo read from the bass's onsets, the key read from
//! its pitches, the chords of a loop read from its downbeats.

use ascenseur::band::{FormLoop, KeyCycle, TempoRamp, Trainer};
use ascenseur::preset;
use ascenseur::render::{RENDER_RATE, RenderOptions, Rendered, TAIL_S, render, render_blocks};
use ascenseur::theory::PitchClass;
use ascenseur_analysis::{Band, OnsetOptions, detect_onsets, note_pitches, read_wav};
use assert_cmd::Command;

const BASS: usize = 0;

fn ascenseur() -> Command {
    Command::cargo_bin("ascenseur").expect("binary built")
}

/// Frames the conductor lays out for bars at these tempos: each bar's start is the one
/// before plus four beats at its tempo, in f64 from the f32 tempo, and the render ends
/// at the rounded start of the bar after the last, plus the room's tail.
fn expected_frames(tempos: impl IntoIterator<Item = f32>) -> u64 {
    let mut start = 0.0f64;
    for tempo in tempos {
        let samples_per_beat = f64::from(RENDER_RATE as f32) * 60.0 / f64::from(tempo);
        start += samples_per_beat * 4.0;
    }
    start.round() as u64 + (TAIL_S * RENDER_RATE as f32) as u64
}

/// A bass note heard: its onset (frames) and pitch (MIDI, rounded).
struct Heard {
    frame: usize,
    midi: i32,
}

fn bass_notes(bass: &[f32]) -> Vec<Heard> {
    let sr = RENDER_RATE as f32;
    let onsets: Vec<usize> =
        detect_onsets(bass, sr, &OnsetOptions::with_band(Band::LowPass(400.0)))
            .into_iter()
            .map(|o| o.sample)
            .collect();
    let pitches = note_pitches(bass, sr, &onsets, 35.0, 220.0);
    onsets
        .iter()
        .zip(pitches)
        .filter_map(|(&frame, pitch)| {
            Some(Heard {
                frame,
                midi: pitch?.midi.round() as i32,
            })
        })
        .collect()
}

/// The bass note heard nearest the line of the bar starting at `start`, within 60 ms.
fn downbeat(notes: &[Heard], start: u64) -> Option<&Heard> {
    let window = (0.06 * RENDER_RATE as f64) as i64;
    notes
        .iter()
        .filter(|n| (n.frame as i64 - start as i64).abs() < window)
        .min_by_key(|n| (n.frame as i64 - start as i64).abs())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
fn a_ramped_loop_lasts_its_bars_at_each_tempo_to_the_sample_and_is_heard_speeding_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ramp.wav");
    let stems = dir.path().join("stems");
    ascenseur()
        .args([
            "render",
            "generique",
            "--tempo",
            "100",
            "--tempo-ramp",
            "+10/1",
        ])
        .args(["--loop", "1-8", "--bars", "32", "--seed", "5", "-o"])
        .arg(&out)
        .arg("--stems")
        .arg(&stems)
        .assert()
        .success()
        .stderr(predicates::str::contains("at 100 to 130 BPM"));
    let (mix, rate) = read_wav(&out).unwrap();
    assert_eq!(rate, RENDER_RATE);
    let tempos = [100.0f32, 110.0, 120.0, 130.0];
    let expected = expected_frames(tempos.iter().flat_map(|&t| [t; 8]));
    assert_eq!(
        mix[0].len() as u64,
        expected,
        "32 bars, 8 at each of 100, 110, 120 and 130 BPM, and the tail"
    );

    // The bass walks in quarters: the time between its notes, pass by pass.
    let (bass, _) = read_wav(stems.join("bass.wav")).unwrap();
    let bass: Vec<f32> = bass[0]
        .iter()
        .zip(&bass[1])
        .map(|(l, r)| 0.5 * (l + r))
        .collect();
    let onsets: Vec<f64> = detect_onsets(
        &bass,
        rate as f32,
        &OnsetOptions::with_band(Band::LowPass(400.0)),
    )
    .iter()
    .map(|o| o.time_s(rate as f32))
    .collect();
    let pass_end = |pass: usize| -> f64 {
        (expected_frames(tempos[..pass].iter().flat_map(|&t| [t; 8]))
            - (TAIL_S * RENDER_RATE as f32) as u64) as f64
            / f64::from(rate)
    };
    let mut medians = Vec::new();
    for (pass, tempo) in tempos.iter().enumerate() {
        let (from, to) = (pass_end(pass), pass_end(pass + 1));
        let inside: Vec<f64> = onsets
            .iter()
            .copied()
            .filter(|&t| t >= from - 0.05 && t < to - 0.05)
            .collect();
        let mut intervals: Vec<f64> = inside.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            intervals.len() >= 24,
            "pass {}: only {} bass notes",
            pass + 1,
            inside.len()
        );
        let heard = median(&mut intervals);
        let beat = 60.0 / f64::from(*tempo);
        eprintln!(
            "pass {} at {tempo} BPM: {} bass notes, median interval {:.1} ms (beat {:.1} ms)",
            pass + 1,
            inside.len(),
            heard * 1e3,
            beat * 1e3
        );
        assert!(
            (heard - beat).abs() < 0.02 * beat,
            "pass {}: median interval {:.1} ms, a beat at {tempo} BPM is {:.1} ms",
            pass + 1,
            heard * 1e3,
            beat * 1e3
        );
        medians.push(heard);
    }
    assert!(
        medians.windows(2).all(|w| w[1] < w[0]),
        "the tempo does not rise: {medians:?}"
    );
}

fn render_generique(bars: u32, trainer: Trainer) -> (Rendered, Vec<ascenseur::band::BarLine>) {
    let preset = preset::find("generique").unwrap();
    let options = RenderOptions {
        bars: Some(bars),
        tempo: Some(120.0),
        trainer,
        ..RenderOptions::default()
    };
    let rendered = render(&preset, &options, |_, _| {}).unwrap();
    let lines = render_blocks(&preset, &options, |_, _| {}, |_| {}, |_, _| Ok(()))
        .unwrap()
        .bar_lines;
    (rendered, lines)
}

#[test]
fn a_loop_of_bars_5_to_8_plays_their_c7_over_and_over() {
    // Générique: Dm7 in bars 1-4, C7 in bars 5-8, twice, then the lift on Dmaj7.
    let (rendered, lines) = render_generique(
        16,
        Trainer {
            form_loop: FormLoop::new(4, 7),
            ..Trainer::default()
        },
    );
    let form_bars: Vec<u32> = lines.iter().map(|l| l.form_bar + 1).collect();
    assert_eq!(form_bars, [5, 6, 7, 8].repeat(4));
    let notes = bass_notes(&rendered.stem_mono(BASS));
    let c7 = [0, 4, 7, 10].map(PitchClass::new);
    let mut chord_tones = 0;
    for (i, start) in rendered.bar_starts.iter().enumerate() {
        let heard = downbeat(&notes, *start)
            .unwrap_or_else(|| panic!("no bass note on the line of bar {}", i + 1));
        let pc = PitchClass::from_midi(heard.midi as u8);
        if i % 4 == 0 {
            assert_eq!(
                pc,
                PitchClass::new(0),
                "bar {}: each pass starts on C",
                i + 1
            );
        }
        chord_tones += usize::from(c7.contains(&pc));
    }
    eprintln!("downbeats on a tone of C7: {chord_tones} of 16");
    assert!(
        chord_tones >= 15,
        "only {chord_tones} of 16 downbeats are tones of C7 (C E G B♭)"
    );
}

#[test]
fn the_key_cycle_plays_the_loop_a_fourth_up_each_pass() {
    let (rendered, lines) = render_generique(
        12,
        Trainer {
            form_loop: FormLoop::new(4, 7),
            key_cycle: Some(KeyCycle::Fourths),
            ..Trainer::default()
        },
    );
    let shifts: Vec<u8> = lines.iter().map(|l| l.key_shift).collect();
    assert_eq!(shifts, [[0; 4], [5; 4], [10; 4]].concat());
    let notes = bass_notes(&rendered.stem_mono(BASS));
    // C7 (C Mixolydian), then F7 (F Mixolydian), then B♭7 (B♭ Mixolydian).
    for (pass, root) in [0, 5, 10].into_iter().enumerate() {
        let from = rendered.bar_starts[4 * pass];
        let first = downbeat(&notes, from)
            .unwrap_or_else(|| panic!("pass {}: no bass note on its first bar", pass + 1));
        assert_eq!(
            PitchClass::from_midi(first.midi as u8),
            PitchClass::new(root),
            "pass {} starts on the root of its key",
            pass + 1
        );
        let to = rendered
            .bar_starts
            .get(4 * pass + 4)
            .copied()
            .unwrap_or(u64::MAX);
        // A little before the next pass: the last note leads into its new root.
        let late = (0.1 * RENDER_RATE as f64) as u64;
        let pass_notes: Vec<&Heard> = notes
            .iter()
            .filter(|n| n.frame as u64 + 2_000 >= from && (n.frame as u64) + late < to)
            .collect();
        let mixolydian = [0, 2, 4, 5, 7, 9, 10].map(|s| PitchClass::new(root + s));
        let in_mode = pass_notes
            .iter()
            .filter(|n| mixolydian.contains(&PitchClass::from_midi(n.midi as u8)))
            .count();
        let home = [0, 2, 4, 5, 7, 9, 10].map(PitchClass::new);
        let in_home = pass_notes
            .iter()
            .filter(|n| home.contains(&PitchClass::from_midi(n.midi as u8)))
            .count();
        eprintln!(
            "pass {}: {} bass notes, {in_mode} in its Mixolydian, {in_home} in C Mixolydian",
            pass + 1,
            pass_notes.len()
        );
        assert!(pass_notes.len() >= 12, "pass {}: too few notes", pass + 1);
        // The dominant seventh of the pass's key on the downbeats: F7 has A and E♭, which
        // C7 has not.
        let chord = [0, 4, 7, 10].map(|s| PitchClass::new(root + s));
        let on_chord = (0..4)
            .filter_map(|bar| downbeat(&notes, rendered.bar_starts[4 * pass + bar]))
            .filter(|n| chord.contains(&PitchClass::from_midi(n.midi as u8)))
            .count();
        assert_eq!(on_chord, 4, "pass {}: downbeats off its chord", pass + 1);
        if pass > 0 {
            assert!(
                in_mode > in_home,
                "pass {}: the bass fits C Mixolydian ({in_home}) as well as its own key ({in_mode})",
                pass + 1
            );
        }
        assert!(
            in_mode as f64 >= 0.85 * pass_notes.len() as f64,
            "pass {}: only {in_mode} of {} bass notes in the mode of its key",
            pass + 1,
            pass_notes.len()
        );
    }
}

#[test]
fn loop_ramp_and_key_cycle_do_not_change_a_sample_with_the_block_size() {
    let preset = preset::find("sur-l-autoroute").unwrap();
    let form_bars = ascenseur::band::Arrangement::new(&preset, None)
        .unwrap()
        .form_bars;
    let options = |block| RenderOptions {
        bars: Some(10),
        block,
        trainer: Trainer {
            form_loop: FormLoop::new(form_bars - 3, form_bars - 1),
            ramp: Some(TempoRamp {
                step: 7.0,
                every: 1,
                max: 300.0,
            }),
            key_cycle: Some(KeyCycle::Semitones),
        },
        ..RenderOptions::default()
    };
    let reference = render(&preset, &options(64), |_, _| {}).unwrap();
    for block in [37, 512] {
        let other = render(&preset, &options(block), |_, _| {}).unwrap();
        assert!(
            reference.mix == other.mix && reference.stems == other.stems,
            "block {block} changes a render with a loop, a ramp and a key cycle"
        );
    }
}

#[test]
fn a_bad_trainer_flag_names_the_forms_it_accepts() {
    for (args, accepted) in [
        (
            &["--loop", "8-5"][..],
            "use FIRST-LAST, e.g. 5-8, or one bar, e.g. 3",
        ),
        (
            &["--loop", "1-99"][..],
            "'generique' has 24 bars: use FIRST-LAST or one bar, from 1 to 24",
        ),
        (&["--tempo-ramp", "4"][..], "use +STEP/EVERY, e.g. +4/2"),
        (&["--tempo-ramp", "-4/2"][..], "a ramp only speeds up"),
        (&["--tempo-max", "9999"][..], "use 30 to 360 BPM"),
        (
            &["--key-cycle", "thirds"][..],
            "[possible values: fourths, semitones]",
        ),
    ] {
        ascenseur()
            .args(["render", "generique", "-o", "/nonexistent/x.wav"])
            .args(args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(accepted));
    }
}

/// Générique looping bars 5-8 from 120 BPM, 10 BPM faster and a fourth up each pass, is
/// ten seconds into its second pass (F7 at 130 BPM) when the device goes away. The
/// engine built when it comes back carries on in the loop, the key and the tempo reached,
/// as its bass is heard from the first bar.
#[test]
fn a_resumed_engine_plays_on_in_the_loop_key_and_tempo_reached() {
    use ascenseur::io::manual::ManualDevice;
    use ascenseur::live::{
        AudioHost, Notice, Performance, RETRY_INTERVAL, Session, SessionSettings,
    };
    const RATE: u32 = 48_000;
    let device = ManualDevice::new(RATE, 64);
    let trainer = Trainer {
        form_loop: FormLoop::new(4, 7),
        ramp: Some(TempoRamp {
            step: 10.0,
            every: 1,
            max: 200.0,
        }),
        key_cycle: Some(KeyCycle::Fourths),
    };
    let preset = preset::find("generique").unwrap();
    let performance = Performance::new(vec![preset], 0, None, Some(120.0))
        .unwrap()
        .with_trainer(trainer, TempoRamp::default());
    let settings = SessionSettings {
        takes_dir: None,
        history: None,
        seed: 11,
        host: AudioHost::Manual(device.clone()),
        client_name: "unused".into(),
        connect: false,
    };
    let mut session = Session::start(settings, performance).unwrap();
    let play = |session: &mut Session, seconds: f64| {
        let mut bass = Vec::new();
        let mut done = 0;
        let frames = (seconds * f64::from(RATE)) as usize;
        while done < frames {
            let block = device.render(480).expect("the device plays");
            bass.extend(block.mono(Some(BASS)));
            done += block.mix.len() / 2;
            assert!(session.poll().is_none(), "unexpected notice");
        }
        bass
    };
    play(&mut session, 10.0);
    let heard = session.telemetry().unwrap().position;
    assert_eq!((heard.key_shift, heard.tempo), (5, 130.0), "{heard:?}");
    assert_eq!(
        session.performance().tempo(),
        130.0,
        "the ramp's tempo is kept"
    );

    device.unplug();
    assert!(matches!(session.poll(), Some(Notice::Lost(_))));
    device.plug_in();
    std::thread::sleep(RETRY_INTERVAL + std::time::Duration::from_millis(20));
    assert!(matches!(session.poll(), Some(Notice::Resumed { .. })));
    let heard = session.telemetry().unwrap().position;
    session.take_telemetry(|_| {});
    let bass = play(&mut session, 3.0);
    let mut first = None;
    session.take_telemetry(|t| {
        first.get_or_insert(t.position);
    });
    let first = first.expect("the new engine reports");
    // The bar after the last one heard: the loop's first after its last, in a new key
    // and a new tempo then.
    let wraps = heard.form_bar == 7;
    let (key_shift, tempo) = if wraps { (10, 140.0) } else { (5, 130.0) };
    assert_eq!(first.form_bar, heard.next_form_bar);
    assert_eq!((first.key_shift, first.tempo), (key_shift, tempo));
    assert!((4..=7).contains(&first.form_bar));

    // Heard: the bass walks on the new engine's grid at that tempo, in F Mixolydian (or
    // B♭ Mixolydian, a fourth up).
    let notes = bass_notes(&bass);
    let bar_s = 4.0 * 60.0 / f64::from(tempo);
    let in_first_bars: Vec<&Heard> = notes
        .iter()
        .filter(|n| (n.frame as f64 / f64::from(RATE)) < bar_s)
        .collect();
    assert!(
        in_first_bars.len() >= 3,
        "{} bass notes",
        in_first_bars.len()
    );
    let beat_s = 60.0 / f64::from(tempo);
    // C Mixolydian moved up the key shift.
    let mixolydian = [0, 2, 4, 5, 7, 9, 10].map(|s| PitchClass::new(i32::from(key_shift) + s));
    for note in &in_first_bars {
        let t = note.frame as f64 / f64::from(RATE);
        let off = (t / beat_s - (t / beat_s).round()).abs() * beat_s;
        assert!(
            off < 0.04,
            "a bass note {off:.3} s off the {tempo} BPM grid"
        );
    }
    let in_mode = in_first_bars
        .iter()
        .filter(|n| mixolydian.contains(&PitchClass::from_midi(n.midi as u8)))
        .count();
    eprintln!(
        "resumed at form bar {} in key shift {key_shift} at {tempo} BPM: {in_mode} of {} bass notes in the mode",
        first.form_bar + 1,
        in_first_bars.len()
    );
    assert!(in_mode + 1 >= in_first_bars.len());
    session.stop();
}
