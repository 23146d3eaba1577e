//! Playing live: the session that outlives its audio connection.
//!
//! The main thread owns the session: it builds an engine for the chosen preset, hands it
//! to a driver (JACK for now), prints status, and when the server goes away keeps the
//! session — preset, tempo, mutes, position in the form — and rebuilds the engine there
//! when a server is back. Held notes are released by the loss itself (the new engine
//! starts with none).

use crate::band::{Arrangement, Player};
use crate::engine::{Command, Engine, EngineConfig, EngineController, Telemetry};
use crate::io::jack::{self, JackError, JackSession};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a lost server is looked for again.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// Everything needed to (re)build the engine.
#[derive(Clone)]
pub struct SessionSettings {
    pub arrangement: Arrangement,
    pub seed: u64,
    pub mute: Vec<Player>,
    pub client_name: String,
    pub connect: bool,
}

/// A session connected to JACK: the driver and the engine's controller.
pub struct Running {
    pub jack: JackSession,
    pub controller: EngineController,
}

fn build(
    settings: &SessionSettings,
    sample_rate: f32,
    start_bar: u64,
) -> (Engine, EngineController) {
    let config = EngineConfig {
        sample_rate,
        seed: settings.seed,
        mute: Player::mask(&settings.mute),
    };
    let (mut engine, controller) = Engine::new(config, settings.arrangement.clone());
    if start_bar > 0 {
        engine.start_at_bar(start_bar);
    }
    (engine, controller)
}

/// Build the engine for `settings` and start it on the default JACK server.
pub fn start_jack(settings: &SessionSettings) -> Result<Running, JackError> {
    connect(settings, 0)
}

fn connect(settings: &SessionSettings, start_bar: u64) -> Result<Running, JackError> {
    let client = jack::open_client(&settings.client_name)?;
    let sample_rate = client.sample_rate() as f32;
    let (engine, controller) = build(settings, sample_rate, start_bar);
    let jack = jack::start(
        client,
        engine,
        jack::StartOptions {
            connect: settings.connect,
            ..jack::StartOptions::default()
        },
    )?;
    Ok(Running { jack, controller })
}

fn describe(running: &Running) -> String {
    let j = &running.jack;
    format!(
        "JACK client '{}' at {} Hz, {} frames per period ({:.2} ms){}",
        j.name,
        j.sample_rate,
        j.period,
        j.period as f64 * 1e3 / j.sample_rate as f64,
        if j.connected.is_empty() {
            String::from(", not connected")
        } else {
            format!(", connected {}", j.connected.join(", "))
        }
    )
}

fn status_line(
    settings: &SessionSettings,
    running: &Running,
    telemetry: &Telemetry,
    earlier_xruns: u64,
) -> String {
    let arrangement = &settings.arrangement;
    let slot = &arrangement.slots[telemetry.position.slot.min(arrangement.slots.len() - 1)];
    format!(
        "bar {} beat {} · {} · {} · {:.0} BPM · lead {} · notes {} · xruns {} · dropped {}",
        telemetry.position.bar + 1,
        telemetry.position.beat.floor() as u32 + 1,
        slot.chord,
        slot.mode,
        telemetry.tempo,
        telemetry.lead.slug(),
        telemetry.notes_played,
        earlier_xruns + running.jack.status.xruns(),
        telemetry.dropped_input + telemetry.dropped_events,
    )
}

/// Play until `stop` is set (Ctrl-C, SIGTERM), printing status lines to stderr. Returns
/// an error only if the first connection fails.
pub fn run_headless(settings: SessionSettings, stop: Arc<AtomicBool>) -> Result<(), JackError> {
    let mut running = Some(connect(&settings, 0)?);
    if let Some(r) = &running {
        eprintln!("{} — playing {}", describe(r), settings.arrangement.title);
    }
    let mut last_telemetry: Option<Telemetry> = None;
    // Xruns of connections already lost, so the count shown covers the whole session.
    let mut earlier_xruns = 0;
    let mut reported_panic = false;
    let mut last_status = Instant::now();
    let mut last_retry = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        match &mut running {
            Some(r) => {
                r.controller.collect_garbage();
                if let Some(t) = r.controller.latest_telemetry() {
                    last_telemetry = Some(t);
                }
                // Said once: the status line keeps running, and silence speaks for itself.
                if r.jack.status.has_panicked() && !reported_panic {
                    reported_panic = true;
                    eprintln!("the engine failed inside the audio callback; output is silent");
                }
                if r.jack.status.is_lost() {
                    eprintln!("the JACK server stopped; looking for it again every second");
                    if let Some(gone) = running.take() {
                        earlier_xruns += gone.jack.status.xruns();
                        gone.jack.stop();
                    }
                    last_retry = Instant::now();
                    continue;
                }
                if last_status.elapsed() >= Duration::from_secs(1) {
                    last_status = Instant::now();
                    if let Some(t) = &last_telemetry {
                        eprintln!("{}", status_line(&settings, r, t, earlier_xruns));
                    }
                }
            }
            None => {
                if last_retry.elapsed() < RETRY_INTERVAL {
                    continue;
                }
                last_retry = Instant::now();
                // Resume at the next bar of the form, with the tempo the player had.
                let resume_bar = last_telemetry.map_or(0, |t| t.position.bar + 1);
                if let Ok(mut r) = connect(&settings, resume_bar) {
                    if let Some(t) = &last_telemetry {
                        let _ = r.controller.send(Command::SetTempo(t.tempo));
                    }
                    eprintln!(
                        "JACK is back: {} — resuming at bar {}",
                        describe(&r),
                        resume_bar + 1
                    );
                    reported_panic = false;
                    running = Some(r);
                }
            }
        }
    }
    if let Some(r) = running {
        r.jack.stop();
    }
    eprintln!("stopped");
    Ok(())
}
