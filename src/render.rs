//! Offline rendering: the engine driven block by block into WAV files. Used by the
//! `render` command, the tests and the benches, so what they check is what plays live.

pub mod midi_file;

use crate::band::{Arrangement, ArrangementError, BarLine, Player, Trainer, arrangement_for};
use crate::engine::journal::JournalEntry;
use crate::engine::{Engine, EngineConfig, STEM_COUNT, STEMS};
use crate::preset::{LeadInstrument, Preset, PresetError};
use crate::theory::Key;
use std::path::{Path, PathBuf};

/// The sample rate of offline renders.
pub const RENDER_RATE: u32 = 48_000;
/// Seconds of room tail rendered after the last bar.
pub const TAIL_S: f32 = 2.0;
/// Frames per engine call a render accepts.
pub const BLOCK_RANGE: std::ops::RangeInclusive<usize> = 1..=8192;
/// Bars a render accepts.
pub const BARS_RANGE: std::ops::RangeInclusive<u32> = 1..=10_000;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Preset(#[from] PresetError),
    #[error(transparent)]
    Arrangement(#[from] ArrangementError),
    #[error("bad block size {0}: use 1 to 8192 frames")]
    Block(usize),
    #[error("bad bar count {0}: use 1 to 10000 bars")]
    Bars(u32),
    #[error("unknown player '{0}' in --mute (known: bass, drums, piano)")]
    Mute(String),
    #[error("bars {form_loop} are not all in the form of '{preset}' ({form_bars} bars)")]
    Loop {
        form_loop: crate::band::FormLoop,
        preset: String,
        form_bars: u32,
    },
    #[error(transparent)]
    MidiFile(#[from] midi_file::MidiFileError),
    #[error("cannot write '{path}': {source}")]
    Wav { path: PathBuf, source: hound::Error },
    #[error("cannot create stem directory '{path}': {source}")]
    StemDir {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What to render.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// Bars to render; `None` = one pass of the form, or as long as the input phrase.
    pub bars: Option<u32>,
    pub seed: u64,
    pub tempo: Option<f32>,
    /// Transpose to this key.
    pub key: Option<Key>,
    /// Frames per engine call: must not change the result.
    pub block: usize,
    pub mute: Vec<Player>,
    /// A Standard MIDI File played through the lead voice.
    pub input: Option<PathBuf>,
    /// Where in `input` (seconds) the render begins: earlier events are left out. A
    /// take's player part starts with its count-in; the form starts later.
    pub input_from_s: f64,
    /// The lead voice; `None` is the preset's.
    pub lead: Option<LeadInstrument>,
    /// Loop, tempo ramp and key cycle.
    pub trainer: Trainer,
    /// Whether the band follows the input phrase (where the preset lets it).
    pub listen: bool,
    /// Bars per turn trading with the band's horn; 0: not trading.
    pub trade: u32,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            bars: None,
            seed: 1957,
            tempo: None,
            key: None,
            block: 256,
            mute: Vec::new(),
            input: None,
            input_from_s: 0.0,
            lead: None,
            trainer: Trainer::default(),
            listen: true,
            trade: 0,
        }
    }
}

/// Parse a comma-separated `--mute` list.
pub fn parse_mute(list: &str) -> Result<Vec<Player>, RenderError> {
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|name| Player::parse(name).ok_or_else(|| RenderError::Mute(name.trim().to_string())))
        .collect()
}

/// A finished render held in memory: interleaved stereo mix and stems at [`RENDER_RATE`].
pub struct Rendered {
    pub mix: Vec<f32>,
    /// Interleaved stereo, ordered as [`STEMS`].
    pub stems: [Vec<f32>; STEM_COUNT],
    pub sample_rate: u32,
    pub arrangement: Arrangement,
    /// Frames from the start to beat 1 of each bar rendered.
    pub bar_starts: Vec<u64>,
}

impl Rendered {
    /// One channel (0 = left) of a stem, or of the mix for `None`.
    pub fn channel(&self, stem: Option<usize>, channel: usize) -> Vec<f32> {
        let source = match stem {
            Some(s) => &self.stems[s],
            None => &self.mix,
        };
        source.iter().skip(channel).step_by(2).copied().collect()
    }

    /// Mono sum of a stem's two channels.
    pub fn stem_mono(&self, stem: usize) -> Vec<f32> {
        self.stems[stem]
            .chunks_exact(2)
            .map(|f| 0.5 * (f[0] + f[1]))
            .collect()
    }
}

