//! Instance-pool decisions, free of processes, clocks and I/O: which instance takes a
//! request, when to start a new one, when to throttle, which idle instances to release.
//! The engine owns the real instances and applies these decisions; tests drive the same
//! logic with a hand-moved clock.
#![deny(missing_docs)]

mod pool;
mod quota;

pub use pool::{Acquire, Pool, PoolLimits};
pub use quota::Quota;
