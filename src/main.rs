//! The `ascenseur` command: render, presets, check.

use anyhow::Context;
use ascenseur::io::live_input::MidiTiming;
use ascenseur::io::midi_input::{MidiInputs, PortSelection};
use ascenseur::preset::{self, PresetError};
use ascenseur::render::{self, RenderError, RenderOptions};
use ascenseur::{say, tell};
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
    Render(Box<RenderArgs>),
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
    /// List the recorded takes, oldest first: when, preset, key, tempo, length, notes,
    /// and how the time went.
    Takes {
        /// Print JSON instead of a listing.
        #[arg(long)]
        json: bool,
        /// The folder the takes are in (default: as `play` records them).
        #[arg(long, value_name = "DIR", value_parser = commands::non_blank)]
        takes_dir: Option<String>,
    },
    /// The practice history, per preset: sessions, minutes played, the best tempo played
    /// steadily, and how the time and note-choice figures moved.
    History {
        /// Only this preset (its name, as `ascenseur presets` lists it).
        preset: Option<String>,
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
    #[arg(default_value = "generique", value_parser = commands::preset_arg)]
    preset: preset::Preset,
    /// Run without the console: status lines on stderr; stop with Ctrl-C or SIGTERM.
    #[arg(long)]
    headless: bool,
    #[command(flatten)]
    device: commands::DeviceArgs,
    /// Frames per audio callback (default: 128, within the device's range).
    #[arg(long, value_name = "FRAMES", value_parser = commands::whole_number::<u32>(commands::BUFFER_FRAMES), allow_negative_numbers = true)]
    buffer: Option<u32>,
    /// Do not connect the outputs to the system playback ports or physical MIDI
    /// outputs to the input.
    #[arg(long)]
    no_connect: bool,
    /// JACK client name.
    #[arg(long, default_value = "ascenseur", value_parser = jack_client_name)]
    client_name: String,
    /// The MIDI input to play from: its name, its index in the list of MIDI inputs, or a
    /// unique part of its name; reconnected when it comes back (default: every hardware
    /// MIDI input, as they come and go).
    #[arg(long, value_name = "PORT", value_parser = commands::non_blank)]
    midi: Option<String>,
    /// When MIDI keyboard notes sound.
    #[arg(long, value_name = "TIMING", value_enum, default_value_t = MidiTimingArg::Immediate)]
    midi_timing: MidiTimingArg,
    /// Do not create the virtual MIDI input "ascenseur:in" that other programs can play
    /// into.
    #[arg(long)]
    no_virtual_port: bool,
    /// Where takes are recorded, a folder per take (default:
    /// $XDG_DATA_HOME/ascenseur/takes, else ~/.local/share/ascenseur/takes).
    #[arg(long, value_name = "DIR", value_parser = commands::non_blank, conflicts_with = "no_record")]
    takes_dir: Option<String>,
    /// Record nothing.
    #[arg(long)]
    no_record: bool,
    #[command(flatten)]
    band: BandArgs,
}

/// `--midi-timing`: the choices of [`MidiTiming`], as clap lists them.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum MidiTimingArg {
    /// At the start of the next audio block: the lowest latency, up to a block of jitter.
    Immediate,
    /// At its own time one block later: a constant latency, no jitter.
    Stable,
}

impl From<MidiTimingArg> for MidiTiming {
    fn from(timing: MidiTimingArg) -> MidiTiming {
        match timing {
            MidiTimingArg::Immediate => MidiTiming::Immediate,
            MidiTimingArg::Stable => MidiTiming::Stable,
        }
    }
}

/// A player `--mute` leaves out: the choices of [`ascenseur::band::Player`], as clap
/// lists them.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum PlayerArg {
    Bass,
    Drums,
    Piano,
}

impl From<PlayerArg> for ascenseur::band::Player {
    fn from(player: PlayerArg) -> Self {
        use ascenseur::band::Player;
        match player {
            PlayerArg::Bass => Player::Bass,
            PlayerArg::Drums => Player::Drums,
            PlayerArg::Piano => Player::Piano,
        }
    }
}

