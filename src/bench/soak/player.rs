//! A musician at a MIDI keyboard, for the soak: phrases at a player's pace with rests
//! between them, now and then a burst (a cluster of keys struck at once, a fast run), the
//! sustain pedal, pitch bends, the mod wheel, program changes and all-notes-off, on any
//! channel — played into the instrument's JACK MIDI input by a JACK client of its own.
//!
//! A thread of its own plays the phrases on the wall clock and hands each message to the
//! client's process callback through a ring (a full ring is a counted drop); the callback
//! writes them into its MIDI port at the start of its cycle. The player knows which keys
//! it holds: every phrase ends with all of them up and the pedal up, and then it says so
//! ([`Player::quiet_since`]), so the soak can check that the instrument holds none either.

use jack::{Client, ClientOptions, Control, MidiOut, Port, ProcessHandler, ProcessScope, RawMidi};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use ringbuf::traits::{Consumer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Messages waiting for the client's next cycle: far more than a burst.
const RING_CAPACITY: usize = 1024;
/// The keyboard's range the phrases stay in.
const LOW_KEY: u8 = 43;
const HIGH_KEY: u8 = 88;

/// One MIDI message of up to three bytes.
#[derive(Clone, Copy, Debug, Default)]
struct Message {
    bytes: [u8; 3],
    len: u8,
}

impl Message {
    fn new(bytes: &[u8]) -> Message {
        let mut message = Message::default();
        message.bytes[..bytes.len()].copy_from_slice(bytes);
        message.len = bytes.len() as u8;
        message
    }
}

/// What the player has done, for the soak's figures.
#[derive(Debug, Default)]
pub struct PlayerCounts {
    /// Note-ons handed to the JACK client.
    pub note_ons: AtomicU64,
    /// Messages the client wrote into its port.
    pub events: AtomicU64,
    /// Messages the ring had no room for.
    pub ring_dropped: AtomicU64,
    /// Messages the JACK port's buffer had no room for.
    pub port_dropped: AtomicU64,
    /// Phrases played, and bursts among them.
    pub phrases: AtomicU64,
    pub bursts: AtomicU64,
    /// Nanoseconds from the player's epoch to the end of the last phrase, when every key
    /// and the pedal went up; 0 while a phrase plays.
    quiet_since: AtomicU64,
}

/// The JACK client's process callback: the ring into the port. JACK's real-time thread:
/// no allocation, no lock.
struct MidiSender {
    port: Port<MidiOut>,
    from_player: HeapCons<Message>,
    counts: Arc<PlayerCounts>,
}

impl ProcessHandler for MidiSender {
    fn process(&mut self, _: &Client, scope: &ProcessScope) -> Control {
        let mut writer = self.port.writer(scope);
        while let Some(message) = self.from_player.try_pop() {
            let raw = RawMidi {
                time: 0,
                bytes: &message.bytes[..usize::from(message.len)],
            };
            let counter = match writer.write(&raw) {
                Ok(()) => &self.counts.events,
                Err(_) => &self.counts.port_dropped,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        Control::Continue
    }
}

/// The musician, playing until [`Player::stop`].
pub struct Player {
    client: jack::AsyncClient<(), MidiSender>,
    thread: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    pub counts: Arc<PlayerCounts>,
    epoch: Instant,
}

impl Player {
    /// Open a client `name` on the default JACK server, connect its output to
    /// `midi_in` (e.g. "ascenseur:midi_in") and start playing, phrases chosen from `seed`.
    pub fn start(name: &str, midi_in: &str, seed: u64) -> Result<Player, jack::Error> {
        let (client, _) = Client::new(name, ClientOptions::NO_START_SERVER)?;
        let port = client.register_port("out", MidiOut::default())?;
        let out = port.name()?;
        let (to_client, from_player) = HeapRb::<Message>::new(RING_CAPACITY).split();
        let counts = Arc::new(PlayerCounts::default());
        let client = client.activate_async(
            (),
            MidiSender {
                port,
                from_player,
                counts: Arc::clone(&counts),
            },
        )?;
        client.as_client().connect_ports_by_name(&out, midi_in)?;
        let stop = Arc::new(AtomicBool::new(false));
        let epoch = Instant::now();
        let thread = {
            let stop = Arc::clone(&stop);
            let counts = Arc::clone(&counts);
            std::thread::Builder::new()
                .name("soak-player".into())
                .spawn(move || {
                    Musician {
                        rng: Pcg32::seed_from_u64(seed),
                        out: to_client,
                        counts,
                        epoch,
                        held: [false; 128],
                        pedal: false,
                        key: 64,
                        stop,
                    }
                    .play()
                })
                .map_err(|_| jack::Error::ClientError(jack::ClientStatus::FAILURE))?
        };
        Ok(Player {
            client,
            thread: Some(thread),
            stop,
            counts,
            epoch,
        })
    }

    /// When the last phrase ended with every key and the pedal up; `None` while one
    /// plays.
    pub fn quiet_since(&self) -> Option<Instant> {
        match self.counts.quiet_since.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(self.epoch + Duration::from_nanos(nanos)),
        }
    }

    /// Stop playing: the phrase playing ends at once, every key and the pedal up; then
    /// the client closes once those are written.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // A few cycles for the last releases to leave the ring.
        std::thread::sleep(Duration::from_millis(100));
        let _ = self.client.deactivate();
    }
}

/// The player's hands: what it holds, and where it is on the keyboard.
struct Musician {
    rng: Pcg32,
    out: HeapProd<Message>,
    counts: Arc<PlayerCounts>,
    epoch: Instant,
    held: [bool; 128],
    pedal: bool,
    key: u8,
    stop: Arc<AtomicBool>,
}

/// A message at a time from the phrase's start.
type Timed = (Duration, Message);

impl Musician {
    fn play(mut self) {
        self.quiet();
        while !self.stopped() {
            let phrase = self.phrase();
            self.counts.quiet_since.store(0, Ordering::Relaxed);
            self.counts.phrases.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            for (at, message) in phrase {
                if !self.wait_until(started + at) {
                    break;
                }
                self.send(message);
            }
            self.release_everything();
            self.quiet();
            let rest = Duration::from_millis(self.rng.random_range(300..3000));
            self.wait_until(Instant::now() + rest);
        }
        self.release_everything();
        self.quiet();
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Sleep until `at`; false if told to stop meanwhile.
    fn wait_until(&self, at: Instant) -> bool {
        loop {
            if self.stopped() {
                return false;
            }
            let now = Instant::now();
            if now >= at {
                return true;
            }
            std::thread::sleep((at - now).min(Duration::from_millis(20)));
        }
    }

    fn quiet(&self) {
        let nanos = self.epoch.elapsed().as_nanos().max(1) as u64;
        self.counts.quiet_since.store(nanos, Ordering::Relaxed);
    }

    fn send(&mut self, message: Message) {
        let [status, key, velocity] = message.bytes;
        match status & 0xF0 {
            0x90 if velocity > 0 => {
                self.held[usize::from(key & 0x7F)] = true;
                self.counts.note_ons.fetch_add(1, Ordering::Relaxed);
            }
            0x80 | 0x90 => self.held[usize::from(key & 0x7F)] = false,
            0xB0 if key == 64 => self.pedal = velocity >= 64,
            0xB0 if key >= 123 => self.held = [false; 128],
            _ => {}
        }
        if self.out.try_push(message).is_err() {
            self.counts.ring_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Every key held up, and the pedal, on the channel each was played on (channel 1
    /// for those whose channel is forgotten: the instrument is omni).
    fn release_everything(&mut self) {
        for key in 0..128u8 {
            if self.held[usize::from(key)] {
                self.send(Message::new(&[0x80, key, 0]));
            }
        }
        if self.pedal {
            self.send(Message::new(&[0xB0, 64, 0]));
        }
    }

    /// The next phrase: its messages at their times from its start.
    fn phrase(&mut self) -> Vec<Timed> {
        let channel = self.rng.random_range(0..16u8);
        let mut phrase = match self.rng.random_range(0..100) {
            0..10 => {
                self.counts.bursts.fetch_add(1, Ordering::Relaxed);
                self.cluster(channel)
            }
            10..20 => {
                self.counts.bursts.fetch_add(1, Ordering::Relaxed);
                self.run(channel)
            }
            _ => self.line(channel),
        };
        let end = phrase.last().map_or(Duration::ZERO, |(at, _)| *at);
        if self.rng.random_bool(0.15) {
            // The pedal down over the phrase, up after it.
            phrase.push((Duration::ZERO, Message::new(&[0xB0 | channel, 64, 127])));
            phrase.push((
                end + Duration::from_millis(50),
                Message::new(&[0xB0 | channel, 64, 0]),
            ));
        }
        if self.rng.random_bool(0.15) {
            // A bend up and back to the centre.
            let steps = self.rng.random_range(3..8u32);
            for i in 0..=steps {
                let value: u16 = if i == steps {
                    8192
                } else {
                    8192 + self.rng.random_range(0..8000)
                };
                let at = end * i / (steps + 1);
                phrase.push((
                    at,
                    Message::new(&[0xE0 | channel, (value & 0x7F) as u8, (value >> 7) as u8]),
                ));
            }
        }
        if self.rng.random_bool(0.1) {
            // The mod wheel up and down.
            for (i, value) in [40u8, 90, 127, 60, 0].into_iter().enumerate() {
                phrase.push((
                    end * i as u32 / 5,
                    Message::new(&[0xB0 | channel, 1, value]),
                ));
            }
        }
        if self.rng.random_bool(0.03) {
            // Another lead voice, chosen from the keyboard.
            let program = self.rng.random_range(0..128u8);
            phrase.push((Duration::ZERO, Message::new(&[0xC0 | channel, program])));
        }
        if self.rng.random_bool(0.05) {
            phrase.push((
                end + Duration::from_millis(80),
                Message::new(&[0xB0 | channel, 123, 0]),
            ));
        }
        phrase.sort_by_key(|(at, _)| *at);
        phrase
    }

    /// A step from the last key, within the keyboard's range, to a key that is up at
    /// `at` in `phrase` (a key cannot be struck again before it is let go); `None` when
    /// ten tries find none.
    fn next_key(&mut self, widest: i32, phrase: &[Timed], at: Duration) -> Option<u8> {
        for _ in 0..10 {
            let step = self.rng.random_range(-widest..=widest);
            let key =
                (i32::from(self.key) + step).clamp(i32::from(LOW_KEY), i32::from(HIGH_KEY)) as u8;
            let down = phrase.iter().any(|(on, message)| {
                message.bytes[0] & 0xF0 == 0x90
                    && message.bytes[1] == key
                    && message.bytes[2] > 0
                    && *on <= at
                    && phrase.iter().any(|(off, release)| {
                        *off > at
                            && release.bytes[1] == key
                            && (release.bytes[0] & 0xF0 == 0x80
                                || release.bytes[0] & 0xF0 == 0x90 && release.bytes[2] == 0)
                    })
            });
            if !down {
                self.key = key;
                return Some(key);
            }
        }
        None
    }

    fn note(&mut self, channel: u8, key: u8, at: Duration, length: Duration) -> [Timed; 2] {
        let velocity = self.rng.random_range(30..=127u8);
        // Half the keyboards send a note-on with velocity 0 for a release.
        let off = if self.rng.random_bool(0.5) {
            Message::new(&[0x90 | channel, key, 0])
        } else {
            Message::new(&[0x80 | channel, key, 64])
        };
        [
            (at, Message::new(&[0x90 | channel, key, velocity])),
            (at + length, off),
        ]
    }

    /// A line: three to a dozen notes, a quarter to a sixteenth apart.
    fn line(&mut self, channel: u8) -> Vec<Timed> {
        let notes = self.rng.random_range(3..=12);
        let mut at = Duration::ZERO;
        let mut phrase = Vec::new();
        for _ in 0..notes {
            let gap = Duration::from_millis(self.rng.random_range(110..650));
            let length = gap.mul_f64(self.rng.random_range(0.4..1.1));
            if let Some(key) = self.next_key(5, &phrase, at) {
                let note = self.note(channel, key, at, length);
                phrase.extend(note);
            }
            at += gap;
        }
        phrase
    }

    /// A burst: four to ten keys struck at once, held, let go.
    fn cluster(&mut self, channel: u8) -> Vec<Timed> {
        let keys = self.rng.random_range(4..=10);
        let length = Duration::from_millis(self.rng.random_range(150..1200));
        let mut phrase = Vec::new();
        for _ in 0..keys {
            if let Some(key) = self.next_key(7, &phrase, Duration::ZERO) {
                let note = self.note(channel, key, Duration::ZERO, length);
                phrase.extend(note);
            }
        }
        phrase
    }

    /// A burst: a run of a dozen to two dozen notes a few milliseconds apart.
    fn run(&mut self, channel: u8) -> Vec<Timed> {
        let notes = self.rng.random_range(12..=24);
        let gap = Duration::from_millis(self.rng.random_range(8..30));
        let mut phrase = Vec::new();
        for i in 0..notes {
            if let Some(key) = self.next_key(2, &phrase, gap * i) {
                let note = self.note(channel, key, gap * i, gap.mul_f64(1.5));
                phrase.extend(note);
            }
        }
        phrase
    }
}
