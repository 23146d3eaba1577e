//! The soak's ears: a JACK client listening to the instrument's outputs, counting every
//! sample that is not a finite number and the loudest one, as a meter would.

use jack::{AudioIn, Client, ClientOptions, Control, Port, ProcessHandler, ProcessScope};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// What was heard so far.
#[derive(Debug, Default)]
pub struct Heard {
    pub samples: AtomicU64,
    /// NaN or infinite samples.
    pub non_finite: AtomicU64,
    /// The largest magnitude since the last [`Ears::take_peak`], as f32 bits (a
    /// non-negative f32's bits order as the numbers do).
    peak: AtomicU32,
}

/// JACK's real-time thread: counts and a maximum, nothing else.
struct Listener {
    inputs: [Port<AudioIn>; 2],
    heard: Arc<Heard>,
}

impl ProcessHandler for Listener {
    fn process(&mut self, _: &Client, scope: &ProcessScope) -> Control {
        let mut peak = 0.0f32;
        let mut non_finite = 0;
        let mut samples = 0;
        for input in &self.inputs {
            for &x in input.as_slice(scope) {
                if x.is_finite() {
                    peak = peak.max(x.abs());
                } else {
                    non_finite += 1;
                }
            }
            samples += scope.n_frames() as u64;
        }
        self.heard.samples.fetch_add(samples, Ordering::Relaxed);
        if non_finite > 0 {
            self.heard
                .non_finite
                .fetch_add(non_finite, Ordering::Relaxed);
        }
        self.heard.peak.fetch_max(peak.to_bits(), Ordering::Relaxed);
        Control::Continue
    }
}

/// A client listening to two output ports until dropped.
pub struct Ears {
    client: jack::AsyncClient<(), Listener>,
    pub heard: Arc<Heard>,
}

impl Ears {
    /// Open a client `name` and connect `sources` (left, right) to it.
    pub fn start(name: &str, sources: [&str; 2]) -> Result<Ears, jack::Error> {
        let (client, _) = Client::new(name, ClientOptions::NO_START_SERVER)?;
        let inputs = [
            client.register_port("in_l", AudioIn::default())?,
            client.register_port("in_r", AudioIn::default())?,
        ];
        let names = [inputs[0].name()?, inputs[1].name()?];
        let heard = Arc::new(Heard::default());
        let client = client.activate_async(
            (),
            Listener {
                inputs,
                heard: Arc::clone(&heard),
            },
        )?;
        for (source, ours) in sources.iter().zip(&names) {
            client.as_client().connect_ports_by_name(source, ours)?;
        }
        Ok(Ears { client, heard })
    }

    /// The loudest sample since the previous call.
    pub fn take_peak(&self) -> f32 {
        f32::from_bits(self.heard.peak.swap(0, Ordering::Relaxed))
    }

    pub fn stop(self) {
        let _ = self.client.deactivate();
    }
}