/// How the band plays, for `play` and `render` alike.
#[derive(clap::Args, Debug)]
struct BandArgs {
    /// Seed for the band's choices: the same seed gives the same lines.
    #[arg(long, default_value_t = 1957, value_parser = commands::seed_arg, allow_negative_numbers = true)]
    seed: u64,
    /// Tempo in BPM (default: the preset's).
    #[arg(long, value_name = "BPM", value_parser = tempo_arg, allow_negative_numbers = true)]
    tempo: Option<f32>,
    /// Transpose to this key, e.g. "Eb" or "E minor".
    #[arg(long, value_parser = key_arg)]
    key: Option<ascenseur::theory::Key>,
    /// Players to leave out, comma-separated.
    #[arg(long, value_name = "PLAYERS", value_enum, value_delimiter = ',')]
    mute: Vec<PlayerArg>,
    /// Repeat these bars of the form: FIRST-LAST (e.g. 5-8) or one bar (e.g. 3), counted
    /// from 1.
    #[arg(long = "loop", value_name = "BARS", value_parser = loop_arg)]
    form_loop: Option<ascenseur::band::FormLoop>,
    /// Raise the tempo by STEP BPM every EVERY passes of the form (or of the loop), e.g.
    /// +4/2; the new tempo starts on the bar line where the pass starts.
    #[arg(long, value_name = "+STEP/EVERY", value_parser = tempo_ramp_arg, allow_hyphen_values = true)]
    tempo_ramp: Option<ascenseur::band::TempoRamp>,
    /// The tempo a ramp stops at (default: 360 BPM, the end of the tempo range).
    #[arg(long, value_name = "BPM", value_parser = tempo_arg, allow_negative_numbers = true)]
    tempo_max: Option<f32>,
    /// Move the band to the next key at each pass of the form (or of the loop): up a
    /// fourth (D, G, C, F…) or up a semitone.
    #[arg(long, value_name = "CYCLE", value_enum)]
    key_cycle: Option<KeyCycleArg>,
    /// The band plays the same whatever you play: it does not follow your dynamics and
    /// density (as a preset's `listen = false`).
    #[arg(long)]
    no_listen: bool,
    /// Trade with a band horn: you play BARS bars (2, 4 or 8), then a tenor (a trumpet if
    /// you play tenor) answers with your phrase developed, then you again.
    #[arg(long, value_name = "BARS", value_parser = trade_arg)]
    trade: Option<u32>,
}

impl BandArgs {
    fn muted(&self) -> Vec<ascenseur::band::Player> {
        self.mute.iter().map(|&p| p.into()).collect()
    }

    /// The loop, ramp and key cycle asked for, and the ramp the console's ramp key
    /// switches on. A loop beyond `preset`'s form is a bad `--loop`.
    fn trainer(
        &self,
        preset: &preset::Preset,
    ) -> Result<(ascenseur::band::Trainer, ascenseur::band::TempoRamp), commands::BadValue> {
        use ascenseur::band::{TempoRamp, Trainer};
        let form_bars = preset.form_bars();
        if let Some(form_loop) = self.form_loop
            && !form_loop.fits(form_bars)
        {
            return Err(commands::BadValue {
                flag: commands::LOOP_FLAG,
                value: form_loop.to_string(),
                reason: format!(
                    "'{}' has {form_bars} bars: use FIRST-LAST or one bar, from 1 to {form_bars} (e.g. 1-{form_bars})",
                    preset.name
                ),
            });
        }
        let max = self.tempo_max.unwrap_or(*preset::TEMPO_RANGE.end());
        let ramp = self.tempo_ramp.map(|ramp| TempoRamp { max, ..ramp });
        let trainer = Trainer {
            form_loop: self.form_loop,
            ramp,
            key_cycle: self.key_cycle.map(Into::into),
        };
        let toggled = ramp.unwrap_or(TempoRamp {
            max,
            ..TempoRamp::default()
        });
        Ok((trainer, toggled))
    }
}

