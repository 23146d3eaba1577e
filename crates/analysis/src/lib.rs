//! Measurement toolkit for checking musical claims from rendered audio.
//!
//! Tests and benches render the band offline and then ask questions of the *audio*, never
//! of the generator's bookkeeping: when do notes start, which pitch does the bass play,
//! how much does the ride swing, how loud is the mix, how long until the first sound.
//! Everything works on mono `&[f32]` at a given sample rate, is deterministic, allocates
//! freely and is meant for test and tool threads, never the audio thread.
//!
//! - [`levels`]: peak / RMS in dBFS, first sample above a threshold (latency), finiteness.
//! - [`onset`]: onset times to ~1 ms on percussive and plucked sounds, also over a noise bed.
//! - [`pitch`]: YIN pitch of a segment and of each note between onsets.
//! - [`swing`]: swing ratio and on-beat offset from onset times and a beat grid.
//! - [`tempo`]: the beat period onset times line up with, wherever the recording starts.
//! - [`read_wav`]: a rendered file back as per-channel `f32`.

mod attack;
mod dsp;
pub mod levels;
pub mod onset;
pub mod pitch;
pub mod swing;
pub mod tempo;
#[cfg(test)]
mod test_signals;

pub use levels::{
    amp_to_dbfs, dbfs_to_amp, first_sample_above, is_finite_all, peak_dbfs, rms_dbfs,
};
pub use onset::{Band, Onset, OnsetMatch, OnsetOptions, detect_onsets, match_onsets};
pub use pitch::{PitchEstimate, estimate_pitch, hz_to_midi, midi_to_hz, note_pitches};
pub use swing::{SwingEstimate, swing_ratio_from_onsets};
pub use tempo::{TempoEstimate, tempo_from_onsets};

use std::path::Path;

/// Reads a WAV file (any bit depth hound supports) as one `Vec<f32>` per channel in
/// [-1, 1], plus its sample rate. For tests that analyse a file written by `render`.
pub fn read_wav(path: impl AsRef<Path>) -> Result<(Vec<Vec<f32>>, u32), hound::Error> {
    let mut reader = hound::WavReader::open(path)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            // Full scale of an n-bit integer is 2^(n-1); dividing by it maps to [-1, 1).
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()?
        }
    };
    let mut out = vec![Vec::with_capacity(interleaved.len() / channels); channels];
    for frame in interleaved.chunks_exact(channels) {
        for (channel, &sample) in out.iter_mut().zip(frame) {
            channel.push(sample);
        }
    }
    Ok((out, spec.sample_rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_wav_round_trips_stereo_16_bit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rt.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..100i16 {
            writer.write_sample(i * 100).unwrap();
            writer.write_sample(-i * 100).unwrap();
        }
        writer.finalize().unwrap();
        let (channels, rate) = read_wav(&path).unwrap();
        assert_eq!(rate, 48_000);
        assert_eq!(channels.len(), 2);
        assert_eq!(channels[0].len(), 100);
        assert!((channels[0][99] - 9900.0 / 32768.0).abs() < 1e-6);
        assert!((channels[1][99] + 9900.0 / 32768.0).abs() < 1e-6);
    }
}
