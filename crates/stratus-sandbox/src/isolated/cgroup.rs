//! Per-instance cgroups. The host's layout is detected once from the mount table: on a
//! pure cgroup v2 host every controller lives in one directory per instance (`memory.max`,
//! `pids.max`, `cpu.weight`, `cgroup.freeze`); on a pure v1 host each controller has its
//! own hierarchy; on a hybrid host (v1 controllers plus an empty `unified` v2 tree) each
//! controller is used where the kernel has bound it, which on such hosts is v1.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Controllers the limits need; the freezer is separate (optional, idle mode only).
const CONTROLLERS: [&str; 3] = ["memory", "pids", "cpu"];
const PARENT: &str = "stratus";

/// How the host mounts cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only a cgroup2 mount.
    PureV2,
    /// v1 controller mounts next to a cgroup2 mount.
    Hybrid,
    /// Only v1 mounts.
    PureV1,
    /// No cgroup mounts at all.
    None,
}

/// The cgroup mounts of the host, as read from `/proc/self/mounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mounts {
    /// Mount point of the cgroup2 tree.
    pub v2: Option<PathBuf>,
    /// (controller, mount point) of each v1 hierarchy; co-mounted controllers repeat.
    pub v1: Vec<(String, PathBuf)>,
}

/// Undoes the octal escapes of `/proc/mounts` (`\040` is a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let code = b
            .get(i + 1..i + 4)
            .filter(|_| b[i] == b'\\')
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        match code {
            Some(v) => {
                out.push(v);
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Mounts {
    /// Parses a mount table in `/proc/mounts` format.
    pub fn parse(table: &str) -> Mounts {
        let mut m = Mounts::default();
        for line in table.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 4 {
                continue;
            }
            let at = PathBuf::from(unescape(f[1]));
            match f[2] {
                // The first cgroup2 mount wins (bind mounts of it may follow).
                "cgroup2" if m.v2.is_none() => m.v2 = Some(at),
                "cgroup" => {
                    for opt in f[3].split(',') {
                        let known = [
                            "memory",
                            "pids",
                            "cpu",
                            "cpuacct",
                            "cpuset",
                            "freezer",
                            "blkio",
                            "devices",
                            "hugetlb",
                            "net_cls",
                            "net_prio",
                            "perf_event",
                            "rdma",
                            "misc",
                        ];
                        if known.contains(&opt) && !m.v1.iter().any(|(c, _)| c == opt) {
                            m.v1.push((opt.to_string(), at.clone()));
                        }
                    }
                }
                _ => {}
            }
        }
        m
    }

    /// Which layout these mounts make.
    pub fn kind(&self) -> Kind {
        match (self.v2.is_some(), self.v1.is_empty()) {
            (true, true) => Kind::PureV2,
            (true, false) => Kind::Hybrid,
            (false, false) => Kind::PureV1,
            (false, true) => Kind::None,
        }
    }

    fn v1_of(&self, controller: &str) -> Option<&Path> {
        self.v1
            .iter()
            .find(|(c, _)| c == controller)
            .map(|(_, p)| p.as_path())
    }
}

/// Where one controller is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// In the v2 tree mounted here.
    V2(PathBuf),
    /// In the v1 hierarchy mounted here.
    V1(PathBuf),
}

impl Place {
    fn parent(&self) -> PathBuf {
        match self {
            Place::V2(p) | Place::V1(p) => p.join(PARENT),
        }
    }
    fn is_v2(&self) -> bool {
        matches!(self, Place::V2(_))
    }
}

/// The decision: where each controller of an instance lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The host's layout.
    pub kind: Kind,
    /// memory, pids, cpu (in that order).
    pub limits: Vec<Place>,
    /// The freezer, when the host has one.
    pub freezer: Option<Place>,
}

