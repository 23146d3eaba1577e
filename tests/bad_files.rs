//! Generated corpora of damaged and hostile files, each given to the command a user would
//! give it to: Standard MIDI Files to `render --input`, preset files to `check`. Every
//! one is refused with exit code 2 and a message naming the file and what is wrong, in a
//! separate process (so that a stack overflow or an abort would show as what it is),
//! under a generous time limit (so that a hang fails rather than stalls the suite); a
//! refused render leaves its output file as it was.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Far more than any check needs (milliseconds): only a hang reaches it.
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// Run `ascenseur` with `args`, killed after [`TIME_LIMIT`]; its output and how long it
/// took.
fn run(args: &[&std::ffi::OsStr]) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ascenseur"))
        .args(args)
        .env("ASCENSEUR_PRESET_DIR", "/nonexistent")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ascenseur");
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ascenseur {args:?} still running after {TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let took = started.elapsed();
    (child.wait_with_output().expect("output"), took)
}

// ---------------------------------------------------------------------------------------
// Standard MIDI Files

/// A variable-length quantity, as SMF writes delta times and lengths.
fn varlen(mut value: u32) -> Vec<u8> {
    let mut bytes = vec![(value & 0x7F) as u8];
    value >>= 7;
    while value > 0 {
        bytes.insert(0, 0x80 | (value & 0x7F) as u8);
        value >>= 7;
    }
    bytes
}

/// A chunk: its four-letter name, its length, its data.
fn chunk(name: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut bytes = name.to_vec();
    bytes.extend_from_slice(&(data.len() as u32).to_be_bytes());
    bytes.extend_from_slice(data);
    bytes
}

fn header(format: u16, tracks: u16, division: u16) -> Vec<u8> {
    let mut data = format.to_be_bytes().to_vec();
    data.extend_from_slice(&tracks.to_be_bytes());
    data.extend_from_slice(&division.to_be_bytes());
    chunk(b"MThd", &data)
}

/// A track's events: two notes a beat each, the second by running status, then the End
/// of Track.
fn phrase_track() -> Vec<u8> {
    vec![
        0x00, 0x90, 62, 100, 0x83, 0x60, 62, 0, 0x00, 65, 90, 0x83, 0x60, 0x80, 65, 0, 0x00, 0xFF,
        0x2F, 0x00,
    ]
}

/// A tempo track: 100 BPM, then the End of Track.
fn tempo_track() -> Vec<u8> {
    vec![
        0x00, 0xFF, 0x51, 0x03, 0x09, 0x27, 0xC0, 0x00, 0xFF, 0x2F, 0x00,
    ]
}

/// A good format 1 file: a tempo track and a phrase.
fn good_file() -> Vec<u8> {
    let mut bytes = header(1, 2, 480);
    bytes.extend(chunk(b"MTrk", &tempo_track()));
    bytes.extend(chunk(b"MTrk", &phrase_track()));
    bytes
}

/// One damaged file: its name, its bytes, and a phrase its error must contain (what is
/// wrong, in words).
struct Damaged {
    name: String,
    bytes: Vec<u8>,
    says: &'static str,
}

fn damaged(name: impl Into<String>, bytes: Vec<u8>, says: &'static str) -> Damaged {
    Damaged {
        name: name.into(),
        bytes,
        says,
    }
}

