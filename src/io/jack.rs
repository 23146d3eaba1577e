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
    /// The server frame the next cycle should start at: a later one means cycles this
    /// client was not run for (the machine was late), which the engine journals.
    next_server_frame: Option<u32>,
}

struct StereoOut {
    left: Port<AudioOut>,
    right: Port<AudioOut>,
}

impl ProcessHandler for Process {
    fn process(&mut self, _: &Client, scope: &ProcessScope) -> Control {
        let frames = scope.n_frames() as usize;
        let server_frame = scope.last_frame_time();
        let missed = self.next_server_frame.map_or(0, |expected| {
            let missed = server_frame.wrapping_sub(expected);
            // A jump backwards or of more than a minute is not a late machine.
            if missed < 60 * self.sample_rate {
                u64::from(missed)
            } else {
                0
            }
        });
        self.next_server_frame = Some(server_frame.wrapping_add(frames as u32));
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
                if missed > 0 {
                    engine.missed(missed);
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
        next_server_frame: None,
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
