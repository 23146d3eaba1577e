//! The engine driven by hand: player input lands on its frame, nothing sticks, a full
//! ring drops and counts instead of waiting.

use ascenseur::band::{Arrangement, Player};
use ascenseur::engine::{Command, Engine, EngineConfig, INPUT_CAPACITY, InputEvent, TimedInput};
use ascenseur::preset;
use ascenseur_analysis::{first_sample_above, rms_dbfs};

/// Render `frames` frames in blocks of `block`, returning the lead stem's left channel.
fn render_lead(engine: &mut Engine, frames: usize, block: usize) -> Vec<f32> {
    let mut lead = Vec::with_capacity(frames);
    let mut out = vec![0.0; 2 * block];
    let mut stems: [Vec<f32>; 5] = std::array::from_fn(|_| vec![0.0; 2 * block]);
    let mut done = 0;
    while done < frames {
        let n = block.min(frames - done);
        engine.process_with_stems(
            &mut out[..2 * n],
            &mut stems.each_mut().map(|s| &mut s[..2 * n]),
        );
        lead.extend(stems[3][..2 * n].iter().step_by(2));
        done += n;
    }
    lead
}

#[test]
fn a_note_sounds_at_its_frame_inside_a_block() {
    for (program, (frame, block)) in [(1000u64, 512usize), (333, 64), (4097, 4096), (2, 32)]
        .into_iter()
        .enumerate()
    {
        let (mut engine, mut controller) = Engine::lead_only();
        // Every lead voice: harmon trumpet, open trumpet, tenor sax, electric piano.
        let program = program as u8;
        controller
            .play(TimedInput {
                frame: 0,
                event: InputEvent::Program(program),
            })
            .unwrap();
        controller
            .play(TimedInput {
                frame,
                event: InputEvent::NoteOn {
                    key: 62,
                    velocity: 0.9,
                },
            })
            .unwrap();
        let lead = render_lead(&mut engine, 20_000, block);
        let first = first_sample_above(&lead, -50.0).expect("the note sounds") as u64;
        assert!(
            first >= frame,
            "sounded at {first}, before its frame {frame}"
        );
        assert!(
            first - frame <= 4,
            "voice {program}, frame {frame}, block {block}: sounded {} frames late",
            first - frame
        );
    }
}

#[test]
fn the_sustain_pedal_holds_notes_and_lets_them_go_when_it_comes_up() {
    let (mut engine, mut controller) = Engine::lead_only();
    let mut play = |frame, event| controller.play(TimedInput { frame, event }).unwrap();
    play(0, InputEvent::Sustain(true));
    for (i, key) in [50u8, 57, 62, 65, 69].into_iter().enumerate() {
        play(10 + i as u64, InputEvent::NoteOn { key, velocity: 0.7 });
        play(4000 + i as u64, InputEvent::NoteOff { key });
    }
    let held = render_lead(&mut engine, 24_000, 256);
    assert!(
        rms_dbfs(&held[20_000..]) > -40.0,
        "the pedal should hold the notes"
    );
    controller
        .play(TimedInput {
            frame: 24_000,
            event: InputEvent::Sustain(false),
        })
        .unwrap();
    let after = render_lead(&mut engine, 48_000, 256);
    assert!(
        rms_dbfs(&after[24_000..]) < -90.0,
        "notes still sound after the pedal came up"
    );
}

#[test]
fn all_notes_off_leaves_nothing_hanging() {
    let (mut engine, mut controller) = Engine::lead_only();
    controller
        .play(TimedInput {
            frame: 0,
            event: InputEvent::NoteOn {
                key: 60,
                velocity: 0.8,
            },
        })
        .unwrap();
    controller
        .play(TimedInput {
            frame: 8_000,
            event: InputEvent::AllNotesOff,
        })
        .unwrap();
    let tail = render_lead(&mut engine, 48_000, 128);
    assert!(rms_dbfs(&tail[..8_000]) > -40.0);
    assert!(
        rms_dbfs(&tail[32_000..]) < -90.0,
        "a note survived all-notes-off"
    );
}

/// Fill the input ring three times over at frame 0: how many events it refused.
fn flood(controller: &mut ascenseur::engine::EngineController) -> usize {
    let mut refused = 0;
    for i in 0..3 * INPUT_CAPACITY {
        let event = if i % 2 == 0 {
            InputEvent::NoteOn {
                key: 60 + (i % 24) as u8,
                velocity: 0.5,
            }
        } else {
            InputEvent::NoteOff {
                key: 60 + (i % 24) as u8,
            }
        };
        if controller.play(TimedInput { frame: 0, event }).is_err() {
            refused += 1;
        }
    }
    refused
}

