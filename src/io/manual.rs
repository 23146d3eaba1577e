//! A driver run by hand: its owner asks for each block, and unplugs it and plugs it back.
//! Tests drive a live session through it the way a sound card would, but block by block
//! and deterministically, so what a session does at a device loss can be rendered and
//! measured from its first sample. Not for playing: the owner's thread is the "audio
//! thread", and the device is shared behind a lock.

use crate::engine::Engine;
use crate::io::driver::DriverStatus;
use crate::io::live_input::{ClockWriter, LiveInput};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// The device: cheap to clone, every clone is the same device.
#[derive(Clone, Debug)]
pub struct ManualDevice {
    inner: Arc<Mutex<DeviceState>>,
}

#[derive(Debug)]
struct DeviceState {
    sample_rate: u32,
    /// Frames of the block a started device renders at once.
    period: usize,
    present: bool,
    playing: Option<Playing>,
    /// Blocks rendered that the owner has not taken yet.
    rendered: std::collections::VecDeque<ManualBlock>,
}

struct Playing {
    engine: Engine,
    clock: Option<ClockWriter>,
    status: Arc<DriverStatus>,
}

impl std::fmt::Debug for Playing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Playing")
            .field("clock", &self.engine.clock())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManualError {
    #[error("the manual device is unplugged")]
    Unplugged,
    #[error("the manual device is already playing an engine")]
    Busy,
}

/// One block the device played: the mix and each stem, interleaved stereo.
#[derive(Clone, Debug, Default)]
pub struct ManualBlock {
    pub mix: Vec<f32>,
    /// Ordered as [`crate::engine::STEMS`].
    pub stems: [Vec<f32>; crate::engine::STEM_COUNT],
}

impl ManualBlock {
    /// Mono sum of one stem (`None`: the mix).
    pub fn mono(&self, stem: Option<usize>) -> Vec<f32> {
        let source = stem.map_or(&self.mix, |s| &self.stems[s]);
        source
            .chunks_exact(2)
            .map(|f| 0.5 * (f[0] + f[1]))
            .collect()
    }
}

impl PartialEq for ManualDevice {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for ManualDevice {}

impl ManualDevice {
    /// A device present and idle at `sample_rate`. Like a sound card, it asks for its
    /// first block (of `period` frames) the moment it is started, before its starter can
    /// do anything else: that block is handed out by the next [`ManualDevice::render`].
    pub fn new(sample_rate: u32, period: usize) -> ManualDevice {
        ManualDevice {
            inner: Arc::new(Mutex::new(DeviceState {
                sample_rate,
                period,
                present: true,
                playing: None,
                rendered: std::collections::VecDeque::new(),
            })),
        }
    }

    pub fn sample_rate(&self) -> u32 {
        self.lock().sample_rate
    }

    /// Whether an engine is playing on it now.
    pub fn is_playing(&self) -> bool {
        self.lock().playing.is_some()
    }

    /// Take the device away: the driver playing on it reports itself lost, and it
    /// renders nothing until a session has stopped it and started again.
    pub fn unplug(&self) {
        let mut state = self.lock();
        state.present = false;
        if let Some(playing) = &state.playing {
            playing.status.lost.store(true, Ordering::Relaxed);
        }
    }

    /// Bring the device back.
    pub fn plug_in(&self) {
        self.lock().present = true;
    }

    /// The next block: one rendered already (at the start), or `frames` frames rendered
    /// now, as one callback would; `None` if no engine is playing or the device is
    /// unplugged.
    pub fn render(&self, frames: usize) -> Option<ManualBlock> {
        let mut state = self.lock();
        if !state.present {
            return None;
        }
        if let Some(block) = state.rendered.pop_front() {
            return Some(block);
        }
        state.render_now(frames)
    }
}

impl DeviceState {
    fn render_now(&mut self, frames: usize) -> Option<ManualBlock> {
        let sample_rate = self.sample_rate;
        let playing = self.playing.as_mut()?;
        let started = Instant::now();
        if let Some(clock) = &playing.clock {
            clock.publish(playing.engine.clock(), started, frames as u32, sample_rate);
        }
        let mut block = ManualBlock {
            mix: vec![0.0; 2 * frames],
            stems: std::array::from_fn(|_| vec![0.0; 2 * frames]),
        };
        let mut stems = block.stems.each_mut().map(|s| &mut s[..]);
        playing
            .engine
            .process_with_stems(&mut block.mix, &mut stems);
        playing.status.record_callback(started, frames, sample_rate);
        Some(block)
    }
}

impl ManualDevice {
    /// Start playing `engine`, publishing the clock pairing to `live_input`.
    pub fn start(
        &self,
        engine: Engine,
        live_input: Option<&Arc<LiveInput>>,
    ) -> Result<ManualSession, ManualError> {
        let mut state = self.lock();
        if state.playing.is_some() {
            return Err(ManualError::Busy);
        }
        if !state.present {
            return Err(ManualError::Unplugged);
        }
        let status = Arc::new(DriverStatus::default());
        state.playing = Some(Playing {
            engine,
            clock: live_input.and_then(LiveInput::clock_writer),
            status: Arc::clone(&status),
        });
        state.rendered.clear();
        let period = state.period;
        if let Some(first) = state.render_now(period) {
            state.rendered.push_back(first);
        }
        Ok(ManualSession {
            device: self.clone(),
            status,
            sample_rate: state.sample_rate,
        })
    }

    fn lock(&self) -> MutexGuard<'_, DeviceState> {
        // A test that panicked mid-render leaves nothing half-written worth refusing.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// An engine playing on a [`ManualDevice`].
#[derive(Debug)]
pub struct ManualSession {
    device: ManualDevice,
    pub status: Arc<DriverStatus>,
    pub sample_rate: u32,
}

impl ManualSession {
    /// Stop playing: the engine and the clock writer are dropped.
    pub fn stop(self) {
        let playing = self.device.lock().playing.take();
        drop(playing);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unplugged_device_reports_the_loss_and_renders_nothing() {
        let device = ManualDevice::new(48_000, 32);
        let (engine, _controller) = Engine::lead_only();
        let session = device.start(engine, None).unwrap();
        // The block rendered at the start, then one of the size asked.
        assert_eq!(device.render(64).map(|b| b.mix.len()), Some(64));
        assert_eq!(device.render(64).map(|b| b.mix.len()), Some(128));
        device.unplug();
        assert!(session.status.is_lost());
        assert!(device.render(64).is_none());
        let (engine, _controller) = Engine::lead_only();
        assert!(matches!(device.start(engine, None), Err(ManualError::Busy)));
        session.stop();
        let (engine, _controller) = Engine::lead_only();
        assert!(matches!(
            device.start(engine, None),
            Err(ManualError::Unplugged)
        ));
        device.plug_in();
        let (engine, _controller) = Engine::lead_only();
        assert!(device.start(engine, None).is_ok());
    }
}