impl Layout {
    /// Decides from the mounts and the v2 root's `cgroup.controllers` (what the kernel
    /// lets the v2 tree use; controllers bound to v1 are not listed there). A controller
    /// goes to v2 when the v2 tree offers it, otherwise to its v1 hierarchy.
    pub fn decide(m: &Mounts, v2_controllers: &str) -> Result<Layout, String> {
        let offered: Vec<&str> = v2_controllers.split_whitespace().collect();
        let mut limits = Vec::new();
        for c in CONTROLLERS {
            let place = match (&m.v2, m.v1_of(c)) {
                (Some(v2), _) if offered.contains(&c) => Place::V2(v2.clone()),
                (_, Some(v1)) => Place::V1(v1.to_path_buf()),
                _ => {
                    return Err(format!(
                        "cgroup controller {c} is neither in the cgroup2 tree nor mounted as cgroup v1 (layout {:?})",
                        m.kind()
                    ))
                }
            };
            limits.push(place);
        }
        // Every non-root v2 cgroup has `cgroup.freeze`, and thawing through it measured
        // ~5× cheaper than v1 `freezer.state` here (10–16 µs against 70–85 µs p50), so a
        // hybrid host freezes in its v2 tree too; v1 only without a v2 mount.
        let freezer = if let Some(v2) = &m.v2 {
            Some(Place::V2(v2.clone()))
        } else {
            m.v1_of("freezer").map(|p| Place::V1(p.to_path_buf()))
        };
        Ok(Layout {
            kind: m.kind(),
            limits,
            freezer,
        })
    }

    /// Distinct directories an instance named `name` has, memory's first.
    pub fn dirs(&self, name: &str) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for p in self.limits.iter().chain(self.freezer.iter()) {
            let d = p.parent().join(name);
            if !out.contains(&d) {
                out.push(d);
            }
        }
        out
    }

    /// Parent directories (`<mount>/stratus`), without repeats.
    fn parents(&self) -> Vec<(PathBuf, bool)> {
        let mut out: Vec<(PathBuf, bool)> = Vec::new();
        for p in self.limits.iter().chain(self.freezer.iter()) {
            let d = p.parent();
            if !out.iter().any(|(x, _)| x == &d) {
                out.push((d, p.is_v2()));
            }
        }
        out
    }

    /// One line for logs: which version each controller uses.
    pub fn describe(&self) -> String {
        let v = |p: &Place| if p.is_v2() { "v2" } else { "v1" };
        let mut s = format!("{:?}:", self.kind);
        for (c, p) in CONTROLLERS.iter().zip(&self.limits) {
            s.push_str(&format!(" {c}={}", v(p)));
        }
        match &self.freezer {
            Some(p) => s.push_str(&format!(" freezer={}", v(p))),
            None => s.push_str(" freezer=none"),
        }
        s
    }
}

/// cgroup v1 `cpu.shares` (2..262144, 1024 a core) to v2 `cpu.weight` (1..10000, 100
/// default), the same linear map systemd and the OCI runtimes use.
pub fn shares_to_weight(shares: u64) -> u64 {
    let s = shares.clamp(2, 262_144);
    1 + ((s - 2) * 9999) / 262_142
}

static LAYOUT: OnceLock<Result<Layout, String>> = OnceLock::new();

/// The layout of this host, detected once.
pub fn layout() -> Result<&'static Layout, String> {
    LAYOUT
        .get_or_init(|| {
            let table = std::fs::read_to_string("/proc/self/mounts")
                .map_err(|e| format!("read /proc/self/mounts: {e}"))?;
            let m = Mounts::parse(&table);
            let offered =
                m.v2.as_ref()
                    .and_then(|p| std::fs::read_to_string(p.join("cgroup.controllers")).ok())
                    .unwrap_or_default();
            let mut l = Layout::decide(&m, &offered)?;
            if let (Some(Place::V2(root)), Some(v1)) = (&l.freezer, m.v1_of("freezer")) {
                // Kernels before 5.2 have no v2 freezer: probe one cgroup.
                let probe = root
                    .join(PARENT)
                    .join(format!("probe-{}", std::process::id()));
                let has =
                    std::fs::create_dir_all(&probe).is_ok() && probe.join("cgroup.freeze").exists();
                let _ = std::fs::remove_dir(&probe);
                if !has {
                    l.freezer = Some(Place::V1(v1.to_path_buf()));
                }
            }
            Ok(l)
        })
        .as_ref()
        .map_err(|e| e.clone())
}

/// The cgroups of one instance.
pub struct Cgroup {
    dirs: Vec<PathBuf>,
    /// Directory of the memory controller.
    memory: PathBuf,
    memory_v2: bool,
    /// Directory of the cpu controller (the memory one on a pure v2 host).
    cpu: PathBuf,
    cpu_v2: bool,
    freezer: Option<(PathBuf, bool)>,
    /// The peak-memory file, opened at its first read: every invocation reads it, and
    /// one pread costs a fifth of an open, read and close.
    peak_file: std::sync::OnceLock<Option<std::fs::File>>,
}

