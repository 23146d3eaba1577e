//! The computer keyboard as a MIDI source, for playing without a MIDI keyboard.
//!
//! The layout is the trackers' and DAWs': the home row plays the white keys from C, the
//! row above the black keys, one octave and a note:
//!
//! ```text
//!   w e   t y u          C♯ D♯    F♯ G♯ A♯
//!  a s d f g h j k      C  D  E  F  G  A  B  C
//! ```
//!
//! `z` / `x` move an octave down / up (`a` is C4, MIDI 60, to start with), `c` / `v`
//! play softer / louder. Shifted letters are the same keys.
//!
//! Terminals report key presses; most do not report releases. Where the terminal speaks
//! the kitty keyboard protocol (crossterm's `REPORT_EVENT_TYPES`), and on Windows, a note
//! lasts as long as its key is down ([`KeyReleases::Reported`]). Elsewhere a press plays
//! a note of fixed length ([`KeyReleases::Fixed`]): [`ComputerKeys::tick`] ends the notes
//! that are due, and the terminal's auto-repeat, which arrives as more presses while the
//! key is held, keeps the note going.
//!
//! [`ComputerKeys`] is a pure state machine (no terminal I/O, no allocation): the console
//! feeds it keys and the time and sends the events it emits to
//! [`crate::io::live_input::LiveInput::send_now`]. [`ComputerKeys::handle_key_event`]
//! adapts crossterm's key events, and [`KeyboardEnhancement`] asks the terminal for
//! release events. UI thread only.

use crate::engine::InputEvent;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::time::{Duration, Instant};

/// The piano keys, from C up to the next C.
pub const PIANO_KEYS: [char; 13] = [
    'a', 'w', 's', 'e', 'd', 'f', 't', 'g', 'y', 'h', 'u', 'j', 'k',
];

const OCTAVE_DOWN: char = 'z';
const OCTAVE_UP: char = 'x';
const SOFTER: char = 'c';
const LOUDER: char = 'v';

/// The octave of `a` at start: C4, MIDI note 60.
pub const DEFAULT_OCTAVE: i8 = 4;
/// Octaves `a` may be moved to: C1 (24) up to C7 (96, so `k` reaches C8).
pub const MIN_OCTAVE: i8 = 1;
pub const MAX_OCTAVE: i8 = 7;

/// MIDI velocity at start, and how `c` / `v` change it.
pub const DEFAULT_VELOCITY: u8 = 100;
pub const VELOCITY_STEP: u8 = 15;
pub const MIN_VELOCITY: u8 = 10;
pub const MAX_VELOCITY: u8 = 127;

/// How long a note lasts where the terminal does not report releases: about a quaver at
/// a medium tempo, and longer than the usual delay before auto-repeat starts on many
/// systems, so that holding a key sustains it with little or no gap.
pub const FIXED_NOTE_LENGTH: Duration = Duration::from_millis(350);

/// Presses of the same key closer than this are the terminal's auto-repeat, not the
/// player (auto-repeat runs at 25–40 per second; a person re-striking one key manages
/// about ten).
pub const AUTO_REPEAT_MAX_INTERVAL: Duration = Duration::from_millis(80);

/// What happened to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAction {
    Press,
    /// Auto-repeat while held (only terminals that report event types say so).
    Repeat,
    Release,
}

/// How notes end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyReleases {
    /// The terminal reports releases: a note lasts while its key is down.
    Reported,
    /// It does not: a note lasts this long after the last press (or auto-repeat).
    Fixed(Duration),
}

/// A key's note that is sounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sounding {
    /// The note the key started, which its release ends whatever the octave is now.
    note: u8,
    /// The latest press or repeat of the key, to tell auto-repeat from a new strike.
    last_press: Instant,
    /// When the note ends ([`KeyReleases::Fixed`] only).
    until: Option<Instant>,
}

/// The computer keyboard's piano: octave, velocity and the notes its keys sound.
#[derive(Clone, Debug)]
pub struct ComputerKeys {
    releases: KeyReleases,
    octave: i8,
    velocity: u8,
    /// Per piano key (index into [`PIANO_KEYS`]).
    sounding: [Option<Sounding>; PIANO_KEYS.len()],
    /// The latest octave or velocity key pressed, and when: auto-repeat of those is
    /// ignored, so holding `x` does not race to the top octave.
    last_control: Option<(char, Instant)>,
}

