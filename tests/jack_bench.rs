//! The hardware benches against a real JACK server (dummy driver): `bench dsp` steps the
//! server's period through the sizes and puts it back; `bench roundtrip` measures the
//! same loop as JACK's own `jack_iodelay`.
//!
//! One scenario at a time, each on its own server. Without `jackd` (or the JACK tool a
//! scenario compares with) the test is reported as skipped, except under `CI=true`, where
//! it fails.

#[path = "support/jack_server.rs"]
mod jack_server;

use jack_server::{JackServer, Running, jack_scenario, unique};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn json(output: &std::process::Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn bench_dsp_measures_each_period_size_and_restores_the_server() {
    let Some(_scenario) = jack_scenario(&["jack_bufsize"]) else {
        return;
    };
    let server = JackServer::start(&unique("bench-dsp"));
    let output = server
        .command(env!("CARGO_BIN_EXE_ascenseur"))
        .args([
            "bench",
            "dsp",
            "--host",
            "jack",
            "--buffers",
            "32,128",
            "--seconds",
            "1.5",
            "--no-connect",
            "--json",
        ])
        .output()
        .expect("run bench dsp");
    let report = json(&output);
    let results = report["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "{report}");
    for (row, frames) in results.iter().zip([32u64, 128]) {
        assert_eq!(row["frames"].as_u64(), Some(frames), "{row}");
        // The period really changed: about 1.5 s worth of callbacks of this size (a
        // loaded machine loses some cycles to xruns).
        let expected = 1.5 * 48_000.0 / frames as f64;
        let callbacks = row["callbacks"].as_f64().unwrap();
        assert!(
            callbacks > expected * 0.5 && callbacks < expected * 1.1,
            "{callbacks} callbacks of {frames} frames in 1.5 s: {row}"
        );
        let median = row["median_percent"].as_f64().unwrap();
        let max = row["max_percent"].as_f64().unwrap();
        assert!(median > 0.0 && median <= max, "{row}");
        assert!(row["xruns"].as_u64().is_some(), "{row}");
    }
    // 1.5 s is too short to call any size safe.
    assert!(report["smallest_clean_buffer"].is_null(), "{report}");
    let period = server
        .command("jack_bufsize")
        .output()
        .expect("jack_bufsize");
    assert_eq!(
        String::from_utf8_lossy(&period.stdout).trim(),
        "64",
        "the server's period was not restored"
    );
}

/// `jack_iodelay`'s figure for a loop from its output to its input, in frames.
fn jack_iodelay_frames(server: &JackServer) -> Option<f64> {
    // Line-buffered: jack_iodelay prints to a pipe in blocks, lost when it is stopped.
    let child = server
        .command("stdbuf")
        .args(["-oL", "jack_iodelay"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start jack_iodelay");
    let mut running = Running(child);
    server.wait_for_port("jack_delay:out", Duration::from_secs(10));
    let connected = server
        .command("jack_connect")
        .args(["jack_delay:out", "jack_delay:in"])
        .status()
        .expect("jack_connect");
    assert!(connected.success());
    std::thread::sleep(Duration::from_secs(3));
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &running.0.id().to_string()])
        .status();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        if let Ok(Some(_)) = running.0.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut text = String::new();
    use std::io::Read;
    running.0.stdout.take()?.read_to_string(&mut text).ok()?;
    // Lines like "    64.000 frames      1.333 ms total roundtrip latency", separated by
    // carriage returns.
    text.rsplit(['\r', '\n'])
        .filter(|line| line.contains("total roundtrip latency"))
        .find_map(|line| line.split_whitespace().next()?.parse::<f64>().ok())
}

#[test]
fn bench_roundtrip_measures_what_jack_iodelay_measures() {
    let Some(_scenario) = jack_scenario(&["jack_iodelay", "jack_connect", "stdbuf"]) else {
        return;
    };
    let server = JackServer::start(&unique("roundtrip"));
    let reference = jack_iodelay_frames(&server).expect("jack_iodelay measured nothing");
    let output = server
        .command(env!("CARGO_BIN_EXE_ascenseur"))
        .args(["bench", "roundtrip", "--graph", "--bursts", "6", "--json"])
        .output()
        .expect("run bench roundtrip");
    let report = json(&output);
    eprintln!("jack_iodelay {reference} frames; ascenseur {report}");
    assert_eq!(report["sent"].as_u64(), Some(6), "{report}");
    assert!(report["received"].as_u64().unwrap() >= 5, "{report}");
    assert_eq!(
        report["median_frames"].as_f64(),
        Some(reference),
        "ascenseur and jack_iodelay disagree: {report}"
    );
    assert_eq!(report["min_frames"], report["max_frames"], "{report}");
}

#[test]
fn bench_roundtrip_without_a_cable_says_what_to_check() {
    let Some(_scenario) = jack_scenario(&[]) else {
        return;
    };
    // The dummy driver's capture ports are silent: the signal never comes back.
    let server = JackServer::start(&unique("roundtrip"));
    let output = server
        .command(env!("CARGO_BIN_EXE_ascenseur"))
        .args(["bench", "roundtrip", "--host", "jack", "--bursts", "2"])
        .output()
        .expect("run bench roundtrip");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("loopback cable"), "{stderr}");
}

#[test]
fn bench_roundtrip_through_a_port_that_is_not_there_exits_2_with_the_ports() {
    let Some(_scenario) = jack_scenario(&[]) else {
        return;
    };
    let server = JackServer::start(&unique("roundtrip"));
    let output = server
        .command(env!("CARGO_BIN_EXE_ascenseur"))
        .args(["bench", "roundtrip", "--playback", "system:playback_9"])
        .args(["--capture", "system:capture_1", "--bursts", "2"])
        .output()
        .expect("run bench roundtrip");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: invalid value 'system:playback_9' for '--playback <PORT>': "),
        "{stderr}"
    );
    assert!(
        stderr.contains("system:playback_1"),
        "no list of ports: {stderr}"
    );
}

