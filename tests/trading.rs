//! Trading fours with the band's horn, rendered by the binary with phrases written here
//! and measured from the horn's stem.

#[path = "support/phrase_file.rs"]
mod phrase_file;

use ascenseur::theory::PitchClass;
use ascenseur_analysis::{
    Band, OnsetOptions, detect_onsets, hz_to_midi, note_pitches, read_wav, rms_dbfs,
};
use assert_cmd::Command;
use phrase_file::{PhraseNote, write_phrase};
use std::path::{Path, PathBuf};

const RATE: f64 = 48_000.0;
const PRESET: &str = "florence-sur-les-champs-elysees";
/// Florence at its own 120 BPM: a beat is 24 000 frames, a bar 96 000.
const BEAT: f64 = 24_000.0;
const BAR: f64 = 4.0 * BEAT;

/// A call of (beat in its turn, beats, key) played in bars 1-4 and again in 9-12.
fn call_phrase(call: &[(f64, f64, u8)]) -> Vec<PhraseNote> {
    [0.0, 8.0]
        .iter()
        .flat_map(|&turn_bar| {
            call.iter().map(move |&(beat, beats, key)| {
                let on = ((turn_bar * 4.0 + beat) * BEAT) as u64;
                (key, on, on + (beats * BEAT) as u64 - 600, 96)
            })
        })
        .collect()
}

/// Call A: D Dorian, quarters and eighths, a rest in the middle.
const CALL_A: [(f64, f64, u8); 12] = [
    (0.0, 1.0, 62),
    (1.0, 0.5, 65),
    (1.5, 0.5, 67),
    (2.0, 1.0, 69),
    (3.0, 1.0, 72),
    (4.0, 0.5, 71),
    (4.5, 0.5, 69),
    (5.0, 2.0, 67),
    (8.0, 1.0, 65),
    (9.0, 1.0, 64),
    (10.0, 0.5, 62),
    (10.5, 1.5, 60),
];
/// Call B: syncopated, on the off-beats, going up.
const CALL_B: [(f64, f64, u8); 10] = [
    (0.5, 1.0, 69),
    (1.5, 1.0, 71),
    (3.5, 1.0, 72),
    (4.5, 0.5, 74),
    (5.0, 0.5, 76),
    (6.5, 1.5, 74),
    (9.0, 0.5, 72),
    (9.5, 0.5, 71),
    (10.0, 0.5, 69),
    (12.5, 2.0, 67),
];

fn render(dir: &Path, name: &str, phrase: &Path) -> PathBuf {
    let stems = dir.join(name);
    Command::cargo_bin("ascenseur")
        .unwrap()
        .args(["render", PRESET, "--bars", "16", "--trade", "4", "-o"])
        .arg(dir.join(format!("{name}.wav")))
        .arg("--stems")
        .arg(&stems)
        .arg("--input")
        .arg(phrase)
        .assert()
        .success();
    stems
}

fn horn(stems: &Path) -> Vec<f32> {
    let (channels, rate) = read_wav(stems.join("horn.wav")).expect("a horn stem");
    assert_eq!(f64::from(rate), RATE);
    (0..channels[0].len())
        .map(|i| 0.5 * (channels[0][i] + channels[1][i]))
        .collect()
}

fn bars(signal: &[f32], from: u32, to: u32) -> &[f32] {
    &signal[(f64::from(from) * BAR) as usize..((f64::from(to) * BAR) as usize).min(signal.len())]
}

/// Horn onsets in bars `from..to`, in beats from `from`'s first beat.
fn onset_beats(signal: &[f32], from: u32, to: u32) -> Vec<f64> {
    detect_onsets(
        bars(signal, from, to),
        RATE as f32,
        &OnsetOptions::with_band(Band::Full),
    )
    .iter()
    .map(|o| o.time_s(RATE as f32) * RATE / BEAT)
    .collect()
}

/// The rhythm's likeness, as we measure it: both onset lists on an eighth-note grid (an
/// onset marks the nearest eighth of the first two bars, which every development keeps),
/// and the normalised cross-correlation of the two marks at the best displacement of 0,
/// 1 or 2 eighths (the horn may displace the call).
fn rhythm_likeness(call: &[f64], answer: &[f64]) -> f64 {
    let grid = |beats: &[f64]| {
        let mut marks = [0.0f64; 20];
        for &b in beats {
            let slot = (b * 2.0).round() as usize;
            if slot < marks.len() {
                marks[slot] = 1.0;
            }
        }
        marks
    };
    let (a, b) = (grid(call), grid(answer));
    let norm = (a.iter().sum::<f64>() * b.iter().sum::<f64>())
        .sqrt()
        .max(1.0);
    (0..=2)
        .map(|lag| (0..16).map(|i| a[i] * b[i + lag]).sum::<f64>() / norm)
        .fold(0.0, f64::max)
}

