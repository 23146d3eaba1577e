//! A port's timestamps mapped to [`Instant`]s.

use std::time::{Duration, Instant};

/// By how much the offset between a port's timestamp clock and [`Instant`] may rise per
/// unit of elapsed stamp time (200 ppm): lets the estimate follow a stamp clock that runs
/// slow, which a minimum alone never would. Crystal clocks differ by well under this.
const STAMP_DRIFT_ALLOWANCE: f64 = 200e-6;

/// A message that arrives this much later than its stamp predicts means the stamp clock
/// was restarted or jumped, not that the callback was that late: start estimating afresh.
const STAMP_RESYNC: Duration = Duration::from_secs(1);

/// Maps a port's microsecond timestamps (arbitrary origin, one per connection) to
/// [`Instant`]s. The offset `arrival − stamp` is the stamp's instant plus however late
/// the callback ran, so its minimum over messages is the best estimate: a late first
/// message is corrected by the next prompt one. Mapped instants never run backwards and
/// never lie after the arrival.
#[derive(Clone, Copy, Debug)]
pub(super) struct StampClock {
    epoch: Instant,
    /// Nanoseconds to add to a stamp to get nanoseconds since `epoch`.
    offset: Option<i128>,
    last_stamp_us: u64,
}

impl StampClock {
    pub(super) fn new(epoch: Instant) -> StampClock {
        StampClock {
            epoch,
            offset: None,
            last_stamp_us: 0,
        }
    }

    pub(super) fn instant(&mut self, stamp_us: u64, arrival: Instant) -> Instant {
        let arrival_ns = arrival.saturating_duration_since(self.epoch).as_nanos() as i128;
        let stamp_ns = i128::from(stamp_us) * 1000;
        let observed = arrival_ns - stamp_ns;
        let offset = match self.offset {
            Some(previous)
                if stamp_us >= self.last_stamp_us
                    && observed - previous <= STAMP_RESYNC.as_nanos() as i128 =>
            {
                let elapsed_ns = (stamp_us - self.last_stamp_us) as f64 * 1000.0;
                let allowance = (elapsed_ns * STAMP_DRIFT_ALLOWANCE) as i128;
                observed.min(previous + allowance)
            }
            // The first message, a stamp clock that went backwards or jumped.
            _ => observed,
        };
        self.offset = Some(offset);
        self.last_stamp_us = stamp_us;
        let nanos = (stamp_ns + offset).max(0);
        self.epoch + Duration::from_nanos(nanos as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal within 1 ms (the drift allowance moves estimates by microseconds).
    fn assert_near(actual: Instant, expected: Instant) {
        let error = if actual > expected {
            actual - expected
        } else {
            expected - actual
        };
        assert!(
            error < Duration::from_millis(1),
            "{actual:?} vs {expected:?}"
        );
    }

    #[test]
    fn stamps_map_to_instants_monotonically_despite_a_late_first_arrival() {
        let epoch = Instant::now();
        let ms = Duration::from_millis;
        let mut clock = StampClock::new(epoch);
        // The device's clock reads 5 s when we are at epoch + 1 s. The first message
        // arrives 40 ms late; its instant can only be its arrival.
        let origin_us = 5_000_000u64;
        let at = |stamp_ms: u64| origin_us + stamp_ms * 1000;
        let first = clock.instant(at(1000), epoch + ms(1040));
        assert_eq!(first, epoch + ms(1040));
        // The second arrives on time: the estimate corrects itself.
        let second = clock.instant(at(1100), epoch + ms(1100));
        assert_eq!(second, epoch + ms(1100));
        // A third, 25 ms late: mapped to when it happened.
        let third = clock.instant(at(1200), epoch + ms(1225));
        assert_near(third, epoch + ms(1200));
        // Messages with equal stamps in a late burst keep their time.
        let fourth = clock.instant(at(1300), epoch + ms(1310));
        let fifth = clock.instant(at(1300), epoch + ms(1311));
        assert_near(fourth, epoch + ms(1300));
        assert_eq!(fourth, fifth);

        // A long, consistent series: never backwards, never after arrival, and late
        // arrivals mapped to their stamps' time.
        let mut previous = fifth;
        for i in 0..2000u64 {
            let stamp_ms = 1400 + i * 7;
            let lateness = ms((i * 37) % 23);
            let arrival = epoch + ms(stamp_ms) + lateness;
            let mapped = clock.instant(at(stamp_ms), arrival);
            assert!(mapped >= previous, "monotonic at {i}");
            assert!(mapped <= arrival, "not after arrival at {i}");
            let error = mapped.saturating_duration_since(epoch + ms(stamp_ms));
            assert!(error < ms(2), "{error:?} at {i}");
            previous = mapped;
        }

        // The stamp clock restarts (a reconnection): estimation starts afresh.
        let now = epoch + ms(20_000);
        let restarted = clock.instant(0, now);
        assert_eq!(restarted, now);
        assert_eq!(clock.instant(50_000, now + ms(50)), now + ms(50));
    }

    #[test]
    fn the_stamp_estimate_follows_a_slow_device_clock() {
        // The device's clock runs 100 ppm slow: the offset grows, which a plain minimum
        // would never follow (mapped times would fall ever further behind).
        let epoch = Instant::now();
        let mut clock = StampClock::new(epoch);
        let mut worst = Duration::ZERO;
        for i in 0..=600u64 {
            let real_us = i * 1_000_000; // one message a second for ten minutes
            let stamp_us = real_us - real_us / 10_000;
            let arrival = epoch + Duration::from_micros(real_us);
            let mapped = clock.instant(stamp_us, arrival);
            worst = worst.max(arrival - mapped);
        }
        assert!(worst < Duration::from_millis(1), "{worst:?}");
    }
}
