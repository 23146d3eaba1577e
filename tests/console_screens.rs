//! The console's screens drawn into ratatui's `TestBackend` from fixed telemetry (no
//! clock, no engine, no terminal), compared with the expected screens in
//! `tests/screens/`. A screen that differs, or has no expected file, fails. Writing the
//! expected screens is a deliberate act: `UPDATE_SCREENS=1 cargo test --release --test
//! console_screens` writes them all after a change to the console (or for a new screen);
//! review the diff and commit the files.
//!
//! Also: the console state fed a telemetry stream recorded from the engine itself, checked
//! at the moments the chord, the mode, the count-down and the note colours must change.

use ascenseur::band::{Arrangement, BarLine, FormLoop, KeyCycle, Position, TempoRamp, Trainer};
use ascenseur::engine::journal::JournalEntry;
use ascenseur::engine::{
    Engine, EngineConfig, InputEvent, NoteOnset, ONSETS_PER_BLOCK, Telemetry, TimedInput, Transport,
};
use ascenseur::live::DriverSummary;
use ascenseur::preset;
use ascenseur::theory::{Notation, NoteRole, PitchClass};
use ascenseur::ui::state::{Countdown, PracticeGlance};
use ascenseur::ui::{ConsoleState, EngineInfo, Look, MidiInfo};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const RATE: f32 = 48_000.0;

fn state_for(name: &str, look: Look) -> ConsoleState {
    let preset = preset::find(name).expect("preset");
    let arrangement = Arrangement::new(&preset, None).expect("arrangement");
    let mut state = ConsoleState::new(arrangement, preset.cue.clone(), preset.key, look);
    state.engine = EngineInfo {
        driver: Some(DriverSummary {
            host: "JACK".into(),
            device: "ascenseur".into(),
            sample_rate: 48_000,
            buffer: 64,
        }),
        load: 0.031,
        peak_load: 0.074,
        xruns: 0,
        dropped: 0,
        midi: MidiInfo {
            connected: vec![
                "JACK ascenseur:midi_in".into(),
                "virtual ascenseur:in".into(),
            ],
            gone: vec!["Keystation 49 MIDI 1".into()],
            unavailable: None,
        },
    };
    state
}

fn samples_per_beat(state: &ConsoleState) -> f64 {
    f64::from(RATE) * 60.0 / f64::from(state.arrangement.tempo)
}

/// A snapshot at `bar` (0-based) and `beat` with `held` keys, as the engine would send it.
fn telemetry(state: &ConsoleState, bar: u64, beat: f32, held: &[u8]) -> Telemetry {
    let beats = bar as f64 * f64::from(state.arrangement.beats_per_bar) + f64::from(beat);
    telemetry_at(state, (beats * samples_per_beat(state)) as u64, held)
}

/// A snapshot at engine frame `frame` (the form started at frame 0, at the preset's tempo).
fn telemetry_at(state: &ConsoleState, frame: u64, held: &[u8]) -> Telemetry {
    let a = &state.arrangement;
    let beats = frame as f64 / samples_per_beat(state);
    let per_bar = f64::from(a.beats_per_bar);
    let bar = (beats / per_bar).floor() as u64;
    let beat = (beats - bar as f64 * per_bar) as f32;
    let mut held_keys = [0u64; 2];
    for &k in held {
        held_keys[usize::from(k / 64)] |= 1 << (k % 64);
    }
    Telemetry {
        frame,
        position: Position::in_form(a, bar, beat),
        tempo: a.tempo,
        stem_peaks: [0.25, 0.1, 0.05, 0.5, 0.0],
        limiter_db: 0.0,
        held_keys,
        notes_played: 12,
        dropped_input: 0,
        dropped_events: 0,
        lead: a.lead,
        lead_programs: 0,
        mute: [false, false, true],
        sample_rate: RATE,
        transport: Transport::Playing,
        count_in: true,
        onsets: [NoteOnset::default(); ONSETS_PER_BLOCK],
        onset_count: 0,
        onsets_missed: 0,
        telemetry_lost: 0,
        journal_lost: 0,
        trainer: Trainer::default(),
        playback: None,
        trade: None,
    }
}

