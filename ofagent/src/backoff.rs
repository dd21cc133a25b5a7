//! Reconnection timing for active controller connections: capped exponential backoff.
//!
//! After a failed attempt or a lost connection the next attempt waits `initial`, then twice
//! that, up to `max`. A connection that stayed up for at least `max` resets the delay, so a
//! controller restart is picked up quickly while a controller that is down for good costs
//! one attempt every `max`.

use std::time::Duration;

/// Default first delay.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// Default cap (Open vSwitch's default max-backoff is 8 s).
pub const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// When to try connecting next. Time is passed in (sans-IO).
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next_delay: Duration,
    next_attempt: Duration,
    connected_at: Option<Duration>,
}

impl Backoff {
    /// A schedule whose first attempt is due at `now`.
    pub fn new(initial: Duration, max: Duration, now: Duration) -> Self {
        let initial = initial.max(Duration::from_millis(1));
        Backoff {
            initial,
            max: max.max(initial),
            next_delay: initial,
            next_attempt: now,
            connected_at: None,
        }
    }

    /// Whether an attempt is due.
    pub fn due(&self, now: Duration) -> bool {
        self.connected_at.is_none() && now >= self.next_attempt
    }

    /// When the next attempt is due (None while connected).
    pub fn next_attempt(&self) -> Option<Duration> {
        self.connected_at.is_none().then_some(self.next_attempt)
    }

    /// An attempt failed (or was started and is pending): schedule the next one.
    pub fn failed(&mut self, now: Duration) {
        self.connected_at = None;
        self.next_attempt = now + self.next_delay;
        self.next_delay = (self.next_delay * 2).min(self.max);
    }

    /// The connection is up.
    pub fn connected(&mut self, now: Duration) {
        self.connected_at = Some(now);
    }

    /// The connection went down: a connection that lived at least `max` starts over from
    /// the initial delay.
    pub fn disconnected(&mut self, now: Duration) {
        if let Some(t) = self.connected_at.take() {
            if now.saturating_sub(t) >= self.max {
                self.next_delay = self.initial;
            }
        }
        self.failed(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn doubles_up_to_the_cap() {
        let mut b = Backoff::new(100 * MS, 800 * MS, Duration::ZERO);
        assert!(b.due(Duration::ZERO));
        let mut now = Duration::ZERO;
        let mut delays = Vec::new();
        for _ in 0..6 {
            b.failed(now);
            let next = b.next_attempt().unwrap();
            delays.push((next - now).as_millis());
            assert!(!b.due(next - MS));
            assert!(b.due(next));
            now = next;
        }
        assert_eq!(delays, vec![100, 200, 400, 800, 800, 800]);
    }

    #[test]
    fn a_long_lived_connection_resets_the_delay() {
        let mut b = Backoff::new(100 * MS, 800 * MS, Duration::ZERO);
        for i in 0..5 {
            b.failed(i * 1000 * MS);
        }
        b.connected(10_000 * MS);
        assert!(b.next_attempt().is_none());
        assert!(!b.due(20_000 * MS));
        b.disconnected(20_000 * MS);
        assert_eq!(b.next_attempt(), Some(20_100 * MS));
        // A connection that flaps right away keeps backing off.
        b.connected(20_100 * MS);
        b.disconnected(20_150 * MS);
        assert_eq!(b.next_attempt(), Some(20_350 * MS));
    }
}