/// The corpus: every truncation of a good file, garbage, oversized chunks, empty tracks,
/// huge delta times, format 2, and the other things a file can get wrong.
fn midi_corpus() -> Vec<Damaged> {
    use rand::{Rng, SeedableRng};
    let mut corpus = Vec::new();
    let good = good_file();
    // Cut short at every byte: inside the header, between chunks, inside an event.
    for len in 0..good.len() {
        let says = match len {
            0 => "the file is empty",
            1..4 => "does not begin with the MThd header",
            _ => "the file is cut short",
        };
        corpus.push(damaged(
            format!("truncated-{len}"),
            good[..len].to_vec(),
            says,
        ));
    }
    // Garbage: random bytes, text, another format's header, a header with nothing after.
    let mut rng = rand_pcg::Pcg32::seed_from_u64(0x5EED_F11E);
    for n in 0..12 {
        let len = rng.random_range(1..2000);
        let bytes = (0..len).map(|_| rng.random::<u8>()).collect();
        corpus.push(damaged(
            format!("garbage-{n}"),
            bytes,
            "not a Standard MIDI File",
        ));
    }
    corpus.push(damaged(
        "text",
        b"X:1\nT:not a midi file\nK:D\n".to_vec(),
        "not a Standard MIDI File",
    ));
    corpus.push(damaged(
        "riff",
        b"RIFF\x24\0\0\0WAVEfmt ".to_vec(),
        "not a Standard MIDI File",
    ));
    corpus.push(damaged(
        "mthd-only",
        b"MThd".to_vec(),
        "not a Standard MIDI File",
    ));
    // Random bytes after a good header: every track is damaged.
    for n in 0..6 {
        let mut bytes = header(0, 1, 96);
        let data: Vec<u8> = (0..rng.random_range(1..300))
            .map(|_| rng.random())
            .collect();
        bytes.extend(chunk(b"MTrk", &data));
        // Some random data happens to read as events: end it inside a running message.
        bytes.extend([0x90, 60]);
        let len = (bytes.len() - 14 - 8) as u32;
        bytes[18..22].copy_from_slice(&len.to_be_bytes());
        corpus.push(damaged(format!("garbage-track-{n}"), bytes, "midi"));
    }
    // Oversized: chunks longer than the file, a header longer than the file, more tracks
    // declared than there are.
    let mut long_track = header(0, 1, 480);
    long_track.extend(b"MTrk\xFF\xFF\xFF\xF0");
    long_track.extend(phrase_track());
    corpus.push(damaged(
        "oversized-track-length",
        long_track,
        "says it holds 4294967280 bytes",
    ));
    let mut long_header = b"MThd\xFF\xFF\xFF\xF0\0\x01\0\x01\x01\xE0".to_vec();
    long_header.extend(chunk(b"MTrk", &phrase_track()));
    corpus.push(damaged(
        "oversized-header-length",
        long_header,
        "cut short or damaged",
    ));
    let mut more_tracks = header(1, 60_000, 480);
    more_tracks.extend(chunk(b"MTrk", &phrase_track()));
    corpus.push(damaged(
        "more-tracks-declared",
        more_tracks,
        "declares 60000 tracks, but it holds 1",
    ));
    let mut format_0_many = header(0, 2, 480);
    format_0_many.extend(chunk(b"MTrk", &phrase_track()));
    format_0_many.extend(chunk(b"MTrk", &phrase_track()));
    corpus.push(damaged(
        "format-0-with-two-tracks",
        format_0_many,
        "singletrack format file has multiple tracks",
    ));
    // A delta time of more than 4 bytes, and one cut short.
    let mut long_varlen = header(0, 1, 480);
    long_varlen.extend(chunk(
        b"MTrk",
        &[
            0x81, 0x81, 0x81, 0x81, 0x01, 0x90, 60, 100, 0x00, 0xFF, 0x2F, 0x00,
        ],
    ));
    corpus.push(damaged(
        "five-byte-delta",
        long_varlen,
        "track 1: the event at byte 0 of the track does not read",
    ));
    // Zero-length tracks: the only one, and one among good ones.
    let mut empty_only = header(0, 1, 480);
    empty_only.extend(chunk(b"MTrk", &[]));
    corpus.push(damaged("zero-length-track", empty_only, "track 1 is empty"));
    let mut empty_second = header(1, 3, 480);
    empty_second.extend(chunk(b"MTrk", &tempo_track()));
    empty_second.extend(chunk(b"MTrk", &[]));
    empty_second.extend(chunk(b"MTrk", &phrase_track()));
    corpus.push(damaged(
        "zero-length-second-track",
        empty_second,
        "track 2 is empty",
    ));
    // Huge delta times: the largest there is, a note a few of them later, a slow tempo
    // with one tick per beat.
    for (name, division, tempo, deltas) in [
        ("huge-delta", 480u16, 500_000u32, 1usize),
        ("huge-deltas-repeated", 480, 500_000, 40),
        ("huge-delta-slow-tempo", 1, 0xFF_FFFF, 1),
    ] {
        let mut track = vec![0x00, 0xFF, 0x51, 0x03];
        track.extend(&tempo.to_be_bytes()[1..]);
        for _ in 0..deltas {
            track.extend(varlen(0x0FFF_FFFF));
            track.extend([0x90, 60, 100]);
        }
        track.extend([0x00, 0xFF, 0x2F, 0x00]);
        let mut bytes = header(0, 1, division);
        bytes.extend(chunk(b"MTrk", &track));
        corpus.push(damaged(name, bytes, "a phrase is at most 3600 s long"));
    }
    // Format 2, a division of 0, SMPTE timing.
    let mut format_2 = header(2, 2, 480);
    format_2.extend(chunk(b"MTrk", &phrase_track()));
    format_2.extend(chunk(b"MTrk", &phrase_track()));
    corpus.push(damaged("format-2", format_2, "format 2"));
    let mut zero_division = header(0, 1, 0);
    zero_division.extend(chunk(b"MTrk", &phrase_track()));
    corpus.push(damaged("zero-division", zero_division, "0 ticks per beat"));
    let mut smpte = header(0, 1, 0xE728);
    smpte.extend(chunk(b"MTrk", &phrase_track()));
    corpus.push(damaged("smpte", smpte, "SMPTE"));
    // A data byte where an event must begin a track (no running status yet).
    let mut no_status = header(0, 1, 480);
    no_status.extend(chunk(b"MTrk", &[0x00, 60, 100, 0x00, 0xFF, 0x2F, 0x00]));
    corpus.push(damaged(
        "running-status-without-status",
        no_status,
        "track 1: the event at byte 0",
    ));
    corpus
}