fn write(path: &Path, value: &str) -> std::io::Result<()> {
    std::fs::write(path, value)
        .map_err(|e| std::io::Error::new(e.kind(), format!("write {}: {e}", path.display())))
}

/// Enables `controllers` for the children of the v2 directory `dir` (those already on are
/// left alone).
fn enable_v2(dir: &Path, controllers: &[&str]) -> Result<(), String> {
    let on = std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
    let on: Vec<&str> = on.split_whitespace().collect();
    let missing: Vec<String> = controllers
        .iter()
        .filter(|c| !on.contains(*c))
        .map(|c| format!("+{c}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    write(&dir.join("cgroup.subtree_control"), &missing.join(" ")).map_err(|e| {
        format!(
            "{e} (cgroup v2 needs the controllers delegated to {}; a cgroup that holds processes cannot delegate them)",
            dir.display()
        )
    })
}

/// Whether the host offers the controllers this backend needs, and we may use them.
pub fn available() -> Result<(), String> {
    let l = layout()?;
    for (dir, _) in l.parents() {
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    swap_files();
    let v2: Vec<&str> = CONTROLLERS
        .iter()
        .zip(&l.limits)
        .filter(|(_, p)| p.is_v2())
        .map(|(c, _)| *c)
        .collect();
    if !v2.is_empty() {
        if let Some(Place::V2(root)) = l.limits.iter().find(|p| p.is_v2()) {
            enable_v2(root, &v2)?;
            enable_v2(&root.join(PARENT), &v2)?;
        }
    }
    tracing::info!("cgroups: {}", l.describe());
    Ok(())
}

/// The cgroup v2 path of this process (the `0::` line of `/proc/self/cgroup`).
fn own_v2_path(proc_self_cgroup: &str) -> Option<&str> {
    proc_self_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| p.trim().trim_start_matches('/'))
}

/// Whether `dir` is a cgroup v2 directory delegated to us with the controllers the
/// limits need: they are offered there and we may write its control files.
fn check_delegated(dir: &Path) -> Result<(), String> {
    let offered = std::fs::read_to_string(dir.join("cgroup.controllers"))
        .map_err(|e| format!("read {}/cgroup.controllers: {e}", dir.display()))?;
    let offered: Vec<&str> = offered.split_whitespace().collect();
    let missing: Vec<&str> = CONTROLLERS
        .iter()
        .copied()
        .filter(|c| !offered.contains(c))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the cgroup {} does not offer {} (it offers: {})",
            dir.display(),
            missing.join(", "),
            if offered.is_empty() {
                "nothing".to_string()
            } else {
                offered.join(" ")
            }
        ));
    }
    for f in ["", "cgroup.procs", "cgroup.subtree_control"] {
        let p = dir.join(f);
        let c = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()))
            .map_err(|_| "NUL byte in a cgroup path".to_string())?;
        // SAFETY: access(2) on a valid C string.
        if unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0 {
            return Err(format!(
                "{} is not writable: the cgroup is not delegated to this user",
                p.display()
            ));
        }
    }
    Ok(())
}

/// User-namespace mode: finds the cgroup v2 subtree delegated to this server (the
/// cgroup it runs in, e.g. a systemd unit with `Delegate=yes`), moves the server into a
/// `server` leaf of it (a v2 cgroup holding processes cannot enable controllers for its
/// children) and makes it the layout instances use. The error says why there is none.
pub fn delegated() -> Result<&'static Layout, String> {
    let table = std::fs::read_to_string("/proc/self/mounts")
        .map_err(|e| format!("read /proc/self/mounts: {e}"))?;
    let m = Mounts::parse(&table);
    let v2 = m.v2.ok_or("there is no cgroup2 mount")?;
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| format!("read /proc/self/cgroup: {e}"))?;
    let rel = own_v2_path(&own).ok_or("this process is in no cgroup v2")?;
    let dir = v2.join(rel);
    check_delegated(&dir)?;
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    if !procs.trim().is_empty() {
        let leaf = dir.join("server");
        std::fs::create_dir_all(&leaf).map_err(|e| format!("create {}: {e}", leaf.display()))?;
        write(&leaf.join("cgroup.procs"), &std::process::id().to_string())
            .map_err(|e| e.to_string())?;
    }
    enable_v2(&dir, &CONTROLLERS)?;
    let parent = dir.join(PARENT);
    std::fs::create_dir_all(&parent).map_err(|e| format!("create {}: {e}", parent.display()))?;
    enable_v2(&parent, &CONTROLLERS)?;
    let l = Layout {
        kind: Kind::PureV2,
        limits: vec![Place::V2(dir.clone()); 3],
        freezer: Some(Place::V2(dir.clone())),
    };
    LAYOUT
        .set(Ok(l))
        .map_err(|_| "the cgroup layout was already chosen".to_string())?;
    let l = layout()?;
    tracing::info!(
        "cgroups: delegated subtree {} ({})",
        dir.display(),
        l.describe()
    );
    Ok(l)
}

