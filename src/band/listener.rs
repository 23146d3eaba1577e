//! The band's ear: a short-term picture of the soloist (how many notes, how hard, how
//! high, whether they rest) from the input the engine plays, which the players read when
//! they plan a bar.
//!
//! The picture is taken when a bar is planned (a beat before it starts), from what the
//! player played since the bar sounding began: a rhythm section answers within a bar,
//! never mid-beat. Planning happens at a fixed frame whatever the block size, and the
//! ear holds only input already played, so a render with the same input repeats bit for
//! bit. Until the player has played a note, and again after a long rest, there is no
//! picture and the band plays as it would alone.

/// Note-ons remembered: more than a bar of the densest playing.
const MEMORY: usize = 128;

/// Bars of silence after which the band stops listening for an answer and plays on its
/// own again.
const FORGET_AFTER_BARS: f64 = 4.0;

/// How much of the previous bar's intensity carries into the next (the rest is the bar
/// just heard): enough to smooth one odd note, little enough to follow within a bar.
const CARRY: f32 = 0.15;

/// Note-ons per beat heard as fully busy (eighth notes).
const BUSY_NOTES_PER_BEAT: f32 = 2.0;

#[derive(Clone, Copy, Debug, Default)]
struct HeardNote {
    frame: u64,
    key: u8,
    velocity: f32,
}

/// What the band hears of the soloist over the last bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Soloist {
    /// 0 (soft and sparse, or resting) … 1 (loud eighth-note lines), smoothed over bars.
    pub intensity: f32,
    /// Note-ons per beat in the last bar.
    pub notes_per_beat: f32,
    /// Mean velocity (0…1) of those notes; 0 without any.
    pub velocity: f32,
    /// Mean MIDI note of those notes; 0 without any.
    pub register: f32,
    /// No note began or sounded in the last bar: the soloist is between phrases.
    pub resting: bool,
}

impl Soloist {
    /// The soloist plays busy and hard enough for the band to dig in.
    pub fn is_busy(&self) -> bool {
        !self.resting && self.notes_per_beat >= 1.0 && self.intensity >= 0.55
    }
}

/// The ear. Allocation-free: a fixed ring of recent note-ons and a count of keys down.
pub struct Listener {
    notes: [HeardNote; MEMORY],
    /// Next slot to write in `notes`, and how many are filled.
    next: usize,
    filled: usize,
    keys_down: [bool; 128],
    held: u32,
    /// The frame the last key went up (or a note began while others were held).
    last_sounding: Option<u64>,
    intensity: f32,
    heard_any: bool,
}

impl Default for Listener {
    fn default() -> Self {
        Self::new()
    }
}

impl Listener {
    pub fn new() -> Listener {
        Listener {
            notes: [HeardNote::default(); MEMORY],
            next: 0,
            filled: 0,
            keys_down: [false; 128],
            held: 0,
            last_sounding: None,
            intensity: 0.0,
            heard_any: false,
        }
    }

    /// Forget the soloist (a new arrangement, a restart).
    pub fn reset(&mut self) {
        *self = Listener::new();
    }

    pub fn note_on(&mut self, frame: u64, key: u8, velocity: f32) {
        self.notes[self.next] = HeardNote {
            frame,
            key,
            velocity: velocity.clamp(0.0, 1.0),
        };
        self.next = (self.next + 1) % MEMORY;
        self.filled = (self.filled + 1).min(MEMORY);
        let key = usize::from(key.min(127));
        if !self.keys_down[key] {
            self.keys_down[key] = true;
            self.held += 1;
        }
        self.last_sounding = Some(frame);
        self.heard_any = true;
    }

    pub fn note_off(&mut self, frame: u64, key: u8) {
        let key = usize::from(key.min(127));
        if self.keys_down[key] {
            self.keys_down[key] = false;
            self.held -= 1;
            self.last_sounding = Some(frame);
        }
    }

    /// Every key up (all notes off, a panic): silence from `frame`.
    pub fn all_off(&mut self, frame: u64) {
        if self.held > 0 {
            self.last_sounding = Some(frame);
        }
        self.keys_down = [false; 128];
        self.held = 0;
    }

