//! The `ascenseur` command: render, presets, check.

use anyhow::Context;
use ascenseur::preset::{self, PresetError};
use ascenseur::render::{self, RenderError, RenderOptions};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// A real-time improvisation practice instrument: a 1957 rhythm section vamping on the
/// cues of "Ascenseur pour l'échafaud".
#[derive(Parser, Debug)]
#[command(name = "ascenseur", version, about, long_about = None, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Play a preset live and take the player's MIDI (Générique by default).
    Play(PlayArgs),
    /// Render a preset offline to a 48 kHz stereo WAV.
    Render(RenderArgs),
    /// List the presets: name, title, tempo, feel, modes.
    Presets,
    /// List the audio hosts and output devices (with what each supports) and the MIDI
    /// input ports.
    Devices {
        /// Print JSON instead of a listing.
        #[arg(long)]
        json: bool,
    },
    /// Benchmarks: `dsp` (the engine's cost per block at 32–512 frames, as a share of
    /// the real-time budget) or `midi-latency` (note-on to first sound through JACK).
    Bench {
        /// What to measure: `dsp` (engine cost per block) or `midi-latency` (note-on to
        /// first sound through JACK).
        #[arg(default_value = "dsp")]
        what: String,
        /// midi-latency: notes to send.
        #[arg(long, default_value_t = 32)]
        notes: usize,
        /// midi-latency: measure another synth or a loopback cable: the MIDI input port to
        /// send to (default: an ascenseur client started for the measurement).
        #[arg(long, requires = "audio_source")]
        midi_target: Option<String>,
        /// midi-latency: the audio output port to listen to.
        #[arg(long, requires = "midi_target")]
        audio_source: Option<String>,
        /// Preset the band plays while measuring.
        #[arg(long, default_value = "florence-sur-les-champs-elysees")]
        preset: String,
        /// Seconds of audio to time per buffer size.
        #[arg(long, default_value_t = 30.0)]
        seconds: f32,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Validate a preset file (exit code 2 if it is invalid).
    Check {
        /// The preset file (TOML).
        file: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
struct PlayArgs {
    /// Preset name (see `ascenseur presets`) or path to a preset file.
    #[arg(default_value = "generique")]
    preset: String,
    /// Run without the console: status lines on stderr; stop with Ctrl-C or SIGTERM.
    #[arg(long)]
    headless: bool,
    /// Audio host: "jack" for ascenseur's own JACK client, or a cpal host such as
    /// "alsa" (default: the system's default host; see `ascenseur devices`).
    #[arg(long)]
    host: Option<String>,
    /// Output device: name, unique part of a name, id or index from `ascenseur devices`
    /// (default: the host's default device).
    #[arg(long)]
    device: Option<String>,
    /// Sample rate in Hz (default: 48000 if the device offers it, else its own).
    #[arg(long)]
    rate: Option<u32>,
    /// Frames per audio callback (default: 128, within the device's range).
    #[arg(long)]
    buffer: Option<u32>,
    /// Do not connect the outputs to the system playback ports or physical MIDI
    /// outputs to the input.
    #[arg(long)]
    no_connect: bool,
    /// JACK client name.
    #[arg(long, default_value = "ascenseur")]
    client_name: String,
    #[command(flatten)]
    band: BandArgs,
}

/// How the band plays, for `play` and `render` alike.
#[derive(clap::Args, Debug)]
struct BandArgs {
    /// Seed for the band's choices: the same seed gives the same lines.
    #[arg(long, default_value_t = 1957)]
    seed: u64,
    /// Tempo in BPM (default: the preset's).
    #[arg(long)]
    tempo: Option<f32>,
    /// Transpose to this key, e.g. "Eb" or "E minor".
    #[arg(long)]
    key: Option<String>,
    /// Players to leave out, comma-separated: bass,drums,piano.
    #[arg(long, default_value = "")]
    mute: String,
}

#[derive(clap::Args, Debug)]
struct RenderArgs {
    /// Preset name (see `ascenseur presets`) or path to a preset file.
    preset: String,
    /// Output WAV file.
    #[arg(short, long)]
    output: PathBuf,
    /// Bars to render (default: one pass of the form, or the length of --input).
    #[arg(long)]
    bars: Option<u32>,
    /// Frames per engine block (does not change the result).
    #[arg(long, default_value_t = 256)]
    block: usize,
    /// Also write bass.wav, drums.wav, piano.wav and lead.wav into this directory.
    #[arg(long)]
    stems: Option<PathBuf>,
    /// A Standard MIDI File to play through the lead voice over the band.
    #[arg(long)]
    input: Option<PathBuf>,
    #[command(flatten)]
    band: BandArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command;
    let result = match command {
        Command::Render(args) => render_command(args),
        Command::Play(args) => play_command(args),
        Command::Presets => presets_command(),
        Command::Devices { json } => devices_command(json),
        Command::Check { file } => check_command(&file),
        Command::Bench {
            what,
            notes,
            midi_target,
            audio_source,
            preset,
            seconds,
            json,
        } => match what.as_str() {
            "midi-latency" => midi_latency_command(notes, midi_target.zip(audio_source), json),
            _ => bench_command(&what, &preset, seconds, json),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A bad preset is the user's input, not a failure of the program: exit 2.
            let code = error
                .chain()
                .find_map(|e| {
                    e.downcast_ref::<PresetError>()
                        .map(|p| p.exit_code())
                        .or_else(|| match e.downcast_ref::<RenderError>() {
                            Some(RenderError::Preset(p)) => Some(p.exit_code()),
                            _ => None,
                        })
                })
                .unwrap_or(1);
            eprintln!("error: {}", describe_error(&error));
            ExitCode::from(code as u8)
        }
    }
}

fn render_command(args: RenderArgs) -> anyhow::Result<()> {
    let preset = preset::find(&args.preset)?;
    let options = RenderOptions {
        bars: args.bars,
        seed: args.band.seed,
        tempo: args.band.tempo,
        key: args.band.key,
        block: args.block,
        mute: render::parse_mute(&args.band.mute)?,
        input: args.input,
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {percent:>3}% ({eta} left)")
            .expect("static progress template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("rendering {}", preset.title));
    let started = std::time::Instant::now();
    let summary = render::render_to_files(
        &preset,
        &options,
        &args.output,
        args.stems.as_deref(),
        |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )
    .with_context(|| format!("rendering '{}'", preset.name))?;
    bar.finish_and_clear();
    let seconds = summary.frames as f64 / summary.sample_rate as f64;
    let bars = summary.bar_starts.len();
    eprintln!(
        "wrote {} ({bars} bars of {} at {:.0} BPM, {seconds:.1} s of audio in {:.2} s)",
        args.output.display(),
        preset.title,
        summary.arrangement.tempo,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn presets_command() -> anyhow::Result<()> {
    let catalog = preset::catalog();
    println!(
        "{:<34} {:<34} {:>5}  {:<13} modes",
        "name", "title", "BPM", "feel"
    );
    for entry in &catalog {
        match &entry.preset {
            Ok(p) => {
                let mut modes: Vec<String> = Vec::new();
                for change in p.sections.iter().flat_map(|s| &s.changes) {
                    let text = format!("{} {}", change.chord, change.mode);
                    if !modes.contains(&text) {
                        modes.push(text);
                    }
                }
                let user = if entry.is_user() { " (user)" } else { "" };
                println!(
                    "{:<34} {:<34} {:>5.0}  {:<13} {}",
                    format!("{}{user}", p.name),
                    p.title,
                    p.tempo,
                    p.feel.slug(),
                    modes.join(", ")
                );
            }
            Err(e) => eprintln!("skipped invalid user preset: {e}"),
        }
    }
    Ok(())
}

fn devices_command(json: bool) -> anyhow::Result<()> {
    let report = ascenseur::io::devices::report();
    // MIDI input ports: set `report.midi_input_ports` from the MIDI module here.
    let text = if json {
        report.to_json() + "\n"
    } else {
        report.to_text()
    };
    use std::io::Write;
    match std::io::stdout().write_all(text.as_bytes()) {
        // The reader had enough (`ascenseur devices | head`): not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result.context("writing the device list"),
    }
}

fn check_command(file: &std::path::Path) -> anyhow::Result<()> {
    let preset = preset::load_file(file)?;
    println!(
        "{}: ok — {} ({} bars, {:.0} BPM, {})",
        file.display(),
        preset.title,
        preset.form_bars(),
        preset.tempo,
        preset.feel.slug()
    );
    Ok(())
}

fn bench_command(what: &str, preset_name: &str, seconds: f32, json: bool) -> anyhow::Result<()> {
    if what != "dsp" {
        anyhow::bail!("unknown bench '{what}' (known: dsp, midi-latency)");
    }
    if !(seconds > 0.0 && seconds <= 3600.0) {
        anyhow::bail!("bad --seconds {seconds}: use more than 0 and at most 3600");
    }
    let preset = preset::find(preset_name)?;
    let mut rows = Vec::new();
    if !json {
        println!(
            "engine CPU time per block as a share of the block's real-time budget\n\
             ({} with 8 lead notes held, 48 kHz; wall-clock columns include preemption)",
            preset.title
        );
        println!(
            "{:>7} {:>9} {:>10} {:>10} {:>10} {:>12} {:>10}",
            "frames", "budget", "median", "p99.9", "max", "wall p99.9", "wall max"
        );
    }
    for frames in [32usize, 64, 128, 256, 512] {
        let blocks = ((seconds * 48_000.0) as usize / frames).max(100);
        let cost = ascenseur::bench::measure_blocks(&preset, frames, blocks, 8);
        if !json {
            println!(
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
    if json {
        let items: Vec<String> = rows
            .iter()
            .map(|c| {
                format!(
                    "{{\"frames\":{},\"budget_ms\":{:.4},\"median_percent\":{:.3},\"p999_percent\":{:.3},\"max_percent\":{:.3},\"wall_p999_percent\":{:.3},\"wall_max_percent\":{:.3},\"blocks\":{}}}",
                    c.frames,
                    c.budget_s() * 1e3,
                    c.share(c.median_s),
                    c.share(c.p999_s),
                    c.share(c.max_s),
                    c.share(c.wall_p999_s),
                    c.share(c.wall_max_s),
                    c.blocks
                )
            })
            .collect();
        println!(
            "{{\"bench\":\"dsp\",\"preset\":\"{}\",\"results\":[{}]}}",
            preset.name,
            items.join(",")
        );
    }
    Ok(())
}

fn play_command(args: PlayArgs) -> anyhow::Result<()> {
    // Until the session drives cpal output (`--device`, `--rate` and `--buffer` go with
    // it), no host still means native JACK, as before.
    if let Some(host) = args
        .host
        .as_deref()
        .filter(|h| !h.eq_ignore_ascii_case("jack"))
    {
        anyhow::bail!(
            "audio host '{host}' is not wired into play yet (available: jack); see `ascenseur devices`"
        );
    }
    if !args.headless {
        anyhow::bail!("the console is not built yet: run with --headless");
    }
    let preset = preset::find(&args.preset)?;
    let options = RenderOptions {
        tempo: args.band.tempo,
        key: args.band.key,
        ..RenderOptions::default()
    };
    let arrangement = render::arrangement_for(&preset, &options)?;
    let settings = ascenseur::live::SessionSettings {
        arrangement,
        seed: args.band.seed,
        mute: render::parse_mute(&args.band.mute)?,
        client_name: args.client_name,
        connect: !args.no_connect,
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::Relaxed))
        .context("installing the Ctrl-C / SIGTERM handler")?;
    ascenseur::live::run_headless(settings, stop)?;
    Ok(())
}

fn midi_latency_command(
    notes: usize,
    ports: Option<(String, String)>,
    json: bool,
) -> anyhow::Result<()> {
    use ascenseur::io::latency_probe::{ProbeOptions, THRESHOLD_DBFS, measure};
    if !(1..=10_000).contains(&notes) {
        anyhow::bail!("bad --notes {notes}: use 1 to 10000");
    }
    // Without ports, measure ascenseur itself: a client of its own with the band silent,
    // so the first sound after a note-on is the lead voice.
    let own = match &ports {
        Some(_) => None,
        None => {
            let preset = preset::find("generique")?;
            let settings = ascenseur::live::SessionSettings {
                arrangement: render::arrangement_for(&preset, &RenderOptions::default())?,
                seed: 1957,
                mute: ascenseur::band::Player::ALL.to_vec(),
                client_name: "ascenseur_bench".into(),
                connect: false,
            };
            Some(ascenseur::live::start_jack(&settings)?)
        }
    };
    let (midi_target, audio_source) = match (&ports, &own) {
        (Some((midi, audio)), _) => (midi.clone(), audio.clone()),
        (None, Some(r)) => (
            format!("{}:midi_in", r.jack.name),
            format!("{}:out_l", r.jack.name),
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
        eprintln!(
            "sending {notes} note-ons to {midi_target}, listening on {audio_source} (threshold {THRESHOLD_DBFS} dBFS)…"
        );
    }
    let report = measure(&options)?;
    if let Some(r) = own {
        r.jack.stop();
    }
    let received = report.notes.len();
    if json {
        println!(
            "{{\"bench\":\"midi-latency\",\"midi_target\":\"{midi_target}\",\"audio_source\":\"{audio_source}\",\"sample_rate\":{},\"period\":{},\"sent\":{},\"received\":{received},\"xrun_notes\":{},\"min_frames\":{},\"avg_frames\":{:.3},\"max_frames\":{},\"jitter_frames\":{},\"min_ms\":{:.4},\"avg_ms\":{:.4},\"max_ms\":{:.4},\"jitter_ms\":{:.4}}}",
            report.sample_rate,
            report.period,
            report.sent,
            report.xrun_notes(),
            report.min(),
            report.mean(),
            report.max(),
            report.jitter(),
            report.ms(report.min() as f64),
            report.ms(report.mean()),
            report.ms(report.max() as f64),
            report.ms(report.jitter() as f64),
        );
    } else {
        println!(
            "MIDI note-on to first sample above {THRESHOLD_DBFS} dBFS, {} Hz, {} frames per period",
            report.sample_rate, report.period
        );
        println!("{:>10} {:>10} {:>10}", "", "frames", "ms");
        for (label, frames) in [
            ("min", report.min() as f64),
            ("avg", report.mean()),
            ("max", report.max() as f64),
            ("jitter", report.jitter() as f64),
        ] {
            println!("{label:>10} {frames:>10.1} {:>10.3}", report.ms(frames));
        }
        println!(
            "messages sent {} · received {received} · disturbed by xruns {} (left out of the figures)",
            report.sent,
            report.xrun_notes()
        );
    }
    Ok(())
}

/// The error and its causes on one line, without repeating a cause that a message
/// already quotes.
fn describe_error(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}
