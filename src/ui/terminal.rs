//! The terminal while the console owns it: raw mode, the alternate screen, a hidden
//! cursor, and (where the terminal has it) the kitty keyboard protocol. Restored by
//! [`TerminalGuard`]'s drop on every ordinary exit, by a panic hook on a panic on any
//! thread but the audio thread (whose panics the driver catches and the session
//! reports), and by the console's quit on Ctrl-C and SIGTERM.

use std::io::Write;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the terminal is in the console's modes now (restoring twice is harmless, but
/// restoring a terminal the console never touched would clear someone's screen).
static ENTERED: AtomicBool = AtomicBool::new(false);
/// Whether keyboard enhancement flags were pushed and must be popped.
static KEYBOARD_PUSHED: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();
/// A thread other than the audio thread panicked while the console had the terminal: the
/// terminal is restored, so the console must stop drawing and quit.
static PANICKED: AtomicBool = AtomicBool::new(false);

/// Whether a thread panicked since the console took the terminal.
pub fn a_thread_panicked() -> bool {
    PANICKED.load(Ordering::SeqCst)
}

/// Holds the terminal in the console's modes; gives it back on drop.
pub struct TerminalGuard {
    _private: (),
}

impl TerminalGuard {
    /// Raw mode, alternate screen, hidden cursor; and a panic hook that restores all of
    /// it before the panic message is printed, whichever thread but the audio thread
    /// panics.
    pub fn enter() -> std::io::Result<TerminalGuard> {
        PANIC_HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                // A panic in the audio callback is caught there and reported by the
                // session ("the engine stopped"): the console keeps the terminal, and
                // this hook must not allocate or write on that thread.
                if crate::io::driver::in_audio_callback() {
                    previous(info);
                    return;
                }
                if ENTERED.load(Ordering::SeqCst) {
                    PANICKED.store(true, Ordering::SeqCst);
                }
                restore();
                previous(info);
            }));
        });
        crossterm::terminal::enable_raw_mode()?;
        ENTERED.store(true, Ordering::SeqCst);
        crossterm::execute!(
            std::io::stdout(),
            crossterm::terminal::EnterAlternateScreen,
            crossterm::cursor::Hide
        )
        .inspect_err(|_| restore())?;
        Ok(TerminalGuard { _private: () })
    }

    /// Record that keyboard enhancement flags were pushed, so a restore from the panic
    /// hook pops them too.
    pub fn keyboard_flags_pushed(&self, pushed: bool) {
        KEYBOARD_PUSHED.store(pushed, Ordering::SeqCst);
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Give the terminal back: keyboard flags popped, main screen, cursor shown, raw mode
/// off. Idempotent; does nothing unless the console had the terminal.
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = std::io::stdout();
    if KEYBOARD_PUSHED.swap(false, Ordering::SeqCst) {
        let _ = crossterm::execute!(out, crossterm::event::PopKeyboardEnhancementFlags);
    }
    let _ = crossterm::execute!(
        out,
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
    let _ = crossterm::terminal::disable_raw_mode();
}