impl ComputerKeys {
    pub fn new(releases: KeyReleases) -> ComputerKeys {
        ComputerKeys {
            releases,
            octave: DEFAULT_OCTAVE,
            velocity: DEFAULT_VELOCITY,
            sounding: [None; PIANO_KEYS.len()],
            last_control: None,
        }
    }

    /// A key went down, repeated or came up at `now`. Emits the events to send; returns
    /// whether the key belongs to the piano (notes, octave, velocity), so the console can
    /// give the other keys other meanings.
    pub fn handle(
        &mut self,
        key: char,
        action: KeyAction,
        now: Instant,
        out: &mut impl FnMut(InputEvent),
    ) -> bool {
        let key = key.to_ascii_lowercase();
        if let Some(index) = PIANO_KEYS.iter().position(|&k| k == key) {
            self.piano_key(index, action, now, out);
            return true;
        }
        if ![OCTAVE_DOWN, OCTAVE_UP, SOFTER, LOUDER].contains(&key) {
            return false;
        }
        if action == KeyAction::Press {
            let repeated = matches!(self.last_control,
                Some((last, at)) if last == key && now.saturating_duration_since(at) < AUTO_REPEAT_MAX_INTERVAL);
            self.last_control = Some((key, now));
            if !repeated {
                self.control_key(key);
            }
        }
        true
    }

    /// [`ComputerKeys::handle`] for a crossterm key event. Chords with Control, Alt or
    /// Super are the console's (Ctrl-C), not notes; but a release always counts, so a
    /// modifier pressed while a key is down cannot strand its note.
    pub fn handle_key_event(
        &mut self,
        event: &KeyEvent,
        now: Instant,
        out: &mut impl FnMut(InputEvent),
    ) -> bool {
        let KeyCode::Char(key) = event.code else {
            return false;
        };
        let action = match event.kind {
            KeyEventKind::Press => KeyAction::Press,
            KeyEventKind::Repeat => KeyAction::Repeat,
            KeyEventKind::Release => KeyAction::Release,
        };
        let commands = KeyModifiers::CONTROL
            | KeyModifiers::ALT
            | KeyModifiers::SUPER
            | KeyModifiers::HYPER
            | KeyModifiers::META;
        if action != KeyAction::Release && event.modifiers.intersects(commands) {
            return false;
        }
        self.handle(key, action, now, out)
    }

    /// End the fixed-length notes that are due by `now`. Call it whenever the console
    /// wakes, at least by [`ComputerKeys::next_deadline`].
    pub fn tick(&mut self, now: Instant, out: &mut impl FnMut(InputEvent)) {
        for slot in &mut self.sounding {
            if let Some(sounding) = slot
                && sounding.until.is_some_and(|until| until <= now)
            {
                out(InputEvent::NoteOff { key: sounding.note });
                *slot = None;
            }
        }
    }

    /// When the next fixed-length note ends, if one is sounding: the console's longest
    /// wait before calling [`ComputerKeys::tick`].
    pub fn next_deadline(&self) -> Option<Instant> {
        self.sounding.iter().flatten().filter_map(|s| s.until).min()
    }

    /// End every note (the console is closing or lost focus; the mode changes).
    pub fn release_all(&mut self, out: &mut impl FnMut(InputEvent)) {
        for slot in &mut self.sounding {
            if let Some(sounding) = slot.take() {
                out(InputEvent::NoteOff { key: sounding.note });
            }
        }
    }

    /// Change how notes end; sounding notes end first, so none outlives its rule.
    pub fn set_releases(&mut self, releases: KeyReleases, out: &mut impl FnMut(InputEvent)) {
        self.release_all(out);
        self.releases = releases;
    }

    pub fn releases(&self) -> KeyReleases {
        self.releases
    }

    /// The octave of `a` (4: `a` is C4, MIDI 60).
    pub fn octave(&self) -> i8 {
        self.octave
    }

    /// MIDI velocity of the next note, 1 … 127.
    pub fn velocity(&self) -> u8 {
        self.velocity
    }