#[test]
fn the_horn_answers_in_the_bands_turns_with_the_call_developed_in_the_mode() {
    let scratch = tempfile::tempdir().unwrap();
    let arrangement =
        ascenseur::band::Arrangement::new(&ascenseur::preset::find(PRESET).unwrap(), None).unwrap();
    let mut answers = Vec::new();
    for (name, call) in [("a", &CALL_A[..]), ("b", &CALL_B[..])] {
        let phrase = write_phrase(scratch.path(), name, &call_phrase(call));
        let horn = horn(&render(scratch.path(), name, &phrase));
        // Silent while the player plays, sounding in its own turns.
        for (from, to) in [(0, 4), (8, 12)] {
            let level = rms_dbfs(bars(&horn, from, to));
            assert!(
                level <= -60.0,
                "call {name}: the horn at {level:.1} dBFS in bars {}-{to}",
                from + 1
            );
        }
        for (from, to) in [(4, 8), (12, 16)] {
            let level = rms_dbfs(bars(&horn, from, to));
            assert!(
                level > -40.0,
                "call {name}: the horn silent ({level:.1} dBFS) in bars {}-{to}",
                from + 1
            );
        }
        // Its notes, tracked from the audio, in the mode of their bar.
        let mut in_mode = 0;
        let mut pitched = 0;
        let mut heard = Vec::new();
        for turn in [4u32, 12] {
            let onsets = onset_beats(&horn, turn, turn + 4);
            let samples: Vec<usize> = onsets.iter().map(|b| (b * BEAT) as usize).collect();
            let pitches = note_pitches(
                bars(&horn, turn, turn + 4),
                RATE as f32,
                &samples,
                90.0,
                1000.0,
            );
            for (beat, pitch) in onsets.iter().zip(&pitches) {
                let Some(pitch) = pitch else { continue };
                let key = hz_to_midi(pitch.hz).round() as u8;
                let bar = u64::from(turn) + (beat / 4.0) as u64;
                let (slot, _) = arrangement.slot_at(bar);
                pitched += 1;
                if slot
                    .mode
                    .pitch_classes()
                    .contains(PitchClass::from_midi(key))
                {
                    in_mode += 1;
                }
                heard.push((bar + 1, key));
            }
            let call_beats: Vec<f64> = call.iter().map(|c| c.0).collect();
            let likeness = rhythm_likeness(&call_beats, &onsets);
            eprintln!(
                "call {name}, bars {}-{}: rhythm likeness {likeness:.2}; onsets {onsets:.2?}",
                turn + 1,
                turn + 4
            );
            assert!(
                likeness >= 0.5,
                "call {name}: the answer's rhythm is not the call's ({likeness:.2})"
            );
        }
        eprintln!("call {name}: answer (bar, key) {heard:?}");
        assert!(pitched >= 6, "call {name}: only {pitched} pitched notes");
        assert!(
            in_mode * 10 >= pitched * 9,
            "call {name}: {in_mode} of {pitched} notes in the mode"
        );
        answers.push(heard);
    }
    assert_ne!(answers[0], answers[1], "two calls, one answer");
}

#[test]
fn trading_repeats_bit_for_bit_whatever_the_block_size() {
    let scratch = tempfile::tempdir().unwrap();
    let phrase = write_phrase(scratch.path(), "call", &call_phrase(&CALL_A));
    let stems: Vec<Vec<f32>> = ["32", "64", "512"]
        .iter()
        .map(|block| {
            let dir = scratch.path().join(format!("block-{block}"));
            Command::cargo_bin("ascenseur")
                .unwrap()
                .args([
                    "render", PRESET, "--bars", "8", "--trade", "4", "--block", block, "-o",
                ])
                .arg(scratch.path().join(format!("{block}.wav")))
                .arg("--stems")
                .arg(&dir)
                .arg("--input")
                .arg(&phrase)
                .assert()
                .success();
            horn(&dir)
        })
        .collect();
    assert!(stems[0] == stems[1] && stems[1] == stems[2]);
    assert!(rms_dbfs(&stems[0]) > -60.0, "no horn to compare");
}
