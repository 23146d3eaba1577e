//! `ascenseur bench`: the engine's cost in a real callback, MIDI-to-sound latency, and
//! audio round-trip latency, each as a table or `--json`.

use super::DeviceArgs;
use anyhow::Context;
use ascenseur::bench::callback::{self, CallbackReport, SAFE_RUN};
use ascenseur::bench::device_roundtrip::{DeviceLoop, measure_device};
use ascenseur::bench::roundtrip::{self, Loopback, RoundtripOptions};
use ascenseur::preset;
use ascenseur::{say, tell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// Callback cost at each buffer size the audio device offers (median, p99.9 and max
    /// as a share of the buffer's time), and the smallest buffer that runs 30 s with no
    /// xrun. `--offline` times the engine alone on this thread instead.
    Dsp(DspArgs),
    /// Note-on to first sound above -50 dBFS through JACK MIDI: by default of an
    /// ascenseur client started for the measurement, or of any synth or loopback cable.
    MidiLatency(MidiLatencyArgs),
    /// Audio out, through a loopback cable, back in: the total round trip in frames and
    /// ms, as `jack_iodelay` measures it.
    Roundtrip(RoundtripArgs),
    /// An evening at the instrument on a JACK server: every preset in turn, the console's
    /// commands, a MIDI player with bursts, takes recorded; memory, file descriptors,
    /// threads and callback load minute by minute, stuck notes, non-finite samples and
    /// dropped events.
    Soak(SoakArgs),
}

#[derive(clap::Args, Debug)]
pub struct SoakArgs {
    /// How long to play, in minutes.
    #[arg(long, default_value_t = 60.0, value_parser = minutes_arg, allow_negative_numbers = true)]
    minutes: f64,
    /// Seed of the band, the player and the console's choices.
    #[arg(long, default_value_t = 1957, value_parser = super::seed_arg, allow_negative_numbers = true)]
    seed: u64,
    /// Keep the takes in this folder (default: a temporary one, each take removed once
    /// it is read back).
    #[arg(long, value_name = "DIR", value_parser = super::non_blank)]
    takes_dir: Option<String>,
    /// JACK client name.
    #[arg(long, default_value = "ascenseur_soak", value_parser = crate::jack_client_name)]
    client_name: String,
    /// Do not connect the outputs to the system playback ports.
    #[arg(long)]
    no_connect: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// `--minutes`: more than 0, at most a day.
fn minutes_arg(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(minutes) if minutes > 0.0 && minutes <= 1440.0 => Ok(minutes),
        _ => Err("use a number of minutes more than 0 and at most 1440".into()),
    }
}

