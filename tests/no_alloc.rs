//! The real-time contract, checked mechanically: the audio callbacks — cpal's data
//! callback driven by hand for every preset with MIDI bursts and UI commands, and the
//! JACK process callback on a real server flooded with MIDI — never touch the allocator.
//!
//! This binary's allocator is assert_no_alloc's detector, counting (not aborting) every
//! allocation or free made inside an allocation-free region, on any thread. The detector
//! is first shown to fire, on this thread, on another, and inside the drivers' callback
//! edge, before any zero it reports is trusted.
//!
//! One scenario per test, run one at a time: they share the counter, the process-wide
//! panic request and the environment (JACK_DEFAULT_SERVER), so none may run beside
//! another. Each test that trusts a zero first sees the detector fire.

#[path = "support/jack_server.rs"]
mod jack_server;

use ascenseur::band::{Arrangement, FormLoop, KeyCycle, Player, TempoRamp, Trainer};
use ascenseur::engine::journal::JournalEntry;
use ascenseur::engine::{
    COMMAND_CAPACITY, Command, Engine, EngineConfig, EngineController, InputEvent, Playback,
};
use ascenseur::io::cpal_out::OutputRenderer;
use ascenseur::io::driver::{
    CallbackEdge, DriverStatus, cost_log, drain_costs, request_audio_panic,
};
use ascenseur::io::jack::{StartOptions, open_client, start};
use ascenseur::io::live_input::{LiveInput, MidiTiming};
use ascenseur::preset::{self, LeadInstrument};
use assert_no_alloc::{AllocDisabler, assert_no_alloc, violation_count};
use cpal::{OutputCallbackInfo, OutputStreamTimestamp, StreamInstant};
use jack_server::{JackServer, jack_scenario, one_at_a_time, unique};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Allocations and frees inside allocation-free regions, on every thread.
static VIOLATIONS: AtomicU64 = AtomicU64::new(0);

/// assert_no_alloc's allocator, whose count is per thread, with a count for the whole
/// process on top: the JACK callback runs on a thread of the JACK library's.
struct Detector;

