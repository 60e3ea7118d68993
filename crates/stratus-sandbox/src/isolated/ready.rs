//! Things made ahead of cold starts on a background thread (network and mount
//! namespaces): the thread keeps `size` of them ready and makes another after each take.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Why making one failed.
pub enum Failed {
    /// Try again after a pause (given up after 20 failures in a row).
    Retry(std::io::Error),
    /// The thread can make no more (it could not return to the host's namespace).
    Broken(std::io::Error),
}

struct State<T> {
    ready: VecDeque<T>,
    stopped: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    wake: Condvar,
    size: usize,
}

/// The pool; dropping it stops the thread.
pub struct Ready<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Send + 'static> Ready<T> {
    /// Starts thread `name` calling `make`; `what` names the pool in warnings.
    pub fn start(
        name: &str,
        what: &'static str,
        size: usize,
        make: impl FnMut() -> Result<T, Failed> + Send + 'static,
    ) -> std::io::Result<Ready<T>> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                ready: VecDeque::new(),
                stopped: false,
            }),
            wake: Condvar::new(),
            size,
        });
        let s = shared.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || s.refill(what, make))?;
        Ok(Ready { shared })
    }

    /// Takes the first ready one that `fits`; with `clear` set, a take that finds none
    /// fitting drops them all (they were made for conditions that changed).
    pub fn take(&self, fits: impl Fn(&T) -> bool, clear: bool) -> Option<T> {
        let mut st = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        let at = st.ready.iter().position(fits);
        let taken = at.and_then(|i| st.ready.remove(i));
        if at.is_none() && clear {
            st.ready.clear();
        }
        drop(st);
        self.shared.wake.notify_one();
        taken
    }
}

impl<T> Shared<T> {
    fn refill(&self, what: &str, mut make: impl FnMut() -> Result<T, Failed>) {
        let mut failures = 0u32;
        loop {
            {
                let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
                while !st.stopped && st.ready.len() >= self.size {
                    st = self.wake.wait(st).unwrap_or_else(|p| p.into_inner());
                }
                if st.stopped {
                    return;
                }
            }
            match make() {
                Ok(t) => {
                    failures = 0;
                    let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
                    st.ready.push_back(t);
                }
                Err(Failed::Broken(e)) => {
                    tracing::warn!("{what}: {e}; cold starts make their own from now on");
                    return;
                }
                Err(Failed::Retry(e)) => {
                    failures += 1;
                    if failures == 1 {
                        tracing::warn!("{what}: {e}; cold starts make their own meanwhile");
                    }
                    if failures > 20 {
                        // Do not spin on a host that will not let us: the slow path works.
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100 * u64::from(failures)));
                }
            }
        }
    }
}

impl<T> Drop for Ready<T> {
    fn drop(&mut self) {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .stopped = true;
        self.shared.wake.notify_all();
    }
}
