//! Denormal floats flushed to zero while the engine renders.
//!
//! A reverb or filter tail decaying towards silence passes through the denormal range,
//! where x86 arithmetic can be a hundred times slower: a callback that is cheap while the
//! band plays would overrun once everything has died away. [`FlushToZero`] sets the
//! processor's flush-to-zero mode for a scope (x86 and x86_64: MXCSR's FTZ and DAZ bits;
//! aarch64: FPCR's FZ bit) and puts the thread's floating-point modes back as they were on
//! drop, so the code around the scope computes as it did before. Elsewhere it does
//! nothing.
//!
//! Every render goes through it ([`crate::engine::Engine::process`], and each driver's
//! callback around that), so live and offline renders flush the same samples from the
//! first one. fundsp's feedback nodes (the room's network) overwrite MXCSR with
//! flush-to-zero on at each block and never restore it: without the guard a thread
//! rendered its first block without, every later one with, and kept the mode for
//! whatever it ran afterwards. Inside the scope that changes nothing; the drop undoes it.

use std::marker::PhantomData;

/// Flush-to-zero on the current thread while this value lives; the previous modes come
/// back on drop. Not `Send`: it must be dropped on the thread whose modes it changed.
#[must_use = "the modes are restored when the guard is dropped"]
pub struct FlushToZero {
    /// The register as it was before the guard.
    previous: arch::Register,
    _this_thread: PhantomData<*const ()>,
}

impl FlushToZero {
    /// Flush denormals to zero until the guard is dropped. Any thread; allocation-free.
    #[inline]
    pub fn enable() -> FlushToZero {
        let previous = arch::read();
        if !arch::is_flushing(previous) {
            arch::write(arch::flushing(previous));
        }
        FlushToZero {
            previous,
            _this_thread: PhantomData,
        }
    }
}

impl Drop for FlushToZero {
    #[inline]
    fn drop(&mut self) {
        // The modes go back, whoever changed them inside; exception flags raised inside
        // the scope stay raised.
        let current = arch::read();
        let restored = arch::restored(current, self.previous);
        if restored != current {
            arch::write(restored);
        }
    }
}

/// Whether [`FlushToZero`] does anything on this processor.
pub const AVAILABLE: bool = cfg!(any(
    target_arch = "x86_64",
    all(target_arch = "x86", target_feature = "sse"),
    target_arch = "aarch64"
));

/// Whether the current thread flushes denormals to zero now (always false on processors
/// this module does not handle).
pub fn is_enabled() -> bool {
    arch::is_flushing(arch::read())
}

#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "x86", target_feature = "sse")
))]
mod arch {
    use std::arch::asm;

    pub type Register = u32;
    /// MXCSR bit 15, flush-to-zero (denormal results become zero), and bit 6,
    /// denormals-are-zero (denormal operands are read as zero).
    const FTZ_DAZ: u32 = 1 << 15 | 1 << 6;

    #[inline]
    pub fn read() -> Register {
        let mut csr: u32 = 0;
        // SAFETY: `stmxcsr` stores the 32-bit MXCSR at the address given, which is `csr`:
        // valid, aligned and writable for the duration of the instruction. SSE is
        // present on every target this module is compiled for.
        unsafe {
            asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags));
        }
        csr
    }

    #[inline]
    pub fn write(csr: Register) {
        // SAFETY: `ldmxcsr` loads MXCSR from `csr`, a valid aligned u32. The value is
        // made of bits read from MXCSR on this thread, plus at most FTZ and DAZ (both
        // exist on every x86_64 processor and every SSE2 one), so no reserved bit is set
        // and nothing faults. The modes change how floats round, never memory safety.
        unsafe {
            asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags, readonly));
        }
    }

    #[inline]
    pub fn flushing(csr: Register) -> Register {
        csr | FTZ_DAZ
    }

    /// The sticky exception flags (bits 0 to 5), which any arithmetic may raise; the
    /// other bits are modes.
    const FLAGS: u32 = 0x3f;

    /// `csr`'s exception flags with `previous`'s modes.
    #[inline]
    pub fn restored(csr: Register, previous: Register) -> Register {
        csr & FLAGS | previous & !FLAGS
    }

    #[inline]
    pub fn is_flushing(csr: Register) -> bool {
        csr & FTZ_DAZ == FTZ_DAZ
    }

    /// The modes alone.
    #[cfg(test)]
    pub fn modes(csr: Register) -> Register {
        csr & !FLAGS
    }
}