#[test]
fn a_good_file_of_the_corpus_plays() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("good.mid");
    std::fs::write(&input, good_file()).unwrap();
    let out = dir.path().join("out.wav");
    let (output, _) = run(&[
        "render".as_ref(),
        "generique".as_ref(),
        "--bars".as_ref(),
        "1".as_ref(),
        "--input".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.exists());
}

/// Each damaged file as `render --input`: exit code 2, the file and what is wrong named,
/// the output neither created nor touched.
#[test]
fn every_damaged_midi_file_is_refused_naming_it_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("kept.wav");
    let absent = dir.path().join("absent.wav");
    std::fs::write(&kept, b"an earlier render").unwrap();
    let kept_modified = std::fs::metadata(&kept).unwrap().modified().unwrap();
    let corpus = midi_corpus();
    let mut failures = Vec::new();
    let mut slowest = Duration::ZERO;
    for (n, file) in corpus.iter().enumerate() {
        let input = dir.path().join(format!("{}.mid", file.name));
        std::fs::write(&input, &file.bytes).unwrap();
        // Half of them over a file already there, half where there is none.
        let out = if n % 2 == 0 { &kept } else { &absent };
        let (output, took) = run(&[
            "render".as_ref(),
            "generique".as_ref(),
            "--input".as_ref(),
            input.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ]);
        slowest = slowest.max(took);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let named = format!(
            "error: invalid value '{}' for '--input <INPUT>': ",
            input.display()
        );
        let quoted = format!("'{}'", input.display());
        let message = stderr.strip_prefix(&named).unwrap_or_default();
        if output.status.code() != Some(2)
            || !message.contains(&quoted)
            || !message.contains(file.says)
        {
            failures.push(format!(
                "{}: exit {:?}, expected 2 with {named:?}, naming the file and saying {:?}; got:\n{stderr}",
                file.name,
                output.status.code(),
                file.says
            ));
        }
    }
    assert!(!absent.exists(), "a refused render created its output");
    assert_eq!(std::fs::read(&kept).unwrap(), b"an earlier render");
    assert_eq!(
        std::fs::metadata(&kept).unwrap().modified().unwrap(),
        kept_modified
    );
    eprintln!(
        "{} damaged MIDI files refused; the slowest took {:.0} ms",
        corpus.len(),
        slowest.as_secs_f64() * 1e3
    );
    assert!(
        failures.is_empty(),
        "{} of {}:\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n")
    );
}