/// The engine frame of `beat` (0-based from bar 1; a fraction of 0.5 is the band's swung
/// eighth, at r/(r+1) of the beat as the band places it) moved by `late_ms`.
fn frame_of(state: &ConsoleState, beat: f32, late_ms: f64) -> u64 {
    let whole = beat.floor();
    let swing = f64::from(state.arrangement.swing);
    let fraction = if beat - whole == 0.5 {
        swing / (1.0 + swing)
    } else {
        f64::from(beat - whole)
    };
    let at =
        (f64::from(whole) + fraction) * samples_per_beat(state) + late_ms * 0.001 * f64::from(RATE);
    at.round() as u64
}

/// The journal's bar lines up to bar `until` (0-based), laid out at the preset's tempo
/// from frame 0, as the conductor lays them out.
fn lay_out_bars(state: &mut ConsoleState, until: u64) {
    let spb = samples_per_beat(state);
    let a = &state.arrangement;
    let lines: Vec<BarLine> = (0..=until)
        .map(|index| BarLine {
            key_shift: 0,
            index,
            form_bar: (index % u64::from(a.form_bars)) as u32,
            start: index as f64 * f64::from(a.beats_per_bar) * spb,
            samples_per_beat: spb,
            beats: a.beats_per_bar,
            tempo: a.tempo,
        })
        .collect();
    let laid_out = state.practice.bar_lines().len() as u64;
    for line in lines.into_iter().skip(laid_out as usize) {
        state.record(&JournalEntry::Bar(line));
    }
}

fn played(state: &mut ConsoleState, frame: u64, event: InputEvent) {
    state.record(&JournalEntry::Played(TimedInput { frame, event }));
}

/// Feed a phrase (key, beat from bar 1 with a swung half, length in beats, ms late) as
/// the engine would, in time order: its journal and a telemetry snapshot at every note-on
/// and note-off; then a rest long enough to end it.
fn play_phrase(state: &mut ConsoleState, notes: &[(u8, f32, f32, f64)]) {
    let Some(&(_, last_beat, last_length, _)) = notes.last() else {
        return;
    };
    lay_out_bars(state, (last_beat + last_length) as u64 / 4 + 1);
    // (frame, is a note-on, key): a note-off first where they meet.
    let mut events: Vec<(u64, bool, u8)> = notes
        .iter()
        .flat_map(|&(key, beat, length, late_ms)| {
            [
                (frame_of(state, beat, late_ms), true, key),
                (frame_of(state, beat + length, 0.0), false, key),
            ]
        })
        .collect();
    events.sort();
    let mut held: Vec<u8> = Vec::new();
    for (frame, is_on, key) in events {
        if is_on {
            played(state, frame, InputEvent::NoteOn { key, velocity: 0.8 });
            held.push(key);
        } else {
            played(state, frame, InputEvent::NoteOff { key });
            held.retain(|&k| k != key);
        }
        let mut t = telemetry_at(state, frame, &held);
        if is_on {
            t.onsets[0] = NoteOnset {
                key,
                velocity: 0.8,
                frame,
                position: t.position,
                in_form: true,
            };
            t.onset_count = 1;
        }
        state.feed(&t);
    }
    // The engine reports every block: the rest after the phrase is seen as it goes by.
    let rest_end = frame_of(state, last_beat + last_length + 1.5, 0.0);
    state.feed(&telemetry_at(state, rest_end, &[]));
    state.judge();
}

