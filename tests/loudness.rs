//! The band's loudness: every preset's mix, rendered by the binary with no input, sits at
//! −16 LUFS (EBU R128 integrated, gated) within 1 LU over 8 bars, peaks at −1 dBFS at
//! most, and a lead line at velocity 100 is at least as loud as the band.

#[path = "support/phrase_file.rs"]
mod phrase_file;

use ascenseur::engine::loudness::{BAND_LOUDNESS_LUFS, integrated_lufs, render_band};
use ascenseur_analysis::{peak_dbfs, read_wav};
use assert_cmd::Command;
use std::path::Path;

fn interleaved(path: &Path) -> (Vec<f32>, u32) {
    let (channels, rate) = read_wav(path).expect("a WAV");
    assert_eq!(channels.len(), 2);
    let samples = (0..channels[0].len())
        .flat_map(|i| [channels[0][i], channels[1][i]])
        .collect();
    (samples, rate)
}

fn render(args: &[&str], out: &Path) -> (Vec<f32>, u32) {
    Command::cargo_bin("ascenseur")
        .unwrap()
        .arg("render")
        .args(args)
        .arg("-o")
        .arg(out)
        .assert()
        .success();
    interleaved(out)
}

#[test]
fn every_preset_sits_at_minus_16_lufs_below_minus_1_dbfs() {
    let scratch = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    eprintln!("preset: LUFS as written → as played (peak dBFS)");
    for (name, _) in ascenseur::preset::builtin() {
        let out = scratch.path().join(format!("{name}.wav"));
        let (mix, rate) = render(&[name, "--bars", "8"], &out);
        // Only the 8 bars: the render's tail of reverb is left out.
        let preset = ascenseur::preset::find(name).unwrap();
        let untrimmed = ascenseur::band::Arrangement::new(&preset, None).unwrap();
        let bars = render_band(&untrimmed, 8, rate as f32);
        let before = integrated_lufs(&bars, rate).unwrap();
        let mix = &mix[..bars.len().min(mix.len())];
        let lufs = integrated_lufs(mix, rate).expect("a measurable mix");
        let peak = peak_dbfs(mix);
        eprintln!("{name}: {before:.1} → {lufs:.1} LUFS (peak {peak:.1} dBFS)");
        if (lufs - BAND_LOUDNESS_LUFS).abs() > 1.0 {
            failures.push(format!("{name}: {lufs:.1} LUFS"));
        }
        if peak > -1.0 {
            failures.push(format!("{name}: peak {peak:.1} dBFS"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn the_lead_at_velocity_100_is_at_least_as_loud_as_the_band() {
    let scratch = tempfile::tempdir().unwrap();
    // A legato line of quarter notes at 120 BPM (a tick is a sample), velocity 100, for
    // eight bars of Florence.
    let beat = 24_000u64;
    let keys = [62u8, 65, 69, 72, 71, 69, 65, 64];
    let notes: Vec<_> = (0..32u64)
        .map(|i| (keys[i as usize % 8], i * beat, (i + 1) * beat - 600, 100))
        .collect();
    let phrase = phrase_file::write_phrase(scratch.path(), "line", &notes);
    let mut quiet = Vec::new();
    for lead in [
        "harmon-trumpet",
        "open-trumpet",
        "tenor-sax",
        "electric-piano",
    ] {
        let out = scratch.path().join(format!("{lead}.wav"));
        let (mix, rate) = render(
            &[
                "florence-sur-les-champs-elysees",
                "--bars",
                "8",
                "--mute",
                "bass,drums,piano",
                "--lead",
                lead,
                "--input",
                phrase.to_str().unwrap(),
            ],
            &out,
        );
        let lufs = integrated_lufs(&mix, rate).unwrap();
        eprintln!("{lead} alone at velocity 100: {lufs:.1} LUFS");
        if lufs < BAND_LOUDNESS_LUFS {
            quiet.push(format!("{lead} alone: {lufs:.1} LUFS"));
        }
    }
    assert!(
        quiet.is_empty(),
        "under the band's {BAND_LOUDNESS_LUFS}: {quiet:#?}"
    );
}
