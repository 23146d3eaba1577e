//! The band listens: rendered with a phrase written here, its stems measured from the
//! audio. Loud eighths against soft half notes against rests, every preset.

#[path = "support/phrase_file.rs"]
mod phrase_file;

use ascenseur_analysis::{Band, OnsetOptions, detect_onsets, read_wav, rms_dbfs};
use assert_cmd::Command;
use phrase_file::{PhraseNote, write_phrase};
use std::path::{Path, PathBuf};

const RATE: f64 = 48_000.0;
/// D Dorian from D4 up: what the soloist plays.
const DORIAN: [u8; 8] = [62, 64, 65, 67, 69, 71, 72, 74];
/// Four bars of each: loud eighths, soft half notes, rest.
const SECTION_BARS: u32 = 4;

struct Timing {
    samples_per_beat: f64,
    beats: u32,
}

impl Timing {
    fn of(preset: &str) -> Timing {
        let preset = ascenseur::preset::find(preset).expect("a built-in preset");
        Timing {
            samples_per_beat: RATE * 60.0 / f64::from(preset.tempo),
            beats: u32::from(preset.meter.beats_per_bar),
        }
    }

    fn frame(&self, bar: u32, beats: f64) -> u64 {
        ((f64::from(bar * self.beats) + beats) * self.samples_per_beat).round() as u64
    }

    fn bar_frames(&self, bars: std::ops::Range<u32>) -> std::ops::Range<usize> {
        self.frame(bars.start, 0.0) as usize..self.frame(bars.end, 0.0) as usize
    }
}

/// Bars 1-4 dense eighths at velocity 110, bars 5-8 half notes at velocity 50, bars 9-12
/// nothing.
fn dense_sparse_rest(timing: &Timing) -> Vec<PhraseNote> {
    let mut notes = Vec::new();
    for bar in 0..SECTION_BARS {
        for eighth in 0..2 * timing.beats {
            let on = timing.frame(bar, f64::from(eighth) * 0.5);
            let off = timing.frame(bar, f64::from(eighth) * 0.5 + 0.4);
            notes.push((DORIAN[(eighth % 8) as usize], on, off, 110));
        }
    }
    for bar in SECTION_BARS..2 * SECTION_BARS {
        for half in 0..timing.beats.div_ceil(2) {
            let on = timing.frame(bar, f64::from(half) * 2.0);
            let off = timing.frame(bar, f64::from(half) * 2.0 + 1.8);
            notes.push((DORIAN[(2 * half) as usize % 8], on, off, 50));
        }
    }
    notes
}

/// Render `preset` for 12 bars with `extra` flags and `input`, stems into `dir/name`.
fn render(preset: &str, dir: &Path, name: &str, input: Option<&Path>, extra: &[&str]) -> PathBuf {
    let stems = dir.join(name);
    let mut command = Command::cargo_bin("ascenseur").unwrap();
    command.args(["render", preset, "--bars", "12", "-o"]);
    command.arg(dir.join(format!("{name}.wav")));
    command.arg("--stems").arg(&stems);
    if let Some(input) = input {
        command.arg("--input").arg(input);
    }
    command.args(extra).assert().success();
    stems
}

fn stem(dir: &Path, name: &str) -> Vec<f32> {
    let (channels, rate) = read_wav(dir.join(format!("{name}.wav"))).expect("a stem");
    assert_eq!(f64::from(rate), RATE);
    // Mono: the mean of the channels.
    (0..channels[0].len())
        .map(|i| channels.iter().map(|c| c[i]).sum::<f32>() / channels.len() as f32)
        .collect()
}

fn onsets(signal: &[f32]) -> usize {
    detect_onsets(signal, RATE as f32, &OnsetOptions::with_band(Band::Full)).len()
}

fn bass_onsets(signal: &[f32]) -> usize {
    detect_onsets(
        signal,
        RATE as f32,
        &OnsetOptions::with_band(Band::LowPass(400.0)),
    )
    .len()
}

/// A section's bars after its first (the band answers within a bar).
fn answered(section: u32) -> std::ops::Range<u32> {
    section * SECTION_BARS + 1..(section + 1) * SECTION_BARS
}