/// Removes cgroups left by servers that are no longer running.
pub fn remove_stale() {
    let Ok(l) = layout() else { return };
    for (parent, _) in l.parents() {
        let Ok(entries) = std::fs::read_dir(&parent) else {
            continue;
        };
        for e in entries.flatten() {
            if !e.path().is_dir() {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let Some((pid, _)) = name.split_once('-') else {
                continue;
            };
            let alive = pid
                .parse::<u32>()
                .map(|p| Path::new(&format!("/proc/{p}")).exists())
                .unwrap_or(false);
            if !alive {
                // A frozen leftover would never drain.
                let _ = std::fs::write(e.path().join("cgroup.freeze"), "0");
                let _ = std::fs::write(e.path().join("freezer.state"), "THAWED");
                let _ = std::fs::remove_dir(e.path());
            }
        }
    }
}

/// Which optional swap files the memory controller offers (read once, from the parent).
struct SwapFiles {
    v2_swap_max: bool,
    v1_memsw: bool,
    v1_swappiness: bool,
}

fn swap_files() -> &'static SwapFiles {
    static FILES: std::sync::OnceLock<SwapFiles> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let parent = layout().ok().map(|l| l.limits[0].parent());
        let has = |f: &str| parent.as_ref().is_some_and(|p| p.join(f).exists());
        SwapFiles {
            v2_swap_max: has("memory.swap.max"),
            v1_memsw: has("memory.memsw.limit_in_bytes"),
            v1_swappiness: has("memory.swappiness"),
        }
    })
}

impl Cgroup {
    /// Creates the cgroups of instance `id` with its limits.
    pub fn create(id: u64, memory_mb: u32, pids: u64, cpu_millis: u32) -> std::io::Result<Cgroup> {
        let l = layout().map_err(std::io::Error::other)?;
        let name = format!("{}-{id}", std::process::id());
        let dirs = l.dirs(&name);
        for d in &dirs {
            std::fs::create_dir_all(d)?;
        }
        let at = |p: &Place| p.parent().join(&name);
        let cg = Cgroup {
            memory: at(&l.limits[0]),
            memory_v2: l.limits[0].is_v2(),
            cpu: at(&l.limits[2]),
            cpu_v2: l.limits[2].is_v2(),
            freezer: l.freezer.as_ref().map(|p| (at(p), p.is_v2())),
            dirs,
            peak_file: Default::default(),
        };
        let bytes = u64::from(memory_mb) * 1024 * 1024;
        // Only files known to exist are written: this runs while an instance's child
        // shares this thread's memory (and errno) before exec, so it must not fail
        // in normal operation.
        let swap = swap_files();
        if cg.memory_v2 {
            write(&cg.memory.join("memory.max"), &bytes.to_string())?;
            // Missing without swap accounting; the limit above still holds.
            if swap.v2_swap_max {
                let _ = std::fs::write(cg.memory.join("memory.swap.max"), "0");
            }
        } else {
            write(&cg.memory.join("memory.limit_in_bytes"), &bytes.to_string())?;
            if swap.v1_memsw {
                let _ = std::fs::write(
                    cg.memory.join("memory.memsw.limit_in_bytes"),
                    bytes.to_string(),
                );
            }
            if swap.v1_swappiness {
                let _ = std::fs::write(cg.memory.join("memory.swappiness"), "0");
            }
        }
        write(&at(&l.limits[1]).join("pids.max"), &pids.to_string())?;
        // Millicores map directly to v1 shares (1024 a core); v2 takes the equivalent weight.
        let shares = u64::from(cpu_millis.max(2));
        if l.limits[2].is_v2() {
            write(
                &at(&l.limits[2]).join("cpu.weight"),
                &shares_to_weight(shares).to_string(),
            )?;
        } else {
            write(&at(&l.limits[2]).join("cpu.shares"), &shares.to_string())?;
        }
        Ok(cg)
    }

