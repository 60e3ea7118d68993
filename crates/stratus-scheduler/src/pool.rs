//! One pool per (function version, memory size).

use std::time::{Duration, Instant};

/// Limits of a pool, taken from the function's strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLimits {
    /// Max instances; `None` is unlimited, `Some(0)` disables the function.
    pub max_instances: Option<u32>,
    /// Requests one instance serves at once.
    pub per_instance: u32,
}

/// The decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquire {
    /// Use this instance; a slot on it is taken.
    Use(u64),
    /// Start a new instance; a start is reserved and must be finished with
    /// `started` or `start_failed`.
    Start,
    /// An instance being started has room for this request too: wait until the start
    /// ends (`started` or `start_failed`), call `stop_waiting`, then acquire again. This is
    /// what keeps a cold burst within one instance's concurrency to one cold start.
    Wait,
    /// Every instance is busy and no more may start.
    Throttle,
}

#[derive(Debug)]
struct Slot {
    id: u64,
    in_flight: u32,
    last_used: Instant,
    reserved: bool,
}

/// Instances of one pool and their load.
#[derive(Debug)]
pub struct Pool {
    limits: PoolLimits,
    slots: Vec<Slot>,
    starting: u32,
    /// Requests waiting for an instance that is starting.
    waiting: u32,
}

impl Pool {
    /// An empty pool.
    pub fn new(limits: PoolLimits) -> Self {
        Pool {
            limits,
            slots: Vec::new(),
            starting: 0,
            waiting: 0,
        }
    }

    /// Changes the limits (a config update); running instances stay.
    pub fn set_limits(&mut self, limits: PoolLimits) {
        self.limits = limits;
    }

    /// The current limits.
    pub fn limits(&self) -> PoolLimits {
        self.limits
    }

    /// Decides where a request goes. Prefers the busiest instance that still has room, so
    /// load packs onto few instances and the rest can go idle.
    pub fn acquire(&mut self, now: Instant) -> Acquire {
        let cap = self.limits.per_instance.max(1);
        let best = self
            .slots
            .iter_mut()
            .filter(|s| s.in_flight < cap)
            .max_by_key(|s| (s.reserved, s.in_flight));
        if let Some(slot) = best {
            slot.in_flight += 1;
            slot.last_used = now;
            return Acquire::Use(slot.id);
        }
        // Each start serves its own request plus `cap - 1` more once it is up.
        if self.waiting < self.starting * (cap - 1) {
            self.waiting += 1;
            return Acquire::Wait;
        }
        let total = self.slots.len() as u32 + self.starting;
        match self.limits.max_instances {
            Some(max) if total >= max => Acquire::Throttle,
            _ => {
                self.starting += 1;
                Acquire::Start
            }
        }
    }

    /// A reserved start produced instance `id`; the request that started it holds a slot.
    pub fn started(&mut self, id: u64, now: Instant) {
        self.starting = self.starting.saturating_sub(1);
        self.slots.push(Slot {
            id,
            in_flight: 1,
            last_used: now,
            reserved: false,
        });
    }

    /// Instances kept as reserved (warm whatever the load, never reaped when idle).
    pub fn reserved_count(&self) -> usize {
        self.slots.iter().filter(|s| s.reserved).count()
    }

    /// Whether instance `id` is kept as reserved.
    pub fn is_reserved(&self, id: u64) -> bool {
        self.slots.iter().any(|s| s.id == id && s.reserved)
    }

    /// Reserves a start of a reserved instance if max instances allows one more; finish
    /// it with `started_reserved` or `start_failed`.
    pub fn begin_reserved_start(&mut self) -> bool {
        let total = self.slots.len() as u32 + self.starting;
        match self.limits.max_instances {
            Some(max) if total >= max => false,
            _ => {
                self.starting += 1;
                true
            }
        }
    }

    /// A reserved start produced instance `id`, idle and reserved.
    pub fn started_reserved(&mut self, id: u64, now: Instant) {
        self.starting = self.starting.saturating_sub(1);
        self.slots.push(Slot {
            id,
            in_flight: 0,
            last_used: now,
            reserved: true,
        });
    }