#[test]
fn bench_midi_latency_between_ports_that_are_not_there_exits_2_with_the_ports() {
    let Some(_scenario) = jack_scenario(&[]) else {
        return;
    };
    let server = JackServer::start(&unique("probe-ports"));
    // A MIDI input that is not there.
    let output = server
        .command(env!("CARGO_BIN_EXE_ascenseur"))
        .args(["bench", "midi-latency", "--notes", "1"])
        .args([
            "--midi-target",
            "no-such-synth:midi_in",
            "--audio-source",
            "system:capture_1",
        ])
        .output()
        .expect("run bench midi-latency");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(
            "error: invalid value 'no-such-synth:midi_in' for '--midi-target <PORT>': "
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("MIDI input ports: "),
        "no list of ports: {stderr}"
    );
    // A MIDI input of ascenseur's own, and a playback port where an output belongs.
    let _instrument = Running(
        server
            .command(env!("CARGO_BIN_EXE_ascenseur"))
            .args([
                "play",
                "--headless",
                "--host",
                "jack",
                "--no-connect",
                "--no-record",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ascenseur"),
    );
    server.wait_for_port("ascenseur:midi_in", Duration::from_secs(10));
    let output = server
        .command(env!("CARGO_BIN_EXE_ascenseur"))
        .args(["bench", "midi-latency", "--notes", "1"])
        .args([
            "--midi-target",
            "ascenseur:midi_in",
            "--audio-source",
            "system:playback_1",
        ])
        .output()
        .expect("run bench midi-latency");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr
            .starts_with("error: invalid value 'system:playback_1' for '--audio-source <PORT>': "),
        "{stderr}"
    );
    assert!(
        stderr.contains("ascenseur:out_l"),
        "no list of ports: {stderr}"
    );
}