    /// The notes sounding now, for display (each once, in key order).
    pub fn held(&self) -> impl Iterator<Item = u8> + '_ {
        self.sounding.iter().flatten().map(|s| s.note)
    }

    /// The note a key plays at the current octave (for labelling the keys on screen).
    pub fn note_for(&self, key: char) -> Option<u8> {
        let key = key.to_ascii_lowercase();
        let index = PIANO_KEYS.iter().position(|&k| k == key)?;
        Some(self.note_at(index))
    }

    fn note_at(&self, index: usize) -> u8 {
        // Octave 4 puts C at 60; the octave range keeps every key within 0 … 127.
        (12 * (i32::from(self.octave) + 1) + index as i32) as u8
    }

    fn control_key(&mut self, key: char) {
        match key {
            OCTAVE_DOWN => self.octave = (self.octave - 1).max(MIN_OCTAVE),
            OCTAVE_UP => self.octave = (self.octave + 1).min(MAX_OCTAVE),
            SOFTER => {
                self.velocity = self
                    .velocity
                    .saturating_sub(VELOCITY_STEP)
                    .max(MIN_VELOCITY)
            }
            LOUDER => {
                self.velocity = self
                    .velocity
                    .saturating_add(VELOCITY_STEP)
                    .min(MAX_VELOCITY)
            }
            _ => {}
        }
    }

    fn piano_key(
        &mut self,
        index: usize,
        action: KeyAction,
        now: Instant,
        out: &mut impl FnMut(InputEvent),
    ) {
        let reported = self.releases == KeyReleases::Reported;
        let until = match self.releases {
            KeyReleases::Reported => None,
            KeyReleases::Fixed(length) => Some(now + length),
        };
        match (action, self.sounding[index].as_mut()) {
            (KeyAction::Release, Some(sounding)) => {
                out(InputEvent::NoteOff { key: sounding.note });
                self.sounding[index] = None;
            }
            (KeyAction::Release, None) => {}
            // Held: auto-repeat (reported as such, or as presses on Windows).
            (_, Some(sounding)) if reported => {
                sounding.last_press = now;
            }
            // Fixed length, still sounding: auto-repeat extends the note, a new strike
            // plays it again.
            (action, Some(sounding)) => {
                let repeat = action == KeyAction::Repeat
                    || now.saturating_duration_since(sounding.last_press)
                        < AUTO_REPEAT_MAX_INTERVAL;
                sounding.last_press = now;
                sounding.until = until;
                if !repeat {
                    out(InputEvent::NoteOff { key: sounding.note });
                    self.sounding[index] = None;
                    self.start(index, now, until, out);
                }
            }
            (_, None) => self.start(index, now, until, out),
        }
    }

    fn start(
        &mut self,
        index: usize,
        now: Instant,
        until: Option<Instant>,
        out: &mut impl FnMut(InputEvent),
    ) {
        let note = self.note_at(index);
        // After an octave change another key may be sounding this very note: end it, so
        // each note has one key to end it and no release cuts off a note still held.
        for slot in &mut self.sounding {
            if slot.is_some_and(|s| s.note == note) {
                out(InputEvent::NoteOff { key: note });
                *slot = None;
            }
        }
        out(InputEvent::NoteOn {
            key: note,
            velocity: f32::from(self.velocity) / 127.0,
        });
        self.sounding[index] = Some(Sounding {
            note,
            last_press: now,
            until,
        });
    }
}

/// Release reporting from the terminal, asked for while the console runs: the kitty
/// keyboard protocol's event types where the terminal has it (on Unix), the console's
/// own key-up events on Windows, fixed-length notes otherwise. Pop it with
/// [`KeyboardEnhancement::disable`] or by dropping it, before leaving raw mode.
#[derive(Debug)]
pub struct KeyboardEnhancement {
    pushed: bool,
    releases: KeyReleases,
}

impl KeyboardEnhancement {
    /// Ask the terminal (on stdout) to report key releases, if it can. Call with the
    /// terminal in raw mode, before the console starts reading events: the query waits
    /// for the terminal's answer (up to 2 s for a terminal that never answers).
    pub fn enable() -> std::io::Result<KeyboardEnhancement> {
        use crossterm::event::{KeyboardEnhancementFlags, PushKeyboardEnhancementFlags};
        if cfg!(windows) {
            // crossterm reports key-up events on Windows without asking.
            return Ok(KeyboardEnhancement {
                pushed: false,
                releases: KeyReleases::Reported,
            });
        }
        // A terminal that does not answer the query is one that cannot.
        if !crossterm::terminal::supports_keyboard_enhancement().unwrap_or(false) {
            return Ok(KeyboardEnhancement {
                pushed: false,
                releases: KeyReleases::Fixed(FIXED_NOTE_LENGTH),
            });
        }
        // Letters only report their releases when every key is sent as an escape code.
        crossterm::execute!(
            std::io::stdout(),
            PushKeyboardEnhancementFlags(
                KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES
                    | KeyboardEnhancementFlags::REPORT_EVENT_TYPES
                    | KeyboardEnhancementFlags::REPORT_ALL_KEYS_AS_ESCAPE_CODES
            )
        )?;
        Ok(KeyboardEnhancement {
            pushed: true,
            releases: KeyReleases::Reported,
        })
    }