/// `--key-cycle`: the choices of [`ascenseur::band::KeyCycle`], as clap lists them.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum KeyCycleArg {
    /// Up a fourth each pass: D, G, C, F, B♭… (as iReal Pro's practice mode).
    Fourths,
    /// Up a half step each pass.
    Semitones,
}

impl From<KeyCycleArg> for ascenseur::band::KeyCycle {
    fn from(cycle: KeyCycleArg) -> Self {
        match cycle {
            KeyCycleArg::Fourths => ascenseur::band::KeyCycle::Fourths,
            KeyCycleArg::Semitones => ascenseur::band::KeyCycle::Semitones,
        }
    }
}

/// `--loop`: bars of the form, counted from 1 ([`ascenseur::band::FormLoop::parse`]);
/// whether the preset's form holds them is checked once the preset is known.
fn loop_arg(text: &str) -> Result<ascenseur::band::FormLoop, String> {
    ascenseur::band::FormLoop::parse(text)
}

/// `--tempo-ramp`: +STEP/EVERY ([`ascenseur::band::TempoRamp::parse`]).
fn tempo_ramp_arg(text: &str) -> Result<ascenseur::band::TempoRamp, String> {
    ascenseur::band::TempoRamp::parse(text)
}

#[derive(clap::Args, Debug)]
struct RenderArgs {
    /// Preset name (see `ascenseur presets`) or path to a preset file.
    #[arg(value_parser = commands::preset_arg, required_unless_present = "take")]
    preset: Option<preset::Preset>,
    /// Render a recorded take again (a folder `ascenseur takes` lists): its preset, key,
    /// tempo, seed and lead voice, and its player part from bar 1 of the form. --key,
    /// --tempo and --lead change them; --seed is the take's.
    #[arg(long, value_name = "DIR", value_parser = take_arg, conflicts_with_all = ["preset", "input"])]
    take: Option<ascenseur::take::FoundTake>,
    /// The lead voice the player part plays through (default: the preset's).
    #[arg(long, value_name = "VOICE", value_parser = lead_arg)]
    lead: Option<preset::LeadInstrument>,
    /// Also write the band (and the --input player part) as a multi-track Standard MIDI
    /// File: a named track per player, drums on channel 10, the tempo map of the render.
    #[arg(long, value_name = "FILE", value_parser = output_file_arg)]
    midi_out: Option<PathBuf>,
    /// Output WAV file.
    #[arg(short, long)]
    output: PathBuf,
    /// Bars to render (default: one pass of the form, or the length of --input).
    #[arg(long, value_parser = commands::whole_number::<u32>(commands::widened(render::BARS_RANGE)), allow_negative_numbers = true)]
    bars: Option<u32>,
    /// Frames per engine block (does not change the result).
    #[arg(long, value_name = "FRAMES", default_value_t = 256, value_parser = commands::whole_number::<usize>(commands::widened(render::BLOCK_RANGE)), allow_negative_numbers = true)]
    block: usize,
    /// Also write bass.wav, drums.wav, piano.wav and lead.wav into this directory.
    #[arg(long)]
    stems: Option<PathBuf>,
    /// A Standard MIDI File to play through the lead voice over the band.
    #[arg(long, value_parser = midi_file_arg)]
    input: Option<PathBuf>,
    /// Judge the --input phrase (time and feel, note choice, space) and write the report
    /// as JSON to this file ("-" for standard output).
    #[arg(long, value_name = "FILE", value_parser = report_path_arg, requires = "input")]
    report: Option<PathBuf>,
    #[command(flatten)]
    band: BandArgs,
}

/// `--tempo`: beats per minute within the presets' range ([`preset::TEMPO_RANGE`]).
fn tempo_arg(text: &str) -> Result<f32, String> {
    let range = preset::TEMPO_RANGE;
    let outside = || format!("use {} to {} BPM", range.start(), range.end());
    // NaN and the infinities parse as floats; `contains` refuses them with the rest.
    let bpm: f32 = text.trim().parse().map_err(|_| outside())?;
    if range.contains(&bpm) {
        Ok(bpm)
    } else {
        Err(outside())
    }
}

