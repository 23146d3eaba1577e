//! ascenseur — a real-time improvisation practice instrument.
//!
//! A synthesized 1957-style jazz rhythm section (upright bass, brushes, piano) loops the
//! modal vamps of *Ascenseur pour l'échafaud* while a musician improvises through the
//! instrument's own lead voice. The same [`engine::Engine`] renders live and offline.

pub mod band;
pub mod bench;
pub mod engine;
pub mod io;
pub mod live;
pub mod practice;
pub mod preset;
pub mod render;
pub mod synth;
pub mod take;
pub mod theory;
pub mod ui;
