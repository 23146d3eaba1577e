//! Preset tests: the ten built-ins, the schema fixtures in `tests/valid_presets/` and
//! `tests/invalid_presets/`, lookup, the catalog and the user preset directory.
//!
//! Every invalid fixture starts with a comment that says where and how it must fail:
//! `# expect: LINE:COL KIND 'bad value'   (description)`. The test checks the line, the
//! column, the error kind, that the message quotes the bad value and that the whole
//! error displays as `FILE:LINE:COL: message`.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use ascenseur::preset::{
    self, BassStyle, CatalogEntry, DrumKit, ErrorKind, Feel, LeadInstrument, MAX_FILE_BYTES, Meter,
    OstinatoStep, Preset, PresetError, PresetSource,
};
use ascenseur::theory::{ChordSymbol, Key, Mode, VoicingFamily};

/// The LP's ten cues, in LP order.
const REQUIRED: [&str; 10] = [
    "generique",
    "assassinat-de-carala",
    "sur-l-autoroute",
    "julien-dans-l-ascenseur",
    "florence-sur-les-champs-elysees",
    "diner-au-motel",
    "evasion-de-julien",
    "visite-du-vigile",
    "au-bar-du-petit-bac",
    "chez-le-photographe-du-motel",
];

/// The takes of the session cue "Assassinat" (S3): one shared ostinato.
const ASSASSINAT: [&str; 3] = [
    "assassinat-de-carala",
    "julien-dans-l-ascenseur",
    "visite-du-vigile",
];

fn manifest_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn builtin(name: &str) -> Preset {
    let (_, text) = preset::builtin()
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no built-in preset {name}"));
    preset::parse(name, &format!("<builtin>/{name}.toml"), text)
        .unwrap_or_else(|e| panic!("built-in {name} is invalid: {e}"))
}

