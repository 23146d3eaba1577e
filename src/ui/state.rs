//! What the console shows, fed by telemetry: pure data with no terminal, no clock and no
//! engine, so a recorded telemetry stream replays to the same screens.

use crate::band::{Arrangement, ChordSlot, PassPoint, Trainer};
use crate::engine::journal::JournalEntry;
use crate::engine::{Telemetry, Transport};
use crate::live::DriverSummary;
use crate::practice::{PhraseTracker, PracticeLog, PracticeReport};
use crate::theory::{Key, Notation, PitchClass, SpelledPitch, transposed_key};

/// How meters fall between frames: about 20 dB a second at 30 frames a second.
const METER_FALL_PER_FRAME: f32 = 0.85;

/// The audio side, as the engine panel shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineInfo {
    /// `None` while the server or device is away.
    pub driver: Option<DriverSummary>,
    /// Callback cost as a share of its budget: the last one, and the highest since the
    /// previous frame.
    pub load: f32,
    pub peak_load: f32,
    pub xruns: u64,
    /// Input and band events dropped because a queue was full, since the start.
    pub dropped: u64,
    pub midi: MidiInfo,
}

/// The MIDI inputs in a few words.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MidiInfo {
    pub connected: Vec<String>,
    /// Ports that went away and have not come back.
    pub gone: Vec<String>,
    /// Why there is no MIDI service, if there is none.
    pub unavailable: Option<String>,
}

/// How the console writes: accidentals and glyphs, and whether it may use colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Look {
    pub notation: Notation,
    pub color: bool,
}

impl Default for Look {
    fn default() -> Self {
        Look {
            notation: Notation::Unicode,
            color: true,
        }
    }
}

impl Look {
    /// From the environment: `NO_COLOR` (any non-empty value) turns colour off; a locale
    /// that is not UTF-8, or `ASCENSEUR_ASCII`, writes `Bb` and `F#`.
    pub fn from_env() -> Look {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let locale = var("LC_ALL")
            .or_else(|| var("LC_CTYPE"))
            .or_else(|| var("LANG"))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let utf8 = locale.contains("utf-8") || locale.contains("utf8");
        Look {
            notation: if utf8 && var("ASCENSEUR_ASCII").is_none() {
                Notation::Unicode
            } else {
                Notation::Ascii
            },
            color: var("NO_COLOR").is_none(),
        }
    }
}

/// The header's look at the practice history.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PracticeGlance {
    /// Minutes played today, every preset, the take being recorded included.
    pub today_minutes: f64,
    /// The highest tempo played steadily on this preset (the history's best tempo).
    pub best_tempo: Option<f32>,
}

/// Everything on the console's screen.
#[derive(Clone, Debug)]
pub struct ConsoleState {
    /// The arrangement in the key the band plays in now (moved by the key cycle).
    pub arrangement: Arrangement,
    /// The arrangement as loaded, in `key`.
    home: Arrangement,
    /// The session cue the preset comes from.
    pub cue: String,
    /// The key the preset is played in (before the key cycle moves it).
    pub key: Key,
    /// Semitones above `key` the band plays in now (the key cycle), 0 … 11.
    pub key_shift: u8,
    /// Semitones from the preset's own key.
    pub transposition: i32,
    pub telemetry: Option<Telemetry>,
    pub phrases: PhraseTracker,
    /// The player's notes and the bars since the preset or key was chosen (the running
    /// take), from the engine's journal.
    pub practice: PracticeLog,
    /// The practice report of the running take and of the last phrase, as of the last
    /// [`ConsoleState::judge`].
    pub take_report: Option<PracticeReport>,
    pub phrase_report: Option<PracticeReport>,
    /// Whether the log changed since the take was last judged.
    practice_changed: bool,
    /// Phrases finished when the last phrase was judged.
    phrases_judged: u64,
    /// Engine frames of the latest playback: a phrase heard back is not judged again
    /// (its notes are the take's, judged when they were played).
    playback_span: Option<(u64, u64)>,
    pub engine: EngineInfo,
    pub look: Look,
    pub help: bool,
    /// The latest thing the player should be told (a lost device, a full queue).
    pub notice: Option<String>,
    /// Today's practice and the best tempo on this preset, from the history and the take
    /// being recorded (`None` when nothing is recorded).
    pub practice_glance: Option<PracticeGlance>,
    /// Where the computer keyboard's `a` key is (MIDI note), for the key legend.
    pub computer_keys_c: u8,
    /// Meter levels per stem (linear peak, falling between frames).
    pub levels: [f32; 4],
}