/// `--key`: a key [`Key::parse`] understands ("Eb", "E minor"), spelled as typed.
///
/// [`Key::parse`]: ascenseur::theory::Key::parse
fn key_arg(text: &str) -> Result<ascenseur::theory::Key, String> {
    ascenseur::theory::Key::parse(text).map_err(|error| error.to_string())
}

/// `--input`: a Standard MIDI File that can be read and played, checked before rendering.
fn midi_file_arg(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    render::midi_file::read(&path, render::RENDER_RATE as f32)
        .map(|_| path)
        .map_err(|error| error.to_string())
}

/// `--lead`: one of the lead voices, by name.
fn lead_arg(text: &str) -> Result<preset::LeadInstrument, String> {
    preset::LeadInstrument::parse(text).map_err(|error| error.to_string())
}

/// `--take`: a take's folder with a `take.json` that reads and a `player.mid`.
fn take_arg(text: &str) -> Result<ascenseur::take::FoundTake, String> {
    ascenseur::take::FoundTake::open(std::path::Path::new(text))
}

/// `--midi-out`: a file to write in a directory that exists.
fn output_file_arg(text: &str) -> Result<PathBuf, String> {
    if text == "-" {
        return Err("give a file name, such as band.mid".into());
    }
    report_path_arg(text)
}

/// `--report`: a file to write in a directory that exists, or `-` for standard output.
fn report_path_arg(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    if text == "-" {
        return Ok(path);
    }
    if text.trim().is_empty() || path.is_dir() {
        return Err("give a file name, such as report.json, or - for standard output".into());
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    if dir.is_dir() {
        Ok(path)
    } else {
        Err(format!("there is no directory '{}'", dir.display()))
    }
}

/// Write the practice report as pretty JSON to `path` (`-`: standard output). A file that
/// cannot be written is the user's value that is wrong: a usage error naming it.
fn write_report(
    path: &std::path::Path,
    report: &ascenseur::practice::PracticeReport,
) -> anyhow::Result<()> {
    let mut json = serde_json::to_string_pretty(report).context("the practice report as JSON")?;
    json.push('\n');
    let written = if path.as_os_str() == "-" {
        use std::io::Write;
        std::io::stdout().write_all(json.as_bytes())
    } else {
        std::fs::write(path, json)
    };
    written.map_err(|error| {
        commands::BadValue {
            flag: commands::REPORT_FLAG,
            value: path.display().to_string(),
            reason: format!("cannot write it: {error}"),
        }
        .into()
    })
}

/// `--client-name`: a name a JACK server accepts for a client (its ports are named
/// `NAME:port`, so no colon).
fn jack_client_name(text: &str) -> Result<String, String> {
    // JACK's limit, its terminating NUL included, is 64 bytes.
    const MAX_BYTES: usize = 63;
    if text.trim().is_empty() || text.contains(':') || text.len() > MAX_BYTES {
        Err(format!(
            "use 1 to {MAX_BYTES} bytes without a colon (JACK names ports CLIENT:PORT)"
        ))
    } else {
        Ok(text.to_string())
    }
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
        Command::Takes { json, takes_dir } => takes_command(json, takes_dir),
        Command::History { preset, json } => history_command(preset, json),
        Command::Bench(bench) => commands::bench::run(bench),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            say!("error: {}", describe_error(&error));
            ExitCode::from(exit_code(&error))
        }
    }
}

/// 2 when what the user gave is wrong (a value found bad only after start-up, an invalid
/// preset file), as for the values clap refuses; 1 when the machine failed us.
fn exit_code(error: &anyhow::Error) -> u8 {
    error
        .chain()
        .find_map(|cause| {
            if cause.is::<commands::BadValue>() {
                return Some(2);
            }
            let preset = cause.downcast_ref::<PresetError>().or_else(|| {
                // Transparent: the chain goes past the preset error inside.
                match cause.downcast_ref::<RenderError>() {
                    Some(RenderError::Preset(p)) => Some(p),
                    _ => None,
                }
            });
            preset.map(|p| u8::try_from(p.exit_code()).unwrap_or(1))
        })
        .unwrap_or(1)
}

