//! What the player has chosen — preset, key, tempo, mutes, lead voice, count-in, whether
//! the band plays, the loop, tempo ramp and key cycle — kept by the live session, which
//! builds every engine with it and changes it only through [`Intent`]s.

use crate::band::{
    Arrangement, ArrangementError, FormLoop, Player, Position, TempoRamp, Trainer, arrangement_for,
};
use crate::engine::{Command, EngineConfig, Telemetry, Transport};
use crate::preset::{LeadInstrument, Preset, TEMPO_RANGE};
use crate::theory::{Key, semitones_between, transposed_key};

/// What a console key asks for. The session applies each in turn to what the player has
/// chosen, so two presses in one frame are two changes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Intent {
    /// Stop the band, or start it from bar 1 (after a count-in bar if that is on).
    StartStop,
    /// Tempo up or down by this many BPM, within [`TEMPO_RANGE`].
    StepTempo(f32),
    ToggleMute(Player),
    /// The next lead voice of [`LeadInstrument::ALL`].
    NextLead,
    ToggleCountIn,
    /// Trading with the band's horn: off, fours, eights, off again.
    CycleTrade,
    /// Another preset of the list, this many steps on (wrapping), in the same
    /// transposition, at its own tempo and with its own lead voice.
    StepPreset(i32),
    /// Up or down this many semitones, staying within a tritone of the preset's key.
    Transpose(i32),
    /// Loop the section the form is in (all its repeats), or play the whole form again.
    ToggleLoop,
    /// Switch the tempo ramp on (the one given at start, or [`TempoRamp::default`]) or
    /// off, keeping the tempo it reached.
    ToggleTempoRamp,
}

#[derive(Debug, thiserror::Error)]
pub enum PerformanceError {
    #[error("no preset to play")]
    NoPresets,
    #[error(transparent)]
    Arrangement(#[from] ArrangementError),
}

/// The player's choices, and the arrangement they make.
#[derive(Clone, Debug)]
pub struct Performance {
    presets: Vec<Preset>,
    preset: usize,
    /// Semitones from the preset's own key, in -5 … 6.
    transposition: i32,
    key: Key,
    arrangement: Arrangement,
    tempo: f32,
    mute: [bool; 3],
    lead: LeadInstrument,
    count_in: bool,
    /// Whether the band follows the soloist (`--no-listen` turns it off).
    listen: bool,
    /// Bars per turn trading with the band's horn; 0: not trading.
    trade: u32,
    playing: bool,
    trainer: Trainer,
    /// The ramp [`Intent::ToggleTempoRamp`] switches on.
    toggled_ramp: TempoRamp,
    /// The bar sounding in the engine's latest telemetry, while the band plays: where the
    /// loop, the key cycle and the ramp were, for an engine that replaces a lost one.
    heard: Option<Position>,
}

impl Performance {
    /// Play `presets[index]` in `key` (its own when `None`) at `tempo` (its own when
    /// `None`); the other presets are what [`Intent::StepPreset`] steps through. The band
    /// plays, with nothing muted, the preset's lead voice and no count-in.
    pub fn new(
        presets: Vec<Preset>,
        index: usize,
        key: Option<Key>,
        tempo: Option<f32>,
    ) -> Result<Performance, PerformanceError> {
        let preset = presets.get(index).ok_or(PerformanceError::NoPresets)?;
        let arrangement = arrangement_for(preset, tempo, key)?;
        let transposition = key.map_or(0, |k| semitones_between(preset.key, k));
        Ok(Performance {
            key: key.unwrap_or(preset.key),
            transposition,
            tempo: arrangement.tempo,
            lead: arrangement.lead,
            arrangement,
            presets,
            preset: index,
            mute: [false; 3],
            count_in: false,
            listen: true,
            trade: 0,
            playing: true,
            trainer: Trainer::default(),
            toggled_ramp: TempoRamp::default(),
            heard: None,
        })
    }

    /// One preset alone, as it is written.
    pub fn of(preset: Preset) -> Result<Performance, PerformanceError> {
        Performance::new(vec![preset], 0, None, None)
    }

    /// These players muted from the start.
    pub fn with_mute(mut self, players: &[Player]) -> Performance {
        self.mute = Player::mask(players);
        self
    }

    /// Whether starting the band counts in.
    pub fn with_count_in(mut self, on: bool) -> Performance {
        self.count_in = on;
        self
    }

    /// Trade turns of `bars` bars with the band's horn from the start (0: not).
    pub fn with_trading(mut self, bars: u32) -> Performance {
        self.trade = bars;
        self
    }

    /// Bars per turn trading with the band's horn; 0: not trading.
    pub fn trade(&self) -> u32 {
        self.trade
    }

