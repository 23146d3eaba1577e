//! Engine cost: one block at each buffer size with the full band and eight lead voices
//! sounding, one second of whole-band audio, and the input queue's worst case. Run with `cargo bench`; the `bench`
//! figures in the README come from here.

use ascenseur::band::Arrangement;
use ascenseur::engine::pending::PendingInput;
use ascenseur::engine::{Engine, EngineConfig, INPUT_CAPACITY, InputEvent, TimedInput};
use ascenseur::preset;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const SAMPLE_RATE: f32 = 48_000.0;

/// An engine two bars into Florence (medium swing: the whole band busy), with eight
/// lead notes held.
fn busy_engine(lead_notes: usize) -> Engine {
    let preset = preset::find("florence-sur-les-champs-elysees").expect("built-in preset");
    let arrangement = Arrangement::new(&preset, None).expect("arrangement");
    let (mut engine, mut controller) = Engine::new(EngineConfig::default(), arrangement);
    let mut buffer = vec![0.0f32; 2 * 512];
    for i in 0..lead_notes {
        let _ = controller.play(TimedInput {
            frame: 0,
            event: InputEvent::NoteOn {
                key: 60 + 3 * i as u8,
                velocity: 0.8,
            },
        });
    }
    let warm_up = engine.bar_start(2);
    while engine.clock() < warm_up {
        engine.process(&mut buffer);
    }
    // The controller is dropped: nothing more to send, and the engine does not need it.
    engine
}

fn block_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("block_full_band_8_lead_voices");
    for frames in [32usize, 64, 128, 256, 512] {
        let mut engine = busy_engine(8);
        let mut buffer = vec![0.0f32; 2 * frames];
        group.throughput(Throughput::Elements(frames as u64));
        group.bench_with_input(BenchmarkId::from_parameter(frames), &frames, |b, _| {
            b.iter(|| engine.process(black_box(&mut buffer)));
        });
    }
    group.finish();
}

fn one_second(c: &mut Criterion) {
    let mut group = c.benchmark_group("whole_band");
    group.sample_size(20);
    group.throughput(Throughput::Elements(SAMPLE_RATE as u64));
    let mut engine = busy_engine(0);
    let mut buffer = vec![0.0f32; 2 * 256];
    group.bench_function("one_second_of_audio", |b| {
        b.iter(|| {
            for _ in 0..(SAMPLE_RATE as usize / 256) {
                engine.process(black_box(&mut buffer));
            }
        });
    });
    group.finish();
}

/// A full input queue filled in reverse time order (the worst case for keeping it
/// sorted) and emptied: with the heap, the cost per event grows with log n, not n.
fn input_queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("input_queue_reverse_order");
    for events in [64usize, 256, INPUT_CAPACITY] {
        let mut pending = PendingInput::new();
        group.throughput(Throughput::Elements(events as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(events),
            &events,
            |b, &events| {
                b.iter(|| {
                    for frame in (0..events as u64).rev() {
                        let _ = pending.push(TimedInput {
                            frame,
                            event: InputEvent::NoteOff { key: 60 },
                        });
                    }
                    while let Some(input) = pending.pop_due(u64::MAX) {
                        black_box(input);
                    }
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, block_cost, one_second, input_queue);
criterion_main!(benches);