/// What a render played, without its samples.
#[derive(Clone, Debug)]
pub struct RenderSummary {
    pub arrangement: Arrangement,
    /// Frames from the start to beat 1 of each bar rendered.
    pub bar_starts: Vec<u64>,
    /// Each bar rendered on the tempo map.
    pub bar_lines: Vec<BarLine>,
    /// Frames rendered, the room's tail included.
    pub frames: u64,
    pub sample_rate: u32,
}

/// Render a preset block by block, handing each block to `sink` as interleaved stereo:
/// the mix and the four stems (ordered as [`STEMS`]), and everything that sounded to
/// `journal` (bar lines, band notes, the player's input) after the block that played it. `progress` is called with (frames
/// done, frames total) about once per second of audio. Memory stays constant whatever
/// the length.
pub fn render_blocks(
    preset: &Preset,
    options: &RenderOptions,
    mut progress: impl FnMut(u64, u64),
    mut journal: impl FnMut(JournalEntry),
    mut sink: impl FnMut(&[f32], [&[f32]; STEM_COUNT]) -> Result<(), RenderError>,
) -> Result<RenderSummary, RenderError> {
    if !BLOCK_RANGE.contains(&options.block) {
        return Err(RenderError::Block(options.block));
    }
    if let Some(bars) = options.bars
        && !BARS_RANGE.contains(&bars)
    {
        return Err(RenderError::Bars(bars));
    }
    let arrangement = arrangement_for(preset, options.tempo, options.key)?;
    if let Some(form_loop) = options.trainer.form_loop
        && !form_loop.fits(arrangement.form_bars)
    {
        return Err(RenderError::Loop {
            form_loop,
            preset: preset.name.clone(),
            form_bars: arrangement.form_bars,
        });
    }
    let sample_rate = RENDER_RATE as f32;
    let phrase = match &options.input {
        Some(path) => {
            let from = (options.input_from_s.max(0.0) * f64::from(sample_rate)).round() as u64;
            let mut phrase = midi_file::read(path, sample_rate)?;
            phrase.retain(|e| e.frame >= from);
            phrase.iter_mut().for_each(|e| e.frame -= from);
            phrase
        }
        None => Vec::new(),
    };
    let samples_per_bar =
        sample_rate as f64 * 60.0 / arrangement.tempo as f64 * arrangement.beats_per_bar as f64;
    let phrase_end = phrase.last().map_or(0, |e| e.frame);
    let bars = options.bars.unwrap_or_else(|| {
        let phrase_bars = (phrase_end as f64 / samples_per_bar).ceil() as u32 + 1;
        arrangement.form_bars.max(8).max(phrase_bars)
    });
    let config = EngineConfig {
        sample_rate,
        seed: options.seed,
        mute: Player::mask(&options.mute),
        lead: options.lead,
        trainer: options.trainer,
        listen: options.listen,
        trade: options.trade,
        ..EngineConfig::default()
    };
    let (mut engine, mut controller) = Engine::new(config, arrangement.clone());
    // The length is known once the conductor lays out the bar after the last one (a beat
    // ahead of it); until then the progress shows the constant-tempo estimate.
    let mut total = engine.bar_start(bars as u64) + (TAIL_S * sample_rate) as u64;
    let mut end_known = false;
    let mut bar_lines: Vec<BarLine> = Vec::with_capacity(bars as usize + 1);
    let block = options.block;
    let mut mix = vec![0.0f32; block * 2];
    let mut stems: [Vec<f32>; STEM_COUNT] = std::array::from_fn(|_| vec![0.0f32; block * 2]);
    let mut next_input = 0;
    let mut done = 0u64;
    while done < total {
        let n = (block as u64).min(total - done) as usize;
        // Feed the phrase a block ahead, never more than the ring holds.
        while next_input < phrase.len() && phrase[next_input].frame < done + n as u64 {
            if controller.play(phrase[next_input]).is_err() {
                break;
            }
            next_input += 1;
        }
        let mut stem_slices = stems.each_mut().map(|s| &mut s[..2 * n]);
        engine.process_with_stems(&mut mix[..2 * n], &mut stem_slices);
        controller.collect_garbage();
        controller.latest_telemetry();
        controller.drain_journal(|entry| {
            journal(entry);
            if let JournalEntry::Bar(line) = entry {
                if line.index < u64::from(bars) {
                    bar_lines.push(line);
                } else if line.index == u64::from(bars) && !end_known {
                    end_known = true;
                    total = line.start_frame() + (TAIL_S * sample_rate) as u64;
                }
            }
        });
        sink(&mix[..2 * n], stems.each_ref().map(|s| &s[..2 * n]))?;
        done += n as u64;
        if done % (sample_rate as u64) < n as u64 || done == total {
            progress(done, total);
        }
    }
    let bar_starts = bar_lines.iter().map(BarLine::start_frame).collect();
    Ok(RenderSummary {
        arrangement,
        bar_starts,
        bar_lines,
        frames: total,
        sample_rate: RENDER_RATE,
    })
}