#[test]
fn the_drums_dig_in_with_a_loud_busy_soloist_and_the_piano_lays_out() {
    let scratch = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    eprintln!("preset: drums dB dense/soft, drum onsets dense/soft, piano onsets dense/rest");
    for (name, _) in ascenseur::preset::builtin() {
        let timing = Timing::of(name);
        let phrase = write_phrase(scratch.path(), name, &dense_sparse_rest(&timing));
        let stems = render(name, scratch.path(), name, Some(&phrase), &[]);
        let drums = stem(&stems, "drums");
        let piano = stem(&stems, "piano");
        let bass = stem(&stems, "bass");
        let (dense, soft, rest) = (
            timing.bar_frames(answered(0)),
            timing.bar_frames(answered(1)),
            timing.bar_frames(answered(2)),
        );
        let per_bar: Vec<String> = (0..12)
            .map(|b| format!("{:.1}", rms_dbfs(&drums[timing.bar_frames(b..b + 1)])))
            .collect();
        eprintln!("{name} drums per bar: {}", per_bar.join(" "));
        let louder = rms_dbfs(&drums[dense.clone()]) - rms_dbfs(&drums[soft.clone()]);
        let (busy_hits, soft_hits) = (onsets(&drums[dense.clone()]), onsets(&drums[soft]));
        let (piano_dense, piano_rest) = (onsets(&piano[dense]), onsets(&piano[rest]));
        eprintln!(
            "{name}: {louder:+.1} dB, {busy_hits}/{soft_hits} drum onsets, {piano_dense}/{piano_rest} piano onsets"
        );
        if louder < 4.0 {
            failures.push(format!("{name}: drums only {louder:.1} dB louder"));
        }
        if (busy_hits as f64) < 1.3 * soft_hits as f64 {
            failures.push(format!(
                "{name}: drum onsets {busy_hits} against {soft_hits}"
            ));
        }
        // A walking bass below 200 BPM goes to two under the soft soloist, and walks in
        // four under the loud one.
        let preset = ascenseur::preset::find(name).unwrap();
        if preset.bass == ascenseur::preset::BassStyle::Walking
            && preset.tempo < ascenseur::band::bass::TWO_FEEL_BELOW_BPM
        {
            let in_four = bass_onsets(&bass[timing.bar_frames(answered(0))]);
            let in_two = bass_onsets(&bass[timing.bar_frames(answered(1))]);
            eprintln!("{name}: bass onsets {in_four} in four, {in_two} in two");
            if in_four < 3 * 4 - 1 || in_two > 3 * 3 {
                failures.push(format!("{name}: bass onsets {in_four} loud, {in_two} soft"));
            }
        }
        if (piano_dense as f64) > 0.6 * piano_rest as f64 || piano_rest == 0 {
            failures.push(format!(
                "{name}: piano onsets {piano_dense} against {piano_rest} in the rests"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn same_band(a: &Path, b: &Path) -> bool {
    ["bass", "drums", "piano"]
        .iter()
        .all(|s| stem(a, s) == stem(b, s))
}

#[test]
fn without_listening_the_band_plays_as_it_would_alone() {
    let scratch = tempfile::tempdir().unwrap();
    let name = "florence-sur-les-champs-elysees";
    let timing = Timing::of(name);
    let phrase = write_phrase(scratch.path(), "phrase", &dense_sparse_rest(&timing));
    let alone = render(name, scratch.path(), "alone", None, &[]);
    let deaf = render(
        name,
        scratch.path(),
        "deaf",
        Some(&phrase),
        &["--no-listen"],
    );
    let listening = render(name, scratch.path(), "listening", Some(&phrase), &[]);
    assert!(same_band(&alone, &deaf), "--no-listen heard the phrase");
    assert!(
        !same_band(&alone, &listening),
        "the band did not hear the phrase"
    );
    // Listening to nobody is playing alone.
    let nobody = render(name, scratch.path(), "nobody", None, &["--no-listen"]);
    assert!(same_band(&alone, &nobody));
}

#[test]
fn a_listening_band_repeats_bit_for_bit_whatever_the_block_size() {
    let scratch = tempfile::tempdir().unwrap();
    let name = "generique";
    let timing = Timing::of(name);
    let phrase = write_phrase(scratch.path(), "phrase", &dense_sparse_rest(&timing));
    let renders: Vec<PathBuf> = [32, 64, 512]
        .iter()
        .map(|block| {
            let block = block.to_string();
            render(
                name,
                scratch.path(),
                &format!("block-{block}"),
                Some(&phrase),
                &["--block", &block],
            )
        })
        .collect();
    for other in &renders[1..] {
        for s in ["bass", "drums", "piano", "lead"] {
            assert!(
                stem(&renders[0], s) == stem(other, s),
                "{s} differs at {other:?}"
            );
        }
    }
}
