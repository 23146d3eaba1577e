//! The practice trainer: what the conductor does at each pass of the form (or of a loop
//! of it). A stretch of the form can be repeated ([`FormLoop`]), the tempo can rise by a
//! step every few passes ([`TempoRamp`]), and the band can move to the next key each pass
//! ([`KeyCycle`], as iReal Pro's practice mode does). All of it happens on a bar line:
//! the bar where a pass starts is the first one in the new tempo and key.
//!
//! Pure and `Copy`: the conductor runs it on the audio thread, the console runs the same
//! steps to show what comes next, and a live session keeps it to build every engine.

use super::{Arrangement, ChordSlot};
use crate::preset::TEMPO_RANGE;
use crate::theory::{Key, transposed_key};

/// A stretch of the form played over and over: form bars `first..=last`, 0-based. Shown
/// and parsed 1-based, as a musician counts bars ("5-8").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormLoop {
    pub first: u32,
    pub last: u32,
}

/// What `--loop` accepts, for messages.
pub const LOOP_FORMS: &str =
    "use FIRST-LAST, e.g. 5-8, or one bar, e.g. 3 (bars of the form, counted from 1)";

impl FormLoop {
    /// Bars `first..=last` (0-based); `None` if `first` comes after `last`.
    pub fn new(first: u32, last: u32) -> Option<FormLoop> {
        (first <= last).then_some(FormLoop { first, last })
    }

    /// "5-8" or "3": bars of the form counted from 1, as `--loop` takes them. Whether the
    /// bars are in a given form is [`FormLoop::fits`]'s to say.
    pub fn parse(text: &str) -> Result<FormLoop, String> {
        let text = text.trim();
        let bar = |part: &str| -> Result<u32, String> {
            match part.trim().parse::<u32>() {
                Ok(0) => Err(format!("bars are counted from 1: {LOOP_FORMS}")),
                Ok(bar) => Ok(bar - 1),
                Err(_) => Err(LOOP_FORMS.to_string()),
            }
        };
        let (first, last) = match text.split_once('-') {
            Some((first, last)) => (bar(first)?, bar(last)?),
            None => {
                let only = bar(text)?;
                (only, only)
            }
        };
        FormLoop::new(first, last)
            .ok_or_else(|| format!("the first bar comes after the last: {LOOP_FORMS}"))
    }

    /// Whether every bar of the loop is in a form of `form_bars` bars.
    pub fn fits(&self, form_bars: u32) -> bool {
        self.last < form_bars
    }

    pub fn contains(&self, form_bar: u32) -> bool {
        (self.first..=self.last).contains(&form_bar)
    }

    pub fn bars(&self) -> u32 {
        self.last - self.first + 1
    }

    /// The section of `arrangement` that form bar `form_bar` is in (all its repeats), as a
    /// loop: what the console's loop key repeats.
    pub fn section_of(arrangement: &Arrangement, form_bar: u32) -> FormLoop {
        let (slot, _) = arrangement.slot_at(u64::from(form_bar));
        let section = arrangement
            .slots
            .iter()
            .filter(|s| s.section == slot.section);
        let first = section.clone().map(|s| s.start_bar).min().unwrap_or(0);
        let last = section
            .map(|s| s.start_bar + s.bars.max(1) - 1)
            .max()
            .unwrap_or(0);
        FormLoop { first, last }
    }
}

/// "5-8", or "3" for one bar: 1-based, as `--loop` takes it.
impl std::fmt::Display for FormLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first + 1)
        } else {
            write!(f, "{}-{}", self.first + 1, self.last + 1)
        }
    }
}

/// The tempo rising by `step` BPM every `every` passes, never above `max`. A ramp only
/// speeds up: slower practice starts slower (`--tempo`, or the arrow keys).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TempoRamp {
    pub step: f32,
    pub every: u32,
    /// The tempo the ramp stops at, in BPM.
    pub max: f32,
}

/// Largest step of a ramp, in BPM: beyond that it is a jump, not a ramp.
pub const RAMP_STEP_MAX: f32 = 40.0;
/// Most passes between two steps.
pub const RAMP_EVERY_MAX: u32 = 100;

/// What `--tempo-ramp` accepts, for messages.
pub const RAMP_FORMS: &str = "use +STEP/EVERY, e.g. +4/2 for 4 BPM faster every 2 passes \
(STEP more than 0 and at most 40 BPM, EVERY 1 to 100 passes)";