/// The flag a MIDI input error is about, when the port asked for is what is wrong.
fn midi_flag_error(
    error: &ascenseur::io::midi_input::MidiInputError,
) -> Option<commands::BadValue> {
    use ascenseur::io::midi_input::MidiInputError;
    match error {
        MidiInputError::PortNotFound { name, .. } | MidiInputError::AmbiguousPort { name, .. } => {
            Some(commands::BadValue {
                flag: commands::MIDI_FLAG,
                value: name.clone(),
                reason: error.to_string(),
            })
        }
        _ => None,
    }
}

/// `--trade`: 2, 4 or 8 bars a turn.
fn trade_arg(text: &str) -> Result<u32, String> {
    match text.trim() {
        "2" => Ok(2),
        "4" => Ok(4),
        "8" => Ok(8),
        other => Err(format!(
            "'{other}' is not a length of turn: trade 2, 4 or 8 bars"
        )),
    }
}

fn render_command(args: Box<RenderArgs>) -> anyhow::Result<()> {
    let preset = match (&args.take, args.preset) {
        (Some(take), _) => preset::find(&take.info.preset).map_err(|error| commands::BadValue {
            flag: "--take <DIR>",
            value: take.folder.display().to_string(),
            reason: error.to_string(),
        })?,
        (None, Some(preset)) => preset,
        (None, None) => unreachable!("clap requires a preset or --take"),
    };
    let (trainer, _) = args.band.trainer(&preset)?;
    let mut options = RenderOptions {
        bars: args.bars,
        seed: args.band.seed,
        tempo: args.band.tempo,
        key: args.band.key,
        block: args.block,
        mute: args.band.muted(),
        input: args.input.clone(),
        input_from_s: 0.0,
        lead: args.lead,
        trainer,
        listen: !args.band.no_listen,
        trade: args.band.trade.unwrap_or(0),
    };
    if let Some(take) = &args.take {
        take.render_options(&mut options)
            .map_err(|error| commands::BadValue {
                flag: "--take <DIR>",
                value: take.folder.display().to_string(),
                reason: error.why,
            })?;
    }
    let mut journal = Vec::new();
    // The player's notes and the bars, for the report.
    let mut log = ascenseur::practice::PracticeLog::new();
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
        |entry| {
            if args.report.is_some() {
                log.record(&entry);
            }
            if args.midi_out.is_some() {
                journal.push(entry);
            }
        },
    )
    .with_context(|| format!("rendering '{}'", preset.name))?;
    if let Some(path) = &args.midi_out {
        let lead = options.lead.unwrap_or(summary.arrangement.lead);
        let file = ascenseur::take::smf::journal_file(
            &summary.arrangement,
            summary.sample_rate as f32,
            lead,
            &journal,
        );
        file.save(path).map_err(|error| commands::BadValue {
            flag: "--midi-out <FILE>",
            value: path.display().to_string(),
            reason: format!("cannot write it: {error}"),
        })?;
        say!("wrote {}", path.display());
    }
    bar.finish_and_clear();
    let seconds = summary.frames as f64 / summary.sample_rate as f64;
    let bars = summary.bar_starts.len();
    // A ramp plays several tempos: from the first to the last.
    let lines = &summary.bar_lines;
    let tempo = match (
        lines.first().map(|l| l.tempo),
        lines.last().map(|l| l.tempo),
    ) {
        (Some(first), Some(last)) if first != last => format!("{first:.0} to {last:.0} BPM"),
        _ => format!("{:.0} BPM", summary.arrangement.tempo),
    };
    say!(
        "wrote {} ({bars} bars of {} at {tempo}, {seconds:.1} s of audio in {:.2} s)",
        args.output.display(),
        preset.title,
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.report {
        // The render's own bars: the one laid out after the last is not played.
        let report = ascenseur::practice::PracticeReport::measure(
            log.notes(),
            &summary.bar_lines,
            &summary.arrangement,
            f64::from(summary.sample_rate),
            summary.frames,
        );
        write_report(path, &report)?;
        let notes = report.notes.count;
        let plural = if notes == 1 { "" } else { "s" };
        say!("{} · {notes} note{plural} judged", report.time);
    }
    Ok(())
}

