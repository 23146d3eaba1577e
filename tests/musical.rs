//! Musical claims, measured from the rendered audio (never from the generator's own
//! bookkeeping): the bass line's pitches against the modes, the drums' swing against the
//! grid, the chord changes landing on the right bars.

use ascenseur::preset;
use ascenseur::render::{RenderOptions, Rendered, render};
use ascenseur::theory::PitchClass;
use ascenseur_analysis::{
    Band, OnsetOptions, detect_onsets, note_pitches, swing_ratio_from_onsets,
};

const BASS: usize = 0;
const DRUMS: usize = 1;

fn render_preset(name: &str, bars: u32) -> Rendered {
    let preset = preset::find(name).expect("built-in preset");
    let options = RenderOptions {
        bars: Some(bars),
        ..RenderOptions::default()
    };
    render(&preset, &options, |_, _| {}).expect("render")
}

/// A bass note heard in the stem: when it starts, the bar it belongs to and its pitch.
struct HeardNote {
    bar: usize,
    /// Seconds from the bar line (negative: a little early).
    from_bar_s: f64,
    midi: i32,
}

fn bar_of(rendered: &Rendered, sample: usize) -> (usize, f64) {
    // A note up to 40 ms before a bar line belongs to that bar (players anticipate).
    let early = (0.04 * rendered.sample_rate as f64) as u64;
    let s = sample as u64 + early;
    let bar = rendered
        .bar_starts
        .iter()
        .rposition(|&start| start <= s)
        .unwrap_or(0);
    let from = (sample as f64 - rendered.bar_starts[bar] as f64) / rendered.sample_rate as f64;
    (bar, from)
}

fn heard_bass_notes(rendered: &Rendered) -> Vec<HeardNote> {
    let sr = rendered.sample_rate as f32;
    let bass = rendered.stem_mono(BASS);
    let last_bar_end = *rendered.bar_starts.last().unwrap() as usize;
    let onsets: Vec<usize> =
        detect_onsets(&bass, sr, &OnsetOptions::with_band(Band::LowPass(400.0)))
            .into_iter()
            .map(|o| o.sample)
            .filter(|&s| s < last_bar_end)
            .collect();
    let pitches = note_pitches(&bass, sr, &onsets, 35.0, 220.0);
    onsets
        .iter()
        .zip(pitches)
        .filter_map(|(&onset, pitch)| {
            let pitch = pitch?;
            let (bar, from_bar_s) = bar_of(rendered, onset);
            Some(HeardNote {
                bar,
                from_bar_s,
                midi: pitch.midi.round() as i32,
            })
        })
        .collect()
}

/// The names of the built-in presets `keep` selects, in the catalog's order.
fn builtins_where(keep: impl Fn(&preset::Preset) -> bool) -> Vec<String> {
    preset::builtin()
        .iter()
        .map(|(name, _)| preset::find_in(name, None).expect("built-in preset"))
        .filter(|p| keep(p))
        .map(|p| p.name)
        .collect()
}

fn walking_bass(p: &preset::Preset) -> bool {
    matches!(p.bass, preset::BassStyle::Walking)
}

fn pc(midi: i32) -> PitchClass {
    PitchClass::new(midi)
}

#[test]
fn walking_bass_notes_are_in_the_mode_or_approach_by_half_step_and_downbeats_are_chord_tones() {
    for name in &builtins_where(walking_bass) {
        let rendered = render_preset(name, 32);
        let arrangement = &rendered.arrangement;
        let notes = heard_bass_notes(&rendered);
        let beats = arrangement.beats_per_bar as usize;
        assert!(
            notes.len() >= 32 * beats * 9 / 10,
            "{name}: heard only {} bass notes in 32 bars",
            notes.len()
        );
        let mut in_mode = 0;
        let mut explained = 0;
        // The last note approaches a bar beyond the render: nothing to judge it by.
        let judged = notes.len() - 1;
        for (i, note) in notes[..judged].iter().enumerate() {
            let (slot, _) = arrangement.slot_at(note.bar as u64);
            if slot.mode.contains(pc(note.midi)) {
                in_mode += 1;
                explained += 1;
            } else if let Some(next) = notes.get(i + 1)
                && (next.midi - note.midi).abs() == 1
            {
                explained += 1;
            } else {
                let context: Vec<(usize, f64, i32)> = notes
                    [i.saturating_sub(2)..(i + 3).min(notes.len())]
                    .iter()
                    .map(|n| (n.bar, n.from_bar_s, n.midi))
                    .collect();
                eprintln!(
                    "{name}: unexplained bass note {} in bar {}: {context:?}",
                    note.midi,
                    note.bar + 1
                );
            }
        }
        let share_in_mode = in_mode as f64 / judged as f64;
        let share_explained = explained as f64 / judged as f64;
        assert!(
            share_explained >= 0.98,
            "{name}: only {:.1} % of bass notes in the mode or approaching by half step",
            100.0 * share_explained
        );
        assert!(
            share_in_mode >= 0.85,
            "{name}: only {:.1} % of bass notes in the mode",
            100.0 * share_in_mode
        );

        // Beat 1 of each bar: the note heard nearest the bar line.
        let mut bars_with_downbeat = 0;
        let mut chord_tone_downbeats = 0;
        for bar in 0..32usize {
            let downbeat = notes
                .iter()
                .filter(|n| n.bar == bar && n.from_bar_s.abs() < 0.06)
                .min_by(|a, b| a.from_bar_s.abs().total_cmp(&b.from_bar_s.abs()));
            if let Some(note) = downbeat {
                bars_with_downbeat += 1;
                let (slot, _) = arrangement.slot_at(bar as u64);
                if slot.scale.chord_tones().contains(pc(note.midi)) {
                    chord_tone_downbeats += 1;
                }
            }
        }
        assert!(
            bars_with_downbeat >= 30,
            "{name}: beat 1 heard in only {bars_with_downbeat} of 32 bars"
        );
        let share = chord_tone_downbeats as f64 / 32.0;
        assert!(
            share >= 0.9,
            "{name}: beat 1 is a chord tone in only {:.0} % of bars",
            100.0 * share
        );
    }
}