/// What the count-down line says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Countdown {
    /// More than the current bar to go: bars until the change, counting this one.
    Bars(u32),
    /// In the last bar before the change, on this beat (1-based).
    LastBar { beat: u32 },
    /// The form is one chord: no change to count down to.
    NoChange,
}

impl ConsoleState {
    pub fn new(arrangement: Arrangement, cue: String, key: Key, look: Look) -> ConsoleState {
        ConsoleState {
            home: arrangement.clone(),
            arrangement,
            cue,
            key,
            key_shift: 0,
            transposition: 0,
            telemetry: None,
            phrases: PhraseTracker::new(),
            practice: PracticeLog::new(),
            take_report: None,
            phrase_report: None,
            practice_changed: false,
            phrases_judged: 0,
            playback_span: None,
            engine: EngineInfo::default(),
            look,
            help: false,
            notice: None,
            practice_glance: None,
            computer_keys_c: 60,
            levels: [0.0; 4],
        }
    }

    /// Another preset or key: phrases start afresh.
    pub fn set_arrangement(&mut self, arrangement: Arrangement, cue: String, key: Key) {
        self.home = arrangement.clone();
        self.arrangement = arrangement;
        self.key_shift = 0;
        self.cue = cue;
        self.key = key;
        self.phrases.reset();
        self.practice.clear();
        self.take_report = None;
        self.phrase_report = None;
        self.phrases_judged = 0;
    }

    /// One entry of the engine's journal, in the order the engine wrote them.
    pub fn record(&mut self, entry: &JournalEntry) {
        self.practice_changed |= self.practice.record(entry);
    }

    /// Judge the running take if it changed, and the last phrase once it ends: the same
    /// analysis as `render --report`, on the notes and bars the journal gave.
    pub fn judge(&mut self) {
        let Some(t) = self.telemetry else {
            return;
        };
        let rate = f64::from(t.sample_rate);
        let now = self.practice.log_frame(t.frame);
        if self.practice_changed {
            self.practice_changed = false;
            // The bar lines carry the key shift: the analysis moves the home key's chords.
            self.take_report = Some(self.practice.report(&self.home, rate, now));
        }
        if self.phrases.finished() != self.phrases_judged {
            self.phrases_judged = self.phrases.finished();
            let heard_back = |start: u64| {
                self.playback_span
                    .is_some_and(|(from, to)| (from..to).contains(&start))
            };
            if let Some(phrase) = self.phrases.last()
                && !heard_back(phrase.start_frame)
            {
                let span = self.practice.log_frame(phrase.start_frame)
                    ..=self.practice.log_frame(phrase.end_frame);
                self.phrase_report =
                    Some(self.practice.report_between(span, &self.home, rate, now));
            }
        }
    }

    /// The key the band plays in now, spelled as the console spells a transposition.
    pub fn key_in_force(&self) -> Key {
        transposed_key(self.key, i32::from(self.key_shift))
    }

    /// Show the band `key_shift` semitones above the home key (the key cycle moved on).
    fn follow_key(&mut self, key_shift: u8) {
        if key_shift != self.key_shift {
            self.key_shift = key_shift;
            self.arrangement = self.home.transposed(key_shift);
        }
    }

    /// One telemetry snapshot, in the order the engine produced them.
    pub fn feed(&mut self, t: &Telemetry) {
        for onset in t.onsets() {
            // Each note is heard in the key of its bar.
            if onset.in_form {
                self.follow_key(onset.position.key_shift);
            }
            self.phrases.note_on(&self.arrangement, onset);
        }
        if t.transport == Transport::Playing {
            self.follow_key(t.position.key_shift);
        }
        let any_held = t.held_keys != [0, 0];
        let samples_per_beat = f64::from(t.sample_rate) * 60.0 / f64::from(t.tempo.max(1.0));
        let _ = self.phrases.update(t.frame, any_held, samples_per_beat);
        if let Some(playback) = t.playback {
            self.playback_span = Some((playback.from, playback.to));
        }
        for (level, peak) in self.levels.iter_mut().zip(t.stem_peaks) {
            *level = level.max(peak);
        }
        self.telemetry = Some(*t);
    }