impl Default for TempoRamp {
    /// The console's ramp when no `--tempo-ramp` was given: 4 BPM faster every 2 passes,
    /// a step small enough not to throw the player, up to the end of the tempo range.
    fn default() -> Self {
        TempoRamp {
            step: 4.0,
            every: 2,
            max: *TEMPO_RANGE.end(),
        }
    }
}

impl TempoRamp {
    /// "+4/2" (the plus may be left out), up to the end of the tempo range.
    pub fn parse(text: &str) -> Result<TempoRamp, String> {
        let text = text.trim();
        if text.starts_with('-') {
            return Err(format!("a ramp only speeds up: {RAMP_FORMS}"));
        }
        let (step, every) = text
            .strip_prefix('+')
            .unwrap_or(text)
            .split_once('/')
            .ok_or_else(|| RAMP_FORMS.to_string())?;
        let step: f32 = step.trim().parse().map_err(|_| RAMP_FORMS.to_string())?;
        let every: u32 = every.trim().parse().map_err(|_| RAMP_FORMS.to_string())?;
        // NaN and the infinities parse as floats; the range refuses them with the rest.
        let step_fits = step > 0.0 && step <= RAMP_STEP_MAX;
        if !(step_fits && (1..=RAMP_EVERY_MAX).contains(&every)) {
            return Err(RAMP_FORMS.to_string());
        }
        Ok(TempoRamp {
            step,
            every,
            ..TempoRamp::default()
        })
    }

    /// The tempo after a step from `tempo`: `step` faster, but not above `max` (a tempo
    /// already above it stays where it is).
    pub fn raise(&self, tempo: f32) -> f32 {
        if tempo >= self.max {
            tempo
        } else {
            (tempo + self.step).min(self.max)
        }
    }

    /// Whether a pass that has `passes` passes before it (since the ramp began counting)
    /// starts a step up.
    pub fn steps_at(&self, passes: u32) -> bool {
        passes > 0 && passes % self.every.max(1) == 0
    }
}

/// "+4/2", as `--tempo-ramp` takes it.
impl std::fmt::Display for TempoRamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "+{}/{}", self.step, self.every)
    }
}

/// How the key moves at each pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCycle {
    /// Up a fourth: D, G, C, F, B♭… round the cycle of fourths, as iReal Pro does.
    Fourths,
    /// Up a half step.
    Semitones,
}

impl KeyCycle {
    /// Semitones up at each pass.
    pub fn semitones(self) -> u8 {
        match self {
            KeyCycle::Fourths => 5,
            KeyCycle::Semitones => 1,
        }
    }
}

/// What the trainer does at each pass: loop, ramp and key cycle, each on or off.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Trainer {
    pub form_loop: Option<FormLoop>,
    pub ramp: Option<TempoRamp>,
    pub key_cycle: Option<KeyCycle>,
}

/// Where the trainer stands in one bar: the conductor carries it from bar to bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassPoint {
    /// The form bar played (0-based).
    pub form_bar: u32,
    /// Semitones above the arrangement's key (the key cycle's steps so far), 0 … 11.
    pub key_shift: u8,
    /// Passes completed since the ramp began counting (since the start, or since it was
    /// switched on).
    pub ramp_passes: u32,
    /// Whether this bar begins a pass: the form, or the loop, starting over.
    pub starts_pass: bool,
}

impl Trainer {
    /// The loop in force in a form of `form_bars` bars (a loop that does not fit one is
    /// not played).
    pub fn loop_in(&self, form_bars: u32) -> Option<FormLoop> {
        self.form_loop.filter(|l| l.fits(form_bars))
    }

    /// The first bar played from bar `form_bar` of a form of `form_bars` bars, in the
    /// arrangement's key: the loop's first bar if `form_bar` is outside the loop.
    pub fn start_at(&self, form_bar: u32, form_bars: u32) -> PassPoint {
        let form_bar = match self.loop_in(form_bars) {
            Some(l) if !l.contains(form_bar) => l.first,
            _ => form_bar % form_bars.max(1),
        };
        PassPoint {
            form_bar,
            ..PassPoint::default()
        }
    }

