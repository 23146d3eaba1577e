//! The ordinary desktop, end to end: `ascenseur` with no `--host` or `--device` (what
//! `make run` does) on a real sound server — PipeWire with WirePlumber, a null sink for a
//! sound card — started by each test in a folder of its own (see
//! `support/sound_server.rs`). What reaches the sink is recorded from its monitor and
//! measured: the band's level against an offline render, its tempo from the onsets.
//!
//! One scenario at a time: two servers and two bands on a shared 2-core machine would
//! measure the machine. Without PipeWire, WirePlumber or dbus-daemon the tests say they
//! are skipped, except under `CI=true`, where they fail (`scripts/setup` installs them).

#[path = "support/requires.rs"]
mod requires;
#[path = "support/sound_server.rs"]
mod sound_server;

use ascenseur_analysis::{
    Band, OnsetOptions, TempoEstimate, detect_onsets, rms_dbfs, tempo_from_onsets,
};
use sound_server::{SOUND_SERVER_PROGRAMS, SoundServer, unique};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

const RATE: f32 = 48_000.0;

/// The right to run a scenario (one at a time), or `None` when a program is missing.
fn scenario() -> Option<MutexGuard<'static, ()>> {
    static ONE: Mutex<()> = Mutex::new(());
    let programs: Vec<&str> = SOUND_SERVER_PROGRAMS.to_vec();
    if requires::skipped_without(&programs) {
        return None;
    }
    Some(ONE.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
}

/// A line `ascenseur` wrote to stderr, and when the test read it.
#[derive(Clone, Debug)]
struct Line {
    at: Instant,
    text: String,
}

/// `ascenseur play --headless` on the server's desktop, its stderr read line by line as
/// it comes; stopped with SIGTERM on drop.
struct Playing {
    child: Mutex<Child>,
    lines: Arc<Mutex<Vec<Line>>>,
}

impl Playing {
    fn start(server: &SoundServer, args: &[&str]) -> Playing {
        let mut child = server
            .command(env!("CARGO_BIN_EXE_ascenseur"))
            .args(["play", "--headless", "--no-record"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ascenseur play");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for text in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(Line {
                    at: Instant::now(),
                    text,
                });
            }
        });
        Playing {
            child: Mutex::new(child),
            lines,
        }
    }

    fn lines(&self) -> Vec<Line> {
        self.lines.lock().unwrap().clone()
    }

    fn transcript(&self) -> String {
        self.lines()
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The first line after `after` that `want` accepts, waiting up to `timeout`.
    fn wait_for(&self, after: Instant, timeout: Duration, want: impl Fn(&str) -> bool) -> Line {
        let started = Instant::now();
        loop {
            if let Some(line) = self
                .lines()
                .into_iter()
                .find(|l| l.at >= after && want(&l.text))
            {
                return line;
            }
            if let Ok(Some(status)) = self.child_status() {
                panic!("ascenseur exited ({status}):\n{}", self.transcript());
            }
            assert!(
                started.elapsed() < timeout,
                "no such line within {timeout:?}:\n{}",
                self.transcript()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn child_status(&self) -> std::io::Result<Option<std::process::ExitStatus>> {
        self.child.lock().unwrap().try_wait()
    }
}

impl Drop for Playing {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Ok(None) = child.try_wait() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
        }
        let _ = child.wait();
    }
}

/// What the start line says the driver granted: frames per callback, rate, latency.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Granted {
    frames: u32,
    rate: u32,
    latency_ms: f64,
}

/// "ALSA · default · 48000 Hz · 128 frames (2.67 ms) · f32 × 2 ch · latency 5.19 ms — …"
fn granted(line: &str) -> Option<Granted> {
    let fields: Vec<&str> = line.split(" · ").collect();
    let rate = fields
        .iter()
        .find_map(|f| f.strip_suffix(" Hz")?.trim().parse().ok())?;
    let frames = fields
        .iter()
        .find_map(|f| f.split(" frames").next()?.trim().parse().ok())?;
    let latency_ms = fields.iter().find_map(|f| {
        f.strip_prefix("latency ")?
            .split(" ms")
            .next()?
            .parse()
            .ok()
    })?;
    Some(Granted {
        frames,
        rate,
        latency_ms,
    })
}