fn takes_command(json: bool, takes_dir: Option<String>) -> anyhow::Result<()> {
    let dir = match takes_dir {
        // Named by the user: a folder that is not there is a mistyped name, not "no
        // takes yet".
        Some(dir) if !std::path::Path::new(&dir).is_dir() => {
            return Err(commands::BadValue {
                flag: commands::TAKES_DIR_FLAG,
                reason: format!("there is no folder '{dir}' (`ascenseur play --takes-dir` records takes into one)"),
                value: dir,
            }
            .into());
        }
        Some(dir) => PathBuf::from(dir),
        None => ascenseur::take::default_takes_dir()
            .context("no data directory: set XDG_DATA_HOME or HOME, or give --takes-dir")?,
    };
    let listing = ascenseur::take::list_takes(&dir)
        .with_context(|| format!("reading the takes in '{}'", dir.display()))?;
    for (folder, why) in &listing.unreadable {
        say!("skipped {}: {why}", folder.display());
    }
    if json {
        /// A take as listed: its folder, then its `take.json`.
        #[derive(serde::Serialize)]
        struct Listed<'a> {
            folder: String,
            #[serde(flatten)]
            info: &'a ascenseur::take::TakeInfo,
        }
        let takes: Vec<Listed> = listing
            .takes
            .iter()
            .map(|take| Listed {
                folder: take.folder.display().to_string(),
                info: &take.info,
            })
            .collect();
        tell!("{}", serde_json::to_string_pretty(&takes)?);
        return Ok(());
    }
    if listing.takes.is_empty() {
        say!(
            "no takes in {} yet: `ascenseur play` records them",
            dir.display()
        );
        return Ok(());
    }
    for take in &listing.takes {
        let info = &take.info;
        let tempos: Vec<String> = info.tempos.iter().map(|t| format!("{t:.0}")).collect();
        let started = info
            .started
            .get(..16)
            .unwrap_or(&info.started)
            .replace('T', " ");
        tell!(
            "{started}  {:<34} {:<10} {:>11} BPM  {:>6.1} s  {:>4} notes  {}",
            info.title,
            info.key,
            tempos.join("→"),
            info.duration_s,
            info.notes_played,
            if info.summary.time.count > 0 {
                info.summary.time.to_string()
            } else {
                String::from("-")
            }
        );
        tell!("    {}", take.folder.display());
    }
    Ok(())
}

fn history_command(preset: Option<String>, json: bool) -> anyhow::Result<()> {
    use ascenseur::take::history;
    let path = history::default_path().context("no data directory: set XDG_DATA_HOME or HOME")?;
    let read = history::History::read(&path)
        .with_context(|| format!("reading the history '{}'", path.display()))?;
    for (line, why) in &read.skipped {
        say!(
            "{}:{line}: skipped a line that does not read: {why}",
            path.display()
        );
    }
    let presets = read.by_preset(preset.as_deref());
    if json {
        tell!("{}", serde_json::to_string_pretty(&presets)?);
        return Ok(());
    }
    if presets.is_empty() {
        // A name that is neither a preset nor in the history is a mistyped one: say so,
        // with the presets there are.
        if let Some(name) = &preset
            && let Err(error) = preset::find(name)
        {
            return Err(commands::BadValue {
                flag: "[PRESET]",
                value: name.clone(),
                reason: error.to_string(),
            }
            .into());
        }
        match preset {
            Some(name) => say!("no takes of '{name}' in {} yet", path.display()),
            None => say!(
                "no takes in {} yet: `ascenseur play` records them",
                path.display()
            ),
        }
        return Ok(());
    }
    for summary in presets {
        tell!("{summary}");
    }
    Ok(())
}