    /// The bar after `point` in a form of `form_bars` bars. After the loop's last bar (or
    /// the form's) comes a new pass: the key moves on if the key cycle is on, and the
    /// passes are counted for the ramp. A bar outside the loop (the loop was just set)
    /// is followed by the loop's first bar, which starts no pass.
    pub fn after(&self, point: PassPoint, form_bars: u32) -> PassPoint {
        let form_bars = form_bars.max(1);
        let (form_bar, new_pass) = match self.loop_in(form_bars) {
            Some(l) if point.form_bar == l.last => (l.first, true),
            Some(l) if !l.contains(point.form_bar) => (l.first, false),
            _ if point.form_bar + 1 >= form_bars => (0, true),
            _ => (point.form_bar + 1, false),
        };
        if !new_pass {
            return PassPoint {
                form_bar,
                starts_pass: false,
                ..point
            };
        }
        let key_shift = match self.key_cycle {
            Some(cycle) => (point.key_shift + cycle.semitones()) % 12,
            None => point.key_shift,
        };
        PassPoint {
            form_bar,
            key_shift,
            ramp_passes: point.ramp_passes.saturating_add(1),
            starts_pass: true,
        }
    }

    /// The tempo of the bar at `point`, coming from `tempo`: a step up if the ramp is on
    /// and the bar starts a pass the ramp steps at.
    pub fn tempo_at(&self, point: PassPoint, tempo: f32) -> f32 {
        match self.ramp {
            Some(ramp) if point.starts_pass && ramp.steps_at(point.ramp_passes) => {
                ramp.raise(tempo)
            }
            _ => tempo,
        }
    }
}

