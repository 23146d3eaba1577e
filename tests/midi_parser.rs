//! The MIDI byte parser feeding a real engine: whatever bytes arrive before it, in
//! whatever chunks, an all-notes-off on any channel leaves no key held and the lead
//! voice decays to silence; and a hundred thousand random bursts of bytes of every kind
//! leave the parser, the engine and its output sound.

use ascenseur::engine::{Engine, EngineController, InputEvent, TimedInput};
use ascenseur::io::midi::{MAX_SYSEX_LEN, MidiParser, PITCH_BEND_RANGE};
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

/// Cases the property test runs: each a burst of bytes, then an all-notes-off.
const PROPERTY_CASES: u32 = 100_000;
/// Frames per block in the property test: small, so that a hundred thousand cases (each
/// a few blocks) stay a few seconds of work.
const PROPERTY_BLOCK: usize = 32;

/// Most bytes delivered between two blocks in the property test: at most one event a
/// byte, half the input ring.
const PROPERTY_MAX_CHUNK: usize = 512;

/// Longest a released voice may take to fall silent (below -90 dBFS over a quarter of a
/// second): the longest releases (electric piano, held loud) fall about 30 dB a second,
/// so this is several times what any needs; a stuck note never gets there.
const MAX_RELEASE_SECONDS: usize = 12;
/// The window the silence is measured over: a quarter of a second.
const SILENCE_WINDOW: usize = 12_000;

/// What a case's bytes hold, counted over the whole run to show the generator reaches
/// every kind of input it claims to.
#[derive(Debug, Default)]
struct CaseKinds {
    sysex: u32,
    oversized_sysex: u32,
    truncated: u32,
    realtime: u32,
    running_status: u32,
    garbage: u32,
    channels: u16,
}

/// One case: a burst of MIDI as a wire or a driver may deliver it, of up to eight pieces
/// in a row: messages on any channel (often by running status), SysEx of any length
/// (empty, short, long, past the parser's bound; terminated or cut off by the next status
/// byte), messages cut short, runs of realtime bytes (also inside other messages), and
/// bytes of any value.
fn random_case(rng: &mut Pcg32, kinds: &mut CaseKinds) -> Vec<u8> {
    let mut bytes = Vec::new();
    for _ in 0..rng.random_range(1..=8) {
        let channel = rng.random_range(0..16u8);
        kinds.channels |= 1 << channel;
        match rng.random_range(0..100) {
            0..45 => {
                let messages = rng.random_range(1..6);
                bytes.extend(random_stream(rng, messages));
            }
            45..55 => {
                kinds.sysex += 1;
                let len = match rng.random_range(0..1000) {
                    0..800 => rng.random_range(0..64),
                    800..995 => rng.random_range(64..4096),
                    _ => {
                        kinds.oversized_sysex += 1;
                        rng.random_range(MAX_SYSEX_LEN - 2..=MAX_SYSEX_LEN + 2) as usize
                    }
                };
                bytes.push(0xF0);
                for _ in 0..len {
                    if rng.random_bool(0.01) {
                        bytes.push(rng.random_range(0xF8..=0xFF));
                    }
                    bytes.push(rng.random_range(0..0x80));
                }
                if rng.random_bool(0.6) {
                    bytes.push(0xF7);
                }
            }
            55..70 => {
                kinds.truncated += 1;
                // A status and fewer data bytes than it needs; whatever comes next (a
                // status byte, or the all-notes-off) cuts it off.
                let status = match rng.random_range(0..10) {
                    0 => rng.random_range(0xF1..=0xF3),
                    1..4 => 0x90 | channel,
                    _ => rng.random_range(0x80..=0xEF),
                };
                bytes.push(status);
                let needs = if matches!(status & 0xF0, 0xC0 | 0xD0) || matches!(status, 0xF1 | 0xF3)
                {
                    1
                } else {
                    2
                };
                bytes.extend((0..rng.random_range(0..needs)).map(|_| rng.random_range(0..0x80u8)));
                if rng.random_bool(0.5) {
                    // Then a complete message, which must not be mistaken for its data.
                    bytes.extend([
                        0x90 | channel,
                        rng.random_range(0..0x80),
                        rng.random_range(1..0x80),
                    ]);
                }
            }
            70..80 => {
                kinds.realtime += 1;
                bytes.extend((0..rng.random_range(1..16)).map(|_| rng.random_range(0xF8..=0xFF)));
            }
            80..90 => {
                kinds.garbage += 1;
                bytes.extend((0..rng.random_range(1..48)).map(|_| rng.random::<u8>()));
            }
            _ => {
                kinds.running_status += 1;
                // One status, then up to 32 messages' worth of data bytes.
                let status = match rng.random_range(0..4) {
                    0 => 0xB0 | channel,
                    1 => 0xC0 | channel,
                    _ => 0x90 | channel,
                };
                bytes.push(status);
                let data = rng.random_range(1..64);
                bytes.extend((0..data).map(|_| rng.random_range(0..0x80u8)));
            }
        }
    }
    bytes
}

/// One block of the property test's engine: its output, and the keys held after it.
fn property_block(
    engine: &mut Engine,
    controller: &mut EngineController,
    out: &mut [f32],
) -> [u64; 2] {
    engine.process(out);
    controller.collect_garbage();
    controller
        .latest_telemetry()
        .expect("telemetry every block")
        .held_keys
}

/// The index of the first sample that is NaN or infinite.
fn first_not_finite(samples: &[f32]) -> Option<usize> {
    samples.iter().position(|x| !x.is_finite())
}

