//! Cheap cgroup moves. Writing a pid into `cgroup.procs` takes the kernel's global
//! threadgroup rwsem for writing, which by default waits for an RCU grace period: measured
//! here at 15–20 ms per attach after an idle moment, most of an isolated cold start. The
//! cgroup2 mount option `favordynmods` keeps that rwsem in its slow mode instead (a few
//! µs per attach, at a small cost to every fork and exit). The rwsem is shared by all
//! hierarchies, so setting the option on the cgroup2 root helps v1 attaches too.

use std::path::Path;

/// What `enable` did, for the start-up log.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The option was already set on the host.
    AlreadySet,
    /// The cgroup2 mount at this path was remounted with it.
    Remounted(String),
    /// A cgroup2 mount was made at this path with it (hosts without one).
    Mounted(String),
}

/// The cgroup2 root options a remount must repeat: a remount sets every root flag from
/// its own data, so leaving one out would clear it (systemd's `nsdelegate`, say).
const ROOT_OPTIONS: [&str; 5] = [
    "nsdelegate",
    "memory_localevents",
    "memory_recursiveprot",
    "memory_hugetlb_accounting",
    "pids_localevents",
];

/// Whether a `/proc/mounts` table shows a cgroup2 mount with `favordynmods`, and the
/// first cgroup2 mount point with the remount data that adds the option to it.
fn scan(table: &str) -> (bool, Option<(String, String)>) {
    let mut first = None;
    for line in table.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() >= 4 && f[2] == "cgroup2" {
            if f[3].split(',').any(|o| o == "favordynmods") {
                return (true, None);
            }
            first.get_or_insert_with(|| {
                let mut data: Vec<&str> = f[3]
                    .split(',')
                    .filter(|o| ROOT_OPTIONS.contains(o))
                    .collect();
                data.push("favordynmods");
                (f[1].to_string(), data.join(","))
            });
        }
    }
    (false, first)
}

fn mount(
    src: Option<&str>,
    at: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: &str,
) -> std::io::Result<()> {
    let c = |s: &str| std::ffi::CString::new(s).map_err(std::io::Error::other);
    let src = src.map(c).transpose()?;
    let fstype = fstype.map(c).transpose()?;
    let at = c(&at.to_string_lossy())?;
    let data = c(data)?;
    // SAFETY: every pointer is a valid C string or null for the duration of the call.
    let rc = unsafe {
        libc::mount(
            src.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            at.as_ptr(),
            fstype.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            flags,
            data.as_ptr().cast(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Sets `favordynmods` on the host's cgroup2 root: by remounting its mount, or, where
/// there is none, by mounting one under `state_dir`.
pub fn enable(state_dir: &Path) -> std::io::Result<Outcome> {
    let table = std::fs::read_to_string("/proc/self/mounts")?;
    match scan(&table) {
        (true, _) => Ok(Outcome::AlreadySet),
        (false, Some((at, data))) => {
            mount(None, Path::new(&at), None, libc::MS_REMOUNT, &data)?;
            Ok(Outcome::Remounted(at))
        }
        (false, None) => {
            let at = state_dir.join("cgroup2");
            std::fs::create_dir_all(&at)?;
            mount(Some("cgroup2"), &at, Some("cgroup2"), 0, "favordynmods")?;
            Ok(Outcome::Mounted(at.display().to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::scan;

    #[test]
    fn finds_the_option_and_the_mount() {
        let plain = "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";
        assert_eq!(
            scan(plain),
            (
                false,
                Some(("/sys/fs/cgroup/unified".into(), "favordynmods".into()))
            )
        );
        let systemd = "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0\n";
        assert_eq!(
            scan(systemd),
            (
                false,
                Some((
                    "/sys/fs/cgroup".into(),
                    "nsdelegate,memory_recursiveprot,favordynmods".into()
                ))
            )
        );
        let set = "cgroup /sys/fs/cgroup/pids cgroup rw,pids 0 0\n\
                   cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate,favordynmods 0 0\n";
        assert_eq!(scan(set), (true, None));
        assert_eq!(scan("proc /proc proc rw 0 0\n"), (false, None));
    }
}
