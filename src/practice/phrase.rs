//! Phrases: the notes between two rests, and what a teacher would say about the last one.

use super::{bar_and_beat, classify, is_strong_beat, slot_for};
use crate::band::Arrangement;
use crate::engine::NoteOnset;
use crate::theory::{ChordSymbol, NoteRole, SpelledPitch};

/// A rest of at least this many beats ends a phrase: at a ballad tempo about a second,
/// at a bebop tempo a fifth of one, so a quaver rest inside a line does not cut it.
pub const REST_BEATS: f64 = 1.0;

/// Notes a phrase keeps for display; a longer one is still judged on every note.
pub const MAX_PHRASE_NOTES: usize = 64;

/// One note of a phrase, judged against the chord it was heard over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhraseNote {
    pub key: u8,
    pub name: SpelledPitch,
    pub role: NoteRole,
    pub chord: ChordSymbol,
    /// Bar (0-based, not wrapped) and nearest beat (0-based) it was heard on.
    pub bar: u64,
    pub beat: u32,
    /// Whether it was on (close to) that beat rather than between beats.
    pub on_beat: bool,
    /// Whether that beat is a strong one (1 or 3 in 4/4).
    pub strong_beat: bool,
}

/// Where a phrase ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Landing {
    pub note: PhraseNote,
    /// A chord tone on a strong beat (1 or 3 in 4/4).
    pub strong: bool,
}

/// A finished phrase.
#[derive(Clone, Debug, PartialEq)]
pub struct Phrase {
    /// The first [`MAX_PHRASE_NOTES`] notes.
    pub notes: Vec<PhraseNote>,
    /// Notes played, including those past [`MAX_PHRASE_NOTES`].
    pub note_count: usize,
    /// Notes inside the mode (or the chord), 0 … 1.
    pub inside: f32,
    pub landing: Landing,
    /// Silence before the phrase, in beats, or `None` for the first phrase.
    pub space_before_beats: Option<f64>,
    /// Engine frames of its first note-on and of the silence that ended it: its notes in
    /// the engine's journal are those that started between them.
    pub start_frame: u64,
    pub end_frame: u64,
}

/// Segments the stream of notes into phrases.
#[derive(Clone, Debug, Default)]
pub struct PhraseTracker {
    notes: Vec<PhraseNote>,
    note_count: usize,
    inside: usize,
    /// When the phrase being played began.
    first_onset: Option<u64>,
    /// Since when no lead key has been held (`None` while one is).
    silent_since: Option<u64>,
    /// When the previous phrase's last note was let go.
    previous_end: Option<u64>,
    last: Option<Phrase>,
    /// Phrases finished since the start.
    finished: u64,
}

impl PhraseTracker {
    pub fn new() -> PhraseTracker {
        PhraseTracker::default()
    }

    /// A lead note started.
    pub fn note_on(&mut self, arrangement: &Arrangement, onset: &NoteOnset) {
        let slot = slot_for(arrangement, onset);
        let (role, name) = classify(slot, onset.key);
        let (bar, (beat, distance)) = bar_and_beat(arrangement, onset);
        let note = PhraseNote {
            key: onset.key,
            name,
            role,
            chord: slot.chord,
            bar,
            beat,
            on_beat: distance <= super::ANTICIPATION_BEATS,
            strong_beat: is_strong_beat(beat, arrangement.beats_per_bar),
        };
        if self.first_onset.is_none() {
            self.first_onset = Some(onset.frame);
        }
        self.note_count += 1;
        if role != NoteRole::Outside {
            self.inside += 1;
        }
        if self.notes.len() < MAX_PHRASE_NOTES {
            self.notes.push(note);
        } else if let Some(last) = self.notes.last_mut() {
            // Keep the landing note current past the display limit.
            *last = note;
        }
        self.silent_since = None;
    }

    /// The held-key state at the end of a block ending at `frame`. Returns the phrase
    /// that a rest of [`REST_BEATS`] has just ended, if one has.
    pub fn update(&mut self, frame: u64, any_held: bool, samples_per_beat: f64) -> Option<&Phrase> {
        if any_held {
            self.silent_since = None;
            return None;
        }
        let since = *self.silent_since.get_or_insert(frame);
        let rest = (REST_BEATS * samples_per_beat) as u64;
        if self.notes.is_empty() || frame.saturating_sub(since) < rest {
            return None;
        }
        let notes = std::mem::take(&mut self.notes);
        let first = self.first_onset.take().unwrap_or(since);
        let landing_note = *notes.last()?;
        let phrase = Phrase {
            landing: Landing {
                note: landing_note,
                strong: landing_note.role == NoteRole::ChordTone
                    && landing_note.on_beat
                    && landing_note.strong_beat,
            },
            inside: self.inside as f32 / self.note_count.max(1) as f32,
            note_count: std::mem::take(&mut self.note_count),
            notes,
            space_before_beats: self
                .previous_end
                .map(|end| first.saturating_sub(end) as f64 / samples_per_beat.max(1.0)),
            start_frame: first,
            end_frame: since,
        };
        self.inside = 0;
        self.previous_end = Some(since);
        self.finished += 1;
        self.last = Some(phrase);
        self.last.as_ref()
    }