impl ChordSlot {
    /// This slot `shift` semitones above `key` (the key it is written in), spelled as the
    /// key it lands in is spelled ([`transposed_key`]: E♭ minor, never D♯ minor).
    /// Allocation-free: the conductor calls it on the audio thread for every bar of a key
    /// cycle.
    pub fn transposed(&self, key: Key, shift: u8) -> ChordSlot {
        if shift % 12 == 0 {
            return *self;
        }
        let interval = key.interval_to(&transposed_key(key, i32::from(shift)));
        let chord = self.chord.transpose(interval);
        let mode = self.mode.transpose(interval);
        ChordSlot {
            chord,
            mode,
            scale: crate::theory::ChordScale::new(&chord, &mode),
            ..*self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset;

    fn generique() -> Arrangement {
        Arrangement::new(&preset::find("generique").unwrap(), None).unwrap()
    }

    #[test]
    fn loops_parse_as_musicians_count_bars() {
        assert_eq!(FormLoop::parse("5-8"), Ok(FormLoop { first: 4, last: 7 }));
        assert_eq!(FormLoop::parse("3"), Ok(FormLoop { first: 2, last: 2 }));
        assert_eq!(FormLoop::parse(" 1 - 16 ").unwrap().to_string(), "1-16");
        assert_eq!(FormLoop::parse("3").unwrap().to_string(), "3");
        for bad in ["8-5", "0", "0-4", "x", "", "5-", "-3", "1-2-3"] {
            let error = FormLoop::parse(bad).unwrap_err();
            assert!(error.contains("FIRST-LAST"), "{bad}: {error}");
        }
        assert!(
            FormLoop::parse("8-5")
                .unwrap_err()
                .contains("after the last")
        );
        assert!(!FormLoop::parse("1-99").unwrap().fits(24));
        assert!(FormLoop::parse("1-24").unwrap().fits(24));
    }

    #[test]
    fn ramps_parse_with_or_without_the_plus_and_only_speed_up() {
        let ramp = TempoRamp::parse("+4/2").unwrap();
        assert_eq!((ramp.step, ramp.every), (4.0, 2));
        assert_eq!(ramp.to_string(), "+4/2");
        assert_eq!(TempoRamp::parse("2.5/1").unwrap().step, 2.5);
        for bad in [
            "4", "+x/2", "+4/0", "+0/2", "+41/1", "+4/101", "nan/2", "+4/", "/2",
        ] {
            assert!(TempoRamp::parse(bad).is_err(), "{bad}");
        }
        assert!(
            TempoRamp::parse("-4/2")
                .unwrap_err()
                .contains("only speeds up")
        );
    }

    #[test]
    fn a_loop_wraps_from_its_last_bar_to_its_first_and_that_starts_a_pass() {
        let trainer = Trainer {
            form_loop: FormLoop::new(4, 7),
            ..Trainer::default()
        };
        let mut point = trainer.start_at(0, 24);
        assert_eq!(point.form_bar, 4, "a loop starts at its first bar");
        let mut bars = vec![point.form_bar];
        let mut passes = vec![point.starts_pass];
        for _ in 0..9 {
            point = trainer.after(point, 24);
            bars.push(point.form_bar);
            passes.push(point.starts_pass);
        }
        assert_eq!(bars, [4, 5, 6, 7, 4, 5, 6, 7, 4, 5]);
        assert_eq!(passes.iter().filter(|&&p| p).count(), 2);
        assert!(passes[4] && passes[8]);
        assert_eq!(point.ramp_passes, 2);
        // Set while the form is elsewhere: the loop begins at the next bar line, and that
        // is no pass completed.
        let outside = trainer.after(
            PassPoint {
                form_bar: 12,
                ..PassPoint::default()
            },
            24,
        );
        assert_eq!((outside.form_bar, outside.starts_pass), (4, false));
        // Off again: the form goes on from where the loop was.
        let free = Trainer::default().after(point, 24);
        assert_eq!((free.form_bar, free.starts_pass), (6, false));
        // A loop the form cannot hold is not played.
        let too_long = Trainer {
            form_loop: FormLoop::new(20, 30),
            ..Trainer::default()
        };
        assert_eq!(too_long.after(PassPoint::default(), 24).form_bar, 1);
    }

    #[test]
    fn the_ramp_steps_on_the_bar_where_every_nth_pass_starts_and_stops_at_its_max() {
        let trainer = Trainer {
            form_loop: FormLoop::new(0, 1),
            ramp: Some(TempoRamp {
                step: 4.0,
                every: 2,
                max: 110.0,
            }),
            ..Trainer::default()
        };
        let mut point = trainer.start_at(0, 8);
        let mut tempo = trainer.tempo_at(point, 100.0);
        let mut tempos = vec![tempo];
        for _ in 0..15 {
            point = trainer.after(point, 8);
            tempo = trainer.tempo_at(point, tempo);
            tempos.push(tempo);
        }
        // Two-bar passes; a step every second pass: bars 5, 9 and 13 (1-based), capped.
        assert_eq!(
            tempos,
            [
                100.0, 100.0, 100.0, 100.0, 104.0, 104.0, 104.0, 104.0, 108.0, 108.0, 108.0, 108.0,
                110.0, 110.0, 110.0, 110.0
            ]
        );
        // A tempo above the ramp's end stays where it is.
        assert_eq!(trainer.ramp.unwrap().raise(150.0), 150.0);
    }

    #[test]
    fn the_key_cycle_moves_up_a_fourth_each_pass_round_to_the_start() {
        let a = generique();
        let trainer = Trainer {
            key_cycle: Some(KeyCycle::Fourths),
            ..Trainer::default()
        };
        let mut point = trainer.start_at(0, a.form_bars);
        let mut keys = Vec::new();
        for _ in 0..(12 * a.form_bars) {
            if point.form_bar == 0 {
                keys.push(transposed_key(a.key, i32::from(point.key_shift)).to_string());
            }
            point = trainer.after(point, a.form_bars);
        }
        assert_eq!(
            keys,
            [
                "D minor",
                "G minor",
                "C minor",
                "F minor",
                "B♭ minor",
                "E♭ minor",
                "G♯ minor",
                "C♯ minor",
                "F♯ minor",
                "B minor",
                "E minor",
                "A minor"
            ]
        );
        assert_eq!(point.key_shift, 0, "twelve fourths come home");
    }

    #[test]
    fn a_transposed_slot_is_spelled_in_the_key_it_lands_in() {
        let a = generique();
        let c7 = a.slots[1];
        let up_a_fourth = c7.transposed(a.key, 5);
        assert_eq!(up_a_fourth.chord.to_string(), "F7");
        assert_eq!(up_a_fourth.mode.to_string(), "F Mixolydian");
        let up_a_semitone = a.slots[0].transposed(a.key, 1);
        assert_eq!(up_a_semitone.chord.to_string(), "E♭m7");
        assert_eq!(up_a_semitone.mode.to_string(), "E♭ Dorian");
        assert_eq!(a.slots[0].transposed(a.key, 12).chord, a.slots[0].chord);
        assert_eq!((up_a_fourth.start_bar, up_a_fourth.bars), (c7.start_bar, 4));
    }

    #[test]
    fn the_console_loops_the_whole_section_with_its_repeats() {
        let a = generique();
        assert_eq!(FormLoop::section_of(&a, 5), FormLoop { first: 0, last: 15 });
        assert_eq!(
            FormLoop::section_of(&a, 17),
            FormLoop {
                first: 16,
                last: 23
            }
        );
    }
}