    /// The arrangements of the presets the arrows step to, in their own key and tempo,
    /// before their loudness is measured.
    pub fn unmeasured_presets(&self) -> Vec<Arrangement> {
        self.presets
            .iter()
            .filter_map(|p| Arrangement::new(p, None).ok())
            .collect()
    }

    /// Whether the band follows the soloist (where the preset lets it).
    pub fn with_listening(mut self, on: bool) -> Performance {
        self.listen = on;
        self
    }

    /// Loop, tempo ramp and key cycle from the start; `toggled_ramp` is the ramp the
    /// console's ramp key switches on (the one in `trainer`, if any, wins). A loop the
    /// form cannot hold is left out.
    pub fn with_trainer(mut self, trainer: Trainer, toggled_ramp: TempoRamp) -> Performance {
        let form_bars = self.arrangement.form_bars;
        self.trainer = Trainer {
            form_loop: trainer.form_loop.filter(|l| l.fits(form_bars)),
            ..trainer
        };
        self.toggled_ramp = trainer.ramp.unwrap_or(toggled_ramp);
        self
    }

    pub fn preset(&self) -> &Preset {
        &self.presets[self.preset]
    }

    /// The key played now.
    pub fn key(&self) -> Key {
        self.key
    }

    /// Semitones from the preset's own key.
    pub fn transposition(&self) -> i32 {
        self.transposition
    }

    /// The arrangement the band plays (its tempo is the one it was loaded at; the tempo
    /// in force is [`Performance::tempo`]).
    pub fn arrangement(&self) -> &Arrangement {
        &self.arrangement
    }

    pub fn tempo(&self) -> f32 {
        self.tempo
    }

    /// Muted players, indexed as [`Player::ALL`].
    pub fn mute(&self) -> [bool; 3] {
        self.mute
    }

    pub fn lead(&self) -> LeadInstrument {
        self.lead
    }

    pub fn count_in(&self) -> bool {
        self.count_in
    }

    /// Whether the band plays (false: stopped by the player).
    pub fn playing(&self) -> bool {
        self.playing
    }

    /// Loop, tempo ramp and key cycle.
    pub fn trainer(&self) -> Trainer {
        self.trainer
    }

    /// The engine played a bar: keep where it was, and the tempo a ramp took it to (a
    /// bar's tempo that moves is the player's tempo from then on, so the arrow keys step
    /// from it and a new engine starts at it).
    pub fn heard(&mut self, telemetry: &Telemetry) {
        if telemetry.transport != Transport::Playing {
            return;
        }
        let position = telemetry.position;
        if let Some(before) = self.heard
            && before.tempo != position.tempo
            && position.tempo > 0.0
        {
            self.tempo = position.tempo;
        }
        self.heard = Some(position);
    }

    /// The engine configuration that plays all of this from its first sample, beginning
    /// at bar `start_bar` (0-based, not wrapped).
    pub fn engine_config(&self, sample_rate: f32, seed: u64, start_bar: u64) -> EngineConfig {
        EngineConfig {
            sample_rate,
            seed,
            mute: self.mute,
            tempo: Some(self.tempo),
            lead: Some(self.lead),
            count_in: self.count_in,
            playing: self.playing,
            start_bar,
            trainer: self.trainer,
            // A fresh start begins at the top of the form (or the loop) in the home key.
            resume_after: self.heard.filter(|_| start_bar > 0),
            listen: self.listen,
            trade: self.trade,
        }
    }

