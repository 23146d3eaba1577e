//! What the console shows, fed by telemetry: pure data with no terminal, no clock and no
//! engine, so a recorded telemetry stream replays to the same screens.

use crate::band::{Arrangement, ChordSlot};
use crate::engine::journal::JournalEntry;
use crate::engine::{Telemetry, Transport};
use crate::live::DriverSummary;
use crate::practice::{PhraseTracker, PracticeLog, PracticeReport};
use crate::theory::{Key, Notation, PitchClass, SpelledPitch};

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

/// Everything on the console's screen.
#[derive(Clone, Debug)]
pub struct ConsoleState {
    pub arrangement: Arrangement,
    /// The session cue the preset comes from.
    pub cue: String,
    /// The key the preset is played in now.
    pub key: Key,
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
    pub engine: EngineInfo,
    pub look: Look,
    pub help: bool,
    /// The latest thing the player should be told (a lost device, a full queue).
    pub notice: Option<String>,
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
            arrangement,
            cue,
            key,
            transposition: 0,
            telemetry: None,
            phrases: PhraseTracker::new(),
            practice: PracticeLog::new(),
            take_report: None,
            phrase_report: None,
            practice_changed: false,
            phrases_judged: 0,
            engine: EngineInfo::default(),
            look,
            help: false,
            notice: None,
            computer_keys_c: 60,
            levels: [0.0; 4],
        }
    }

    /// Another preset or key: phrases start afresh.
    pub fn set_arrangement(&mut self, arrangement: Arrangement, cue: String, key: Key) {
        self.arrangement = arrangement;
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
            self.take_report = Some(self.practice.report(&self.arrangement, rate, now));
        }
        if self.phrases.finished() != self.phrases_judged {
            self.phrases_judged = self.phrases.finished();
            self.phrase_report = self.phrases.last().map(|phrase| {
                let span = self.practice.log_frame(phrase.start_frame)
                    ..=self.practice.log_frame(phrase.end_frame);
                self.practice
                    .report_between(span, &self.arrangement, rate, now)
            });
        }
    }

    /// One telemetry snapshot, in the order the engine produced them.
    pub fn feed(&mut self, t: &Telemetry) {
        for onset in t.onsets() {
            self.phrases.note_on(&self.arrangement, onset);
        }
        let any_held = t.held_keys != [0, 0];
        let samples_per_beat = f64::from(t.sample_rate) * 60.0 / f64::from(t.tempo.max(1.0));
        let _ = self.phrases.update(t.frame, any_held, samples_per_beat);
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

    /// The slot sounding now (the first while stopped or counting in), and the bar within it.
    pub fn current_slot(&self) -> (&ChordSlot, u32) {
        match self.telemetry {
            Some(t) if t.transport == Transport::Playing => {
                self.arrangement.slot_at(t.position.bar)
            }
            _ => (&self.arrangement.slots[0], 0),
        }
    }

    /// The next chord change's slot: the slot after the current one in the form.
    pub fn next_slot(&self) -> &ChordSlot {
        let (slot, _) = self.current_slot();
        let slots = &self.arrangement.slots;
        let index = slots
            .iter()
            .position(|s| s.start_bar == slot.start_bar)
            .unwrap_or(0);
        &slots[(index + 1) % slots.len()]
    }

    /// How far away the next change is.
    pub fn countdown(&self) -> Countdown {
        if self.arrangement.slots.len() == 1 {
            return Countdown::NoChange;
        }
        let (slot, bar_in_slot) = self.current_slot();
        let bars_left = slot.bars.saturating_sub(bar_in_slot).max(1);
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

    /// Bar (1-based, within one pass of the form) and beat (1-based), if playing.
    pub fn bar_and_beat(&self) -> Option<(u32, u32)> {
        let t = self.telemetry?;
        (t.transport == Transport::Playing).then(|| {
            let form = u64::from(self.arrangement.form_bars.max(1));
            (
                (t.position.bar % form) as u32 + 1,
                t.position.beat.floor() as u32 + 1,
            )
        })
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