fn chord(s: &str) -> ChordSymbol {
    ChordSymbol::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn mode(s: &str) -> Mode {
    Mode::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn key(s: &str) -> Key {
    Key::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(manifest_path(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

// ---------------------------------------------------------------------------------------
// The built-in presets

#[test]
fn builtin_names_are_the_ten_cues_in_lp_order() {
    let names: Vec<&str> = preset::builtin().iter().map(|(n, _)| *n).collect();
    assert_eq!(names, REQUIRED);
}

#[test]
fn builtin_texts_are_the_files_in_presets_dir() {
    for (name, text) in preset::builtin() {
        let path = manifest_path(&format!("presets/{name}.toml"));
        let on_disk = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert_eq!(
            *text, on_disk,
            "{name}: embedded text differs from {path:?}"
        );
    }
    let stems: BTreeSet<String> = fixtures("presets")
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let required: BTreeSet<String> = REQUIRED.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        stems, required,
        "presets/*.toml must be exactly the ten cues"
    );
    assert!(manifest_path("presets/README.md").is_file());
}

#[test]
fn every_builtin_parses_and_validates() {
    for &(name, _) in preset::builtin() {
        let p = builtin(name);
        assert_eq!(p.name, name);
        assert!(!p.title.is_empty(), "{name}: title");
        assert!(!p.cue.is_empty(), "{name}: cue");
        assert!(!p.practice.is_empty(), "{name}: practice note");
        assert!(
            p.practice.chars().count() < 400,
            "{name}: practice note is short"
        );
        assert!(preset::TEMPO_RANGE.contains(&p.tempo), "{name}: tempo");
        assert_eq!(
            p.meter,
            Meter::FOUR_FOUR,
            "{name}: no source gives another meter"
        );
        assert_eq!(p.key, key("D minor"), "{name}: D-minor centre");
        assert!(p.form_bars() >= 8, "{name}: form");
        // The same file loads from disk with the same result.
        let from_file = preset::load_file(&manifest_path(&format!("presets/{name}.toml")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(from_file, p);
    }
}

#[test]
fn every_builtin_bpm_is_marked_as_an_estimate() {
    for (name, text) in preset::builtin() {
        let tempo_line = text
            .lines()
            .find(|l| l.trim_start().starts_with("tempo"))
            .unwrap_or_else(|| panic!("{name}: no tempo line"));
        assert!(
            tempo_line.contains("# estimate"),
            "{name}: the BPM needs an 'estimate' comment: {tempo_line}"
        );
    }
}

#[test]
fn builtin_tempos_feels_and_kits_follow_tracks_md() {
    // (name, BPM range from TRACKS.md, feel)
    let expected: [(&str, std::ops::RangeInclusive<f32>, Feel); 10] = [
        ("generique", 60.0..=70.0, Feel::Ballad),
        ("assassinat-de-carala", 90.0..=110.0, Feel::Ostinato),
        ("sur-l-autoroute", 250.0..=300.0, Feel::UpTempo),
        ("julien-dans-l-ascenseur", 70.0..=100.0, Feel::Ostinato),
        (
            "florence-sur-les-champs-elysees",
            110.0..=130.0,
            Feel::MediumSwing,
        ),
        ("diner-au-motel", 260.0..=320.0, Feel::UpTempo),
        ("evasion-de-julien", 200.0..=320.0, Feel::UpTempo),
        ("visite-du-vigile", 70.0..=100.0, Feel::Ostinato),
        ("au-bar-du-petit-bac", 140.0..=170.0, Feel::MediumSwing),
        ("chez-le-photographe-du-motel", 40.0..=80.0, Feel::Rubato),
    ];
    for (name, range, feel) in expected {
        let p = builtin(name);
        assert!(range.contains(&p.tempo), "{name}: tempo {}", p.tempo);
        assert_eq!(p.feel, feel, "{name}");
        // Brushes at slow and medium tempos, sticks at the fast ones.
        let kit = if p.feel == Feel::UpTempo {
            DrumKit::Sticks
        } else {
            DrumKit::Brushes
        };
        assert_eq!(p.drums.kit, kit, "{name}");
        // Sparse piano (S14), sparser in the slow cues.
        let max = if p.tempo < 110.0 { 0.15 } else { 0.3 };
        assert!(p.piano.density <= max, "{name}: piano density");
        // A swing override only where the research fit does not reach (slow tempos).
        if let Some(swing) = p.swing {
            assert!(p.tempo < 120.0, "{name}: swing override at {} BPM", p.tempo);
            assert!((2.0..=3.0).contains(&swing), "{name}: swing {swing}");
        }
    }
    assert_eq!(builtin("generique").swing, Some(2.5));
    assert_eq!(
        builtin("chez-le-photographe-du-motel").bass,
        BassStyle::Pedal
    );
    assert_eq!(
        builtin("au-bar-du-petit-bac").lead,
        LeadInstrument::TenorSax
    );
    assert_eq!(
        builtin("julien-dans-l-ascenseur").lead,
        LeadInstrument::OpenTrumpet
    );
    for name in ["generique", "sur-l-autoroute", "diner-au-motel"] {
        assert_eq!(builtin(name).bass, BassStyle::Walking, "{name}");
    }
}

#[test]
fn the_default_vamp_is_dm7_dorian_then_c7_mixolydian() {
    let vamp = [
        (chord("Dm7"), mode("D dorian"), 4),
        (chord("C7"), mode("C mixolydian"), 4),
    ];
    for name in REQUIRED {
        if name == "chez-le-photographe-du-motel" {
            continue; // a drone on D (S2, S10)
        }
        let p = builtin(name);
        let first: Vec<_> = p.sections[0]
            .changes
            .iter()
            .map(|c| (c.chord, c.mode, c.bars))
            .collect();
        assert_eq!(first, vamp, "{name}");
    }
}

#[test]
fn the_three_assassinat_takes_share_one_ostinato() {
    let patterns: Vec<Vec<OstinatoStep>> = ASSASSINAT
        .iter()
        .map(|name| match builtin(name).bass {
            BassStyle::Ostinato { pattern } => pattern,
            other => panic!("{name}: bass is {other:?}, not the Assassinat ostinato"),
        })
        .collect();
    assert_eq!(patterns[0], patterns[1]);
    assert_eq!(patterns[0], patterns[2]);
    // A two-note "tick-tock" figure filling whole bars.
    let notes: BTreeSet<i8> = patterns[0].iter().map(|s| s.interval).collect();
    assert_eq!(notes.len(), 2, "a two-note figure: {notes:?}");
    let beats: f32 = patterns[0].iter().map(|s| s.beats).sum();
    assert_eq!(beats % 4.0, 0.0);
    // Every note is a chord tone of every chord it is played over.
    for name in ASSASSINAT {
        for section in &builtin(name).sections {
            for change in &section.changes {
                for step in &patterns[0] {
                    let pc = change.chord.root_pc().transpose(i32::from(step.interval));
                    assert!(
                        change.chord.pitch_classes().contains(pc),
                        "{name}: interval {} over {} is not a chord tone",
                        step.interval,
                        change.chord
                    );
                }
            }
        }
    }
}

#[test]
fn generique_and_florence_share_their_vamp() {
    let generique = builtin("generique");
    let florence = builtin("florence-sur-les-champs-elysees");
    assert!(!florence.sections.is_empty());
    assert_eq!(
        florence.sections[..],
        generique.sections[..florence.sections.len()],
        "Florence (take 4) plays Générique's (take 3) vamp sections"
    );
    // Générique adds its minor-to-major lift as a later section.
    let lift = &generique.sections[florence.sections.len()..];
    assert!(!lift.is_empty(), "Générique has a lift section");
    assert!(
        lift.iter()
            .flat_map(|s| &s.changes)
            .all(|c| c.chord == chord("Dmaj7")),
        "the lift is in D major"
    );
}

#[test]
fn form_bars_counts_repeats() {
    assert_eq!(builtin("generique").form_bars(), 2 * 8 + 8);
    assert_eq!(builtin("florence-sur-les-champs-elysees").form_bars(), 16);
    assert_eq!(builtin("assassinat-de-carala").form_bars(), 8);
    assert_eq!(builtin("chez-le-photographe-du-motel").form_bars(), 16);
    let p = builtin("generique");
    assert_eq!(p.form_beats(), 96);
}

#[test]
fn change_at_walks_the_form_and_wraps() {
    let p = builtin("generique");
    let at = |bar| {
        let (s, c, start) = p.change_at(bar);
        (s.name.clone(), c.chord, start)
    };
    assert_eq!(at(0), ("A".to_string(), chord("Dm7"), 0));
    assert_eq!(at(3), ("A".to_string(), chord("Dm7"), 0));
    assert_eq!(at(4), ("A".to_string(), chord("C7"), 4));
    assert_eq!(at(8), ("A".to_string(), chord("Dm7"), 8));
    assert_eq!(at(16), ("Lift".to_string(), chord("Dmaj7"), 16));
    assert_eq!(at(23), ("Lift".to_string(), chord("Dmaj7"), 20));
    assert_eq!(at(24), ("A".to_string(), chord("Dm7"), 0));
}

#[test]
fn transposed_moves_chords_modes_and_key_with_right_spelling() {
    let p = builtin("generique");
    let t = p.transposed(key("Eb minor"));
    assert_eq!(t.key, key("Eb minor"));
    let a = &t.sections[0].changes;
    assert_eq!(a[0].chord, chord("Ebm7"));
    assert_eq!(a[0].mode, mode("Eb dorian"));
    assert_eq!(a[1].chord, chord("Db7"));
    assert_eq!(a[1].mode, mode("Db mixolydian"));
    let shown: Vec<String> = a
        .iter()
        .map(|c| format!("{} / {}", c.chord, c.mode))
        .collect();
    assert_eq!(shown, ["E♭m7 / E♭ Dorian", "D♭7 / D♭ Mixolydian"]);
    assert_eq!(t.sections[1].changes[0].chord, chord("Ebmaj7"));
    assert_eq!(t.sections[1].changes[1].mode, mode("Eb lydian"));
    // Everything else is unchanged, and going back gives the original.
    assert_eq!(t.tempo, p.tempo);
    assert_eq!(t.form_bars(), p.form_bars());
    assert_eq!(t.transposed(key("D minor")), p);
    // Ostinato intervals are relative to the chord root and do not move.
    let o = builtin("visite-du-vigile");
    assert_eq!(o.transposed(key("F# minor")).bass, o.bass);
    assert_eq!(
        o.transposed(key("F# minor")).sections[0].changes[1].chord,
        chord("E7")
    );
}

// ---------------------------------------------------------------------------------------
// Fixtures

#[test]
fn valid_fixtures_parse() {
    let files = fixtures("tests/valid_presets");
    assert!(files.len() >= 2, "at least two valid fixtures");
    for path in &files {
        let p = preset::load_file(path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p.name,
            path.file_stem().unwrap().to_string_lossy(),
            "name = file stem"
        );
    }
}

#[test]
fn minimal_fixture_gets_the_documented_defaults() {
    let p = preset::load_file(&manifest_path("tests/valid_presets/minimal.toml")).unwrap();
    assert_eq!(p.meter, Meter::FOUR_FOUR);
    assert_eq!(p.lead, LeadInstrument::HarmonTrumpet);
    assert_eq!(p.swing, None);
    assert_eq!(p.cue, "");
    assert_eq!(p.practice, "");
    assert_eq!(p.sections[0].repeat, 1);
    assert_eq!(p.sections[0].changes[0].mode, chord("Dm7").default_mode());
    assert_eq!(p.sections[0].changes[1].mode, chord("C7").default_mode());
    assert_eq!(p.drums.density, 0.5);
    assert_eq!(p.piano.density, 0.3);
    assert_eq!(p.piano.voicing, VoicingFamily::parse("rootless").unwrap());
}

#[test]
fn waltz_fixture_reads_every_optional_field() {
    let p = preset::load_file(&manifest_path("tests/valid_presets/waltz-ostinato.toml")).unwrap();
    assert_eq!(p.title, "Valse de l'échafaud");
    assert_eq!(p.meter.beats_per_bar, 3);
    assert_eq!(p.tempo, 144.5);
    assert_eq!(p.swing, Some(3.0));
    assert_eq!(p.lead, LeadInstrument::ElectricPiano);
    assert_eq!(p.feel, Feel::Ostinato);
    assert_eq!(p.form_bars(), 3 * 4 + 6);
    let pattern = p.bass.pattern().expect("ostinato");
    assert_eq!(pattern.len(), 4);
    assert_eq!(
        pattern[2],
        OstinatoStep {
            interval: 12,
            beats: 1.5
        }
    );
    assert_eq!(p.drums.kit, DrumKit::Sticks);
    assert_eq!(p.piano.density, 0.0);
    assert_eq!(p.sections[1].changes[0].mode, mode("Bb lydian"));
}

#[test]
fn crlf_fixture_parses() {
    let p = preset::load_file(&manifest_path("tests/valid_presets/pedal-crlf.toml")).unwrap();
    assert_eq!(p.bass, BassStyle::Pedal);
    assert_eq!(p.meter.beats_per_bar, 7);
    assert_eq!(p.form_bars(), 64);
}

/// `# expect: LINE:COL KIND 'value'` from a fixture's first line.
fn expectation(path: &Path, text: &str) -> (usize, usize, String, String) {
    let first = text.lines().next().unwrap_or("");
    let rest = first.strip_prefix("# expect: ").unwrap_or_else(|| {
        panic!("{path:?}: first line must be '# expect: LINE:COL KIND 'value''")
    });
    let (pos, rest) = rest.split_once(' ').unwrap();
    let (line, col) = pos.split_once(':').unwrap();
    let (kind, rest) = rest.split_once(' ').unwrap();
    let value_start = rest.find('\'').unwrap() + 1;
    let value_end = rest.rfind('\'').unwrap();
    (
        line.parse().unwrap(),
        col.parse().unwrap(),
        kind.to_string(),
        rest[value_start..value_end].to_string(),
    )
}

#[test]
fn invalid_fixtures_fail_at_the_expected_line_and_column() {
    let files = fixtures("tests/invalid_presets");
    assert!(files.len() >= 12, "at least 12 kinds of bad preset");
    let mut kinds = BTreeSet::new();
    for path in &files {
        let text = fs::read_to_string(path).unwrap();
        let (line, column, kind, value) = expectation(path, &text);
        let err = match preset::load_file(path) {
            Ok(_) => panic!("{path:?} should be invalid"),
            Err(e) => e,
        };
        let shown = err.to_string();
        let prefix = format!("{}:{line}:{column}: ", path.display());
        assert!(
            shown.starts_with(&prefix),
            "{path:?}: expected '{prefix}…', got '{shown}'"
        );
        assert_eq!(err.location(), Some((line, column)), "{shown}");
        assert_eq!(
            err.kind().map(ErrorKind::slug),
            Some(kind.as_str()),
            "{shown}"
        );
        assert!(
            shown.contains(&format!("'{value}'")),
            "{path:?}: the message must quote '{value}': {shown}"
        );
        assert_eq!(err.value(), Some(value.as_str()), "{shown}");
        assert_eq!(err.exit_code(), 2);
        assert!(!shown.contains('\n'), "one line: {shown}");
        kinds.insert(kind);
    }
    for kind in [
        "syntax",
        "unknown-field",
        "missing-field",
        "wrong-type",
        "out-of-range",
        "unknown-value",
        "empty",
        "inconsistent",
    ] {
        assert!(kinds.contains(kind), "no invalid fixture of kind {kind}");
    }
    // The cases the format must catch, by fixture name.
    let stems: BTreeSet<String> = files
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for required in [
        "syntax-unquoted-string",
        "unknown-field-top",
        "unknown-field-section",
        "tempo-out-of-range",
        "unknown-mode",
        "unknown-chord",
        "empty-sections",
        "zero-bars",
        "empty-changes",
        "wrong-type-tempo",
        "bad-meter",
        "bad-swing",
        "ostinato-partial-bar",
        "unknown-lead",
        "density-out-of-range",
    ] {
        assert!(stems.contains(required), "missing fixture {required}.toml");
    }
}

#[test]
fn error_display_is_exact() {
    let path = manifest_path("tests/invalid_presets/tempo-out-of-range.toml");
    let err = preset::load_file(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3:9: tempo 900 is out of range 30..=360 ('900')",
            path.display()
        )
    );
    let path = manifest_path("tests/invalid_presets/unknown-field-top.toml");
    let shown = preset::load_file(&path).unwrap_err().to_string();
    assert!(
        shown.starts_with(&format!(
            "{}:3:1: unknown field 'tempoo', expected one of 'title', ",
            path.display()
        )),
        "{shown}"
    );
    let path = manifest_path("tests/invalid_presets/unknown-lead.toml");
    let shown = preset::load_file(&path).unwrap_err().to_string();
    for voice in LeadInstrument::ALL {
        assert!(shown.contains(voice.slug()), "lists the choices: {shown}");
    }
}

#[test]
fn readme_example_is_a_valid_preset() {
    let readme = fs::read_to_string(manifest_path("presets/README.md")).unwrap();
    let start = readme.find("```toml\n").expect("a ```toml example") + "```toml\n".len();
    let len = readme[start..].find("```").unwrap();
    let p = preset::parse("my-vamp", "presets/README.md", &readme[start..start + len])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.form_bars(), 2 * 8 + 8);
    assert_eq!(p.sections[0].changes[1].mode, mode("C mixolydian"));
    assert!(p.bass.pattern().is_some());
}

#[test]
fn errors_in_builtin_text_name_the_builtin_origin() {
    let text = preset::builtin()[0].1.replace("tempo = 66", "tempo = 6");
    let err = preset::parse("generique", "<builtin>/generique.toml", &text).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("<builtin>/generique.toml:10:9: tempo 6 is out of range"),
        "{err}"
    );
}

#[test]
fn huge_file_is_rejected_before_parsing() {
    let dir = tempdir();
    let path = dir.path().join("huge.toml");
    // Valid TOML, but far too big: the size check must come first.
    let mut text = fs::read_to_string(manifest_path("tests/valid_presets/minimal.toml")).unwrap();
    while text.len() <= MAX_FILE_BYTES {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    fs::write(&path, &text).unwrap();
    let err = preset::load_file(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:1:1: file is {} bytes; a preset is at most 65536 bytes",
            path.display(),
            text.len()
        )
    );
    assert_eq!(err.kind(), Some(ErrorKind::TooLarge));
    assert_eq!(err.exit_code(), 2);
    // The same limit applies to text handed to parse().
    let err = preset::parse("huge", "huge.toml", &text).unwrap_err();
    assert_eq!(err.kind(), Some(ErrorKind::TooLarge));
    // Exactly the limit is still read (and then parsed).
    text.truncate(MAX_FILE_BYTES);
    let cut = text.rfind('\n').unwrap() + 1;
    text.truncate(cut);
    text.push_str(&"#".repeat(MAX_FILE_BYTES - text.len()));
    assert_eq!(text.len(), MAX_FILE_BYTES);
    fs::write(&path, &text).unwrap();
    preset::load_file(&path).unwrap();
}

#[test]
fn non_utf8_file_is_located() {
    let dir = tempdir();
    let path = dir.path().join("latin1.toml");
    let mut bytes = b"title = \"G".to_vec();
    bytes.push(0xE9); // 'é' in Latin-1
    bytes.extend_from_slice(b"n\"\n");
    fs::write(&path, &bytes).unwrap();
    let err = preset::load_file(&path).unwrap_err();
    assert_eq!(err.kind(), Some(ErrorKind::Encoding));
    assert_eq!(err.location(), Some((1, 11)));
    assert!(err.to_string().contains("'\\xE9'"), "{err}");
}

#[test]
fn io_errors_name_the_path() {
    let path = manifest_path("tests/valid_presets/does-not-exist.toml");
    let err = preset::load_file(&path).unwrap_err();
    assert!(matches!(err, PresetError::Io { .. }));
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert_eq!(err.exit_code(), 1);
}

// ---------------------------------------------------------------------------------------
// Lookup, catalog, user directory

#[test]
fn find_unknown_name_quotes_it_and_lists_every_known_name() {
    let empty = tempdir();
    let err = preset::find_in("nuit-blanche", Some(empty.path())).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("'nuit-blanche'"), "{shown}");
    for name in REQUIRED {
        assert!(shown.contains(name), "{shown} should list {name}");
    }
    assert_eq!(err.exit_code(), 2);
    match err {
        PresetError::UnknownPreset { known, .. } => assert_eq!(known, REQUIRED),
        other => panic!("{other:?}"),
    }
}

#[test]
fn find_by_name_and_by_path() {
    let p = preset::find_in("generique", None).unwrap();
    assert_eq!(p.title, "Générique");
    let path = manifest_path("tests/valid_presets/minimal.toml");
    let p = preset::find_in(path.to_str().unwrap(), None).unwrap();
    assert_eq!(p.name, "minimal");
    // A bare file name ending in .toml is a path too, not a preset name.
    let err = preset::find_in("generique.toml", None).unwrap_err();
    assert!(matches!(err, PresetError::Io { .. }), "{err}");
}

fn write_user_dir(dir: &Path) {
    let generique = preset::builtin()[0].1.replace("tempo = 66", "tempo = 72");
    fs::write(dir.join("generique.toml"), generique).unwrap();
    fs::copy(
        manifest_path("tests/valid_presets/minimal.toml"),
        dir.join("my-vamp.toml"),
    )
    .unwrap();
    fs::write(dir.join("broken.toml"), "title = \"Broken\"\ntempo = 900\n").unwrap();
    fs::write(dir.join("notes.txt"), "not a preset").unwrap();
}

#[test]
fn catalog_in_user_dir_overrides_adds_and_reports() {
    let dir = tempdir();
    write_user_dir(dir.path());
    let entries = preset::catalog_in(Some(dir.path()));
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let mut expected: Vec<&str> = REQUIRED.to_vec();
    expected.extend(["broken", "my-vamp"]);
    assert_eq!(names, expected);

    let by_name = |n: &str| -> &CatalogEntry { entries.iter().find(|e| e.name == n).unwrap() };
    let generique = by_name("generique");
    assert!(generique.is_user() && generique.overrides_builtin);
    assert_eq!(
        generique.source,
        PresetSource::User(dir.path().join("generique.toml"))
    );
    assert_eq!(generique.preset.as_ref().unwrap().tempo, 72.0);

    let florence = by_name("florence-sur-les-champs-elysees");
    assert_eq!(florence.source, PresetSource::Builtin);
    assert!(florence.preset.is_ok());

    assert!(by_name("my-vamp").is_user());
    assert!(!by_name("my-vamp").overrides_builtin);

    let broken = by_name("broken").preset.as_ref().unwrap_err();
    assert!(broken.to_string().contains("broken.toml:"), "{broken}");

    // find_in sees the same catalog.
    assert_eq!(
        preset::find_in("generique", Some(dir.path()))
            .unwrap()
            .tempo,
        72.0
    );
    assert_eq!(
        preset::find_in("my-vamp", Some(dir.path())).unwrap().name,
        "my-vamp"
    );
    assert!(preset::find_in("broken", Some(dir.path())).is_err());
    // Without the user directory: the built-ins only.
    let builtins = preset::catalog_in(None);
    assert_eq!(builtins.len(), 10);
    assert!(builtins.iter().all(|e| e.preset.is_ok() && !e.is_user()));
    // A missing user directory is not an error.
    let missing = dir.path().join("nope");
    assert_eq!(preset::catalog_in(Some(&missing)).len(), 10);
}

#[test]
fn user_preset_dir_follows_the_environment() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| OsString::from(v))
        }
    };
    assert_eq!(
        preset::user_preset_dir_from(env(&[
            ("ASCENSEUR_PRESET_DIR", "/p"),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
        ])),
        Some(PathBuf::from("/p"))
    );
    assert_eq!(
        preset::user_preset_dir_from(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])),
        Some(PathBuf::from("/x/ascenseur/presets"))
    );
    assert_eq!(
        preset::user_preset_dir_from(env(&[
            ("ASCENSEUR_PRESET_DIR", ""),
            ("XDG_CONFIG_HOME", "relative"),
            ("HOME", "/h"),
        ])),
        Some(PathBuf::from("/h/.config/ascenseur/presets"))
    );
    assert_eq!(preset::user_preset_dir_from(env(&[])), None);
}