/// A hundred thousand random bursts through one parser into one engine, each followed by
/// an all-notes-off (CC 123 or a channel-mode message, on any channel, sometimes with
/// realtime bytes inside it): the parser never panics and keeps every event in range,
/// the engine's output stays finite, no key is held after the all-notes-off, and the
/// lead voice falls silent whenever it is left alone.
#[test]
fn a_hundred_thousand_random_streams_end_with_every_note_released() {
    let mut rng = Pcg32::seed_from_u64(0x0A5C_E45E);
    let (mut engine, mut controller) = Engine::lead_only();
    let mut parser = MidiParser::new();
    let mut out = vec![0.0f32; 2 * PROPERTY_BLOCK];
    let mut kinds = CaseKinds::default();
    let mut cases_holding_keys = 0u32;
    let mut events = 0u64;
    let mut bytes_fed = 0u64;
    let mut silences_checked = 0;
    let mut longest_release = 0;
    for case in 0..PROPERTY_CASES {
        let stream = random_case(&mut rng, &mut kinds);
        bytes_fed += stream.len() as u64;
        let mut rest = &stream[..];
        let mut held = [0, 0];
        while !rest.is_empty() {
            let (chunk, tail) =
                rest.split_at(rng.random_range(1..=PROPERTY_MAX_CHUNK).min(rest.len()));
            rest = tail;
            let frame = engine.clock();
            parser.feed(chunk, |event| {
                events += 1;
                match event {
                    InputEvent::NoteOn { key, velocity } => {
                        assert!(
                            key <= 127 && velocity > 0.0 && velocity <= 1.0,
                            "case {case}: {event:?}"
                        )
                    }
                    InputEvent::NoteOff { key } | InputEvent::Program(key) => {
                        assert!(key <= 127, "case {case}: {event:?}")
                    }
                    InputEvent::Modulation(m) => {
                        assert!((0.0..=1.0).contains(&m), "case {case}: {event:?}")
                    }
                    InputEvent::PitchBend(b) => assert!(
                        b.is_finite() && b.abs() <= PITCH_BEND_RANGE,
                        "case {case}: {event:?}"
                    ),
                    InputEvent::Sustain(_) | InputEvent::AllNotesOff | InputEvent::AllSoundOff => {}
                }
                controller
                    .play(TimedInput { frame, event })
                    .expect("the input ring has room for a chunk's events");
            });
            held = property_block(&mut engine, &mut controller, &mut out);
            if let Some(i) = first_not_finite(&out) {
                panic!("case {case}: sample {i} is {} after {stream:02X?}", out[i]);
            }
        }
        cases_holding_keys += u32::from(held != [0, 0]);

        let channel = rng.random_range(0..16u8);
        let mode = if rng.random_bool(0.8) {
            123
        } else {
            rng.random_range(124..=127)
        };
        let mut ending = vec![0xB0 | channel, mode, 0];
        if rng.random_bool(0.2) {
            ending.insert(rng.random_range(1..=3), rng.random_range(0xF8..=0xFF));
        }
        let mut ended = false;
        let frame = engine.clock();
        parser.feed(&ending, |event| {
            ended = event == InputEvent::AllNotesOff;
            controller.play(TimedInput { frame, event }).unwrap();
        });
        assert!(
            ended,
            "case {case}: {ending:02X?} after {stream:02X?} was not read as all-notes-off"
        );
        let held = property_block(&mut engine, &mut controller, &mut out);
        assert_eq!(
            held,
            [0, 0],
            "case {case}: keys held after all-notes-off, after {stream:02X?}"
        );
        if let Some(i) = first_not_finite(&out) {
            panic!("case {case}: sample {i} is {} after all-notes-off", out[i]);
        }

        // Now and then, leave the voice alone: its release rings out, then silence.
        if case % 2_000 == 1_999 {
            silences_checked += 1;
            let mut window = Vec::with_capacity(SILENCE_WINDOW);
            let mut rendered = 0;
            loop {
                let held = property_block(&mut engine, &mut controller, &mut out);
                assert_eq!(held, [0, 0], "case {case}");
                if let Some(i) = first_not_finite(&out) {
                    panic!(
                        "case {case}: sample {i}, {rendered} frames into the release, is {}",
                        out[i]
                    );
                }
                rendered += PROPERTY_BLOCK;
                window.extend(out.iter().step_by(2));
                if window.len() < SILENCE_WINDOW {
                    continue;
                }
                let level = peak_dbfs(&window);
                if level < -90.0 {
                    longest_release = longest_release.max(rendered);
                    break;
                }
                assert!(
                    rendered < MAX_RELEASE_SECONDS * 48_000,
                    "case {case}: the lead still sounds {level:.1} dBFS {MAX_RELEASE_SECONDS} s after all-notes-off"
                );
                window.clear();
            }
        }
    }
    eprintln!(
        "{PROPERTY_CASES} cases, {bytes_fed} bytes, {events} events; {cases_holding_keys} cases held keys at their all-notes-off; {silences_checked} releases fell silent, the longest in {:.2} s; {kinds:?}",
        longest_release as f64 / 48_000.0
    );
    // The generator reaches what it claims to: keys held, every channel, every kind.
    assert!(
        cases_holding_keys > PROPERTY_CASES / 4,
        "{cases_holding_keys}"
    );
    assert_eq!(kinds.channels, u16::MAX);
    assert!(kinds.oversized_sysex >= 10, "{kinds:?}");
    assert!(
        kinds.sysex > 10_000 && kinds.truncated > 10_000 && kinds.garbage > 10_000,
        "{kinds:?}"
    );
}
