//! Offline renders: determinism, block-size invariance, levels, stems.

use ascenseur::analysis::{peak_dbfs, rms_dbfs};
use ascenseur::preset;
use ascenseur::render::{RenderOptions, Rendered, render};

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

#[test]
fn block_size_does_not_change_a_single_sample() {
    for name in ["generique", "diner-au-motel", "assassinat-de-carala"] {
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