/// Runs `user_dir_env_child` in a child process of this test binary, so that setting
/// environment variables cannot race with the other tests' threads.
fn run_child(envs: &[(&str, &Path)], remove: &[&str]) {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "user_dir_env_child",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("ASCENSEUR_TEST_CHILD", "1");
    for k in remove {
        cmd.env_remove(k);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn user_dir_env_override() {
    let dir = tempdir();
    write_user_dir(dir.path());
    run_child(
        &[
            ("ASCENSEUR_PRESET_DIR", dir.path()),
            ("ASCENSEUR_TEST_EXPECT_DIR", dir.path()),
        ],
        &[],
    );
    // XDG_CONFIG_HOME when ASCENSEUR_PRESET_DIR is unset.
    let config = tempdir();
    let presets = config.path().join("ascenseur").join("presets");
    fs::create_dir_all(&presets).unwrap();
    write_user_dir(&presets);
    run_child(
        &[
            ("XDG_CONFIG_HOME", config.path()),
            ("ASCENSEUR_TEST_EXPECT_DIR", &presets),
        ],
        &["ASCENSEUR_PRESET_DIR"],
    );
}

/// The child half of `user_dir_env_override`, which runs it in a process of its own with
/// the environment to check; on its own it has nothing to check.
#[test]
#[ignore = "run by user_dir_env_override in a child process"]
fn user_dir_env_child() {
    if std::env::var_os("ASCENSEUR_TEST_CHILD").is_none() {
        use std::io::Write;
        // Past the harness's capture, as the tests skipped for a missing tool do.
        let line = "SKIPPED user_dir_env_child: run by user_dir_env_override in a child process\n";
        let _ = std::io::stderr().write_all(line.as_bytes());
        return;
    }
    let expected = PathBuf::from(std::env::var_os("ASCENSEUR_TEST_EXPECT_DIR").unwrap());
    assert_eq!(preset::user_preset_dir(), Some(expected));
    let entries = preset::catalog();
    let generique = entries.iter().find(|e| e.name == "generique").unwrap();
    assert!(generique.is_user() && generique.overrides_builtin);
    assert_eq!(preset::find("generique").unwrap().tempo, 72.0);
    assert_eq!(preset::find("my-vamp").unwrap().name, "my-vamp");
    let err = preset::find("nope").unwrap_err().to_string();
    assert!(
        err.contains("my-vamp") && err.contains("generique"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// Small types

#[test]
fn slug_enums_round_trip() {
    for v in LeadInstrument::ALL {
        assert_eq!(LeadInstrument::parse(v.slug()), Ok(*v));
        assert!(!v.name().is_empty());
    }
    assert_eq!(LeadInstrument::ALL.len(), 4);
    for v in Feel::ALL {
        assert_eq!(v.slug().parse::<Feel>(), Ok(*v));
    }
    assert_eq!(Feel::ALL.len(), 5);
    for v in DrumKit::ALL {
        assert_eq!(DrumKit::parse(v.slug()), Ok(*v));
    }
    let err = LeadInstrument::parse("kazoo").unwrap_err().to_string();
    assert!(
        err.contains("'kazoo'") && err.contains("tenor-sax"),
        "{err}"
    );
    assert_eq!(Meter::parse("3/4").unwrap().beats_per_bar, 3);
    assert_eq!(Meter::parse("4/4").unwrap().to_string(), "4/4");
    for bad in ["1/4", "8/4", "6/8", "4", "x/4", ""] {
        assert!(Meter::parse(bad).is_err(), "{bad}");
    }
}
