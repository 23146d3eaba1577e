//! The cpal output driver end to end, through cpal's JACK host on a real JACK server
//! (dummy driver, paced like a sound card): the band is heard by a probe client at the
//! level an offline render has, at the server's rate and period; a server that goes
//! away is reported as a lost device, and the driver opens again when it is back. Option
//! errors name the bad value and list the choices (on ALSA, whose "null" device is always
//! there).
//!
//! One scenario at a time (see `OneAtATime`): the scenarios point this process's JACK
//! clients at their server through the environment, which must not change while other
//! threads read it. Without `jackd` the JACK scenarios are reported as skipped, except
//! under `CI=true`, where they fail.

#[path = "support/jack_server.rs"]
mod jack_server;

use ascenseur::band::arrangement_for;
use ascenseur::engine::{Engine, EngineConfig, EngineController};
use ascenseur::io::cpal_out::{self, CpalSession, OutputOptions};
use ascenseur::io::live_input::LiveInput;
use jack_server::{JackServer, OneAtATime, jack_scenario, one_at_a_time, unique};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The server of this test binary (cpal's JACK host finds it through the environment).
fn server_name() -> String {
    unique("audio-cpal")
}
/// Seconds of band the probe records before judging the level.
const LISTEN_SECONDS: f64 = 3.0;

/// This scenario's server, with this process's JACK clients pointed at it.
fn start_server(scenario: &OneAtATime) -> JackServer {
    scenario.clients_use(&server_name());
    JackServer::start(&server_name())
}

#[test]
fn the_band_is_heard_at_the_servers_rate_and_period() {
    let Some(scenario) = jack_scenario(&[]) else {
        return;
    };
    let server = start_server(&scenario);
    let session = band_is_heard_at_the_servers_rate_and_period(&server, offline_band_level());
    stop_within(session, Duration::from_secs(5));
}

/// The server stops: the driver says the device is lost, and letting go of it neither
/// hangs nor panics.
#[test]
fn a_stopped_server_is_reported_as_a_lost_device_and_let_go_of() {
    let Some(scenario) = jack_scenario(&[]) else {
        return;
    };
    let mut server = start_server(&scenario);
    let session = play_the_band_on_jack();
    let started = wait_until(Duration::from_secs(5), || session.observed_frames());
    assert!(started.is_some(), "no callbacks: {}", session.describe());
    server.stop();
    let lost_within = wait_until(Duration::from_secs(5), || session.status.is_lost());
    assert!(
        lost_within.is_some(),
        "the stopped server was not reported as lost"
    );
    eprintln!(
        "loss reported {:.0} ms after the server stopped ({:?})",
        lost_within.unwrap().0.as_secs_f64() * 1e3,
        session.last_error()
    );
    stop_within(session, Duration::from_secs(5));
}

/// Back again: open + start as at first, and the band is heard as before.
#[test]
fn the_driver_opens_again_when_the_server_is_back() {
    let Some(scenario) = jack_scenario(&[]) else {
        return;
    };
    let mut server = start_server(&scenario);
    let session = play_the_band_on_jack();
    server.stop();
    let lost = wait_until(Duration::from_secs(5), || session.status.is_lost());
    assert!(
        lost.is_some(),
        "the stopped server was not reported as lost"
    );
    stop_within(session, Duration::from_secs(5));

    let server = start_server(&scenario);
    let session = band_is_heard_at_the_servers_rate_and_period(&server, offline_band_level());
    stop_within(session, Duration::from_secs(5));
}

/// Open cpal's default JACK output and start the band on it.
fn play_the_band_on_jack() -> CpalSession {
    let prepared = cpal_out::open(&OutputOptions {
        host: Some("jack".into()),
        ..OutputOptions::default()
    })
    .expect("open cpal's JACK output");
    let (engine, _controller) = band(prepared.sample_rate());
    prepared.start(engine, None).expect("start the stream")
}

/// `bench roundtrip` on a desktop host: cpal's JACK output looped into cpal's JACK input
/// inside the graph (a cable, for this machine). Two clients in one cycle: the signal
/// comes back in the same period, so the figure is small, and steady.
#[test]
fn a_round_trip_through_devices_finds_every_burst() {
    use ascenseur::bench::device_roundtrip::{DeviceLoop, measure_device};
    let Some(scenario) = jack_scenario(&[]) else {
        return;
    };
    let _server = start_server(&scenario);
    let pid = std::process::id();
    let patch = std::thread::spawn(move || {
        let (client, _) =
            jack::Client::new("roundtrip_patch", jack::ClientOptions::NO_START_SERVER).unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            let outs = client.ports(
                Some(&format!("cpal_client_{pid}_out:")),
                None,
                jack::PortFlags::IS_OUTPUT,
            );
            let ins = client.ports(
                Some(&format!("cpal_client_{pid}_in:")),
                None,
                jack::PortFlags::IS_INPUT,
            );
            if let (Some(out), Some(input)) = (outs.first(), ins.first()) {
                client.connect_ports_by_name(out, input).unwrap();
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    });
    let report = measure_device(
        &DeviceLoop {
            host: Some("jack".into()),
            ..DeviceLoop::default()
        },
        6,
        |_, _| {},
    )
    .expect("round trip through cpal's JACK devices");
    assert!(patch.join().unwrap(), "cpal's JACK ports never appeared");
    eprintln!(
        "device round trip: min {} median {} max {} frames over {} of {} bursts",
        report.min(),
        report.median(),
        report.max(),
        report.delays.len(),
        report.sent
    );
    assert!(report.delays.len() >= 4, "{report:?}");
    assert!(report.max() <= 3 * 64, "{report:?}");
    assert!(report.max() - report.min() <= 64, "{report:?}");
}

/// What `play` does on a desktop device: the session notices the loss, retries every
/// second, and picks the form up at the next bar with the player's tempo.
#[test]
fn a_session_on_a_device_resumes_where_it_was_when_the_device_returns() {
    use ascenseur::live::{AudioHost, Intent, Notice, Performance, Session, SessionSettings};
    let Some(scenario) = jack_scenario(&[]) else {
        return;
    };
    let mut server = start_server(&scenario);
    let preset = ascenseur::preset::find("generique").unwrap();
    let settings = SessionSettings {
        takes_dir: None,
        history: None,
        seed: 1957,
        host: AudioHost::Device(OutputOptions {
            host: Some("jack".into()),
            ..OutputOptions::default()
        }),
        client_name: "unused".into(),
        connect: false,
    };
    let performance = Performance::of(preset).unwrap();
    let mut session = Session::start(settings, performance).expect("session on cpal's JACK host");
    session.apply(Intent::StepTempo(150.0 - 66.0)).unwrap();
    let poll_until = |session: &mut Session, timeout: Duration, want: &dyn Fn(&Notice) -> bool| {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Some(notice) = session.poll() {
                eprintln!("session: {notice}");
                if want(&notice) {
                    return Some(started.elapsed());
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    };
    // Play into bar 3 (a bar is 1.6 s at 150 BPM; the tempo applies from the next bar).
    let started = Instant::now();
    while session.telemetry().is_none_or(|t| t.position.bar < 2) {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the band did not play"
        );
        assert_eq!(session.poll(), None);
        std::thread::sleep(Duration::from_millis(20));
    }
    server.stop();
    assert!(
        poll_until(&mut session, Duration::from_secs(5), &|n| matches!(
            n,
            Notice::Lost(_)
        ))
        .is_some(),
        "the session did not notice the device going away"
    );
    assert!(session.driver().is_none());
    let at_loss = *session.telemetry().unwrap();
    let _server = start_server(&scenario);
    let resumed = poll_until(&mut session, Duration::from_secs(5), &|n| {
        matches!(n, Notice::Resumed { .. })
    })
    .expect("the session did not resume when the device came back");
    eprintln!(
        "resumed {:.2} s after the server was back",
        resumed.as_secs_f64()
    );
    // It plays on from the next bar, at the player's tempo.
    let started = Instant::now();
    loop {
        let _ = session.poll();
        // A new engine's telemetry (not the snapshot kept from before the loss), one bar
        // on from where the player was.
        if let Some(t) = session.telemetry().filter(|t| t.frame != at_loss.frame) {
            assert_eq!(
                t.position.bar,
                at_loss.position.bar + 1,
                "resumed at the wrong bar"
            );
            assert_eq!(t.tempo, 150.0);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no telemetry after resuming"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    session.stop();
}

fn band(sample_rate: u32) -> (Engine, EngineController) {
    let preset = ascenseur::preset::find("generique").expect("generique preset");
    let arrangement = arrangement_for(&preset, None, None).expect("arrangement");
    let config = EngineConfig {
        sample_rate: sample_rate as f32,
        ..EngineConfig::default()
    };
    Engine::new(config, arrangement)
}

fn rms_dbfs(samples: &[f32]) -> f64 {
    let mean_square = samples
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        / samples.len() as f64;
    10.0 * mean_square.max(1e-20).log10()
}

/// The band's left-channel level over its first seconds, rendered offline at 48 kHz.
fn offline_band_level() -> f64 {
    let (mut engine, _controller) = band(48_000);
    let frames = (LISTEN_SECONDS * 48_000.0) as usize;
    let mut left = Vec::with_capacity(frames);
    let mut block = vec![0.0f32; 2 * 64];
    while left.len() < frames {
        engine.process(&mut block);
        left.extend(block.chunks_exact(2).map(|f| f[0]));
    }
    rms_dbfs(&left)
}

/// cpal's ALSA host with the device, rate and buffer asked for.
fn alsa(
    device: &str,
    rate: Option<u32>,
    buffer: Option<u32>,
) -> Result<cpal_out::PreparedOutput, cpal_out::CpalError> {
    cpal_out::open(&OutputOptions {
        host: Some("ALSA".into()),
        device: Some(device.into()),
        rate,
        buffer,
    })
}

#[test]
fn an_unknown_host_is_refused_with_the_list_of_hosts() {
    let _scenario = one_at_a_time();
    let error = cpal_out::open(&OutputOptions {
        host: Some("nosuchhost".into()),
        ..OutputOptions::default()
    })
    .err()
    .expect("an unknown host is refused")
    .to_string();
    assert!(error.contains("'nosuchhost'"), "{error}");
    assert!(error.contains("alsa"), "{error}");
}

#[test]
fn an_unknown_device_is_refused_with_the_list_of_devices() {
    let _scenario = one_at_a_time();
    match alsa("nosuchdevice", None, None) {
        Err(error) => {
            let error = error.to_string();
            assert!(error.contains("'nosuchdevice'"), "{error}");
            assert!(
                error.contains("(null)"),
                "the list of devices is missing: {error}"
            );
        }
        Ok(_) => panic!("an unknown device was accepted"),
    }
}

#[test]
fn a_device_index_past_the_list_is_refused() {
    let _scenario = one_at_a_time();
    match alsa("999", None, None) {
        Err(error) => assert!(error.to_string().contains("'999'"), "{error}"),
        Ok(_) => panic!("an index past the list was accepted"),
    }
}

#[test]
fn a_zero_buffer_is_refused_with_the_devices_range() {
    let _scenario = one_at_a_time();
    match alsa("null", None, Some(0)) {
        Err(error) => {
            let error = error.to_string();
            assert!(error.contains("buffer size 0 frames"), "{error}");
            assert!(error.contains(" to "), "the range is missing: {error}");
        }
        Ok(_) => panic!("a zero buffer was accepted"),
    }
}

/// The null device plays (and discards) at any rate: the conversion path runs too.
#[test]
fn the_alsa_null_device_plays_the_band_at_the_rate_and_buffer_asked_for() {
    let _scenario = one_at_a_time();
    let prepared = alsa("null", Some(44_100), Some(256)).expect("ALSA null device");
    assert_eq!(prepared.sample_rate(), 44_100);
    assert_eq!(prepared.requested_buffer(), Some(256));
    assert_eq!(prepared.host_name(), "ALSA");
    let (engine, _controller) = band(prepared.sample_rate());
    let session = prepared.start(engine, None).expect("play on ALSA null");
    let ran = wait_until(Duration::from_secs(5), || {
        session.observed_frames().is_some()
            && session
                .status
                .cycles
                .load(std::sync::atomic::Ordering::Relaxed)
                > 10
    });
    assert!(
        ran.is_some(),
        "no callbacks on ALSA null: {}",
        session.describe()
    );
    assert!(!session.status.has_panicked());
    eprintln!("ALSA null: {}", session.describe());
    stop_within(session, Duration::from_secs(5));
}

#[test]
fn devices_lists_the_jack_output_at_the_servers_rate_and_period() {
    let Some(scenario) = jack_scenario(&[]) else {
        return;
    };
    let server = start_server(&scenario);
    let output = server
        .command(env!("CARGO_BIN_EXE_ascenseur"))
        .args(["devices", "--json"])
        .output()
        .expect("run ascenseur devices");
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let jack = report["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .find(|h| h["name"] == "JACK")
        .expect("the JACK host is listed");
    let device = &jack["output_devices"][0];
    assert_eq!(device["is_default"], true, "{jack}");
    assert_eq!(device["sample_rates"][0]["min"], 48_000, "{jack}");
    assert_eq!(device["ascenseur_would_use"]["buffer_frames"], 64, "{jack}");
    assert_eq!(device["ascenseur_would_use"]["channels"], 2, "{jack}");
}

/// cpal's JACK host with the rate and buffer asked for.
fn jack(
    rate: Option<u32>,
    buffer: Option<u32>,
) -> Result<cpal_out::PreparedOutput, cpal_out::CpalError> {
    cpal_out::open(&OutputOptions {
        host: Some("jack".into()),
        device: None,
        rate,
        buffer,
    })
}

#[test]
fn a_buffer_other_than_the_servers_period_is_refused_with_the_period() {
    let Some(scenario) = jack_scenario(&[]) else {
        return;
    };
    let _server = start_server(&scenario);
    let error = jack(None, Some(1024))
        .err()
        .expect("buffer 1024")
        .to_string();
    assert!(
        error.contains("1024") && error.contains("64 to 64"),
        "{error}"
    );
}

#[test]
fn a_rate_other_than_the_servers_is_refused_with_the_servers() {
    let Some(scenario) = jack_scenario(&[]) else {
        return;
    };
    let _server = start_server(&scenario);
    let error = jack(Some(44_100), None)
        .err()
        .expect("rate 44100")
        .to_string();
    assert!(
        error.contains("44100") && error.contains("48000 Hz"),
        "{error}"
    );
}

#[test]
fn a_jack_device_that_is_not_there_is_refused_with_the_list() {
    let Some(scenario) = jack_scenario(&[]) else {
        return;
    };
    let _server = start_server(&scenario);
    let error = cpal_out::open(&OutputOptions {
        host: Some("jack".into()),
        device: Some("speakers".into()),
        ..OutputOptions::default()
    })
    .err()
    .expect("no such JACK device")
    .to_string();
    assert!(
        error.contains("'speakers'") && error.contains("'JACK Output'"),
        "{error}"
    );
}

/// Open the default JACK output through cpal, play the band, and record it with a probe.
fn band_is_heard_at_the_servers_rate_and_period(
    server: &JackServer,
    offline_dbfs: f64,
) -> CpalSession {
    let prepared = cpal_out::open(&OutputOptions {
        host: Some("jack".into()),
        ..OutputOptions::default()
    })
    .expect("open cpal's JACK output");
    assert_eq!(prepared.sample_rate(), 48_000);
    assert_eq!(prepared.requested_buffer(), Some(64));
    let (engine, controller) = band(prepared.sample_rate());
    let live = Arc::new(LiveInput::new());
    let session = prepared
        .start(engine, Some(Arc::clone(&live)))
        .expect("start the stream");
    // The controller must outlive the stream only as long as we listen.
    let _controller = controller;

    let ports = wait_until(Duration::from_secs(5), || {
        let ours: Vec<String> = server
            .ports()
            .lines()
            .map(str::trim)
            .filter(|p| p.starts_with("cpal_client_") && p.contains(":out_"))
            .map(String::from)
            .collect();
        (ours.len() == 2).then_some(ours)
    });
    let ports = ports.expect("cpal's two output ports").1;
    let recording = record(&ports, LISTEN_SECONDS);

    assert_eq!(session.sample_rate(), 48_000);
    assert_eq!(session.observed_frames(), Some((64, 64)));
    assert_eq!(session.buffer_frames(), Some(64));
    let clock = live
        .clock()
        .latest()
        .expect("the callback publishes its clock");
    assert_eq!((clock.sample_rate, clock.period), (48_000, 64));
    assert!(!session.status.has_panicked());
    eprintln!(
        "{} · xruns {} · load {:.1}% (peak {:.1}%)",
        session.describe(),
        session.status.xruns(),
        session.status.load() * 100.0,
        session.status.take_peak_load() * 100.0
    );

    for (channel, samples) in ["left", "right"].iter().zip(&recording) {
        let start = samples
            .iter()
            .position(|x| x.abs() > 1e-4)
            .unwrap_or_else(|| panic!("the {channel} channel is silent"));
        let heard = &samples[start..];
        let peak = heard.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let level = rms_dbfs(heard);
        eprintln!(
            "{channel}: {:.2} s of band, {level:.1} dBFS RMS (offline {offline_dbfs:.1}), peak {peak:.3}",
            heard.len() as f64 / 48_000.0
        );
        assert!(
            heard.len() > 48_000,
            "under a second of sound on the {channel}"
        );
        assert!(peak <= 1.0, "the {channel} clips: {peak}");
        if *channel == "left" {
            assert!(
                (level - offline_dbfs).abs() < 6.0,
                "live level {level:.1} dBFS is far from the offline render's {offline_dbfs:.1}"
            );
        } else {
            assert!(
                level > -50.0,
                "the right channel is nearly silent: {level:.1}"
            );
        }
    }
    session
}

/// Record `ports` (left, right) for `seconds` through a probe client.
fn record(ports: &[String], seconds: f64) -> [Vec<f32>; 2] {
    let (client, _) = jack::Client::new("cpal_probe", jack::ClientOptions::NO_START_SERVER)
        .expect("probe client");
    let inputs = [
        client
            .register_port("in_l", jack::AudioIn::default())
            .expect("probe port"),
        client
            .register_port("in_r", jack::AudioIn::default())
            .expect("probe port"),
    ];
    let frames = (seconds * f64::from(client.sample_rate())) as usize;
    let probe = Recorder {
        inputs,
        recorded: [Vec::with_capacity(frames), Vec::with_capacity(frames)],
    };
    let client = client.activate_async((), probe).expect("activate probe");
    for (ours, theirs) in ports.iter().zip(["cpal_probe:in_l", "cpal_probe:in_r"]) {
        client
            .as_client()
            .connect_ports_by_name(ours, theirs)
            .expect("connect probe");
    }
    std::thread::sleep(Duration::from_secs_f64(seconds + 0.5));
    let (_, _, probe) = client.deactivate().expect("deactivate probe");
    probe.recorded
}

/// Copies its inputs into buffers allocated beforehand, until they are full.
struct Recorder {
    inputs: [jack::Port<jack::AudioIn>; 2],
    recorded: [Vec<f32>; 2],
}

impl jack::ProcessHandler for Recorder {
    fn process(&mut self, _: &jack::Client, scope: &jack::ProcessScope) -> jack::Control {
        for (input, recorded) in self.inputs.iter().zip(&mut self.recorded) {
            let room = recorded.capacity() - recorded.len();
            let block = input.as_slice(scope);
            recorded.extend_from_slice(&block[..block.len().min(room)]);
        }
        jack::Control::Continue
    }
}

/// Poll `ready` until it is true (or `Some`) or `timeout` passes; the time it took and
/// the value.
fn wait_until<T: Truthy>(
    timeout: Duration,
    mut ready: impl FnMut() -> T,
) -> Option<(Duration, T::Value)> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if let Some(value) = ready().value() {
            return Some((started.elapsed(), value));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

trait Truthy {
    type Value;
    fn value(self) -> Option<Self::Value>;
}

impl Truthy for bool {
    type Value = ();
    fn value(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Truthy for Option<T> {
    type Value = T;
    fn value(self) -> Option<T> {
        self
    }
}

/// Stop `session` on another thread and require it to finish, without a panic, in time.
fn stop_within(session: CpalSession, timeout: Duration) {
    let (done, finished) = std::sync::mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.stop()));
        let _ = done.send(result.is_ok());
    });
    match finished.recv_timeout(timeout) {
        Ok(true) => eprintln!(
            "session stopped in {:.0} ms",
            started.elapsed().as_secs_f64() * 1e3
        ),
        Ok(false) => panic!("stopping the session panicked"),
        Err(_) => panic!("stopping the session hung for more than {timeout:?}"),
    }
}
