//! End to end against a real JACK server (dummy driver, paced like a sound card): the
//! instrument as a separate process, driven and recorded by a probe client, compared with
//! the reference synth `jack_midisine`.
//!
//! Each scenario starts its own server under a unique name. Without `jackd` the test is
//! skipped, except under `CI=true`, where a missing server is a failure.

use ascenseur::analysis::estimate_pitch;
use ascenseur::io::latency_probe::{LatencyReport, ProbeOptions, measure};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A JACK server with the dummy driver, stopped on drop.
struct JackServer {
    name: String,
    process: Child,
}

impl JackServer {
    fn start(name: &str) -> JackServer {
        let process = Command::new("jackd")
            .args([
                "-n",
                name,
                "--no-realtime",
                "-d",
                "dummy",
                "-r",
                "48000",
                "-p",
                "64",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start jackd");
        let server = JackServer {
            name: name.to_string(),
            process,
        };
        server.wait_for_port("system:playback_1", Duration::from_secs(10));
        server
    }

    fn ports(&self) -> String {
        Command::new("jack_lsp")
            .env("JACK_DEFAULT_SERVER", &self.name)
            .env("JACK_NO_START_SERVER", "1")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_default()
    }

    fn wait_for_port(&self, port: &str, timeout: Duration) {
        let started = Instant::now();
        while !self.ports().lines().any(|l| l.trim() == port) {
            assert!(
                started.elapsed() < timeout,
                "port {port} did not appear on server {}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("JACK_DEFAULT_SERVER", &self.name)
            .env("JACK_NO_START_SERVER", "1");
        command
    }

    fn stop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for JackServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A child process killed on drop (if still running).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn jack_available() -> bool {
    let found = Command::new("jackd").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "jackd is missing under CI=true: run scripts/setup"
        );
        eprintln!("skipping: jackd is not installed (scripts/setup installs it)");
    }
    found
}

fn unique(name: &str) -> String {
    format!("asc-{name}-{}", std::process::id())
}

fn ascenseur(server: &JackServer, extra: &[&str]) -> Running {
    let child = server
        .command(env!("CARGO_BIN_EXE_ascenseur"))
        .args([
            "play",
            "--headless",
            "--host",
            "jack",
            "--no-connect",
            "--mute",
            "bass,drums,piano",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ascenseur");
    server.wait_for_port("ascenseur:out_l", Duration::from_secs(10));
    Running(child)
}

fn probe(
    server: &JackServer,
    midi_target: &str,
    audio_source: &str,
    notes: usize,
) -> LatencyReport {
    // The probe is a client of this process: point the library at the test's server.
    // SAFETY: this test binary runs a single test, so no other thread reads the environment.
    unsafe { std::env::set_var("JACK_DEFAULT_SERVER", &server.name) };
    measure(&ProbeOptions {
        midi_target: midi_target.into(),
        audio_source: audio_source.into(),
        notes,
        key: 69,
        velocity: 100,
        hold: Duration::from_millis(300),
        timeout: Duration::from_secs(60),
        seed: 5,
    })
    .expect("latency probe")
}

fn summary(name: &str, r: &LatencyReport) -> String {
    format!(
        "{name:<12} min {:>3}  median {:>3}  max {:>3}  jitter {:>2} frames  (mean {:.2} ms over {} notes, period {} at {} Hz)",
        r.min(),
        r.median(),
        r.max(),
        r.jitter(),
        r.ms(r.mean()),
        r.notes.len(),
        r.period,
        r.sample_rate
    )
}

#[test]
fn jack_end_to_end() {
    if !jack_available() {
        return;
    }
    notes_come_out_at_the_right_pitch_at_the_reference_latency();
    headless_stops_cleanly_on_sigterm();
}

fn notes_come_out_at_the_right_pitch_at_the_reference_latency() {
    let server = JackServer::start(&unique("latency"));
    let _instrument = ascenseur(&server, &[]);
    let ours = probe(&server, "ascenseur:midi_in", "ascenseur:out_l", 12);

    let midisine = Running(
        server
            .command("jack_midisine")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start jack_midisine"),
    );
    server.wait_for_port("midisine:audio_out", Duration::from_secs(10));
    let reference = probe(&server, "midisine:midi_in", "midisine:audio_out", 12);
    drop(midisine);

    eprintln!("{}", summary("ascenseur", &ours));
    eprintln!("{}", summary("jack_midisine", &reference));

    assert!(
        ours.max() <= reference.max() + 8,
        "ascenseur's latency exceeds jack_midisine's by more than one 64-frame period\n{}\n{}",
        summary("ascenseur", &ours),
        summary("jack_midisine", &reference)
    );
    assert!(ours.jitter() <= 2, "{}", summary("ascenseur", &ours));

    // The lead voice plays the note that was sent: A4.
    let audio = &ours.first_note_audio;
    let skip = 2400.min(audio.len());
    let pitch = estimate_pitch(&audio[skip..], 48_000.0, 200.0, 1000.0).expect("a pitched note");
    assert!(
        (pitch.midi - 69.0).abs() < 0.5,
        "heard MIDI {:.2}, sent 69",
        pitch.midi
    );
}

fn headless_stops_cleanly_on_sigterm() {
    let server = JackServer::start(&unique("sigterm"));
    let mut instrument = ascenseur(&server, &[]);
    std::thread::sleep(Duration::from_millis(1500));
    let pid = instrument.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = instrument.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "ascenseur did not stop within 5 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM");
    let mut stderr = String::new();
    use std::io::Read;
    instrument
        .0
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("bar"),
        "no status line on stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("stopped"),
        "no goodbye on stderr:\n{stderr}"
    );
}