#[derive(clap::Args, Debug)]
pub struct DspArgs {
    // With `--host jack`, the JACK server's period is stepped through the sizes and
    // restored afterwards.
    #[command(flatten)]
    device: DeviceArgs,
    /// Buffer sizes to measure, comma-separated (default: every size the device offers).
    #[arg(long, value_name = "FRAMES", value_delimiter = ',', value_parser = super::whole_number::<u32>(super::BUFFER_FRAMES), allow_negative_numbers = true)]
    buffers: Vec<u32>,
    /// Seconds each buffer size plays. A size is called safe after 30 s with no xrun.
    #[arg(long, default_value_t = 30.0, value_parser = super::seconds_arg, allow_negative_numbers = true)]
    seconds: f64,
    /// Time the engine alone on this thread, without a device, at 32–512 frames.
    #[arg(long)]
    offline: bool,
    /// Do not connect the outputs to the system playback ports.
    #[arg(long)]
    no_connect: bool,
    /// Preset the band plays while measuring.
    #[arg(long, default_value = "florence-sur-les-champs-elysees", value_parser = super::preset_arg)]
    preset: preset::Preset,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub struct MidiLatencyArgs {
    /// Notes to send.
    #[arg(long, default_value_t = 32, value_parser = super::whole_number::<usize>(1..=10_000), allow_negative_numbers = true)]
    notes: usize,
    /// Measure another synth or a loopback cable: the MIDI input port to send to
    /// (default: an ascenseur client started for the measurement).
    #[arg(long, value_name = "PORT", requires = "audio_source", value_parser = super::non_blank)]
    midi_target: Option<String>,
    /// The audio output port to listen to.
    #[arg(long, value_name = "PORT", requires = "midi_target", value_parser = super::non_blank)]
    audio_source: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub struct RoundtripArgs {
    // `--host jack` (implied by --playback, --capture or --graph) uses JACK ports;
    // otherwise the host's output and input devices.
    #[command(flatten)]
    device: DeviceArgs,
    /// cpal hosts: the input device it comes back into (default: the host's default
    /// input).
    #[arg(long, value_name = "DEV", value_parser = super::non_blank)]
    input_device: Option<String>,
    /// The playback port the signal goes out of (default: the first physical one).
    #[arg(long, value_name = "PORT", requires = "capture", conflicts_with = "graph", value_parser = super::non_blank)]
    playback: Option<String>,
    /// The capture port it comes back into (default: the first physical one).
    #[arg(long, value_name = "PORT", requires = "playback", conflicts_with = "graph", value_parser = super::non_blank)]
    capture: Option<String>,
    /// Loop the signal inside the JACK graph instead of through a cable (checks the
    /// measurement itself: one period).
    #[arg(long)]
    graph: bool,
    /// Bursts to send, a quarter second apart.
    #[arg(long, default_value_t = 16, value_parser = super::whole_number::<usize>(1..=1000), allow_negative_numbers = true)]
    bursts: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Dsp(args) => dsp(args),
        BenchCommand::MidiLatency(args) => midi_latency_command(
            args.notes,
            args.midi_target.zip(args.audio_source),
            args.json,
        ),
        BenchCommand::Roundtrip(args) => roundtrip_command(args),
        BenchCommand::Soak(args) => soak_command(args),
    }
}

fn soak_command(args: SoakArgs) -> anyhow::Result<()> {
    use ascenseur::bench::soak::{self, SoakOptions};
    let stop = stop_on_signal()?;
    let options = SoakOptions {
        minutes: args.minutes,
        seed: args.seed,
        client_name: args.client_name,
        connect: !args.no_connect,
        takes_dir: args.takes_dir.map(std::path::PathBuf::from),
    };
    let bar = progress_bar(args.json, "soaking");
    let report = soak::run(&options, &stop, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let report = report
        .context("the soak (a JACK server must be running: `ascenseur bench soak` plays on it)")?;
    if args.json {
        tell!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    print_soak_report(&report);
    Ok(())
}

fn print_soak_report(report: &ascenseur::bench::soak::SoakReport) {
    let mib =
        |kib: Option<u64>| kib.map_or("?".to_string(), |k| format!("{:.1}", k as f64 / 1024.0));
    let count = |n: Option<u64>| n.map_or("?".to_string(), |n| n.to_string());
    tell!(
        "soak: {:.1} min on JACK client '{}' at {} Hz, {} frames per period\n\
         (every preset in turn, the console's commands, a MIDI player with bursts, takes recorded;\n\
         load: callback time as a share of the period's, to half a percent)",
        report.seconds / 60.0,
        report.client,
        report.sample_rate,
        report.period
    );
    tell!(
        "{:>4} {:>8} {:>4} {:>4} {:>9} {:>6} {:>6} {:>6} {:>6} {:>5} {:>6} {:>6} {:>7} {:>5} {:>7} {:>6}",
        "min",
        "RSS MiB",
        "fds",
        "thr",
        "callbacks",
        "p50%",
        "p99%",
        "p99.9%",
        "max%",
        "xruns",
        "notes",
        "events",
        "dropped",
        "takes",
        "presets",
        "NaN/inf"
    );
    for m in &report.minutes {
        tell!(
            "{:>4} {:>8} {:>4} {:>4} {:>9} {:>6.1} {:>6.1} {:>6.1} {:>6.1} {:>5} {:>6} {:>6} {:>7} {:>5} {:>7} {:>6}",
            m.minute,
            mib(m.process.rss_kib),
            count(m.process.fds),
            count(m.process.threads),
            m.callbacks,
            m.load_p50,
            m.load_p99,
            m.load_p999,
            m.load_max,
            m.xruns,
            m.note_ons_sent,
            m.midi_events_sent,
            m.dropped,
            m.takes,
            m.presets_loaded,
            m.non_finite_samples
        );
    }
    let growth = report
        .rss_growth_mib()
        .map_or("?".to_string(), |g| format!("{g:+.2} MiB"));
    tell!(
        "resident memory: {} MiB at the start, {} after the warm-up ({:.0} s), {} at the end: {growth} after the warm-up",
        mib(report.start.rss_kib),
        mib(report.after_warm_up.rss_kib),
        report.warm_up_s,
        mib(report.end.rss_kib)
    );
    tell!(
        "file descriptors: {} → {} → {}; threads: {} → {} → {}",
        count(report.start.fds),
        count(report.after_warm_up.fds),
        count(report.end.fds),
        count(report.start.threads),
        count(report.after_warm_up.threads),
        count(report.end.threads)
    );
    tell!(
        "stuck notes: {} in {} checks{}; the lead after all-notes-off: {:.1} dBFS ({})",
        report.stuck_notes,
        report.stuck_checks,
        if report.stuck_keys.is_empty() {
            String::new()
        } else {
            format!(" (keys {:?})", report.stuck_keys)
        },
        20.0 * f64::from(report.lead_peak_at_end.max(1e-12)).log10(),
        if report.lead_silent_at_end {
            "silent"
        } else {
            "still sounding"
        }
    );
    tell!(
        "notes held after xruns (their MIDI lost with the late cycles): {}; cycles skipped {} times",
        report.notes_held_after_xruns,
        report.missed_cycles
    );
    tell!(
        "samples heard: {}, not finite: {}",
        report.samples_heard,
        report.non_finite_samples
    );
    let d = &report.dropped;
    tell!(
        "dropped events: {} (player ring {}, JACK MIDI buffer {}, engine input {}, band events {}, telemetry {}, journal {}, onsets {}, with no engine {})",
        d.total(),
        d.player_ring,
        d.jack_midi_buffer,
        d.engine_input,
        d.band_events,
        d.telemetry,
        d.journal,
        d.onsets,
        d.live_input
    );
    tell!(
        "played: {} note-ons in {} phrases ({} bursts), {} MIDI events; the engine started {} lead notes; {} console commands, {} playbacks; {} xruns",
        report.note_ons_sent,
        report.phrases,
        report.bursts,
        report.midi_events_sent,
        report.notes_played,
        report.commands,
        report.playbacks,
        report.xruns
    );
    tell!(
        "takes: {} recorded and read back, {} failed; presets played: {}",
        report.takes_recorded,
        report.takes_failed.len(),
        report.presets_played.join(", ")
    );
    for failed in &report.takes_failed {
        tell!("  failed: {failed}");
    }
    for notice in &report.notices {
        tell!("  the session said: {notice}");
    }
}

fn dsp(args: DspArgs) -> anyhow::Result<()> {
    if args.offline {
        return offline_dsp(&args);
    }
    let preset = &args.preset;
    let stop = stop_on_signal()?;
    let bar = progress_bar(args.json, "measuring callbacks");
    let progress = |done: f64, total: f64| {
        bar.set_length((total * 10.0) as u64);
        bar.set_position((done * 10.0) as u64);
    };
    let report = if args.device.is_native_jack() {
        let buffers = if args.buffers.is_empty() {
            callback::JACK_BUFFER_SIZES.to_vec()
        } else {
            args.buffers.clone()
        };
        callback::measure_jack(
            preset,
            &buffers,
            args.seconds,
            !args.no_connect,
            &stop,
            progress,
        )?
    } else {
        let options = args.device.output_options(None);
        match callback::measure_device(
            preset,
            &options,
            &args.buffers,
            args.seconds,
            &stop,
            progress,
        ) {
            Ok(report) => report,
            Err(error) => {
                bar.finish_and_clear();
                if let callback::CallbackBenchError::Device(device) = &error
                    && let Some(bad_value) = super::device_flag_error(device, &options)
                {
                    return Err(bad_value.into());
                }
                return Err(anyhow::Error::new(error).context("no audio device to measure (`ascenseur devices` lists them; --host jack measures a JACK server, --offline the engine alone)"));
            }
        }
    };
    bar.finish_and_clear();
    print_callback_report(&report, &preset.title, args.json)
}

fn stop_on_signal() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
        .context("installing the Ctrl-C / SIGTERM handler")?;
    Ok(stop)
}

fn progress_bar(hidden: bool, message: &str) -> indicatif::ProgressBar {
    if hidden {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(1);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {percent:>3}% ({eta} left)")
            .expect("static progress template")
            .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar
}

fn print_callback_report(report: &CallbackReport, title: &str, json: bool) -> anyhow::Result<()> {
    let smallest_clean = report.smallest_clean();
    let smallest_without_xrun = report.smallest_without_xrun();
    if json {
        let runs: Vec<serde_json::Value> = report
            .runs
            .iter()
            .map(|r| {
                serde_json::json!({
                    "frames": r.frames,
                    "sample_rate": r.sample_rate,
                    "budget_ms": r.budget_s() * 1e3,
                    "callbacks": r.callbacks,
                    "median_percent": r.share(r.median_s),
                    "p999_percent": r.share(r.p999_s),
                    "max_percent": r.share(r.max_s),
                    "wall_max_percent": r.share(r.wall_max_s),
                    "xruns": r.xruns,
                    "seconds": r.seconds,
                    "refused": r.refused,
                })
            })
            .collect();
        let value = serde_json::json!({
            "bench": "dsp",
            "host": report.host,
            "device": report.device,
            "seconds_per_size": report.seconds_per_size,
            "smallest_clean_buffer": smallest_clean,
            "smallest_buffer_without_xrun": smallest_without_xrun,
            "results": runs,
        });
        tell!("{value}");
        return Ok(());
    }
    tell!(
        "callback CPU time as a share of each buffer's time, {} · {}\n({title} with 8 lead notes held, {:.0} s per size)",
        report.host,
        report.device,
        report.seconds_per_size
    );
    tell!(
        "{:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>6}",
        "frames",
        "budget",
        "median",
        "p99.9",
        "max",
        "wall max",
        "callbacks",
        "xruns"
    );
    for r in &report.runs {
        if let Some(why) = &r.refused {
            tell!("{:>7} refused: {why}", r.frames);
            continue;
        }
        tell!(
            "{:>7} {:>7.2}ms {:>8.2}% {:>8.2}% {:>8.2}% {:>8.2}% {:>10} {:>6}",
            r.frames,
            r.budget_s() * 1e3,
            r.share(r.median_s),
            r.share(r.p999_s),
            r.share(r.max_s),
            r.share(r.wall_max_s),
            r.callbacks,
            r.xruns
        );
    }
    let rate = report.runs.first().map_or(48_000, |r| r.sample_rate);
    match (smallest_clean, smallest_without_xrun) {
        (Some(frames), _) => tell!(
            "smallest buffer with no xrun in {} s: {frames} frames ({:.2} ms)",
            SAFE_RUN.as_secs(),
            f64::from(frames) * 1e3 / f64::from(rate)
        ),
        (None, Some(frames)) => tell!(
            "smallest buffer with no xrun: {frames} frames ({:.2} ms) over {:.0} s — run with --seconds 30 to call it safe",
            f64::from(frames) * 1e3 / f64::from(rate),
            report.seconds_per_size
        ),
        (None, None) => tell!("every buffer size had xruns"),
    }
    Ok(())
}

fn offline_dsp(args: &DspArgs) -> anyhow::Result<()> {
    let preset = &args.preset;
    let sizes: Vec<usize> = if args.buffers.is_empty() {
        vec![32, 64, 128, 256, 512]
    } else {
        args.buffers.iter().map(|&b| b as usize).collect()
    };
    let mut rows = Vec::new();
    if !args.json {
        tell!(
            "engine CPU time per block as a share of the block's real-time budget\n\
             ({} with 8 lead notes held, 48 kHz, offline; wall-clock columns include preemption)",
            preset.title
        );
        tell!(
            "{:>7} {:>9} {:>10} {:>10} {:>10} {:>12} {:>10}",
            "frames",
            "budget",
            "median",
            "p99.9",
            "max",
            "wall p99.9",
            "wall max"
        );
    }
    for frames in sizes {
        let blocks = ((args.seconds * 48_000.0) as usize / frames).max(100);
        let cost = ascenseur::bench::measure_blocks(preset, frames, blocks, 8);
        if !args.json {
            tell!(
                "{:>7} {:>7.2}ms {:>9.2}% {:>9.2}% {:>9.2}% {:>11.2}% {:>9.2}%",
                frames,
                cost.budget_s() * 1e3,
                cost.share(cost.median_s),
                cost.share(cost.p999_s),
                cost.share(cost.max_s),
                cost.share(cost.wall_p999_s),
                cost.share(cost.wall_max_s)
            );
        }
        rows.push(cost);
    }
    if args.json {
        let results: Vec<serde_json::Value> = rows
            .iter()
            .map(|c| {
                serde_json::json!({
                    "frames": c.frames,
                    "budget_ms": c.budget_s() * 1e3,
                    "median_percent": c.share(c.median_s),
                    "p999_percent": c.share(c.p999_s),
                    "max_percent": c.share(c.max_s),
                    "wall_p999_percent": c.share(c.wall_p999_s),
                    "wall_max_percent": c.share(c.wall_max_s),
                    "blocks": c.blocks,
                })
            })
            .collect();
        let value = serde_json::json!({
            "bench": "dsp",
            "host": "offline",
            "preset": preset.name,
            "results": results,
        });
        tell!("{value}");
    }
    Ok(())
}

fn roundtrip_command(args: RoundtripArgs) -> anyhow::Result<()> {
    let on_jack = args.device.is_native_jack() || args.graph || args.playback.is_some();
    let bar = progress_bar(args.json, "sending bursts");
    bar.set_length(args.bursts as u64);
    let report = if on_jack {
        let loopback = match (args.graph, args.playback, args.capture) {
            (true, _, _) => Loopback::Graph,
            (false, Some(playback), Some(capture)) => Loopback::Ports { playback, capture },
            _ => Loopback::Physical,
        };
        let options = RoundtripOptions {
            loopback,
            bursts: args.bursts,
            ..RoundtripOptions::default()
        };
        roundtrip::measure(&options, |_, sent| bar.set_position(sent as u64)).map_err(|error| {
            match &error {
                // A port named with --playback or --capture that the server does not have.
                roundtrip::RoundtripError::NoSuchPort { what, name, .. } => {
                    anyhow::Error::new(super::BadValue {
                        flag: if *what == "capture" {
                            super::CAPTURE_FLAG
                        } else {
                            super::PLAYBACK_FLAG
                        },
                        value: name.clone(),
                        reason: error.to_string(),
                    })
                }
                _ => error.into(),
            }
        })?
    } else {
        super::check_loop_devices(
            &args.device.output_options(None),
            args.input_device.as_deref(),
        )?;
        let devices = DeviceLoop {
            host: args.device.host,
            output: args.device.device,
            input: args.input_device,
            rate: args.device.rate,
        };
        measure_device(&devices, args.bursts, |_, sent| {
            bar.set_position(sent as u64)
        })?
    };
    bar.finish_and_clear();
    if args.json {
        let value = serde_json::json!({
            "bench": "roundtrip",
            "sample_rate": report.sample_rate,
            "period": report.period,
            "playback_port": report.playback_port,
            "capture_port": report.capture_port,
            "sent": report.sent,
            "received": report.delays.len(),
            "min_frames": report.min(),
            "median_frames": report.median(),
            "max_frames": report.max(),
            "min_ms": report.ms(report.min()),
            "median_ms": report.ms(report.median()),
            "max_ms": report.ms(report.max()),
            "reported_frames": report.reported_frames,
            "xruns": report.xruns,
        });
        tell!("{value}");
        return Ok(());
    }
    tell!(
        "round trip {} -> {}, {} Hz, {} frames per period",
        report.playback_port,
        report.capture_port,
        report.sample_rate,
        report.period
    );
    tell!("{:>10} {:>10} {:>10}", "", "frames", "ms");
    for (label, frames) in [
        ("min", report.min()),
        ("median", report.median()),
        ("max", report.max()),
    ] {
        tell!("{label:>10} {frames:>10} {:>10.3}", report.ms(frames));
    }
    tell!(
        "bursts sent {} · received {} · xruns {} · the ports report {} frames ({:.3} ms), so the loop adds {} frames",
        report.sent,
        report.delays.len(),
        report.xruns,
        report.reported_frames,
        report.ms(u64::from(report.reported_frames)),
        report.median() as i64 - i64::from(report.reported_frames),
    );
    Ok(())
}

fn midi_latency_command(
    notes: usize,
    ports: Option<(String, String)>,
    json: bool,
) -> anyhow::Result<()> {
    use ascenseur::bench::latency_probe::{ProbeOptions, THRESHOLD_DBFS, measure};
    if !(1..=10_000).contains(&notes) {
        anyhow::bail!("bad --notes {notes}: use 1 to 10000");
    }
    if let Some((midi_target, audio_source)) = &ports {
        super::check_probe_ports(midi_target, audio_source)?;
    }
    // Without ports, measure ascenseur itself: a client of its own with the band silent,
    // so the first sound after a note-on is the lead voice.
    let own = match &ports {
        Some(_) => None,
        None => {
            let preset = preset::find("generique")?;
            let performance =
                ascenseur::live::Performance::of(preset)?.with_mute(&ascenseur::band::Player::ALL);
            let settings = ascenseur::live::SessionSettings {
                seed: 1957,
                host: ascenseur::live::AudioHost::Jack,
                client_name: "ascenseur_bench".into(),
                connect: false,
                takes_dir: None,
                history: None,
            };
            Some(ascenseur::live::start_jack(&settings, &performance)?)
        }
    };
    let (midi_target, audio_source) = match (&ports, &own) {
        (Some((midi, audio)), _) => (midi.clone(), audio.clone()),
        (None, Some(r)) => (
            format!("{}:midi_in", r.0.name),
            format!("{}:out_l", r.0.name),
        ),
        (None, None) => unreachable!("a client was started when no ports were given"),
    };
    let options = ProbeOptions {
        midi_target: midi_target.clone(),
        audio_source: audio_source.clone(),
        notes,
        key: 69,
        velocity: 100,
        hold: std::time::Duration::from_millis(250),
        timeout: std::time::Duration::from_secs(30 + notes as u64),
        seed: 1957,
    };
    if !json {
        say!(
            "sending {notes} note-ons to {midi_target}, listening on {audio_source} (threshold {THRESHOLD_DBFS} dBFS)…"
        );
    }
    let report = measure(&options)?;
    if let Some(r) = own {
        r.0.stop();
    }
    let received = report.notes.len();
    if json {
        let value = serde_json::json!({
            "bench": "midi-latency",
            "midi_target": midi_target,
            "audio_source": audio_source,
            "sample_rate": report.sample_rate,
            "period": report.period,
            "sent": report.sent,
            "received": received,
            "xrun_notes": report.xrun_notes(),
            "min_frames": report.min(),
            "avg_frames": report.mean(),
            "max_frames": report.max(),
            "jitter_frames": report.jitter(),
            "min_ms": report.ms(report.min() as f64),
            "avg_ms": report.ms(report.mean()),
            "max_ms": report.ms(report.max() as f64),
            "jitter_ms": report.ms(report.jitter() as f64),
        });
        tell!("{value}");
    } else {
        tell!(
            "MIDI note-on to first sample above {THRESHOLD_DBFS} dBFS, {} Hz, {} frames per period",
            report.sample_rate,
            report.period
        );
        tell!("{:>10} {:>10} {:>10}", "", "frames", "ms");
        for (label, frames) in [
            ("min", report.min() as f64),
            ("avg", report.mean()),
            ("max", report.max() as f64),
            ("jitter", report.jitter() as f64),
        ] {
            tell!("{label:>10} {frames:>10.1} {:>10.3}", report.ms(frames));
        }
        tell!(
            "messages sent {} · received {received} · disturbed by xruns {} (left out of the figures)",
            report.sent,
            report.xrun_notes()
        );
    }
    Ok(())
}