/// A file larger than any phrase is refused by its size, before it is read.
#[test]
fn an_oversized_midi_file_is_refused_by_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("huge.mid");
    let file = std::fs::File::create(&input).unwrap();
    // Sparse: the size without the disk.
    file.set_len(ascenseur::render::midi_file::MAX_FILE_BYTES + 1)
        .unwrap();
    drop(file);
    let out = dir.path().join("out.wav");
    let (output, _) = run(&[
        "render".as_ref(),
        "generique".as_ref(),
        "--input".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "'{}' is {} bytes",
            input.display(),
            ascenseur::render::midi_file::MAX_FILE_BYTES + 1
        )),
        "{stderr}"
    );
    assert!(!out.exists());
}

// ---------------------------------------------------------------------------------------
// Preset files

/// One hostile preset: its name, its bytes, and the line its error must be on (`None`
/// where any line will do, e.g. a file refused as a whole).
struct Hostile {
    name: String,
    bytes: Vec<u8>,
    line: Option<usize>,
}

fn hostile(name: impl Into<String>, bytes: impl Into<Vec<u8>>, line: Option<usize>) -> Hostile {
    Hostile {
        name: name.into(),
        bytes: bytes.into(),
        line,
    }
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/valid_presets")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A scalar value in a preset's text: its line (from 0), where it is in the line, and
/// whether it is a string.
struct Scalar {
    line: usize,
    span: std::ops::Range<usize>,
    key: String,
    is_string: bool,
}

/// Every `key = "text"` and `key = number` in `text`, top level or inside inline tables.
fn scalars(text: &str) -> Vec<Scalar> {
    let mut found = Vec::new();
    for (line_index, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let mut from = 0;
        while let Some(at) = line[from..].find(" = ") {
            let key_end = from + at;
            let key_start = line[..key_end]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                .map_or(0, |i| i + 1);
            let start = key_end + 3;
            let rest = &line[start..];
            let (len, is_string) = if let Some(inner) = rest.strip_prefix('"') {
                (inner.find('"').expect("closed string") + 2, true)
            } else {
                let len = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || "+-._".contains(c)))
                    .unwrap_or(rest.len());
                (len, false)
            };
            if len > 0 {
                found.push(Scalar {
                    line: line_index,
                    span: start..start + len,
                    key: line[key_start..key_end].to_string(),
                    is_string,
                });
            }
            from = start + len.max(1);
        }
    }
    found
}

/// Values of every other TOML type, for a string field and for a numeric one.
const NOT_A_STRING: &[&str] = &[
    "42",
    "4.5",
    "-inf",
    "true",
    "[]",
    "[\"x\"]",
    "{}",
    "{ a = 1 }",
    "1979-05-27T07:32:00Z",
    "07:32:00",
];
const NOT_A_NUMBER: &[&str] = &[
    "\"120\"",
    "\"\"",
    "true",
    "[]",
    "[1.5]",
    "{}",
    "{ n = 1 }",
    "1979-05-27",
    "07:32:00",
];
/// Numbers no field accepts: beyond every range, beyond the types, not numbers at all.
const EXTREME_NUMBERS: &[&str] = &[
    "1e308",
    "-1e308",
    "1e999",
    "inf",
    "-inf",
    "nan",
    "-nan",
    "9999",
    "-9999",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
    "0x7FFFFFFFFFFFFFFF",
];