#[cfg(target_arch = "aarch64")]
mod arch {
    use std::arch::asm;

    pub type Register = u64;
    /// FPCR bit 24, FZ: denormal operands and results of single and double precision
    /// arithmetic are flushed to zero.
    const FZ: u64 = 1 << 24;

    #[inline]
    pub fn read() -> Register {
        let fpcr: u64;
        // SAFETY: reading FPCR has no side effect; it is accessible at EL0.
        unsafe {
            asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags));
        }
        fpcr
    }

    #[inline]
    pub fn write(fpcr: Register) {
        // SAFETY: the value is one read from FPCR on this thread, with at most the FZ
        // bit set, which every AArch64 processor implements; the modes change how floats
        // round, never memory safety.
        unsafe {
            asm!("msr fpcr, {}", in(reg) fpcr, options(nomem, nostack, preserves_flags));
        }
    }

    #[inline]
    pub fn flushing(fpcr: Register) -> Register {
        fpcr | FZ
    }

    /// FPCR holds modes only (the flags are in FPSR): all of `previous`.
    #[inline]
    pub fn restored(_: Register, previous: Register) -> Register {
        previous
    }

    #[inline]
    pub fn is_flushing(fpcr: Register) -> bool {
        fpcr & FZ == FZ
    }

    /// FPCR holds modes only (the flags are in FPSR).
    #[cfg(test)]
    pub fn modes(fpcr: Register) -> Register {
        fpcr
    }
}

#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "x86", target_feature = "sse"),
    target_arch = "aarch64"
)))]
mod arch {
    pub type Register = ();

    pub fn read() -> Register {}

    pub fn write(_: Register) {}

    pub fn flushing(_: Register) -> Register {}

    pub fn restored(_: Register, _: Register) -> Register {}

    #[cfg(test)]
    pub fn modes(_: Register) -> Register {}

    pub fn is_flushing(_: Register) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    /// The largest denormal times one: a denormal unless the processor flushes it.
    fn denormal_times_one() -> f32 {
        black_box(f32::MIN_POSITIVE / 2.0) * black_box(1.0)
    }

    #[test]
    fn denormals_flush_inside_the_guard_and_survive_after_it() {
        // Each test runs on a thread of its own, which starts in the default mode.
        assert!(!is_enabled());
        assert!(denormal_times_one().is_subnormal());
        {
            let _flush = FlushToZero::enable();
            if AVAILABLE {
                assert!(is_enabled());
                assert_eq!(denormal_times_one(), 0.0);
            }
        }
        assert!(!is_enabled());
        assert!(denormal_times_one().is_subnormal());
    }

    #[test]
    fn a_nested_guard_leaves_the_outer_mode_in_place() {
        let outer = FlushToZero::enable();
        {
            let _inner = FlushToZero::enable();
        }
        assert_eq!(is_enabled(), AVAILABLE);
        if AVAILABLE {
            assert_eq!(denormal_times_one(), 0.0);
        }
        drop(outer);
        assert!(!is_enabled());
    }

    /// fundsp's feedback nodes overwrite the whole of MXCSR (rounding to nearest among
    /// the rest): a caller rounding otherwise gets its mode back all the same.
    #[cfg(any(
        target_arch = "x86_64",
        all(target_arch = "x86", target_feature = "sse")
    ))]
    #[test]
    fn modes_that_fundsp_overwrites_inside_the_guard_come_back() {
        const ROUND_TOWARD_ZERO: u32 = 0b11 << 13;
        let default = arch::read();
        arch::write(default | ROUND_TOWARD_ZERO);
        let before = arch::modes(arch::read());
        {
            let _flush = FlushToZero::enable();
            fundsp::denormal::prevent_denormals();
            assert_eq!(arch::read() & ROUND_TOWARD_ZERO, 0);
        }
        let after = arch::modes(arch::read());
        arch::write(default);
        assert_eq!(after, before);
    }

    #[test]
    fn only_the_flush_bits_change_and_all_of_them_come_back() {
        let before = arch::modes(arch::read());
        let guard = FlushToZero::enable();
        let inside = arch::modes(arch::read());
        drop(guard);
        assert_eq!(arch::modes(arch::read()), before);
        if AVAILABLE {
            assert_eq!(inside, arch::flushing(before));
        }
    }
}
