//! Doing things inside an instance's network namespace from a short-lived thread.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Runs `f` on a new thread that has joined the network namespace of `pid`.
pub fn run_in<T: Send + 'static>(
    pid: u32,
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net"))?;
    std::thread::spawn(move || {
        // SAFETY: setns on a valid namespace fd; only this thread changes namespace.
        if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        f()
    })
    .join()
    .map_err(|_| std::io::Error::other("namespace thread panicked"))?
}

/// What a helper does inside an instance's user and network namespaces.
pub enum InNs<'a> {
    /// Loopback up, host addresses unreachable, and (maybe) the runtime API socket.
    Setup {
        blocked: &'a [std::net::Ipv4Addr],
        listen: Option<u16>,
    },
    /// A TCP connection to this port on the instance's loopback.
    Connect(u16),
}

/// User-namespace mode's `run_in`: the server is not privileged in its own user
/// namespace, and joining a netns needs CAP_SYS_ADMIN there too, so a forked
/// (single-threaded) helper first joins the instance's user namespace, which only a
/// single-threaded process may do, and then its netns. A socket the helper made comes
/// back over a socket pair (SCM_RIGHTS).
pub fn fork_in(pid: u32, op: InNs<'_>) -> std::io::Result<Option<OwnedFd>> {
    let user = std::fs::File::open(format!("/proc/{pid}/ns/user"))?;
    let net = std::fs::File::open(format!("/proc/{pid}/ns/net"))?;
    let mut pair = [0; 2];
    // SAFETY: pair is a valid array of two ints.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            pair.as_mut_ptr(),
        )
    } != 0
    {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    let (ours, theirs) = unsafe { (OwnedFd::from_raw_fd(pair[0]), OwnedFd::from_raw_fd(pair[1])) };
    // SAFETY: the child only makes raw syscalls on data prepared before the fork (no
    // allocation: the process may have had other threads), then _exits.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if child == 0 {
        // SAFETY: see above.
        unsafe {
            let (code, fd) = if libc::setns(user.as_raw_fd(), libc::CLONE_NEWUSER) != 0
                || libc::setns(net.as_raw_fd(), libc::CLONE_NEWNET) != 0
            {
                (*libc::__errno_location(), -1)
            } else {
                match in_ns(&op) {
                    Ok(fd) => (0, fd),
                    Err(e) => (e.raw_os_error().unwrap_or(libc::EIO), -1),
                }
            };
            send(theirs.as_raw_fd(), code, fd);
            libc::_exit(0);
        }
    }
    drop(theirs);
    let got = receive(ours.as_raw_fd());
    let mut status = 0;
    // SAFETY: reaping our own helper child.
    unsafe { libc::waitpid(child, &mut status, 0) };
    got
}

/// The helper's work, after it has joined the namespaces. Returns a socket or -1.
fn in_ns(op: &InNs<'_>) -> std::io::Result<i32> {
    match op {
        InNs::Setup { blocked, listen } => {
            loopback_up()?;
            block(blocked)?;
            match listen {
                Some(port) => tcp(*port, true),
                None => Ok(-1),
            }
        }
        InNs::Connect(port) => tcp(*port, false),
    }
}

/// A TCP socket on 127.0.0.1:`port`, listening or connected.
fn tcp(port: u16, listen: bool) -> std::io::Result<i32> {
    // SAFETY: one socket and plain calls with a valid, sized sockaddr_in.
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if s < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_port = port.to_be();
        addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
        let ap = (&addr as *const libc::sockaddr_in).cast::<libc::sockaddr>();
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let ok = if listen {
            let one: libc::c_int = 1;
            libc::setsockopt(
                s,
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
            libc::bind(s, ap, len) == 0 && libc::listen(s, 128) == 0
        } else {
            libc::connect(s, ap, len) == 0
        };
        if !ok {
            let e = std::io::Error::last_os_error();
            libc::close(s);
            return Err(e);
        }
        Ok(s)
    }
}

/// Sends an errno (0: success) and, when `fd >= 0`, the descriptor.
///
/// # Safety
/// Raw syscalls only; `sock` is a connected socket.
unsafe fn send(sock: i32, code: i32, fd: i32) {
    let mut data = code.to_ne_bytes();
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // Room for one cmsghdr carrying one int, u64-aligned.
    let mut cbuf = [0u64; 4];
    // SAFETY (caller): msghdr points at live stack buffers of the given lengths.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        if fd >= 0 {
            msg.msg_control = cbuf.as_mut_ptr().cast();
            msg.msg_controllen = libc::CMSG_SPACE(4) as _;
            let cm = libc::CMSG_FIRSTHDR(&msg);
            (*cm).cmsg_level = libc::SOL_SOCKET;
            (*cm).cmsg_type = libc::SCM_RIGHTS;
            (*cm).cmsg_len = libc::CMSG_LEN(4) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(cm).cast::<i32>(), fd);
        }
        libc::sendmsg(sock, &msg, 0);
    }
}