/// Nested `depth` deep: arrays, inline tables, dotted keys or table headers.
fn nested(kind: &str, depth: usize) -> String {
    match kind {
        "arrays" => format!("{}1{}", "[".repeat(depth), "]".repeat(depth)),
        "tables" => format!("{}1{}", "{ a = ".repeat(depth), " }".repeat(depth)),
        "mixed" => format!("{}1{}", "[{ a = ".repeat(depth), " }]".repeat(depth)),
        _ => unreachable!(),
    }
}

/// The corpus: each field of a preset given each wrong type and each extreme number;
/// sections, changes and tables of the wrong shape; ten thousand sections; nesting
/// thousands deep; invalid UTF-8 wherever it may fall.
fn preset_corpus() -> Vec<Hostile> {
    let mut corpus = Vec::new();
    for fixture_name in ["waltz-ostinato.toml", "minimal.toml"] {
        let text = fixture(fixture_name);
        let lines: Vec<&str> = text.lines().collect();
        for scalar in scalars(&text) {
            let mut replacements: Vec<&str> = if scalar.is_string {
                NOT_A_STRING.to_vec()
            } else {
                NOT_A_NUMBER
                    .iter()
                    .chain(EXTREME_NUMBERS)
                    .copied()
                    .collect()
            };
            // A repeat, a bar count, a density and an interval of 0 or less than 0 are
            // out of range too; -0 is 0.
            replacements.retain(|r| *r != "-0");
            for (n, replacement) in replacements.iter().enumerate() {
                let mut changed: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                changed[scalar.line].replace_range(scalar.span.clone(), replacement);
                corpus.push(hostile(
                    format!("{fixture_name}-{}-{}-{n}", scalar.line + 1, scalar.key),
                    changed.join("\n") + "\n",
                    Some(scalar.line + 1),
                ));
            }
        }
    }
    // Tables and lists of the wrong shape, in the minimal preset.
    let minimal = fixture("minimal.toml");
    let changes_line = minimal
        .lines()
        .position(|l| l.starts_with("changes = "))
        .unwrap();
    for (name, from, to) in [
        (
            "changes-string",
            "changes = [{ chord = \"Dm7\", bars = 4 }, { chord = \"C7\", bars = 4 }]",
            "changes = \"Dm7 C7\"",
        ),
        (
            "changes-number",
            "changes = [{ chord = \"Dm7\", bars = 4 }, { chord = \"C7\", bars = 4 }]",
            "changes = 8",
        ),
        (
            "changes-of-numbers",
            "changes = [{ chord = \"Dm7\", bars = 4 }, { chord = \"C7\", bars = 4 }]",
            "changes = [1, 2]",
        ),
        (
            "changes-of-lists",
            "changes = [{ chord = \"Dm7\", bars = 4 }, { chord = \"C7\", bars = 4 }]",
            "changes = [[\"Dm7\", 4]]",
        ),
        (
            "changes-table",
            "changes = [{ chord = \"Dm7\", bars = 4 }, { chord = \"C7\", bars = 4 }]",
            "changes = { chord = \"Dm7\", bars = 4 }",
        ),
        (
            "changes-empty-tables",
            "changes = [{ chord = \"Dm7\", bars = 4 }, { chord = \"C7\", bars = 4 }]",
            "changes = [{}, {}]",
        ),
    ] {
        corpus.push(hostile(
            name,
            minimal.replace(from, to),
            Some(changes_line + 1),
        ));
    }
    for (name, from, to) in [
        (
            "sections-number",
            "[[sections]]\nname = \"A\"\nchanges = [{ chord = \"Dm7\", bars = 4 }, { chord = \"C7\", bars = 4 }]",
            "sections = 3",
        ),
        ("sections-table", "[[sections]]", "[sections]"),
        (
            "sections-strings",
            "[[sections]]\nname = \"A\"\nchanges = [{ chord = \"Dm7\", bars = 4 }, { chord = \"C7\", bars = 4 }]",
            "sections = [\"A\", \"B\"]",
        ),
        (
            "bass-string",
            "[bass]\nstyle = \"walking\"",
            "bass = \"walking\"",
        ),
        (
            "drums-list",
            "[drums]\nkit = \"brushes\"",
            "drums = [\"brushes\"]",
        ),
        ("piano-array-of-tables", "[piano]", "[[piano]]"),
        (
            "bass-twice",
            "[bass]\nstyle = \"walking\"",
            "[bass]\nstyle = \"walking\"\n[bass]\nstyle = \"pedal\"",
        ),
        (
            "title-twice",
            "title = \"Minimal\"",
            "title = \"Minimal\"\ntitle = \"Maximal\"",
        ),
    ] {
        assert!(minimal.contains(from), "{name}");
        corpus.push(hostile(name, minimal.replace(from, to), None));
    }
    // Many sections, changes and keys: ten thousand sections (past the file size), the
    // most that fit, thousands of changes, a form too long, thousands of unknown keys.
    let head = "title = \"Many\"\ntempo = 100\nfeel = \"medium-swing\"\nkey = \"D minor\"\n[bass]\nstyle = \"walking\"\n[drums]\nkit = \"brushes\"\n[piano]\nvoicing = \"rootless\"\n";
    for count in [10_000, 1_200] {
        let mut text = head.to_string();
        for _ in 0..count {
            text.push_str("[[sections]]\nname=\"A\"\nchanges=[{chord=\"C\",bars=1}]\n");
        }
        corpus.push(hostile(format!("{count}-sections"), text, None));
    }
    let mut text = head.to_string() + "[[sections]]\nname = \"A\"\nchanges = [";
    text.push_str(&"{chord=\"C\",bars=1},".repeat(3_000));
    text.push_str("]\n");
    corpus.push(hostile("3000-changes", text, None));
    let mut text = head.to_string();
    for _ in 0..32 {
        text.push_str("[[sections]]\nname = \"A\"\nrepeat = 64\nchanges = [");
        text.push_str(&"{chord=\"C\",bars=64},".repeat(64));
        text.push_str("]\n");
    }
    corpus.push(hostile("form-of-millions-of-bars", text, None));
    let mut text = minimal.clone();
    for n in 0..5_000 {
        text.push_str(&format!("x{n} = {n}\n"));
    }
    corpus.push(hostile("5000-unknown-keys", text, None));
    // Nesting, as a value where a string belongs and as a key nobody asked for, a few to
    // tens of thousands deep (as deep as the file size lets it go).
    let title_line = minimal
        .lines()
        .position(|l| l.starts_with("title = "))
        .unwrap();
    for kind in ["arrays", "tables", "mixed"] {
        for depth in [100, 1_000, 5_000, 10_000, 30_000] {
            let value = nested(kind, depth);
            if value.len() + minimal.len() > 64 * 1024 {
                continue;
            }
            let as_title = minimal.replace("title = \"Minimal\"", &format!("title = {value}"));
            corpus.push(hostile(
                format!("title-{kind}-{depth}-deep"),
                as_title,
                Some(title_line + 1),
            ));
            let as_extra = format!("{minimal}extra = {value}\n");
            corpus.push(hostile(
                format!("extra-{kind}-{depth}-deep"),
                as_extra,
                None,
            ));
        }
    }
    for depth in [1_000, 10_000, 30_000] {
        let dotted = vec!["a"; depth].join(".");
        corpus.push(hostile(
            format!("dotted-key-{depth}-deep"),
            format!("{dotted} = 1\n{minimal}"),
            None,
        ));
        corpus.push(hostile(
            format!("table-header-{depth}-deep"),
            format!("{minimal}[{dotted}]\nb = 1\n"),
            None,
        ));
        corpus.push(hostile(
            format!("array-of-tables-{depth}-deep"),
            format!("{minimal}[[{dotted}]]\n"),
            None,
        ));
        corpus.push(hostile(
            format!("unclosed-{depth}-deep"),
            format!("{minimal}x = {}\n", "[".repeat(depth)),
            None,
        ));
    }
    // Invalid UTF-8: a lone continuation byte, a byte that never begins a character, an
    // overlong encoding, a surrogate, a character cut short; at the start, in a key, in a
    // string, in a comment, after a byte-order mark, at the very end.
    let bad_bytes: &[&[u8]] = &[
        b"\x80",
        b"\xFF",
        b"\xC0\xAF",
        b"\xED\xA0\x80",
        b"\xE2\x99",
        b"\xF4\x90\x80\x80",
    ];
    let waltz = fixture("waltz-ostinato.toml");
    for (n, bad) in bad_bytes.iter().enumerate() {
        let title_at = waltz.find("Valse").unwrap();
        let comment_at = waltz.find("ostinato over").unwrap();
        let key_at = waltz.find("tempo =").unwrap();
        for (place, at) in [
            ("start", 0),
            ("title", title_at),
            ("comment", comment_at),
            ("key", key_at + 2),
            ("end", waltz.len()),
        ] {
            let mut bytes = waltz.as_bytes().to_vec();
            bytes.splice(at..at, bad.iter().copied());
            let line = waltz[..at].matches('\n').count() + 1;
            corpus.push(hostile(format!("utf8-{n}-{place}"), bytes, Some(line)));
        }
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(bad);
        bom.extend_from_slice(waltz.as_bytes());
        corpus.push(hostile(format!("utf8-{n}-after-bom"), bom, Some(1)));
    }
    corpus.push(hostile(
        "utf16",
        "title = \"x\"\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>(),
        Some(1),
    ));
    corpus.push(hostile("nul-bytes", vec![0u8; 1000], Some(1)));
    corpus
}

