//! Network namespaces made ahead of time. Creating one inside `clone(2)` costs ~0.4 ms
//! here, and bringing up loopback, adding the host-address routes and binding the runtime
//! API port from a thread that joins it costs about as much again; a cold start takes a
//! ready namespace instead and its child only `setns`es into it. With outbound network
//! on, each namespace also gets its slirp4netns here, which took a few ms of CPU beside
//! every cold start before.

use super::netns;
use super::ready::{Failed, Ready};
use super::slirp::{SlirpCmd, SlirpProc};
use std::net::{Ipv4Addr, TcpListener};
use std::os::fd::{AsRawFd, OwnedFd};

/// A namespace with `lo` up, host addresses unreachable and the API port bound.
pub struct ReadyNet {
    pub ns: OwnedFd,
    pub listener: TcpListener,
    blocked: Vec<Ipv4Addr>,
    /// Its outbound network, when the pool makes them with one.
    pub slirp: Option<SlirpProc>,
}

impl ReadyNet {
    /// Whether an instance that needs `blocked` unreachable can use this namespace. A
    /// namespace blocking more is fine: without a route out the extra routes change
    /// nothing.
    fn fits(&self, blocked: &[Ipv4Addr]) -> bool {
        blocked.iter().all(|a| self.blocked.contains(a))
    }
}

/// Keeps `size` namespaces ready; a background thread refills it until the pool is
/// dropped.
pub struct NetPool {
    ready: Ready<ReadyNet>,
    outbound: bool,
}

impl NetPool {
    /// Starts the refill thread. `block_host`: make the host's own addresses unreachable
    /// (read when each namespace is made; a cold start re-reads them and takes only a
    /// namespace that blocks all of them).
    /// `slirp`: give each namespace its outbound network.
    pub fn start(
        size: usize,
        port: u16,
        block_host: bool,
        slirp: Option<SlirpCmd>,
    ) -> std::io::Result<NetPool> {
        let host = std::fs::File::open("/proc/thread-self/ns/net")?;
        let outbound = slirp.is_some();
        let ready = Ready::start("netns-pool", "netns pool", size, move || {
            let mut net = make(&host, port, block_host)?;
            if let Some(cmd) = &slirp {
                net.slirp = Some(cmd.for_netns(&net.ns).map_err(Failed::Retry)?);
            }
            Ok(net)
        })?;
        Ok(NetPool { ready, outbound })
    }

    /// A ready namespace for an instance that must not reach `blocked` and has outbound
    /// network or not as `outbound` says, if one is there. None fitting the addresses
    /// means they were made before the host's addresses changed: all go.
    pub fn take(&self, blocked: &[Ipv4Addr], outbound: bool) -> Option<ReadyNet> {
        if outbound != self.outbound {
            return None;
        }
        self.ready.take(|n| n.fits(blocked), true)
    }
}

/// Makes one namespace on this thread, then returns the thread to the host's.
fn make(host: &std::fs::File, port: u16, block_host: bool) -> Result<ReadyNet, Failed> {
    // Read in the host's namespace: the new one has only loopback.
    let blocked = if block_host {
        netns::host_addresses().map_err(Failed::Retry)?
    } else {
        Vec::new()
    };
    // SAFETY: unshare affects only this thread's network namespace.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(Failed::Retry(std::io::Error::last_os_error()));
    }
    let made = (|| {
        netns::loopback_up()?;
        netns::block(&blocked)?;
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let ns = std::fs::File::open("/proc/thread-self/ns/net")?;
        Ok(ReadyNet {
            ns: OwnedFd::from(ns),
            listener,
            blocked,
            slirp: None,
        })
    })();
    // SAFETY: setns back to the namespace this thread started in.
    if unsafe { libc::setns(host.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(Failed::Broken(std::io::Error::other(format!(
            "return to host netns: {e}"
        ))));
    }
    made.map_err(Failed::Retry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pooled_namespace_is_separate_and_ready() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIP: making network namespaces needs root");
            return;
        }
        const PORT: u16 = 47913;
        let pool = NetPool::start(2, PORT, false, None).unwrap();
        let mut got = None;
        for _ in 0..200 {
            got = pool.take(&[], false);
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
        // The refill thread goes back to the host's namespace after making one. The
        // take woke it to make a replacement, so it may be inside a new namespace for
        // a moment: it must be back in the host's within 2 s.
        let refill = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(Result::ok)
            .find(|t| {
                std::fs::read_to_string(t.path().join("comm"))
                    .is_ok_and(|c| c.trim() == "netns-pool")
            })
            .expect("the refill thread");
        let mut refill_ns = 0;
        for _ in 0..200 {
            refill_ns = std::fs::metadata(refill.path().join("ns/net"))
                .unwrap()
                .ino();
            if refill_ns == host_ns {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            refill_ns, host_ns,
            "the refill thread stayed in a pooled namespace"
        );
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
            slirp: None,
        };
        assert!(net.fits(&[]));
        assert!(net.fits(&[a]));
        assert!(!net.fits(&[a, b]));
    }
}
