//! The real-time contract, checked mechanically: the whole engine, for every preset,
//! with random MIDI bursts and UI commands, never touches the allocator.

use ascenseur::band::{Arrangement, Player};
use ascenseur::engine::{Command, Engine, EngineConfig, InputEvent, TimedInput};
use ascenseur::preset::{self, LeadInstrument};
use assert_no_alloc::{AllocDisabler, assert_no_alloc, reset_violation_count, violation_count};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

fn random_event(rng: &mut Pcg32) -> InputEvent {
    match rng.random_range(0..20) {
        0..=8 => InputEvent::NoteOn {
            key: rng.random_range(40..96),
            velocity: rng.random_range(0.05..1.0),
        },
        9..=15 => InputEvent::NoteOff {
            key: rng.random_range(40..96),
        },
        16 => InputEvent::Sustain(rng.random_bool(0.5)),
        17 => InputEvent::PitchBend(rng.random_range(-2.0..2.0)),
        18 => InputEvent::Modulation(rng.random_range(0.0..1.0)),
        _ => InputEvent::Program(rng.random_range(0..4)),
    }
}

#[test]
fn every_preset_renders_32_bars_with_midi_bursts_without_allocating() {
    let mut rng = Pcg32::seed_from_u64(7);
    for (name, _) in preset::builtin() {
        let preset = preset::find(name).expect("built-in preset");
        let arrangement = Arrangement::new(&preset, None).expect("arrangement");
        let spare = Box::new(arrangement.clone());
        let (mut engine, mut controller) = Engine::new(EngineConfig::default(), arrangement);
        let end = engine.bar_start(32);
        let mut buffer = vec![0.0f32; 2 * 1024];
        let mut spare = Some(spare);
        reset_violation_count();
        let mut blocks = 0u64;
        while engine.clock() < end {
            // A burst of player input inside the next block.
            let block = [32usize, 64, 128, 256, 512, 1024][rng.random_range(0..6)];
            if rng.random_bool(0.3) {
                for _ in 0..rng.random_range(1..64) {
                    let frame = engine.clock() + rng.random_range(0..block as u64);
                    let _ = controller.play(TimedInput {
                        frame,
                        event: random_event(&mut rng),
                    });
                }
            }
            if rng.random_bool(0.02) {
                let command = match rng.random_range(0..7) {
                    0 => Command::SetTempo(rng.random_range(50.0..300.0)),
                    1 => {
                        Command::SetMute(Player::ALL[rng.random_range(0..3)], rng.random_bool(0.5))
                    }
                    2 => Command::SetLead(
                        LeadInstrument::ALL[rng.random_range(0..LeadInstrument::ALL.len())],
                    ),
                    3 => Command::Stop,
                    4 => Command::Start,
                    5 => Command::SetCountIn(rng.random_bool(0.5)),
                    _ => match spare.take() {
                        Some(arrangement) => Command::Load(arrangement),
                        None => Command::Restart,
                    },
                };
                let _ = controller.send(command);
            }
            assert_no_alloc(|| engine.process(&mut buffer[..2 * block]));
            assert!(
                buffer[..2 * block].iter().all(|x| x.is_finite()),
                "{name}: non-finite output"
            );
            // Old arrangements come back here and are dropped off the audio thread.
            controller.collect_garbage();
            controller.latest_telemetry();
            blocks += 1;
        }
        let _ = controller.play(TimedInput {
            frame: 0,
            event: InputEvent::AllSoundOff,
        });
        assert_no_alloc(|| engine.process(&mut buffer[..128]));
        assert_eq!(
            violation_count(),
            0,
            "{name}: the engine allocated or freed during {blocks} blocks"
        );
    }
}