/// Each hostile preset through `ascenseur check`: exit code 2, `FILE:LINE:COL: ` first,
/// on the line where the bad value is when there is one; never a panic, an abort or a
/// hang.
#[test]
fn every_hostile_preset_is_refused_at_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = preset_corpus();
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    for file in &corpus {
        let path = dir.path().join(format!("{}.toml", file.name));
        std::fs::write(&path, &file.bytes).unwrap();
        let (output, took) = run(&["check".as_ref(), path.as_os_str()]);
        if took > slowest.0 {
            slowest = (took, file.name.clone());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let prefix = format!("error: {}:", path.display());
        let located = stderr.strip_prefix(&prefix).and_then(|rest| {
            let mut parts = rest.splitn(3, ':');
            let line: usize = parts.next()?.parse().ok()?;
            let column: usize = parts.next()?.parse().ok()?;
            let message = parts.next()?;
            (line >= 1 && column >= 1 && message.starts_with(' ') && message.trim().len() > 5)
                .then_some(line)
        });
        let ok = output.status.code() == Some(2)
            && !stderr.contains("panicked")
            && match (located, file.line) {
                (Some(line), Some(expected)) => line == expected,
                (Some(_), None) => true,
                (None, _) => false,
            };
        if !ok {
            failures.push(format!(
                "{}: exit {:?} ({:?}), expected 2 and {prefix}LINE:COL: (line {:?}); got:\n{}",
                file.name,
                output.status.code(),
                output.status,
                file.line,
                stderr.chars().take(400).collect::<String>()
            ));
        }
    }
    eprintln!(
        "{} hostile presets refused; the slowest, {}, took {:.0} ms",
        corpus.len(),
        slowest.1,
        slowest.0.as_secs_f64() * 1e3
    );
    assert!(
        failures.is_empty(),
        "{} of {}:\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n")
    );
}