/// The bass note heard nearest the line of `bar` (0-based), within 60 ms of it.
fn downbeat(notes: &[HeardNote], bar: usize) -> Option<&HeardNote> {
    notes
        .iter()
        .filter(|n| n.bar == bar && n.from_bar_s.abs() < 0.06)
        .min_by(|a, b| a.from_bar_s.abs().total_cmp(&b.from_bar_s.abs()))
}

#[test]
fn chord_changes_land_on_the_right_bars() {
    // Générique: A (Dm7 ×4, C7 ×4) twice, then the lift on Dmaj7: the bass names each new
    // chord's root on the bar where it starts.
    let rendered = render_preset("generique", 24);
    let arrangement = &rendered.arrangement;
    let notes = heard_bass_notes(&rendered);
    let mut checked = 0;
    for slot in &arrangement.slots {
        let bar = slot.start_bar as usize;
        let heard = downbeat(&notes, bar)
            .unwrap_or_else(|| panic!("no bass note heard on bar {}", bar + 1));
        assert_eq!(
            pc(heard.midi),
            slot.chord.root_pc(),
            "bar {}: expected the root of {}",
            bar + 1,
            slot.chord
        );
        checked += 1;
    }
    assert!(checked >= 5);
}

#[test]
fn the_bar_before_a_change_is_still_the_old_chord() {
    // Its downbeat is a tone of the chord still playing, so not the new root unless the
    // old chord shares it: the bass does not anticipate the change by a bar.
    let rendered = render_preset("generique", 24);
    let arrangement = &rendered.arrangement;
    let notes = heard_bass_notes(&rendered);
    let mut checked = 0;
    let mut not_shared = 0;
    for slot in arrangement.slots.iter().filter(|s| s.start_bar > 0) {
        let bar = slot.start_bar as usize - 1;
        let (old, _) = arrangement.slot_at(bar as u64);
        if old.chord == slot.chord {
            continue;
        }
        let heard = downbeat(&notes, bar)
            .unwrap_or_else(|| panic!("no bass note heard on bar {}", bar + 1));
        let heard = pc(heard.midi);
        let old_tones = old.scale.chord_tones();
        assert!(
            old_tones.contains(heard),
            "bar {}, before {}: beat 1 is {heard:?}, not a tone of {}, the chord still playing",
            bar + 1,
            slot.chord,
            old.chord
        );
        let new_root = slot.chord.root_pc();
        if !old_tones.contains(new_root) {
            assert_ne!(
                heard,
                new_root,
                "bar {}: beat 1 is already the root of {}, a bar early",
                bar + 1,
                slot.chord
            );
            not_shared += 1;
        }
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} changes checked");
    assert!(not_shared >= 1, "no change to a root the old chord lacks");
}

#[test]
fn ostinato_and_pedal_stay_on_chord_tones() {
    for name in &builtins_where(|p| !walking_bass(p)) {
        let rendered = render_preset(name, 16);
        let arrangement = &rendered.arrangement;
        let notes = heard_bass_notes(&rendered);
        assert!(
            notes.len() >= 12,
            "{name}: heard only {} bass notes",
            notes.len()
        );
        let chord_tones = notes
            .iter()
            .filter(|n| {
                arrangement
                    .slot_at(n.bar as u64)
                    .0
                    .scale
                    .chord_tones()
                    .contains(pc(n.midi))
            })
            .count();
        let share = chord_tones as f64 / notes.len() as f64;
        assert!(
            share >= 0.9,
            "{name}: only {:.0} % of bass notes are chord tones",
            100.0 * share
        );
    }
}

#[test]
fn drums_swing_at_the_intended_ratio() {
    for name in &builtins_where(walking_bass) {
        let rendered = render_preset(name, 16);
        let arrangement = &rendered.arrangement;
        let sr = rendered.sample_rate as f32;
        let drums = rendered.stem_mono(DRUMS);
        let onsets: Vec<f64> =
            detect_onsets(&drums, sr, &OnsetOptions::with_band(Band::HighPass(2000.0)))
                .into_iter()
                .map(|o| o.time_s(sr))
                .filter(|&t| t < rendered.bar_starts[15] as f64 / sr as f64)
                .collect();
        let beat = 60.0 / arrangement.tempo as f64;
        let estimate = swing_ratio_from_onsets(&onsets, beat, 0.0)
            .unwrap_or_else(|| panic!("{name}: no swing found"));
        assert!(
            estimate.skip_count >= 20,
            "{name}: only {} skip notes heard",
            estimate.skip_count
        );
        let intended = arrangement.swing as f64;
        // At 1:1 the "skip" sits halfway; the estimate's clusters stay meaningful down to ~1.2.
        assert!(
            (estimate.ratio - intended).abs() <= 0.2,
            "{name}: swing {:.2} heard, {intended:.2} intended ({estimate:?})",
            estimate.ratio
        );
        // The drummer is ahead of the grid, by a few milliseconds, not on it.
        assert!(
            (-0.020..=0.0).contains(&estimate.offset_s),
            "{name}: drums sit {:.1} ms from the grid",
            estimate.offset_s * 1e3
        );
    }
}
