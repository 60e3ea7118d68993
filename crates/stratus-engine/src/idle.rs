//! Idle mode of reserved instances: an instance whose policy has `idle_mode` is frozen
//! (cgroup freezer, or SIGSTOP in the `process` backend) while it has no request, and
//! thawed before a request is handed to it. Only frozen instances pay the thaw.

use std::sync::{Arc, Mutex};
use std::time::Instant;
use stratus_sandbox::InstanceHandle;

#[derive(Default)]
struct State {
    /// Freeze when idle (a reserved instance of an idle-mode policy).
    enabled: bool,
    /// Requests handed to the instance and not finished.
    users: u32,
    frozen: bool,
}

/// Freezes and thaws one instance; every change happens under one lock, so a request
/// never meets an instance a concurrent release has just frozen.
pub(crate) struct IdleGate {
    handle: Arc<dyn InstanceHandle>,
    state: Mutex<State>,
}

impl IdleGate {
    pub fn new(handle: Arc<dyn InstanceHandle>) -> Self {
        IdleGate {
            handle,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A request is about to be handed over: thaw if frozen.
    pub fn enter(&self) {
        let mut s = self.lock();
        s.users += 1;
        if s.frozen {
            let t = Instant::now();
            if let Err(e) = self.handle.thaw() {
                tracing::warn!("thawing an idle instance failed: {e}");
            }
            s.frozen = false;
            tracing::debug!(thaw_us = t.elapsed().as_micros() as u64, "instance thawed");
        }
    }

    /// A request has finished: freeze when it was the last one and idle mode is on.
    pub fn leave(&self) {
        let mut s = self.lock();
        s.users = s.users.saturating_sub(1);
        if s.users == 0 && s.enabled && !s.frozen {
            self.freeze(&mut s);
        }
    }

    /// Whether idle mode is on for this instance.
    pub fn enabled(&self) -> bool {
        self.lock().enabled
    }

    /// Turns idle mode on or off for this instance, freezing or thawing it if idle.
    pub fn set_enabled(&self, on: bool) {
        let mut s = self.lock();
        if s.enabled == on {
            return;
        }
        s.enabled = on;
        if on && s.users == 0 && !s.frozen {
            self.freeze(&mut s);
        } else if !on && s.frozen {
            if let Err(e) = self.handle.thaw() {
                tracing::warn!("thawing an instance failed: {e}");
            }
            s.frozen = false;
        }
    }

    fn freeze(&self, s: &mut State) {
        match self.handle.freeze() {
            Ok(()) => s.frozen = true,
            // Stays warm instead; idle mode only saves resources.
            Err(e) => tracing::debug!("idle instance not frozen: {e}"),
        }
    }
}