    /// How notes will end with this terminal: give it to [`ComputerKeys::new`].
    pub fn releases(&self) -> KeyReleases {
        self.releases
    }

    /// Restore the terminal's keyboard mode. Idempotent.
    pub fn disable(&mut self) -> std::io::Result<()> {
        if std::mem::take(&mut self.pushed) {
            crossterm::execute!(
                std::io::stdout(),
                crossterm::event::PopKeyboardEnhancementFlags
            )?;
        }
        Ok(())
    }
}

impl Drop for KeyboardEnhancement {
    fn drop(&mut self) {
        // On every exit path, panics included; nothing left to tell if stdout is gone.
        let _ = self.disable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InputEvent::{NoteOff, NoteOn};
    use KeyAction::{Press, Release, Repeat};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Feeds keys and collects what comes out.
    struct Player {
        keys: ComputerKeys,
        t0: Instant,
        out: Vec<InputEvent>,
    }

    impl Player {
        fn new(releases: KeyReleases) -> Player {
            Player {
                keys: ComputerKeys::new(releases),
                t0: Instant::now(),
                out: Vec::new(),
            }
        }

        fn key(&mut self, key: char, action: KeyAction, at: u64) -> bool {
            let out = &mut self.out;
            self.keys
                .handle(key, action, self.t0 + ms(at), &mut |e| out.push(e))
        }

        fn tick(&mut self, at: u64) {
            let out = &mut self.out;
            self.keys.tick(self.t0 + ms(at), &mut |e| out.push(e));
        }

        fn take(&mut self) -> Vec<InputEvent> {
            std::mem::take(&mut self.out)
        }

        fn notes(&mut self) -> Vec<(bool, u8)> {
            self.take()
                .into_iter()
                .map(|e| match e {
                    NoteOn { key, .. } => (true, key),
                    NoteOff { key } => (false, key),
                    other => panic!("{other:?}"),
                })
                .collect()
        }
    }

    fn on(velocity: u8, key: u8) -> InputEvent {
        NoteOn {
            key,
            velocity: f32::from(velocity) / 127.0,
        }
    }

    #[test]
    fn the_layout_plays_an_octave_from_c4() {
        let mut p = Player::new(KeyReleases::Reported);
        for (i, key) in "awsedftgyhujk".chars().enumerate() {
            assert!(p.key(key, Press, 0));
            assert_eq!(p.take(), [on(DEFAULT_VELOCITY, 60 + i as u8)], "{key}");
            assert_eq!(p.keys.note_for(key), Some(60 + i as u8));
        }
        assert_eq!(
            p.keys.held().collect::<Vec<_>>(),
            (60..=72).collect::<Vec<_>>()
        );
        // Shift plays the same keys: releasing 'A' ends what 'a' started.
        assert!(p.key('A', Release, 10));
        assert_eq!(p.take(), [NoteOff { key: 60 }]);
        assert!(p.key('S', Press, 10), "no-op, already down");
        assert_eq!(p.take(), []);
        // Not the piano's.
        for key in ['q', 'l', ' ', '1', 'é'] {
            assert!(!p.key(key, Press, 20), "{key:?}");
        }
        assert_eq!(p.take(), []);
        let mut released = Vec::new();
        p.keys.release_all(&mut |e| released.push(e));
        assert_eq!(released.len(), 12);
        assert_eq!(p.keys.held().count(), 0);
    }

    #[test]
    fn octave_and_velocity_keys_step_and_clamp() {
        let mut p = Player::new(KeyReleases::Reported);
        assert_eq!((p.keys.octave(), p.keys.velocity()), (4, 100));
        // Spaced out, so none is taken for auto-repeat.
        let mut t = 0;
        let mut press = |p: &mut Player, key| {
            t += 200;
            assert!(p.key(key, Press, t));
            t
        };
        press(&mut p, 'x');
        assert_eq!(p.keys.note_for('a'), Some(72));
        for _ in 0..10 {
            press(&mut p, 'x');
        }
        assert_eq!(p.keys.octave(), MAX_OCTAVE);
        assert_eq!(p.keys.note_for('k'), Some(108));
        for _ in 0..10 {
            press(&mut p, 'Z');
        }
        assert_eq!(p.keys.octave(), MIN_OCTAVE);
        assert_eq!(p.keys.note_for('a'), Some(24));

        press(&mut p, 'v');
        assert_eq!(p.keys.velocity(), 115);
        press(&mut p, 'v');
        assert_eq!(p.keys.velocity(), MAX_VELOCITY);
        for _ in 0..20 {
            press(&mut p, 'c');
        }
        assert_eq!(p.keys.velocity(), MIN_VELOCITY);
        let at = press(&mut p, 'v');
        assert!(p.key('a', Press, at));
        assert_eq!(p.take(), [on(MIN_VELOCITY + VELOCITY_STEP, 24)]);

        // Holding 'x': the terminal's auto-repeat (as presses, or as repeats) moves one
        // octave, not to the top.
        let mut p = Player::new(KeyReleases::Fixed(FIXED_NOTE_LENGTH));
        for i in 0..20 {
            p.key('x', Press, 1000 + 30 * i);
            p.key('x', Repeat, 1000 + 30 * i + 5);
        }
        assert_eq!(p.keys.octave(), 5);
        assert!(p.key('x', Release, 2000));
        assert_eq!(p.take(), []);
    }

    #[test]
    fn a_release_ends_the_note_its_key_started_after_an_octave_change() {
        let mut p = Player::new(KeyReleases::Reported);
        p.key('a', Press, 0);
        p.key('x', Press, 10);
        p.key('a', Repeat, 500);
        p.key('a', Press, 530); // Windows reports repeats as presses
        p.key('s', Press, 600);
        assert_eq!(p.notes(), [(true, 60), (true, 74)]);
        p.key('a', Release, 700);
        assert_eq!(p.notes(), [(false, 60)], "the C4 it started, not C5");
        p.key('x', Press, 800);
        p.key('z', Press, 1000);
        p.key('z', Press, 1200);
        p.key('s', Release, 1300);
        assert_eq!(p.notes(), [(false, 74)]);
        assert_eq!(p.keys.held().count(), 0);
        // A stray release is nothing.
        p.key('d', Release, 1400);
        assert_eq!(p.take(), []);
        // Reported releases never expire.
        p.key('d', Press, 1500);
        p.tick(100_000);
        assert_eq!(p.notes(), [(true, 64)]);
        assert_eq!(p.keys.next_deadline(), None);
    }

    #[test]
    fn one_note_two_keys_after_an_octave_change_is_one_voice() {
        let mut p = Player::new(KeyReleases::Reported);
        p.key('k', Press, 0); // C5
        p.key('x', Press, 10);
        p.key('a', Press, 20); // C5 again
        assert_eq!(p.notes(), [(true, 72), (false, 72), (true, 72)]);
        // Letting go of 'k' does not cut the note 'a' holds.
        p.key('k', Release, 30);
        assert_eq!(p.take(), []);
        p.key('a', Release, 40);
        assert_eq!(p.notes(), [(false, 72)]);
    }

    #[test]
    fn fixed_length_notes_expire_on_tick() {
        let length = FIXED_NOTE_LENGTH.as_millis() as u64;
        let mut p = Player::new(KeyReleases::Fixed(FIXED_NOTE_LENGTH));
        p.key('a', Press, 0);
        p.key('d', Press, 100);
        assert_eq!(p.keys.next_deadline(), Some(p.t0 + ms(length)));
        p.tick(length - 1);
        assert_eq!(p.notes(), [(true, 60), (true, 64)]);
        p.tick(length);
        assert_eq!(p.notes(), [(false, 60)]);
        assert_eq!(p.keys.held().collect::<Vec<_>>(), [64]);
        p.tick(length + 100);
        assert_eq!(p.notes(), [(false, 64)]);
        assert_eq!(p.keys.next_deadline(), None);
        // An octave change before the note ends: the note that sounds is what ends.
        p.key('a', Press, 1000);
        p.key('x', Press, 1100);
        p.tick(1000 + length);
        assert_eq!(p.notes(), [(true, 60), (false, 60)]);
    }

    #[test]
    fn fixed_length_auto_repeat_sustains_and_a_new_strike_retriggers() {
        let length = FIXED_NOTE_LENGTH.as_millis() as u64;
        let mut p = Player::new(KeyReleases::Fixed(FIXED_NOTE_LENGTH));
        // Held: the terminal repeats the press every 33 ms after a 300 ms delay.
        p.key('g', Press, 0);
        let mut t = 300;
        while t < 2000 {
            p.tick(t);
            p.key('g', Press, t);
            t += 33;
        }
        p.tick(t);
        assert_eq!(
            p.notes(),
            [(true, 67), (false, 67), (true, 67)],
            "the delayed first repeat restrikes, the rest sustain"
        );
        let last = t - 33;
        p.tick(last + length - 1);
        assert_eq!(p.take(), []);
        p.tick(last + length);
        assert_eq!(
            p.notes(),
            [(false, 67)],
            "ends a note length after the last repeat"
        );

        // Struck again while sounding: plays again (at the octave now), as a player
        // repeating a note expects.
        p.key('g', Press, 5000);
        p.key('x', Press, 5100);
        p.key('g', Press, 5200);
        assert_eq!(p.notes(), [(true, 67), (false, 67), (true, 79)]);
        assert_eq!(p.keys.next_deadline(), Some(p.t0 + ms(5200 + length)));
        // Repeats reported as such extend, however late.
        p.key('g', Repeat, 5500);
        p.tick(5200 + length);
        assert_eq!(p.take(), []);
        // A terminal that does report a release: the note ends there.
        p.key('g', Release, 5600);
        assert_eq!(p.notes(), [(false, 79)]);
    }

    #[test]
    fn changing_how_notes_end_releases_what_sounds() {
        let mut p = Player::new(KeyReleases::Reported);
        p.key('a', Press, 0);
        let mut out = Vec::new();
        p.keys
            .set_releases(KeyReleases::Fixed(FIXED_NOTE_LENGTH), &mut |e| out.push(e));
        assert_eq!(out, [NoteOff { key: 60 }]);
        assert_eq!(p.keys.releases(), KeyReleases::Fixed(FIXED_NOTE_LENGTH));
    }

    #[test]
    fn crossterm_events_adapt_and_command_chords_are_left_alone() {
        use crossterm::event::KeyEventState;
        let event = |code, modifiers, kind| KeyEvent {
            code,
            modifiers,
            kind,
            state: KeyEventState::NONE,
        };
        let mut keys = ComputerKeys::new(KeyReleases::Reported);
        let now = Instant::now();
        let mut out = Vec::new();
        let mut feed = |keys: &mut ComputerKeys, e: KeyEvent| {
            keys.handle_key_event(&e, now, &mut |x| out.push(x))
        };
        let none = KeyModifiers::NONE;
        assert!(feed(
            &mut keys,
            event(KeyCode::Char('a'), none, KeyEventKind::Press)
        ));
        assert!(feed(
            &mut keys,
            event(KeyCode::Char('E'), KeyModifiers::SHIFT, KeyEventKind::Press)
        ));
        // Ctrl-C and Alt-s are the console's.
        assert!(!feed(
            &mut keys,
            event(
                KeyCode::Char('c'),
                KeyModifiers::CONTROL,
                KeyEventKind::Press
            )
        ));
        assert!(!feed(
            &mut keys,
            event(KeyCode::Char('s'), KeyModifiers::ALT, KeyEventKind::Press)
        ));
        assert!(!feed(
            &mut keys,
            event(KeyCode::Enter, none, KeyEventKind::Press)
        ));
        assert!(!feed(
            &mut keys,
            event(KeyCode::Char('q'), none, KeyEventKind::Press)
        ));
        // Ctrl went down while 'a' was held: the release still ends the note.
        assert!(feed(
            &mut keys,
            event(
                KeyCode::Char('a'),
                KeyModifiers::CONTROL,
                KeyEventKind::Release
            )
        ));
        assert!(feed(
            &mut keys,
            event(KeyCode::Char('e'), none, KeyEventKind::Repeat)
        ));
        assert_eq!(keys.velocity(), DEFAULT_VELOCITY, "Ctrl-C is not 'softer'");
        assert_eq!(
            out,
            [
                on(DEFAULT_VELOCITY, 60),
                on(DEFAULT_VELOCITY, 63),
                NoteOff { key: 60 }
            ]
        );
    }
}