    /// The picture at `now`, a beat before a bar of `beats` beats of `samples_per_beat`
    /// begins, of what was played since the bar before it began (`beats - 1` beats), and
    /// the intensity carried into the next; `None` while the band plays on its own.
    /// Call once per bar planned, in order.
    pub fn hear_bar(&mut self, now: u64, samples_per_beat: f64, beats: u32) -> Option<Soloist> {
        if !self.heard_any {
            return None;
        }
        let bar = samples_per_beat * f64::from(beats.max(1));
        let window_beats = beats.saturating_sub(1).max(1);
        let window = samples_per_beat * f64::from(window_beats);
        let since = (now as f64 - window).max(0.0) as u64;
        let silent_for = match (self.held, self.last_sounding) {
            (0, Some(last)) => now.saturating_sub(last) as f64,
            _ => 0.0,
        };
        if silent_for >= FORGET_AFTER_BARS * bar {
            // A long rest: the band plays its own arrangement until the next note.
            self.heard_any = false;
            self.intensity = 0.0;
            return None;
        }
        let (mut count, mut velocity, mut register) = (0u32, 0.0f32, 0.0f32);
        for note in &self.notes[..self.filled] {
            if (since..now).contains(&note.frame) {
                count += 1;
                velocity += note.velocity;
                register += f32::from(note.key);
            }
        }
        let resting = count == 0 && self.held == 0 && silent_for >= window * 0.75;
        let notes_per_beat = count as f32 / window_beats as f32;
        let (velocity, register) = if count > 0 {
            (velocity / count as f32, register / count as f32)
        } else {
            (0.0, 0.0)
        };
        let activity = (notes_per_beat / BUSY_NOTES_PER_BEAT).min(1.0);
        let heard = if count == 0 {
            // A held note: as loud as it was struck, but not busy.
            if self.held > 0 { 0.3 } else { 0.0 }
        } else {
            0.55 * velocity + 0.45 * activity
        };
        self.intensity = CARRY * self.intensity + (1.0 - CARRY) * heard;
        Some(Soloist {
            intensity: self.intensity,
            notes_per_beat,
            velocity,
            register,
            resting,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPB: f64 = 24_000.0;

    #[test]
    fn no_picture_before_the_first_note_or_after_a_long_rest() {
        let mut ear = Listener::new();
        assert_eq!(ear.hear_bar(200_000, SPB, 4), None);
        ear.note_on(200_000, 62, 0.8);
        ear.note_off(212_000, 62);
        assert!(ear.hear_bar(250_000, SPB, 4).is_some());
        let long_after = 212_000 + (5.0 * 4.0 * SPB) as u64;
        assert_eq!(ear.hear_bar(long_after, SPB, 4), None);
    }

    #[test]
    fn loud_eighths_are_intense_soft_halves_are_not_and_a_rest_is_heard() {
        let bar = 4 * SPB as u64;
        let mut ear = Listener::new();
        for i in 0..16 {
            let at = i * SPB as u64 / 2;
            ear.note_on(at, 60 + (i % 7) as u8, 110.0 / 127.0);
            ear.note_off(at + 10_000, 60 + (i % 7) as u8);
        }
        let busy = ear.hear_bar(2 * bar, SPB, 4).unwrap();
        assert!(busy.is_busy(), "{busy:?}");
        assert!(busy.intensity > 0.6, "{busy:?}");
        assert_eq!(busy.notes_per_beat, 2.0);
        for i in 0..4 {
            let at = 2 * bar + i * 2 * SPB as u64;
            ear.note_on(at, 62, 50.0 / 127.0);
            ear.note_off(at + 40_000, 62);
        }
        ear.hear_bar(3 * bar, SPB, 4);
        let soft = ear.hear_bar(4 * bar, SPB, 4).unwrap();
        assert!(!soft.is_busy() && soft.intensity < 0.4, "{soft:?}");
        let rest = ear.hear_bar(5 * bar + bar / 2, SPB, 4).unwrap();
        assert!(rest.resting && rest.intensity < 0.15, "{rest:?}");
    }
}
