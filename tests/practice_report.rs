//! `render --input PHRASE.mid --report REPORT.json` through the binary: phrases of known
//! timing and notes, written as Standard MIDI Files here, read back as the report says.
//!
//! The band is Générique at its own 66 BPM, swing 2.5:1, from frame 0 of the render. The
//! files count time in samples (24000 ticks a beat at 120 BPM: a tick is 1/48000 s), so
//! a note lands on the frame it is written for, and the engine applies it there.

#[path = "support/phrase_file.rs"]
mod phrase_file;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const RATE: f64 = 48_000.0;
const TEMPO: f64 = 66.0;
const SWING: f64 = 2.5;
const SAMPLES_PER_BEAT: f64 = RATE * 60.0 / TEMPO;

/// The frame of beat `beat` of bar `bar` (both 0-based; bar 0 starts at frame 0), the
/// half of the beat on the band's swung eighth when `offbeat`, as the band places it
/// (`BarContext::time`: r/(r+1) of the beat), moved by `offset_ms`.
fn band_frame(bar: u32, beat: u32, offbeat: bool, offset_ms: f64) -> u64 {
    let long = if offbeat { SWING / (SWING + 1.0) } else { 0.0 };
    let beats = f64::from(bar * 4 + beat) + long;
    (beats * SAMPLES_PER_BEAT + offset_ms * RATE / 1000.0).round() as u64
}

/// A one-track SMF of (key, note-on frame, note-off frame), every note at velocity 96.
fn write_phrase(dir: &Path, name: &str, notes: &[(u8, u64, u64)]) -> PathBuf {
    let notes: Vec<_> = notes
        .iter()
        .map(|&(key, on, off)| (key, on, off, 96))
        .collect();
    phrase_file::write_phrase(dir, name, &notes)
}

/// Eighth pairs over bars 2 to 5 (0-based 1 to 4): each on the beat moved by `down_ms`
/// and on the eighth at `offbeat_fraction` of the beat moved by `off_ms`, each held
/// until 30 ms before the next.
fn eighths(offbeat_fraction: f64, down_ms: f64, off_ms: f64) -> Vec<(u8, u64, u64)> {
    let keys = [62, 64, 65, 67, 69, 71, 72, 74];
    let mut onsets = Vec::new();
    for beat in 4..20u32 {
        onsets.push(band_frame(0, beat, false, down_ms));
        let off = (f64::from(beat) + offbeat_fraction) * SAMPLES_PER_BEAT + off_ms * RATE / 1000.0;
        onsets.push(off.round() as u64);
    }
    let gap = (0.030 * RATE) as u64;
    onsets
        .iter()
        .enumerate()
        .map(|(i, &on)| {
            let next = onsets
                .get(i + 1)
                .copied()
                .unwrap_or(on + SAMPLES_PER_BEAT as u64);
            (keys[i % keys.len()], on, next - gap)
        })
        .collect()
}

/// Render Générique for six bars with `phrase` as input and read the report back.
fn report_of(name: &str, phrase: &[(u8, u64, u64)]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let input = write_phrase(dir.path(), name, phrase);
    let report = dir.path().join("report.json");
    Command::cargo_bin("ascenseur")
        .unwrap()
        .args(["render", "generique", "--bars", "6", "-o"])
        .arg(dir.path().join("out.wav"))
        .arg("--input")
        .arg(&input)
        .arg("--report")
        .arg(&report)
        .assert()
        .success()
        .stderr(predicate::str::contains("notes judged"));
    let text = std::fs::read_to_string(&report).expect("the report is written");
    eprintln!("{name}: {text}");
    serde_json::from_str(&text).expect("the report is JSON")
}

fn number(report: &Value, pointer: &str) -> f64 {
    report
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number at {pointer} in {report}"))
}

#[test]
fn eighths_delayed_by_20_ms_read_20_ms_late() {
    let long = SWING / (SWING + 1.0);
    let report = report_of("late", &eighths(long, 20.0, 20.0));
    assert_eq!(number(&report, "/time/count"), 32.0);
    let mean = number(&report, "/time/mean_ms");
    assert!((mean - 20.0).abs() <= 3.0, "mean {mean}");
    let spread = number(&report, "/time/spread_ms");
    assert!(spread <= 3.0, "spread {spread}");
    assert_eq!(report["time"]["verdict"], "dragging");
    assert_eq!(number(&report, "/time/downbeats/count"), 16.0);
    assert_eq!(number(&report, "/time/within_25ms"), 1.0);
    // Late on every note, so the pairs keep the band's own swing.
    let swing = number(&report, "/time/swing/player");
    assert!((swing - SWING).abs() <= 0.1, "swing {swing}");
    assert_eq!(number(&report, "/time/swing/ride"), SWING);
}

#[test]
fn eighths_rushed_by_15_ms_read_15_ms_early() {
    let long = SWING / (SWING + 1.0);
    let report = report_of("early", &eighths(long, -15.0, -15.0));
    let mean = number(&report, "/time/mean_ms");
    assert!((mean + 15.0).abs() <= 3.0, "mean {mean}");
    let spread = number(&report, "/time/spread_ms");
    assert!(spread <= 3.0, "spread {spread}");
    assert_eq!(report["time"]["verdict"], "rushing");
}