    /// A frame was drawn: meters fall.
    pub fn frame_drawn(&mut self) {
        for level in &mut self.levels {
            *level *= METER_FALL_PER_FRAME;
        }
    }

    pub fn transport(&self) -> Transport {
        self.telemetry.map_or(Transport::Playing, |t| t.transport)
    }

    /// The loop, ramp and key cycle the engine plays.
    pub fn trainer(&self) -> Trainer {
        self.telemetry.map_or_else(Trainer::default, |t| t.trainer)
    }

    /// Where the trainer stands in the bar sounding (the top of the form, or of the loop,
    /// while stopped or counting in).
    fn pass_point(&self) -> PassPoint {
        match self.telemetry {
            Some(t) if t.transport == Transport::Playing => PassPoint {
                form_bar: t.position.form_bar,
                key_shift: self.key_shift,
                ..PassPoint::default()
            },
            _ => PassPoint {
                key_shift: self.key_shift,
                ..self.trainer().start_at(0, self.arrangement.form_bars)
            },
        }
    }

    /// The slot sounding now (the first of the form or loop while stopped or counting
    /// in), and the bar within it.
    pub fn current_slot(&self) -> (&ChordSlot, u32) {
        self.arrangement
            .slot_at(u64::from(self.pass_point().form_bar))
    }

    /// The next chord change: its slot (in the key it will be played in) and the bars
    /// until it, counting this one; `None` if the chord never changes. Bar by bar as the
    /// conductor goes, so a loop's end leads back to its first chord and a key cycle's
    /// new key is a change.
    fn next_change(&self) -> Option<(ChordSlot, u32)> {
        let trainer = self.trainer();
        let form_bars = self.arrangement.form_bars;
        let here = self.pass_point();
        let slot_of = |point: PassPoint| {
            let (slot, _) = self.home.slot_at(u64::from(point.form_bar));
            (slot.start_bar, point.key_shift)
        };
        let mut point = here;
        for bars in 1..=2 * form_bars + 1 {
            point = trainer.after(point, form_bars);
            if slot_of(point) != slot_of(here) {
                let (slot, _) = self.home.slot_at(u64::from(point.form_bar));
                return Some((slot.transposed(self.key, point.key_shift), bars));
            }
        }
        None
    }

    /// The next chord change's slot (the current one if the chord never changes).
    pub fn next_slot(&self) -> ChordSlot {
        self.next_change()
            .map_or_else(|| *self.current_slot().0, |(slot, _)| slot)
    }

    /// How far away the next change is.
    pub fn countdown(&self) -> Countdown {
        let Some((_, bars_left)) = self.next_change() else {
            return Countdown::NoChange;
        };
        let beat = match self.telemetry {
            Some(t) if t.transport == Transport::Playing => t.position.beat.floor() as u32 + 1,
            _ => 1,
        };
        if bars_left > 1 {
            Countdown::Bars(bars_left)
        } else {
            Countdown::LastBar { beat }
        }
    }

    /// Bar (1-based, within the form) and beat (1-based), if playing.
    pub fn bar_and_beat(&self) -> Option<(u32, u32)> {
        let t = self.telemetry?;
        (t.transport == Transport::Playing)
            .then(|| (t.position.form_bar + 1, t.position.beat.floor() as u32 + 1))
    }

    /// The lead keys held now.
    pub fn held_keys(&self) -> impl Iterator<Item = u8> + '_ {
        let held = self.telemetry.map_or([0, 0], |t| t.held_keys);
        (0..128u8).filter(move |&k| held[usize::from(k / 64)] >> (k % 64) & 1 == 1)
    }

    /// A key's name over the current slot's mode ("B♭4").
    pub fn key_name(&self, key: u8) -> String {
        let (slot, _) = self.current_slot();
        let pitch: SpelledPitch = slot.mode.spell(PitchClass::from_midi(key));
        // The octave of the written letter: B♯3 is MIDI 60, C♭5 is MIDI 71.
        let natural = i32::from(pitch.letter.natural().semitones());
        let octave = (i32::from(key) - i32::from(pitch.accidental) - natural) / 12 - 1;
        format!("{}{octave}", pitch.name(self.look.notation))
    }
}