/// The bar a status line shows ("bar 3 beat 2 · …").
fn status_bar(line: &str) -> Option<u64> {
    line.strip_prefix("bar ")?.split(' ').next()?.parse().ok()
}

/// The band as an offline render plays it (same preset, seed and flags), left channel.
fn offline_band(args: &[&str], bars: u32) -> Vec<f32> {
    let dir = tempfile::tempdir().expect("temp dir");
    let wav = dir.path().join("band.wav");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ascenseur"))
        .args(["render"])
        .args(args)
        .args(["--bars", &bars.to_string(), "-o"])
        .arg(&wav)
        .output()
        .expect("run ascenseur render");
    assert!(
        output.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (channels, rate) = ascenseur_analysis::read_wav(&wav).expect("read the render");
    assert_eq!(rate, 48_000);
    channels.into_iter().next().expect("a left channel")
}

/// A tempo estimate whose intervals fit their beat this well or better is a measurement;
/// under it the recording was broken up (the sink heard gaps from xruns on a loaded
/// machine) and says nothing of the band's tempo. A clean recording of these bands scores
/// 0.25–0.4, a render 0.3–0.4.
const TEMPO_COHERENCE: f64 = 0.15;

/// The band's level and tempo from the sink's monitor: recordings of `seconds` until one
/// is clean enough to measure its tempo (three at most, each judged on its own).
fn measure_band(server: &SoundServer, seconds: f64, expected_bpm: f64) -> (f32, f64) {
    for attempt in 1..=3 {
        let [left, right] = server.record_monitor(seconds);
        assert!(ascenseur_analysis::is_finite_all(&left));
        assert!(ascenseur_analysis::is_finite_all(&right));
        let peak = left
            .iter()
            .chain(&right)
            .fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(peak <= 1.0, "the sink got {peak}");
        assert!(
            rms_dbfs(&right) > -50.0,
            "the right channel is nearly silent"
        );
        let (level, tempo) = level_and_tempo(&left, expected_bpm);
        if tempo.coherence >= TEMPO_COHERENCE {
            return (level, tempo.bpm);
        }
        eprintln!(
            "recording {attempt} was broken up (coherence {:.2}): again",
            tempo.coherence
        );
    }
    panic!("three recordings of the sink too broken up to measure a tempo");
}

/// The band's level (dBFS RMS) and tempo measured from a recording's left channel,
/// from its first sound; the tempo is looked for within a quarter of `expected_bpm`.
fn level_and_tempo(left: &[f32], expected_bpm: f64) -> (f32, TempoEstimate) {
    let start = left
        .iter()
        .position(|x| x.abs() > 1e-4)
        .unwrap_or_else(|| panic!("the recording is silent"));
    let heard = &left[start..];
    assert!(
        heard.len() as f32 > 2.0 * RATE,
        "only {:.2} s of sound",
        heard.len() as f32 / RATE
    );
    let onsets: Vec<f64> = detect_onsets(heard, RATE, &OnsetOptions::with_band(Band::Full))
        .iter()
        .map(|o| o.time_s(RATE))
        .collect();
    let tempo = tempo_from_onsets(&onsets, expected_bpm * 0.8, expected_bpm * 1.25)
        .unwrap_or_else(|| panic!("too few onsets for a tempo: {onsets:?}"));
    eprintln!(
        "{:.2} s of band: {:.1} dBFS RMS, {:.2} BPM from {} onsets (coherence {:.2})",
        heard.len() as f32 / RATE,
        rms_dbfs(heard),
        tempo.bpm,
        tempo.onsets,
        tempo.coherence
    );
    (rms_dbfs(heard), tempo)
}

#[test]
fn devices_lists_the_servers_device_as_the_default() {
    let Some(_one) = scenario() else {
        return;
    };
    let server = SoundServer::start(&unique("devices"));
    let output = server
        .command(env!("CARGO_BIN_EXE_ascenseur"))
        .args(["devices", "--json"])
        .output()
        .expect("run ascenseur devices");
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let host = report["hosts"]
        .as_array()
        .and_then(|hosts| hosts.iter().find(|h| h["is_default"] == true))
        .unwrap_or_else(|| panic!("no default host: {report}"));
    assert_eq!(host["name"], "ALSA", "{report}");
    let default = host["output_devices"]
        .as_array()
        .and_then(|devices| devices.iter().find(|d| d["is_default"] == true))
        .unwrap_or_else(|| panic!("no default device: {host}"));
    let name = default["name"].as_str().unwrap_or_default();
    assert!(
        name.contains("PipeWire"),
        "the default is not the server's: {default}"
    );
    assert!(default["error"].is_null(), "{default}");
    assert_eq!(
        default["ascenseur_would_use"]["sample_rate"], 48_000,
        "{default}"
    );
    let text = server
        .command(env!("CARGO_BIN_EXE_ascenseur"))
        .arg("devices")
        .output()
        .expect("run ascenseur devices");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains("PipeWire") && l.ends_with("(default)")),
        "{text}"
    );
}

