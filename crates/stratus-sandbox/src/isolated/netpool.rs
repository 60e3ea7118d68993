//! Network namespaces made ahead of time. Creating one inside `clone(2)` costs ~0.4 ms
//! here, and bringing up loopback, adding the host-address routes and binding the runtime
//! API port from a thread that joins it costs about as much again; a cold start takes a
//! ready namespace instead and its child only `setns`es into it.

use super::netns;
use std::collections::VecDeque;
use std::net::{Ipv4Addr, TcpListener};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A namespace with `lo` up, host addresses unreachable and the API port bound.
pub struct ReadyNet {
    pub ns: OwnedFd,
    pub listener: TcpListener,
    blocked: Vec<Ipv4Addr>,
}

impl ReadyNet {
    /// Whether an instance that needs `blocked` unreachable can use this namespace. A
    /// namespace blocking more is fine: without a route out the extra routes change
    /// nothing.
    fn fits(&self, blocked: &[Ipv4Addr]) -> bool {
        blocked.iter().all(|a| self.blocked.contains(a))
    }
}

struct State {
    ready: VecDeque<ReadyNet>,
    stopped: bool,
}

/// Keeps `size` namespaces ready; a background thread refills it until the pool is
/// dropped.
pub struct NetPool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    wake: Condvar,
    size: usize,
    port: u16,
    block_host: bool,
}

impl NetPool {
    /// Starts the refill thread. `block_host`: make the host's own addresses unreachable
    /// (read when each namespace is made; a cold start re-reads them and takes only a
    /// namespace that blocks all of them).
    pub fn start(size: usize, port: u16, block_host: bool) -> std::io::Result<NetPool> {
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                ready: VecDeque::new(),
                stopped: false,
            }),
            wake: Condvar::new(),
            size,
            port,
            block_host,
        });
        let host = std::fs::File::open("/proc/thread-self/ns/net")?;
        let p = inner.clone();
        std::thread::Builder::new()
            .name("netns-pool".into())
            .spawn(move || p.refill(host))?;
        Ok(NetPool { inner })
    }

    /// A ready namespace for an instance that must not reach `blocked`, if one is there.
    pub fn take(&self, blocked: &[Ipv4Addr]) -> Option<ReadyNet> {
        let inner = &self.inner;
        let mut st = inner.state.lock().unwrap_or_else(|p| p.into_inner());
        let at = st.ready.iter().position(|n| n.fits(blocked));
        let taken = at.and_then(|i| st.ready.remove(i));
        if at.is_none() {
            // Made before the host's addresses changed: none of them will fit.
            st.ready.clear();
        }
        drop(st);
        inner.wake.notify_one();
        taken
    }
}

impl Inner {
    fn refill(&self, host: std::fs::File) {
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
            match self.make(&host) {
                Ok(net) => {
                    failures = 0;
                    let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
                    st.ready.push_back(net);
                }
                Err(e) => {
                    failures += 1;
                    if failures == 1 {
                        tracing::warn!("netns pool: {e}; cold starts create their own");
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

    /// Makes one namespace on this thread, then returns the thread to the host's.
    fn make(&self, host: &std::fs::File) -> std::io::Result<ReadyNet> {
        // Read in the host's namespace: the new one has only loopback.
        let blocked = if self.block_host {
            netns::host_addresses()?
        } else {
            Vec::new()
        };
        // SAFETY: unshare affects only this thread's network namespace.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let made = (|| {
            netns::loopback_up()?;
            netns::block(&blocked)?;
            let listener = TcpListener::bind(("127.0.0.1", self.port))?;
            let ns = std::fs::File::open("/proc/thread-self/ns/net")?;
            Ok(ReadyNet {
                ns: OwnedFd::from(ns),
                listener,
                blocked,
            })
        })();
        // SAFETY: setns back to the namespace this thread started in.
        if unsafe { libc::setns(host.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            // This thread can no longer make namespaces correctly; stop it.
            let e = std::io::Error::last_os_error();
            self.state.lock().unwrap_or_else(|p| p.into_inner()).stopped = true;
            return Err(std::io::Error::other(format!("return to host netns: {e}")));
        }
        made
    }
}

impl Drop for NetPool {
    fn drop(&mut self) {
        let inner = &self.inner;
        inner
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .stopped = true;
        inner.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_namespace_is_separate_and_ready() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIP: making network namespaces needs root");
            return;
        }
        const PORT: u16 = 47913;
        let pool = NetPool::start(2, PORT, false).unwrap();
        let mut got = None;
        for _ in 0..200 {
            got = pool.take(&[]);
            if got.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let net = got.expect("a namespace within 2 s");
        use std::os::unix::fs::MetadataExt;
        let host_ns = std::fs::metadata("/proc/self/ns/net").unwrap().ino();
        let pooled = std::fs::metadata(format!("/proc/self/fd/{}", net.ns.as_raw_fd()))
            .unwrap()
            .ino();
        assert_ne!(host_ns, pooled, "the pool's namespace is the host's");
        // The port is bound inside the pooled namespace, not on the host.
        assert_eq!(net.listener.local_addr().unwrap().port(), PORT);
        assert!(std::net::TcpStream::connect(("127.0.0.1", PORT)).is_err());
        // The refill thread went back to the host's namespace after making it.
        let refill = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(Result::ok)
            .find(|t| {
                std::fs::read_to_string(t.path().join("comm"))
                    .is_ok_and(|c| c.trim() == "netns-pool")
            })
            .expect("the refill thread");
        let refill_ns = std::fs::metadata(refill.path().join("ns/net"))
            .unwrap()
            .ino();
        assert_eq!(refill_ns, host_ns);
    }

    #[test]
    fn a_namespace_fits_only_when_it_blocks_every_needed_address() {
        let (a, b) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
        let l = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let ns = OwnedFd::from(std::fs::File::open("/dev/null").unwrap());
        let net = ReadyNet {
            ns,
            listener: l,
            blocked: vec![a],
        };
        assert!(net.fits(&[]));
        assert!(net.fits(&[a]));
        assert!(!net.fits(&[a, b]));
    }
}