#[test]
fn a_flood_of_input_is_dropped_and_counted_never_waited_for() {
    let (mut engine, mut controller) = Engine::lead_only();
    let refused = flood(&mut controller);
    assert_eq!(
        refused,
        2 * INPUT_CAPACITY,
        "the ring holds exactly its capacity"
    );
    render_lead(&mut engine, 256, 256);
    let telemetry = controller.latest_telemetry().expect("telemetry");
    assert_eq!(telemetry.notes_played, INPUT_CAPACITY as u64 / 2);
}

#[test]
fn all_sound_off_silences_a_flood_at_once() {
    let (mut engine, mut controller) = Engine::lead_only();
    flood(&mut controller);
    render_lead(&mut engine, 256, 256);
    controller
        .play(TimedInput {
            frame: 0,
            event: InputEvent::AllSoundOff,
        })
        .unwrap();
    let after = render_lead(&mut engine, 4_800, 256);
    assert!(
        after[256..].iter().all(|&x| x == 0.0),
        "all-sound-off leaves silence"
    );
}

/// Florence with `command` sent before the first block, played for 6 s: the last
/// telemetry.
fn florence_after(command: Command) -> ascenseur::engine::Telemetry {
    let preset = preset::find("florence-sur-les-champs-elysees").unwrap();
    let arrangement = Arrangement::new(&preset, None).unwrap();
    let (mut engine, mut controller) = Engine::new(EngineConfig::default(), arrangement);
    let mut out = vec![0.0; 2 * 256];
    controller.send(command).unwrap();
    let mut telemetry = None;
    for _ in 0..(48_000 * 6 / 256) {
        engine.process(&mut out);
        // The console drains telemetry every frame; so does this test.
        telemetry = controller.latest_telemetry().or(telemetry);
    }
    telemetry.unwrap()
}

#[test]
fn a_tempo_command_changes_the_tempo_at_the_bar_line() {
    let telemetry = florence_after(Command::SetTempo(180.0));
    assert_eq!(telemetry.tempo, 180.0);
    // The command arrived before the first bar was planned: bars of 4/3 s from the
    // start, so 6 s (minus the last block) is in bar index 4 (0-based).
    assert_eq!(telemetry.position.bar, 4);
}

#[test]
fn a_mute_command_silences_that_player_only() {
    let telemetry = florence_after(Command::SetMute(Player::Drums, true));
    assert_eq!(telemetry.mute, [false, true, false]);
    assert_eq!(telemetry.stem_peaks[1], 0.0, "muted drums are silent");
    assert!(telemetry.stem_peaks[0] > 0.0, "the bass plays on");
}

#[test]
fn letting_go_of_a_slurred_note_returns_to_the_key_still_held() {
    let (mut engine, mut controller) = Engine::lead_only();
    let mut play = |frame, event| controller.play(TimedInput { frame, event }).unwrap();
    play(
        0,
        InputEvent::NoteOn {
            key: 60,
            velocity: 0.8,
        },
    );
    play(
        9_600,
        InputEvent::NoteOn {
            key: 64,
            velocity: 0.8,
        },
    );
    play(28_800, InputEvent::NoteOff { key: 64 });
    play(48_000, InputEvent::NoteOff { key: 60 });
    let lead = render_lead(&mut engine, 96_000, 256);
    let pitch_at = |seconds: f32| {
        let start = (seconds * 48_000.0) as usize;
        ascenseur_analysis::estimate_pitch(&lead[start..start + 4_800], 48_000.0, 150.0, 1_000.0)
            .map(|p| p.midi.round() as i32)
    };
    assert_eq!(pitch_at(0.08), Some(60), "the first note");
    assert_eq!(pitch_at(0.45), Some(64), "the slur up");
    assert_eq!(pitch_at(0.80), Some(60), "back to the key still held");
    assert!(
        rms_dbfs(&lead[84_000..]) < -60.0,
        "the note ends when the last key is let go"
    );
}

/// Render `frames` frames in 64-frame blocks, returning every telemetry snapshot.
fn run_for(
    engine: &mut Engine,
    controller: &mut ascenseur::engine::EngineController,
    frames: u64,
) -> Vec<ascenseur::engine::Telemetry> {
    let mut out = vec![0.0; 128];
    let mut seen = Vec::new();
    let end = engine.clock() + frames;
    while engine.clock() < end {
        engine.process(&mut out);
        controller.drain_telemetry(|t| seen.push(t));
    }
    seen
}

