//! Reading memory use of a process tree from /proc.

/// Resident memory of `pid` and all its descendants, in bytes.
pub fn tree_rss_bytes(pid: u32) -> Option<u64> {
    let mut total = 0u64;
    let mut stack = vec![pid];
    let mut seen = 0usize;
    while let Some(p) = stack.pop() {
        seen += 1;
        if seen > 4096 {
            break;
        }
        total += rss_bytes(p).unwrap_or(0);
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) {
            for task in tasks.flatten() {
                let path = task.path().join("children");
                if let Ok(children) = std::fs::read_to_string(path) {
                    stack.extend(
                        children
                            .split_whitespace()
                            .filter_map(|c| c.parse::<u32>().ok()),
                    );
                }
            }
        }
    }
    (total > 0).then_some(total)
}

fn rss_bytes(pid: u32) -> Option<u64> {
    // statm: size resident shared text lib data dt, in pages.
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as u64
    } else {
        4096
    }
}

/// Whether `pid` is stopped by a signal (state `T` in /proc/PID/status).
pub(crate) fn stopped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("State:"))
                .map(|v| v.trim_start().starts_with('T'))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[test]
    fn own_process_has_memory() {
        let rss = super::tree_rss_bytes(std::process::id()).expect("own rss");
        assert!(rss > 1024 * 1024);
        assert!(super::tree_rss_bytes(u32::MAX).is_none());
    }
}