fn presets_command() -> anyhow::Result<()> {
    let catalog = preset::catalog();
    tell!(
        "{:<34} {:<34} {:>5}  {:<13} modes",
        "name",
        "title",
        "BPM",
        "feel"
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
                tell!(
                    "{:<34} {:<34} {:>5.0}  {:<13} {}",
                    format!("{}{user}", p.name),
                    p.title,
                    p.tempo,
                    p.feel.slug(),
                    modes.join(", ")
                );
            }
            Err(e) => say!("skipped invalid user preset: {e}"),
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
    tell!(
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
    // A bad value is the first thing said, terminal or not.
    let (trainer, toggled_ramp) = args.band.trainer(&args.preset)?;
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
    let midi_selection = match &args.midi {
        None => PortSelection::AllHardware,
        Some(name) => PortSelection::Named(name.clone()),
    };
    let (presets, index) = presets_from(args.preset);
    let performance =
        ascenseur::live::Performance::new(presets, index, args.band.key, args.band.tempo)?
            .with_mute(&args.band.muted())
            .with_trainer(trainer, toggled_ramp)
            // At the console the space bar starts the band after a bar of clicks.
            .with_count_in(!args.headless)
            .with_listening(!args.band.no_listen)
            .with_trading(args.band.trade.unwrap_or(0));
    let takes_dir = match (args.no_record, args.takes_dir) {
        (true, _) => None,
        (false, Some(dir)) => Some(PathBuf::from(dir)),
        (false, None) => {
            let dir = ascenseur::take::default_takes_dir();
            if dir.is_none() {
                say!(
                    "not recording: no data directory (set XDG_DATA_HOME or HOME, or give --takes-dir)"
                );
            }
            dir
        }
    };
    let settings = ascenseur::live::SessionSettings {
        seed: args.band.seed,
        host,
        client_name: args.client_name,
        connect: !args.no_connect,
        history: takes_dir
            .as_ref()
            .and_then(|_| ascenseur::take::history::default_path()),
        takes_dir,
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if args.headless {
        let flag = std::sync::Arc::clone(&stop);
        ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::Relaxed))
            .context("installing the Ctrl-C / SIGTERM handler")?;
    }
    let device = match &settings.host {
        ascenseur::live::AudioHost::Device(options) => Some(options.clone()),
        ascenseur::live::AudioHost::Jack | ascenseur::live::AudioHost::Manual(_) => None,
    };
    let mut session = match ascenseur::live::Session::start(settings, performance) {
        Ok(session) => session,
        Err(error) => {
            let bad_value = match (&error, &device) {
                (ascenseur::live::LiveError::Device(cpal), Some(options)) => {
                    commands::device_flag_error(cpal, options)
                }
                _ => None,
            };
            return Err(match (bad_value, device) {
                (Some(bad_value), _) => bad_value.into(),
                (None, Some(_)) => anyhow::Error::new(error).context(
                    "no audio output to play on (`ascenseur devices` lists hosts and devices; with a JACK server running, use --host jack)",
                ),
                (None, None) => anyhow::Error::new(error).context("cannot play on JACK"),
            });
        }
    };
    let midi = MidiInputs::start(
        midi_selection,
        std::sync::Arc::clone(session.live_input()),
        args.midi_timing.into(),
        !args.no_virtual_port,
    );
    let midi = match midi {
        Ok(midi) => midi,
        Err(error) => {
            session.stop();
            return Err(match midi_flag_error(&error) {
                Some(bad_value) => bad_value.into(),
                None => error.into(),
            });
        }
    };
    if args.headless {
        if let Some(reason) = midi.status().unavailable {
            say!("MIDI keyboards: {reason}");
        }
        ascenseur::live::run_headless(&mut session, &stop, || midi_summary(&midi));
        midi.stop();
        report_takes(&session.stop());
        say!("stopped");
        return Ok(());
    }
    let look = ascenseur::ui::Look::from_env();
    let result = ascenseur::ui::run(&mut session, Some(&midi), look);
    midi.stop();
    report_takes(&session.stop());
    result.context("the console")
}

/// Where the session's takes were saved, and what went wrong with them.
fn report_takes(takes: &[ascenseur::take::FinishedTake]) {
    for take in takes {
        let info = &take.info;
        say!(
            "take saved: {} ({:.1} s, {} notes)",
            take.folder.display(),
            info.duration_s,
            info.notes_played
        );
        if let Some(error) = &info.error {
            say!("  but recording stopped early: {error}");
        }
    }
}

