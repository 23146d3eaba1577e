//! The `ascenseur` command: render, presets, check.

use anyhow::Context;
use ascenseur::io::live_input::MidiTiming;
use ascenseur::io::midi_input::{MidiInputs, PortSelection};
use ascenseur::preset::{self, PresetError};
use ascenseur::render::{self, RenderError, RenderOptions};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod commands;

/// A real-time improvisation practice instrument: a 1957 rhythm section vamping on the
/// cues of "Ascenseur pour l'échafaud".
#[derive(Parser, Debug)]
#[command(name = "ascenseur", version, about, long_about = None)]
struct Cli {
    /// What to do; without one, `play` Générique with the defaults.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Play a preset live and take the player's MIDI (Générique by default).
    Play(PlayArgs),
    /// Render a preset offline to a 48 kHz stereo WAV.
    Render(RenderArgs),
    /// List the presets: name, title, tempo, feel, modes.
    Presets,
    /// Benchmarks on this machine's sound hardware: `dsp` (callback cost at each buffer
    /// size, and the smallest that runs without an xrun), `midi-latency` (note-on to
    /// first sound) and `roundtrip` (audio out to audio in through a loopback).
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
    /// List the audio hosts and output devices (with what each supports) and the MIDI
    /// input ports.
    Devices {
        /// Print JSON instead of a listing.
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
    #[command(flatten)]
    device: commands::DeviceArgs,
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
    /// The MIDI input to play from: its name, its index in the list of MIDI inputs, or a
    /// unique part of its name; reconnected when it comes back (default: every hardware
    /// MIDI input, as they come and go).
    #[arg(long, value_name = "PORT")]
    midi: Option<String>,
    /// When MIDI keyboard notes sound: "immediate" (lowest latency, up to a block of
    /// jitter) or "stable" (constant latency, one block more).
    #[arg(long, value_name = "TIMING", default_value = "immediate", value_parser = MidiTiming::parse)]
    midi_timing: MidiTiming,
    /// Do not create the virtual MIDI input "ascenseur:in" that other programs can play
    /// into.
    #[arg(long)]
    no_virtual_port: bool,
    #[command(flatten)]
    band: BandArgs,
}

impl PlayArgs {
    /// Which MIDI inputs to connect, from `--midi`.
    fn midi_ports(&self) -> anyhow::Result<PortSelection> {
        match self.midi.as_deref() {
            None => Ok(PortSelection::AllHardware),
            Some(name) if name.trim().is_empty() => anyhow::bail!(
                "bad --midi '{name}': give a MIDI input's name, index or part of its name"
            ),
            Some(name) => Ok(PortSelection::Named(name.to_string())),
        }
    }
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
    let command =
        cli.command
            .unwrap_or_else(|| match Cli::parse_from(["ascenseur", "play"]).command {
                Some(play) => play,
                None => unreachable!("`play` parses as the play command"),
            });
    let result = match command {
        Command::Render(args) => render_command(args),
        Command::Play(args) => play_command(args),
        Command::Presets => presets_command(),
        Command::Devices { json } => devices_command(json),
        Command::Check { file } => check_command(&file),
        Command::Bench(bench) => commands::bench::run(bench),
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
    let mut report = ascenseur::io::devices::report();
    // Without a MIDI service (no ALSA sequencer) the list is left out and the text says so.
    match ascenseur::io::midi_input::list_input_ports() {
        Ok(ports) => report.midi_input_ports = Some(ports),
        Err(error) => report.midi_error = Some(error.to_string()),
    }
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

fn play_command(args: PlayArgs) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let in_terminal = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if !args.headless && !in_terminal {
        anyhow::bail!("the console needs a terminal: run in one, or with --headless");
    }
    // "jack" is the native JACK client (MIDI read inside the cycle); anything else is a
    // desktop audio host through cpal, its default when none is named.
    let host = if args.device.is_native_jack() {
        ascenseur::live::AudioHost::Jack
    } else {
        ascenseur::live::AudioHost::Device(args.device.output_options(args.buffer))
    };
    let midi_selection = args.midi_ports()?;
    let preset = preset::find(&args.preset)?;
    let options = RenderOptions {
        tempo: args.band.tempo,
        key: args.band.key.clone(),
        ..RenderOptions::default()
    };
    let arrangement = render::arrangement_for(&preset, &options)?;
    let settings = ascenseur::live::SessionSettings {
        arrangement,
        seed: args.band.seed,
        mute: render::parse_mute(&args.band.mute)?,
        host,
        client_name: args.client_name,
        connect: !args.no_connect,
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if args.headless {
        let flag = std::sync::Arc::clone(&stop);
        ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::Relaxed))
            .context("installing the Ctrl-C / SIGTERM handler")?;
    }
    let on_device = matches!(settings.host, ascenseur::live::AudioHost::Device(_));
    let mut session = ascenseur::live::Session::start(settings).with_context(|| {
        if on_device {
            "no audio output to play on (`ascenseur devices` lists hosts and devices; with a JACK server running, use --host jack)"
        } else {
            "cannot play on JACK"
        }
    })?;
    let midi = MidiInputs::start(
        midi_selection,
        std::sync::Arc::clone(session.live_input()),
        args.midi_timing,
        !args.no_virtual_port,
    );
    let midi = match midi {
        Ok(midi) => midi,
        Err(error) => {
            session.stop();
            return Err(error.into());
        }
    };
    if args.headless {
        if let Some(reason) = midi.status().unavailable {
            eprintln!("MIDI keyboards: {reason}");
        }
        ascenseur::live::run_headless(&mut session, &stop, || midi_summary(&midi));
        midi.stop();
        session.stop();
        eprintln!("stopped");
        return Ok(());
    }
    let choice = preset_choice(preset, args.band.key.as_deref())?;
    let look = ascenseur::ui::Look::from_env();
    let result = ascenseur::ui::run(&mut session, Some(&midi), choice, look);
    midi.stop();
    session.stop();
    result.context("the console")
}

/// The presets the console's arrow keys step through, starting at `preset`, and the
/// transposition `--key` asked for.
fn preset_choice(
    preset: preset::Preset,
    key: Option<&str>,
) -> anyhow::Result<ascenseur::ui::PresetChoice> {
    let transposition = match key {
        Some(key) => {
            let to = ascenseur::theory::Key::parse(key)?;
            ascenseur::ui::app::semitones_between(preset.key, to)
        }
        None => 0,
    };
    let mut presets: Vec<preset::Preset> = preset::catalog()
        .into_iter()
        .filter_map(|entry| entry.preset.ok())
        .collect();
    let index = match presets.iter().position(|p| p.name == preset.name) {
        Some(index) => index,
        None => {
            presets.insert(0, preset);
            0
        }
    };
    Ok(ascenseur::ui::PresetChoice {
        presets,
        index,
        transposition,
    })
}

/// The MIDI inputs in a few words, for a status line.
fn midi_summary(midi: &MidiInputs) -> String {
    let status = midi.status();
    if status.unavailable.is_some() {
        return "unavailable".into();
    }
    let mut parts: Vec<String> = status.connected.clone();
    if let Some(port) = &status.virtual_port {
        parts.push(format!("virtual {port}"));
    }
    if let Some(gone) = status.gone.last() {
        parts.push(format!("{} went away", gone.name));
    }
    if parts.is_empty() {
        "no ports".into()
    } else {
        parts.join(", ")
    }
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

/// With the `assert-no-alloc` feature, the allocator that enforces the real-time
/// contract: an allocation or free inside an audio callback or `Engine::process` aborts.
#[cfg(feature = "assert-no-alloc")]
#[global_allocator]
static ALLOCATOR: assert_no_alloc::AllocDisabler = assert_no_alloc::AllocDisabler;