// SAFETY: every call is forwarded unchanged to AllocDisabler (the system allocator
// behind a check); the wrapper only reads a thread-local counter and bumps an atomic.
unsafe impl GlobalAlloc for Detector {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let before = violation_count();
        // SAFETY: the caller upholds `alloc`'s contract, which is passed on as is.
        let block = unsafe { AllocDisabler.alloc(layout) };
        if violation_count() != before {
            VIOLATIONS.fetch_add(1, Ordering::Relaxed);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let before = violation_count();
        // SAFETY: the caller upholds `dealloc`'s contract, which is passed on as is.
        unsafe { AllocDisabler.dealloc(block, layout) };
        if violation_count() != before {
            VIOLATIONS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[global_allocator]
static ALLOCATOR: Detector = Detector;

fn violations() -> u64 {
    VIOLATIONS.load(Ordering::Relaxed)
}

/// One allocation and its free: two violations inside a region.
fn allocate_one() {
    drop(black_box(Vec::<u8>::with_capacity(1)));
}

/// The detector fires on a deliberate allocation in a region on this thread.
fn assert_the_detector_fires() {
    let before = violations();
    assert_no_alloc(allocate_one);
    assert_eq!(violations(), before + 2, "the detector is not active");
}

#[test]
fn the_detector_counts_on_every_thread() {
    let _alone = one_at_a_time();
    let before = violations();
    allocate_one();
    assert_eq!(violations(), before, "counted outside a region");
    assert_no_alloc(allocate_one);
    assert_eq!(violations(), before + 2, "the detector is not active");
    std::thread::spawn(|| assert_no_alloc(allocate_one))
        .join()
        .expect("thread");
    assert_eq!(
        violations(),
        before + 4,
        "the detector does not count on other threads"
    );
}

fn edge(status: &DriverStatus) -> CallbackEdge<'_> {
    CallbackEdge {
        status,
        costs: None,
        frames: 4,
        sample_rate: 48_000,
    }
}

#[test]
fn the_callback_edge_checks_everything_it_runs() {
    let _alone = one_at_a_time();
    let status = DriverStatus::default();
    let mut out = [0.0f32; 8];
    let before = violations();
    edge(&status).run(&mut out, |_, _| allocate_one(), |_| {});
    assert_eq!(violations(), before + 2, "rendering is not checked");
    // The test panic's own message is allowed; what the callback does after is not.
    request_audio_panic();
    edge(&status).run(&mut out, |_, _| {}, |_| {});
    assert!(status.has_panicked());
    assert_eq!(violations(), before + 2, "the requested panic was counted");
    edge(&status).run(&mut out, |_, _| {}, |_| allocate_one());
    assert_eq!(violations(), before + 4, "silence is not checked");
    // What the edge does around the regions (the thread's mark, the floating-point
    // modes) allocates nothing either, even on a thread's first callback.
    std::thread::spawn(|| {
        let status = DriverStatus::default();
        let mut out = [0.0f32; 8];
        assert_no_alloc(|| edge(&status).run(&mut out, |out, _| out.fill(0.5), |_| {}));
    })
    .join()
    .expect("thread");
    assert_eq!(violations(), before + 4, "the edge itself allocates");
}

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

/// A two-bar loop at the end of the form, a ramp and a key cycle: a new key (every chord
/// slot moved on the audio thread) and a new tempo every other bar.
fn busy_trainer(form_bars: u32) -> Trainer {
    Trainer {
        form_loop: FormLoop::new(form_bars.saturating_sub(2), form_bars - 1),
        ramp: Some(TempoRamp {
            step: 3.0,
            every: 1,
            max: 300.0,
        }),
        key_cycle: Some(KeyCycle::Fourths),
    }
}

/// Three bars of `arrangement` as an engine played them, journaled, with a player's
/// notes (one held over the end, under the sustain pedal): what the console's `p` plays.
fn recorded_playback(arrangement: &Arrangement) -> Playback {
    let (mut engine, mut controller) = Engine::new(EngineConfig::default(), arrangement.clone());
    let end = engine.bar_start(4) as usize;
    let mut out = vec![0.0f32; 2 * end];
    engine.process(&mut out);
    let (mut bars, mut band) = (Vec::new(), Vec::new());
    controller.drain_journal(|entry| match entry {
        JournalEntry::Bar(line) => bars.push(line),
        JournalEntry::Band { frame, sound } => band.push((frame, sound)),
        _ => {}
    });
    bars.truncate(3);
    let first = bars[0].start as u64;
    let beat = bars[0].samples_per_beat as u64;
    let mut player = vec![(first, InputEvent::Sustain(true))];
    for (i, key) in (60u8..84).enumerate() {
        let at = first + i as u64 * beat / 2;
        player.push((at, InputEvent::NoteOn { key, velocity: 0.7 }));
        if key != 83 {
            player.push((at + beat / 3, InputEvent::NoteOff { key }));
        }
    }
    Playback::new(bars, &band, &player, 48_000.0).expect("bars to play back")
}

fn random_command(
    rng: &mut Pcg32,
    spare: &mut Option<Box<Arrangement>>,
    playback: &Playback,
) -> Command {
    match rng.random_range(0..12) {
        9 => Command::PlayBack(Box::new(playback.clone())),
        10 if rng.random_bool(0.5) => Command::StopPlayback,
        10 => Command::SetTrade([0, 2, 4, 8][rng.random_range(0..4)]),
        0 => Command::SetTempo(rng.random_range(50.0..300.0)),
        1 => Command::SetMute(Player::ALL[rng.random_range(0..3)], rng.random_bool(0.5)),
        2 => Command::SetLead(LeadInstrument::ALL[rng.random_range(0..LeadInstrument::ALL.len())]),
        3 => Command::Stop,
        4 => Command::Start,
        5 => Command::SetCountIn(rng.random_bool(0.5)),
        6 => Command::SetLoop(rng.random_bool(0.5).then(|| FormLoop {
            first: 0,
            last: rng.random_range(0..4),
        })),
        7 => Command::SetTempoRamp(rng.random_bool(0.5).then(TempoRamp::default)),
        8 => Command::SetKeyCycle(rng.random_bool(0.7).then_some(KeyCycle::Semitones)),
        _ => match spare.take() {
            Some(arrangement) => Command::Load(arrangement),
            None => Command::Restart,
        },
    }
}

fn info() -> OutputCallbackInfo {
    OutputCallbackInfo::new(OutputStreamTimestamp {
        callback: StreamInstant::from_nanos(1_000_000),
        playback: StreamInstant::from_nanos(3_000_000),
    })
}

/// 32 bars of every preset through the cpal callback (stereo f32 straight from the
/// engine for half of them, mono i16 through the conversion for the others), with
/// bursts of player input and UI commands (playbacks of the take among them), and without a region of the test's own: the
/// callback's edge is the only guard.
#[test]
fn every_preset_through_the_cpal_callback_with_midi_bursts() {
    let _alone = one_at_a_time();
    assert_the_detector_fires();
    let mut rng = Pcg32::seed_from_u64(7);
    let info = info();
    for (index, (name, _)) in preset::builtin().iter().enumerate() {
        let preset = preset::find(name).expect("built-in preset");
        let arrangement = Arrangement::new(&preset, None).expect("arrangement");
        let mut spare = Some(Box::new(arrangement.clone()));
        let playback = recorded_playback(&arrangement);
        // Listening (on by default) and trading fours, from the first bar.
        let config = EngineConfig {
            trainer: busy_trainer(arrangement.form_bars),
            trade: 4,
            ..EngineConfig::default()
        };
        let (engine, mut controller) = Engine::new(config, arrangement);
        let end = engine.bar_start(32);
        let live = Arc::new(LiveInput::new());
        live.attach(controller.take_input().expect("input producer"));
        let stereo = index % 2 == 0;
        let channels = if stereo { 2 } else { 1 };
        let mut renderer = OutputRenderer::new(engine, channels, 48_000, Some(Arc::clone(&live)));
        let mut stereo_out = vec![0.0f32; 2 * 1024];
        let mut mono_out = vec![0i16; 1024];
        let before = violations();
        let mut frames_done = 0u64;
        let mut blocks = 0u64;
        let mut played_back = false;
        while frames_done < end {
            let block = [32usize, 64, 128, 256, 512, 1024][rng.random_range(0..6)];
            if rng.random_bool(0.3) {
                // A burst of player input, timed against the callbacks' clock both ways.
                let timing = if rng.random_bool(0.5) {
                    MidiTiming::Immediate
                } else {
                    MidiTiming::Stable
                };
                for _ in 0..rng.random_range(1..64) {
                    live.send_at(random_event(&mut rng), Instant::now(), timing);
                }
            }
            if rng.random_bool(0.02) {
                let _ = controller.send(random_command(&mut rng, &mut spare, &playback));
            }
            if stereo {
                renderer.render_stereo_f32(&mut stereo_out[..2 * block], &info);
                assert!(
                    stereo_out[..2 * block].iter().all(|x| x.is_finite()),
                    "{name}: non-finite output"
                );
            } else {
                renderer.render_converted(&mut mono_out[..block], &info);
            }
            // Old arrangements come back here and are dropped off the audio thread.
            controller.collect_garbage();
            if let Some(t) = controller.latest_telemetry() {
                played_back |= t.playback.is_some();
            }
            frames_done += block as u64;
            blocks += 1;
        }
        live.send_now(InputEvent::AllSoundOff);
        renderer.render_stereo_f32(&mut stereo_out[..128], &info);
        assert_eq!(
            violations(),
            before,
            "{name}: the callback allocated or freed during {blocks} blocks"
        );
        assert!(
            live.sent() > 0,
            "{name}: no player input reached the engine"
        );
        assert!(played_back, "{name}: no playback was heard");
        // The callback goes through the edge checked above: the panic it honours proves it.
        request_audio_panic();
        stereo_out.fill(1.0);
        renderer.render_stereo_f32(&mut stereo_out[..128], &info);
        assert!(renderer.status().has_panicked(), "{name}: no edge");
        assert!(stereo_out[..128].iter().all(|&x| x == 0.0));
        assert_eq!(violations(), before);
    }
}

/// Every preset listening and trading with the player for 16 bars, the player's input
/// in bursts and the turns' length changed now and then: the engine's whole render is an
/// allocation-free region, and the horn answers in every preset.
#[test]
fn every_preset_listening_and_trading_with_midi_bursts() {
    let _alone = one_at_a_time();
    assert_the_detector_fires();
    let mut rng = Pcg32::seed_from_u64(9);
    for (name, _) in preset::builtin() {
        let preset = preset::find(name).expect("built-in preset");
        let arrangement = Arrangement::new(&preset, None).expect("arrangement");
        let config = EngineConfig {
            trade: 2,
            ..EngineConfig::default()
        };
        let (mut engine, mut controller) = Engine::new(config, arrangement);
        let end = engine.bar_start(16);
        let mut out = vec![0.0f32; 2 * 1024];
        let before = violations();
        let mut frames_done = 0u64;
        let mut horn_answered = false;
        while frames_done < end {
            let block = [32usize, 64, 256, 1024][rng.random_range(0..4)];
            if rng.random_bool(0.3) {
                for _ in 0..rng.random_range(1..32) {
                    let _ = controller.play(ascenseur::engine::TimedInput {
                        frame: engine.clock() + rng.random_range(0..block as u64),
                        event: random_event(&mut rng),
                    });
                }
            }
            // A change of turns now and then (about twice in the 16 bars).
            if rng.random_bool(0.0003) {
                let _ = controller.send(Command::SetTrade([2, 4, 8][rng.random_range(0..3)]));
            }
            engine.process(&mut out[..2 * block]);
            assert!(
                out[..2 * block].iter().all(|x| x.is_finite()),
                "{name}: non-finite output"
            );
            controller.collect_garbage();
            controller.drain_journal(|_| {});
            while let Some(t) = controller.latest_telemetry() {
                horn_answered |= t.stem_peaks[4] > 0.0;
            }
            frames_done += block as u64;
        }
        assert_eq!(
            violations(),
            before,
            "{name}: the engine allocated or freed"
        );
        assert!(horn_answered, "{name}: the horn never answered");
    }
}

/// A full return ring must not make the engine free the arrangement it replaces.
#[test]
fn a_new_arrangement_waits_for_room_to_send_the_old_one_back() {
    let _alone = one_at_a_time();
    assert_the_detector_fires();
    let preset = preset::find("generique").expect("built-in preset");
    let arrangement = Arrangement::new(&preset, None).expect("arrangement");
    let (mut engine, mut controller) = Engine::new(EngineConfig::default(), arrangement.clone());
    let mut out = [0.0f32; 2 * 64];
    let load = |controller: &mut EngineController| {
        for _ in 0..COMMAND_CAPACITY {
            controller
                .send(Command::Load(Box::new(arrangement.clone())))
                .expect("room for a command");
        }
    };
    let before = violations();
    // Twice as many loads as the return ring holds, with nobody collecting them.
    load(&mut controller);
    engine.process(&mut out);
    load(&mut controller);
    engine.process(&mut out);
    assert_eq!(
        violations(),
        before,
        "the engine freed an arrangement on the audio thread"
    );
    controller.collect_garbage();
    engine.process(&mut out);
    controller.collect_garbage();
    assert_eq!(violations(), before);
}

/// Writes bursts of every kind of MIDI message into each period.
struct Flood {
    out: jack::Port<jack::MidiOut>,
    cycles_left: Arc<AtomicU64>,
    sent: Arc<AtomicU64>,
    rng: Pcg32,
}

impl jack::ProcessHandler for Flood {
    fn process(&mut self, _: &jack::Client, scope: &jack::ProcessScope) -> jack::Control {
        let mut writer = self.out.writer(scope);
        if self.cycles_left.load(Ordering::Relaxed) == 0 {
            return jack::Control::Continue;
        }
        self.cycles_left.fetch_sub(1, Ordering::Relaxed);
        let frames = scope.n_frames();
        let burst = if self.rng.random_bool(0.2) { 24 } else { 2 };
        let mut times: Vec<u32> = (0..burst)
            .map(|_| self.rng.random_range(0..frames))
            .collect();
        times.sort_unstable();
        for time in times {
            let key = self.rng.random_range(40..96u8);
            let message: [u8; 3] = match self.rng.random_range(0..10) {
                0..=4 => [0x90, key, self.rng.random_range(1..128)],
                5..=7 => [0x80, key, 0],
                8 => [0xB0, 64, if self.rng.random_bool(0.5) { 127 } else { 0 }],
                _ => [0xE0, 0, self.rng.random_range(0..128)],
            };
            let written = writer.write(&jack::RawMidi {
                time,
                bytes: &message,
            });
            if written.is_ok() {
                self.sent.fetch_add(1, Ordering::Relaxed);
            }
        }
        jack::Control::Continue
    }
}

fn wait_for(what: &str, timeout: Duration, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_jack_process_callback_under_a_midi_flood() {
    let Some(scenario) = jack_scenario(&[]) else {
        return;
    };
    assert_the_detector_fires();
    let server = JackServer::start(&unique("no-alloc"));
    scenario.clients_use(&server.name);
    let client = open_client("no-alloc").expect("JACK client");
    let preset = preset::find("florence-sur-les-champs-elysees").expect("built-in preset");
    let arrangement = Arrangement::new(&preset, None).expect("arrangement");
    let config = EngineConfig {
        sample_rate: client.sample_rate() as f32,
        ..EngineConfig::default()
    };
    let (engine, mut controller) = Engine::new(config, arrangement.clone());
    let live = Arc::new(LiveInput::new());
    live.attach(controller.take_input().expect("input producer"));
    let (recorder, mut costs) = cost_log();
    let session = start(
        client,
        engine,
        StartOptions {
            connect: false,
            live_input: Some(Arc::clone(&live)),
            costs: Some(recorder),
        },
    )
    .expect("start the JACK session");

    let (flood_client, _) =
        jack::Client::new("no-alloc-flood", jack::ClientOptions::NO_START_SERVER)
            .expect("flood client");
    let out = flood_client
        .register_port("out", jack::MidiOut::default())
        .expect("flood port");
    // Two seconds of 64-frame periods.
    let cycles_left = Arc::new(AtomicU64::new(1_500));
    let sent = Arc::new(AtomicU64::new(0));
    let flood = flood_client
        .activate_async(
            (),
            Flood {
                out,
                cycles_left: Arc::clone(&cycles_left),
                sent: Arc::clone(&sent),
                rng: Pcg32::seed_from_u64(11),
            },
        )
        .expect("activate the flood");
    flood
        .as_client()
        .connect_ports_by_name("no-alloc-flood:out", "no-alloc:midi_in")
        .expect("connect the flood");

    let before = violations();
    let cycles_before = session.status.cycles.load(Ordering::Relaxed);
    // Meanwhile the UI side sends input and commands, as a live session does; its
    // input starts no note, so every note played came in through the JACK port.
    let mut rng = Pcg32::seed_from_u64(12);
    let playback = recorded_playback(&arrangement);
    let mut spare = Some(Box::new(arrangement));
    let mut logged = Vec::new();
    let mut notes_played = 0;
    while cycles_left.load(Ordering::Relaxed) > 0 {
        let event = random_event(&mut rng);
        if !matches!(event, InputEvent::NoteOn { .. }) {
            live.send_now(event);
        }
        if rng.random_bool(0.1) {
            let _ = controller.send(random_command(&mut rng, &mut spare, &playback));
        }
        controller.collect_garbage();
        if let Some(telemetry) = controller.latest_telemetry() {
            notes_played = telemetry.notes_played;
        }
        drain_costs(&mut costs, &mut logged);
        std::thread::sleep(Duration::from_millis(5));
    }
    let cycles = session.status.cycles.load(Ordering::Relaxed) - cycles_before;
    assert_eq!(
        violations(),
        before,
        "the JACK callback allocated or freed during {cycles} cycles"
    );
    assert!(cycles >= 1_000, "only {cycles} cycles ran");
    assert!(
        sent.load(Ordering::Relaxed) > 5_000,
        "the flood did not flow"
    );
    assert!(
        notes_played > 1_000,
        "only {notes_played} notes reached the engine"
    );
    assert!(!logged.is_empty(), "no callback cost was logged");
    assert!(!session.status.has_panicked());

    // The JACK callback goes through the edge checked above: the panic it honours
    // proves it; the output goes silent and the callbacks carry on.
    request_audio_panic();
    wait_for("the requested panic", Duration::from_secs(10), || {
        session.status.has_panicked()
    });
    let after_panic = session.status.cycles.load(Ordering::Relaxed);
    wait_for("callbacks after the panic", Duration::from_secs(10), || {
        session.status.cycles.load(Ordering::Relaxed) > after_panic + 10
    });
    assert_eq!(violations(), before);
    let _ = flood.deactivate();
    session.stop();
    drop(server);
}
