//! The command line, as a user meets it.

use assert_cmd::Command;
use predicates::prelude::*;

fn ascenseur() -> Command {
    Command::cargo_bin("ascenseur").expect("binary built")
}

#[test]
fn presets_lists_all_ten_with_tempo_and_modes() {
    let output = ascenseur()
        .arg("presets")
        .env("ASCENSEUR_PRESET_DIR", "/nonexistent")
        .assert()
        .success();
    let text = String::from_utf8_lossy(&output.get_output().stdout).to_string();
    for name in [
        "generique",
        "assassinat-de-carala",
        "sur-l-autoroute",
        "julien-dans-l-ascenseur",
        "florence-sur-les-champs-elysees",
        "diner-au-motel",
        "evasion-de-julien",
        "visite-du-vigile",
        "au-bar-du-petit-bac",
        "chez-le-photographe-du-motel",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    assert!(text.contains("Dm7 D Dorian"), "modes missing:\n{text}");
}

#[test]
fn check_accepts_a_good_preset_and_rejects_a_bad_one_with_exit_code_2() {
    ascenseur()
        .args(["check", "presets/generique.toml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok"));
    ascenseur()
        .args(["check", "tests/invalid_presets/tempo-out-of-range.toml"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("tests/invalid_presets/tempo-out-of-range.toml:")
                .and(predicate::str::contains("tempo")),
        );
}

#[test]
fn render_writes_a_stereo_48k_wav_and_stems() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.wav");
    let stems = dir.path().join("stems");
    ascenseur()
        .args([
            "render",
            "florence-sur-les-champs-elysees",
            "--bars",
            "2",
            "--seed",
            "3",
            "--key",
            "Eb",
            "--mute",
            "piano",
        ])
        .arg("-o")
        .arg(&out)
        .arg("--stems")
        .arg(&stems)
        .assert()
        .success()
        .stderr(predicate::str::contains("wrote"));
    let reader = hound::WavReader::open(&out).unwrap();
    let spec = reader.spec();
    assert_eq!((spec.channels, spec.sample_rate), (2, 48_000));
    assert!(
        reader.duration() > 48_000 * 3,
        "2 bars at 120 BPM and the tail"
    );
    for stem in ["bass", "drums", "piano", "lead"] {
        assert!(
            stems.join(format!("{stem}.wav")).exists(),
            "{stem}.wav missing"
        );
    }
}

#[test]
fn render_plays_a_midi_file_through_the_lead_voice() {
    let dir = tempfile::tempdir().unwrap();
    let phrase = dir.path().join("phrase.mid");
    // One track: D5 for a beat, then F5, at 120 BPM (480 ticks per beat).
    let mut track = vec![
        0x00, 0x90, 74, 100, 0x83, 0x60, 0x80, 74, 0, 0x00, 0x90, 77, 90, 0x83, 0x60, 0x80, 77, 0,
    ];
    track.extend_from_slice(&[0x00, 0xFF, 0x2F, 0x00]);
    let mut smf = b"MThd\0\0\0\x06\0\0\0\x01\x01\xE0MTrk".to_vec();
    smf.extend_from_slice(&(track.len() as u32).to_be_bytes());
    smf.extend_from_slice(&track);
    std::fs::write(&phrase, smf).unwrap();
    let out = dir.path().join("out.wav");
    let stems = dir.path().join("stems");
    ascenseur()
        .args(["render", "generique", "--bars", "1", "--input"])
        .arg(&phrase)
        .arg("-o")
        .arg(&out)
        .arg("--stems")
        .arg(&stems)
        .assert()
        .success();
    let (channels, rate) = ascenseur_analysis::read_wav(stems.join("lead.wav")).unwrap();
    assert_eq!(rate, 48_000);
    let lead = &channels[0];
    let level = ascenseur_analysis::rms_dbfs(&lead[..48_000]);
    assert!(level > -40.0, "lead silent: {level:.1} dBFS");
}

#[test]
fn bad_arguments_name_the_bad_value() {
    ascenseur()
        .args(["render", "no-such-cue", "-o", "/tmp/x.wav"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-cue").and(predicate::str::contains("generique")));
    ascenseur()
        .args([
            "render",
            "generique",
            "-o",
            "/tmp/x.wav",
            "--mute",
            "trumpet",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("'trumpet'"));
    ascenseur()
        .args(["render", "generique", "-o", "/tmp/x.wav", "--key", "H#"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("H#"));
    ascenseur()
        .args(["render", "generique", "-o", "/tmp/x.wav", "--tempo", "900"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("900"));
}

#[test]
fn bad_midi_play_options_name_the_bad_value_and_the_choices() {
    ascenseur()
        .args(["play", "--headless", "--midi-timing", "late"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("'late'").and(predicate::str::contains("immediate, stable")),
        );
    ascenseur()
        .args(["play", "--headless", "--midi", " "])
        .assert()
        .failure()
        .stderr(predicate::str::contains("bad --midi ' '"));
}

#[test]
fn bench_dsp_reports_every_buffer_size_as_json() {
    let output = ascenseur()
        .args(["bench", "dsp", "--offline", "--seconds", "0.05", "--json"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&output.get_output().stdout).to_string();
    for frames in [32, 64, 128, 256, 512] {
        assert!(
            text.contains(&format!("\"frames\":{frames},")),
            "{frames} missing from {text}"
        );
    }
    assert!(text.contains("\"p999_percent\":"));
}

#[test]
fn a_render_with_a_bad_option_leaves_existing_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keep.wav");
    std::fs::write(&out, b"an earlier take").unwrap();
    for bad in [
        ["--tempo", "900"],
        ["--key", "H"],
        ["--bars", "0"],
        ["--block", "0"],
    ] {
        ascenseur()
            .args(["render", "generique"])
            .args(bad)
            .arg("-o")
            .arg(&out)
            .assert()
            .failure();
        assert_eq!(
            std::fs::read(&out).unwrap(),
            b"an earlier take",
            "{bad:?} clobbered the output"
        );
    }
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "stray files: {names:?}");
}

#[test]
fn no_command_plays_and_writes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    // No audio here for a bare `ascenseur` to play on: it says so instead of writing a
    // file or showing help.
    ascenseur()
        .current_dir(dir.path())
        .env("JACK_DEFAULT_SERVER", "ascenseur-no-such-server")
        .env("JACK_NO_START_SERVER", "1")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("error:"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn devices_lists_the_hosts_even_without_a_sound_card() {
    // No JACK server by that name: the JACK host is listed with its reason, not fatal.
    let output = ascenseur()
        .arg("devices")
        .env("JACK_DEFAULT_SERVER", "asc-audio-absent")
        .env("JACK_NO_START_SERVER", "1")
        .assert()
        .success();
    let text = String::from_utf8_lossy(&output.get_output().stdout).to_string();
    assert!(text.contains("(default host)"), "no default host:\n{text}");
    assert!(text.contains("JACK"), "the JACK host is missing:\n{text}");
    assert!(
        text.contains("MIDI input ports"),
        "no MIDI section:\n{text}"
    );

    let output = ascenseur()
        .args(["devices", "--json"])
        .env("JACK_DEFAULT_SERVER", "asc-audio-absent")
        .env("JACK_NO_START_SERVER", "1")
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_slice(&output.get_output().stdout).expect("devices --json is JSON");
    let hosts = report["hosts"].as_array().expect("a list of hosts");
    assert!(!hosts.is_empty());
    assert_eq!(
        hosts.iter().filter(|h| h["is_default"] == true).count(),
        1,
        "{report}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn bench_dsp_measures_a_cpal_device_at_each_buffer_size() {
    // ALSA's null device takes audio as fast as it is made: not paced like a sound card,
    // but a real stream whose callbacks run the engine.
    let output = ascenseur()
        .args([
            "bench",
            "dsp",
            "--host",
            "alsa",
            "--device",
            "null",
            "--buffers",
            "64,256",
            "--seconds",
            "0.3",
            "--json",
        ])
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_slice(&output.get_output().stdout).expect("JSON");
    assert_eq!(report["host"], "ALSA", "{report}");
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{report}");
    for (row, frames) in results.iter().zip([64, 256]) {
        assert_eq!(row["frames"], frames, "{row}");
        assert!(row["callbacks"].as_u64().unwrap() > 10, "{row}");
        assert!(row["median_percent"].as_f64().unwrap() > 0.0, "{row}");
    }
}