/// Render a preset in memory (tests, analysis).
pub fn render(
    preset: &Preset,
    options: &RenderOptions,
    progress: impl FnMut(u64, u64),
) -> Result<Rendered, RenderError> {
    let mut mix = Vec::new();
    let mut stems: [Vec<f32>; STEM_COUNT] = Default::default();
    let summary = render_blocks(
        preset,
        options,
        progress,
        |_| {},
        |block, block_stems| {
            mix.extend_from_slice(block);
            for (stem, samples) in stems.iter_mut().zip(block_stems) {
                stem.extend_from_slice(samples);
            }
            Ok(())
        },
    )?;
    Ok(Rendered {
        mix,
        stems,
        sample_rate: summary.sample_rate,
        arrangement: summary.arrangement,
        bar_starts: summary.bar_starts,
    })
}

/// A 48 kHz, 24-bit stereo WAV being written. It is written under a `.part` name and
/// renamed when complete, so a render that fails never leaves a broken file in place of
/// a good one.
struct WavOut {
    path: PathBuf,
    partial: PathBuf,
    writer: hound::WavWriter<std::io::BufWriter<std::fs::File>>,
}

impl WavOut {
    const SCALE: f32 = ((1 << 23) - 1) as f32;

    fn create(path: &Path, sample_rate: u32) -> Result<Self, RenderError> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        let mut partial = path.as_os_str().to_owned();
        partial.push(".part");
        let partial = PathBuf::from(partial);
        let writer =
            hound::WavWriter::create(&partial, spec).map_err(|source| RenderError::Wav {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            partial,
            writer,
        })
    }

    fn write(&mut self, interleaved: &[f32]) -> Result<(), RenderError> {
        for &x in interleaved {
            let sample = (x.clamp(-1.0, 1.0) * Self::SCALE).round() as i32;
            self.writer
                .write_sample(sample)
                .map_err(|source| RenderError::Wav {
                    path: self.path.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    fn finish(self) -> Result<(), RenderError> {
        let WavOut {
            path,
            partial,
            writer,
        } = self;
        writer.finalize().map_err(|source| RenderError::Wav {
            path: path.clone(),
            source,
        })?;
        std::fs::rename(&partial, &path).map_err(|source| RenderError::Wav {
            path,
            source: hound::Error::IoError(source),
        })
    }
}

/// The files of a render: the mix and, if asked, one per stem.
struct Outputs {
    mix: WavOut,
    stems: Vec<WavOut>,
}

impl Outputs {
    fn create(out: &Path, stems_dir: Option<&Path>) -> Result<Self, RenderError> {
        let mix = WavOut::create(out, RENDER_RATE)?;
        let stems = match stems_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| RenderError::StemDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
                STEMS
                    .iter()
                    .map(|name| WavOut::create(&dir.join(format!("{name}.wav")), RENDER_RATE))
                    .collect::<Result<Vec<_>, _>>()?
            }
            None => Vec::new(),
        };
        Ok(Self { mix, stems })
    }
}

/// Render straight to `out` (and each stem to `DIR/NAME.wav` if asked), streaming, and
/// hand everything that sounded to `journal` as [`render_blocks`] does. The files are
/// only created once every option has been checked, so a mistyped option never touches
/// an existing file.
pub fn render_to_files(
    preset: &Preset,
    options: &RenderOptions,
    out: &Path,
    stems_dir: Option<&Path>,
    progress: impl FnMut(u64, u64),
    journal: impl FnMut(JournalEntry),
) -> Result<RenderSummary, RenderError> {
    let mut outputs: Option<Outputs> = None;
    let summary = render_blocks(preset, options, progress, journal, |mix, stems| {
        let files = match &mut outputs {
            Some(files) => files,
            None => outputs.insert(Outputs::create(out, stems_dir)?),
        };
        files.mix.write(mix)?;
        for (writer, samples) in files.stems.iter_mut().zip(stems) {
            writer.write(samples)?;
        }
        Ok(())
    })?;
    if let Some(files) = outputs {
        files.mix.finish()?;
        for writer in files.stems {
            writer.finish()?;
        }
    }
    Ok(summary)
}
