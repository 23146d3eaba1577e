//! Moving a key by semitones and naming where it lands: the console's transposition
//! keys and `--key` both go through here, so E♭ minor is never written D♯ minor.

use super::{Key, Letter, SpelledPitch};

/// The preferred name of a key a number of semitones from `key`: the spelling with the
/// fewer accidentals (E♭ minor, not D♯ minor; F♯ major over G♭ on the tie).
pub fn transposed_key(key: Key, semitones: i32) -> Key {
    const MINOR: [(Letter, i8); 12] = [
        (Letter::C, 0),
        (Letter::C, 1),
        (Letter::D, 0),
        (Letter::E, -1),
        (Letter::E, 0),
        (Letter::F, 0),
        (Letter::F, 1),
        (Letter::G, 0),
        (Letter::G, 1),
        (Letter::A, 0),
        (Letter::B, -1),
        (Letter::B, 0),
    ];
    const MAJOR: [(Letter, i8); 12] = [
        (Letter::C, 0),
        (Letter::D, -1),
        (Letter::D, 0),
        (Letter::E, -1),
        (Letter::E, 0),
        (Letter::F, 0),
        (Letter::F, 1),
        (Letter::G, 0),
        (Letter::A, -1),
        (Letter::A, 0),
        (Letter::B, -1),
        (Letter::B, 0),
    ];
    let pc = key.tonic.pitch_class().transpose(semitones);
    let (letter, accidental) = if key.minor { MINOR } else { MAJOR }[pc.semitones() as usize];
    Key::new(SpelledPitch::new(letter, accidental), key.minor)
}

/// Semitones from `from`'s tonic up to `to`'s, in -5 … 6.
pub fn semitones_between(from: Key, to: Key) -> i32 {
    let up = i32::from(from.tonic.pitch_class().up_to(to.tonic.pitch_class()));
    if up > 6 { up - 12 } else { up }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Key {
        Key::parse(text).unwrap()
    }

    #[test]
    fn transposed_keys_are_spelled_with_the_fewer_accidentals() {
        let d_minor = key("D minor");
        let names: Vec<String> = (-5..=6)
            .map(|s| transposed_key(d_minor, s).to_string())
            .collect();
        assert_eq!(
            names,
            [
                "A minor",
                "B♭ minor",
                "B minor",
                "C minor",
                "C♯ minor",
                "D minor",
                "E♭ minor",
                "E minor",
                "F minor",
                "F♯ minor",
                "G minor",
                "G♯ minor"
            ]
        );
        assert_eq!(transposed_key(key("C major"), 1).to_string(), "D♭ major");
        assert_eq!(semitones_between(d_minor, key("Eb minor")), 1);
        assert_eq!(semitones_between(d_minor, key("C minor")), -2);
    }
}
