//! Offline renders: determinism, block-size invariance, levels, stems.

use ascenseur::preset;
use ascenseur::render::{RenderOptions, Rendered, render};
use ascenseur_analysis::{peak_dbfs, rms_dbfs};

fn render_preset(name: &str, options: &RenderOptions) -> Rendered {
    let preset = preset::find(name).expect("built-in preset");
    render(&preset, options, |_, _| {}).expect("render")
}

#[test]
fn the_same_seed_gives_the_same_samples_and_another_seed_does_not() {
    let options = RenderOptions {
        bars: Some(6),
        ..RenderOptions::default()
    };
    let a = render_preset("florence-sur-les-champs-elysees", &options);
    let b = render_preset("florence-sur-les-champs-elysees", &options);
    assert!(a.mix == b.mix, "two renders with one seed differ");
    let c = render_preset(
        "florence-sur-les-champs-elysees",
        &RenderOptions { seed: 2, ..options },
    );
    assert!(a.mix != c.mix, "another seed should play other notes");
}

/// One built-in preset of each feel (ballad, ostinato, up-tempo…), the first the catalog
/// lists: each feel drives the band its own way.
fn one_preset_per_feel() -> Vec<String> {
    let mut feels = Vec::new();
    let mut names = Vec::new();
    for (name, _) in preset::builtin() {
        let preset = preset::find_in(name, None).expect("built-in preset");
        if !feels.contains(&preset.feel) {
            feels.push(preset.feel);
            names.push(preset.name);
        }
    }
    names
}

#[test]
fn block_size_does_not_change_a_single_sample() {
    for name in &one_preset_per_feel() {
        let reference = render_preset(
            name,
            &RenderOptions {
                bars: Some(5),
                block: 64,
                ..RenderOptions::default()
            },
        );
        for block in [32, 512, 37] {
            let other = render_preset(
                name,
                &RenderOptions {
                    bars: Some(5),
                    block,
                    ..RenderOptions::default()
                },
            );
            let first_difference = reference
                .mix
                .iter()
                .zip(&other.mix)
                .position(|(a, b)| a != b);
            assert_eq!(
                first_difference, None,
                "{name}: block {block} differs from block 64"
            );
            assert!(
                reference.stems == other.stems,
                "{name}: stems differ at block {block}"
            );
        }
    }
}

#[test]
fn every_preset_is_below_minus_one_dbfs_and_every_stem_sounds() {
    for (name, _) in preset::builtin() {
        let rendered = render_preset(
            name,
            &RenderOptions {
                bars: Some(8),
                ..RenderOptions::default()
            },
        );
        assert!(
            rendered.mix.iter().all(|x| x.is_finite()),
            "{name}: non-finite sample"
        );
        let peak = peak_dbfs(&rendered.mix);
        assert!(peak <= -1.0, "{name}: mix peak {peak:.2} dBFS");
        assert!(rms_dbfs(&rendered.mix) > -40.0, "{name}: mix nearly silent");
        for (stem, label) in ["bass", "drums", "piano"].iter().enumerate() {
            let level = rms_dbfs(&rendered.stems[stem]);
            assert!(
                level > -50.0,
                "{name}: {label} stem silent ({level:.1} dBFS RMS)"
            );
        }
    }
}

#[test]
fn muted_players_are_silent_and_the_others_unchanged() {
    let full = render_preset(
        "generique",
        &RenderOptions {
            bars: Some(4),
            ..RenderOptions::default()
        },
    );
    let muted = render_preset(
        "generique",
        &RenderOptions {
            bars: Some(4),
            mute: ascenseur::render::parse_mute("bass,piano").unwrap(),
            ..RenderOptions::default()
        },
    );
    assert!(muted.stems[0].iter().all(|&x| x == 0.0));
    assert!(muted.stems[2].iter().all(|&x| x == 0.0));
    assert!(
        muted.stems[1] == full.stems[1],
        "muting others changed the drums"
    );
}

/// A one-track Standard MIDI File at 120 BPM, 480 ticks a beat: (key, beats) in a row.
fn phrase_file(dir: &std::path::Path, notes: &[(u8, u32)]) -> std::path::PathBuf {
    let mut track = Vec::new();
    for &(key, beats) in notes {
        let ticks = 480 * beats;
        track.extend_from_slice(&[0x00, 0x90, key, 96]);
        // Delta as a variable-length quantity.
        let mut delta = vec![(ticks & 0x7f) as u8];
        let mut rest = ticks >> 7;
        while rest > 0 {
            delta.insert(0, 0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        track.extend_from_slice(&delta);
        track.extend_from_slice(&[0x80, key, 0]);
    }
    track.extend_from_slice(&[0x00, 0xFF, 0x2F, 0x00]);
    let mut smf = b"MThd\0\0\0\x06\0\0\0\x01\x01\xE0MTrk".to_vec();
    smf.extend_from_slice(&(track.len() as u32).to_be_bytes());
    smf.extend_from_slice(&track);
    let path = dir.join("phrase.mid");
    std::fs::write(&path, smf).unwrap();
    path
}

#[test]
fn a_played_phrase_is_also_block_size_invariant() {
    let dir = tempfile::tempdir().unwrap();
    let input = phrase_file(dir.path(), &[(62, 1), (65, 1), (69, 2), (67, 1), (72, 3)]);
    let render_with = |block| {
        render_preset(
            "florence-sur-les-champs-elysees",
            &RenderOptions {
                bars: Some(3),
                block,
                input: Some(input.clone()),
                ..RenderOptions::default()
            },
        )
    };
    let reference = render_with(64);
    assert!(
        rms_dbfs(&reference.stems[3]) > -40.0,
        "the phrase is not heard"
    );
    for block in [32, 333, 1024] {
        let other = render_with(block);
        assert!(
            reference.mix == other.mix,
            "block {block} changes the render with a phrase"
        );
    }
}