/// Wait until `client`'s stream plays into the sink.
fn wait_until_playing_into_sink(server: &SoundServer, playing: &Playing) {
    let waited = Instant::now();
    while !server.is_playing_into_sink("ascenseur") {
        assert!(
            waited.elapsed() < Duration::from_secs(5),
            "the stream never ran into the sink ({:?}):\n{}",
            server.stream_props("ascenseur"),
            playing.transcript()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn play_says_the_buffer_and_latency_the_server_grants() {
    let Some(_one) = scenario() else {
        return;
    };
    let server = SoundServer::start(&unique("granted"));
    // The default (128 frames asked of the ALSA plugin), and two others.
    for buffer in [None, Some("64"), Some("1024")] {
        let mut args = vec!["generique"];
        if let Some(frames) = buffer {
            args.extend(["--buffer", frames]);
        }
        let asked = Instant::now();
        let playing = Playing::start(&server, &args);
        let start = playing.wait_for(asked, Duration::from_secs(15), |l| {
            l.contains("playing Générique")
        });
        eprintln!("{}", start.text);
        assert!(start.text.starts_with("ALSA · "), "{}", start.text);
        assert!(start.text.contains("PipeWire"), "{}", start.text);
        let granted = granted(&start.text).unwrap_or_else(|| panic!("no figures: {}", start.text));
        assert_eq!(
            granted.frames,
            buffer.map_or(128, |frames| frames.parse().unwrap()),
            "{}",
            start.text
        );
        wait_until_playing_into_sink(&server, &playing);
        // The quantum the server holds for the stream, at its rate.
        let props = server.stream_props("ascenseur").expect("the stream's node");
        assert_eq!(
            props["node.latency"].as_str().unwrap_or_default(),
            format!("{}/{}", granted.frames, granted.rate),
            "the server's figure for the stream: {props}"
        );
        // The latency printed is the ALSA plugin's delay: what waits in the ALSA ring
        // (two periods at most) and what the server says follows the stream.
        let downstream =
            server.downstream_latency_frames("ascenseur", granted.frames, granted.rate);
        let ms = |frames: f64| frames * 1e3 / f64::from(granted.rate);
        let period = f64::from(granted.frames);
        eprintln!(
            "the server: node.latency {}, {downstream} frames after the stream",
            props["node.latency"]
        );
        assert!(
            granted.latency_ms >= ms(0.5 * period)
                && granted.latency_ms <= ms(2.0 * period + downstream) + 0.05,
            "latency {} ms for a period of {:.2} ms and {downstream} frames downstream",
            granted.latency_ms,
            ms(period)
        );
    }
}

#[test]
fn play_sounds_through_the_server_at_the_bands_level_and_tempo() {
    let Some(_one) = scenario() else {
        return;
    };
    let server = SoundServer::start(&unique("play"));
    let band = ["generique", "--tempo", "120", "--seed", "1957"];
    // 512 frames: a 2-core machine busy with builds starves the ALSA thread (not
    // real-time) at 128 and the sink hears the gaps; the band's level and tempo are
    // measured without them.
    let playing = Playing::start(&server, &[&band[..], &["--buffer", "512"]].concat());
    playing.wait_for(server.started, Duration::from_secs(15), |l| {
        l.contains("playing Générique")
    });
    wait_until_playing_into_sink(&server, &playing);
    let (level, bpm) = measure_band(&server, 8.0, 120.0);
    let offline = rms_dbfs(&offline_band(&band, 16));
    eprintln!("offline render: {offline:.1} dBFS RMS");
    eprintln!("{}", playing.transcript());
    assert!(
        (level - offline).abs() < 4.0,
        "the sink heard {level:.1} dBFS, the render has {offline:.1}"
    );
    // The estimate is good to about 1 % over a few seconds of band (offline too).
    assert!((bpm - 120.0).abs() < 2.4, "the sink heard {bpm:.2} BPM");
}

#[test]
fn a_killed_server_is_said_and_the_band_resumes_within_two_seconds_of_its_return() {
    let Some(_one) = scenario() else {
        return;
    };
    let mut server = SoundServer::start(&unique("restart"));
    // The drums alone: the bass and the piano are muted, and must stay so.
    let band = [
        "generique",
        "--tempo",
        "150",
        "--mute",
        "bass,piano",
        "--seed",
        "3",
    ];
    // 512 frames, for the reason given above.
    let playing = Playing::start(&server, &[&band[..], &["--buffer", "512"]].concat());
    playing.wait_for(server.started, Duration::from_secs(15), |l| {
        l.contains("playing Générique")
    });
    let (level_before, bpm_before) = measure_band(&server, 6.0, 150.0);

    let last_bar = playing
        .lines()
        .iter()
        .rev()
        .find_map(|l| status_bar(&l.text))
        .expect("a status line");
    let killed = Instant::now();
    server.kill();
    let lost = playing.wait_for(killed, Duration::from_secs(5), |l| {
        l.contains("stopped; looking for it again every second")
    });
    eprintln!(
        "{} ({} ms after the kill)",
        lost.text,
        lost.at.duration_since(killed).as_millis()
    );
    std::thread::sleep(Duration::from_secs(2));

    server.start_again();
    let returned = server.started;
    let back = playing.wait_for(returned, Duration::from_secs(10), |l| {
        l.starts_with("audio is back")
    });
    while !server.is_playing_into_sink("ascenseur") {
        assert!(
            returned.elapsed() < Duration::from_secs(5),
            "the stream did not run into the sink again:\n{}",
            playing.transcript()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let sounding = returned.elapsed();
    eprintln!(
        "{} ({} ms after the server's return; playing into the sink after {} ms)",
        back.text,
        back.at.duration_since(returned).as_millis(),
        sounding.as_millis()
    );
    assert!(
        sounding <= Duration::from_secs(2),
        "the band played into the sink {sounding:?} after the server returned"
    );
    let resumed_at: u64 = back
        .text
        .rsplit("resuming at bar ")
        .next()
        .and_then(|bar| bar.trim().parse().ok())
        .unwrap_or_else(|| panic!("no bar in '{}'", back.text));
    // Status lines come once a second; the bar heard last may be one after the last shown.
    assert!(
        resumed_at == last_bar + 1 || resumed_at == last_bar + 2,
        "resumed at bar {resumed_at}, last shown playing bar {last_bar}"
    );

    let (level_after, bpm_after) = measure_band(&server, 6.0, 150.0);
    assert!(
        (bpm_after - bpm_before).abs() < 3.0 && (bpm_after - 150.0).abs() < 3.0,
        "{bpm_before:.2} BPM before, {bpm_after:.2} after"
    );
    // The mutes stay: the band is as quiet as before the loss, as the muted band is
    // offline, and much quieter than the whole band.
    let whole = rms_dbfs(&offline_band(
        &["generique", "--tempo", "150", "--seed", "3"],
        16,
    ));
    let muted = rms_dbfs(&offline_band(&band, 16));
    eprintln!(
        "levels: before {level_before:.1}, after {level_after:.1}; offline {muted:.1} muted, {whole:.1} whole"
    );
    assert!(whole - muted > 4.0, "the mutes make too little difference");
    assert!(
        (level_after - level_before).abs() < 2.0 && (level_after - muted).abs() < 3.0,
        "the sink heard {level_before:.1} dBFS before, {level_after:.1} after; the muted band is {muted:.1}"
    );
    let after_status =
        playing.wait_for(back.at, Duration::from_secs(3), |l| status_bar(l).is_some());
    assert!(
        after_status.text.contains("150 BPM") && after_status.text.contains("Dm7"),
        "{}",
        after_status.text
    );
    eprintln!("{}", playing.transcript());
}
