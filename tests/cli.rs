//! The command line, as a user meets it.

use assert_cmd::Command;
use predicates::prelude::*;

fn ascenseur() -> Command {
    Command::cargo_bin("ascenseur").expect("binary built")
}

#[test]
fn presets_lists_every_builtin_with_tempo_and_modes() {
    let output = ascenseur()
        .arg("presets")
        .env("ASCENSEUR_PRESET_DIR", "/nonexistent")
        .assert()
        .success();
    let text = String::from_utf8_lossy(&output.get_output().stdout).to_string();
    for (name, _) in ascenseur::preset::builtin() {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    assert!(text.contains("Dm7 D Dorian"), "modes missing:\n{text}");
}

#[test]
fn check_accepts_a_good_preset() {
    ascenseur()
        .args(["check", "presets/generique.toml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok"));
}

#[test]
fn check_rejects_a_bad_preset_with_exit_code_2_and_where_it_is_wrong() {
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

/// Bad values refused before anything starts: (arguments, the bad value, the flag as clap
/// writes it, what the message must also say: the choices or the range there are, or why
/// the value is wrong). `OUT` stands for an output file in a fresh directory.
#[rustfmt::skip]
const BAD_VALUES: &[(&[&str], &str, &str, &str)] = &[
    (&["render", "generique", "-o", "OUT", "--tempo", "0"], "0", "--tempo <BPM>", "use 30 to 360 BPM"),
    (&["render", "generique", "-o", "OUT", "--tempo", "nan"], "nan", "--tempo <BPM>", "use 30 to 360 BPM"),
    (&["render", "generique", "-o", "OUT", "--tempo", "inf"], "inf", "--tempo <BPM>", "use 30 to 360 BPM"),
    (&["render", "generique", "-o", "OUT", "--tempo", "400"], "400", "--tempo <BPM>", "use 30 to 360 BPM"),
    (&["render", "generique", "-o", "OUT", "--tempo", "-120"], "-120", "--tempo <BPM>", "use 30 to 360 BPM"),
    (&["render", "generique", "-o", "OUT", "--key", "H"], "H", "--key <KEY>", "a note letter A–G"),
    (&["render", "generique", "-o", "OUT", "--trade", "3"], "3", "--trade <BARS>", "trade 2, 4 or 8 bars"),
    (&["play", "--trade", "0"], "0", "--trade <BARS>", "trade 2, 4 or 8 bars"),
    (&["render", "generique", "-o", "OUT", "--key", "H#"], "H#", "--key <KEY>", "a note letter A–G"),
    (&["render", "generique", "-o", "OUT", "--key", "E mixed"], "E mixed", "--key <KEY>", "known: major"),
    (&["render", "generique", "-o", "OUT", "--seed", "-1"], "-1", "--seed <SEED>", "use a whole number from 0 to 18446744073709551615"),
    (&["render", "generique", "-o", "OUT", "--seed", "x"], "x", "--seed <SEED>", "use a whole number from 0 to 18446744073709551615"),
    (&["render", "generique", "-o", "OUT", "--bars", "0"], "0", "--bars <BARS>", "use a whole number from 1 to 10000"),
    (&["render", "generique", "-o", "OUT", "--bars", "10001"], "10001", "--bars <BARS>", "use a whole number from 1 to 10000"),
    (&["render", "generique", "-o", "OUT", "--block", "0"], "0", "--block <FRAMES>", "use a whole number from 1 to 8192"),
    (&["render", "generique", "-o", "OUT", "--mute", "bass,tuba"], "tuba", "--mute <PLAYERS>", "[possible values: bass, drums, piano]"),
    (&["render", "generique", "-o", "OUT", "--mute", "trumpet"], "trumpet", "--mute <PLAYERS>", "[possible values: bass, drums, piano]"),
    (&["render", "generique", "-o", "OUT", "--input", "/nonexistent/phrase.mid"], "/nonexistent/phrase.mid", "--input <INPUT>", "No such file"),
    (&["render", "no-such-cue", "-o", "OUT"], "no-such-cue", "[PRESET]", "known presets: generique, assassinat-de-carala"),
    (&["render", "--take", "/nonexistent-take", "-o", "OUT"], "/nonexistent-take", "--take <DIR>", "cannot read"),
    (&["render", "generique", "-o", "OUT", "--lead", "kazoo"], "kazoo", "--lead <VOICE>", "harmon-trumpet, open-trumpet, tenor-sax, electric-piano"),
    (&["render", "generique", "-o", "OUT", "--midi-out", "/nonexistent-dir/x.mid"], "/nonexistent-dir/x.mid", "--midi-out <FILE>", "there is no directory"),
    (&["play", "no-such-cue"], "no-such-cue", "[PRESET]", "known presets: generique, assassinat-de-carala"),
    (&["play", "--buffer", "0"], "0", "--buffer <FRAMES>", "use a whole number from 16 to 8192"),
    (&["play", "--buffer", "-64"], "-64", "--buffer <FRAMES>", "use a whole number from 16 to 8192"),
    (&["play", "--rate", "1"], "1", "--rate <HZ>", "use a whole number from 8000 to 768000"),
    (&["play", "--host", "pulse"], "pulse", "--host <HOST>", "[possible values: jack, alsa"),
    (&["play", "--device", " "], " ", "--device <DEV>", "give a name"),
    (&["play", "--midi", " "], " ", "--midi <PORT>", "give a name"),
    (&["play", "--midi-timing", "soon"], "soon", "--midi-timing <TIMING>", "[possible values: immediate, stable]"),
    (&["play", "--client-name", "a:b"], "a:b", "--client-name <CLIENT_NAME>", "use 1 to 63 bytes"),
    (&["play", "--tempo", "400"], "400", "--tempo <BPM>", "use 30 to 360 BPM"),
    (&["render", "generique", "-o", "OUT", "--loop", "8-5"], "8-5", "--loop <BARS>", "use FIRST-LAST"),
    (&["render", "generique", "-o", "OUT", "--loop", "0"], "0", "--loop <BARS>", "use FIRST-LAST"),
    (&["render", "generique", "-o", "OUT", "--loop", "1-99"], "1-99", "--loop <BARS>", "from 1 to 24"),
    (&["play", "--loop", "25"], "25", "--loop <BARS>", "from 1 to 24"),
    (&["render", "generique", "-o", "OUT", "--tempo-ramp", "4"], "4", "--tempo-ramp <+STEP/EVERY>", "use +STEP/EVERY"),
    (&["render", "generique", "-o", "OUT", "--tempo-ramp", "+x/2"], "+x/2", "--tempo-ramp <+STEP/EVERY>", "use +STEP/EVERY"),
    (&["play", "--tempo-ramp", "-4/2"], "-4/2", "--tempo-ramp <+STEP/EVERY>", "use +STEP/EVERY"),
    (&["render", "generique", "-o", "OUT", "--tempo-max", "9999"], "9999", "--tempo-max <BPM>", "use 30 to 360 BPM"),
    (&["play", "--key-cycle", "thirds"], "thirds", "--key-cycle <CYCLE>", "[possible values: fourths, semitones]"),
    (&["bench", "dsp", "--buffers", "64,8"], "8", "--buffers <FRAMES>", "use a whole number from 16 to 8192"),
    (&["bench", "dsp", "--seconds", "0"], "0", "--seconds <SECONDS>", "more than 0 and at most 3600"),
    (&["bench", "dsp", "--seconds", "nan"], "nan", "--seconds <SECONDS>", "more than 0 and at most 3600"),
    (&["bench", "dsp", "--preset", "no-such-cue"], "no-such-cue", "--preset <PRESET>", "known presets: generique"),
    (&["bench", "roundtrip", "--bursts", "0"], "0", "--bursts <BURSTS>", "use a whole number from 1 to 1000"),
    (&["bench", "midi-latency", "--notes", "0"], "0", "--notes <NOTES>", "use a whole number from 1 to 10000"),
    (&["play", "--tempo", "nan"], "nan", "--tempo <BPM>", "use 30 to 360 BPM"),
    (&["play", "--tempo", "0"], "0", "--tempo <BPM>", "use 30 to 360 BPM"),
    (&["play", "--key", "H"], "H", "--key <KEY>", "a note letter A–G"),
    (&["play", "--seed", "-1"], "-1", "--seed <SEED>", "use a whole number from 0 to 18446744073709551615"),
    (&["play", "--rate", "0"], "0", "--rate <HZ>", "use a whole number from 8000 to 768000"),
    (&["play", "--rate", "nan"], "nan", "--rate <HZ>", "use a whole number from 8000 to 768000"),
    (&["play", "--buffer", "x"], "x", "--buffer <FRAMES>", "use a whole number from 16 to 8192"),
    (&["play", "--mute", "tuba"], "tuba", "--mute <PLAYERS>", "[possible values: bass, drums, piano]"),
    (&["play", "--takes-dir", " "], " ", "--takes-dir <DIR>", "give a name"),
    (&["render", "generique", "-o", "OUT", "--block", "-1"], "-1", "--block <FRAMES>", "use a whole number from 1 to 8192"),
    (&["render", "generique", "-o", "OUT", "--bars", "1.5"], "1.5", "--bars <BARS>", "use a whole number from 1 to 10000"),
    (&["bench", "dsp", "--rate", "1"], "1", "--rate <HZ>", "use a whole number from 8000 to 768000"),
    (&["bench", "dsp", "--host", "pulse"], "pulse", "--host <HOST>", "[possible values: jack, alsa"),
    (&["bench", "dsp", "--buffers", "0"], "0", "--buffers <FRAMES>", "use a whole number from 16 to 8192"),
    (&["bench", "dsp", "--device", ""], "", "--device <DEV>", "give a name"),
    (&["bench", "roundtrip", "--rate", "1"], "1", "--rate <HZ>", "use a whole number from 8000 to 768000"),
    (&["bench", "roundtrip", "--bursts", "-1"], "-1", "--bursts <BURSTS>", "use a whole number from 1 to 1000"),
    (&["bench", "roundtrip", "--host", "pulse"], "pulse", "--host <HOST>", "[possible values: jack, alsa"),
    (&["bench", "midi-latency", "--notes", "x"], "x", "--notes <NOTES>", "use a whole number from 1 to 10000"),
    (&["takes", "--takes-dir", " "], " ", "--takes-dir <DIR>", "give a name"),
    (&["takes", "--takes-dir", "/nonexistent-takes"], "/nonexistent-takes", "--takes-dir <DIR>", "there is no folder"),
    (&["history", "no-such-cue"], "no-such-cue", "[PRESET]", "known presets: generique"),
];

#[test]
fn every_bad_value_exits_2_naming_the_value_and_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.wav");
    let mut failures = Vec::new();
    for (args, value, flag, says) in BAD_VALUES {
        let args: Vec<&str> = args
            .iter()
            .map(|&a| if a == "OUT" { out.to_str().unwrap() } else { a })
            .collect();
        let output = ascenseur()
            .args(&args)
            // Were a bad value let through, `play` would find no audio rather than play.
            .env("JACK_DEFAULT_SERVER", "ascenseur-no-such-server")
            .env("JACK_NO_START_SERVER", "1")
            // `history` reads, and nothing may write, the data directory: a fresh one.
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let expected = format!("error: invalid value '{value}' for '{flag}'");
        if output.status.code() != Some(2)
            || !stderr.starts_with(&expected)
            || !stderr.contains(says)
        {
            failures.push(format!(
                "{args:?}: {:?}, expected exit code 2, {expected:?} and {says:?}, got:\n{stderr}",
                output.status.code()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad values:\n{}",
        failures.len(),
        BAD_VALUES.len(),
        failures.join("\n")
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "a file was written"
    );
}

#[test]
fn a_closed_choice_lists_its_values() {
    for (args, choices) in [
        (
            &["play", "--midi-timing", "soon"][..],
            "[possible values: immediate, stable]",
        ),
        (
            &["render", "generique", "-o", "x.wav", "--mute", "bass,tuba"][..],
            "[possible values: bass, drums, piano]",
        ),
        (&["play", "--host", "pulse"][..], "[possible values: jack, "),
    ] {
        ascenseur()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(choices));
    }
}

#[test]
fn a_preset_that_does_not_exist_is_refused_with_the_list_of_presets() {
    let output = ascenseur()
        .args(["render", "no-such-cue", "-o", "x.wav"])
        .env("ASCENSEUR_PRESET_DIR", "/nonexistent")
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&output.get_output().stderr).to_string();
    for (name, _) in ascenseur::preset::builtin() {
        assert!(stderr.contains(name), "{name} missing from:\n{stderr}");
    }
}

#[test]
fn render_without_an_output_file_exits_2_naming_the_flag() {
    ascenseur()
        .args(["render", "generique"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("required arguments were not provided")
                .and(predicate::str::contains("--output <OUTPUT>")),
        );
}

#[test]
fn the_ends_of_the_tempo_range_and_a_spelled_key_are_accepted() {
    let range = ascenseur::preset::TEMPO_RANGE;
    let dir = tempfile::tempdir().unwrap();
    for (tempo, key) in [(range.start(), "E minor"), (range.end(), "Eb")] {
        let out = dir.path().join(format!("{tempo}.wav"));
        ascenseur()
            .args(["render", "generique", "--bars", "1", "--tempo"])
            .arg(tempo.to_string())
            .args(["--key", key, "--seed", &u64::MAX.to_string(), "-o"])
            .arg(&out)
            .assert()
            .success();
        assert!(out.exists(), "{tempo} BPM in {key}: no file");
    }
}

/// Devices that are not there, found wrong only once the host lists its devices (ALSA
/// always has "null"), by every command that takes one: (arguments, the bad value, its
/// flag).
#[cfg(target_os = "linux")]
#[rustfmt::skip]
const MISSING_DEVICES: &[(&[&str], &str, &str)] = &[
    (&["play", "--headless", "--host", "alsa", "--device", "no-such-device"], "no-such-device", "--device <DEV>"),
    (&["play", "--headless", "--device", "no-such-device"], "no-such-device", "--device <DEV>"),
    (&["bench", "dsp", "--host", "alsa", "--device", "no-such-device", "--seconds", "0.1"], "no-such-device", "--device <DEV>"),
    (&["bench", "roundtrip", "--host", "alsa", "--device", "no-such-device", "--bursts", "1"], "no-such-device", "--device <DEV>"),
    (&["bench", "roundtrip", "--device", "no-such-device", "--bursts", "1"], "no-such-device", "--device <DEV>"),
    (&["bench", "roundtrip", "--host", "alsa", "--device", "null", "--input-device", "no-such-input", "--bursts", "1"],
        "no-such-input", "--input-device <DEV>"),
];

#[cfg(target_os = "linux")]
#[test]
fn a_device_that_is_not_there_exits_2_with_the_list_of_devices() {
    let mut failures = Vec::new();
    for (args, value, flag) in MISSING_DEVICES {
        let output = ascenseur()
            .args(*args)
            .env("JACK_DEFAULT_SERVER", "ascenseur-no-such-server")
            .env("JACK_NO_START_SERVER", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let expected = format!("error: invalid value '{value}' for '{flag}': ");
        // The host's devices are listed, ALSA's null among them.
        if output.status.code() != Some(2)
            || !stderr.starts_with(&expected)
            || !stderr.contains("(null)")
        {
            failures.push(format!(
                "{args:?}: {:?}, expected exit code 2, {expected:?} and the devices, got:\n{stderr}",
                output.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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

/// `ascenseur devices` with `args`, where no JACK server runs: the JACK host is listed
/// with its reason, not fatal.
fn devices_without_a_sound_card(args: &[&str]) -> String {
    let output = ascenseur()
        .arg("devices")
        .args(args)
        .env("JACK_DEFAULT_SERVER", "asc-audio-absent")
        .env("JACK_NO_START_SERVER", "1")
        .assert()
        .success();
    String::from_utf8_lossy(&output.get_output().stdout).to_string()
}

#[test]
fn devices_lists_the_hosts_even_without_a_sound_card() {
    let text = devices_without_a_sound_card(&[]);
    assert!(text.contains("(default host)"), "no default host:\n{text}");
    assert!(text.contains("JACK"), "the JACK host is missing:\n{text}");
    assert!(
        text.contains("MIDI input ports"),
        "no MIDI section:\n{text}"
    );
}

#[test]
fn devices_json_lists_the_hosts_with_one_default() {
    let text = devices_without_a_sound_card(&["--json"]);
    let report: serde_json::Value = serde_json::from_str(&text).expect("devices --json is JSON");
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
