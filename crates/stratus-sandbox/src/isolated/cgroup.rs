//! Per-instance cgroups (v1 controllers memory, pids, cpu, as on hybrid hosts).

use std::path::{Path, PathBuf};

const ROOT: &str = "/sys/fs/cgroup";
const CONTROLLERS: [&str; 3] = ["memory", "pids", "cpu"];
const PARENT: &str = "stratus";

/// The cgroups of one instance.
pub struct Cgroup {
    dirs: Vec<PathBuf>,
    memory: PathBuf,
}

fn write(path: &Path, value: &str) -> std::io::Result<()> {
    std::fs::write(path, value)
        .map_err(|e| std::io::Error::new(e.kind(), format!("write {}: {e}", path.display())))
}

/// Whether the host offers the v1 controllers this backend needs, and we may use them.
pub fn available() -> Result<(), String> {
    for c in CONTROLLERS {
        let dir = Path::new(ROOT).join(c).join(PARENT);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Removes cgroups left by servers that are no longer running.
pub fn remove_stale() {
    for c in CONTROLLERS {
        let Ok(entries) = std::fs::read_dir(Path::new(ROOT).join(c).join(PARENT)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some((pid, _)) = name.split_once('-') else {
                continue;
            };
            let alive = pid
                .parse::<u32>()
                .map(|p| Path::new(&format!("/proc/{p}")).exists())
                .unwrap_or(false);
            if !alive {
                let _ = std::fs::remove_dir(e.path());
            }
        }
    }
}

impl Cgroup {
    /// Creates the cgroups of instance `id` with its limits.
    pub fn create(id: u64, memory_mb: u32, pids: u64, cpu_millis: u32) -> std::io::Result<Cgroup> {
        let name = format!("{}-{id}", std::process::id());
        let dirs: Vec<PathBuf> = CONTROLLERS
            .iter()
            .map(|c| Path::new(ROOT).join(c).join(PARENT).join(&name))
            .collect();
        for d in &dirs {
            std::fs::create_dir_all(d)?;
        }
        let cg = Cgroup {
            memory: dirs[0].clone(),
            dirs,
        };
        let bytes = u64::from(memory_mb) * 1024 * 1024;
        write(&cg.memory.join("memory.limit_in_bytes"), &bytes.to_string())?;
        // Without swap accounting this file may be missing; the limit above still holds.
        let _ = std::fs::write(
            cg.memory.join("memory.memsw.limit_in_bytes"),
            bytes.to_string(),
        );
        let _ = std::fs::write(cg.memory.join("memory.swappiness"), "0");
        write(&cg.dirs[1].join("pids.max"), &pids.to_string())?;
        // cpu.shares is relative: 1024 per core-equivalent, so millicores map directly.
        write(
            &cg.dirs[2].join("cpu.shares"),
            &cpu_millis.max(2).to_string(),
        )?;
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
        let mem = self.memory.join("memory.limit_in_bytes");
        let memsw = self.memory.join("memory.memsw.limit_in_bytes");
        // memsw may never be below the memory limit: raise it first, lower it last.
        let _ = std::fs::write(&memsw, &bytes);
        write(&mem, &bytes)?;
        let _ = std::fs::write(&memsw, &bytes);
        let _ = std::fs::write(self.memory.join("memory.max_usage_in_bytes"), "0");
        write(
            &self.dirs[2].join("cpu.shares"),
            &cpu_millis.max(2).to_string(),
        )
    }

    /// Current memory use, bytes.
    pub fn memory(&self) -> Option<u64> {
        read_u64(&self.memory.join("memory.usage_in_bytes"))
    }

    /// Peak memory use, bytes.
    pub fn peak(&self) -> Option<u64> {
        read_u64(&self.memory.join("memory.max_usage_in_bytes"))
    }

    /// Whether the kernel killed a process of this cgroup for memory.
    pub fn oom_killed(&self) -> bool {
        let text =
            std::fs::read_to_string(self.memory.join("memory.oom_control")).unwrap_or_default();
        let kills = text
            .lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .and_then(|n| n.trim().parse::<u64>().ok());
        match kills {
            Some(n) => n > 0,
            None => read_u64(&self.memory.join("memory.failcnt")).unwrap_or(0) > 0,
        }
    }

    /// Kills every process still in the cgroup and removes it (retrying while it drains).
    pub fn remove(&self) {
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

fn read_u64(p: &Path) -> Option<u64> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}