#[test]
fn stop_silences_the_band_and_start_plays_from_bar_one_after_a_count_in() {
    use ascenseur::engine::Transport;
    let preset = preset::find("generique").unwrap();
    let arrangement = Arrangement::new(&preset, None).unwrap();
    let (mut engine, mut controller) = Engine::new(EngineConfig::default(), arrangement);
    let bar = engine.bar_start(1);
    run_for(&mut engine, &mut controller, bar * 2 + bar / 2);
    controller.send(Command::Stop).unwrap();
    let stopped = run_for(&mut engine, &mut controller, 48_000 * 3);
    assert!(stopped.iter().all(|t| t.transport == Transport::Stopped));
    // Tails ring out, then nothing: the band plans no more bars.
    let last = stopped.last().unwrap();
    assert!(
        last.stem_peaks[..3].iter().all(|&p| p < 0.01),
        "{:?}",
        last.stem_peaks
    );

    // The lead still plays while stopped, and its notes are reported outside the form.
    controller
        .play(TimedInput {
            frame: engine.clock(),
            event: InputEvent::NoteOn {
                key: 62,
                velocity: 0.8,
            },
        })
        .unwrap();
    let seen = run_for(&mut engine, &mut controller, 640);
    let onset = seen
        .iter()
        .flat_map(|t| t.onsets().to_vec())
        .next()
        .expect("an onset");
    assert_eq!((onset.key, onset.in_form), (62, false));
    controller
        .play(TimedInput {
            frame: engine.clock(),
            event: InputEvent::NoteOff { key: 62 },
        })
        .unwrap();

    controller.send(Command::SetCountIn(true)).unwrap();
    controller.send(Command::Start).unwrap();
    let started_at = engine.clock();
    let counting = run_for(&mut engine, &mut controller, bar + 64 * 10);
    let count_in: Vec<f32> = counting
        .iter()
        .filter_map(|t| match t.transport {
            Transport::CountIn { beat } => Some(beat),
            _ => None,
        })
        .collect();
    assert!(!count_in.is_empty() && count_in.iter().all(|b| (0.0..4.0).contains(b)));
    // Clicks sound during the count-in even though nothing else does.
    assert!(
        counting
            .iter()
            .take(count_in.len())
            .any(|t| t.stem_peaks[1] > 0.05)
    );
    assert!(
        counting
            .iter()
            .take(count_in.len())
            .all(|t| t.stem_peaks[0] < 1e-3)
    );
    // Then bar 1 of the form, a bar after Start.
    let first_playing = counting
        .iter()
        .find(|t| t.transport == Transport::Playing)
        .expect("the form starts");
    assert_eq!(first_playing.position.bar, 0);
    let spb = bar / 4;
    assert!(
        first_playing.frame >= started_at + bar && first_playing.frame < started_at + bar + spb
    );
    assert!(counting.last().unwrap().count_in);

    // Without the count-in, Start plays bar 1 at once.
    controller.send(Command::Stop).unwrap();
    controller.send(Command::SetCountIn(false)).unwrap();
    controller.send(Command::Start).unwrap();
    let seen = run_for(&mut engine, &mut controller, 64);
    assert_eq!(seen[0].transport, Transport::Playing);
    assert_eq!(seen[0].position.bar, 0);
}

#[test]
fn every_note_on_is_reported_with_where_the_music_was() {
    let (mut engine, mut controller) = Engine::lead_only();
    let at = engine.bar_start(2) + engine.bar_start(1) / 2;
    for (i, key) in [60u8, 64, 67].iter().enumerate() {
        controller
            .play(TimedInput {
                frame: at + i as u64,
                event: InputEvent::NoteOn {
                    key: *key,
                    velocity: 0.7,
                },
            })
            .unwrap();
    }
    let seen = run_for(&mut engine, &mut controller, at + 256);
    let onsets: Vec<_> = seen.iter().flat_map(|t| t.onsets().to_vec()).collect();
    assert_eq!(
        onsets.iter().map(|o| o.key).collect::<Vec<_>>(),
        [60, 64, 67]
    );
    assert_eq!(onsets[0].frame, at);
    assert_eq!(onsets[0].position.bar, 2);
    assert!(
        (onsets[0].position.beat - 2.0).abs() < 0.01,
        "{:?}",
        onsets[0].position
    );
    assert!(onsets.iter().all(|o| o.in_form));
    assert!(seen.last().unwrap().is_held(64));
}