    /// Moves `pid` into every cgroup.
    pub fn attach(&self, pid: u32) -> std::io::Result<()> {
        for d in &self.dirs {
            write(&d.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// Replaces the memory limit and CPU share (a pre-started instance taking on a
    /// function's size) and restarts the peak counter.
    pub fn set_limits(&self, memory_mb: u32, cpu_millis: u32) -> std::io::Result<()> {
        let bytes = (u64::from(memory_mb) * 1024 * 1024).to_string();
        if self.memory_v2 {
            write(&self.memory.join("memory.max"), &bytes)?;
            // Since Linux 6.12 a write to memory.peak restarts the peak seen through that
            // open file; on older kernels the peak keeps the pre-start use (a few MB).
            if let Some(f) = self.peak_handle() {
                use std::os::unix::fs::FileExt;
                let _ = f.write_at(b"reset", 0);
            }
        } else {
            let mem = self.memory.join("memory.limit_in_bytes");
            let memsw = self.memory.join("memory.memsw.limit_in_bytes");
            // memsw may never be below the memory limit: raise it first, lower it last.
            let _ = std::fs::write(&memsw, &bytes);
            write(&mem, &bytes)?;
            let _ = std::fs::write(&memsw, &bytes);
            let _ = std::fs::write(self.memory.join("memory.max_usage_in_bytes"), "0");
        }
        let shares = u64::from(cpu_millis.max(2));
        if self.cpu_v2 {
            write(
                &self.cpu.join("cpu.weight"),
                &shares_to_weight(shares).to_string(),
            )
        } else {
            write(&self.cpu.join("cpu.shares"), &shares.to_string())
        }
    }

    /// The peak-memory file, opened once; read-write where the kernel allows it, so
    /// that `set_limits` can restart the peak through the same open file.
    fn peak_handle(&self) -> Option<&std::fs::File> {
        self.peak_file
            .get_or_init(|| {
                let name = if self.memory_v2 {
                    "memory.peak"
                } else {
                    "memory.max_usage_in_bytes"
                };
                let path = self.memory.join(name);
                std::fs::OpenOptions::new()
                    .read(true)
                    .write(self.memory_v2)
                    .open(&path)
                    .or_else(|_| std::fs::File::open(&path))
                    .ok()
            })
            .as_ref()
    }

    /// Current memory use, bytes.
    pub fn memory(&self) -> Option<u64> {
        if self.memory_v2 {
            read_u64(&self.memory.join("memory.current"))
        } else {
            read_u64(&self.memory.join("memory.usage_in_bytes"))
        }
    }

    /// Peak memory use, bytes (v2 kernels before 5.19 have no `memory.peak`: then the
    /// current use, which the caller's sampling turns into a peak).
    pub fn peak(&self) -> Option<u64> {
        match self.peak_handle() {
            Some(f) => {
                use std::os::unix::fs::FileExt;
                // Reading a cgroup file again from offset 0 gives its current value.
                let mut buf = [0u8; 32];
                let n = f.read_at(&mut buf, 0).ok()?;
                std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
            }
            None if self.memory_v2 => self.memory(),
            None => None,
        }
    }

    /// Whether the kernel killed a process of this cgroup for memory.
    pub fn oom_killed(&self) -> bool {
        if self.memory_v2 {
            let text =
                std::fs::read_to_string(self.memory.join("memory.events")).unwrap_or_default();
            return oom_kills(&text).unwrap_or(0) > 0;
        }
        let text =
            std::fs::read_to_string(self.memory.join("memory.oom_control")).unwrap_or_default();
        match oom_kills(&text) {
            Some(n) => n > 0,
            None => read_u64(&self.memory.join("memory.failcnt")).unwrap_or(0) > 0,
        }
    }

    /// Stops every process of the instance (cgroup freezer). Returns once the write is
    /// done; the kernel finishes freezing asynchronously.
    pub fn freeze(&self) -> std::io::Result<()> {
        match &self.freezer {
            Some((d, true)) => write(&d.join("cgroup.freeze"), "1"),
            Some((d, false)) => write(&d.join("freezer.state"), "FROZEN"),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "this host has no cgroup freezer",
            )),
        }
    }

    /// Lets the processes run again.
    pub fn thaw(&self) -> std::io::Result<()> {
        match &self.freezer {
            Some((d, true)) => write(&d.join("cgroup.freeze"), "0"),
            Some((d, false)) => write(&d.join("freezer.state"), "THAWED"),
            None => Ok(()),
        }
    }

    /// Whether the kernel reports the cgroup frozen (not merely freezing).
    pub fn is_frozen(&self) -> bool {
        match &self.freezer {
            Some((d, true)) => std::fs::read_to_string(d.join("cgroup.events"))
                .unwrap_or_default()
                .lines()
                .any(|l| l.trim() == "frozen 1"),
            Some((d, false)) => std::fs::read_to_string(d.join("freezer.state"))
                .map(|s| s.trim() == "FROZEN")
                .unwrap_or(false),
            None => false,
        }
    }

    /// Kills every process still in the cgroup and removes it (retrying while it drains).
    pub fn remove(&self) {
        // Frozen processes cannot die (v1) and would keep the cgroup busy.
        let _ = self.thaw();
        for d in &self.dirs {
            for _ in 0..50 {
                if std::fs::remove_dir(d).is_ok() || !d.exists() {
                    break;
                }
                if let Ok(procs) = std::fs::read_to_string(d.join("cgroup.procs")) {
                    for p in procs
                        .split_whitespace()
                        .filter_map(|p| p.parse::<i32>().ok())
                    {
                        // SAFETY: plain kill(2).
                        unsafe {
                            libc::kill(p, libc::SIGKILL);
                        }
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}

/// The `oom_kill N` count of a v1 `memory.oom_control` or v2 `memory.events`.
fn oom_kills(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse::<u64>().ok())
}

fn read_u64(p: &Path) -> Option<u64> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0
cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0
cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
";
    const PURE_V2: &str = "\
proc /proc proc rw 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0
";
    const PURE_V1: &str = "\
cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0
cgroup /sys/fs/cgroup/pids cgroup rw,pids 0 0
";

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn hybrid_host_uses_v1_where_controllers_are_bound() {
        let m = Mounts::parse(HYBRID);
        assert_eq!(m.kind(), Kind::Hybrid);
        assert_eq!(m.v2, Some(p("/sys/fs/cgroup/unified")));
        // The v2 tree of a hybrid host offers only what v1 did not take.
        let l = Layout::decide(&m, "hugetlb\n").unwrap();
        assert_eq!(
            l.limits,
            vec![
                Place::V1(p("/sys/fs/cgroup/memory")),
                Place::V1(p("/sys/fs/cgroup/pids")),
                Place::V1(p("/sys/fs/cgroup/cpu")),
            ]
        );
        // The freezer goes to the v2 tree, which every kernel since 5.2 has.
        assert_eq!(l.freezer, Some(Place::V2(p("/sys/fs/cgroup/unified"))));
        assert_eq!(
            l.dirs("7-1"),
            vec![
                p("/sys/fs/cgroup/memory/stratus/7-1"),
                p("/sys/fs/cgroup/pids/stratus/7-1"),
                p("/sys/fs/cgroup/cpu/stratus/7-1"),
                p("/sys/fs/cgroup/unified/stratus/7-1"),
            ]
        );
        assert_eq!(l.describe(), "Hybrid: memory=v1 pids=v1 cpu=v1 freezer=v2");
    }

    #[test]
    fn hybrid_host_with_a_controller_moved_to_v2() {
        // pids unmounted from v1 shows up in the v2 tree and is used there.
        let table = HYBRID.replace(
            "cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0\n",
            "",
        );
        let l = Layout::decide(&Mounts::parse(&table), "pids hugetlb").unwrap();
        assert_eq!(l.limits[1], Place::V2(p("/sys/fs/cgroup/unified")));
        assert!(!l.limits[0].is_v2());
    }

    #[test]
    fn hybrid_without_v1_freezer_freezes_in_the_unified_tree() {
        let table = HYBRID.replace(
            "cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0\n",
            "",
        );
        let l = Layout::decide(&Mounts::parse(&table), "").unwrap();
        assert_eq!(l.freezer, Some(Place::V2(p("/sys/fs/cgroup/unified"))));
        assert_eq!(l.dirs("1-2").len(), 4);
    }

    #[test]
    fn pure_v2_puts_everything_in_one_directory() {
        let m = Mounts::parse(PURE_V2);
        assert_eq!(m.kind(), Kind::PureV2);
        let l = Layout::decide(&m, "cpuset cpu io memory hugetlb pids rdma misc").unwrap();
        assert!(l
            .limits
            .iter()
            .all(|x| *x == Place::V2(p("/sys/fs/cgroup"))));
        assert_eq!(l.freezer, Some(Place::V2(p("/sys/fs/cgroup"))));
        assert_eq!(l.dirs("9-3"), vec![p("/sys/fs/cgroup/stratus/9-3")]);
        assert_eq!(l.describe(), "PureV2: memory=v2 pids=v2 cpu=v2 freezer=v2");
    }

    #[test]
    fn pure_v2_without_the_controllers_is_refused_with_a_reason() {
        let e = Layout::decide(&Mounts::parse(PURE_V2), "cpu io").unwrap_err();
        assert!(e.contains("memory"), "{e}");
    }

    #[test]
    fn pure_v1_with_co_mounted_cpu() {
        let m = Mounts::parse(PURE_V1);
        assert_eq!(m.kind(), Kind::PureV1);
        let l = Layout::decide(&m, "").unwrap();
        assert_eq!(l.limits[2], Place::V1(p("/sys/fs/cgroup/cpu,cpuacct")));
        assert_eq!(l.freezer, None, "no freezer mounted and no v2 tree");
        assert_eq!(
            l.describe(),
            "PureV1: memory=v1 pids=v1 cpu=v1 freezer=none"
        );
    }

    #[test]
    fn v1_freezer_without_a_v2_tree() {
        let table = format!("{PURE_V1}cgroup /sys/fs/cgroup/freezer cgroup rw,freezer 0 0\n");
        let l = Layout::decide(&Mounts::parse(&table), "").unwrap();
        assert_eq!(l.freezer, Some(Place::V1(p("/sys/fs/cgroup/freezer"))));
    }

    #[test]
    fn no_cgroups_at_all() {
        let m = Mounts::parse("proc /proc proc rw 0 0\n");
        assert_eq!(m.kind(), Kind::None);
        assert!(Layout::decide(&m, "").is_err());
    }

    #[test]
    fn escaped_mount_points() {
        let m = Mounts::parse("cgroup2 /sys/fs/my\\040cg cgroup2 rw 0 0\n");
        assert_eq!(m.v2, Some(p("/sys/fs/my cg")));
    }

    #[test]
    fn own_cgroup_path_from_proc_self_cgroup() {
        let hybrid = "9:name=systemd:/\n4:memory:/x\n0::/user.slice/stratus.service\n";
        assert_eq!(own_v2_path(hybrid), Some("user.slice/stratus.service"));
        assert_eq!(own_v2_path("0::/\n"), Some(""));
        assert_eq!(own_v2_path("4:memory:/x\n"), None);
    }

    /// A delegated cgroup v2 subtree with memory, pids and cpu cannot exist on a host whose
    /// controllers are bound to v1 (this test machine), so the check runs on a directory
    /// shaped like one; the real path is taken in user-namespace mode on pure v2 hosts.
    #[test]
    fn delegated_subtree_needs_the_controllers_and_write_access() {
        let d = std::env::temp_dir().join(format!("stratus-cg-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        for f in ["cgroup.procs", "cgroup.subtree_control"] {
            std::fs::write(d.join(f), "").unwrap();
        }
        std::fs::write(d.join("cgroup.controllers"), "cpu io\n").unwrap();
        let e = check_delegated(&d).unwrap_err();
        assert!(e.contains("memory, pids"), "{e}");
        std::fs::write(d.join("cgroup.controllers"), "cpuset cpu io memory pids\n").unwrap();
        check_delegated(&d).unwrap();
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn weight_from_shares() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(0), 1);
    }

    #[test]
    fn oom_counts_from_both_formats() {
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
        let v2 = "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(oom_kills(v1), Some(2));
        assert_eq!(oom_kills(v2), Some(1));
        assert_eq!(oom_kills("under_oom 0\n"), None);
    }

    /// Freezes and thaws a real process in both freezers this host has, and prints what
    /// a thaw costs (it is on the request path of idle-mode reserved instances).
    #[test]
    fn freezer_stops_and_resumes_a_process() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIP freezer_stops_and_resumes_a_process: needs root");
            return;
        }
        let m = Mounts::parse(&std::fs::read_to_string("/proc/self/mounts").unwrap());
        let mut places = Vec::new();
        if let Some((_, v1)) = m.v1.iter().find(|(c, _)| c == "freezer") {
            places.push((v1.clone(), false));
        }
        if let Some(v2) = &m.v2 {
            places.push((v2.clone(), true));
        }
        if places.is_empty() {
            eprintln!("SKIP freezer_stops_and_resumes_a_process: no freezer on this host");
            return;
        }
        for (mount, v2) in places {
            let dir = mount
                .join(PARENT)
                .join(format!("test-{}-{v2}", std::process::id()));
            if let Err(e) = std::fs::create_dir_all(&dir) {
                eprintln!("SKIP freezer in {}: {e}", mount.display());
                continue;
            }
            let mut child = std::process::Command::new("sleep")
                .arg("30")
                .spawn()
                .unwrap();
            let pid = child.id();
            write(&dir.join("cgroup.procs"), &pid.to_string()).unwrap();
            let cg = Cgroup {
                dirs: vec![dir.clone()],
                memory: dir.clone(),
                memory_v2: v2,
                cpu: dir.clone(),
                cpu_v2: v2,
                freezer: Some((dir.clone(), v2)),
                peak_file: Default::default(),
            };
            let state = || {
                std::fs::read_to_string(format!("/proc/{pid}/status"))
                    .unwrap()
                    .lines()
                    .find(|l| l.starts_with("State:"))
                    .unwrap()
                    .to_string()
            };
            let mut thaws = Vec::new();
            for _ in 0..20 {
                cg.freeze().unwrap();
                let mut frozen = false;
                for _ in 0..500 {
                    if cg.is_frozen() {
                        frozen = true;
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                assert!(frozen, "v2={v2}: never frozen, {}", state());
                let t = std::time::Instant::now();
                cg.thaw().unwrap();
                thaws.push(t.elapsed());
                assert!(!cg.is_frozen());
            }
            thaws.sort();
            eprintln!(
                "freezer {} (v2={v2}): thaw write p50 {:?}, max {:?}",
                mount.display(),
                thaws[thaws.len() / 2],
                thaws[thaws.len() - 1]
            );
            let _ = child.kill();
            let _ = child.wait();
            cg.remove();
        }
    }

    #[test]
    fn limits_are_created_and_replaced_in_the_hosts_layout() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIP limits_are_created_and_replaced_in_the_hosts_layout: needs root");
            return;
        }
        if let Err(e) = available() {
            eprintln!("SKIP limits_are_created_and_replaced_in_the_hosts_layout: {e}");
            return;
        }
        let l = layout().unwrap();
        let cg = Cgroup::create(900_001, 256, 1024, 250).unwrap();
        let mib = |n: u64| (n * 1024 * 1024).to_string();
        let (mem_file, cpu_file) = (
            if cg.memory_v2 {
                "memory.max"
            } else {
                "memory.limit_in_bytes"
            },
            if cg.cpu_v2 {
                "cpu.weight"
            } else {
                "cpu.shares"
            },
        );
        let read = |d: &Path, f: &str| {
            std::fs::read_to_string(d.join(f))
                .unwrap()
                .trim()
                .to_string()
        };
        let cpu = |shares: u64| {
            if cg.cpu_v2 {
                shares_to_weight(shares).to_string()
            } else {
                shares.to_string()
            }
        };
        assert_eq!(read(&cg.memory, mem_file), mib(256), "{}", l.describe());
        assert_eq!(read(&cg.cpu, cpu_file), cpu(250));
        let pids = at_place(&l.limits[1], "900001");
        assert_eq!(read(&pids, "pids.max"), "1024");
        // A pre-started instance taking on a function's size.
        cg.set_limits(128, 100).unwrap();
        assert_eq!(read(&cg.memory, mem_file), mib(128), "{}", l.describe());
        assert_eq!(read(&cg.cpu, cpu_file), cpu(100));
        assert!(
            cg.peak().is_some(),
            "peak memory readable ({})",
            l.describe()
        );
        cg.remove();
        assert!(!cg.memory.exists());
    }

    fn at_place(p: &Place, id: &str) -> PathBuf {
        p.parent().join(format!("{}-{id}", std::process::id()))
    }
}
