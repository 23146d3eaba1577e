//! ascenseur — a real-time improvisation practice instrument.
//!
//! A synthesized 1957-style jazz rhythm section (upright bass, brushes, piano) loops the
//! modal vamps of *Ascenseur pour l'échafaud* while a musician improvises through the
//! instrument's own lead voice. The same [`engine::Engine`] renders live and offline.

/// `eprintln!` that never panics: with stderr closed (`play --headless 2>&1 | head`) a
/// line is lost, not the music or the take.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` that never panics: output piped into a reader that stops early
/// (`ascenseur takes | head -1`) ends quietly.
#[macro_export]
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

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