    /// Apply `intent`; the commands that bring a running engine to the new state are
    /// handed to `send`, in order. On an error nothing changes.
    pub fn apply(
        &mut self,
        intent: Intent,
        mut send: impl FnMut(Command),
    ) -> Result<(), PerformanceError> {
        match intent {
            Intent::StartStop => {
                self.playing = !self.playing;
                self.heard = None;
                send(if self.playing {
                    Command::Start
                } else {
                    Command::Stop
                });
            }
            Intent::StepTempo(step) => {
                self.tempo = (self.tempo + step).clamp(*TEMPO_RANGE.start(), *TEMPO_RANGE.end());
                send(Command::SetTempo(self.tempo));
            }
            Intent::ToggleMute(player) => {
                let index = Player::ALL.iter().position(|p| *p == player).unwrap_or(0);
                self.mute[index] = !self.mute[index];
                send(Command::SetMute(player, self.mute[index]));
            }
            Intent::NextLead => {
                let index = LeadInstrument::ALL
                    .iter()
                    .position(|l| *l == self.lead)
                    .unwrap_or(0);
                self.lead = LeadInstrument::ALL[(index + 1) % LeadInstrument::ALL.len()];
                send(Command::SetLead(self.lead));
            }
            Intent::ToggleCountIn => {
                self.count_in = !self.count_in;
                send(Command::SetCountIn(self.count_in));
            }
            Intent::CycleTrade => {
                self.trade = match self.trade {
                    0 => 4,
                    4 => 8,
                    _ => 0,
                };
                send(Command::SetTrade(self.trade));
            }
            Intent::StepPreset(step) => {
                let count = self.presets.len() as i32;
                let index = (self.preset as i32 + step).rem_euclid(count) as usize;
                let preset = &self.presets[index];
                let key = transposed_key(preset.key, self.transposition);
                let transposed = (self.transposition != 0).then_some(key);
                let arrangement = arrangement_for(preset, None, transposed)?;
                self.preset = index;
                self.key = key;
                self.tempo = arrangement.tempo;
                self.lead = arrangement.lead;
                self.load(arrangement, &mut send);
                // Bar numbers of one preset mean nothing in another.
                if self.trainer.form_loop.take().is_some() {
                    send(Command::SetLoop(None));
                }
            }
            Intent::Transpose(step) => {
                // Stay within a tritone of the preset's key either way.
                let transposition = (self.transposition + step + 5).rem_euclid(12) - 5;
                let preset = &self.presets[self.preset];
                let key = transposed_key(preset.key, transposition);
                let transposed = (transposition != 0).then_some(key);
                let mut arrangement = arrangement_for(preset, Some(self.tempo), transposed)?;
                // A new key keeps the player's lead voice.
                arrangement.lead = self.lead;
                self.transposition = transposition;
                self.key = key;
                self.load(arrangement, &mut send);
            }
            Intent::ToggleLoop => {
                let form_bar = self.heard.map_or(0, |p| p.form_bar);
                self.trainer.form_loop = match self.trainer.form_loop {
                    Some(_) => None,
                    None => Some(FormLoop::section_of(&self.arrangement, form_bar)),
                };
                send(Command::SetLoop(self.trainer.form_loop));
            }
            Intent::ToggleTempoRamp => {
                self.trainer.ramp = match self.trainer.ramp {
                    Some(_) => None,
                    None => Some(self.toggled_ramp),
                };
                send(Command::SetTempoRamp(self.trainer.ramp));
            }
        }
        Ok(())
    }

    /// Play `arrangement` from its first bar; a loaded form starts again, playing.
    fn load(&mut self, arrangement: Arrangement, send: &mut impl FnMut(Command)) {
        self.arrangement = arrangement;
        self.heard = None;
        send(Command::Load(Box::new(self.arrangement.clone())));
        if !self.playing {
            // Loading starts the form; a band the player had stopped stays stopped.
            send(Command::Stop);
        }
    }

