//! The band's level: every arrangement is set to sound at [`BAND_LOUDNESS_LUFS`]
//! (integrated, EBU R128 gating) over its first [`CALIBRATION_BARS`], measured from a
//! render of the band by the engine itself, so a ballad and an up-tempo cue come out of
//! the speakers equally loud and the difference between them is in the players' touch.
//! Off the audio thread: the arrangement carries the result in
//! [`Arrangement::band_trim_db`].

use super::{Engine, EngineConfig};
use crate::band::Arrangement;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Where the band sits, as streaming services and podcasts do: loud enough to play along
/// with on a laptop, with room above for the lead voice and the limiter's −1 dBFS.
pub const BAND_LOUDNESS_LUFS: f64 = -16.0;

/// Bars measured: long enough for the gating to settle on every preset (half a minute of
/// a ballad), short enough to measure while a preset is chosen.
pub const CALIBRATION_BARS: u64 = 8;

/// The trim never goes beyond this: an arrangement that would need more is measured
/// wrongly (a silent band), and is left as it is.
const MAX_TRIM_DB: f64 = 18.0;

/// The sample rate of the calibration render: loudness does not depend on it.
const CALIBRATION_RATE: f32 = 48_000.0;

/// Loudness of interleaved stereo `samples` at `sample_rate`, integrated with EBU R128's
/// gating, in LUFS; `None` for silence or an unusable rate.
pub fn integrated_lufs(samples: &[f32], sample_rate: u32) -> Option<f64> {
    let mut meter = ebur128::EbuR128::new(2, sample_rate, ebur128::Mode::I).ok()?;
    meter.add_frames_f32(samples).ok()?;
    meter.loudness_global().ok().filter(|l| l.is_finite())
}

/// Render `bars` bars of the band alone (no lead, not listening) as interleaved stereo.
pub fn render_band(arrangement: &Arrangement, bars: u64, sample_rate: f32) -> Vec<f32> {
    let mut out = Vec::new();
    render_band_blocks(arrangement, bars, sample_rate, |block| {
        out.extend_from_slice(block)
    });
    out
}

/// The same, a block at a time: the calibration measures as it renders, and never holds
/// half a minute of audio at once.
fn render_band_blocks(
    arrangement: &Arrangement,
    bars: u64,
    sample_rate: f32,
    mut each: impl FnMut(&[f32]),
) {
    let config = EngineConfig {
        sample_rate,
        listen: false,
        ..EngineConfig::default()
    };
    let (mut engine, _controller) = Engine::new(config, arrangement.clone());
    let frames = engine.bar_start(bars) as usize;
    let mut block = [0.0f32; 2 * 1024];
    let mut done = 0;
    while done < frames {
        let n = 1024.min(frames - done);
        engine.process(&mut block[..2 * n]);
        each(&block[..2 * n]);
        done += n;
    }
}

/// `arrangement` with its band trimmed to [`BAND_LOUDNESS_LUFS`]. A preset is measured
/// once per process, as first asked for (a transposition or another tempo moves its
/// loudness by a fraction of a dB): stepping through presets in the console does not
/// render each again, and [`measure_in_background`] can measure them before they are
/// chosen.
pub fn leveled(mut arrangement: Arrangement) -> Arrangement {
    static MEASURED: OnceLock<Mutex<HashMap<String, f32>>> = OnceLock::new();
    let id = arrangement.name.clone();
    let cache = MEASURED.get_or_init(Mutex::default);
    let known = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&id)
        .copied();
    arrangement.band_trim_db = match known {
        Some(trim) => trim,
        None => {
            let trim = measure_trim(&arrangement);
            cache
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(id, trim);
            trim
        }
    };
    arrangement
}

/// Passes of measuring and trimming at most: the limiter holds back part of a large
/// boost, so the first trim falls short on quiet ballads.
const PASSES: usize = 3;

/// Close enough to the target to stop measuring (LU).
const TOLERANCE_LU: f64 = 0.3;

/// The trim that brings `arrangement`'s band to the target, in dB.
fn measure_trim(arrangement: &Arrangement) -> f32 {
    let mut trim = 0.0f64;
    for _ in 0..PASSES {
        let trimmed = Arrangement {
            band_trim_db: trim as f32,
            ..arrangement.clone()
        };
        let Ok(mut meter) = ebur128::EbuR128::new(2, CALIBRATION_RATE as u32, ebur128::Mode::I)
        else {
            return 0.0;
        };
        render_band_blocks(&trimmed, CALIBRATION_BARS, CALIBRATION_RATE, |block| {
            let _ = meter.add_frames_f32(block);
        });
        let Some(lufs) = meter.loudness_global().ok().filter(|l| l.is_finite()) else {
            return 0.0;
        };
        let short = BAND_LOUDNESS_LUFS - lufs;
        trim = (trim + short).clamp(-MAX_TRIM_DB, MAX_TRIM_DB);
        if short.abs() < TOLERANCE_LU {
            break;
        }
    }
    trim as f32
}

/// Measure these arrangements on a thread of their own, so that choosing one later does
/// not wait for its measurement (the console's loop would stall for the renders).
pub fn measure_in_background(arrangements: Vec<Arrangement>) {
    let _ = std::thread::Builder::new()
        .name("loudness".into())
        .spawn(move || {
            // Beneath everything else: the audio must never wait for it.
            #[cfg(unix)]
            // SAFETY: nice(2) on the calling thread only changes its own priority.
            unsafe {
                libc::nice(19);
            }
            for arrangement in arrangements {
                let _ = leveled(arrangement);
            }
        });
}