    /// The last finished phrase.
    pub fn last(&self) -> Option<&Phrase> {
        self.last.as_ref()
    }

    /// The notes of the phrase being played now.
    pub fn current(&self) -> &[PhraseNote] {
        &self.notes
    }

    /// Phrases finished since the start.
    pub fn finished(&self) -> u64 {
        self.finished
    }

    /// Forget everything (another preset).
    pub fn reset(&mut self) {
        *self = PhraseTracker::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::band::Position;
    use crate::preset;

    const SPB: f64 = 48_000.0 * 60.0 / 66.0;

    fn generique() -> Arrangement {
        Arrangement::new(&preset::find("generique").unwrap(), None).unwrap()
    }

    fn at(bar: u64, beat: f32) -> u64 {
        ((bar as f64 * 4.0 + beat as f64) * SPB) as u64
    }

    fn play(t: &mut PhraseTracker, a: &Arrangement, key: u8, bar: u64, beat: f32, len: f32) {
        let frame = at(bar, beat);
        t.note_on(
            a,
            &NoteOnset {
                key,
                velocity: 0.8,
                frame,
                position: Position::in_form(a, bar, beat),
                in_form: true,
            },
        );
        assert!(t.update(frame, true, SPB).is_none());
        let _ = t.update(at(bar, beat + len), false, SPB);
    }

    #[test]
    fn a_rest_of_a_beat_ends_a_phrase_and_it_is_judged() {
        let a = generique();
        let mut t = PhraseTracker::new();
        // D F A B (Dorian colour), then C♯/D♭ (outside), landing on A on beat 1 of bar 2.
        play(&mut t, &a, 62, 0, 0.0, 0.5);
        play(&mut t, &a, 65, 0, 0.5, 0.5);
        play(&mut t, &a, 69, 0, 1.0, 0.5);
        play(&mut t, &a, 71, 0, 2.0, 0.5);
        play(&mut t, &a, 61, 0, 3.0, 0.5);
        play(&mut t, &a, 69, 1, 0.0, 1.0);
        assert_eq!(t.current().len(), 6);
        // Half a beat of rest is not the end.
        assert!(t.update(at(1, 1.5), false, SPB).is_none());
        let phrase = t
            .update(at(1, 2.01), false, SPB)
            .expect("phrase ended")
            .clone();
        let names: Vec<String> = phrase.notes.iter().map(|n| n.name.to_string()).collect();
        assert_eq!(names, ["D", "F", "A", "B", "D♭", "A"]);
        assert_eq!(phrase.notes[3].role, NoteRole::Characteristic);
        assert!((phrase.inside - 5.0 / 6.0).abs() < 1e-6);
        assert!(phrase.landing.strong);
        assert_eq!(phrase.space_before_beats, None);
        // From D's note-on to the release of A, the first silent moment.
        assert_eq!(
            (phrase.start_frame, phrase.end_frame),
            (at(0, 0.0), at(1, 1.0))
        );
        assert!(t.current().is_empty());

        // Two bars later a short phrase over C7 that ends off the beat on F (avoid).
        play(&mut t, &a, 70, 4, 0.0, 0.5);
        play(&mut t, &a, 65, 4, 1.5, 0.5);
        let phrase = t.update(at(4, 3.5), false, SPB).expect("second phrase");
        assert_eq!(phrase.notes[0].name.to_string(), "B♭");
        assert_eq!(phrase.notes[0].role, NoteRole::ChordTone);
        assert_eq!(phrase.landing.note.role, NoteRole::Avoid);
        assert!(!phrase.landing.strong);
        // From the release of A (bar 1 beat 1) to bar 4 beat 0: 11 beats.
        let space = phrase.space_before_beats.expect("space");
        assert!((space - 11.0).abs() < 0.01, "{space}");
        assert_eq!(t.finished(), 2);
    }
}
