//! Native JACK: one client that owns the MIDI input port and the audio outputs, so a
//! note that arrives in cycle *k* sounds in cycle *k* at its own frame offset.
//!
//! The process callback (JACK's real-time thread) reads `midi_in` at each event's frame
//! offset, feeds the engine, renders, and splits the engine's interleaved output into
//! `out_l` and `out_r`, all of it through the drivers' [`CallbackEdge`]: denormals
//! flushed, no allocation, and a panic caught there — the output goes silent and a flag is
//! raised, instead of unwinding into JACK.

use crate::engine::{Engine, TimedInput};
use crate::io::driver::{CallbackEdge, CostRecorder, DriverStatus};
use crate::io::live_input::{ClockWriter, LiveInput};
use crate::io::midi::parse_message;
use jack::{AudioOut, Client, ClientOptions, Control, MidiIn, Port, ProcessHandler, ProcessScope};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Largest JACK period rendered in one engine call; longer periods are rendered in pieces.
pub const MAX_PERIOD: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum JackError {
    #[error(
        "cannot open a JACK client '{name}': no JACK server answered ({source}); start one (e.g. `jackd -d alsa`), or set JACK_DEFAULT_SERVER to the name of the one that is running"
    )]
    Open { name: String, source: jack::Error },
    #[error("cannot register JACK port '{port}': {source}")]
    Port { port: String, source: jack::Error },
    #[error("cannot activate the JACK client: {0}")]
    Activate(jack::Error),
}

struct Process {
    engine: Engine,
    midi_in: Port<MidiIn>,
    outputs: StereoOut,
    interleaved: Box<[f32]>,
    status: Arc<DriverStatus>,
    /// Held until the client is deactivated: the one writer of the clock pairing.
    clock: Option<ClockWriter>,
    costs: Option<CostRecorder>,
    sample_rate: u32,
    /// Cycles the server ran without this client, which the engine journals.
    skipped: SkippedCycles,
}

/// Tells the cycles the server ran without this client from its frame clock.
///
/// `last_frame_time` reads the server's clock as it is when called, not the frame of the
/// cycle being processed: a callback that runs late, after the server has begun the next
/// cycle, reads that cycle's frame, for a cycle or a few, and then the clock agrees with
/// the frames rendered again. A cycle really skipped leaves the clock ahead for good. So a
/// lead is believed once it has held for [`SkippedCycles::CONFIRM`] cycles in a row, and
/// only the least of it seen meanwhile: a late read never adds time that was not lost.
#[derive(Debug, Default)]
struct SkippedCycles {
    /// The server frame this client's next cycle should start at: the frames rendered
    /// and skipped so far.
    expected: Option<u32>,
    /// Cycles in a row the clock has been ahead, the frames they rendered, and the
    /// least it was ahead by.
    held: u32,
    held_frames: u64,
    least_lead: u32,
}

/// Frames the server ran without this client, confirmed in this cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Skipped {
    frames: u64,
    /// How many frames before this cycle they were skipped: the cycles this client ran
    /// while the skip was being confirmed.
    frames_ago: u64,
}

impl SkippedCycles {
    /// Cycles the clock must stay ahead for before frames count as skipped.
    const CONFIRM: u32 = 4;

    /// A cycle of `frames` that read `server_frame`: the frames skipped, if this cycle
    /// confirms some.
    fn cycle(&mut self, server_frame: u32, frames: u32, sample_rate: u32) -> Option<Skipped> {
        let expected = self.expected.unwrap_or(server_frame);
        let lead = server_frame.wrapping_sub(expected);
        let mut skipped = None;
        let mut this_cycle = expected;
        if lead == 0 {
            self.held = 0;
        } else if lead < 60 * sample_rate {
            if self.held == 0 {
                self.least_lead = lead;
                self.held_frames = 0;
            } else {
                self.least_lead = self.least_lead.min(lead);
            }
            self.held += 1;
            if self.held >= Self::CONFIRM {
                skipped = Some(Skipped {
                    frames: u64::from(self.least_lead),
                    frames_ago: self.held_frames,
                });
                this_cycle = expected.wrapping_add(self.least_lead);
                self.held = 0;
            } else {
                self.held_frames += u64::from(frames);
            }
        } else {
            // Behind the frames rendered, or more than a minute ahead: not a late machine
            // but a clock to follow from here.
            self.held = 0;
            this_cycle = server_frame;
        }
        self.expected = Some(this_cycle.wrapping_add(frames));
        skipped
    }
}

struct StereoOut {
    left: Port<AudioOut>,
    right: Port<AudioOut>,
}

