//! Doing things inside an instance's network namespace from a short-lived thread.

use std::os::fd::AsRawFd;

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