#[test]
fn pairs_at_two_to_one_read_swing_2_and_straight_pairs_1() {
    let report = report_of("swung", &eighths(2.0 / 3.0, 0.0, 0.0));
    let swing = number(&report, "/time/swing/player");
    assert!((swing - 2.0).abs() <= 0.2, "swing {swing}");
    assert!(number(&report, "/time/swing/pairs") >= 15.0);
    let report = report_of("straight", &eighths(0.5, 0.0, 0.0));
    let swing = number(&report, "/time/swing/player");
    assert!((swing - 1.0).abs() <= 0.1, "swing {swing}");
}

#[test]
fn b_flat_for_b_over_dm7_lowers_the_share_in_the_mode_as_counted_by_hand() {
    // Quarter notes over Dm7 (bars 2 to 4, D Dorian), each held for three quarters of
    // a beat:  D F A B | C B A G | F E B A.
    let dorian = [62, 65, 69, 71, 72, 71, 69, 67, 65, 64, 71, 69];
    let quarters = |keys: &[u8]| -> Vec<(u8, u64, u64)> {
        keys.iter()
            .enumerate()
            .map(|(i, &key)| {
                let beat = 4 + i as u32;
                let on = band_frame(0, beat, false, 0.0);
                (key, on, on + (0.75 * SAMPLES_PER_BEAT) as u64)
            })
            .collect()
    };
    let flat: Vec<u8> = dorian
        .iter()
        .map(|&k| if k == 71 { 70 } else { k })
        .collect();
    let natural = report_of("dorian", &quarters(&dorian));
    let flattened = report_of("b-flat", &quarters(&flat));

    // By hand. Every note of the first is in D Dorian (D E F G A B C): 12 of 12. In the
    // second the three B♭s are not (B♭ is neither in D Dorian nor in Dm7): 9 of 12.
    assert_eq!(natural["notes"]["in_mode"]["count"], 12);
    assert_eq!(number(&natural, "/notes/in_mode/share"), 1.0);
    assert_eq!(flattened["notes"]["in_mode"]["count"], 9);
    assert_eq!(number(&flattened, "/notes/in_mode/share"), 0.75);
    // B, Dorian's characteristic tone: 3 of 12 notes; none once flattened.
    assert_eq!(number(&natural, "/notes/characteristic_tone/share"), 0.25);
    assert_eq!(flattened["notes"]["characteristic_tone"]["count"], 0);
    // Beats 1 and 3 hold D, A | C, A | F, B: chord tones of Dm7 (D F A C) but the B (or
    // B♭): 5 of 6 in both.
    assert_eq!(natural["notes"]["chord_tones_on_strong_beats"]["count"], 5);
    assert_eq!(natural["notes"]["chord_tones_on_strong_beats"]["total"], 6);
    assert_eq!(
        flattened["notes"]["chord_tones_on_strong_beats"]["count"],
        5
    );
    // The B♭s go to C (a whole step), A and A (half steps into the mode): 2 of 3.
    assert_eq!(flattened["notes"]["outside_resolved"]["count"], 2);
    assert_eq!(flattened["notes"]["outside_resolved"]["total"], 3);
    assert_eq!(natural["notes"]["outside_resolved"]["total"], 0);
    // Space: one phrase of 11.75 beats (a quarter-beat gap is no rest); bars 2 and 3 are
    // full, bar 4 ends in a quarter beat of silence: no bar with a rest.
    let lengths = natural["space"]["phrase_lengths"].as_array().unwrap();
    assert_eq!(lengths.len(), 1);
    let beats = number(&lengths[0], "/beats");
    assert!((beats - 11.75).abs() < 0.001, "{beats}");
    assert_eq!(natural["space"]["bars_with_rest"]["total"], 3);
    assert_eq!(natural["space"]["bars_with_rest"]["count"], 0);
}

#[test]
fn a_report_that_cannot_be_written_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_phrase(dir.path(), "one", &[(62, 0, 24_000)]);
    let out = dir.path().join("out.wav");
    let missing = dir.path().join("no-such-dir").join("report.json");
    Command::cargo_bin("ascenseur")
        .unwrap()
        .args(["render", "generique", "--bars", "1", "-o"])
        .arg(&out)
        .arg("--input")
        .arg(&input)
        .arg("--report")
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--report <FILE>")
                .and(predicate::str::contains(missing.display().to_string())),
        );
    assert!(!out.exists(), "nothing rendered for a bad --report");
    // A directory is not a file to write.
    Command::cargo_bin("ascenseur")
        .unwrap()
        .args(["render", "generique", "--bars", "1", "-o"])
        .arg(&out)
        .arg("--input")
        .arg(&input)
        .arg("--report")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--report <FILE>"));
    // A full disk, found only once the render is done: still the value's fault, named.
    if Path::new("/dev/full").exists() {
        Command::cargo_bin("ascenseur")
            .unwrap()
            .args(["render", "generique", "--bars", "1", "-o"])
            .arg(&out)
            .arg("--input")
            .arg(&input)
            .args(["--report", "/dev/full"])
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("invalid value '/dev/full' for '--report <FILE>'")
                    .and(predicate::str::contains("cannot write it")),
            );
    }
    // Nothing to judge without a phrase.
    Command::cargo_bin("ascenseur")
        .unwrap()
        .args(["render", "generique", "--bars", "1", "-o"])
        .arg(&out)
        .arg("--report")
        .arg(dir.path().join("report.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--input"));
}
