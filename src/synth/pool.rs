//! Fixed voice pools with oldest-voice stealing.
//!
//! A pool is built once, before the stream starts; starting a note never allocates. When
//! every voice is busy the oldest one is taken over, which is what a player's ear forgives
//! most easily: the note that has decayed the longest.

/// One monophonic sound generator that a pool can start, release and render.
pub trait Voice {
    /// Everything a note needs to start (pitch, velocity, length …). `Copy` so that it
    /// can travel in scheduled events.
    type Params: Copy;

    /// Start a note, reusing this voice's state and buffers.
    fn start(&mut self, params: Self::Params);
    /// Let the note end the way the instrument ends it (damper, lifted finger, breath off).
    fn release(&mut self);
    /// Stop at once (all-sound-off, device loss): no tail.
    fn silence(&mut self);
    /// Whether the voice still makes sound.
    fn is_active(&self) -> bool;
    /// Whether the voice was released (its tail may still sound).
    fn is_released(&self) -> bool;
    /// The key this voice is sounding, for note-off matching.
    fn key(&self) -> u8;
    /// Add this voice's sound into the stereo buffers (same length).
    fn render(&mut self, left: &mut [f32], right: &mut [f32]);
}

/// `N` voices of one kind.
pub struct VoicePool<V: Voice, const N: usize> {
    voices: [V; N],
    started_at: [u64; N],
    starts: u64,
    steals: u64,
}

impl<V: Voice, const N: usize> VoicePool<V, N> {
    /// A pool whose voices are made by `make(index)`.
    pub fn new(make: impl FnMut(usize) -> V) -> Self {
        Self {
            voices: std::array::from_fn(make),
            started_at: [0; N],
            starts: 0,
            steals: 0,
        }
    }

    /// Start a note on a free voice, or on the oldest one if none is free. Returns the
    /// index of the voice used.
    pub fn start(&mut self, params: V::Params) -> usize {
        let index = match self.voices.iter().position(|v| !v.is_active()) {
            Some(free) => free,
            None => {
                self.steals += 1;
                // Prefer a released voice (its tail is fading anyway), then the oldest.
                let released = (0..N)
                    .filter(|&i| self.voices[i].is_released())
                    .min_by_key(|&i| self.started_at[i]);
                released.unwrap_or_else(|| (0..N).min_by_key(|&i| self.started_at[i]).unwrap_or(0))
            }
        };
        self.starts += 1;
        self.started_at[index] = self.starts;
        self.voices[index].start(params);
        index
    }

    /// Release every sounding, unreleased voice playing `key`.
    pub fn release_key(&mut self, key: u8) {
        for voice in &mut self.voices {
            if voice.is_active() && !voice.is_released() && voice.key() == key {
                voice.release();
            }
        }
    }

    /// Release every voice (all-notes-off).
    pub fn release_all(&mut self) {
        for voice in &mut self.voices {
            if voice.is_active() {
                voice.release();
            }
        }
    }

    /// Silence every voice at once (all-sound-off).
    pub fn silence_all(&mut self) {
        for voice in &mut self.voices {
            voice.silence();
        }
    }

    /// Render every active voice into the buffers.
    pub fn render(&mut self, left: &mut [f32], right: &mut [f32]) {
        for voice in &mut self.voices {
            if voice.is_active() {
                voice.render(left, right);
            }
        }
    }

    /// How many voices are sounding.
    pub fn active_count(&self) -> usize {
        self.voices.iter().filter(|v| v.is_active()).count()
    }

    /// How many notes took over a busy voice since the pool was built.
    pub fn steals(&self) -> u64 {
        self.steals
    }

    /// The voices, for voice-wide changes (pitch bend, modulation).
    pub fn voices_mut(&mut self) -> &mut [V; N] {
        &mut self.voices
    }

    /// Voices still held (not released), e.g. to show which keys are down.
    pub fn held_keys(&self) -> impl Iterator<Item = u8> + '_ {
        self.voices
            .iter()
            .filter(|v| v.is_active() && !v.is_released())
            .map(|v| v.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Beep {
        key: u8,
        active: bool,
        released: bool,
    }

    impl Voice for Beep {
        type Params = u8;
        fn start(&mut self, key: u8) {
            *self = Beep {
                key,
                active: true,
                released: false,
            };
        }
        fn release(&mut self) {
            self.released = true;
        }
        fn silence(&mut self) {
            self.active = false;
        }
        fn is_active(&self) -> bool {
            self.active
        }
        fn is_released(&self) -> bool {
            self.released
        }
        fn key(&self) -> u8 {
            self.key
        }
        fn render(&mut self, left: &mut [f32], _right: &mut [f32]) {
            left[0] += 1.0;
        }
    }

    #[test]
    fn steals_the_oldest_voice_when_full() {
        let mut pool: VoicePool<Beep, 3> = VoicePool::new(|_| Beep::default());
        assert_eq!(pool.start(60), 0);
        assert_eq!(pool.start(62), 1);
        assert_eq!(pool.start(64), 2);
        assert_eq!(pool.start(65), 0, "oldest voice taken over");
        assert_eq!(pool.steals(), 1);
        pool.release_key(62);
        assert_eq!(
            pool.start(67),
            1,
            "a released voice goes before an older held one"
        );
        assert_eq!(pool.held_keys().count(), 3);
    }
}
