//! The cpal data callback driven by hand, as a backend would: what reaches a device of
//! each shape (stereo f32 straight from the engine; mono, integer, wider layouts and
//! buffers longer than the scratch buffer through the conversion), and that none of it
//! touches the allocator.

use ascenseur::band::arrangement_for;
use ascenseur::engine::{Engine, EngineConfig};
use ascenseur::io::cpal_out::{OutputRenderer, SCRATCH_FRAMES};
use ascenseur::io::live_input::LiveInput;
use assert_no_alloc::{AllocDisabler, assert_no_alloc, reset_violation_count, violation_count};
use cpal::{OutputCallbackInfo, OutputStreamTimestamp, Sample, StreamInstant};
use std::sync::Arc;
use std::sync::atomic::Ordering;

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

fn band() -> Engine {
    let preset = ascenseur::preset::find("generique").expect("generique preset");
    let arrangement = arrangement_for(&preset, None, None).expect("arrangement");
    Engine::new(EngineConfig::default(), arrangement).0
}

/// What the engine renders for `frames` frames from the start, interleaved stereo.
fn reference(frames: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; 2 * frames];
    band().process(&mut out);
    out
}

fn info() -> OutputCallbackInfo {
    OutputCallbackInfo::new(OutputStreamTimestamp {
        callback: StreamInstant::from_nanos(1_000_000),
        playback: StreamInstant::from_nanos(3_000_000),
    })
}

/// The band must be heard somewhere in `samples`: equal silence would prove nothing.
fn assert_sounding(samples: &[f32]) {
    assert!(
        samples.iter().any(|x| x.abs() > 1e-3),
        "the band is silent in the reference"
    );
}

#[test]
fn every_device_shape_gets_the_band_without_allocating() {
    // The detector counts in this binary.
    assert_no_alloc(|| drop(std::hint::black_box(vec![0u8; 16])));
    assert!(
        violation_count() > 0,
        "the allocation detector is not active"
    );
    reset_violation_count();
    stereo_f32_is_exactly_what_the_engine_renders();
    mono_i16_longer_than_the_scratch_is_the_mixdown();
    four_channels_carry_the_band_in_the_first_two();
    assert_eq!(
        violation_count(),
        0,
        "the callback allocated or freed memory"
    );
}

fn stereo_f32_is_exactly_what_the_engine_renders() {
    let live = Arc::new(LiveInput::new());
    let mut renderer = OutputRenderer::new(band(), 2, 48_000, Some(Arc::clone(&live)));
    let blocks = 48_000 * 2 / 128;
    let mut heard = vec![0.0f32; 2 * 128 * blocks];
    let info = info();
    for block in heard.chunks_mut(2 * 128) {
        assert_no_alloc(|| renderer.render_stereo_f32(block, &info));
    }
    assert_eq!(heard, reference(128 * blocks));
    assert_sounding(&heard);
    let status = renderer.status();
    assert_eq!(status.cycles.load(Ordering::Relaxed), blocks as u64);
    assert!(!status.has_panicked());
    let clock = live.clock().latest().expect("published");
    assert_eq!(clock.frame, 128 * (blocks as u64 - 1));
    assert_eq!((clock.period, clock.sample_rate), (128, 48_000));
}

fn mono_i16_longer_than_the_scratch_is_the_mixdown() {
    let mut renderer = OutputRenderer::new(band(), 1, 48_000, None);
    // Three device buffers, each longer than the scratch buffer and not a multiple of it.
    let frames = 2 * SCRATCH_FRAMES + 1000;
    let mut heard = vec![0i16; 3 * frames];
    let info = info();
    for block in heard.chunks_mut(frames) {
        assert_no_alloc(|| renderer.render_converted(block, &info));
    }
    let expected: Vec<i16> = reference(3 * frames)
        .chunks_exact(2)
        .map(|f| i16::from_sample(0.5 * (f[0] + f[1])))
        .collect();
    assert_eq!(heard, expected);
    assert_eq!(renderer.status().cycles.load(Ordering::Relaxed), 3);
}

fn four_channels_carry_the_band_in_the_first_two() {
    let mut renderer = OutputRenderer::new(band(), 4, 48_000, None);
    let frames = 48_000;
    let mut heard = vec![1.0f32; 4 * frames];
    assert_no_alloc(|| renderer.render_converted(&mut heard, &info()));
    let stereo: Vec<f32> = heard
        .chunks_exact(4)
        .flat_map(|f| {
            assert_eq!((f[2], f[3]), (0.0, 0.0));
            [f[0], f[1]]
        })
        .collect();
    assert_eq!(stereo, reference(frames));
    assert_sounding(&stereo);
}