    /// Makes `n` reserved instances ordinary again (idle ones first); idle reaping then
    /// releases them.
    pub fn unreserve(&mut self, n: usize) {
        let mut left = n;
        for busy in [false, true] {
            for s in self.slots.iter_mut() {
                if left > 0 && s.reserved && (s.in_flight > 0) == busy {
                    s.reserved = false;
                    left -= 1;
                }
            }
        }
    }

    /// A request that got `Wait` stops waiting (the start it waited for has ended).
    pub fn stop_waiting(&mut self) {
        self.waiting = self.waiting.saturating_sub(1);
    }

    /// A reserved start failed.
    pub fn start_failed(&mut self) {
        self.starting = self.starting.saturating_sub(1);
    }

    /// A request on instance `id` finished.
    pub fn release(&mut self, id: u64, now: Instant) {
        if let Some(slot) = self.slots.iter_mut().find(|s| s.id == id) {
            slot.in_flight = slot.in_flight.saturating_sub(1);
            slot.last_used = now;
        }
    }

    /// Removes instance `id` (it died or was reaped). Returns whether it was present.
    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.slots.len();
        self.slots.retain(|s| s.id != id);
        self.slots.len() != before
    }

    /// Instances with nothing in flight for at least `idle`; they are removed from the
    /// pool and the caller stops them.
    pub fn take_idle(&mut self, now: Instant, idle: Duration) -> Vec<u64> {
        let mut out = Vec::new();
        self.slots.retain(|s| {
            let expired = s.in_flight == 0
                && !s.reserved
                && now.saturating_duration_since(s.last_used) >= idle;
            if expired {
                out.push(s.id);
            }
            !expired
        });
        out
    }

    /// Removes every instance with nothing in flight (the code or config changed).
    pub fn take_all_idle(&mut self) -> Vec<u64> {
        let mut out = Vec::new();
        self.slots.retain(|s| {
            if s.in_flight == 0 {
                out.push(s.id);
            }
            s.in_flight != 0
        });
        out
    }

    /// Instances in the pool (ready ones) and starts in progress.
    pub fn size(&self) -> (usize, u32) {
        (self.slots.len(), self.starting)
    }

    /// Requests in flight across the pool.
    pub fn busy(&self) -> u32 {
        self.slots.iter().map(|s| s.in_flight).sum()
    }

    /// Whether the pool holds nothing at all.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty() && self.starting == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(max: Option<u32>, per: u32) -> Pool {
        Pool::new(PoolLimits {
            max_instances: max,
            per_instance: per,
        })
    }

    #[test]
    fn warm_instance_is_reused() {
        let t = Instant::now();
        let mut p = pool(Some(10), 1);
        assert_eq!(p.acquire(t), Acquire::Start);
        p.started(1, t);
        p.release(1, t);
        assert_eq!(p.acquire(t), Acquire::Use(1));
        assert_eq!(p.size(), (1, 0));
    }

    #[test]
    fn multi_concurrency_packs_requests() {
        let t = Instant::now();
        let mut p = pool(None, 5);
        assert_eq!(p.acquire(t), Acquire::Start);
        p.started(1, t);
        for _ in 0..4 {
            assert_eq!(p.acquire(t), Acquire::Use(1));
        }
        assert_eq!(
            p.acquire(t),
            Acquire::Start,
            "sixth request needs a new instance"
        );
        assert_eq!(p.busy(), 5);
    }

    #[test]
    fn cold_burst_waits_for_the_starting_instance() {
        let t = Instant::now();
        let mut p = pool(None, 5);
        assert_eq!(p.acquire(t), Acquire::Start);
        for _ in 0..4 {
            assert_eq!(p.acquire(t), Acquire::Wait);
        }
        assert_eq!(p.acquire(t), Acquire::Start, "the sixth does not fit");
        p.started(1, t);
        for _ in 0..4 {
            p.stop_waiting();
            assert_eq!(p.acquire(t), Acquire::Use(1));
        }
        assert_eq!(p.busy(), 5);
    }

    #[test]
    fn waiters_start_their_own_after_a_failed_start() {
        let t = Instant::now();
        let mut p = pool(Some(1), 3);
        assert_eq!(p.acquire(t), Acquire::Start);
        assert_eq!(p.acquire(t), Acquire::Wait);
        assert_eq!(p.acquire(t), Acquire::Wait);
        assert_eq!(
            p.acquire(t),
            Acquire::Throttle,
            "beyond one instance's room"
        );
        p.start_failed();
        p.stop_waiting();
        assert_eq!(p.acquire(t), Acquire::Start);
        p.stop_waiting();
        assert_eq!(p.acquire(t), Acquire::Wait);
    }

    #[test]
    fn reserved_instances_take_requests_first_and_stay_when_idle() {
        let t0 = Instant::now();
        let mut p = pool(Some(3), 1);
        assert_eq!(p.acquire(t0), Acquire::Start);
        p.started(1, t0);
        p.release(1, t0);
        assert!(p.begin_reserved_start());
        p.started_reserved(2, t0);
        assert!(p.begin_reserved_start());
        p.started_reserved(3, t0);
        assert!(
            !p.begin_reserved_start(),
            "max instances counts reserved ones"
        );
        assert_eq!(p.reserved_count(), 2);
        // Requests go to reserved instances first.
        assert!(matches!(p.acquire(t0), Acquire::Use(2) | Acquire::Use(3)));
        let later = t0 + Duration::from_secs(600);
        assert_eq!(p.take_idle(later, Duration::from_secs(60)), vec![1]);
        p.unreserve(1);
        assert_eq!(p.reserved_count(), 1);
        assert_eq!(
            p.take_idle(later, Duration::from_secs(60)).len(),
            1,
            "the idle unreserved one goes"
        );
        assert_eq!(p.size().0, 1);
    }

    #[test]
    fn one_per_instance_starts_one_each() {
        let t = Instant::now();
        let mut p = pool(None, 1);
        for id in 1..=5 {
            assert_eq!(p.acquire(t), Acquire::Start);
            p.started(id, t);
        }
        assert_eq!(p.size(), (5, 0));
    }

    #[test]
    fn max_instances_throttles_and_counts_starts() {
        let t = Instant::now();
        let mut p = pool(Some(1), 1);
        assert_eq!(p.acquire(t), Acquire::Start);
        assert_eq!(
            p.acquire(t),
            Acquire::Throttle,
            "a start in progress counts"
        );
        p.started(1, t);
        assert_eq!(p.acquire(t), Acquire::Throttle);
        p.release(1, t);
        assert_eq!(p.acquire(t), Acquire::Use(1));
        let mut disabled = pool(Some(0), 1);
        assert_eq!(disabled.acquire(t), Acquire::Throttle);
    }

    #[test]
    fn failed_start_frees_the_reservation() {
        let t = Instant::now();
        let mut p = pool(Some(1), 1);
        assert_eq!(p.acquire(t), Acquire::Start);
        p.start_failed();
        assert_eq!(p.acquire(t), Acquire::Start);
    }

    #[test]
    fn idle_instances_are_reaped_after_the_timeout() {
        let t0 = Instant::now();
        let mut p = pool(None, 1);
        p.acquire(t0);
        p.started(1, t0);
        p.acquire(t0);
        p.started(2, t0);
        p.release(1, t0);
        let idle = Duration::from_secs(60);
        assert!(p.take_idle(t0 + Duration::from_secs(59), idle).is_empty());
        assert_eq!(p.take_idle(t0 + Duration::from_secs(60), idle), vec![1]);
        assert!(
            p.take_idle(t0 + Duration::from_secs(600), idle).is_empty(),
            "busy instance stays"
        );
        assert!(p.remove(2));
        assert!(p.is_empty());
    }
}