impl ProcessHandler for Process {
    fn process(&mut self, _: &Client, scope: &ProcessScope) -> Control {
        let frames = scope.n_frames() as usize;
        let skipped = self
            .skipped
            .cycle(scope.last_frame_time(), frames as u32, self.sample_rate);
        let edge = CallbackEdge {
            status: &self.status,
            costs: self.costs.as_mut(),
            frames,
            sample_rate: self.sample_rate,
        };
        let engine = &mut self.engine;
        let interleaved = &mut self.interleaved;
        let midi_in = &self.midi_in;
        let clock = &self.clock;
        let sample_rate = self.sample_rate;
        edge.run(
            &mut self.outputs,
            |outputs, started| {
                let left = outputs.left.as_mut_slice(scope);
                let right = outputs.right.as_mut_slice(scope);
                if let Some(skipped) = skipped {
                    engine.missed(skipped.frames, skipped.frames_ago);
                }
                let start = engine.clock();
                if let Some(clock) = clock {
                    clock.publish(start, started, frames as u32, sample_rate);
                }
                for event in midi_in.iter(scope) {
                    if let Some(input) = parse_message(event.bytes) {
                        engine.queue_input(TimedInput {
                            frame: start + u64::from(event.time),
                            event: input,
                        });
                    }
                }
                let mut done = 0;
                while done < frames {
                    let n = (frames - done).min(MAX_PERIOD);
                    let block = &mut interleaved[..2 * n];
                    engine.process(block);
                    for (i, frame) in block.chunks_exact(2).enumerate() {
                        left[done + i] = frame[0];
                        right[done + i] = frame[1];
                    }
                    done += n;
                }
            },
            |outputs| {
                outputs.left.as_mut_slice(scope).fill(0.0);
                outputs.right.as_mut_slice(scope).fill(0.0);
            },
        );
        Control::Continue
    }
}

struct Notifications {
    status: Arc<DriverStatus>,
}

impl jack::NotificationHandler for Notifications {
    // SAFETY: JACK calls this from another thread as the server goes away, under the
    // rules of an asynchronous signal handler (only async-signal-safe operations). It
    // only stores to an atomic flag: no allocation, lock, I/O or call into JACK.
    unsafe fn shutdown(&mut self, _status: jack::ClientStatus, _reason: &str) {
        self.status.lost.store(true, Ordering::Relaxed);
    }

    fn xrun(&mut self, _: &Client) -> Control {
        self.status.xruns.fetch_add(1, Ordering::Relaxed);
        Control::Continue
    }
}

/// A running JACK client playing the engine.
pub struct JackSession {
    client: jack::AsyncClient<Notifications, Process>,
    pub status: Arc<DriverStatus>,
    pub sample_rate: u32,
    pub period: u32,
    pub name: String,
    /// Connections made at start, for the status line.
    pub connected: Vec<String>,
}

/// Open a JACK client named `name`, and return it with its sample rate, before the engine
/// is built (the engine needs the server's rate).
pub fn open_client(name: &str) -> Result<Client, JackError> {
    let (client, _status) =
        Client::new(name, ClientOptions::NO_START_SERVER).map_err(|source| JackError::Open {
            name: name.to_string(),
            source,
        })?;
    Ok(client)
}

/// How a client is started.
#[derive(Default)]
pub struct StartOptions {
    /// Connect the outputs to the system playback ports and every physical MIDI output to
    /// `midi_in`.
    pub connect: bool,
    /// Each cycle publishes its clock pairing here, so input from other threads (midir,
    /// the computer keyboard) can be timed against it.
    pub live_input: Option<Arc<LiveInput>>,
    /// Log each cycle's cost (benches).
    pub costs: Option<CostRecorder>,
}

/// Register `midi_in`, `out_l` and `out_r` and start processing `engine`.
pub fn start(
    client: Client,
    engine: Engine,
    options: StartOptions,
) -> Result<JackSession, JackError> {
    let StartOptions {
        connect,
        live_input,
        costs,
    } = options;
    let port_error = |port: &str| {
        let port = port.to_string();
        move |source| JackError::Port { port, source }
    };
    let midi_in = client
        .register_port("midi_in", MidiIn::default())
        .map_err(port_error("midi_in"))?;
    let out_l = client
        .register_port("out_l", AudioOut::default())
        .map_err(port_error("out_l"))?;
    let out_r = client
        .register_port("out_r", AudioOut::default())
        .map_err(port_error("out_r"))?;
    let sample_rate = client.sample_rate();
    let period = client.buffer_size();
    let name = client.name().to_string();
    let status = Arc::new(DriverStatus::default());
    let process = Process {
        engine,
        midi_in,
        outputs: StereoOut {
            left: out_l,
            right: out_r,
        },
        interleaved: vec![0.0; 2 * MAX_PERIOD].into_boxed_slice(),
        status: Arc::clone(&status),
        clock: live_input.as_ref().and_then(LiveInput::clock_writer),
        skipped: SkippedCycles::default(),
        costs,
        sample_rate,
    };
    let client = client
        .activate_async(
            Notifications {
                status: Arc::clone(&status),
            },
            process,
        )
        .map_err(JackError::Activate)?;
    let mut connected = Vec::new();
    if connect {
        let c = client.as_client();
        let playback = c.ports(
            None,
            Some("32 bit float mono audio"),
            jack::PortFlags::IS_PHYSICAL | jack::PortFlags::IS_INPUT,
        );
        for (ours, theirs) in [format!("{name}:out_l"), format!("{name}:out_r")]
            .iter()
            .zip(&playback)
        {
            if c.connect_ports_by_name(ours, theirs).is_ok() {
                connected.push(format!("{ours} -> {theirs}"));
            }
        }
        let midi_sources = c.ports(
            None,
            Some("8 bit raw midi"),
            jack::PortFlags::IS_PHYSICAL | jack::PortFlags::IS_OUTPUT,
        );
        for source in &midi_sources {
            let ours = format!("{name}:midi_in");
            if c.connect_ports_by_name(source, &ours).is_ok() {
                connected.push(format!("{source} -> {ours}"));
            }
        }
    }
    Ok(JackSession {
        client,
        status,
        sample_rate,
        period,
        name,
        connected,
    })
}

