//! The band: a conductor that keeps the form and the time, and three players (bass,
//! drums, piano) who decide, one bar ahead, what to play.
//!
//! Everything here runs on the audio thread and is allocation-free: a bar is planned into
//! a fixed-capacity [`EventQueue`] of sample-stamped sounds, which the engine plays at
//! their exact sample. Each player draws from its own seeded generator, and bars are
//! always planned in order, so a render repeats bit for bit for the same preset and seed
//! whatever the block size.

pub mod arrangement;
pub mod bass;
pub mod conductor;
pub mod drums;
pub mod listener;
pub mod piano;
pub mod queue;
pub mod trading;
pub mod trainer;

pub use arrangement::{Arrangement, ArrangementError, ChordSlot};
pub use conductor::{BarContext, BarLine, Conductor, Position};
pub use listener::{Listener, Soloist};
pub use queue::{BandEvent, EventQueue, Sound};
pub use trading::{HornNote, TradeTurn, Trader};
pub use trainer::{FormLoop, KeyCycle, PassPoint, TempoRamp, Trainer};

use crate::preset::Preset;
use crate::theory::Key;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;

/// The arrangement the band plays for `preset`, at `tempo` (the preset's own when
/// `None`) and in `key` (the preset's own when `None`, every chord and mode moved by
/// the nearest way otherwise), its band set to the target loudness.
pub fn arrangement_for(
    preset: &Preset,
    tempo: Option<f32>,
    key: Option<Key>,
) -> Result<Arrangement, ArrangementError> {
    let arrangement = match key {
        Some(key) => Arrangement::new(&preset.transposed(key), tempo)?,
        None => Arrangement::new(preset, tempo)?,
    };
    Ok(crate::engine::loudness::leveled(arrangement))
}

/// Which player a sound belongs to: also the stem it is rendered into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Player {
    Bass,
    Drums,
    Piano,
}

impl Player {
    pub const ALL: [Player; 3] = [Player::Bass, Player::Drums, Player::Piano];

    pub fn name(self) -> &'static str {
        match self {
            Player::Bass => "bass",
            Player::Drums => "drums",
            Player::Piano => "piano",
        }
    }

    /// Which players of [`Player::ALL`] are in `players`, as the engine's mute mask.
    pub fn mask(players: &[Player]) -> [bool; 3] {
        Player::ALL.map(|p| players.contains(&p))
    }

    pub fn parse(name: &str) -> Option<Player> {
        Player::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// Swing ratio (long : short eighth) for a tempo, from the ride-cymbal measurements of
/// Friberg & Sundström: `r = clamp((beat_ms − 100) / 100, 1, 3.5)`, so the short note
/// stays near 100 ms. The study has no data below ~120 BPM; below that the ratio eases
/// from 3.5 down to 2.5 at 60 BPM, since a 3.5:1 ballad sounds like dotted eighths rather
/// than swing (an interpretation).
pub fn swing_ratio_for_tempo(bpm: f32) -> f32 {
    let beat_ms = 60_000.0 / bpm.max(1.0);
    let fit = ((beat_ms - 100.0) / 100.0).clamp(1.0, 3.5);
    if bpm >= 120.0 {
        fit
    } else {
        let t = ((bpm - 60.0) / 60.0).clamp(0.0, 1.0);
        (2.5 + t * (fit - 2.5)).min(fit)
    }
}

/// The seed the players use for an arrangement: the user's seed mixed with the preset's
/// name (FNV-1a), so that two presets with the same seed do not play the same lines.
pub fn band_seed(seed: u64, preset_name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in preset_name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    seed ^ hash
}

/// A player's micro-timing (where they sit against the beat, how far they stray) and the
/// seeded random stream it and their choices come from. The preset's style of playing is
/// [`crate::preset::Feel`].
pub struct PlayerTiming {
    rng: Pcg32,
    /// Where this player sits against the beat, in ms (negative = ahead).
    offset_ms: f32,
    /// Spread of the timing around that place, in ms.
    jitter_ms: f32,
}

impl PlayerTiming {
    pub fn new(seed: u64, stream: u64, offset_ms: f32, jitter_ms: f32) -> Self {
        Self {
            rng: Pcg32::seed_from_u64(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            offset_ms,
            jitter_ms,
        }
    }

    /// Uniform in 0 … 1.
    pub fn chance(&mut self) -> f32 {
        self.rng.random::<f32>()
    }

    /// True with probability `p`.
    pub fn maybe(&mut self, p: f32) -> bool {
        self.chance() < p
    }

    /// Uniform integer in `0..n` (`n` > 0).
    pub fn pick(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n.max(1))
    }

    /// `value` varied by up to ± `spread`.
    pub fn vary(&mut self, value: f32, spread: f32) -> f32 {
        value + spread * (2.0 * self.chance() - 1.0)
    }

    /// This player's timing offset for one note, in ms: the place plus a roughly
    /// Gaussian spread (sum of two uniforms).
    pub fn timing_ms(&mut self) -> f32 {
        self.offset_ms + self.jitter_ms * (self.chance() + self.chance() - 1.0)
    }
}
