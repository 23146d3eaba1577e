//! A bank of exponentially decaying sinusoids: the partials of a plucked or struck string.
//!
//! Each partial is a phasor rotated once per sample by a complex factor whose magnitude
//! sets its decay, so a partial costs four multiplies and no transcendental per sample.
//! Separate decay times per partial are what make a string sound like a string rather
//! than a bell: the upper partials die first.

/// Partials of one string. `N` is the bank's capacity, sized per instrument.
#[derive(Clone, Debug)]
pub struct Partials<const N: usize> {
    re: [f32; N],
    im: [f32; N],
    rot_re: [f32; N],
    rot_im: [f32; N],
    omega: [f32; N],
    len: usize,
}

impl<const N: usize> Default for Partials<N> {
    fn default() -> Self {
        Self {
            re: [0.0; N],
            im: [0.0; N],
            rot_re: [0.0; N],
            rot_im: [0.0; N],
            omega: [0.0; N],
            len: 0,
        }
    }
}

/// Per-sample decay factor for a 60 dB fall over `t60_s` seconds.
#[inline]
pub fn decay_per_sample(t60_s: f32, sample_rate: f32) -> f32 {
    // 60 dB = a factor 1000 = e^6.9078.
    (-6.907_755 / (t60_s.max(1e-4) * sample_rate)).exp()
}

impl<const N: usize> Partials<N> {
    /// Silence every partial and forget them.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Add a partial at `hz` with amplitude `amplitude`, starting phase `phase` (radians)
    /// and decay time `t60_s`. Partials at or above Nyquist, or beyond capacity, are
    /// skipped: they would only alias.
    pub fn push(&mut self, hz: f32, amplitude: f32, phase: f32, t60_s: f32, sample_rate: f32) {
        if self.len == N || hz >= 0.45 * sample_rate || hz <= 0.0 {
            return;
        }
        let k = self.len;
        let omega = std::f32::consts::TAU * hz / sample_rate;
        let decay = decay_per_sample(t60_s, sample_rate);
        self.re[k] = amplitude * phase.cos();
        self.im[k] = amplitude * phase.sin();
        self.rot_re[k] = decay * omega.cos();
        self.rot_im[k] = decay * omega.sin();
        self.omega[k] = omega;
        self.len += 1;
    }

    /// Strike the bank again without restarting it: add `amplitude` to partial `k` at
    /// `phase`. A cymbal or drum struck while still ringing keeps its old motion.
    pub fn excite(&mut self, k: usize, amplitude: f32, phase: f32) {
        if k < self.len {
            self.re[k] += amplitude * phase.cos();
            self.im[k] += amplitude * phase.sin();
        }
    }

    /// Number of partials in the bank.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the bank holds no partial.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forget partials whose energy fell below `floor`: a decaying note gets cheaper as
    /// its upper partials die out.
    pub fn prune(&mut self, floor: f32) {
        let mut k = 0;
        while k < self.len {
            if self.re[k] * self.re[k] + self.im[k] * self.im[k] < floor {
                let last = self.len - 1;
                self.re[k] = self.re[last];
                self.im[k] = self.im[last];
                self.rot_re[k] = self.rot_re[last];
                self.rot_im[k] = self.rot_im[last];
                self.omega[k] = self.omega[last];
                self.len = last;
            } else {
                k += 1;
            }
        }
    }

    /// Make every partial decay at least as fast as `t60_s` (a damper, a lifted finger).
    pub fn damp(&mut self, t60_s: f32, sample_rate: f32) {
        let decay = decay_per_sample(t60_s, sample_rate);
        for k in 0..self.len {
            let current =
                (self.rot_re[k] * self.rot_re[k] + self.rot_im[k] * self.rot_im[k]).sqrt();
            if decay < current {
                self.rot_re[k] = decay * self.omega[k].cos();
                self.rot_im[k] = decay * self.omega[k].sin();
            }
        }
    }

    /// Sum of squared partial amplitudes: an upper bound on the power still to come, used to
    /// decide when a voice has fallen silent.
    pub fn energy(&self) -> f32 {
        (0..self.len)
            .map(|k| self.re[k] * self.re[k] + self.im[k] * self.im[k])
            .sum()
    }

    /// The next output sample.
    #[inline]
    pub fn tick(&mut self) -> f32 {
        let n = self.len;
        // Four partials at a time with four separate sums, so the compiler can use SIMD
        // lanes (a single running sum would force strict sequential order).
        let mut sums = [0.0f32; 4];
        let whole = n - n % 4;
        let (re, re_rest) = self.re[..n].split_at_mut(whole);
        let (im, im_rest) = self.im[..n].split_at_mut(whole);
        let (cr, cr_rest) = self.rot_re[..n].split_at(whole);
        let (ci, ci_rest) = self.rot_im[..n].split_at(whole);
        for (((re, im), cr), ci) in re
            .chunks_exact_mut(4)
            .zip(im.chunks_exact_mut(4))
            .zip(cr.chunks_exact(4))
            .zip(ci.chunks_exact(4))
        {
            for j in 0..4 {
                let next_re = re[j] * cr[j] - im[j] * ci[j];
                let next_im = re[j] * ci[j] + im[j] * cr[j];
                re[j] = next_re;
                im[j] = next_im;
                sums[j] += next_im;
            }
        }
        let mut rest = 0.0;
        for (((re, im), cr), ci) in re_rest
            .iter_mut()
            .zip(im_rest.iter_mut())
            .zip(cr_rest)
            .zip(ci_rest)
        {
            let next_re = *re * cr - *im * ci;
            let next_im = *re * ci + *im * cr;
            *re = next_re;
            *im = next_im;
            rest += next_im;
        }
        (sums[0] + sums[1]) + (sums[2] + sums[3]) + rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_rings_at_its_frequency_and_decays() {
        let sr = 48_000.0;
        let mut bank = Partials::<4>::default();
        bank.push(100.0, 1.0, 0.0, 1.0, sr);
        let out: Vec<f32> = (0..48_000).map(|_| bank.tick()).collect();
        // Zero crossings upward over the first 0.5 s: 50 periods.
        let ups = out[..24_000]
            .windows(2)
            .filter(|w| w[0] <= 0.0 && w[1] > 0.0)
            .count();
        assert!((49..=51).contains(&ups), "{ups} upward crossings");
        // After one second the level is 60 dB down.
        let tail = out[47_000..].iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!((tail - 0.001).abs() < 0.0005, "tail {tail}");
    }

    #[test]
    fn damping_shortens_the_decay() {
        let sr = 48_000.0;
        let mut bank = Partials::<2>::default();
        bank.push(220.0, 1.0, 0.0, 5.0, sr);
        bank.damp(0.1, sr);
        for _ in 0..9_600 {
            bank.tick();
        }
        assert!(bank.energy() < 1e-6);
    }

    #[test]
    fn partials_above_nyquist_are_skipped() {
        let mut bank = Partials::<2>::default();
        bank.push(30_000.0, 1.0, 0.0, 1.0, 48_000.0);
        assert_eq!(bank.energy(), 0.0);
    }
}