/// Receives what `send` sent.
fn receive(sock: i32) -> std::io::Result<Option<OwnedFd>> {
    let mut data = [0u8; 4];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    let mut cbuf = [0u64; 4];
    // SAFETY: msghdr points at live buffers of the given lengths; a received fd is
    // owned by us from here on.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
        let n = libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut fd = None;
        let cm = libc::CMSG_FIRSTHDR(&msg);
        if !cm.is_null()
            && (*cm).cmsg_level == libc::SOL_SOCKET
            && (*cm).cmsg_type == libc::SCM_RIGHTS
        {
            let raw = std::ptr::read_unaligned(libc::CMSG_DATA(cm).cast::<i32>());
            fd = Some(OwnedFd::from_raw_fd(raw));
        }
        if n != 4 {
            return Err(std::io::Error::other(
                "namespace helper ended without an answer",
            ));
        }
        match i32::from_ne_bytes(data) {
            0 => Ok(fd),
            errno => Err(std::io::Error::from_raw_os_error(errno)),
        }
    }
}

/// Brings `lo` up in the current thread's network namespace.
pub fn loopback_up() -> std::io::Result<()> {
    // SAFETY: a datagram socket and two interface ioctls on a zeroed, named ifreq.
    unsafe {
        let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if sock < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo".iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        let mut rc = libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req);
        if rc == 0 {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            rc = libc::ioctl(sock, libc::SIOCSIFFLAGS, &req);
        }
        let err = std::io::Error::last_os_error();
        libc::close(sock);
        if rc != 0 {
            return Err(err);
        }
    }
    Ok(())
}

/// The host's own IPv4 addresses, loopback excluded.
pub fn host_addresses() -> std::io::Result<Vec<std::net::Ipv4Addr>> {
    let mut out = Vec::new();
    // SAFETY: getifaddrs fills a list that we walk read-only and free once.
    unsafe {
        let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
        if libc::getifaddrs(&mut list) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut cur = list;
        while !cur.is_null() {
            let a = (*cur).ifa_addr;
            if !a.is_null() && i32::from((*a).sa_family) == libc::AF_INET {
                let sin = &*(a as *const libc::sockaddr_in);
                let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                if !ip.is_loopback() && !out.contains(&ip) {
                    out.push(ip);
                }
            }
            cur = (*cur).ifa_next;
        }
        libc::freeifaddrs(list);
    }
    Ok(out)
}

/// Adds an `unreachable` /32 route for each address in the current thread's network
/// namespace, so connections to them fail at once (EHOSTUNREACH) instead of leaving
/// through slirp4netns.
pub fn block(addrs: &[std::net::Ipv4Addr]) -> std::io::Result<()> {
    if addrs.is_empty() {
        return Ok(());
    }
    // SAFETY: a netlink socket, fixed-size messages built below, and one close.
    unsafe {
        let sock = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        );
        if sock < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let result = addrs
            .iter()
            .enumerate()
            .try_for_each(|(seq, ip)| add_unreachable(sock, seq as u32 + 1, *ip));
        libc::close(sock);
        result
    }
}

/// One RTM_NEWROUTE request (nlmsghdr, rtmsg, RTA_DST) and its acknowledgement.
unsafe fn add_unreachable(sock: i32, seq: u32, ip: std::net::Ipv4Addr) -> std::io::Result<()> {
    const LEN: usize = 16 + 12 + 8;
    let mut msg = [0u8; LEN];
    let flags =
        (libc::NLM_F_REQUEST | libc::NLM_F_ACK | libc::NLM_F_CREATE | libc::NLM_F_REPLACE) as u16;
    msg[0..4].copy_from_slice(&(LEN as u32).to_ne_bytes());
    msg[4..6].copy_from_slice(&libc::RTM_NEWROUTE.to_ne_bytes());
    msg[6..8].copy_from_slice(&flags.to_ne_bytes());
    msg[8..12].copy_from_slice(&seq.to_ne_bytes());
    // rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
    msg[16] = libc::AF_INET as u8;
    msg[17] = 32;
    msg[20] = libc::RT_TABLE_MAIN;
    msg[21] = libc::RTPROT_STATIC;
    msg[22] = libc::RT_SCOPE_UNIVERSE;
    msg[23] = libc::RTN_UNREACHABLE;
    // rtattr RTA_DST with the address.
    msg[28..30].copy_from_slice(&8u16.to_ne_bytes());
    msg[30..32].copy_from_slice(&libc::RTA_DST.to_ne_bytes());
    msg[32..36].copy_from_slice(&ip.octets());
    // SAFETY (caller): `sock` is an open netlink socket; buffers are valid for their lengths.
    unsafe {
        if libc::send(sock, msg.as_ptr().cast(), LEN, 0) != LEN as isize {
            return Err(std::io::Error::last_os_error());
        }
        let mut ack = [0u8; 64];
        let n = libc::recv(sock, ack.as_mut_ptr().cast(), ack.len(), 0);
        if n < 20 {
            return Err(std::io::Error::last_os_error());
        }
        // NLMSG_ERROR carries a negative errno, or 0 for success.
        let kind = u16::from_ne_bytes([ack[4], ack[5]]);
        let code = i32::from_ne_bytes([ack[16], ack[17], ack[18], ack[19]]);
        if kind == libc::NLMSG_ERROR as u16 && code != 0 {
            return Err(std::io::Error::from_raw_os_error(-code));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_addresses_exclude_loopback() {
        let addrs = super::host_addresses().unwrap();
        assert!(addrs.iter().all(|a| !a.is_loopback()), "{addrs:?}");
    }
}
