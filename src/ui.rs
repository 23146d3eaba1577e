//! The practice console, the face of `ascenseur play`: what to play now and next, the
//! keys the player holds and how they sit in the mode, the last phrase judged, the band
//! and the engine. [`state`] is fed by telemetry, [`view`] draws it (tested against
//! ratatui's `TestBackend`), [`keymap`] maps keys to actions, [`terminal`] guards the
//! terminal and [`app`] is the event loop that ties them to a live session.

pub mod app;
pub mod keymap;
pub mod state;
pub mod terminal;
pub mod view;

pub use app::{AppEvent, ConsoleError, run};
pub use state::{ConsoleState, EngineInfo, Look, MidiInfo};