fn screen(state: &ConsoleState, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| frame.render_widget(state, frame.area()))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        for x in 0..buffer.area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn check(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/screens")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_SCREENS").is_some() {
        std::fs::write(&path, actual).expect("write expected screen");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "no expected screen {name} ({}: {error}); if this one is right, write it with \
             UPDATE_SCREENS=1 cargo test --release --test console_screens:\n{actual}",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "screen {name} differs from {}:\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// Générique in bar 3 (Dm7) of its second chorus, B held, after a phrase that landed on
/// A on beat 1: its downbeats 12 to 18 ms late, its swung eighths 6 and 10 ms (laid
/// back). The take began with eighths swung 2:1 and about 20 ms late in the lift.
fn generique_playing(look: Look) -> ConsoleState {
    let mut state = state_for("generique", look);
    let lift = 16.0 * 4.0;
    let two_to_one = 2.0 / 3.0;
    play_phrase(
        &mut state,
        &[
            (62, lift, 0.6, 22.0),
            (64, lift + two_to_one, 0.3, 24.0),
            (66, lift + 1.0, 0.6, 20.0),
            (69, lift + 1.0 + two_to_one, 0.3, 26.0),
            (71, lift + 2.0, 0.6, 18.0),
            (73, lift + 2.0 + two_to_one, 0.3, 22.0),
            (74, lift + 3.0, 1.0, 20.0),
        ],
    );
    let chorus = 24.0 * 4.0;
    play_phrase(
        &mut state,
        &[
            (62, chorus, 0.5, 14.0),
            (65, chorus + 0.5, 0.5, 6.0),
            (69, chorus + 1.0, 1.0, 18.0),
            (71, chorus + 2.5, 0.5, 10.0),
            (69, chorus + 4.0, 1.0, 12.0),
        ],
    );
    state.feed(&telemetry(&state, 26, 2.5, &[71, 77]));
    // Recording, with a history: today's minutes and the best tempo in the title line.
    state.practice_glance = Some(PracticeGlance {
        today_minutes: 23.4,
        best_tempo: Some(132.0),
    });
    state
}

/// Sur l'autoroute over its C7 bars, nothing held.
fn autoroute_playing(look: Look) -> ConsoleState {
    let mut state = state_for("sur-l-autoroute", look);
    let c7_bar = u64::from(state.arrangement.slots[1].start_bar) + 3;
    let beat = (c7_bar - 2) as f32 * 4.0;
    play_phrase(
        &mut state,
        &[
            (70, beat, 0.5, -14.0),
            (71, beat + 0.5, 0.5, -12.0),
            (72, beat + 1.0, 0.5, -16.0),
        ],
    );
    state.feed(&telemetry(&state, c7_bar, 0.2, &[]));
    state
}

#[test]
fn main_screen_generique() {
    let state = generique_playing(Look::default());
    let text = screen(&state, 80, 24);
    check("generique-80x24", &text);
    // The phrase's time line is the report's own line.
    let phrase = state
        .phrase_report
        .as_ref()
        .expect("the last phrase judged");
    assert!(text.contains(&phrase.time.to_string()), "{text}");
    assert_eq!(phrase.time.count, 5);
    let take = state.take_report.as_ref().expect("the take judged");
    assert_eq!(take.time.count, 12);
    check("generique-160x48", &screen(&state, 160, 48));
    check("generique-100x30", &screen(&state, 100, 30));
}

#[test]
fn main_screen_sur_l_autoroute() {
    let state = autoroute_playing(Look::default());
    check("sur-l-autoroute-80x24", &screen(&state, 80, 24));
    check("sur-l-autoroute-160x48", &screen(&state, 160, 48));
}

#[test]
fn help_overlay() {
    let mut state = generique_playing(Look::default());
    state.help = true;
    check("help-80x24", &screen(&state, 80, 24));
}

#[test]
fn ascii_and_monochrome() {
    let look = Look {
        notation: Notation::Ascii,
        color: false,
    };
    let state = autoroute_playing(look);
    let text = screen(&state, 80, 24);
    check("sur-l-autoroute-ascii-80x24", &text);
    assert!(text.contains("Bb"), "{text}");
    assert!(!text.contains('♭') && !text.contains('♯'), "{text}");
    // The console's own drawing is plain ASCII too (the preset's title and cue keep their
    // accents and quotes: they are names, not drawing).
    let drawing: String = text
        .lines()
        .skip(1)
        .flat_map(str::chars)
        .filter(|c| !c.is_ascii())
        .collect();
    assert!(
        drawing.is_empty(),
        "non-ASCII drawing {drawing:?} in\n{text}"
    );
    // No colour anywhere in the buffer.
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal
        .draw(|frame| frame.render_widget(&state, frame.area()))
        .unwrap();
    for cell in terminal.backend().buffer().content() {
        assert_eq!(
            cell.fg,
            ratatui::style::Color::Reset,
            "a coloured cell: {cell:?}"
        );
        assert_eq!(
            cell.bg,
            ratatui::style::Color::Reset,
            "a coloured cell: {cell:?}"
        );
    }
}

#[test]
fn every_size_draws_without_panicking() {
    let mut state = generique_playing(Look::default());
    for help in [false, true] {
        state.help = help;
        for width in (0..=200)
            .step_by(7)
            .chain([1, 2, 29, 30, 59, 60, 79, 80, 81])
        {
            for height in (0..=60).step_by(5).chain([1, 5, 6, 17, 18, 23, 24]) {
                let _ = screen(&state, width, height);
            }
        }
    }
    state.help = false;
    let small = screen(&state, 40, 10);
    assert!(small.contains("Dm7"), "the chord is what stays:\n{small}");
}

/// The engine plays Générique with a phrase from the player; every telemetry snapshot it
/// sends is fed to the console's state, which is checked at the moments things change.
#[test]
fn a_recorded_telemetry_stream_changes_the_screen_at_the_right_moments() {
    let preset = preset::find("generique").unwrap();
    let arrangement = Arrangement::new(&preset, None).unwrap();
    let config = EngineConfig {
        mute: [true; 3],
        ..EngineConfig::default()
    };
    let (mut engine, mut controller) = Engine::new(config, arrangement.clone());
    let mut state = ConsoleState::new(arrangement, preset.cue.clone(), preset.key, Look::default());
    // B4 held in bar 2 (Dm7: the Dorian colour) and again in bar 6 (C7: outside).
    let spb = engine.bar_start(1) / 4;
    let at = |bar: u64, beat: u64| engine.bar_start(bar) + beat * spb;
    let script = [
        (
            at(1, 0),
            InputEvent::NoteOn {
                key: 71,
                velocity: 0.8,
            },
        ),
        (at(1, 2), InputEvent::NoteOff { key: 71 }),
        (
            at(5, 0),
            InputEvent::NoteOn {
                key: 71,
                velocity: 0.8,
            },
        ),
        (at(5, 1), InputEvent::NoteOff { key: 71 }),
        (
            at(5, 1),
            InputEvent::NoteOn {
                key: 70,
                velocity: 0.8,
            },
        ),
        (at(6, 0), InputEvent::NoteOff { key: 70 }),
    ];
    for (frame, event) in script {
        controller.play(TimedInput { frame, event }).unwrap();
    }
    let mut buffer = vec![0.0f32; 2 * 64];
    let mut seen = Vec::new();
    let end = at(8, 1);
    while engine.clock() < end {
        engine.process(&mut buffer);
        controller.drain_telemetry(|t| state.feed(&t));
        controller.drain_journal(|entry| state.record(&entry));
        state.judge();
        let t = state.telemetry.unwrap();
        let (slot, _) = state.current_slot();
        let held: Vec<NoteRole> = state
            .held_keys()
            .map(|k| slot.scale.classify(PitchClass::from_midi(k)))
            .collect();
        seen.push((
            t.position.bar,
            t.position.beat,
            slot.chord.to_string(),
            slot.mode.to_string(),
            state.countdown(),
            held,
        ));
    }
    let at_time = |bar: u64, beat: f32| {
        seen.iter()
            .find(|s| s.0 == bar && s.1 >= beat)
            .unwrap_or_else(|| panic!("no snapshot at bar {bar} beat {beat}"))
    };
    let s = at_time(0, 0.0);
    assert_eq!(
        (s.2.as_str(), s.3.as_str(), s.4),
        ("Dm7", "D Dorian", Countdown::Bars(4))
    );
    let s = at_time(1, 0.5);
    assert_eq!(
        (s.4, s.5.as_slice()),
        (Countdown::Bars(3), &[NoteRole::Characteristic][..])
    );
    assert_eq!(at_time(2, 0.0).4, Countdown::Bars(2));
    assert_eq!(at_time(3, 0.0).4, Countdown::LastBar { beat: 1 });
    assert_eq!(at_time(3, 2.1).4, Countdown::LastBar { beat: 3 });
    // The last snapshot of bar 4 is still Dm7; the first of bar 5 is C7.
    let last_dm7 = seen.iter().rev().find(|s| s.0 == 3).unwrap();
    assert_eq!(last_dm7.2, "Dm7");
    let s = at_time(4, 0.0);
    assert_eq!(
        (s.2.as_str(), s.3.as_str(), s.4),
        ("C7", "C Mixolydian", Countdown::Bars(4))
    );
    assert_eq!(at_time(5, 0.5).5, [NoteRole::Outside]);
    assert_eq!(at_time(5, 1.5).5, [NoteRole::ChordTone]);
    assert!(
        at_time(2, 0.0).5.is_empty(),
        "B4 was let go on beat 3 of bar 2"
    );
    // Two phrases (a rest of two beats after the first); the second is B then B♭.
    let phrase = state.phrases.last().expect("a phrase");
    let names: Vec<String> = phrase.notes.iter().map(|n| n.name.to_string()).collect();
    assert_eq!(names, ["B", "B♭"]);
    assert_eq!(phrase.notes[0].role, NoteRole::Outside);
    assert_eq!(phrase.inside, 0.5);
    assert_eq!(state.phrases.finished(), 2);
    assert!(phrase.space_before_beats.unwrap() > 9.0);
    // The time line judged the engine's own journal: the two notes of that phrase, on
    // the beat to the sample; B outside over C7, B♭ in.
    let report = state.phrase_report.as_ref().expect("the phrase judged");
    assert_eq!(report.time.count, 2);
    assert!(report.time.mean_ms.abs() < 0.05, "{}", report.time);
    assert_eq!(
        (report.notes.in_mode.count, report.notes.in_mode.total),
        (1, 2)
    );
    let take = state.take_report.as_ref().expect("the take judged");
    assert_eq!((take.time.count, take.notes.in_mode.count), (3, 2));
}

#[test]
fn a_notice_too_long_for_the_title_line_is_shown_whole() {
    let mut state = generique_playing(Look::default());
    state.notice =
        Some("the engine stopped: test panic requested (press space to restart it)".to_string());
    for width in [80, 100] {
        let top = screen(&state, width, 24)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(
            top.contains("(press space to restart it)"),
            "{width} columns: {top}"
        );
    }
    // Where it fits, the title stays beside it.
    state.notice = Some("audio is back".to_string());
    let top = screen(&state, 100, 24);
    assert!(top.lines().next().unwrap().contains("Générique"), "{top}");
}

/// Générique looping bars 5-8 (C7) with a ramp and the key cycle, in its second pass: the
/// console shows the key the band plays in, the loop, the ramp, and at the loop's end the
/// first chord of the loop in the next key.
#[test]
fn the_trainer_shows_the_key_in_force_the_loop_and_the_ramp() {
    let mut state = state_for("generique", Look::default());
    let mut t = telemetry(&state, 11, 1.2, &[]);
    t.trainer = Trainer {
        form_loop: FormLoop::new(4, 7),
        ramp: Some(TempoRamp {
            step: 4.0,
            every: 2,
            max: 200.0,
        }),
        key_cycle: Some(KeyCycle::Fourths),
    };
    t.position.form_bar = 7;
    t.position.next_form_bar = 4;
    t.position.key_shift = 5;
    t.tempo = 70.0;
    state.feed(&t);
    let text = screen(&state, 100, 30);
    assert!(
        text.contains("Générique in G minor, up a fourth each pass"),
        "{text}"
    );
    assert!(text.contains("bar  8/24 loop 5-8"), "{text}");
    assert!(text.contains("70 BPM +4/2 to 200"), "{text}");
    assert!(text.contains("NOW F7 · F Mixolydian"), "{text}");
    assert!(text.contains("NEXT B♭7 · B♭ Mixolydian next bar"), "{text}");
    assert_eq!(state.countdown(), Countdown::LastBar { beat: 2 });
    // Earlier in the loop the change is the next key's C7, three bars on.
    t.position.form_bar = 5;
    t.position.next_form_bar = 6;
    state.feed(&t);
    assert_eq!(state.countdown(), Countdown::Bars(3));
    assert_eq!(state.next_slot().chord.to_string(), "B♭7");
}