impl JackSession {
    /// Ask the server for another period size (as `jack_bufsize` does); every client
    /// of the server gets it.
    pub fn set_buffer_size(&self, frames: u32) -> Result<(), jack::Error> {
        self.client.as_client().set_buffer_size(frames)
    }

    /// The server's current period size.
    pub fn buffer_size(&self) -> u32 {
        self.client.as_client().buffer_size()
    }

    /// Stop processing and close the client.
    pub fn stop(self) {
        // Deactivation fails only when the server is already gone; nothing left to do then.
        let _ = self.client.deactivate();
    }
}

#[cfg(test)]
mod tests {
    use super::SkippedCycles;

    const RATE: u32 = 48_000;
    const PERIOD: u32 = 64;

    /// Feed the clock readings, a period per cycle; the frames skipped, cycle by cycle.
    fn skipped(readings: &[u32]) -> Vec<u64> {
        let mut cycles = SkippedCycles::default();
        readings
            .iter()
            .map(|&frame| cycles.cycle(frame, PERIOD, RATE).map_or(0, |s| s.frames))
            .collect()
    }

    fn on_time(from: u32, cycles: u32) -> impl Iterator<Item = u32> {
        (0..cycles).map(move |i| from.wrapping_add(i * PERIOD))
    }

    #[test]
    fn cycles_on_time_skip_nothing() {
        let readings: Vec<u32> = on_time(1_000, 100).collect();
        assert!(skipped(&readings).iter().all(|&s| s == 0));
    }

    #[test]
    fn late_callbacks_that_read_the_next_cycles_frame_skip_nothing() {
        // Late for one cycle, then for three in a row: the clock reads a period or two
        // ahead, then agrees again.
        let mut readings: Vec<u32> = on_time(0, 10).collect();
        readings[4] += PERIOD;
        readings[6] += 2 * PERIOD;
        readings[7] += PERIOD;
        readings[8] += PERIOD;
        readings.extend(on_time(10 * PERIOD, 20));
        assert!(skipped(&readings).iter().all(|&s| s == 0), "{readings:?}");
    }

    #[test]
    fn cycles_the_server_ran_without_the_client_are_counted_once_confirmed() {
        // Two cycles skipped after the fifth; one of the cycles after them read late.
        let mut readings: Vec<u32> = on_time(0, 5).collect();
        readings.extend(on_time(7 * PERIOD, 20));
        readings[7] += PERIOD;
        let found = skipped(&readings);
        let confirmed = 5 + SkippedCycles::CONFIRM as usize - 1;
        assert_eq!(found[confirmed], u64::from(2 * PERIOD), "{found:?}");
        assert_eq!(
            found.iter().sum::<u64>(),
            u64::from(2 * PERIOD),
            "{found:?}"
        );
        // Placed where they were skipped: before the cycles that confirmed them.
        let mut cycles = SkippedCycles::default();
        let confirmation = readings
            .iter()
            .find_map(|&frame| cycles.cycle(frame, PERIOD, RATE))
            .unwrap();
        let ago = u64::from((SkippedCycles::CONFIRM - 1) * PERIOD);
        assert_eq!(confirmation.frames_ago, ago);
    }

    #[test]
    fn a_clock_that_jumps_back_or_far_ahead_is_followed_not_counted() {
        let mut readings: Vec<u32> = on_time(10 * RATE, 4).collect();
        readings.extend(on_time(0, 4));
        readings.extend(on_time(5 * 60 * RATE, 20));
        readings.extend(on_time(u32::MAX - 2 * PERIOD + 1, 20));
        assert!(skipped(&readings).iter().all(|&s| s == 0));
    }
}