/// The presets the console's arrow keys step through, and where `preset` is among them
/// (a user's preset file joins the built-in ones at the front).
fn presets_from(preset: preset::Preset) -> (Vec<preset::Preset>, usize) {
    let mut presets: Vec<preset::Preset> = preset::catalog()
        .into_iter()
        .filter_map(|entry| entry.preset.ok())
        .collect();
    match presets.iter().position(|p| p.name == preset.name) {
        Some(index) => (presets, index),
        None => {
            presets.insert(0, preset);
            (presets, 0)
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// The flag of a value found bad after start-up reads as clap writes that flag in
    /// the errors it reports itself.
    #[test]
    fn flags_named_after_start_up_are_spelled_as_clap_spells_them() {
        let mut cli = Cli::command();
        // Arguments display as in errors once the command is built, as parsing does.
        cli.build();
        let spelled = |path: &[&str], long: &str| {
            let mut command = &cli;
            for name in path {
                command = command
                    .find_subcommand(name)
                    .unwrap_or_else(|| panic!("no subcommand {name}"));
            }
            command
                .get_arguments()
                .find(|arg| arg.get_long() == Some(long))
                .unwrap_or_else(|| panic!("no --{long} in {path:?}"))
                .to_string()
        };
        assert_eq!(spelled(&["play"], "host"), commands::HOST_FLAG);
        assert_eq!(spelled(&["play"], "device"), commands::DEVICE_FLAG);
        assert_eq!(spelled(&["play"], "rate"), commands::RATE_FLAG);
        assert_eq!(spelled(&["play"], "buffer"), commands::BUFFER_FLAG);
        assert_eq!(spelled(&["play"], "midi"), commands::MIDI_FLAG);
        assert_eq!(spelled(&["play"], "loop"), commands::LOOP_FLAG);
        assert_eq!(spelled(&["render"], "loop"), commands::LOOP_FLAG);
        assert_eq!(spelled(&["bench", "dsp"], "device"), commands::DEVICE_FLAG);
        assert_eq!(
            spelled(&["bench", "dsp"], "buffers"),
            commands::BUFFERS_FLAG
        );
        assert_eq!(
            spelled(&["bench", "roundtrip"], "playback"),
            commands::PLAYBACK_FLAG
        );
        assert_eq!(
            spelled(&["bench", "roundtrip"], "capture"),
            commands::CAPTURE_FLAG
        );
        assert_eq!(spelled(&["render"], "report"), commands::REPORT_FLAG);
        assert_eq!(spelled(&["takes"], "takes-dir"), commands::TAKES_DIR_FLAG);
        assert_eq!(
            spelled(&["bench", "midi-latency"], "midi-target"),
            commands::MIDI_TARGET_FLAG
        );
        assert_eq!(
            spelled(&["bench", "midi-latency"], "audio-source"),
            commands::AUDIO_SOURCE_FLAG
        );
        assert_eq!(
            spelled(&["bench", "roundtrip"], "input-device"),
            commands::INPUT_DEVICE_FLAG
        );
    }

    #[test]
    fn a_midi_port_that_is_not_there_is_a_bad_value_with_the_choices() {
        let error = ascenseur::io::midi_input::MidiInputError::PortNotFound {
            name: "Oxygen".into(),
            available: vec!["Keystation 49 MIDI 1".into()],
        };
        let error = anyhow::Error::from(midi_flag_error(&error).expect("a bad --midi value"));
        assert_eq!(exit_code(&error), 2);
        let text = describe_error(&error);
        assert!(
            text.starts_with("invalid value 'Oxygen' for '--midi <PORT>': "),
            "{text}"
        );
        assert!(text.contains("Keystation 49 MIDI 1"), "{text}");
    }

    #[test]
    fn midi_unavailable_is_not_the_users_fault() {
        let error = ascenseur::io::midi_input::MidiInputError::Unavailable("no sequencer".into());
        assert!(midi_flag_error(&error).is_none());
        assert_eq!(exit_code(&anyhow::Error::from(error)), 1);
    }
}