    /// The engine chose another lead voice itself (a program change from a keyboard).
    pub fn lead_chosen_by_program(&mut self, lead: LeadInstrument) {
        self.lead = lead;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn performance() -> Performance {
        let presets: Vec<Preset> = crate::preset::catalog()
            .into_iter()
            .filter_map(|entry| entry.preset.ok())
            .collect();
        Performance::new(presets, 0, None, None).unwrap()
    }

    fn apply(p: &mut Performance, intent: Intent) -> Vec<String> {
        let mut sent = Vec::new();
        p.apply(intent, |c| sent.push(format!("{c:?}"))).unwrap();
        sent
    }

    #[test]
    fn two_presses_are_two_changes() {
        let mut p = performance();
        apply(&mut p, Intent::ToggleMute(Player::Drums));
        apply(&mut p, Intent::ToggleMute(Player::Drums));
        assert_eq!(p.mute(), [false; 3]);
        let lead = p.lead();
        apply(&mut p, Intent::NextLead);
        apply(&mut p, Intent::NextLead);
        let index = LeadInstrument::ALL.iter().position(|l| *l == lead).unwrap();
        assert_eq!(
            p.lead(),
            LeadInstrument::ALL[(index + 2) % LeadInstrument::ALL.len()]
        );
        let tempo = p.tempo();
        apply(&mut p, Intent::StepTempo(2.0));
        apply(&mut p, Intent::StepTempo(2.0));
        assert_eq!(p.tempo(), tempo + 4.0);
    }

    #[test]
    fn tempo_stays_in_range() {
        let mut p = performance();
        for _ in 0..400 {
            apply(&mut p, Intent::StepTempo(2.0));
        }
        assert_eq!(p.tempo(), *TEMPO_RANGE.end());
    }

    #[test]
    fn transposing_keeps_tempo_and_lead_and_wraps_within_a_tritone() {
        let mut p = performance();
        apply(&mut p, Intent::StepTempo(10.0));
        apply(&mut p, Intent::NextLead);
        let (tempo, lead) = (p.tempo(), p.lead());
        let sent = apply(&mut p, Intent::Transpose(1));
        assert!(sent[0].starts_with("Load"), "{sent:?}");
        assert_eq!((p.tempo(), p.lead()), (tempo, lead));
        assert_eq!(p.arrangement().lead, lead);
        assert_eq!(p.arrangement().tempo, tempo);
        for _ in 0..5 {
            apply(&mut p, Intent::Transpose(1));
        }
        assert_eq!(p.transposition(), 6);
        apply(&mut p, Intent::Transpose(1));
        assert_eq!(p.transposition(), -5);
        assert_eq!(
            p.key(),
            transposed_key(p.preset().key, -5),
            "the key is spelled the preferred way"
        );
    }

    /// The telemetry of an engine playing form bar `form_bar` at `tempo`.
    fn playing(form_bar: u32, tempo: f32) -> Telemetry {
        let p = performance();
        let (mut engine, mut controller) =
            crate::engine::Engine::new(p.engine_config(48_000.0, 1, 0), p.arrangement().clone());
        engine.process(&mut [0.0; 128]);
        let mut t = controller.latest_telemetry().unwrap();
        t.position.form_bar = form_bar;
        t.position.tempo = tempo;
        t
    }

    #[test]
    fn the_loop_key_loops_the_section_heard_and_a_new_preset_drops_the_loop() {
        let mut p = performance();
        assert_eq!(p.preset().name, "generique", "the catalog's first");
        p.heard(&playing(18, p.tempo()));
        assert_eq!(
            apply(&mut p, Intent::ToggleLoop),
            ["SetLoop(Some(FormLoop { first: 16, last: 23 }))"]
        );
        assert_eq!(p.trainer().form_loop.unwrap().to_string(), "17-24");
        assert_eq!(apply(&mut p, Intent::ToggleLoop), ["SetLoop(None)"]);
        apply(&mut p, Intent::ToggleLoop);
        let sent = apply(&mut p, Intent::StepPreset(1));
        assert!(sent[0].starts_with("Load"), "{sent:?}");
        assert_eq!(sent.last().unwrap(), "SetLoop(None)");
        assert_eq!(p.trainer().form_loop, None);
    }

    #[test]
    fn the_ramp_key_switches_on_the_ramp_given_and_the_tempo_it_reaches_is_kept() {
        let ramp = TempoRamp {
            step: 6.0,
            every: 1,
            max: 200.0,
        };
        let mut p = performance().with_trainer(Trainer::default(), ramp);
        assert_eq!(
            apply(&mut p, Intent::ToggleTempoRamp),
            ["SetTempoRamp(Some(TempoRamp { step: 6.0, every: 1, max: 200.0 }))"]
        );
        let tempo = p.tempo();
        p.heard(&playing(0, tempo));
        p.heard(&playing(0, tempo + 6.0));
        assert_eq!(
            p.tempo(),
            tempo + 6.0,
            "the ramp's tempo is the player's now"
        );
        apply(&mut p, Intent::StepTempo(2.0));
        assert_eq!(p.tempo(), tempo + 8.0, "the arrows step from it");
        // The bar still sounding at the old tempo does not take the step back.
        p.heard(&playing(1, tempo + 6.0));
        assert_eq!(p.tempo(), tempo + 8.0);
        assert_eq!(
            apply(&mut p, Intent::ToggleTempoRamp),
            ["SetTempoRamp(None)"]
        );
    }

    #[test]
    fn a_new_engine_resumes_after_the_bar_heard_with_the_trainer() {
        let trainer = Trainer {
            form_loop: FormLoop::new(4, 7),
            ramp: None,
            key_cycle: Some(crate::band::KeyCycle::Fourths),
        };
        let mut p = performance().with_trainer(trainer, TempoRamp::default());
        let mut t = playing(7, p.tempo());
        t.position.key_shift = 5;
        p.heard(&t);
        let config = p.engine_config(48_000.0, 1, 12);
        assert_eq!(config.trainer, trainer);
        assert_eq!(
            config.resume_after.map(|p| (p.form_bar, p.key_shift)),
            Some((7, 5))
        );
        assert_eq!(
            p.engine_config(48_000.0, 1, 0).resume_after,
            None,
            "a fresh start"
        );
        let (mut engine, mut controller) =
            crate::engine::Engine::new(config, p.arrangement().clone());
        engine.process(&mut [0.0; 128]);
        let position = controller.latest_telemetry().unwrap().position;
        assert_eq!(
            (position.bar, position.form_bar, position.key_shift),
            (12, 4, 10),
            "the loop's first bar, a fourth up again"
        );
    }

    #[test]
    fn a_stopped_band_stays_stopped_through_a_new_preset() {
        let mut p = performance();
        assert_eq!(apply(&mut p, Intent::StartStop), ["Stop"]);
        let sent = apply(&mut p, Intent::StepPreset(1));
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1], "Stop");
        assert!(!p.playing());
        assert_eq!(apply(&mut p, Intent::StartStop), ["Start"]);
    }
}
