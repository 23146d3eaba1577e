//! The MIDI byte parser feeding a real engine: whatever bytes arrive before it, in
//! whatever chunks, an all-notes-off on any channel leaves no key held and the lead
//! voice decays to silence.

use ascenseur::engine::{Engine, EngineController, InputEvent, TimedInput};
use ascenseur::io::midi::MidiParser;
use ascenseur_analysis::{peak_dbfs, rms_dbfs};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;

const BLOCK: usize = 256;
/// Most bytes delivered between two blocks: well under the input ring's capacity, so
/// nothing is dropped and every parsed event reaches the engine.
const MAX_CHUNK: usize = 96;

/// One block through the engine, returning the lead stem's left channel and the
/// block's telemetry (drained every block, as the console does).
fn block(engine: &mut Engine, controller: &mut EngineController) -> (Vec<f32>, [u64; 2], u64) {
    let mut out = vec![0.0; 2 * BLOCK];
    let mut stems: [Vec<f32>; 5] = std::array::from_fn(|_| vec![0.0; 2 * BLOCK]);
    let [b, d, p, l, h] = &mut stems;
    engine.process_with_stems(&mut out, &mut [b, d, p, l, h]);
    let telemetry = controller
        .latest_telemetry()
        .expect("telemetry every block");
    let lead = stems[3].iter().step_by(2).copied().collect();
    (lead, telemetry.held_keys, telemetry.notes_played)
}

/// A MIDI stream a bad day could produce: mostly notes (often by running status), with
/// pedal, bends, program changes, realtime bytes wedged inside messages, SysEx that may
/// never end, system common, and bytes lost or garbled on the way.
fn random_stream(rng: &mut Pcg32, messages: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for _ in 0..messages {
        let channel = rng.random_range(0..16u8);
        let key = rng.random_range(36..96u8);
        let mut message = match rng.random_range(0..100) {
            0..40 => vec![0x90 | channel, key, rng.random_range(1..128)],
            // Running status: a bare key and velocity.
            40..55 => vec![key, rng.random_range(0..128)],
            55..70 => vec![0x80 | channel, key, 64],
            70..75 => vec![0x90 | channel, key, 0],
            75..80 => vec![0xB0 | channel, 64, rng.random_range(0..128)],
            80..84 => vec![
                0xE0 | channel,
                rng.random_range(0..128),
                rng.random_range(0..128),
            ],
            84..86 => vec![0xC0 | channel, rng.random_range(0..8)],
            86..89 => vec![0xB0 | channel, 1, rng.random_range(0..128)],
            89..92 => {
                let mut sysex = vec![0xF0];
                sysex.extend((0..rng.random_range(0..40)).map(|_| rng.random_range(0..0x80u8)));
                // Often unterminated: the next status byte must end it.
                if rng.random_bool(0.5) {
                    sysex.push(0xF7);
                }
                sysex
            }
            92..95 => vec![0xF2, rng.random_range(0..128), rng.random_range(0..128)],
            95..97 => vec![0xD0 | channel, rng.random_range(0..128)],
            _ => (0..rng.random_range(1..4)).map(|_| rng.random()).collect(),
        };
        // Realtime bytes anywhere, even inside the message.
        while rng.random_bool(0.2) {
            let at = rng.random_range(0..=message.len());
            message.insert(at, rng.random_range(0xF8..=0xFF));
        }
        // Now and then a byte lost on the wire.
        if rng.random_bool(0.03) {
            message.remove(rng.random_range(0..message.len()));
        }
        bytes.extend(message);
    }
    bytes
}

/// Play `stream` then `ending` through one parser into an engine, in random chunks, one
/// chunk per block; return the events the parser made of `ending` and what the engine
/// did: keys held when `ending` arrived, held keys after each later block and the lead
/// stem.
fn play(seed: u64, ending: &[u8]) -> (Vec<InputEvent>, u32, Vec<[u64; 2]>, Vec<f32>) {
    let mut rng = Pcg32::seed_from_u64(seed);
    let (mut engine, mut controller) = Engine::lead_only();
    let mut parser = MidiParser::new();
    let stream = random_stream(&mut rng, 600);
    let mut rest = &stream[..];
    let mut most_held = 0;
    let mut notes_played = 0;
    let mut held_at_end = 0;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rng.random_range(0..=MAX_CHUNK).min(rest.len()));
        rest = tail;
        // Stamped with the engine clock: the start of the next block.
        let frame = engine.clock();
        parser.feed(chunk, |event| {
            controller
                .play(TimedInput { frame, event })
                .expect("the input ring has room for a chunk's events");
        });
        let (_, held, played) = block(&mut engine, &mut controller);
        held_at_end = held[0].count_ones() + held[1].count_ones();
        most_held = most_held.max(held_at_end);
        notes_played = played;
    }
    assert!(
        most_held >= 3 && notes_played >= 100,
        "seed {seed}: the stream should play: {notes_played} notes, at most {most_held} held"
    );

    let mut ending_events = Vec::new();
    let frame = engine.clock();
    parser.feed(ending, |event| {
        ending_events.push(event);
        controller.play(TimedInput { frame, event }).unwrap();
    });
    let mut held_after = Vec::new();
    let mut lead = Vec::new();
    for _ in 0..(3 * 48_000 / BLOCK) {
        let (stem, held, _) = block(&mut engine, &mut controller);
        held_after.push(held);
        lead.extend(stem);
    }
    (ending_events, held_at_end, held_after, lead)
}

fn assert_all_released(seed: u64, held_after: &[[u64; 2]], lead: &[f32]) {
    assert!(
        held_after.iter().all(|&held| held == [0, 0]),
        "seed {seed}: keys still held after all-notes-off: {:?}",
        held_after.iter().find(|&&h| h != [0, 0])
    );
    // Released notes ring out their release, then nothing: the last second is silent.
    let tail = &lead[lead.len() - 48_000..];
    assert!(
        peak_dbfs(tail) < -90.0,
        "seed {seed}: the lead still sounds {:.1} dBFS (peak) after all-notes-off",
        peak_dbfs(tail)
    );
    assert!(rms_dbfs(tail) < -100.0, "seed {seed}");
}

#[test]
fn every_note_is_released_after_all_notes_off_whatever_came_before() {
    let mut seeds_holding_keys = 0;
    for seed in 0..12u64 {
        let channel = (seed * 5 % 16) as u8;
        let (events, held_before, held_after, lead) = play(seed, &[0xB0 | channel, 123, 0]);
        seeds_holding_keys += usize::from(held_before > 0);
        // The stream may have stopped mid-message or inside a SysEx: the status byte
        // resynchronises the parser, so the controller is always understood.
        assert_eq!(events, vec![InputEvent::AllNotesOff], "seed {seed}");
        assert_all_released(seed, &held_after, &lead);
    }
    assert!(
        seeds_holding_keys >= 8,
        "most streams should end with keys down for all-notes-off to release: {seeds_holding_keys} of 12"
    );
}

#[test]
fn channel_mode_messages_also_release_every_note() {
    // Omni off, omni on, mono, poly: each implies all-notes-off.
    for (seed, mode) in (100u64..).zip(124..=127u8) {
        let (events, _, held_after, lead) = play(seed, &[0xB9, 0xF8, mode, 0xFE, 0]);
        assert_eq!(events, vec![InputEvent::AllNotesOff], "CC {mode}");
        assert_all_released(seed, &held_after, &lead);
    }
}
